//! Secrets typed by nobody on the command line: from a file, stdin or an
//! environment variable, so they never reach an argv or a shell history.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, bail};
use padconnect_client::Secret;

/// Where one secret comes from, in order of preference.
pub struct SecretSource<'a> {
    /// What the secret is, for messages: "the Windows password".
    pub what: &'a str,
    pub file: Option<&'a Path>,
    pub stdin: bool,
    /// The environment variable read when neither a file nor stdin is named.
    pub env: &'a str,
    /// Said when there is no source at all: how to give one.
    pub hint: &'a str,
}

impl SecretSource<'_> {
    /// Whether any source is there, without reading it.
    pub fn is_given(&self) -> bool {
        self.file.is_some() || self.stdin || std::env::var_os(self.env).is_some()
    }

    /// The secret, without its trailing line break; empty is an error.
    pub fn read(&self) -> anyhow::Result<Secret> {
        let what = self.what;
        let text = if let Some(path) = self.file {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {what} from the file {}", path.display()))?
        } else if self.stdin {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .with_context(|| format!("cannot read {what} from stdin"))?;
            text
        } else {
            match std::env::var(self.env) {
                Ok(value) => value,
                Err(_) => bail!("no {}: {}", what.trim_start_matches("the "), self.hint),
            }
        };
        let secret = text.trim_end_matches(['\r', '\n']);
        if secret.is_empty() {
            bail!("{what} is empty");
        }
        Ok(Secret::new(secret))
    }
}
