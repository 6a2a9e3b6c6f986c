//! Typed access to the surfaces padconnect talks to, in the Microsoft cloud
//! or on a local platform.

pub mod azure_cli;
pub mod connections;
pub mod credentials;
pub mod dataverse;
pub mod deploy;
pub mod discovery;
pub mod endpoints;
pub mod error;
pub mod fleet;
mod http;
pub mod runs;
pub mod settings;
pub mod solution;
mod solutions;
pub mod token;
pub mod workflow;

pub use connections::{ConnectionsClient, DesktopFlowConnection, PutOutcome, RunOwnerCertificate};
pub use credentials::{Certificate, ClientCredential, Secret};
pub use dataverse::DataverseClient;
pub use endpoints::{Org, Target};
pub use error::ClientError;
pub use http::{Bearer, ENVIRONMENT_NOT_READY, Renew, Retry};
pub use solutions::ImportStarted;
pub use token::{AccessToken, TokenClient, token_identity, token_object_id};
