//! End-to-end tests of the built `padconnect` binary, in one test binary.

mod env_url;
mod serve;
mod support;
mod token;
