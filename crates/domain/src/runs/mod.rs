//! Desktop flow runs: RunDesktopFlow queues one (`trigger`), the runner
//! hands it to a machine of the connection's target, which signs the
//! connection's account in and runs it (`runner`, `logon`), and its owner
//! follows or cancels it (`sessions`). Every surface and the runner of due
//! work call these.
//!
//! What the real service does, with sources, is in
//! docs/evidence/desktop-flow-runs.md; its "Evidence silent" list is where
//! the choices below were made, each written at the rule that makes it.

mod logon;
mod runner;
mod sessions;
mod trigger;

pub use runner::{advance, advance_due, heartbeat};
pub use sessions::{cancel, read, readable};
pub use trigger::{RunRequest, start};

use padconnect_core::desktop_runs::{
    ACTION_THROTTLED, MAX_CALLBACK_URL_CHARS, MAX_INPUT_BYTES, MAX_QUEUED_RUNS,
    MAX_TIMEOUT_SECONDS, QUEUE_FULL, RUNS_PER_MINUTE_PER_CONNECTION,
};
use uuid::Uuid;

/// Why RunDesktopFlow or CancelDesktopFlowRun refused. The service
/// documents the codes of the limits (DesktopFlowsActionThrottled,
/// UIFlowRunQueueFull) and one privilege error; for a bad parameter it
/// documents none, so those answer Dataverse's InvalidArgument, 0x80040203.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunRefusal {
    #[error(
        "RunDesktopFlow runs desktop flows (workflow category 6); workflow {id} is of category {category}{cloud}."
    )]
    NotDesktopFlow {
        id: Uuid,
        category: i64,
        cloud: &'static str,
    },
    #[error("The parameter '{0}' is required: {1}")]
    Missing(&'static str, &'static str),
    #[error("runMode must be 'attended' or 'unattended', not '{0}'.")]
    RunMode(String),
    #[error(
        "connectionType must be 1 (connectionName is a connection's name) or 2 (a connection reference's logical name), not {0}."
    )]
    ConnectionType(i64),
    #[error("timeout is in seconds, from 1 to {MAX_TIMEOUT_SECONDS} (24 hours), not {0}.")]
    Timeout(i64),
    #[error("runPriority must be 'normal', 'high' or a name of at most 100 characters.")]
    Priority,
    #[error(
        "inputs must be a JSON object serialized as a string, such as \"{{\\\"Input1\\\":\\\"Value\\\"}}\": {0}"
    )]
    InputsNotJson(String),
    #[error(
        "inputs is {0} bytes; the input field content size is limited to 2 MB ({MAX_INPUT_BYTES} bytes)."
    )]
    InputsTooLarge(usize),
    #[error(
        "callbackUrl must be an https URL with a DNS host name, not localhost or an IP address, of at most {MAX_CALLBACK_URL_CHARS} characters: {0}"
    )]
    CallbackUrl(String),
    /// The connection does not exist here, or the caller may not see it.
    #[error(
        "Could not find connection '{0}' for API 'shared_uiflow': give the name of a desktop flow connection of this environment that is yours or shared with you."
    )]
    ConnectionNotFound(String),
    #[error("There is no connection reference '{0}' in this environment.")]
    ReferenceNotFound(String),
    #[error(
        "The connection reference '{0}' has no connection: bind it to a desktop flow connection first (PATCH connectionreferences, or the deployment settings file)."
    )]
    ReferenceUnbound(String),
    #[error(
        "The connection '{name}' is a {connector} connection; a desktop flow runs through a shared_uiflow connection."
    )]
    NotDesktopConnection { name: String, connector: String },
    #[error(
        "Too many desktop flows use the same connection: at most {RUNS_PER_MINUTE_PER_CONNECTION} runs a minute are started through connection '{0}'. Spread the runs over several connections."
    )]
    Throttled(String),
    #[error("The desktop flow run queue is full. Run queue max size: '{MAX_QUEUED_RUNS}'.")]
    QueueFull,
    /// CancelDesktopFlowRun on a run that is over. The service's answer is
    /// not documented; padconnect refuses rather than report a cancel that
    /// did nothing.
    #[error("The flow session {id} is over ({status}): there is nothing to cancel.")]
    AlreadyOver { id: Uuid, status: &'static str },
}

impl RunRefusal {
    /// The HTTP status the service answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Throttled(_) => 429,
            Self::ConnectionNotFound(_) | Self::ReferenceNotFound(_) => 404,
            _ => 400,
        }
    }

    /// The service's code: the documented run-time code for the limits,
    /// Dataverse's InvalidArgument (0x80040203) for the rest.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Throttled(_) => ACTION_THROTTLED,
            Self::QueueFull => QUEUE_FULL,
            _ => "0x80040203",
        }
    }
}

impl From<RunRefusal> for crate::Error {
    fn from(refusal: RunRefusal) -> Self {
        Self::Run(refusal)
    }
}
