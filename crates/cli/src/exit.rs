//! Exit codes, the same for every command, so a pipeline can tell one
//! failure from another. [`Exit::meaning`] is the one table: `--help`, every
//! manual page's EXIT STATUS and the README's "Exit codes" (held to it by a
//! test) show it.

use std::process::ExitCode;

use padconnect_client::ClientError;

padconnect_core::enum_with_all! {
/// The exit codes, named, numbered from 0 in the order declared
/// ([`Exit::code`]); tests hold `--help` and the README to each number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success,
    Refused,
    Usage,
    NotFound,
    Authentication,
    Network,
    NotConnected,
    NotReady,
    RunFailed,
}
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// What the code tells a pipeline.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Success => "success, including \"nothing to do\"",
            Self::Refused => {
                "the service refused (its code is printed: InvalidParameterValue, 0x80048306, ...)"
            }
            Self::Usage => "usage: a flag, a value or an input is wrong",
            Self::NotFound => {
                "not found (ConnectionNotFound, EnvironmentNotFound, 0x80040217, a group or machine by name)"
            }
            Self::Authentication => {
                "authentication failed (an AADSTS code, a 401, an unreadable credential)"
            }
            Self::Network => "network or TLS: refused, not trusted, timed out",
            Self::NotConnected => {
                "the connection exists but its status is not Connected (connect, connection get, any connection of report; rotate: a connection passed over keeps the old password)"
            }
            Self::NotReady => {
                "a deployment is not ready: settings check (or deploy --check) found problems, or deploy left a flow off; or report --expect found drift"
            }
            Self::RunFailed => "a desktop flow run did not succeed (verify, deploy --verify)",
        }
    }
}

/// The table `--help` ends with, a line a code.
pub fn help() -> String {
    let mut text = String::from("Exit codes:");
    for exit in Exit::ALL {
        text.push_str(&format!("\n  {}  {}", exit.code(), exit.meaning()));
    }
    text
}

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
        ExitCode::from(exit.code())
    }
}
