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
    /// A name that several things have: which one is meant is the caller's
    /// to say.
    #[error("{0}")]
    Ambiguous(String),
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
        Self::Transport {
            url: without_query(url).to_owned(),
            reason: transport_reason(url, &error),
        }
    }
}

/// The URL without its query (reqwest's message can repeat the query; the
/// address is enough to act on).
fn without_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// What went wrong on the way, in words that name the fix. reqwest's own
/// error is read through its sources, whose texts (rustls', hyper's, the
/// OS's) are matched to a cause; what matches nothing is shown as it is.
fn transport_reason(url: &str, error: &reqwest::Error) -> String {
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        chain.push_str(&e.to_string());
        chain.push_str(": ");
        source = e.source();
    }
    let lower = chain.to_ascii_lowercase();
    let host = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or(url);
    let loopback = ["127.", "localhost", "[::1]"]
        .iter()
        .any(|l| host.starts_with(l));
    if error.is_timeout() {
        return "no answer in time (timed out): check that the service is up and the network or proxy lets the request through".into();
    }
    if lower.contains("certificate")
        || lower.contains("unknownissuer")
        || lower.contains("unknown issuer")
    {
        return format!(
            "the server's TLS certificate is not trusted ({}). For a local platform, trust its CA: --ca-cert <data-dir>/tls/ca.pem, or SSL_CERT_FILE",
            last_cause(&chain)
        );
    }
    if lower.contains("invalidcontenttype")
        || lower.contains("corrupt message")
        || lower.contains("wrong version number")
    {
        return format!("{host} does not speak TLS on this port: use http:// instead of https://");
    }
    if lower.contains("invalid http version")
        || lower.contains("invalid status")
        || lower.contains("parse") && url.starts_with("http://")
    {
        return format!("{host} answers in TLS on this port: use https:// instead of http://");
    }
    if lower.contains("connection refused") {
        return match loopback {
            true => format!("connection refused: is `padconnect serve` running at {host}?"),
            false => format!(
                "connection refused by {host}: check the address, or the proxy (HTTPS_PROXY)"
            ),
        };
    }
    if lower.contains("dns")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
    {
        return format!(
            "cannot resolve {host}: check the name, the network, or HTTPS_PROXY (for a local platform, pass --platform URL or set PADCONNECT_PLATFORM: without them, commands go to the Microsoft cloud)"
        );
    }
    last_cause(&chain).to_owned()
}

/// The innermost cause of a `a: b: c: ` chain.
fn last_cause(chain: &str) -> &str {
    chain
        .trim_end_matches(": ")
        .rsplit(": ")
        .find(|part| !part.trim().is_empty())
        .unwrap_or(chain)
}
