//! What the token endpoint reads on every request (the tenant, the app and
//! its secrets), kept in memory so issuing a token touches no database.
//!
//! Safe to cache because none of it is ever deleted: tenants, apps and
//! secrets are only added or updated, by a world load, maybe on another
//! replica. A miss reads the store, and so does a secret that matches
//! nothing cached, so a secret added elsewhere works at once; expiry is
//! checked at each use. An app's display name or object id changed on
//! another replica is seen here after a restart.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use uuid::Uuid;

use crate::store::{App, AppSecret, Store, StoreError, Tenant};

/// An app and its secrets, as last read.
pub struct Client {
    pub app: App,
    pub secrets: Vec<AppSecret>,
}

#[derive(Default)]
pub struct Directory {
    /// By the path segment that named them (GUID or domain, lower case).
    tenants: RwLock<HashMap<String, Tenant>>,
    clients: RwLock<HashMap<(Uuid, Uuid), Arc<Client>>>,
}

impl Directory {
    /// The tenant a GUID or domain names.
    pub async fn tenant(
        &self,
        store: &Store,
        segment: &str,
        id: Option<Uuid>,
    ) -> Result<Option<Tenant>, StoreError> {
        let key = segment.to_ascii_lowercase();
        if let Some(tenant) = self.tenants.read().expect("never poisoned").get(&key) {
            return Ok(Some(tenant.clone()));
        }
        let found = match id {
            Some(id) => store.tenant(id).await?,
            None => store.tenant_by_domain(segment).await?,
        };
        if let Some(tenant) = &found {
            self.tenants
                .write()
                .expect("never poisoned")
                .insert(key, tenant.clone());
        }
        Ok(found)
    }

    /// The app and its secrets; `fresh` reads the store whatever is cached.
    pub async fn client(
        &self,
        store: &Store,
        tenant: Uuid,
        client_id: Uuid,
        fresh: bool,
    ) -> Result<Option<Arc<Client>>, StoreError> {
        let cached = (!fresh)
            .then(|| {
                self.clients
                    .read()
                    .expect("never poisoned")
                    .get(&(tenant, client_id))
                    .cloned()
            })
            .flatten();
        if let Some(client) = cached {
            return Ok(Some(client));
        }
        let Some(app) = store.app(tenant, client_id).await? else {
            return Ok(None);
        };
        let secrets = store.app_secrets(tenant, client_id).await?;
        let client = Arc::new(Client { app, secrets });
        self.clients
            .write()
            .expect("never poisoned")
            .insert((tenant, client_id), client.clone());
        Ok(Some(client))
    }
}
