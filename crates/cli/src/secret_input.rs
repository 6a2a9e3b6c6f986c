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

    /// The secret, or an empty one when no source is given: for a secret
    /// that may be left out, as a PFX without a password.
    pub fn read_or_empty(&self) -> anyhow::Result<Secret> {
        match self.is_given() {
            true => self.read_text().map(Secret::new),
            false => Ok(Secret::new("")),
        }
    }

    /// The secret, without its trailing line break; empty is an error.
    pub fn read(&self) -> anyhow::Result<Secret> {
        let secret = self.read_text()?;
        if secret.is_empty() {
            bail!("{} is empty", self.what);
        }
        Ok(Secret::new(secret))
    }

    fn read_text(&self) -> anyhow::Result<String> {
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
        Ok(text.trim_end_matches(['\r', '\n']).to_owned())
    }
}
