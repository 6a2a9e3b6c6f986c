//! Binding a connection reference to a connection: at import
//! (`ComponentParameters`) and by `PATCH connectionreferences({id})`.
//!
//! The service checks the connection when a reference is written: a
//! plugin (PreValidateConnectionReferenceCreate) looks it up in the
//! connections service, for the reference's connector, in this
//! environment, and fails with ConnectionNotFound "Could not find
//! connection '{id}' for API '{api}'." (powerplatform-build-tools#533,
//! coe-starter-kit#6586: an id of another environment). So an id of
//! another environment, of another connector, in the `shared_x/<id>` or
//! path form, or of no connection at all, is not found.

use uuid::Uuid;

use super::{ImportError, require_customizer};
use crate::{Error, Record, Scope};
use padconnect_core::ConnectionId;
use padconnect_solution::connector_name;
use padconnect_store::{Connection, Environment, Store};

/// The connection `given` names for a reference of `connector_id`, or the
/// plugin's ConnectionNotFound.
pub(super) async fn find_connection(
    store: &Store,
    environment: &Environment,
    connector_id: &str,
    given: &str,
) -> Result<Result<Connection, ImportError>, Error> {
    let api = connector_name(connector_id);
    let not_found = || ImportError::ConnectionNotFound {
        connection: given.to_owned(),
        api: api.to_owned(),
    };
    let Ok(id) = given.trim().parse::<ConnectionId>() else {
        return Ok(Err(not_found()));
    };
    match store.connection(&environment.id, &id).await? {
        Some(connection) if connection.connector.to_string().eq_ignore_ascii_case(api) => {
            Ok(Ok(connection))
        }
        _ => Ok(Err(not_found())),
    }
}

/// Sets the connection of the reference `id` (`None` unbinds it);
/// `expected` is the version the caller read (`If-Match`), if it names one.
pub async fn bind(
    scope: Scope<'_>,
    id: Uuid,
    expected: Option<i64>,
    connection: Option<&str>,
) -> Result<(), Error> {
    require_customizer(scope.actor)?;
    let record = Record {
        entity: "connectionreference",
        id,
    };
    let Scope {
        store, environment, ..
    } = scope;
    let Some(reference) = store
        .connection_references(&environment.id)
        .await?
        .into_iter()
        .find(|r| r.id == id)
    else {
        return Err(Error::NotFound(record));
    };
    crate::require_version(expected, reference.versionnumber)?;
    let connection_id = match connection.map(str::trim).filter(|c| !c.is_empty()) {
        Some(given) => {
            let found = find_connection(store, environment, &reference.connector_id, given)
                .await?
                .map_err(Error::Import)?;
            Some(found.id.to_string())
        }
        None => None,
    };
    // Only the binding changes, and only on the version read: a concurrent
    // import's other columns are not written back.
    let mut tx = store.begin().await?;
    if !tx
        .set_reference_connection(&reference, connection_id.clone(), store.now().0)
        .await?
    {
        return Err(Error::Conflict(crate::Conflict::ChangedMeanwhile(record)));
    }
    tx.commit().await?;
    Ok(())
}
