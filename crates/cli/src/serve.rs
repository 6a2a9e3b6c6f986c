//! `padconnect serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use padconnect_platform::config::LogFormat;
use padconnect_platform::{LoadedWorld, Platform, PlatformConfig};
use serde::Serialize;
use tokio::net::TcpListener;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Flags override `PADCONNECT_*` variables, which override the config file.
#[derive(Args, Serialize)]
pub struct ServeArgs {
    #[arg(long, value_name = "ADDR", help = help("Address to listen on", "listen"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
    #[arg(long, value_name = "DIR", help = help("Data directory", "data_dir"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[arg(long, value_name = "URL", help = help("postgres://USER@HOST:PORT/DB for a shared database", "database"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<String>,
    #[arg(long, value_name = "FILE", help = help("World file to load at start", "world"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    world: Option<PathBuf>,
    #[arg(long, value_name = "MODE", value_parser = ["normal", "full"],
        help = help("When SQLite commits reach the disk: normal (survives a crash) or full (survives power loss)", "sync"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    sync: Option<String>,
    #[arg(long, value_name = "BYTES", help = help("Largest request body accepted, in bytes", "body_limit"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    body_limit: Option<usize>,
    #[arg(long, value_name = "FORMAT", value_parser = ["text", "json"], help = help("Log format", "log_format"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    log_format: Option<String>,
    #[arg(long, help = help("Serve HTTPS with a certificate from the data dir's local CA (<data-dir>/tls/ca.pem)", "tls"))]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    tls: bool,
    #[arg(long, value_name = "DURATION",
        help = help("How long a token signing key signs before the next takes over: seconds, or 90m, 12h, 30d", "signing_key_lifetime"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    signing_key_lifetime: Option<String>,
    #[arg(long, value_name = "DURATION",
        help = help("How long a silent client may hold a connection (unfinished request headers, an idle kept-alive connection, a tunnel's TLS handshake): seconds, or 30s, 5m", "idle_timeout"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    idle_timeout: Option<String>,
    #[arg(long, value_name = "DURATION",
        help = help("The most one request may take, its body's upload included, before it gets a 408: seconds, or 30s, 2m", "request_timeout"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    request_timeout: Option<String>,
    #[arg(long, value_name = "URL",
        help = help("The URL clients use when it names the platform by a name of its own (a reverse proxy's, a container's): only IP addresses, localhost, the cloud's names and this are served", "public_url"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    public_url: Option<String>,
    /// TOML config file with the same keys as these flags (listen, data_dir, ...).
    #[arg(long, value_name = "FILE", env = "PADCONNECT_CONFIG")]
    #[serde(skip)]
    config: Option<PathBuf>,
}

/// A flag's help with the default the platform takes when nothing sets
/// `key` and the variable that sets it, both read from the platform's
/// configuration rather than written again here.
pub(crate) fn help(text: &str, key: &str) -> String {
    with_notes(
        text,
        [
            PlatformConfig::shown_default(key).map(|value| format!("default: {value}")),
            PlatformConfig::variable_of(key).map(|name| format!("env: {name}")),
        ],
    )
}

/// [`help`] for a flag that no variable sets: the default alone.
pub(crate) fn help_default_only(text: &str, key: &str) -> String {
    with_notes(
        text,
        [PlatformConfig::shown_default(key).map(|value| format!("default: {value}"))],
    )
}

fn with_notes<const N: usize>(text: &str, notes: [Option<String>; N]) -> String {
    match notes.into_iter().flatten().collect::<Vec<_>>() {
        notes if notes.is_empty() => text.to_owned(),
        notes => format!("{text} [{}]", notes.join("; ")),
    }
}

impl ServeArgs {
    /// The platform's configuration: these flags over the environment over the file.
    pub fn config(&self) -> anyhow::Result<PlatformConfig> {
        load_config(self.config.as_deref(), self)
    }
}

/// The configuration from `file`, `PADCONNECT_*` and `flags`. figment's own
/// text names the source file and type a value came from; a user needs the
/// key and what is wrong with it.
pub fn load_config(
    file: Option<&std::path::Path>,
    flags: impl Serialize,
) -> anyhow::Result<PlatformConfig> {
    PlatformConfig::load(file, flags).map_err(|error| {
        let problems: Vec<String> = error
            .into_iter()
            .map(|e| match e.path.is_empty() {
                true => e.kind.to_string(),
                false => format!("{}: {}", e.path.join("."), e.kind),
            })
            .collect();
        anyhow::anyhow!("invalid configuration: {}", problems.join("; "))
    })
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    init_logging(config.log_format, colour_on_stderr());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(config))
}

async fn serve(config: PlatformConfig) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let data_dir = config.data_dir.clone();
    let log_format = config.log_format;
    let platform = Platform::open(config).await?;
    let addr = listener.local_addr()?;
    let url = format!("{}://{addr}", platform.scheme());
    // For `padconnect env --data-dir`: where this platform answers.
    crate::env::record(&data_dir, &url)?;
    tracing::info!(%url, portal = %format!("{url}/"), "padconnect platform listening on {url}");
    if log_format == LogFormat::Text {
        crate::output::err!("{}", banner(&url, &data_dir, platform.world()));
    }
    let served = platform.serve(listener, shutdown_signal()).await;
    crate::env::forget(&data_dir);
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// What a person starting `serve` needs first: where each surface
/// answers, where the portal is and who may sign in to it, and how to point
/// unchanged tools at it. Printed once, in text mode only: a log collector
/// reading JSON gets the `listening` event's fields instead.
fn banner(url: &str, data_dir: &std::path::Path, world: Option<&LoadedWorld>) -> String {
    let mut lines = Vec::new();
    match world {
        Some(world) => lines.push(format!(
            "padconnect platform ready at {url}, with the world of {}: {}.",
            world.path.display(),
            world.summary
        )),
        None => lines.push(format!(
            "padconnect platform ready at {url}, with no world file (pass --world FILE to declare tenants, apps and environments)."
        )),
    }
    let tenant = world
        .and_then(|w| w.tenants.first())
        .map_or_else(|| "{tenant}".to_owned(), ToString::to_string);
    let org = world
        .and_then(|w| w.orgs.first())
        .map_or_else(|| "{org}".to_owned(), |(_, org)| org.clone());
    let environment = world
        .and_then(|w| w.orgs.first())
        .map_or_else(|| "{environment}".to_owned(), |(id, _)| id.to_string());
    let rows = [
        ("Portal (Power Automate)", format!("{url}/")),
        (
            "Entra ID tokens",
            format!("{url}/{tenant}/oauth2/v2.0/token"),
        ),
        (
            "Power Platform API",
            format!(
                "{url}/environments/{environment}/connectivity/connectors/shared_uiflow/connections"
            ),
        ),
        ("Dataverse", format!("{url}/orgs/{org}/api/data/v9.2/")),
        ("BAP and ARM", format!("{url}/bap/...  {url}/arm/...")),
    ];
    for (what, at) in rows {
        lines.push(format!("  {what:<24} {at}"));
    }
    if let Some(world) = world {
        let users = match world.users.is_empty() {
            true => "nobody (the world file lists no [[tenants.users]])".to_owned(),
            false => world.users.join(", "),
        };
        lines.push(format!(
            "  Portal sign-in           {users}, with the password the world file gives"
        ));
        let apps: Vec<String> = world
            .apps
            .iter()
            .map(|(name, id)| format!("{name} ({id})"))
            .collect();
        if !apps.is_empty() {
            lines.push(format!("  Apps that get tokens     {}", apps.join(", ")));
        }
    }
    lines.push(format!(
        "  Unchanged tools          eval \"$(padconnect env --data-dir {})\" (the cloud's own host names)",
        data_dir.display()
    ));
    lines.push("Stop it with Ctrl-C; it finishes the requests in flight.".to_owned());
    lines.join("\n")
}

/// Whether logs on stderr may carry colour: only on a terminal, and not
/// when `NO_COLOR` is set to anything but the empty string (no-color.org).
fn colour_on_stderr() -> bool {
    use std::io::IsTerminal;
    let refused = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    std::io::stderr().is_terminal() && !refused
}

/// Logs go to stderr; `RUST_LOG` filters them by target and level
/// (`info`, `padconnect_platform=debug,warn`; default: info). `Targets`
/// rather than `EnvFilter`: no span or field filters, and no regex engine
/// in the build.
fn init_logging(format: LogFormat, colour: bool) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .finish()
            .with(filter)
            .init(),
        LogFormat::Text => builder.finish().with(filter).init(),
    }
    log_panics();
}

/// A panic is logged once, as an error line in the log's own format, with
/// the span it happened in (a request's id, method, host and path) and a
/// backtrace where `RUST_BACKTRACE` asks for one: the router answers a
/// panicking request 500 and serves on, so the default hook's bare stderr
/// print would be the only trace, outside the log.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let location = info.location().map(ToString::to_string).unwrap_or_default();
        let backtrace = std::backtrace::Backtrace::capture();
        tracing::error!(panic = %message, %location, %backtrace, "panicked");
    }));
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
