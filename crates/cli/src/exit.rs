//! Exit codes, the same for every command (README, "Exit codes"), so a pipeline can
//! tell one failure from another:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success, including "nothing to do" |
//! | 1 | the service refused (its code is printed) |
//! | 2 | usage: a flag, a value or an input is wrong |
//! | 3 | not found |
//! | 4 | authentication failed |
//! | 5 | network or TLS: refused, not trusted, timed out |
//! | 6 | the connection exists but its status is not Connected (or, for `report`, any is not; for `rotate`, a skipped one still holds the old password) |
//! | 7 | a deployment is not ready: `settings check` found problems, or a flow stayed off; `report --expect` found drift |
//! | 8 | a desktop flow run did not succeed (`verify`, `deploy --verify`) |

use std::process::ExitCode;

use padconnect_client::ClientError;

/// The exit codes, named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Refused = 1,
    Usage = 2,
    NotFound = 3,
    Authentication = 4,
    Network = 5,
    NotConnected = 6,
    NotReady = 7,
    RunFailed = 8,
}

/// The table `--help` ends with.
pub const HELP: &str = "Exit codes: 0 success (or nothing to do), 1 the service refused, 2 usage, 3 not found, 4 authentication failed, 5 network or TLS, 6 the connection exists but is not Connected (report: any; rotate: a skipped one keeps the old password), 7 a deployment is not ready (settings problems, a flow stayed off) or report --expect found drift, 8 a desktop flow run did not succeed.";

/// A failure that knows its exit code; anything else is classified by the
/// client error inside it, or is a usage error.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Failure {
        exit: Exit::Usage,
        message: message.into(),
    }
    .into()
}

pub fn not_found(message: impl Into<String>) -> anyhow::Error {
    Failure {
        exit: Exit::NotFound,
        message: message.into(),
    }
    .into()
}

pub fn not_connected(message: impl Into<String>) -> anyhow::Error {
    Failure {
        exit: Exit::NotConnected,
        message: message.into(),
    }
    .into()
}

/// Service codes that say "there is no such thing".
const NOT_FOUND_CODES: [&str; 5] = [
    "ConnectionNotFound",
    "EnvironmentNotFound",
    "ServiceToServiceEnvironmentNotFound",
    "0x80040217",
    "0x8006088a",
];

/// The exit code of a failed command.
pub fn code_of(error: &anyhow::Error) -> Exit {
    if let Some(failure) = error.chain().find_map(|e| e.downcast_ref::<Failure>()) {
        return failure.exit;
    }
    match error.chain().find_map(|e| e.downcast_ref::<ClientError>()) {
        Some(ClientError::Service { status, code, .. }) => {
            if code.starts_with("AADSTS") || *status == 401 {
                Exit::Authentication
            } else if *status == 404 || NOT_FOUND_CODES.contains(&code.as_str()) {
                Exit::NotFound
            } else {
                Exit::Refused
            }
        }
        Some(ClientError::Transport { .. }) => Exit::Network,
        Some(ClientError::Credential(_)) => Exit::Authentication,
        Some(ClientError::Protocol { .. }) => Exit::Refused,
        Some(ClientError::Ambiguous(_)) => Exit::Usage,
        None => Exit::Usage,
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}
