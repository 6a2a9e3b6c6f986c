//! A cache layered over the store (as kanidm's `idl_arc_sqlite` is over
//! `idl_sqlite`): what the token endpoint reads on every request (the tenant, the app and
//! its secrets), and the environment every API request names, kept in
//! memory so neither touches the database for them.
//!
//! Safe to cache because none of it is ever deleted: tenants, apps,
//! secrets and environments are only added or updated, by a world load,
//! maybe on another replica. A miss reads the store, and so does a secret that matches
//! nothing cached, so a secret added elsewhere works at once; expiry is
//! checked at each use. An app's display name or object id, or an
//! environment's display name, changed on another replica is seen here
//! after a restart.
//!
//! What it buys (docs/benchmarks-log.md, "The caches, measured", 2026-12-04, one
//! sitting, SQLite): tokens at 64 connections 0.76 of the machine's RSA
//! signing rate with it, 0.63 without; connection GETs 0.60 of `/healthz`
//! with it, 0.32 without (the tenant and environment reads of every
//! request), below the 0.5 docs/benchmarks.md sets.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use uuid::Uuid;

use padconnect_core::EnvironmentId;

use super::{App, AppSecret, Environment, Store, StoreError, Tenant};

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
    environments: RwLock<HashMap<EnvironmentId, Environment>>,
    /// Org name to environment id.
    orgs: RwLock<HashMap<String, EnvironmentId>>,
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
        if let Some(tenant) = self.tenants.read().get(&key) {
            return Ok(Some(tenant.clone()));
        }
        let found = match id {
            Some(id) => store.tenant(id).await?,
            None => store.tenant_by_domain(segment).await?,
        };
        if let Some(tenant) = &found {
            self.tenants.write().insert(key, tenant.clone());
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
            .then(|| self.clients.read().get(&(tenant, client_id)).cloned())
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
            .insert((tenant, client_id), client.clone());
        Ok(Some(client))
    }

    /// An environment by id; a miss reads the store.
    pub async fn environment(
        &self,
        store: &Store,
        id: &EnvironmentId,
    ) -> Result<Option<Environment>, StoreError> {
        if let Some(env) = self.environments.read().get(id) {
            return Ok(Some(env.clone()));
        }
        let found = store.environment(id).await?;
        if let Some(env) = &found {
            self.remember(env);
        }
        Ok(found)
    }

    /// The environment of a Dataverse org (lower case); a miss reads the store.
    pub async fn environment_by_org(
        &self,
        store: &Store,
        org: &str,
    ) -> Result<Option<Environment>, StoreError> {
        let id = self.orgs.read().get(org).copied();
        if let Some(id) = id {
            return self.environment(store, &id).await;
        }
        let found = store.environment_by_org(org).await?;
        if let Some(env) = &found {
            self.remember(env);
        }
        Ok(found)
    }

    fn remember(&self, env: &Environment) {
        self.orgs.write().insert(env.org.clone(), env.id);
        self.environments.write().insert(env.id, env.clone());
    }
}
