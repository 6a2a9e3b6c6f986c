//! Typed access to the surfaces padconnect talks to, in the Microsoft cloud
//! or on a local platform.

pub mod credentials;
pub mod endpoints;
pub mod error;
pub mod token;

pub use credentials::{Certificate, ClientCredential, Secret};
pub use endpoints::Target;
pub use error::ClientError;
pub use token::{AccessToken, TokenClient};
