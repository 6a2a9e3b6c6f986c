//! The platform's integration tests, all in one binary (each test binary
//! costs a link): the store's conformance suite on SQLite and, when
//! `PADCONNECT_TEST_DATABASE_URL` is set, on PostgreSQL; the world file; the
//! server over real HTTP on port 0; and durability under `kill -9`.

// Tests may unwrap, expect and panic: a failed test is the point
// (clippy.toml does the same for #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod arm;
mod bap;
mod batch;
mod connections;
mod crash;
mod dataverse;
mod federated;
mod fetchxml;
mod identity;
mod identity_v1;
mod keys;
mod listener;
mod membership;
mod portal;
mod run_owner;
mod runs;
mod server;
mod sign_in_defences;
mod solutions;
mod store;
mod support;
mod tunnel;
mod vault_credentials;
mod verifier;
mod windows_accounts;
mod world;
