//! `padconnect env`: the lines that point a shell's unchanged tools at a
//! running platform (docs/transparent-mode.md): its address as the HTTPS proxy, and
//! trust of its local CA in every ecosystem's own variable. `serve` records
//! where it listens in the data dir (`serve.json`), so `env --data-dir DIR`
//! finds it; a record whose server does not answer is an error that says so.

use crate::output::out;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

/// Where `serve` records its address, in the data dir.
const RECORD: &str = "serve.json";
/// Where `env` writes the system's CAs plus the platform's: beside the CA
/// file, in the data dir's `tls/`.
const BUNDLE_FILE: &str = "bundle.pem";
/// The system's CA bundles, first found wins (Debian, Fedora, Alpine, macOS).
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/usr/local/etc/openssl/cert.pem",
];
/// Proxy variables, in both cases: curl reads lower case, most others either.
const PROXY_VARS: [&str; 2] = ["HTTPS_PROXY", "https_proxy"];
const NO_PROXY_VARS: [&str; 2] = ["NO_PROXY", "no_proxy"];
/// OpenSSL and Go, Python requests, curl: a bundle that replaces theirs.
const BUNDLE_VARS: [&str; 3] = ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"];
/// Node.js: one more CA beside its own.
const EXTRA_CA_VAR: &str = "NODE_EXTRA_CA_CERTS";
/// Loopback stays direct: the platform's own address needs no proxy.
const LOOPBACK: &str = "localhost,127.0.0.1,::1";

#[derive(Args, Debug)]
pub struct EnvArgs {
    #[arg(long, value_name = "DIR", conflicts_with = "platform",
        help = crate::serve::help_default_only("The data dir of a running `padconnect serve`", "data_dir"))]
    data_dir: Option<PathBuf>,
    /// A running platform's address, instead of a data dir (needs --ca-cert).
    #[arg(long, value_name = "URL", requires = "ca_cert")]
    platform: Option<String>,
    /// The platform's CA (its <data-dir>/tls/ca.pem), with --platform.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// The shell to write for.
    #[arg(long, value_enum, default_value_t = Shell::Sh)]
    shell: Shell,
    /// Print the lines that unset the variables the others set (a value one
    /// held before them is not put back: note it first if you need it).
    #[arg(long)]
    unset: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Sh,
    Pwsh,
    Cmd,
}

/// What `serve` writes when it listens.
#[derive(Serialize, Deserialize)]
struct ServeRecord {
    url: String,
    pid: u32,
}

/// Records `url` as where the platform of `data_dir` listens.
pub fn record(data_dir: &Path, url: &str) -> anyhow::Result<()> {
    let record = ServeRecord {
        url: url.to_owned(),
        pid: std::process::id(),
    };
    let path = data_dir.join(RECORD);
    let temporary = data_dir.join(format!("{RECORD}.new"));
    std::fs::write(&temporary, serde_json::to_vec_pretty(&record)?)
        .and_then(|()| std::fs::rename(&temporary, &path))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Removes the record, once `serve` has stopped.
pub fn forget(data_dir: &Path) {
    let _ = std::fs::remove_file(data_dir.join(RECORD));
}

pub fn run(args: EnvArgs) -> anyhow::Result<()> {
    if args.unset {
        print_lines(args.shell, &unset_lines());
        return Ok(());
    }
    let (url, ca) = match (&args.platform, &args.data_dir) {
        (Some(url), _) => (
            url.trim_end_matches('/').to_owned(),
            args.ca_cert
                .clone()
                .context("--platform needs --ca-cert, the platform's CA file")?,
        ),
        (None, dir) => {
            let dir = dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(padconnect_platform::config::DEFAULT_DATA_DIR));
            let url = recorded_url(&dir)?;
            (url, dir.join("tls").join(padconnect_platform::CA_FILE))
        }
    };
    let ca = std::fs::canonicalize(&ca)
        .with_context(|| format!("cannot read the platform's CA {}", ca.display()))?;
    let pem = std::fs::read(&ca).with_context(|| format!("cannot read {}", ca.display()))?;
    check_answers(&url, &pem)?;
    let bundle = write_bundle(&ca, &pem)?;
    print_lines(args.shell, &set_lines(&url, &bundle, &ca));
    Ok(())
}

fn recorded_url(dir: &Path) -> anyhow::Result<String> {
    if !dir.is_dir() {
        bail!(
            "the data dir {} does not exist: start `padconnect serve --data-dir {0}` first, or name the platform with --platform URL --ca-cert FILE",
            dir.display()
        );
    }
    let path = dir.join(RECORD);
    let text = std::fs::read(&path).with_context(|| {
        format!(
            "no platform is serving {}: start `padconnect serve --data-dir {}` (it records its address in {})",
            dir.display(),
            dir.display(),
            path.display()
        )
    })?;
    let record: ServeRecord = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a record padconnect wrote", path.display()))?;
    Ok(record.url)
}

/// The platform answers its health probe, or the record is stale.
fn check_answers(url: &str, ca_pem: &[u8]) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let http = padconnect_client::TokenClient::http_client(Some(ca_pem))?;
    let probe = runtime.block_on(async {
        http.get(format!("{url}/healthz"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map(|r| r.status().is_success())
    });
    match probe {
        Ok(true) => Ok(()),
        _ => bail!(
            "no platform answers at {url} (recorded by a `padconnect serve` that is no longer running?): start `padconnect serve` again"
        ),
    }
}

/// The system's CAs and the platform's in one file, for the variables that
/// replace a tool's trust store rather than add to it.
fn write_bundle(ca: &Path, pem: &[u8]) -> anyhow::Result<PathBuf> {
    let mut bundle = SYSTEM_BUNDLES
        .iter()
        .find_map(|path| std::fs::read(path).ok())
        .unwrap_or_default();
    if !bundle.is_empty() && !bundle.ends_with(b"\n") {
        bundle.push(b'\n');
    }
    bundle.extend_from_slice(pem);
    let tls_dir = ca.parent().context("the CA file has no folder")?;
    let path = tls_dir.join(BUNDLE_FILE);
    std::fs::write(&path, bundle).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn set_lines(url: &str, bundle: &Path, ca: &Path) -> Vec<(&'static str, Option<String>)> {
    let mut lines = Vec::new();
    lines.extend(PROXY_VARS.map(|name| (name, Some(url.to_owned()))));
    lines.extend(NO_PROXY_VARS.map(|name| (name, Some(LOOPBACK.to_owned()))));
    lines.extend(BUNDLE_VARS.map(|name| (name, Some(bundle.display().to_string()))));
    lines.push((EXTRA_CA_VAR, Some(ca.display().to_string())));
    lines
}

fn unset_lines() -> Vec<(&'static str, Option<String>)> {
    PROXY_VARS
        .into_iter()
        .chain(NO_PROXY_VARS)
        .chain(BUNDLE_VARS)
        .chain([EXTRA_CA_VAR])
        .map(|name| (name, None))
        .collect()
}

fn print_lines(shell: Shell, lines: &[(&str, Option<String>)]) {
    for (name, value) in lines {
        out!("{}", line(shell, name, value.as_deref()));
    }
}

fn line(shell: Shell, name: &str, value: Option<&str>) -> String {
    match (shell, value) {
        (Shell::Sh, Some(v)) => format!("export {name}='{}'", v.replace('\'', r"'\''")),
        (Shell::Sh, None) => format!("unset {name}"),
        (Shell::Pwsh, Some(v)) => format!("$env:{name} = '{}'", v.replace('\'', "''")),
        (Shell::Pwsh, None) => format!("Remove-Item Env:{name} -ErrorAction SilentlyContinue"),
        (Shell::Cmd, Some(v)) => format!("set \"{name}={v}\""),
        (Shell::Cmd, None) => format!("set \"{name}=\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_quote_for_each_shell() {
        assert_eq!(line(Shell::Sh, "A", Some("it's")), r"export A='it'\''s'");
        assert_eq!(line(Shell::Pwsh, "A", Some("it's")), "$env:A = 'it''s'");
        assert_eq!(line(Shell::Cmd, "A", Some("C:\\x y")), "set \"A=C:\\x y\"");
        assert_eq!(line(Shell::Sh, "A", None), "unset A");
    }
}
