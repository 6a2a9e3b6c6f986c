//! The tests' HTTP client.

/// A client for a platform under test: plain reqwest, except that it never
/// goes through a proxy, so `HTTPS_PROXY` in a developer's shell or a CI
/// runner cannot send a test's loopback requests elsewhere. (reqwest reads
/// the proxy variables by default; the CLI under test still does, as a
/// real one must.)
pub fn http() -> reqwest::Client {
    builder().build().expect("a reqwest client with no proxy")
}

/// [`http`]'s settings, for a test that adds its own (a root certificate, a
/// name resolved to the platform, no redirects).
pub fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().no_proxy()
}
