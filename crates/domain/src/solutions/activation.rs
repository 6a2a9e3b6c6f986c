//! Whether a flow can be turned on: at import, and when a caller sets a
//! flow's `statecode` to 1.
//!
//! "When a flow is enabled, the enabling user needs to own all the
//! connections ... If a user other than the owner provides the
//! connections on a flow, then those connections need to be shared with
//! the owner who is enabling (turning on) the flow" (Use a connection
//! reference in a solution). The refusals carry the flow service's codes
//! and texts as ALM logs show them (coe-starter-kit #3535, #4990, #2077):
//! 400 `XrmConnectionReferenceMissingConnection` for a reference without a
//! connection, 403 `ConnectionAuthorizationFailed` for a connection the
//! enabling identity may not use.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{OFF, ON, object_id_of, require_customizer};
use crate::connections::standing;
use crate::{Conflict, Error, Record, Scope};
use padconnect_store::{Environment, Store, SystemUser, Tx};

/// Why a flow is off: the flow service's status, code and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct FlowOff {
    /// 400 or 403, as the flow service answered.
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl FlowOff {
    fn missing_connection(logical_name: &str) -> Self {
        Self {
            status: 400,
            code: "XrmConnectionReferenceMissingConnection".into(),
            message: format!(
                "Connection Id missing for connection reference logical name '{logical_name}'."
            ),
        }
    }

    fn not_usable(caller: Option<Uuid>, connection: &str, api: &str) -> Self {
        let caller = caller.map(|id| id.to_string()).unwrap_or_default();
        Self {
            status: 403,
            code: "ConnectionAuthorizationFailed".into(),
            message: format!(
                "The caller object id is '{caller}'. Connection '/providers/Microsoft.PowerApps/apis/{api}/connections/{connection}' to '{api}' cannot be used to activate this flow, either because this is not a valid connection or because it is not a connection you have access permission for. Either replace the connection with a valid connection you can access or have the connection owner activate the flow, so the connection is shared with you in the context of this flow."
            ),
        }
    }

    /// A classic process imported with `PublishWorkflows` false.
    pub(super) fn not_published() -> Self {
        Self {
            status: 400,
            code: "NotPublished".into(),
            message: "The solution was imported with PublishWorkflows false, which leaves its processes off.".into(),
        }
    }
}

/// Who turns flows on: a systemuser, the Entra object id connections know
/// it by, and whether it is an administrator.
pub(super) struct Importer {
    pub store: Store,
    pub environment: Environment,
    pub user: SystemUser,
    pub object_id: Option<Uuid>,
    pub admin: bool,
}

impl Importer {
    pub async fn new(
        store: &Store,
        environment: &Environment,
        user: &SystemUser,
        admin: bool,
    ) -> Result<Self, Error> {
        Ok(Self {
            store: store.clone(),
            environment: environment.clone(),
            user: user.clone(),
            object_id: object_id_of(store, environment, user).await?,
            admin,
        })
    }
}

/// Why a flow using the connection references `references` cannot be
/// turned on by `importer`; `None` when it can. The first reference that
/// fails decides, in the order of the names.
pub(super) async fn why_off(
    tx: &mut Tx,
    importer: &Importer,
    references: &[String],
) -> Result<Option<FlowOff>, Error> {
    for logical_name in references {
        let reference = tx
            .connection_reference_by_name(&importer.environment.id, logical_name)
            .await?;
        let Some(connection_id) = reference.as_ref().and_then(|r| r.connection_id.clone()) else {
            return Ok(Some(FlowOff::missing_connection(logical_name)));
        };
        let api = reference
            .as_ref()
            .map(|r| padconnect_solution::connector_name(&r.connector_id).to_owned())
            .unwrap_or_default();
        let connection = match connection_id.parse() {
            Ok(id) => {
                importer
                    .store
                    .connection(&importer.environment.id, &id)
                    .await?
            }
            Err(_) => None,
        };
        let usable = match (&connection, importer.object_id) {
            (Some(c), Some(object_id)) if c.connector.to_string().eq_ignore_ascii_case(&api) => {
                standing(&importer.store, object_id, importer.admin, c)
                    .await?
                    .is_some()
            }
            _ => false,
        };
        if !usable {
            return Ok(Some(FlowOff::not_usable(
                importer.object_id,
                &connection_id,
                &api,
            )));
        }
    }
    Ok(None)
}

/// Turns a flow on or off for the scope's actor (`PATCH workflows({id})`
/// with `statecode`). Its owner and administrators may; turning on follows
/// [`why_off`] with the actor as the enabling identity. `expected` is the
/// version the caller read (`If-Match`), if it names one.
pub async fn set_flow_state(
    scope: Scope<'_>,
    id: Uuid,
    expected: Option<i64>,
    on: bool,
) -> Result<(), Error> {
    require_customizer(scope.actor)?;
    let Scope {
        store, environment, ..
    } = scope;
    let record = Record {
        entity: "workflow",
        id,
    };
    // Another user's flow does not exist for the caller, as a read says.
    let Some(flow) = super::readable_workflow(scope, id).await? else {
        return Err(Error::NotFound(record));
    };
    crate::require_version(expected, flow.versionnumber)?;
    let mut tx = store.begin().await?;
    if on {
        let importer =
            Importer::new(store, environment, scope.actor.user, scope.actor.admin).await?;
        let references = references_of(flow.client_data.as_deref());
        if let Some(off) = why_off(&mut tx, &importer, &references).await? {
            return Err(Error::FlowOff(off));
        }
    }
    let (statecode, statuscode) = if on { ON } else { OFF };
    let version = store.now().0;
    if !tx
        .set_workflow_state(&flow, statecode, statuscode, version)
        .await?
    {
        return Err(Error::Conflict(Conflict::ChangedMeanwhile(record)));
    }
    tx.commit().await?;
    Ok(())
}

/// The connection references a stored flow definition uses.
pub(super) fn references_of(client_data: Option<&str>) -> Vec<String> {
    client_data
        .and_then(|text| padconnect_solution::references_used("clientdata", text).ok())
        .unwrap_or_default()
}
