//! Desktop flow runs as Dataverse records them: the `flowsession` status
//! values, the limits of `RunDesktopFlow`, and the run-time error codes
//! with what each means and how to fix it. The platform writes these codes
//! into `flowsession.errorcode`; the client explains them. Sources and the
//! choices where they are silent: docs/evidence/desktop-flow-runs.md.

crate::enum_with_all! {
/// `flowsession.statuscode` (Flow Session table reference,
/// `flowsession_statuscode`), with the labels spelled as the table has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    NotSpecified = 0,
    Paused = 1,
    Running = 2,
    /// What a queued run shows until a machine takes it. No source names
    /// the queued status; Waiting is the one label that says it.
    Waiting = 3,
    Succeeded = 4,
    Skipped = 5,
    Suspended = 6,
    Cancelled = 7,
    Failed = 8,
    Faulted = 9,
    TimedOut = 10,
    Aborted = 11,
    Ignored = 12,
    Deleted = 13,
    Terminated = 14,
}
}

impl SessionStatus {
    pub fn from_code(code: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|s| *s as i64 == code)
    }

    pub fn code(self) -> i64 {
        self as i64
    }

    /// The table's `statecode` for this status: 1 Inactive for
    /// NotSpecified, Deleted and Terminated, 0 Active for every other
    /// (a Succeeded or Failed run stays Active, as the docs' samples show).
    pub fn state(self) -> i64 {
        match self {
            Self::NotSpecified | Self::Deleted | Self::Terminated => 1,
            _ => 0,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NotSpecified => "NotSpecified",
            Self::Paused => "Paused",
            Self::Running => "Running",
            Self::Waiting => "Waiting",
            Self::Succeeded => "Succeeded",
            Self::Skipped => "Skipped",
            Self::Suspended => "Suspended",
            Self::Cancelled => "Cancelled",
            Self::Failed => "Failed",
            Self::Faulted => "Faulted",
            Self::TimedOut => "TimedOut",
            Self::Aborted => "Aborted",
            Self::Ignored => "Ignored",
            Self::Deleted => "Deleted",
            Self::Terminated => "Terminated",
        }
    }

    /// Whether the run is over: nothing will change it any more.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            Self::Paused | Self::Running | Self::Waiting | Self::Suspended
        )
    }
}

/// `flowsession.runmode` (`flowsession_runmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    Local = 0,
    Attended = 1,
    Unattended = 2,
}

impl RunMode {
    /// RunDesktopFlow's `runMode`: "attended" or "unattended" (the docs'
    /// sample writes them in lower case; any case is taken).
    pub fn parse(given: &str) -> Option<Self> {
        match given.to_ascii_lowercase().as_str() {
            "attended" => Some(Self::Attended),
            "unattended" => Some(Self::Unattended),
            _ => None,
        }
    }

    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn from_code(code: i64) -> Option<Self> {
        [Self::Local, Self::Attended, Self::Unattended]
            .into_iter()
            .find(|m| *m as i64 == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Local => "Local",
            Self::Attended => "Attended",
            Self::Unattended => "Unattended",
        }
    }
}

/// `flowsession.triggertype` of a run started by RunDesktopFlow.
pub const TRIGGER_DATAVERSE_API: i64 = 3;

/// RunDesktopFlow's `timeout` when none is given: "default = 3 hours".
pub const DEFAULT_TIMEOUT_SECONDS: i64 = 3 * 3_600;
/// RunDesktopFlow's largest `timeout`: "max = 24 hours".
pub const MAX_TIMEOUT_SECONDS: i64 = 24 * 3_600;
/// "The input field content size is limited to 2 MB."
pub const MAX_INPUT_BYTES: usize = 2 * 1024 * 1024;
/// "We currently support up to 70 desktop flows runs per minute for every connection."
pub const RUNS_PER_MINUTE_PER_CONNECTION: i64 = 70;
/// "Maximum amount of time a desktop flow can be queued: Six hours" (Manage machines).
pub const MAX_QUEUED_SECONDS: i64 = 6 * 3_600;
/// "The desktop flow run queue is full. Run queue max size: '500'" (work queues' known limitations).
pub const MAX_QUEUED_RUNS: i64 = 500;
/// `flowsession.callbackurl`: String(2000).
pub const MAX_CALLBACK_URL_CHARS: usize = 2_000;

/// A run-time error code: the HTTP status the service gives it, what it
/// means and how to fix it, and the article that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunError {
    pub code: &'static str,
    pub http_status: u16,
    pub meaning: &'static str,
    pub fix: &'static str,
    pub article: &'static str,
}

const KB_RUN_ERRORS: &str = "https://learn.microsoft.com/en-us/troubleshoot/power-platform/power-automate/desktop-flows/troubleshoot-errors-running-attended-or-unattended-desktop-flows";
const KB_QUEUE: &str = "https://learn.microsoft.com/en-us/troubleshoot/power-platform/power-automate/desktop-flows/troubleshoot-desktop-flow-run-queue-errors";
const KB_CREDENTIALS: &str = "https://learn.microsoft.com/en-us/troubleshoot/power-platform/power-automate/desktop-flows/invalid-credentials-errors-running-desktop-flows";
const KB_LOGON_TYPE: &str = "https://learn.microsoft.com/en-us/troubleshoot/power-platform/power-automate/desktop-flows/logon-type-has-not-been-granted";
const KB_SESSION_CREATION: &str = "https://learn.microsoft.com/en-us/troubleshoot/power-platform/power-automate/desktop-flows/troubleshoot-session-creation-errrors";

/// The credentials were refused (KB 4555406, KB 5021155).
pub const WINDOWS_IDENTITY_INCORRECT: &str = "WindowsIdentityIncorrect";
/// 0xC000015B: the account has no right to this logon type (KB 5021230).
pub const LOGON_TYPE_NOT_GRANTED: &str = "-1073741477";
/// 0xC0000234 STATUS_ACCOUNT_LOCKED_OUT as a signed integer, the form
/// KB 5021155 gives the Windows logon failures PAD 2.24 reports. No
/// article lists this one; the code follows that form and the message is
/// the NTSTATUS text (MS-ERREF 2.3.1).
pub const ACCOUNT_LOCKED_OUT: &str = "-1073741260";
pub const NO_LISTENER_CONNECTED: &str = "NoListenerConnected";
pub const GROUP_IS_EMPTY: &str = "GroupIsEmpty";
pub const NO_CANDIDATE_MACHINE: &str = "NoCandidateMachine";
pub const ACTION_THROTTLED: &str = "DesktopFlowsActionThrottled";
pub const ACTION_TIMEOUT: &str = "DesktopFlowsActionTimeout";
pub const MACHINE_GROUP_NOT_FOUND: &str = "XrmMachineGroupNotFound";
pub const QUEUE_FULL: &str = "UIFlowRunQueueFull";
pub const ATTENDED_NOT_LOGGED_IN: &str = "AttendedUserNotLoggedIn";
pub const SESSION_EXISTS_UNATTENDED: &str = "SessionExistsForTheUserWhenUnattended";

/// The codes a simulated run can end with, and those a world may ask a
/// machine to fail with (KB 4555406's table, KB 5004537, KB 5021155,
/// KB 5021230). Meanings are condensed from the articles.
pub const RUN_ERRORS: &[RunError] = &[
    RunError {
        code: WINDOWS_IDENTITY_INCORRECT,
        http_status: 401,
        meaning: "The credentials provided with the request are invalid: the connection's Windows account or password is not the machine's (a password rotated or expired since the connection was written, or a username in the wrong form).",
        fix: "Check that the account can sign in on the machine with the connection's credentials, then update the connection with the current password (padconnect connection update ID). Usernames are domain\\user, user@domain, MACHINE\\user or .\\user.",
        article: KB_CREDENTIALS,
    },
    RunError {
        code: LOGON_TYPE_NOT_GRANTED,
        http_status: 401,
        meaning: "A user has requested a type of logon (for example, interactive or network) that has not been granted. An administrator has control over who can logon interactively and through the network.",
        fix: "On the machine, in Local Security Policy > User Rights Assignment, put the connection's account (or its group) in 'Allow log on locally', 'Access this computer from the network' and 'Allow log on through Remote Desktop Services', and out of the three 'Deny' policies.",
        article: KB_LOGON_TYPE,
    },
    RunError {
        code: ACCOUNT_LOCKED_OUT,
        http_status: 401,
        meaning: "The user account has been automatically locked because too many invalid logon attempts or password change attempts have been requested.",
        fix: "Unlock the account on the machine (or wait for its lockout duration), then update the connection with the account's current password so runs stop signing in with the old one.",
        article: KB_CREDENTIALS,
    },
    RunError {
        code: NO_LISTENER_CONNECTED,
        http_status: 404,
        meaning: "The endpoint wasn't found. There are no listeners connected to the endpoint: no machine of the connection's target is online.",
        fix: "Start the machine and check that the Power Automate machine runtime is signed in and can reach the cloud.",
        article: KB_RUN_ERRORS,
    },
    RunError {
        code: GROUP_IS_EMPTY,
        http_status: 400,
        meaning: "The machine group is empty.",
        fix: "Add machines to the group (the machine runtime's 'Join a group'), or point the connection at a group that has some.",
        article: KB_RUN_ERRORS,
    },
    RunError {
        code: NO_CANDIDATE_MACHINE,
        http_status: 400,
        meaning: "The run has exceeded the queue waiting time limit: no machine able to run the desktop flow was found.",
        fix: "Add machines to the group, or spread the runs so they do not all wait for the same machines.",
        article: KB_QUEUE,
    },
    RunError {
        code: ACTION_THROTTLED,
        http_status: 429,
        meaning: "Too many desktop flows use the same connection: at most 70 runs a minute are started through one connection.",
        fix: "Spread the runs over several connections, or start fewer runs a minute.",
        article: KB_RUN_ERRORS,
    },
    RunError {
        code: ACTION_TIMEOUT,
        http_status: 400,
        meaning: "The run exceeded its maximum duration (the RunDesktopFlow timeout).",
        fix: "Raise the run's timeout (at most 24 hours) or split the desktop flow.",
        article: KB_RUN_ERRORS,
    },
    RunError {
        code: MACHINE_GROUP_NOT_FOUND,
        http_status: 404,
        meaning: "The machine group of the connection was deleted.",
        fix: "Recreate the machine group and update the connection to target it.",
        article: KB_RUN_ERRORS,
    },
    RunError {
        code: QUEUE_FULL,
        http_status: 400,
        meaning: "The desktop flow run queue is full. Run queue max size: '500'.",
        fix: "Wait for queued runs to finish, or add machines to the group.",
        article: KB_RUN_ERRORS,
    },
    RunError {
        code: ATTENDED_NOT_LOGGED_IN,
        http_status: 400,
        meaning: "An attended run needs the connection's user signed in to the machine, and it isn't.",
        fix: "Sign in to the machine as the connection's user and leave the session unlocked, or run unattended.",
        article: KB_QUEUE,
    },
    RunError {
        code: SESSION_EXISTS_UNATTENDED,
        http_status: 400,
        meaning: "An unattended run needs the connection's user signed out of the machine, and a session of that user (even a locked one) exists.",
        fix: "Sign the connection's user out of the machine, or run attended.",
        article: KB_QUEUE,
    },
    RunError {
        code: "SessionCreationError",
        http_status: 400,
        meaning: "The session for an unattended run couldn't be created, for an unknown reason.",
        fix: "Test a Remote Desktop connection to the machine with the connection's account; remove third-party sign-in software and legal notices that interrupt sign-in.",
        article: KB_SESSION_CREATION,
    },
    RunError {
        code: "RdpPermissionNotGranted",
        http_status: 400,
        meaning: "The connection's user may not create Remote Desktop sessions on the machine.",
        fix: "Add the account to the machine's Administrators or Remote Desktop Users group.",
        article: KB_RUN_ERRORS,
    },
    RunError {
        code: "RDPIsNotEnabled",
        http_status: 400,
        meaning: "Remote Desktop is not enabled on the machine.",
        fix: "Enable Remote Desktop on the machine.",
        article: KB_RUN_ERRORS,
    },
    RunError {
        code: "UIFlowAlreadyRunning",
        http_status: 429,
        meaning: "A desktop flow is already running on the machine.",
        fix: "Wait for it to complete, or add machines to the group.",
        article: KB_RUN_ERRORS,
    },
    RunError {
        code: "UIFlowAgentNotAvailable",
        http_status: 400,
        meaning: "The Power Automate service (UIFlowService) is not running on the machine.",
        fix: "Start the service on the machine, and check the account it runs as.",
        article: KB_RUN_ERRORS,
    },
    RunError {
        code: "SessionNotFound",
        http_status: 400,
        meaning: "The Windows session of the run can't be found: the machine restarted during the run, or it was cloned after the runtime was installed.",
        fix: "Run again; re-register a cloned machine.",
        article: KB_RUN_ERRORS,
    },
    RunError {
        code: "UnsupportedRpaScriptSchemaVersion",
        http_status: 400,
        meaning: "The desktop flow was saved by a newer Power Automate for desktop than the machine runs.",
        fix: "Install the latest Power Automate for desktop on the machine.",
        article: KB_RUN_ERRORS,
    },
];

/// What a run-time error code means, if it is one the platform knows.
pub fn run_error(code: &str) -> Option<&'static RunError> {
    RUN_ERRORS.iter().find(|e| e.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table's words are the service's, so they spell the limit out;
    /// this holds them to the limit the platform enforces.
    #[test]
    fn the_queue_full_meaning_names_the_enforced_limit() {
        let meaning = run_error(QUEUE_FULL).map(|e| e.meaning).unwrap_or_default();
        assert!(
            meaning.contains(&format!("'{MAX_QUEUED_RUNS}'")),
            "{meaning}"
        );
    }

    #[test]
    fn every_status_round_trips_and_only_the_documented_three_are_inactive() {
        for status in SessionStatus::ALL {
            assert_eq!(SessionStatus::from_code(status.code()), Some(status));
        }
        let inactive: Vec<_> = SessionStatus::ALL
            .into_iter()
            .filter(|s| s.state() == 1)
            .map(SessionStatus::label)
            .collect();
        assert_eq!(inactive, ["NotSpecified", "Deleted", "Terminated"]);
        assert!(!SessionStatus::Waiting.is_final());
        assert!(SessionStatus::Cancelled.is_final());
        assert_eq!(SessionStatus::from_code(15), None);
    }

    #[test]
    fn run_error_codes_are_unique_and_each_names_an_article() {
        for (i, e) in RUN_ERRORS.iter().enumerate() {
            assert!(
                RUN_ERRORS[..i].iter().all(|o| o.code != e.code),
                "{}",
                e.code
            );
            assert!(e.article.starts_with("https://learn.microsoft.com/"));
        }
        assert_eq!(run_error("GroupIsEmpty").map(|e| e.http_status), Some(400));
        assert!(run_error("NoSuchCode").is_none());
    }
}
