//! `padconnect connect`: the whole workflow, idempotent.

use crate::output::{err, out};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use padconnect_client::workflow::{self, Change, ConnectPlan, WhatIf};
use padconnect_client::{ClientError, DesktopFlowConnection, Org, RunOwnerCertificate, Secret};
use padconnect_core::{EnvironmentId, ParameterSet, ShareRole};
use serde_json::json;

use crate::output::{self, Format, OutputArg};
use crate::secret_input::SecretSource;
use crate::session::{Session, SessionArgs};

/// The connection reference a deployment settings file names by default.
pub const DEFAULT_CONNECTION_REFERENCE: &str = "new_sharedUiflow";

#[derive(Args)]
pub struct ConnectArgs {
    /// The environment id (GUID or Default-{GUID}).
    #[arg(long, value_name = "ID", env = "PADCONNECT_ENVIRONMENT")]
    environment: Option<String>,
    /// The machine group id (Monitor > Machines > Machine groups, in the URL).
    #[arg(long, value_name = "ID", env = "PADCONNECT_GROUP", conflicts_with_all = ["group_name", "machine"])]
    group: Option<String>,
    /// The machine group by name, looked up in Dataverse.
    #[arg(long, value_name = "NAME", conflicts_with = "machine")]
    group_name: Option<String>,
    /// A standalone machine by name: its hidden group, looked up in Dataverse.
    #[arg(long, value_name = "NAME")]
    machine: Option<String>,
    /// The Dataverse org for --group-name, --machine and --grant: NAME of
    /// NAME.crm.dynamics.com, or the org's URL for another region
    /// (https://NAME.crm4.dynamics.com); found from the environment through
    /// BAP when not given.
    #[arg(long, value_name = "NAME|URL")]
    org: Option<Org>,
    /// The Windows account that opens sessions: DOMAIN\user, .\user,
    /// MACHINE\user, user@domain or AzureAD\user@domain.
    #[arg(long, value_name = "ACCOUNT", env = "PADCONNECT_USERNAME")]
    username: Option<String>,
    /// Read the Windows password from this file (else PADCONNECT_MACHINE_PASSWORD).
    #[arg(long, value_name = "FILE", conflicts_with = "password_stdin")]
    password_file: Option<PathBuf>,
    /// Read the Windows password from stdin (else PADCONNECT_MACHINE_PASSWORD).
    #[arg(long)]
    password_stdin: bool,
    /// The connection id (a GUID); by default derived from the environment,
    /// group, account and parameter set, so a rerun finds the same connection.
    #[arg(long, value_name = "GUID")]
    connection_id: Option<String>,
    /// The connection's display name (by default the service names it).
    #[arg(long, value_name = "NAME")]
    display_name: Option<String>,
    /// A Key Vault or CyberArk credential's id (Data > Tables > Credential),
    /// shared with the service principal first; --username and the password
    /// are then @environmentVariables("NAME") references, or none.
    #[arg(long, value_name = "GUID")]
    credential_id: Option<uuid::Uuid>,
    /// azureRelay (sessions open with the Windows account) or
    /// azureRelayRunOwner (flows run as an app with a certificate); any case.
    #[arg(long, value_name = "SET", default_value = "azureRelay", ignore_case = true, value_parser = output::one_of(&["azureRelay", "azureRelayRunOwner"]))]
    parameter_set: String,
    /// azureRelayRunOwner: the run owner's certificate and private key, as a
    /// PFX file; its password from PADCONNECT_PFX_PASSWORD or --run-owner-pfx-password-file.
    #[arg(long, value_name = "FILE")]
    run_owner_pfx: Option<PathBuf>,
    /// azureRelayRunOwner: read the PFX password from this file (else
    /// PADCONNECT_PFX_PASSWORD; neither: the PFX has none, "Can be left empty").
    #[arg(long, value_name = "FILE")]
    run_owner_pfx_password_file: Option<PathBuf>,
    /// azureRelayRunOwner: the app flows run as (the caller's own by default).
    #[arg(long, value_name = "CLIENT_ID")]
    run_owner_client_id: Option<String>,
    /// When the service principal has no access to the group, give its
    /// application user the User role (GrantAccess); works when the caller
    /// may share the group (its owner, a Co-owner or an administrator).
    #[arg(long)]
    grant: bool,
    /// Rewrite the connection even when it already has these settings (to change its password).
    #[arg(long)]
    force: bool,
    /// What if: sign in, read the connection, say whether it would be
    /// created, updated or left unchanged, print the request (secrets as
    /// ***) and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// How long to wait for a new environment, which answers 404
    /// ServiceToServiceEnvironmentNotFound until it is ready (asked every 15 s,
    /// or a tenth of the wait if shorter): 0 for no wait, 90s, 10m.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = wait_duration)]
    wait_for_environment: std::time::Duration,
    /// The connection reference named in the deployment settings printed.
    #[arg(long, value_name = "LOGICAL_NAME", default_value = DEFAULT_CONNECTION_REFERENCE)]
    connection_reference: String,
    #[command(flatten)]
    output: OutputArg,
    #[command(flatten)]
    session: SessionArgs,
}

/// `0`, or seconds, or a number with s, m, h or d.
fn wait_duration(text: &str) -> Result<std::time::Duration, String> {
    let secs = match text.trim() {
        "0" => Some(0),
        other => padconnect_platform::config::parse_duration_secs(other),
    };
    secs.map(std::time::Duration::from_secs).ok_or_else(|| {
        format!("'{text}' is not a duration: write 0, seconds, or a number with s, m, h or d (10m)")
    })
}

/// Each retry is said on stderr, so a CI log shows why the job waits.
fn retry(environment_wait: std::time::Duration) -> padconnect_client::Retry {
    let poll = (environment_wait / 10).clamp(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(15),
    );
    padconnect_client::Retry {
        environment_wait,
        environment_poll: poll,
        report: Some(std::sync::Arc::new(|line: &str| err!("  retry: {line}"))),
        ..padconnect_client::Retry::default()
    }
}

pub fn run(args: ConnectArgs) -> anyhow::Result<()> {
    check_before_signing_in(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let session = Session::open(&args.session).await?;
        let result = connect(&args, &session).await;
        session.close().await;
        result
    })
}

async fn connect(args: &ConnectArgs, session: &Session) -> anyhow::Result<()> {
    let embedded = session.identity.as_ref();
    let environment = session.environment(args.environment.as_deref())?;
    let group_id = match (
        &args.group,
        args.group_name.as_ref().or(args.machine.as_ref()),
        embedded,
    ) {
        (Some(group), _, _) => group.clone(),
        (None, Some(name), _) => group_by_name(session, args, &environment, name).await?,
        (None, None, Some(identity)) => identity.group_id.clone(),
        (None, None, None) => {
            bail!("no machine group: pass --group ID, --group-name NAME or --machine NAME")
        }
    };
    uuid::Uuid::try_parse(&group_id)
        .with_context(|| format!("'{group_id}' is not a machine group id (a GUID)"))?;
    let username = match (&args.username, embedded) {
        (Some(user), _) => user.clone(),
        (None, Some(identity)) => identity.windows_account.clone(),
        (None, None) => bail!("no Windows account: pass --username 'DOMAIN\\user'"),
    };
    let connection_id = args.connection_id.as_deref().map(str::parse).transpose()?;
    let parameter_set =
        ParameterSet::parse(&args.parameter_set).context("unknown parameter set")?;
    let apply_password = embedded.is_none() || password_source(args).is_given();
    let password = match embedded {
        Some(identity) if !apply_password => Secret::new(identity.windows_password.clone()),
        _ => password_source(args).read()?,
    };
    let run_owner = run_owner(args, parameter_set, &session.client_id)?;
    if let Some(org) = session.org_if_known(args.org.as_ref()) {
        ensure_access(session, &org, &group_id, args.grant).await?;
    } else if args.grant {
        let org = session.org(None, Some(&environment)).await?;
        ensure_access(session, &org, &group_id, true).await?;
    }
    let plan = ConnectPlan {
        tenant: session.tenant.clone(),
        client_id: session.client_id.clone(),
        credential: session.credential.clone(),
        environment,
        connection_id,
        connection: DesktopFlowConnection {
            display_name: args.display_name.clone(),
            parameter_set,
            username,
            password,
            group_id,
            credential_id: args.credential_id,
            run_owner,
        },
        force: args.force,
        apply_password,
        retry: retry(args.wait_for_environment),
    };
    let (http, target, tokens) = (&session.http, &session.target, &session.tokens);
    let progress = &mut output::progress();
    if args.dry_run {
        let what_if = workflow::what_if(http, target, tokens, &plan, progress).await?;
        print_what_if(&what_if, args.output.format);
        return Ok(());
    }
    let outcome = workflow::connect(http, target, tokens, &plan, progress).await?;
    let settings = workflow::deployment_settings(&args.connection_reference, &outcome.name);
    match args.output.format {
        Format::Json => output::json(&json!({
            "connectionId": outcome.name,
            "change": change_name(outcome.change),
            "status": outcome.status,
            "statusError": outcome.status_error,
            "connection": outcome.connection,
            "deploymentSettings": settings,
        })),
        Format::Table => {
            out!(
                "Connection {} {}.",
                outcome.name,
                change_sentence(outcome.change)
            );
            output::table(&output::connection_rows(&outcome.connection));
            out!("\nDeployment settings:");
            output::json(&settings);
        }
    }
    if outcome.status != "Connected" {
        return Err(crate::exit::not_connected(format!(
            "the connection was written but its status is {} ({})",
            outcome.status,
            outcome.status_error.unwrap_or_default()
        )));
    }
    Ok(())
}

/// What is wrong as written is said before anything is signed in to.
fn check_before_signing_in(args: &ConnectArgs) -> anyhow::Result<()> {
    if let Some(group) = args.group.as_deref()
        && uuid::Uuid::try_parse(group).is_err()
    {
        return Err(crate::exit::usage(format!(
            "--group takes a machine group's id (a GUID); '{group}' is not one. To name the group, pass --group-name '{group}'"
        )));
    }
    if let Some(username) = &args.username {
        warn_if_backslash_lost(username);
    }
    Ok(())
}

/// `CONTOSOsvc-bot` is what a shell leaves of an unquoted `CONTOSO\svc-bot`:
/// a run of capitals glued to a lower-case name, with no `\` or `@`. The
/// service would take it as a local account of that name, so the
/// connection would fail at its first run; a warning says so now.
pub fn warn_if_backslash_lost(username: &str) {
    if let Some((domain, user)) = lost_backslash(username) {
        err!(
            "padconnect: warning: '{username}' has no backslash; if you meant '{domain}\\{user}', the shell removed it: quote the name ('{domain}\\{user}')"
        );
    }
}

fn lost_backslash(username: &str) -> Option<(&str, &str)> {
    if username.contains(['\\', '@', '/']) {
        return None;
    }
    let split = username.find(|c: char| c.is_ascii_lowercase())?;
    let (domain, user) = username.split_at(split);
    // Three capitals at least: `JDoe` is a name, `CONTOSOsvc` a lost backslash.
    let looks_like_domain = domain.len() >= 3
        && domain
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
    (looks_like_domain && domain.starts_with(|c: char| c.is_ascii_uppercase()))
        .then_some((domain, user))
}

/// Finds a machine group (or a standalone machine's) by name, through Dataverse.
async fn group_by_name(
    session: &Session,
    args: &ConnectArgs,
    environment: &EnvironmentId,
    name: &str,
) -> anyhow::Result<String> {
    let org = session.org(args.org.as_ref(), Some(environment)).await?;
    let dataverse = session.dataverse(&org).await?;
    let Some(group) = dataverse.find_group(name).await? else {
        let visible = visible_names(&dataverse.machine_groups().await?);
        let seen = match visible.is_empty() {
            true => "it sees none: a group must be shared with its application user (Machines > Share) before it shows".to_owned(),
            false => format!("it sees: {}", visible.join(", ")),
        };
        return Err(crate::exit::not_found(format!(
            "no machine group or machine named '{name}' is visible to this identity; {seen}"
        )));
    };
    let id = group["flowmachinegroupid"]
        .as_str()
        .context("a group without an id")?;
    Ok(id.to_owned())
}

/// The names of the groups (and standalone machines) a caller sees, each
/// once, the first twenty: enough to spot a typo.
fn visible_names(groups: &[serde_json::Value]) -> Vec<String> {
    let mut names: Vec<String> = groups
        .iter()
        .filter_map(|g| g["name"].as_str())
        .map(|name| format!("'{name}'"))
        .collect();
    names.dedup();
    if names.len() > 20 {
        let more = names.len() - 20;
        names.truncate(20);
        names.push(format!("and {more} more (padconnect group list)"));
    }
    names
}

/// The run owner of an azureRelayRunOwner connection: its PFX and password.
fn run_owner(
    args: &ConnectArgs,
    set: ParameterSet,
    caller: &str,
) -> anyhow::Result<Option<RunOwnerCertificate>> {
    match (set, &args.run_owner_pfx) {
        (ParameterSet::AzureRelay, None) => Ok(None),
        (ParameterSet::AzureRelay, Some(_)) => {
            bail!("--run-owner-pfx is for --parameter-set azureRelayRunOwner")
        }
        (ParameterSet::AzureRelayRunOwner, None) => bail!(
            "azureRelayRunOwner needs the run owner's certificate: pass --run-owner-pfx FILE (a PFX with its private key)"
        ),
        (ParameterSet::AzureRelayRunOwner, Some(path)) => {
            let pfx = std::fs::read(path)
                .with_context(|| format!("cannot read the PFX file {}", path.display()))?;
            let password = SecretSource {
                what: "the PFX password",
                file: args.run_owner_pfx_password_file.as_deref(),
                stdin: false,
                env: "PADCONNECT_PFX_PASSWORD",
                hint: "set PADCONNECT_PFX_PASSWORD or pass --run-owner-pfx-password-file",
            }
            // The run-owner document on the PFX password: "Can be left
            // empty if null"; a PFX without one needs neither.
            .read_or_empty()?;
            Ok(Some(RunOwnerCertificate {
                client_id: args
                    .run_owner_client_id
                    .clone()
                    .unwrap_or_else(|| caller.to_owned()),
                pfx,
                password,
            }))
        }
    }
}

/// The seed's first step, checked: the service principal has an application
/// user, and owns the group or was given at least User on it. Administrators
/// see every group, yet a connection still needs that share; with `grant`,
/// a principal that may share the group gives itself the User role.
async fn ensure_access(
    session: &Session,
    org: &Org,
    group_id: &str,
    grant: bool,
) -> anyhow::Result<()> {
    let dataverse = session.dataverse(org).await?;
    let me = dataverse.who_am_i().await.map_err(|e| {
        anyhow::anyhow!("{e}\nhint: add app {} as an application user of the environment (Power Platform admin center > Environment > Settings > Application users)", session.client_id)
    })?;
    let share_hint =
        "share the group with the service principal's application user as User (Machines > Share)";
    let group = match dataverse.find_group(group_id).await {
        Ok(Some(group)) => group,
        Ok(None) => {
            return Err(crate::exit::not_found(format!(
                "machine group {group_id} does not exist in org {org}"
            )));
        }
        Err(ClientError::Service { code, message, .. }) if code == "0x80048306" => {
            bail!(
                "this service principal cannot see machine group {group_id} ({code}: {message}): {share_hint}"
            )
        }
        Err(other) => return Err(other.into()),
    };
    if group["_ownerid_value"].as_str() == Some(me.as_str()) {
        return Ok(());
    }
    let needed = ShareRole::User.rights();
    let shared = dataverse.shared_access(group_id).await?;
    if shared
        .iter()
        .any(|(principal, rights)| *principal == me.to_ascii_lowercase() && rights.contains(needed))
    {
        return Ok(());
    }
    if !grant {
        // Against the cloud, security roles and team shares grant access that
        // RetrieveSharedPrincipalsAndAccess does not list (powerapps-docs
        // `security-sharing-assigning.md`: access is the union of ownership,
        // roles, direct and team shares), so missing evidence is a warning
        // and the service decides.
        err!(
            "warning: Dataverse shows no User access to machine group {group_id} for this service principal (a security role or a team may still give it); trying anyway. If the service refuses: {share_hint}, or rerun with --grant if it may share the group"
        );
        return Ok(());
    }
    dataverse
        .share_group(group_id, &me, ShareRole::User)
        .await
        .with_context(|| {
            format!("--grant could not share machine group {group_id}: {share_hint}")
        })?;
    output::progress()(&format!(
        "Gave this service principal the User role on machine group {group_id}"
    ));
    Ok(())
}

/// From a file, stdin or PADCONNECT_MACHINE_PASSWORD; never an argument.
fn password_source(args: &ConnectArgs) -> SecretSource<'_> {
    SecretSource {
        what: "the Windows password",
        file: args.password_file.as_deref(),
        stdin: args.password_stdin,
        env: "PADCONNECT_MACHINE_PASSWORD",
        hint: "set PADCONNECT_MACHINE_PASSWORD, or pass --password-file or --password-stdin",
    }
}

fn print_what_if(what_if: &WhatIf, format: Format) {
    // The what-if's words are the imperative of the change's name.
    let action = match what_if.change {
        Change::Created => "create",
        Change::Updated => "update",
        Change::PasswordApplied => "apply-password",
        Change::Unchanged => "unchanged",
    };
    if format == Format::Json {
        return output::json(&json!({
            "connectionId": what_if.connection_id.as_given(),
            "action": action,
            "request": what_if.request,
        }));
    }
    let id = what_if.connection_id;
    out!(
        "What if (nothing was written): connection {id} {}.",
        match what_if.change {
            Change::Created => "would be created",
            Change::Updated => "would be updated: its settings differ",
            Change::PasswordApplied => {
                "has these settings; the password given would be applied again"
            }
            Change::Unchanged => "already has these settings: nothing would change",
        }
    );
    if let Some(request) = &what_if.request {
        out!(
            "\n{} {}",
            request["method"].as_str().unwrap_or_default(),
            request["url"].as_str().unwrap_or_default()
        );
        output::json(&request["body"]);
    }
}

pub fn change_name(change: Change) -> &'static str {
    match change {
        Change::Created => "created",
        Change::Updated => "updated",
        Change::PasswordApplied => "password-applied",
        Change::Unchanged => "unchanged",
    }
}

fn change_sentence(change: Change) -> &'static str {
    match change {
        Change::Created => "created",
        Change::Updated => "updated",
        Change::PasswordApplied => {
            "already has these settings; the password given was applied (the service shows none to compare)"
        }
        Change::Unchanged => {
            "already exists with these settings: nothing changed (--force rewrites it)"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::lost_backslash;

    #[test]
    fn a_domain_glued_to_a_name_is_noticed_and_plain_names_are_not() {
        assert_eq!(
            lost_backslash("CONTOSOsvc-bot"),
            Some(("CONTOSO", "svc-bot"))
        );
        assert_eq!(lost_backslash("FAB-01admin"), Some(("FAB-01", "admin")));
        for fine in [
            "CONTOSO\\svc-bot",
            "svc@contoso.com",
            "JDoe",
            "svc-bot",
            "ADMIN",
            ".\\bot",
        ] {
            assert_eq!(lost_backslash(fine), None, "{fine}");
        }
    }
}
