//! Where a request came in, so the absolute URLs written into responses lead
//! clients back to the platform by the same name (docs/platform.md, "Hosts and routes").

use std::net::SocketAddr;

use padconnect_core::EnvironmentId;

/// Scheme, authority and path-style prefix of the request being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOrigin {
    pub scheme: &'static str,
    /// `Host` as the client sent it, port included.
    pub authority: String,
    /// The path-style prefix that was stripped (`/orgs/contoso`), or empty.
    pub prefix: String,
}

impl RequestOrigin {
    /// What a surface logs when [`RequestOrigin::of`] finds none.
    pub const MISSING: &str = "no request origin: not routed by dispatch";

    /// The origin dispatch put on the request: every surface's request has
    /// one, so `None` is the platform's own fault (a route outside dispatch).
    pub fn of(parts: &axum::http::request::Parts) -> Option<Self> {
        parts.extensions.get::<Self>().cloned()
    }

    /// `path` (starting with `/`) made absolute under this origin.
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}://{}{}{}",
            self.scheme, self.authority, self.prefix, path
        )
    }
}

/// The local address of the connection a request came in on: an address
/// the platform serves for certain, whatever the request's `Host` claims
/// (the listener sets it; requests inside a CONNECT tunnel have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServedAddr(pub SocketAddr);

/// The environment named by the host or the path-style prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvironmentScope(pub EnvironmentId);

/// The Dataverse org named by the host or the path-style prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgScope(pub String);
