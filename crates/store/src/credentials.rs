//! Dataverse's `credential` rows (Key Vault and CyberArk credentials), as
//! far as a connection names one. Who may use one is in `shares`, with
//! record type `credential`. Reads on [`Store`], writes on [`Tx`].

use padconnect_core::EnvironmentId;
use uuid::Uuid;

use super::rows::*;
use super::sql::{fetch_all, fetch_one, run, set_excluded};
use super::{Result, Store, Tx, TxInner, model::*};

impl Store {
    pub async fn credential(&self, id: Uuid) -> Result<Option<Credential>> {
        fetch_one!(
            self,
            CredentialRow,
            "SELECT id, environment_id, name, connectiontype, owner_id FROM credentials WHERE id = $1",
            text(id)
        )
    }

    pub async fn credentials(&self, environment: &EnvironmentId) -> Result<Vec<Credential>> {
        fetch_all!(
            self,
            CredentialRow,
            "SELECT id, environment_id, name, connectiontype, owner_id FROM credentials \
             WHERE environment_id = $1 ORDER BY name, id",
            environment.to_string()
        )
    }
}

impl Tx {
    /// Inserts the credential, or updates its name, type and owner.
    pub async fn upsert_credential(&mut self, c: &Credential) -> Result<()> {
        run!(
            self,
            concat!(
                "INSERT INTO credentials (id, environment_id, name, connectiontype, owner_id) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET ",
                set_excluded!(name, connectiontype, owner_id)
            ),
            text(c.id),
            c.environment_id.to_string(),
            c.name.clone(),
            c.connectiontype.code(),
            text(c.owner_id)
        )?;
        Ok(())
    }
}
