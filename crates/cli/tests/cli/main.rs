//! End-to-end tests of the built `padconnect` binary, in one test binary.

mod connect;
mod credentials;
mod env;
mod env_url;
mod exit_codes;
mod group;
mod help;
mod quickstart;
mod replicas;
mod run_owner;
mod serve;
mod support;
mod token;
