//! A tenant's Azure subscriptions, as the world declares them; ARM's
//! `GET /subscriptions` lists them.

use uuid::Uuid;

use super::rows::{not_kept, text, uuid};
use super::sql::{fetch_all, rows, run, set_excluded, texts_in};
use super::{Result, Store, StoreError, Tx, TxInner};

/// An Azure subscription of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub display_name: String,
    /// ARM's `state`: `Enabled`, `Disabled`, `Warned`, `PastDue`, `Deleted`.
    pub state: String,
}

rows! {
    struct SubscriptionRow {
        tenant_id: String,
        id: String,
        display_name: String,
        state: String,
    }
}

impl TryFrom<SubscriptionRow> for Subscription {
    type Error = StoreError;
    fn try_from(r: SubscriptionRow) -> Result<Self> {
        Ok(Self {
            tenant_id: uuid(&r.tenant_id)?,
            id: uuid(&r.id)?,
            display_name: r.display_name,
            state: r.state,
        })
    }
}

impl Store {
    pub async fn subscriptions(&self, tenant_id: Uuid) -> Result<Vec<Subscription>> {
        fetch_all!(
            self,
            SubscriptionRow,
            "SELECT tenant_id, id, display_name, state FROM subscriptions WHERE tenant_id = $1 ORDER BY display_name, id",
            text(tenant_id)
        )
    }
}

impl Tx {
    pub async fn upsert_subscription(&mut self, s: &Subscription) -> Result<()> {
        run!(
            self,
            concat!(
                "INSERT INTO subscriptions (tenant_id, id, display_name, state) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, id) DO UPDATE SET ",
                set_excluded!(display_name, state)
            ),
            text(s.tenant_id),
            text(s.id),
            s.display_name.clone(),
            s.state.clone()
        )?;
        Ok(())
    }

    /// Keeps only the tenant's subscriptions `keep`: the world file is
    /// their only source.
    pub async fn retain_subscriptions(&mut self, tenant_id: Uuid, keep: &[Uuid]) -> Result<()> {
        let stored = texts_in!(
            self,
            "SELECT id FROM subscriptions WHERE tenant_id = $1",
            text(tenant_id)
        );
        for id in not_kept(stored, keep)? {
            run!(
                self,
                "DELETE FROM subscriptions WHERE tenant_id = $1 AND id = $2",
                text(tenant_id),
                id
            )?;
        }
        Ok(())
    }
}
