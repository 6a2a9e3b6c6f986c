//! `padconnect connection get|list|delete|share`.

use crate::output::out;
use clap::{Args, Subcommand};
use padconnect_client::ConnectionsClient;
use padconnect_core::ConnectionId;
use serde_json::json;

use crate::output::{self, Format, OutputArg};
use crate::session::{Session, SessionArgs};

#[derive(Subcommand)]
pub enum ConnectionCommand {
    /// Create or update a desktop-flow connection (the same as `connect`).
    Create(Box<crate::connect::ConnectArgs>),
    #[command(flatten)]
    Existing(Box<Existing>),
}

/// What is done to the connections that exist, each in an environment of
/// a session (`CommonArgs`).
#[derive(Subcommand)]
pub enum Existing {
    /// Show one connection and whether it can reach its machine group.
    Get(OneArgs),
    /// The connections of an environment that the caller may see.
    List(ListArgs),
    /// Change a connection's Windows password, or its account, alone: the
    /// rest is read from the service and sent back unchanged.
    Update(UpdateArgs),
    /// Delete a connection.
    Delete(OneArgs),
    /// Share an azureRelayRunOwner connection with a service principal (or
    /// stop sharing it with --remove); prints who has access then.
    Share(ShareArgs),
}

#[derive(Args)]
pub struct ShareArgs {
    /// The connection id (a GUID, with or without dashes).
    connection_id: String,
    /// The service principal's object id (Enterprise applications > Object ID).
    #[arg(long, value_name = "OBJECT_ID")]
    principal: String,
    /// The access given: CanView, CanViewWithShare or CanEdit (any case).
    #[arg(long, value_name = "ROLE", default_value = "CanView", ignore_case = true, value_parser = crate::output::one_of(&["CanView", "CanViewWithShare", "CanEdit"]))]
    role: String,
    /// Remove the principal's access instead.
    #[arg(long, conflicts_with = "role")]
    remove: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
pub struct OneArgs {
    /// The connection id (a GUID, with or without dashes).
    connection_id: String,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
pub struct UpdateArgs {
    /// The connection id (a GUID, with or without dashes).
    connection_id: String,
    /// A new Windows account (DOMAIN\user, user@domain, ...); the
    /// connection's own by default.
    #[arg(long, value_name = "ACCOUNT")]
    username: Option<String>,
    /// Read the Windows password from this file (else PADCONNECT_MACHINE_PASSWORD).
    #[arg(long, value_name = "FILE", conflicts_with = "password_stdin")]
    password_file: Option<std::path::PathBuf>,
    /// Read the Windows password from stdin (else PADCONNECT_MACHINE_PASSWORD).
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
struct CommonArgs {
    /// The environment id; in an embedded session, quickstart's by default.
    #[arg(long, value_name = "ID", env = "PADCONNECT_ENVIRONMENT")]
    environment: Option<String>,
    #[command(flatten)]
    output: OutputArg,
    #[command(flatten)]
    session: SessionArgs,
}

pub fn run(command: ConnectionCommand) -> anyhow::Result<()> {
    let command = match command {
        ConnectionCommand::Create(args) => return crate::connect::run(*args),
        ConnectionCommand::Existing(command) => *command,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let common = command.common();
        let session = Session::open(&common.session).await?;
        let result = execute(&command, common, &session).await;
        session.close().await;
        result
    })
}

impl Existing {
    fn common(&self) -> &CommonArgs {
        match self {
            Self::Get(a) | Self::Delete(a) => &a.common,
            Self::List(a) => &a.common,
            Self::Update(a) => &a.common,
            Self::Share(a) => &a.common,
        }
    }
}

async fn execute(command: &Existing, common: &CommonArgs, session: &Session) -> anyhow::Result<()> {
    let environment = session.environment(common.environment.as_deref())?;
    let client = ConnectionsClient::new(
        session.http.clone(),
        session.target.clone(),
        session.api_token().await?,
    );
    match command {
        Existing::Get(args) => {
            let id: ConnectionId = args.connection_id.parse()?;
            let Some(connection) = client.get(&environment, &id).await? else {
                return Err(crate::exit::not_found(format!(
                    "ConnectionNotFound: no connection {id} in environment {environment} that this principal may see"
                )));
            };
            match common.output.format {
                Format::Json => output::json(&connection),
                Format::Table => output::table(&output::connection_rows(&connection)),
            }
            let (status, reason) = padconnect_client::connections::status_of(&connection);
            if status != "Connected" {
                return Err(crate::exit::not_connected(format!(
                    "connection {id} is {status}: {}",
                    reason.unwrap_or_default()
                )));
            }
        }
        Existing::List(_) => {
            let connections = client.list(&environment).await?;
            match common.output.format {
                Format::Json => output::json(&json!({ "value": connections })),
                Format::Table if connections.is_empty() => {
                    out!("No connections in environment {environment}.")
                }
                Format::Table => output::columns(
                    &["CONNECTION", "STATUS", "ACCOUNT", "DISPLAY NAME"],
                    &connections
                        .iter()
                        .map(output::connection_line)
                        .collect::<Vec<_>>(),
                ),
            }
        }
        Existing::Update(args) => update(args, common, &client, &environment).await?,
        Existing::Delete(args) => {
            let id: ConnectionId = args.connection_id.parse()?;
            // Gone already (a rerun, or never made): the wanted state holds.
            let deleted = match client.delete(&environment, &id).await {
                Ok(()) => true,
                Err(padconnect_client::ClientError::Service { status: 404, .. }) => false,
                Err(other) => return Err(other.into()),
            };
            match (common.output.format, deleted) {
                (Format::Json, _) => output::json(
                    &json!({ "connectionId": id.to_string(), "deleted": deleted, "already": !deleted }),
                ),
                (Format::Table, true) => out!("Connection {id} deleted."),
                (Format::Table, false) => out!(
                    "Connection {id} is already gone from environment {environment} (or this principal may not see it)."
                ),
            }
        }
        Existing::Share(args) => {
            let id: ConnectionId = args.connection_id.parse()?;
            let principal = uuid::Uuid::try_parse(&args.principal).map_err(|_| {
                anyhow::anyhow!(
                    "'{}' is not an object id (a GUID): give the service principal's object id",
                    args.principal
                )
            })?;
            let role = (!args.remove).then_some(args.role.as_str());
            client
                .share(&environment, &id, &principal.to_string(), role)
                .await?;
            let permissions = client.permissions(&environment, &id).await?;
            match common.output.format {
                Format::Json => output::json(&json!({ "value": permissions })),
                Format::Table => {
                    for permission in &permissions {
                        let text = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_owned();
                        out!(
                            "{}  {}  {}",
                            text(&permission["name"]),
                            text(&permission["properties"]["principal"]["type"]),
                            text(&permission["properties"]["roleName"])
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// A connection's password (or account) changed, its other settings as the
/// service holds them. The service shows no password, so the PUT carries
/// the new one and everything else read back.
async fn update(
    args: &UpdateArgs,
    common: &CommonArgs,
    client: &ConnectionsClient,
    environment: &padconnect_core::EnvironmentId,
) -> anyhow::Result<()> {
    let id: ConnectionId = args.connection_id.parse()?;
    let password = crate::secret_input::SecretSource {
        what: "the Windows password",
        file: args.password_file.as_deref(),
        stdin: args.password_stdin,
        env: "PADCONNECT_MACHINE_PASSWORD",
        hint: "an update sends the password (the service shows none to keep): set PADCONNECT_MACHINE_PASSWORD, or pass --password-file or --password-stdin",
    }
    .read()?;
    let Some(existing) = client.get(environment, &id).await? else {
        return Err(crate::exit::not_found(format!(
            "ConnectionNotFound: no connection {id} in environment {environment} that this principal may see"
        )));
    };
    let Some(connection) =
        padconnect_client::fleet::rewritten(&existing, args.username.as_deref(), password)
    else {
        let parameter_set = existing["properties"]["connectionParametersSet"]["name"]
            .as_str()
            .unwrap_or_default();
        anyhow::bail!(
            "connection {id} uses {parameter_set}, whose run owner certificate the service does not show: rewrite it with `padconnect connect --connection-id {id} --parameter-set {parameter_set} --run-owner-pfx FILE`"
        );
    };
    client.put(environment, &id, &connection).await?;
    let updated = client.get(environment, &id).await?.ok_or_else(|| {
        crate::exit::not_found(format!("connection {id} vanished after it was updated"))
    })?;
    match common.output.format {
        Format::Json => output::json(&updated),
        Format::Table => {
            out!("Connection {id} updated.");
            output::table(&output::connection_rows(&updated));
        }
    }
    let (status, reason) = padconnect_client::connections::status_of(&updated);
    if status != "Connected" {
        return Err(crate::exit::not_connected(format!(
            "connection {id} is {status}: {}",
            reason.unwrap_or_default()
        )));
    }
    Ok(())
}
