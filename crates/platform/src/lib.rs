//! The padconnect local platform: Entra ID, Dataverse, the Power Platform
//! API and the portal, as far as the desktop-flow connection workflow
//! touches them.
//!
//! Imports point down: `server` opens the data and serves what `routing`
//! assembles; `routing` dispatches to the surfaces (`identity`, `dataverse`,
//! `connectivity`, `portal`, HTTP adapters each with its own error format);
//! they authenticate through `auth` and call the rules of the crate
//! `padconnect-domain` (fleet, connections, sign-in, the world loader), which
//! take the store of the crate `padconnect-store`, not the HTTP state;
//! `state` holds the store, the caches layered over it and the keys. The
//! crates hold that order: neither lower crate can name anything here.

mod arm;
mod auth;
mod bap;
pub mod claims;
pub mod config;
mod connectivity;
mod dataverse;
mod identity;
mod listener;
mod oidc;
mod origin;
mod portal;
mod power_platform_error;
mod routing;
mod server;
mod signing;
mod state;
mod tls;
mod tunnel;
mod verified;
mod write_deadline;

pub use config::PlatformConfig;
pub use identity::mint_federated_token;
pub use server::{LoadedWorld, Platform, PlatformError, RunningPlatform};
pub use state::AppState;
pub use tls::CA_FILE;
