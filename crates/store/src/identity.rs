//! Who signs in: tenants and their administrators, apps with their
//! secrets and certificates, users, the token signing keys, and the client
//! assertion ids already seen. Reads on [`Store`], writes on [`Tx`].

use uuid::Uuid;

use super::rows::*;
use super::sql::{fetch_all, fetch_one, fetch_rows, run, set_excluded, texts_in};
use super::{Result, Store, Tx, TxInner, model::*};

impl Store {
    pub async fn tenant(&self, id: Uuid) -> Result<Option<Tenant>> {
        fetch_one!(
            self,
            TenantRow,
            "SELECT id, domain FROM tenants WHERE id = $1",
            text(id)
        )
    }

    /// By domain, any case.
    pub async fn tenant_by_domain(&self, domain: &str) -> Result<Option<Tenant>> {
        fetch_one!(
            self,
            TenantRow,
            "SELECT id, domain FROM tenants WHERE domain = $1",
            domain.to_ascii_lowercase()
        )
    }

    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        fetch_all!(
            self,
            TenantRow,
            "SELECT id, domain FROM tenants ORDER BY domain"
        )
    }

    /// The tenant's Power Platform administrators: UPNs and app client ids.
    pub async fn tenant_admins(&self, tenant_id: Uuid) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = fetch_rows!(
            self,
            (String,),
            "SELECT principal FROM tenant_admins WHERE tenant_id = $1 ORDER BY principal",
            text(tenant_id)
        )?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    pub async fn app(&self, tenant_id: Uuid, client_id: Uuid) -> Result<Option<App>> {
        fetch_one!(
            self,
            AppRow,
            "SELECT tenant_id, client_id, object_id, display_name, public_client FROM apps WHERE tenant_id = $1 AND client_id = $2",
            text(tenant_id),
            text(client_id)
        )
    }

    pub async fn apps(&self, tenant_id: Uuid) -> Result<Vec<App>> {
        fetch_all!(
            self,
            AppRow,
            "SELECT tenant_id, client_id, object_id, display_name, public_client FROM apps WHERE tenant_id = $1 ORDER BY client_id",
            text(tenant_id)
        )
    }

    /// The app whose service principal has this object id.
    pub async fn app_by_object_id(&self, object_id: Uuid) -> Result<Option<App>> {
        fetch_one!(
            self,
            AppRow,
            "SELECT tenant_id, client_id, object_id, display_name, public_client FROM apps WHERE object_id = $1",
            text(object_id)
        )
    }

    pub async fn app_secrets(&self, tenant_id: Uuid, client_id: Uuid) -> Result<Vec<AppSecret>> {
        let rows: Vec<AppSecretRow> = fetch_rows!(
            self,
            AppSecretRow,
            "SELECT secret_hash, hint, expires_at FROM app_secrets WHERE tenant_id = $1 AND client_id = $2 ORDER BY created_at",
            text(tenant_id),
            text(client_id)
        )?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn app_certificates(
        &self,
        tenant_id: Uuid,
        client_id: Uuid,
    ) -> Result<Vec<AppCertificate>> {
        let rows: Vec<AppCertificateRow> = fetch_rows!(
            self,
            AppCertificateRow,
            "SELECT thumbprint_sha256, thumbprint_sha1, der FROM app_certificates WHERE tenant_id = $1 AND client_id = $2 ORDER BY created_at",
            text(tenant_id),
            text(client_id)
        )?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn app_federated_credentials(
        &self,
        tenant_id: Uuid,
        client_id: Uuid,
    ) -> Result<Vec<FederatedCredential>> {
        let rows: Vec<FederatedCredentialRow> = fetch_rows!(
            self,
            FederatedCredentialRow,
            "SELECT issuer, subject, audiences FROM app_federated_credentials WHERE tenant_id = $1 AND client_id = $2 ORDER BY issuer, subject",
            text(tenant_id),
            text(client_id)
        )?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// By UPN, any case.
    pub async fn user_by_upn(&self, tenant_id: Uuid, upn: &str) -> Result<Option<User>> {
        fetch_one!(
            self,
            UserRow,
            "SELECT tenant_id, object_id, upn, display_name, password_hash FROM users WHERE tenant_id = $1 AND upn = $2",
            text(tenant_id),
            upn.to_ascii_lowercase()
        )
    }

    pub async fn signing_keys(&self) -> Result<Vec<SigningKey>> {
        let rows: Vec<SigningKeyRow> = fetch_rows!(
            self,
            SigningKeyRow,
            "SELECT kid, sealed_private, certificate, created_at, retire_at, expire_at FROM signing_keys ORDER BY created_at, kid"
        )?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

impl Tx {
    pub async fn upsert_tenant(&mut self, tenant: &Tenant) -> Result<()> {
        let now = self.now().0;
        run!(
            self,
            "INSERT INTO tenants (id, domain, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET domain = excluded.domain",
            text(tenant.id),
            tenant.domain.to_ascii_lowercase(),
            now
        )?;
        Ok(())
    }

    pub async fn add_tenant_admin(&mut self, tenant_id: Uuid, principal: &str) -> Result<()> {
        run!(
            self,
            "INSERT INTO tenant_admins (tenant_id, principal) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            text(tenant_id),
            principal.to_ascii_lowercase()
        )?;
        Ok(())
    }

    /// Makes `keep` the tenant's whole list of administrators: the world
    /// file is its only source.
    pub async fn retain_tenant_admins(&mut self, tenant_id: Uuid, keep: &[String]) -> Result<()> {
        let stored = texts_in!(
            self,
            "SELECT principal FROM tenant_admins WHERE tenant_id = $1",
            text(tenant_id)
        );
        let keep: Vec<String> = keep.iter().map(|k| k.to_ascii_lowercase()).collect();
        for principal in stored.into_iter().filter(|p| !keep.contains(p)) {
            run!(
                self,
                "DELETE FROM tenant_admins WHERE tenant_id = $1 AND principal = $2",
                text(tenant_id),
                principal
            )?;
        }
        Ok(())
    }

    /// The hashes of an app's secrets, read in the transaction.
    pub async fn app_secret_hashes(
        &mut self,
        tenant_id: Uuid,
        client_id: Uuid,
    ) -> Result<Vec<Vec<u8>>> {
        let stored: Vec<(Vec<u8>,)> = super::sql::exec!(self, conn => sqlx::query_as(
            "SELECT secret_hash FROM app_secrets WHERE tenant_id = $1 AND client_id = $2",
        )
        .bind(text(tenant_id))
        .bind(text(client_id))
        .fetch_all(&mut *conn)
        .await)?;
        Ok(stored.into_iter().map(|(hash,)| hash).collect())
    }

    /// The client ids of a tenant's apps, read in the transaction.
    pub async fn app_ids(&mut self, tenant_id: Uuid) -> Result<Vec<Uuid>> {
        let stored: Vec<(String,)> = super::sql::exec!(self, conn => sqlx::query_as(
            "SELECT client_id FROM apps WHERE tenant_id = $1",
        )
        .bind(text(tenant_id))
        .fetch_all(&mut *conn)
        .await)?;
        stored.iter().map(|(id,)| uuid(id)).collect()
    }

    /// The object ids of a tenant's users, read in the transaction.
    pub async fn user_ids(&mut self, tenant_id: Uuid) -> Result<Vec<Uuid>> {
        let stored: Vec<(String,)> = super::sql::exec!(self, conn => sqlx::query_as(
            "SELECT object_id FROM users WHERE tenant_id = $1",
        )
        .bind(text(tenant_id))
        .fetch_all(&mut *conn)
        .await)?;
        stored.iter().map(|(id,)| uuid(id)).collect()
    }

    /// Every tenant's id, read in the transaction.
    pub async fn tenant_ids(&mut self) -> Result<Vec<Uuid>> {
        let stored: Vec<(String,)> = super::sql::exec!(self, conn => sqlx::query_as(
            "SELECT id FROM tenants",
        )
        .fetch_all(&mut *conn)
        .await)?;
        stored.iter().map(|(id,)| uuid(id)).collect()
    }

    /// Removes an app registration with everything that signs it in: its
    /// secrets, certificates and federated credentials.
    pub async fn delete_app(&mut self, tenant_id: Uuid, client_id: Uuid) -> Result<()> {
        // The app last: the others name it.
        for sql in [
            "DELETE FROM app_secrets WHERE tenant_id = $1 AND client_id = $2",
            "DELETE FROM app_certificates WHERE tenant_id = $1 AND client_id = $2",
            "DELETE FROM app_federated_credentials WHERE tenant_id = $1 AND client_id = $2",
            "DELETE FROM apps WHERE tenant_id = $1 AND client_id = $2",
        ] {
            run!(self, sql, text(tenant_id), text(client_id))?;
        }
        Ok(())
    }

    /// Removes a user and ends its portal sessions.
    pub async fn delete_user(&mut self, tenant_id: Uuid, object_id: Uuid) -> Result<()> {
        run!(
            self,
            "DELETE FROM portal_sessions WHERE tenant_id = $1 AND user_object_id = $2",
            text(tenant_id),
            text(object_id)
        )?;
        run!(
            self,
            "DELETE FROM users WHERE tenant_id = $1 AND object_id = $2",
            text(tenant_id),
            text(object_id)
        )?;
        Ok(())
    }

    /// Keeps only the app certificates whose SHA-256 thumbprints are `keep`.
    pub async fn retain_app_certificates(
        &mut self,
        tenant_id: Uuid,
        client_id: Uuid,
        keep: &[String],
    ) -> Result<()> {
        let stored = texts_in!(
            self,
            "SELECT thumbprint_sha256 FROM app_certificates WHERE tenant_id = $1 AND client_id = $2",
            text(tenant_id),
            text(client_id)
        );
        for thumbprint in stored.into_iter().filter(|t| !keep.contains(t)) {
            run!(
                self,
                "DELETE FROM app_certificates WHERE tenant_id = $1 AND client_id = $2 AND thumbprint_sha256 = $3",
                text(tenant_id),
                text(client_id),
                thumbprint
            )?;
        }
        Ok(())
    }

    pub async fn upsert_app(&mut self, app: &App) -> Result<()> {
        let now = self.now().0;
        run!(
            self,
            concat!(
                "INSERT INTO apps (tenant_id, client_id, object_id, display_name, public_client, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (tenant_id, client_id) DO UPDATE SET ",
                set_excluded!(object_id, display_name, public_client)
            ),
            text(app.tenant_id),
            text(app.client_id),
            text(app.object_id),
            app.display_name.clone(),
            app.public_client,
            now
        )?;
        Ok(())
    }

    /// Adds a secret, or updates the expiry of one already there.
    /// Removes one hash of an app's secret (an outdated hash of it).
    pub async fn delete_app_secret(
        &mut self,
        tenant_id: Uuid,
        client_id: Uuid,
        hash: &[u8],
    ) -> Result<()> {
        run!(
            self,
            "DELETE FROM app_secrets WHERE tenant_id = $1 AND client_id = $2 AND secret_hash = $3",
            text(tenant_id),
            text(client_id),
            hash.to_vec()
        )?;
        Ok(())
    }

    pub async fn put_app_secret(
        &mut self,
        tenant_id: Uuid,
        client_id: Uuid,
        secret: &AppSecret,
    ) -> Result<()> {
        let now = self.now().0;
        run!(
            self,
            "INSERT INTO app_secrets (tenant_id, client_id, secret_hash, hint, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, client_id, secret_hash) DO UPDATE SET expires_at = excluded.expires_at",
            text(tenant_id),
            text(client_id),
            secret.hash.clone(),
            secret.hint.clone(),
            secret.expires_at.map(|t| t.0),
            now
        )?;
        Ok(())
    }

    pub async fn put_app_certificate(
        &mut self,
        tenant_id: Uuid,
        client_id: Uuid,
        cert: &AppCertificate,
    ) -> Result<()> {
        let now = self.now().0;
        run!(
            self,
            "INSERT INTO app_certificates (tenant_id, client_id, thumbprint_sha256, thumbprint_sha1, der, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            text(tenant_id),
            text(client_id),
            cert.thumbprint_sha256.clone(),
            cert.thumbprint_sha1.clone(),
            cert.der.clone(),
            now
        )?;
        Ok(())
    }

    /// Makes `credentials` the app's whole list: the world file is its source.
    pub async fn set_federated_credentials(
        &mut self,
        tenant_id: Uuid,
        client_id: Uuid,
        credentials: &[FederatedCredential],
    ) -> Result<()> {
        run!(
            self,
            "DELETE FROM app_federated_credentials WHERE tenant_id = $1 AND client_id = $2",
            text(tenant_id),
            text(client_id)
        )?;
        for credential in credentials {
            run!(
                self,
                "INSERT INTO app_federated_credentials (tenant_id, client_id, issuer, subject, audiences) \
                 VALUES ($1, $2, $3, $4, $5)",
                text(tenant_id),
                text(client_id),
                credential.issuer.clone(),
                credential.subject.clone(),
                serde_json::Value::from(credential.audiences.clone()).to_string()
            )?;
        }
        Ok(())
    }

    pub async fn upsert_user(&mut self, user: &User) -> Result<()> {
        let now = self.now().0;
        run!(
            self,
            concat!(
                "INSERT INTO users (object_id, tenant_id, upn, display_name, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (object_id) DO UPDATE SET ",
                set_excluded!(upn, display_name, password_hash)
            ),
            text(user.object_id),
            text(user.tenant_id),
            user.upn.to_ascii_lowercase(),
            user.display_name.clone(),
            user.password_hash.clone(),
            now
        )?;
        Ok(())
    }

    pub async fn insert_signing_key(&mut self, key: &SigningKey) -> Result<()> {
        run!(
            self,
            "INSERT INTO signing_keys (kid, sealed_private, certificate, created_at, retire_at, expire_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            key.kid.clone(),
            key.sealed_private.clone(),
            key.certificate.clone(),
            key.created_at.0,
            key.retire_at.0,
            key.expire_at.0
        )?;
        Ok(())
    }

    /// Every key that still signs stops at `at`, and is published no longer
    /// than `last_expiry` (the last token it may have signed by then).
    pub async fn retire_signing_keys(
        &mut self,
        at: Timestamp,
        last_expiry: Timestamp,
    ) -> Result<()> {
        run!(
            self,
            "UPDATE signing_keys SET retire_at = $1, \
             expire_at = CASE WHEN expire_at > $2 THEN $2 ELSE expire_at END \
             WHERE retire_at > $1",
            at.0,
            last_expiry.0
        )?;
        Ok(())
    }

    /// Ends a key at `at`: no longer signing, no longer published. `false`
    /// when no live key has this kid.
    pub async fn revoke_signing_key(&mut self, kid: &str, at: Timestamp) -> Result<bool> {
        let changed = run!(
            self,
            "UPDATE signing_keys SET retire_at = $2, expire_at = $2 WHERE kid = $1 AND expire_at > $2",
            kid.to_owned(),
            at.0
        )?;
        Ok(changed > 0)
    }

    /// Records a client assertion's `jti`; `false` when it was seen before
    /// (a replay). Expired ids are forgotten on the way.
    pub async fn remember_assertion(&mut self, jti: &str, expires_at: Timestamp) -> Result<bool> {
        let now = self.now().0;
        run!(
            self,
            "DELETE FROM seen_assertions WHERE expires_at < $1",
            now
        )?;
        let inserted = run!(
            self,
            "INSERT INTO seen_assertions (jti, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            jti.to_owned(),
            expires_at.0
        )?;
        Ok(inserted == 1)
    }
}
