//! End-to-end tests of the built `padconnect` binary, in one test binary.

// Tests may unwrap, expect and panic: a failed test is the point
// (clippy.toml does the same for #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod connect;
mod credentials;
mod deploy;
mod docs;
mod env;
mod env_url;
mod exit_codes;
mod fleet;
mod group;
mod help;
mod quickstart;
mod replicas;
mod run_owner;
mod serve;
mod support;
mod token;
