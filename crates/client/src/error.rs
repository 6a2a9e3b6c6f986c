//! What can go wrong talking to a service, with the service's own code.

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The service answered with an error: its HTTP status, its code
    /// (`AADSTS7000215`, `0x80040217`, `ConnectionNotFound`) and message.
    #[error("{code}: {message} (HTTP {status})")]
    Service {
        status: u16,
        code: String,
        message: String,
    },
    #[error("cannot reach {url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("{0}")]
    Credential(String),
    #[error("unexpected answer from {url}: {reason}")]
    Protocol { url: String, reason: String },
}

impl ClientError {
    /// The service's error code, if the service answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    pub(crate) fn transport(url: &str, error: reqwest::Error) -> Self {
        // reqwest's message can name the URL with its query; the URL alone is enough.
        let reason =
            std::error::Error::source(&error).map_or_else(|| error.to_string(), |s| s.to_string());
        Self::Transport {
            url: url.to_owned(),
            reason,
        }
    }
}
