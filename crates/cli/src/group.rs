//! `padconnect group list|show` and `padconnect share`: the seed's first
//! steps, through the Dataverse Web API.

use crate::output::out;
use padconnect_core::GroupType;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use padconnect_client::DataverseClient;
use padconnect_core::ShareRole;
use serde_json::{Value, json};

use crate::output::{self, Format};
use crate::secret_input::SecretSource;
use crate::session::{Session, SessionArgs};
use crate::target::TargetArgs;

#[derive(Subcommand)]
pub enum GroupCommand {
    /// The machine groups the caller may see (standalone machines' hidden groups included).
    List(TargetArgs),
    /// One group, by id, name, or a standalone machine's name: its id is what
    /// `connect --group` takes.
    Show {
        /// A group id or name, or a machine name.
        name_or_id: String,
        #[command(flatten)]
        args: TargetArgs,
    },
}

#[derive(Args)]
pub struct ShareArgs {
    /// The machine group id.
    #[arg(long, value_name = "ID")]
    group: String,
    /// Share with this app's application user.
    #[arg(
        long,
        value_name = "CLIENT_ID",
        conflicts_with = "user",
        required_unless_present = "user"
    )]
    app: Option<String>,
    /// Share with this person.
    #[arg(long, value_name = "UPN")]
    user: Option<String>,
    /// The Share panel's role: user or co-owner (any case).
    #[arg(long, value_name = "ROLE", default_value = "user")]
    role: ShareRole,
    #[command(flatten)]
    args: TargetArgs,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

async fn with_session<T>(
    args: &SessionArgs,
    work: impl AsyncFnOnce(&Session) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let session = Session::open(args).await?;
    let result = work(&session).await;
    session.close().await;
    result
}

fn group_rows(group: &Value) -> Vec<(&'static str, String)> {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let kind = if group["flowgrouptype"] == GroupType::Default.code() {
        "standalone machine (hidden group)"
    } else {
        "machine group"
    };
    vec![
        ("Group id", text(&group["flowmachinegroupid"])),
        ("Name", text(&group["name"])),
        ("Kind", kind.to_owned()),
    ]
}

pub fn run_group(command: GroupCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        match command {
            GroupCommand::List(args) => {
                with_session(&args.session, async |session| {
                    let groups = args.dataverse(session).await?.machine_groups().await?;
                    match args.output.format {
                        Format::Json => output::json(&json!({ "value": groups })),
                        Format::Table => {
                            for group in &groups {
                                let rows = group_rows(group);
                                out!("{}  {}  ({})", rows[0].1, rows[1].1, rows[2].1);
                            }
                        }
                    }
                    Ok(())
                })
                .await
            }
            GroupCommand::Show { name_or_id, args } => {
                with_session(&args.session, async |session| {
                    let dataverse = args.dataverse(session).await?;
                    let group = dataverse
                        .find_group(&name_or_id)
                        .await?
                        .with_context(|| format!("no machine group or machine named '{name_or_id}' that this principal may see"))?;
                    match args.output.format {
                        Format::Json => output::json(&group),
                        Format::Table => output::table(&group_rows(&group)),
                    }
                    Ok(())
                })
                .await
            }
        }
    })
}

pub fn run_share(share: ShareArgs) -> anyhow::Result<()> {
    runtime()?.block_on(with_session(&share.args.session, async |session| {
        let dataverse = share.args.dataverse(session).await?;
        let Some(principal) = dataverse.system_user(share.app.as_deref(), share.user.as_deref()).await? else {
            bail!(
                "{} has no user in this environment: add the app as an application user first",
                share.app.as_deref().map_or_else(|| share.user.clone().unwrap_or_default(), |a| format!("app {a}"))
            );
        };
        let principal_id = principal["systemuserid"].as_str().context("a systemuser without an id")?;
        dataverse.share_group(&share.group, principal_id, share.role).await?;
        match share.args.output.format {
            Format::Json => output::json(&json!({ "group": share.group, "systemuserid": principal_id, "role": share.role.name() })),
            Format::Table => out!("Machine group {} shared with {} as {}.", share.group, principal["fullname"].as_str().unwrap_or(principal_id), share.role),
        }
        Ok(())
    }))
}

#[derive(Subcommand)]
pub enum MachineCommand {
    /// Register a standalone machine as the service principal; it gets its
    /// hidden group, whose id `connect --group` takes. A local platform's
    /// convenience: real Dataverse registers a machine only from the
    /// machine itself (`PAD.MachineRegistration.Silent.exe -register`), so
    /// against the cloud this is refused with that command.
    Register {
        /// The machine's name.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// The machine's description, as the registration app shows it.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// Replace a machine registered under this name; its connections break.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        args: TargetArgs,
    },
    /// Move a standalone machine into a machine group. The first machine to
    /// join sets the group password; later ones must give the same.
    /// Connections that targeted the machine alone stop working. A local
    /// platform's convenience: real Dataverse has no JoinGroup, a machine
    /// joins from itself (`PAD.MachineRegistration.Silent.exe
    /// -joinmachinegroup`), so against the cloud this is refused with that command.
    JoinGroup {
        /// The machine, by id or name.
        #[arg(long, value_name = "NAME|ID")]
        machine: String,
        /// The machine group, by id or name.
        #[arg(long, value_name = "ID|NAME")]
        group: String,
        /// Read the group password from this file (else PADCONNECT_GROUP_PASSWORD).
        #[arg(long, value_name = "FILE", conflicts_with = "group_password_stdin")]
        group_password_file: Option<PathBuf>,
        /// Read the group password from stdin (else PADCONNECT_GROUP_PASSWORD).
        #[arg(long)]
        group_password_stdin: bool,
        #[command(flatten)]
        args: TargetArgs,
    },
    /// Take a machine out of its group: it is standalone again, in a new hidden group.
    LeaveGroup {
        /// The machine, by id or name.
        #[arg(long, value_name = "NAME|ID")]
        machine: String,
        #[command(flatten)]
        args: TargetArgs,
    },
}

fn machine_rows(machine: &Value) -> Vec<(&'static str, String)> {
    let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    vec![
        ("Machine id", text(&machine["flowmachineid"])),
        ("Name", text(&machine["name"])),
        ("Group id", text(&machine["_flowmachinegroupid_value"])),
    ]
}

/// A rerun that finds its work done says so (on stderr under --output json,
/// so the JSON stays one document) and succeeds.
fn already(format: Format, sentence: &str) {
    match format {
        Format::Json => crate::output::err!("{sentence}"),
        Format::Table => crate::output::out!("{sentence}"),
    }
}

fn print_machine(machine: &Value, format: Format) {
    match format {
        Format::Json => output::json(machine),
        Format::Table => output::table(&machine_rows(machine)),
    }
}

async fn machine_named(dataverse: &DataverseClient, name_or_id: &str) -> anyhow::Result<Value> {
    dataverse
        .find_machine(name_or_id)
        .await?
        .with_context(|| format!("no machine named '{name_or_id}' that this principal may see"))
}

/// What registers a machine in the cloud: the silent registration tool, run
/// on the machine (powerapps-docs `desktop-flows/machines-silent-registration.md`;
/// Dataverse's `flowmachine` table has LeaveGroup but no JoinGroup,
/// `reference/entities/flowmachine.md`). The secrets are read from stdin.
const REGISTER_ON_THE_MACHINE: &str = r#"machine register works on a local platform (--platform or --data-dir) only: in the cloud a machine registers itself. On the Windows machine, in C:\Program Files (x86)\Power Automate Desktop, run: echo <secret> | .\PAD.MachineRegistration.Silent.exe -register -applicationid <client id> -clientsecret -tenantid <tenant id> -environmentid <environment id> (or -certificatethumbprint <thumbprint> instead of -clientsecret)"#;
const JOIN_ON_THE_MACHINE: &str = r#"machine join-group works on a local platform (--platform or --data-dir) only: in the cloud a machine joins a group from itself. On the Windows machine, in C:\Program Files (x86)\Power Automate Desktop, run: echo <group password> | .\PAD.MachineRegistration.Silent.exe -joinmachinegroup -groupid <group id> -grouppassword -applicationid <client id> -clientsecret -tenantid <tenant id> -environmentid <environment id>"#;

/// Refuses, as a usage error, a command the cloud has no API for.
fn emulator_only(session: &SessionArgs, how: &str) -> anyhow::Result<()> {
    match session.client.platform.is_some() || session.data_dir.is_some() {
        true => Ok(()),
        false => anyhow::bail!("{how}"),
    }
}

pub fn run_machine(command: MachineCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        match command {
            MachineCommand::Register { name, description, force, args } => {
                emulator_only(&args.session, REGISTER_ON_THE_MACHINE)?;
                with_session(&args.session, async |session| {
                    let dataverse = args.dataverse(session).await?;
                    // A rerun finds the machine it registered: nothing to do.
                    if !force && let Some(machine) = dataverse.find_machine(&name).await? {
                        already(args.output.format, &format!("Machine '{name}' is already registered (--force registers it anew)."));
                        print_machine(&machine, args.output.format);
                        return Ok(());
                    }
                    let machine = dataverse.register_machine(&name, description.as_deref(), force).await?;
                    print_machine(&machine, args.output.format);
                    Ok(())
                })
                .await
            }
            MachineCommand::JoinGroup { machine, group, group_password_file, group_password_stdin, args } => {
                emulator_only(&args.session, JOIN_ON_THE_MACHINE)?;
                // Read the secret before any request, so a missing one costs nothing.
                let password = SecretSource {
                    what: "the group password",
                    file: group_password_file.as_deref(),
                    stdin: group_password_stdin,
                    env: "PADCONNECT_GROUP_PASSWORD",
                    hint: "set PADCONNECT_GROUP_PASSWORD, or pass --group-password-file or --group-password-stdin",
                }
                .read()?;
                with_session(&args.session, async |session| {
                    let dataverse = args.dataverse(session).await?;
                    let found = machine_named(&dataverse, &machine).await?;
                    let target = dataverse
                        .find_group(&group)
                        .await?
                        .with_context(|| format!("no machine group '{group}' that this principal may see"))?;
                    let machine_id = found["flowmachineid"].as_str().context("a machine without an id")?;
                    let group_id = target["flowmachinegroupid"].as_str().context("a group without an id")?;
                    dataverse.join_group(machine_id, group_id, &password).await?;
                    print_machine(&machine_named(&dataverse, machine_id).await?, args.output.format);
                    Ok(())
                })
                .await
            }
            MachineCommand::LeaveGroup { machine, args } => {
                with_session(&args.session, async |session| {
                    let dataverse = args.dataverse(session).await?;
                    let found = machine_named(&dataverse, &machine).await?;
                    let machine_id = found["flowmachineid"].as_str().context("a machine without an id")?;
                    let group_id = found["_flowmachinegroupid_value"].as_str().unwrap_or_default();
                    let group = dataverse.find_group(group_id).await?;
                    if group.is_some_and(|g| g["flowgrouptype"] == GroupType::Default.code()) {
                        already(args.output.format, &format!("Machine '{machine}' is already in no machine group."));
                        print_machine(&found, args.output.format);
                        return Ok(());
                    }
                    dataverse.leave_group(machine_id).await?;
                    print_machine(&machine_named(&dataverse, machine_id).await?, args.output.format);
                    Ok(())
                })
                .await
            }
        }
    })
}
