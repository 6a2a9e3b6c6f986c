//! The padconnect local platform: Entra ID, Dataverse, the Power Platform
//! API and the portal, as far as the desktop-flow connection workflow
//! touches them.
//!
//! Imports point down: `server` opens the data and serves what `routing`
//! assembles; `routing` dispatches to the surfaces (`identity`, `dataverse`,
//! `connectivity`, `portal`, HTTP adapters each with its own error format);
//! they authenticate through `auth` and call the rules in `domain` (fleet,
//! connections, sign-in), which take the store, not the HTTP state; `state`
//! holds the store, the caches layered over it and the keys; `store` sits on
//! `core`.

mod arm;
mod auth;
mod bap;
pub mod claims;
pub mod config;
mod connectivity;
mod dataverse;
mod domain;
mod identity;
pub mod keyring;
mod listener;
mod lockout;
mod oidc;
mod origin;
mod portal;
mod routing;
pub mod secrets;
mod server;
mod signing;
mod state;
pub mod store;
mod tls;
mod tunnel;
mod verified;
pub mod world;

pub use config::PlatformConfig;
pub use identity::mint_federated_token;
pub use server::{Platform, PlatformError, RunningPlatform};
pub use state::AppState;
pub use tls::CA_FILE;
