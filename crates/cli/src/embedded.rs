//! The embedded platform a data dir holds (`quickstart --data-dir DIR`
//! leaves one): started in-process for one command, with the service
//! principal quickstart made, its credentials sealed in the data dir.

use std::path::Path;

use anyhow::Context;
use padconnect_core::EnvironmentId;
use padconnect_domain::keyring::{KeyRing, write_private_file};
use padconnect_domain::world::spec::{
    AppSpec, EnvironmentSpec, MachineGroupSpec, MachineSpec, SecretSpec, ShareSpec, TenantSpec,
    UserSpec, WorldSpec,
};
use padconnect_platform::{Platform, PlatformConfig, RunningPlatform};
use serde::{Deserialize, Serialize};

pub const IDENTITY_FILE: &str = "quickstart.sealed";
const IDENTITY_CONTEXT: &[u8] = b"quickstart-identity";

/// Who quickstart acts as, and where.
#[derive(Serialize, Deserialize, Clone)]
pub struct QuickstartIdentity {
    pub tenant_id: String,
    pub tenant_domain: String,
    pub client_id: String,
    pub client_secret: String,
    pub maker_upn: String,
    pub maker_password: String,
    pub environment: EnvironmentId,
    pub org: String,
    pub group_id: String,
    pub machine: String,
    pub windows_account: String,
    pub windows_password: String,
}

impl std::fmt::Debug for QuickstartIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuickstartIdentity")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl QuickstartIdentity {
    /// Fresh ids and random secrets.
    pub fn generate() -> Self {
        let secret = || KeyRing::generate_key().replace(['+', '/', '='], "");
        Self {
            tenant_id: uuid::Uuid::new_v4().to_string(),
            tenant_domain: "contoso.onmicrosoft.com".into(),
            client_id: uuid::Uuid::new_v4().to_string(),
            client_secret: secret(),
            maker_upn: "admin@contoso.onmicrosoft.com".into(),
            maker_password: secret(),
            environment: EnvironmentId::Guid(uuid::Uuid::new_v4()),
            org: "contoso".into(),
            group_id: uuid::Uuid::new_v4().to_string(),
            machine: "BOT-VM-01".into(),
            windows_account: "CONTOSO\\svc-desktopflows".into(),
            windows_password: format!("Aa1!{}", secret()),
        }
    }

    /// The identity sealed in `data_dir`, if quickstart left one.
    pub fn load(data_dir: &Path, keyring: &KeyRing) -> anyhow::Result<Option<Self>> {
        let path = data_dir.join(IDENTITY_FILE);
        let sealed = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let json = keyring
            .open(IDENTITY_CONTEXT, &sealed)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(Some(
            serde_json::from_slice(&json).context("the quickstart identity file is corrupt")?,
        ))
    }

    pub fn save(&self, data_dir: &Path, keyring: &KeyRing) -> anyhow::Result<()> {
        let json = serde_json::to_vec(self)?;
        let path = data_dir.join(IDENTITY_FILE);
        write_private_file(&path, &keyring.seal(IDENTITY_CONTEXT, &json))
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// The world quickstart creates: a tenant, the app with its secret, an
    /// environment with the app's application user and a maker, and a
    /// machine group with one machine, shared with the app as User.
    pub fn world_spec(&self) -> WorldSpec {
        let group = MachineGroupSpec {
            id: self.group_id.clone(),
            name: "Desktop flow bots".into(),
            owner: self.maker_upn.clone(),
            machines: vec![MachineSpec::Name(self.machine.clone())],
            shared_with: vec![ShareSpec {
                client_id: Some(self.client_id.clone()),
                role: "user".into(),
                ..ShareSpec::default()
            }],
            ..MachineGroupSpec::default()
        };
        let environment = EnvironmentSpec {
            id: self.environment.to_string(),
            display_name: "Contoso (quickstart)".into(),
            org: self.org.clone(),
            application_users: vec![self.client_id.clone()],
            makers: vec![self.maker_upn.clone()],
            machine_groups: vec![group],
            ..EnvironmentSpec::default()
        };
        let tenant = TenantSpec {
            id: self.tenant_id.clone(),
            domain: self.tenant_domain.clone(),
            admins: vec![self.maker_upn.clone()],
            apps: vec![AppSpec {
                display_name: "deploy-pipeline".into(),
                client_id: self.client_id.clone(),
                secrets: vec![SecretSpec {
                    value: self.client_secret.clone(),
                    expires: None,
                }],
                ..AppSpec::default()
            }],
            users: vec![UserSpec {
                upn: self.maker_upn.clone(),
                display_name: "Contoso Admin".into(),
                password: self.maker_password.clone(),
            }],
            environments: vec![environment],
            ..TenantSpec::default()
        };
        WorldSpec {
            tenants: vec![tenant],
        }
    }
}

/// Starts the platform kept in `data_dir` on a free loopback port.
pub async fn start(data_dir: &Path) -> anyhow::Result<RunningPlatform> {
    let config = PlatformConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data_dir.to_owned(),
        ..PlatformConfig::default()
    };
    Ok(Platform::start(config).await?)
}
