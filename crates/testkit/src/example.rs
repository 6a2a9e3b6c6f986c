//! The world of [`examples/world.toml`](../../../examples/world.toml), the
//! README's tour: one tenant, the deployment pipeline's app, an
//! administrator, and a production environment with a shared "Finance
//! bots" group and a standalone laptop. A test that needs the example plus
//! a little more extends its environment instead of appending TOML to the
//! file; a unit test keeps the two the same.

use crate::{App, Environment, Group, Machine, Share, StandaloneMachine, Tenant, World};

pub const TENANT: &str = "8a235459-3d2c-415d-8c1e-e2fe133509ad";
pub const DOMAIN: &str = "contoso.onmicrosoft.com";
/// The deployment pipeline's app, an application user of [`ENVIRONMENT`].
pub const APP: &str = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40";
pub const APP_OBJECT_ID: &str = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
pub const SECRET: &str = "example-secret-value";
/// The tenant's administrator, a maker of [`ENVIRONMENT`].
pub const ADMIN: &str = "admin@contoso.onmicrosoft.com";
pub const ADMIN_PASSWORD: &str = "example-password";
pub const ENVIRONMENT: &str = "37520647-dbdf-49fa-ba01-6134c14680c4";
/// "Finance bots", the admin's, shared with [`APP`] as user.
pub const GROUP: &str = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d";

/// The example world as it is.
pub fn world() -> World {
    world_with(|environment| environment)
}

/// The example world, its environment extended by `extend` (a group, a
/// credential, ...).
pub fn world_with(extend: impl FnOnce(Environment) -> Environment) -> World {
    let environment = Environment::new(ENVIRONMENT, "Contoso Production", "contoso")
        .application_user(APP)
        .maker(ADMIN)
        .group(
            Group::new(GROUP, "Finance bots", ADMIN)
                .machine(Machine::new("FIN-VM-01"))
                .machine(Machine::new("FIN-VM-02"))
                .shared_with(Share::app(APP, "user")),
        )
        .machine(StandaloneMachine::new("HR-LAPTOP-07", ADMIN));
    World::new().tenant(
        Tenant::new(TENANT, DOMAIN)
            .admin(ADMIN)
            .app(
                App::new("deploy-pipeline", APP)
                    .object_id(APP_OBJECT_ID)
                    .secret(SECRET),
            )
            .user(ADMIN, "Contoso Admin", ADMIN_PASSWORD)
            .environment(extend(environment)),
    )
}
