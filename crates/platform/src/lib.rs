//! The padconnect local platform: Entra ID, Dataverse, the Power Platform
//! API and the portal, as far as the desktop-flow connection workflow
//! touches them.

pub mod auth;
pub mod config;
pub mod connectivity;
pub mod dataverse;
pub mod identity;
pub mod keyring;
pub mod origin;
pub mod portal;
mod routing;
pub mod rules;
pub mod secrets;
pub mod server;
pub mod signing;
pub mod store;
pub mod tls;
mod verified;
pub mod world;

pub use config::PlatformConfig;
pub use server::{Platform, PlatformError, RunningPlatform};
