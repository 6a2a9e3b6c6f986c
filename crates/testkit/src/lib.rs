//! A typed builder of world files (docs/world.md), as kanidm's testkit and
//! lldap's test-utils give their tests: a test declares the world it needs
//! in Rust and writes it as the TOML `padconnect serve --world` loads.
//!
//! ```
//! use padconnect_testkit::{App, Environment, Group, Machine, Share, Tenant, World};
//!
//! let world = World::new().tenant(
//!     Tenant::new("8a235459-3d2c-415d-8c1e-e2fe133509ad", "contoso.onmicrosoft.com")
//!         .admin("admin@contoso.onmicrosoft.com")
//!         .app(App::new("deploy-pipeline", "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40").secret("s3cret"))
//!         .user("admin@contoso.onmicrosoft.com", "Contoso Admin", "example-password")
//!         .environment(
//!             Environment::new("37520647-dbdf-49fa-ba01-6134c14680c4", "Contoso Production", "contoso")
//!                 .application_user("5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40")
//!                 .maker("admin@contoso.onmicrosoft.com")
//!                 .group(
//!                     Group::new("a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d", "Finance bots", "admin@contoso.onmicrosoft.com")
//!                         .machine(Machine::new("FIN-VM-01"))
//!                         .shared_with(Share::app("5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40", "user")),
//!                 ),
//!         ),
//! );
//! assert!(world.to_toml().contains("[[tenants.environments.machine_groups]]"));
//! ```
//!
//! Each type builds one table of the file through the loader's own
//! structs (`padconnect_domain::world::spec`), so a key the loader does not
//! know cannot be written. Only what a test sets is written: the rest keeps
//! the loader's defaults. Values are not checked here: a test may build a
//! world the loader refuses, to see it refused.

// A test kit: a world that cannot be written, or a token that cannot be had,
// fails the test that asked for it.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

mod client;
pub mod example;
mod http;
pub mod keys;
pub mod token;

pub use client::{Client, Reply};
pub use http::{builder as http_builder, http};

use padconnect_domain::world::spec::{
    AccountSpec, AppSpec, CredentialSpec, EnvironmentSpec, FederatedCredentialSpec,
    GroupMachineSpec, MachineGroupSpec, MachineSpec, MachineTraits, SecretSpec, ShareSpec,
    StandaloneMachineSpec, SubscriptionSpec, TenantSpec, UnknownKeys, UserSpec, WorldSpec,
};

/// The setters a group's machine and a standalone machine share: their
/// tables hold the same keys for a machine's accounts and behaviour
/// (docs/world.md). The specs repeat those fields because serde's
/// `deny_unknown_fields` does not work with `flatten`.
macro_rules! machine_setters {
    () => {
        /// One of `accounts`.
        pub fn account(mut self, account: Account) -> Self {
            self.spec.traits.accounts.push(account.spec);
            self
        }

        /// `online = false`.
        pub fn offline(mut self) -> Self {
            self.spec.traits.online = false;
            self
        }

        /// `run_seconds`.
        pub fn run_seconds(mut self, seconds: u64) -> Self {
            self.spec.traits.run_seconds = Some(seconds);
            self
        }

        /// `fail_with`: the run-time error code every run on it fails with.
        pub fn fail_with(mut self, code: impl Into<String>) -> Self {
            self.spec.traits.fail_with = Some(code.into());
            self
        }

        /// `lockout_threshold`.
        pub fn lockout_threshold(mut self, bad_sign_ins: u32) -> Self {
            self.spec.traits.lockout_threshold = Some(bad_sign_ins);
            self
        }
    };
}

/// The whole file: its `[[tenants]]`.
#[derive(Debug, Default)]
pub struct World {
    spec: WorldSpec,
}

impl World {
    /// A world of no tenants.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a `[[tenants]]`.
    pub fn tenant(mut self, tenant: Tenant) -> Self {
        self.spec.tenants.push(tenant.spec);
        self
    }

    /// The loader's structs, for `padconnect_domain::world::World::from_spec`.
    pub fn spec(&self) -> &WorldSpec {
        &self.spec
    }

    /// The world file's TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.spec).expect("a world serializes as TOML")
    }

    /// Writes it as `world.toml` in `dir` (where relative certificate
    /// paths are read from) and gives that file's path.
    pub fn write_to(&self, dir: &Path) -> PathBuf {
        let path = dir.join("world.toml");
        std::fs::write(&path, self.to_toml()).expect("the world file is written");
        path
    }
}

/// A `[[tenants]]`: `id`, `domain`, `admins`, and its lists.
#[derive(Debug)]
pub struct Tenant {
    spec: TenantSpec,
}

impl Tenant {
    /// `id` (a GUID) and `domain`.
    pub fn new(id: impl Into<String>, domain: impl Into<String>) -> Self {
        Self {
            spec: TenantSpec {
                id: id.into(),
                domain: domain.into(),
                ..TenantSpec::default()
            },
        }
    }

    /// One of `admins`: a user's UPN or an app's client id.
    pub fn admin(mut self, principal: impl Into<String>) -> Self {
        self.spec.admins.push(principal.into());
        self
    }

    /// Adds a `[[tenants.apps]]`.
    pub fn app(mut self, app: App) -> Self {
        self.spec.apps.push(app.spec);
        self
    }

    /// Adds a `[[tenants.users]]`: `upn`, `display_name`, `password`.
    pub fn user(
        mut self,
        upn: impl Into<String>,
        display_name: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.spec.users.push(UserSpec {
            upn: upn.into(),
            display_name: display_name.into(),
            password: password.into(),
        });
        self
    }

    /// Adds a `[[tenants.subscriptions]]`.
    pub fn subscription(mut self, subscription: Subscription) -> Self {
        self.spec.subscriptions.push(subscription.spec);
        self
    }

    /// Adds a `[[tenants.environments]]`.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.spec.environments.push(environment.spec);
        self
    }
}

/// A `[[tenants.apps]]`: an app registration and its service principal.
#[derive(Debug)]
pub struct App {
    spec: AppSpec,
}

impl App {
    /// `display_name` and `client_id` (a GUID).
    pub fn new(display_name: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            spec: AppSpec {
                display_name: display_name.into(),
                client_id: client_id.into(),
                ..AppSpec::default()
            },
        }
    }

    /// `object_id`: the service principal's, instead of the derived one.
    pub fn object_id(mut self, object_id: impl Into<String>) -> Self {
        self.spec.object_id = Some(object_id.into());
        self
    }

    /// One of `secrets`, without an expiry: written as a plain string.
    pub fn secret(mut self, value: impl Into<String>) -> Self {
        self.spec.secrets.push(SecretSpec {
            value: value.into(),
            expires: None,
        });
        self
    }

    /// One of `secrets` as `{ value, expires }` (`expires` in RFC 3339).
    pub fn secret_expiring(mut self, value: impl Into<String>, expires: impl Into<String>) -> Self {
        self.spec.secrets.push(SecretSpec {
            value: value.into(),
            expires: Some(expires.into()),
        });
        self
    }

    /// One of `certificates`: a PEM file, relative to the world file's folder.
    pub fn certificate(mut self, path: impl Into<String>) -> Self {
        self.spec.certificates.push(path.into());
        self
    }

    /// One of `federated_credentials`.
    pub fn federated(mut self, credential: Federated) -> Self {
        self.spec.federated_credentials.push(credential.spec);
        self
    }

    /// `public_client = true`: password grants need no app credential.
    pub fn public_client(mut self) -> Self {
        self.spec.public_client = true;
        self
    }
}

/// One of an app's `federated_credentials`: `{ issuer, subject, audiences }`.
#[derive(Debug)]
pub struct Federated {
    spec: FederatedCredentialSpec,
}

impl Federated {
    /// `issuer` and `subject`; `audiences` left to its default.
    pub fn new(issuer: impl Into<String>, subject: impl Into<String>) -> Self {
        Self {
            spec: FederatedCredentialSpec {
                issuer: issuer.into(),
                subject: subject.into(),
                audiences: None,
            },
        }
    }

    /// `audiences`, exactly these (none: an empty list).
    pub fn audiences<S: Into<String>>(mut self, audiences: impl IntoIterator<Item = S>) -> Self {
        self.spec.audiences = Some(audiences.into_iter().map(Into::into).collect());
        self
    }
}

/// A `[[tenants.subscriptions]]`: `id`, `display_name`, `state`.
#[derive(Debug)]
pub struct Subscription {
    spec: SubscriptionSpec,
}

impl Subscription {
    /// `id` (a GUID) and `display_name`.
    pub fn new(id: impl Into<String>, display_name: impl Into<String>) -> Self {
        Self {
            spec: SubscriptionSpec {
                id: id.into(),
                display_name: display_name.into(),
                state: None,
            },
        }
    }

    /// `state` (`Enabled` when absent).
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.spec.state = Some(state.into());
        self
    }
}

/// A `[[tenants.environments]]`.
#[derive(Debug)]
pub struct Environment {
    spec: EnvironmentSpec,
}

impl Environment {
    /// `id`, `display_name` and `org` (its Dataverse org's DNS label).
    pub fn new(
        id: impl Into<String>,
        display_name: impl Into<String>,
        org: impl Into<String>,
    ) -> Self {
        Self {
            spec: EnvironmentSpec {
                id: id.into(),
                display_name: display_name.into(),
                org: org.into(),
                ..EnvironmentSpec::default()
            },
        }
    }

    /// One of `application_users`: an app's client id.
    pub fn application_user(mut self, client_id: impl Into<String>) -> Self {
        self.spec.application_users.push(client_id.into());
        self
    }

    /// One of `makers`: a user's UPN.
    pub fn maker(mut self, upn: impl Into<String>) -> Self {
        self.spec.makers.push(upn.into());
        self
    }

    /// Adds a `[[tenants.environments.machine_groups]]`.
    pub fn group(mut self, group: Group) -> Self {
        self.spec.machine_groups.push(group.spec);
        self
    }

    /// Adds a `[[tenants.environments.machines]]`.
    pub fn machine(mut self, machine: StandaloneMachine) -> Self {
        self.spec.machines.push(machine.spec);
        self
    }

    /// Adds a `[[tenants.environments.credentials]]`.
    pub fn credential(mut self, credential: Credential) -> Self {
        self.spec.credentials.push(credential.spec);
        self
    }

    /// `ready_after_seconds`.
    pub fn ready_after_seconds(mut self, seconds: u64) -> Self {
        self.spec.ready_after_seconds = Some(seconds);
        self
    }

    /// `import_seconds`.
    pub fn import_seconds(mut self, seconds: u64) -> Self {
        self.spec.import_seconds = Some(seconds);
        self
    }
}

/// A `[[tenants.environments.machine_groups]]`.
#[derive(Debug)]
pub struct Group {
    spec: MachineGroupSpec,
}

impl Group {
    /// `id` (a GUID), `name` and `owner` (a maker's UPN or an application
    /// user's client id).
    pub fn new(id: impl Into<String>, name: impl Into<String>, owner: impl Into<String>) -> Self {
        Self {
            spec: MachineGroupSpec {
                id: id.into(),
                name: name.into(),
                owner: owner.into(),
                ..MachineGroupSpec::default()
            },
        }
    }

    /// `description`.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.spec.description = description.into();
        self
    }

    /// One of `machines`.
    pub fn machine(mut self, machine: Machine) -> Self {
        self.spec.machines.push(machine.into_spec());
        self
    }

    /// One of `shared_with`.
    pub fn shared_with(mut self, share: Share) -> Self {
        self.spec.shared_with.push(share.spec);
        self
    }
}

/// One of a group's `machines`: its name alone, or a table when anything
/// else is set (`accounts`, `online`, `run_seconds`, `fail_with`,
/// `lockout_threshold`).
#[derive(Debug)]
pub struct Machine {
    spec: GroupMachineSpec,
}

impl Machine {
    /// `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            spec: GroupMachineSpec {
                name: name.into(),
                traits: MachineTraits::default(),
                unknown: UnknownKeys::new(),
            },
        }
    }

    machine_setters!();

    fn into_spec(self) -> MachineSpec {
        match self.spec.traits.is_default() {
            true => MachineSpec::Name(self.spec.name),
            false => MachineSpec::Table(self.spec),
        }
    }
}

/// One of a machine's `accounts`: `{ username, password, can_log_on, signed_in }`.
#[derive(Debug)]
pub struct Account {
    spec: AccountSpec,
}

impl Account {
    /// `username` (`DOMAIN\user` or `.\user`) and `password`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            spec: AccountSpec {
                username: username.into(),
                password: password.into(),
                can_log_on: true,
                signed_in: false,
            },
        }
    }

    /// `can_log_on = false`: a local policy denies it logon.
    pub fn denied_logon(mut self) -> Self {
        self.spec.can_log_on = false;
        self
    }

    /// `signed_in = true`: its user is signed in on the machine.
    pub fn signed_in(mut self) -> Self {
        self.spec.signed_in = true;
        self
    }
}

/// A `[[tenants.environments.machines]]`: a standalone machine, with its
/// hidden group.
#[derive(Debug)]
pub struct StandaloneMachine {
    spec: StandaloneMachineSpec,
}

impl StandaloneMachine {
    /// `name` and `owner`.
    pub fn new(name: impl Into<String>, owner: impl Into<String>) -> Self {
        Self {
            spec: StandaloneMachineSpec {
                name: name.into(),
                id: None,
                group_id: None,
                owner: owner.into(),
                description: String::new(),
                shared_with: Vec::new(),
                traits: MachineTraits::default(),
                unknown: UnknownKeys::new(),
            },
        }
    }

    /// `id`: the machine's, instead of the derived one.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.spec.id = Some(id.into());
        self
    }

    /// `group_id`: its hidden group's, instead of the derived one.
    pub fn group_id(mut self, id: impl Into<String>) -> Self {
        self.spec.group_id = Some(id.into());
        self
    }

    /// `description`.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.spec.description = description.into();
        self
    }

    machine_setters!();

    /// One of `shared_with`.
    pub fn shared_with(mut self, share: Share) -> Self {
        self.spec.shared_with.push(share.spec);
        self
    }
}

/// A `[[tenants.environments.credentials]]`: a Key Vault or CyberArk credential.
#[derive(Debug)]
pub struct Credential {
    spec: CredentialSpec,
}

impl Credential {
    /// `id` (a GUID), `name` and `owner`.
    pub fn new(id: impl Into<String>, name: impl Into<String>, owner: impl Into<String>) -> Self {
        Self {
            spec: CredentialSpec {
                id: id.into(),
                name: name.into(),
                owner: owner.into(),
                ..CredentialSpec::default()
            },
        }
    }

    /// `type`: its `connectiontype` label (`UsernamePassword` when absent).
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.spec.kind = Some(kind.into());
        self
    }

    /// One of `shared_with`.
    pub fn shared_with(mut self, share: Share) -> Self {
        self.spec.shared_with.push(share.spec);
        self
    }
}

/// One of `shared_with`: `{ client_id, role }` or `{ upn, role }`; `role`
/// is `user` or `co-owner`.
#[derive(Debug)]
pub struct Share {
    spec: ShareSpec,
}

impl Share {
    /// `{ client_id, role }`: an application user.
    pub fn app(client_id: impl Into<String>, role: impl Into<String>) -> Self {
        Self {
            spec: ShareSpec {
                client_id: Some(client_id.into()),
                upn: None,
                role: role.into(),
            },
        }
    }

    /// `{ upn, role }`: a maker.
    pub fn user(upn: impl Into<String>, role: impl Into<String>) -> Self {
        Self {
            spec: ShareSpec {
                client_id: None,
                upn: Some(upn.into()),
                role: role.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests;
