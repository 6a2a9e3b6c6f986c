//! `padconnect connection get|list|delete|share`.

use crate::output::out;
use clap::{Args, Subcommand};
use padconnect_client::ConnectionsClient;
use padconnect_core::ConnectionId;
use serde_json::json;

use crate::output::{self, Format};
use crate::session::{Session, SessionArgs};

#[derive(Subcommand)]
pub enum ConnectionCommand {
    /// Create or update a desktop-flow connection (the same as `connect`).
    Create(Box<crate::connect::ConnectArgs>),
    /// Show one connection and whether it can reach its machine group.
    Get(OneArgs),
    /// The connections of an environment that the caller may see.
    List(ListArgs),
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
    #[arg(long, value_name = "ROLE", default_value = "CanView", value_parser = ["CanView", "CanViewWithShare", "CanEdit"])]
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
pub struct ListArgs {
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
struct CommonArgs {
    /// The environment id; in an embedded session, quickstart's by default.
    #[arg(long, value_name = "ID")]
    environment: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    output: Format,
    #[command(flatten)]
    session: SessionArgs,
}

pub fn run(command: ConnectionCommand) -> anyhow::Result<()> {
    if let ConnectionCommand::Create(args) = command {
        return crate::connect::run(*args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let common = match &command {
            ConnectionCommand::Get(a) | ConnectionCommand::Delete(a) => &a.common,
            ConnectionCommand::List(a) => &a.common,
            ConnectionCommand::Share(a) => &a.common,
            ConnectionCommand::Create(_) => unreachable!("handled above"),
        };
        let session = Session::open(&common.session).await?;
        let result = execute(&command, common, &session).await;
        session.close().await;
        result
    })
}

async fn execute(
    command: &ConnectionCommand,
    common: &CommonArgs,
    session: &Session,
) -> anyhow::Result<()> {
    let environment = session.environment(common.environment.as_deref())?;
    let client = ConnectionsClient::new(
        session.http.clone(),
        session.target.clone(),
        session.api_token().await?,
    );
    match command {
        ConnectionCommand::Get(args) => {
            let id: ConnectionId = args.connection_id.parse()?;
            let Some(connection) = client.get(&environment, &id).await? else {
                return Err(crate::exit::not_found(format!(
                    "ConnectionNotFound: no connection {id} in environment {environment} that this principal may see"
                )));
            };
            match common.output {
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
        ConnectionCommand::List(_) => {
            let connections = client.list(&environment).await?;
            match common.output {
                Format::Json => output::json(&json!({ "value": connections })),
                Format::Table if connections.is_empty() => {
                    out!("No connections in environment {environment}.")
                }
                Format::Table => {
                    for connection in &connections {
                        let rows = output::connection_rows(connection);
                        out!("{}  {}  {}", rows[0].1, rows[2].1, rows[1].1);
                    }
                }
            }
        }
        ConnectionCommand::Delete(args) => {
            let id: ConnectionId = args.connection_id.parse()?;
            client.delete(&environment, &id).await?;
            match common.output {
                Format::Json => {
                    output::json(&json!({ "connectionId": id.to_string(), "deleted": true }))
                }
                Format::Table => out!("Connection {id} deleted."),
            }
        }
        ConnectionCommand::Share(args) => {
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
            match common.output {
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
        ConnectionCommand::Create(_) => unreachable!("handled by run"),
    }
    Ok(())
}
