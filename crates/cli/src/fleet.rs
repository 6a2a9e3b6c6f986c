//! `padconnect rotate` and `padconnect report`: every desktop flow
//! connection at once, across environments. The work is
//! `padconnect_client::fleet`'s; this file reads the arguments, checks
//! them before anything is written, and prints.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use padconnect_client::fleet::{self, Drift, Expected, FleetConnection, Rotation, Skip};
use padconnect_client::{ConnectionsClient, Secret};
use padconnect_core::uiflow::{MAX_PASSWORD_CHARS, is_windows_account};
use padconnect_core::{ConnectionId, EnvironmentId};

use crate::exit::{Exit, Failure, usage};
use crate::output::{self, err, out};
use crate::secret_input::SecretSource;
use crate::session::{Session, SessionArgs};

#[derive(Args)]
pub struct Environments {
    /// An environment to work in; repeat it for several. Without it, every
    /// environment the identity can see (as BAP lists them).
    #[arg(long = "environment", value_name = "ID")]
    ids: Vec<String>,
    #[command(flatten)]
    session: SessionArgs,
}

#[derive(Args)]
pub struct RotateArgs {
    /// The Windows account whose password changed (DOMAIN\user,
    /// user@domain, .\user, ...): every connection that signs in as it.
    #[arg(long, value_name = "ACCOUNT")]
    username: String,
    /// Read the new password from this file (else PADCONNECT_MACHINE_PASSWORD).
    #[arg(long, value_name = "FILE", conflicts_with = "password_stdin")]
    password_file: Option<PathBuf>,
    /// Read the new password from stdin.
    #[arg(long)]
    password_stdin: bool,
    /// List what would change; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Rotate only this connection (its id); repeat it for several.
    #[arg(long = "connection", value_name = "ID")]
    only: Vec<String>,
    /// Leave this connection alone (its id); repeat it for several.
    #[arg(long = "exclude", value_name = "ID")]
    exclude: Vec<String>,
    #[command(flatten)]
    output: output::OutputArg,
    #[command(flatten)]
    environments: Environments,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    /// A table to paste into a pipeline's job summary.
    Markdown,
}

#[derive(Args)]
pub struct ReportArgs {
    /// How to print.
    #[arg(long, value_enum, ignore_case = true, default_value_t = ReportFormat::Table)]
    output: ReportFormat,
    /// The connections that should exist (a JSON array of {environment, id,
    /// and optionally displayName, username, target, ownerId}): also
    /// report what is missing, extra or different.
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    #[command(flatten)]
    environments: Environments,
}

/// Every connection of each environment, read before anything is written:
/// an environment that does not exist, or that the identity cannot see,
/// stops the command here.
async fn fleet_of(
    session: &Session,
    ids: &[String],
) -> anyhow::Result<(ConnectionsClient, Vec<EnvironmentId>, Vec<FleetConnection>)> {
    let environments: Vec<EnvironmentId> = match ids {
        [] => session.visible_environments().await?,
        ids => ids
            .iter()
            .map(|id| session.environment(Some(id)))
            .collect::<anyhow::Result<_>>()?,
    };
    let client = ConnectionsClient::new(
        session.http.clone(),
        session.target.clone(),
        session.api_token().await?,
    );
    let mut all = Vec::new();
    for environment in &environments {
        let found = fleet::connections(&client, environment)
            .await
            .map_err(|e| {
                anyhow::Error::new(e).context(format!(
                    "listing the connections of environment {environment}"
                ))
            })?;
        all.extend(found);
    }
    Ok((client, environments, all))
}

fn in_session<T>(
    args: &SessionArgs,
    work: impl AsyncFnOnce(&Session) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let session = Session::open(args).await?;
        let result = work(&session).await;
        session.close().await;
        result
    })
}

/// `padconnect rotate`.
pub fn rotate(args: RotateArgs) -> anyhow::Result<()> {
    let account = args.username.trim();
    if !is_windows_account(account) || account.starts_with("@environmentVariables(") {
        return Err(usage(format!(
            "'{account}' is not a Windows account the service takes: write user, .\\user, MACHINE\\user, DOMAIN\\user, user@domain or AzureAD\\user@domain"
        )));
    }
    crate::connect::warn_if_backslash_lost(account);
    let only = connection_ids("--connection", &args.only)?;
    let exclude = connection_ids("--exclude", &args.exclude)?;
    let password = match args.dry_run {
        true => Secret::new(""),
        false => new_password(&args)?,
    };
    in_session(&args.environments.session, async |session| {
        let (client, environments, all) = fleet_of(session, &args.environments.ids).await?;
        let caller = match session.api_token().await {
            Ok(token) => padconnect_client::token_object_id(&token.current()),
            Err(_) => None,
        };
        let holders = chosen(all, account, &only, &exclude)?;
        if holders.is_empty() {
            return Err(crate::exit::not_found(format!(
                "no connection in {} environment(s) signs in as '{account}' (or none this identity may see)",
                environments.len()
            )));
        }
        let mut targets = Vec::new();
        let mut skipped = Vec::new();
        for connection in holders {
            match fleet::why_not_rotated(&connection, caller.as_deref()) {
                None => targets.push(connection),
                Some(skip) => skipped.push((connection, skip)),
            }
        }
        if args.dry_run {
            print_plan(&targets, &skipped, args.output.format);
            return Ok(());
        }
        let progress = |c: &FleetConnection| {
            err!(
                "padconnect: {} in {}: new password written",
                c.id,
                c.environment
            )
        };
        let rotation = fleet::rotate(&client, account, targets, &password, &progress).await;
        skipped.extend(rotation.skipped.iter().cloned());
        print_rotation(&rotation, &skipped, args.output.format);
        rotation_outcome(&rotation, &skipped)
    })
}

/// Parses each id a flag was given, so a typo is refused before anything is read.
fn connection_ids(flag: &str, ids: &[String]) -> anyhow::Result<Vec<ConnectionId>> {
    ids.iter()
        .map(|id| id.parse().map_err(|e| usage(format!("{flag} '{id}': {e}"))))
        .collect()
}

/// The connections that sign in as `account`, narrowed by `--connection`
/// and `--exclude`. A `--connection` that is not among them is an error:
/// the caller meant a connection this rotation would not touch.
fn chosen(
    all: Vec<FleetConnection>,
    account: &str,
    only: &[ConnectionId],
    exclude: &[ConnectionId],
) -> anyhow::Result<Vec<FleetConnection>> {
    let id_of = |c: &FleetConnection| c.id.parse::<ConnectionId>().ok();
    let holders: Vec<FleetConnection> = all
        .into_iter()
        .filter(|c| c.holds_account(account))
        .collect();
    if let Some(absent) = only
        .iter()
        .find(|id| !holders.iter().any(|c| id_of(c).as_ref() == Some(*id)))
    {
        return Err(crate::exit::not_found(format!(
            "--connection {absent}: no connection with that id signs in as '{account}' in the environments listed"
        )));
    }
    Ok(holders
        .into_iter()
        .filter(|c| {
            let id = id_of(c);
            (only.is_empty() || only.iter().any(|o| id.as_ref() == Some(o)))
                && !exclude.iter().any(|x| id.as_ref() == Some(x))
        })
        .collect())
}

/// The exit of a rotation: the stop's (refused 1, unreachable 5), else 6
/// when a connection still holds the old password (`--exclude` it to
/// leave it alone on purpose), else success.
fn rotation_outcome(
    rotation: &Rotation,
    skipped: &[(FleetConnection, Skip)],
) -> anyhow::Result<()> {
    let old = skipped.iter().filter(|(_, s)| s.holds_old_password).count();
    if let Some(stop) = &rotation.stopped {
        return Err(Failure {
            exit: match stop.refused {
                true => Exit::Refused,
                false => Exit::Network,
            },
            message: format!(
                "stopped at connection {} in {}: {}. {} connection(s) hold the new password, {} still the old one; fix the cause, then run rotate again (it writes the done ones again, which changes nothing, and goes on)",
                stop.connection.id,
                stop.connection.environment,
                stop.why,
                rotation.updated.len(),
                rotation.pending.len() + 1 + old
            ),
        }
        .into());
    }
    if old > 0 {
        return Err(crate::exit::not_connected(format!(
            "{} connection(s) hold the new password; {old} skipped one(s) still hold the old password and will fail at their next run: fix each as its line says, or --exclude it",
            rotation.updated.len()
        )));
    }
    Ok(())
}

/// The new password, checked as the service checks it before anything is sent.
fn new_password(args: &RotateArgs) -> anyhow::Result<Secret> {
    let password = SecretSource {
        what: "the new Windows password",
        file: args.password_file.as_deref(),
        stdin: args.password_stdin,
        env: "PADCONNECT_MACHINE_PASSWORD",
        hint: "set PADCONNECT_MACHINE_PASSWORD, or pass --password-file or --password-stdin",
    }
    .read()
    .map_err(|e| usage(e.to_string()))?;
    let length = password.expose().chars().count();
    if length > MAX_PASSWORD_CHARS {
        return Err(usage(format!(
            "the new password has {length} characters; a Windows password has at most {MAX_PASSWORD_CHARS}"
        )));
    }
    if password.expose().chars().any(char::is_control) {
        return Err(usage(
            "the new password holds a control character (a line break inside a password file?): a Windows password cannot be typed with one".to_owned(),
        ));
    }
    Ok(password)
}

fn print_plan(
    targets: &[FleetConnection],
    skipped: &[(FleetConnection, Skip)],
    format: output::Format,
) {
    match format {
        output::Format::Json => output::json(&serde_json::json!({
            "wouldUpdate": targets,
            "skipped": skipped_json(skipped),
        })),
        output::Format::Table => {
            for c in targets {
                out!(
                    "would update {} in {} ({}, {})",
                    c.id,
                    c.environment,
                    c.display_name,
                    c.status
                );
            }
            print_skipped(skipped);
            out!(
                "dry run: {} connection(s) would get the new password; nothing was written",
                targets.len()
            );
        }
    }
}

fn print_rotation(
    rotation: &Rotation,
    skipped: &[(FleetConnection, Skip)],
    format: output::Format,
) {
    match format {
        output::Format::Json => output::json(&serde_json::json!({
            "updated": rotation.updated,
            "stopped": rotation.stopped,
            "pending": rotation.pending,
            "skipped": skipped_json(skipped),
        })),
        output::Format::Table => {
            for c in &rotation.updated {
                out!(
                    "updated {} in {}: holds the new password",
                    c.id,
                    c.environment
                );
            }
            if let Some(stop) = &rotation.stopped {
                out!(
                    "{} {} in {}: {}; it holds the old password",
                    if stop.refused { "REFUSED" } else { "UNREACHED" },
                    stop.connection.id,
                    stop.connection.environment,
                    stop.why
                );
            }
            for c in &rotation.pending {
                out!(
                    "not reached {} in {}: holds the old password",
                    c.id,
                    c.environment
                );
            }
            print_skipped(skipped);
        }
    }
}

fn skipped_json(skipped: &[(FleetConnection, Skip)]) -> Vec<serde_json::Value> {
    skipped
        .iter()
        .map(|(c, skip)| {
            serde_json::json!({"connection": c, "why": skip.why, "holdsOldPassword": skip.holds_old_password})
        })
        .collect()
}

fn print_skipped(skipped: &[(FleetConnection, Skip)]) {
    for (c, skip) in skipped {
        out!("skipped {} in {}: {}", c.id, c.environment, skip.why);
    }
}

/// `padconnect report`.
pub fn report(args: ReportArgs) -> anyhow::Result<()> {
    let expected = args.expect.as_deref().map(read_expected).transpose()?;
    let (environments, all) = in_session(&args.environments.session, async |session| {
        let (_, environments, all) = fleet_of(session, &args.environments.ids).await?;
        Ok((environments, all))
    })?;
    if let Some(expected) = &expected {
        expected_in(expected, &environments)?;
    }
    let drift = expected.as_deref().map(|e| fleet::drift(e, &all));
    let summary = summary(&all, environments.len());
    match args.output {
        ReportFormat::Json => output::json(&serde_json::json!({
            "summary": summary,
            "connections": all,
            "drift": drift,
        })),
        ReportFormat::Table => print_table(&all, &summary, drift.as_ref()),
        ReportFormat::Markdown => out!("{}", markdown(&all, &summary, drift.as_ref())),
    }
    let broken = all.iter().filter(|c| !c.connected()).count();
    if broken > 0 {
        return Err(crate::exit::not_connected(format!(
            "{broken} connection(s) are not Connected"
        )));
    }
    if drift.as_ref().is_some_and(|d| !d.is_empty()) {
        return Err(Failure {
            exit: Exit::NotReady,
            message: "the connections differ from what --expect says should exist".to_owned(),
        }
        .into());
    }
    Ok(())
}

fn read_expected(path: &std::path::Path) -> anyhow::Result<Vec<Expected>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
    let expected: Vec<Expected> = serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "{}: {e} (expected a JSON array of {{\"environment\", \"id\", and optionally \"displayName\", \"username\", \"target\", \"ownerId\"}})",
            path.display()
        ))
    })?;
    for (n, entry) in expected.iter().enumerate() {
        let wrong = |what: &str, e: &dyn std::fmt::Display| {
            usage(format!("{} entry {n}: {what}: {e}", path.display()))
        };
        entry
            .environment
            .parse::<EnvironmentId>()
            .map_err(|e| wrong("environment", &e))?;
        entry
            .id
            .parse::<ConnectionId>()
            .map_err(|e| wrong("id", &e))?;
    }
    Ok(expected)
}

/// An `--expect` entry of an environment the report does not list would
/// read as missing: name the flag that lists it instead.
fn expected_in(expected: &[Expected], environments: &[EnvironmentId]) -> anyhow::Result<()> {
    for entry in expected {
        let environment: EnvironmentId = entry.environment.parse()?;
        if !environments.contains(&environment) {
            return Err(usage(format!(
                "--expect names connection {} of environment {environment}, which this report does not list: add --environment {environment}",
                entry.id
            )));
        }
    }
    Ok(())
}

/// "12 connections in 3 environments: 10 Connected, 2 not (MachineGroupNotFound 1, ...)".
fn summary(all: &[FleetConnection], environments: usize) -> String {
    let mut codes = std::collections::BTreeMap::<&str, usize>::new();
    for c in all.iter().filter(|c| !c.connected()) {
        *codes
            .entry(c.error_code.as_deref().unwrap_or(&c.status))
            .or_default() += 1;
    }
    let connected = all.len() - codes.values().sum::<usize>();
    let broken = match codes.is_empty() {
        true => String::new(),
        false => format!(
            ", {} not ({})",
            all.len() - connected,
            codes
                .iter()
                .map(|(code, n)| format!("{code} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "{} connection(s) in {environments} environment(s): {connected} Connected{broken}",
        all.len()
    )
}

fn status_cell(c: &FleetConnection) -> String {
    match (&c.error_code, &c.error_message) {
        (Some(code), Some(message)) => format!("{} ({code}: {message})", c.status),
        (Some(code), None) => format!("{} ({code})", c.status),
        _ => c.status.clone(),
    }
}

fn cells(c: &FleetConnection) -> [String; 9] {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    [
        c.environment.clone(),
        c.id.clone(),
        c.display_name.clone(),
        format!("{} ({})", c.owner, c.owner_type),
        status_cell(c),
        c.username.clone(),
        c.target.clone(),
        or_dash(&c.run_owner),
        or_dash(&c.credential),
    ]
}

const HEADER: [&str; 9] = [
    "ENVIRONMENT",
    "CONNECTION",
    "NAME",
    "OWNER",
    "STATUS",
    "ACCOUNT",
    "TARGET",
    "RUN OWNER",
    "CREDENTIAL",
];

fn print_table(all: &[FleetConnection], summary: &str, drift: Option<&Drift>) {
    let rows: Vec<[String; 9]> = all.iter().map(cells).collect();
    output::columns(&HEADER, &rows);
    out!("");
    out!("{summary}");
    if let Some(drift) = drift {
        for (what, entries) in [
            ("missing", &drift.missing),
            ("extra", &drift.extra),
            ("different", &drift.different),
        ] {
            for entry in entries {
                out!("{what}: {entry}");
            }
        }
    }
}

/// `text` as literal text in a Markdown table cell: a control character
/// (a line break would end the row) becomes a space, and each character
/// Markdown or HTML would read as markup is backslash-escaped (CommonMark
/// lets any ASCII punctuation be), so a display name such as
/// `<img src=x>` or `a|b` shows as written, in its cell.
fn markdown_text(text: &str) -> String {
    const MARKUP: &str = "\\`*_[]<>&|~#!";
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            escaped.push(' ');
            continue;
        }
        if MARKUP.contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The report as GitHub or Azure DevOps renders a job summary.
fn markdown(all: &[FleetConnection], summary: &str, drift: Option<&Drift>) -> String {
    let escape = markdown_text;
    let titles: Vec<String> = HEADER
        .iter()
        .map(|h| {
            let mut title = h.to_lowercase();
            if let Some(first) = title.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            title
        })
        .collect();
    let mut text = format!(
        "### Desktop flow connections\n\n{}\n\n| {} |\n|{}\n",
        escape(summary),
        titles.join(" | "),
        "---|".repeat(HEADER.len())
    );
    for c in all {
        let row: Vec<String> = cells(c).iter().map(|cell| escape(cell)).collect();
        text.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    if let Some(drift) = drift.filter(|d| !d.is_empty()) {
        text.push_str("\n#### Drift\n\n");
        for (what, entries) in [
            ("Missing", &drift.missing),
            ("Extra", &drift.extra),
            ("Different", &drift.different),
        ] {
            for entry in entries {
                text.push_str(&format!("- {what}: {}\n", escape(entry)));
            }
        }
    }
    text
}
