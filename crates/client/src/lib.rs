//! Typed access to the surfaces padconnect talks to, in the Microsoft cloud
//! or on a local platform.

pub mod endpoints;

pub use endpoints::Target;
