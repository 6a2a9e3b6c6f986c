//! RunDesktopFlow: a run of a desktop flow through a connection, queued as
//! a `flowsession` ("Work with desktop flows using code",
//! desktop-flow-public-apis.md; the RunDesktopFlow Action reference).

use padconnect_core::desktop_runs::{
    DEFAULT_TIMEOUT_SECONDS, MAX_CALLBACK_URL_CHARS, MAX_INPUT_BYTES, MAX_QUEUED_RUNS,
    MAX_TIMEOUT_SECONDS, RUNS_PER_MINUTE_PER_CONNECTION, RunMode, SessionStatus,
};
use padconnect_core::{ConnectionId, ConnectorName};
use uuid::Uuid;

use super::RunRefusal;
use crate::connections::standing;
use crate::solutions::{DESKTOP_FLOW, may_read_owned, object_id_of};
use crate::{Error, Forbidden, Privilege, Record, Scope};
use padconnect_store::{Connection, FlowSession, Workflow};

/// RunDesktopFlow's parameters as the caller gave them.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    pub run_mode: Option<String>,
    pub run_priority: Option<String>,
    pub connection_name: Option<String>,
    pub connection_type: Option<i64>,
    pub timeout: Option<i64>,
    pub inputs: Option<String>,
    pub callback_url: Option<String>,
}

/// A request whose values are each valid on their own.
struct Checked {
    run_mode: RunMode,
    priority: String,
    connection_name: String,
    by_reference: bool,
    timeout: i64,
    inputs: Option<String>,
    callback_url: Option<String>,
}

/// Queues a run of the desktop flow `workflow_id` and answers its session.
/// The checks run in this order, so a request wrong twice gets the first:
/// the flow (exists, readable, a desktop flow), the parameters, the
/// connection (exists, visible to the caller, a desktop flow connection),
/// then the limits. Nothing is queued unless all pass.
pub async fn start(
    scope: Scope<'_>,
    workflow_id: Uuid,
    request: RunRequest,
) -> Result<FlowSession, Error> {
    let Scope {
        store, environment, ..
    } = scope;
    let workflow = desktop_flow(scope, workflow_id).await?;
    let checked = check(request)?;
    let (connection, reference) = connection_of(scope, &checked).await?;
    let group = connection
        .target_group_id
        .ok_or_else(|| RunRefusal::ConnectionNotFound(connection.id.to_string()))?;
    let now = store.now();
    let id = connection.id.to_string();
    // The two limits are read, then the run written: two replicas racing
    // at the 70th run of a minute may both pass, which the limit's
    // "up to" leaves room for.
    if store
        .runs_since(&environment.id, &id, now.plus_seconds(-60))
        .await?
        >= RUNS_PER_MINUTE_PER_CONNECTION
    {
        return Err(RunRefusal::Throttled(id).into());
    }
    if store
        .queued_runs(group, SessionStatus::Waiting.code())
        .await?
        >= MAX_QUEUED_RUNS
    {
        return Err(RunRefusal::QueueFull.into());
    }
    let session = FlowSession {
        id: Uuid::new_v4(),
        environment_id: environment.id,
        workflow_id,
        name: workflow.name,
        // The run is the flow's: "canceling the run and querying the
        // status needs 'Owner' privileges" on it.
        owner_id: workflow.owner_id,
        connection_id: id,
        connection_reference: reference,
        machine_group_id: group,
        machine_id: None,
        run_mode: checked.run_mode.code(),
        priority: checked.priority,
        timeout_seconds: checked.timeout,
        inputs: checked.inputs,
        outputs: None,
        callback_url: checked.callback_url,
        statuscode: SessionStatus::Waiting.code(),
        error_code: None,
        error_message: None,
        created_on: now,
        started_on: None,
        completed_on: None,
        modified_on: now,
        due_on: Some(now),
        versionnumber: 1,
    };
    let mut tx = store.begin().await?;
    tx.insert_flow_session(&session).await?;
    tx.commit().await?;
    Ok(session)
}

/// The desktop flow a run names, if the actor may run it. Desktop flows
/// are not shared here, so the actor must own it or administer the
/// environment; the service's refusal is the docs' own example, 403
/// 0x80040220 "is missing prvReadworkflow privilege".
async fn desktop_flow(scope: Scope<'_>, id: Uuid) -> Result<Workflow, Error> {
    let actor = scope.actor;
    let workflow = scope
        .store
        .workflow(&scope.environment.id, id)
        .await?
        .ok_or(Error::NotFound(Record {
            entity: "workflow",
            id,
        }))?;
    if !may_read_owned(actor, workflow.owner_id) {
        return Err(Error::Forbidden(Forbidden::Privilege {
            user: actor.user.id,
            privilege: Privilege::Read("workflow"),
        }));
    }
    if workflow.category != DESKTOP_FLOW {
        return Err(RunRefusal::NotDesktopFlow {
            id,
            category: workflow.category,
            cloud: if workflow.category == crate::solutions::CLOUD_FLOW {
                " (a cloud flow)"
            } else {
                ""
            },
        }
        .into());
    }
    Ok(workflow)
}

fn check(request: RunRequest) -> Result<Checked, RunRefusal> {
    let run_mode = request.run_mode.ok_or(RunRefusal::Missing(
        "runMode",
        "'attended' (signed in) or 'unattended' (in the background).",
    ))?;
    let run_mode = RunMode::parse(&run_mode).ok_or(RunRefusal::RunMode(run_mode))?;
    let connection_name = request
        .connection_name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or(RunRefusal::Missing(
            "connectionName",
            "the name of the desktop flow connection to run through, or with connectionType 2 a connection reference's logical name.",
        ))?;
    let by_reference = match request.connection_type.unwrap_or(1) {
        1 => false,
        2 => true,
        other => return Err(RunRefusal::ConnectionType(other)),
    };
    let timeout = request.timeout.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    if !(1..=MAX_TIMEOUT_SECONDS).contains(&timeout) {
        return Err(RunRefusal::Timeout(timeout));
    }
    // "Choose an option (normal, high) or add your own."
    let priority = request.run_priority.unwrap_or_else(|| "normal".to_owned());
    if priority.trim().is_empty() || priority.chars().count() > 100 {
        return Err(RunRefusal::Priority);
    }
    if let Some(inputs) = &request.inputs {
        check_inputs(inputs)?;
    }
    if let Some(url) = &request.callback_url {
        check_callback_url(url)?;
    }
    Ok(Checked {
        run_mode,
        priority,
        connection_name,
        by_reference,
        timeout,
        inputs: request.inputs,
        callback_url: request.callback_url,
    })
}

/// "The desktop flow script input parameters (json serialized string)",
/// "limited to 2 MB".
fn check_inputs(inputs: &str) -> Result<(), RunRefusal> {
    if inputs.len() > MAX_INPUT_BYTES {
        return Err(RunRefusal::InputsTooLarge(inputs.len()));
    }
    match serde_json::from_str::<serde_json::Value>(inputs) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err(RunRefusal::InputsNotJson(
            "it is JSON, but not an object".to_owned(),
        )),
        Err(e) => Err(RunRefusal::InputsNotJson(e.to_string())),
    }
}

/// The callback "must be HTTPS, must not be localhost/loopback, and must
/// not be an IP address (a DNS name is required)" (desktop-flow-public-apis.md).
fn check_callback_url(given: &str) -> Result<(), RunRefusal> {
    let refuse = |why: &str| Err(RunRefusal::CallbackUrl(why.to_owned()));
    if given.chars().count() > MAX_CALLBACK_URL_CHARS {
        return refuse("it is too long");
    }
    let Ok(url) = url::Url::parse(given) else {
        return refuse("it is not a URL");
    };
    if url.scheme() != "https" {
        return refuse("its scheme is not https");
    }
    match url.host() {
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                return refuse("it names localhost");
            }
            Ok(())
        }
        Some(_) => refuse("its host is an IP address"),
        None => refuse("it has no host"),
    }
}

/// The connection a run goes through, and the reference it was named by.
async fn connection_of(
    scope: Scope<'_>,
    checked: &Checked,
) -> Result<(Connection, Option<String>), Error> {
    let Scope {
        store,
        actor,
        environment,
    } = scope;
    let (name, reference) = match checked.by_reference {
        false => (checked.connection_name.clone(), None),
        true => {
            let logical_name = &checked.connection_name;
            let reference = store
                .connection_references(&environment.id)
                .await?
                .into_iter()
                .find(|r| r.logical_name.eq_ignore_ascii_case(logical_name))
                .ok_or_else(|| RunRefusal::ReferenceNotFound(logical_name.clone()))?;
            let bound = reference
                .connection_id
                .ok_or_else(|| RunRefusal::ReferenceUnbound(reference.logical_name.clone()))?;
            (bound, Some(reference.logical_name))
        }
    };
    let not_found = || RunRefusal::ConnectionNotFound(name.clone());
    let id: ConnectionId = name.parse().map_err(|_| not_found())?;
    let connection = store
        .connection(&environment.id, &id)
        .await?
        .ok_or_else(not_found)?;
    // An application user whose app is gone stands for nobody: to it the
    // connection is not there.
    let Some(object_id) = object_id_of(store, environment, actor.user).await? else {
        return Err(not_found().into());
    };
    if standing(store, object_id, actor.admin, &connection)
        .await?
        .is_none()
    {
        return Err(not_found().into());
    }
    if connection.connector != ConnectorName::uiflow() {
        return Err(RunRefusal::NotDesktopConnection {
            name,
            connector: connection.connector.to_string(),
        }
        .into());
    }
    Ok((connection, reference))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callback_needs_https_and_a_dns_name() {
        assert!(check_callback_url("https://hooks.contoso.com/desktop?run=1").is_ok());
        for bad in [
            "http://hooks.contoso.com/",
            "https://localhost/",
            "https://app.localhost./x",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://10.0.0.1:8443/",
            "hooks.contoso.com",
            "ftp://hooks.contoso.com/",
        ] {
            assert!(check_callback_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn inputs_are_a_json_object_in_a_string_within_two_megabytes() {
        assert!(check_inputs(r#"{"Input1":"Value"}"#).is_ok());
        assert!(matches!(
            check_inputs("[1]"),
            Err(RunRefusal::InputsNotJson(_))
        ));
        assert!(matches!(
            check_inputs("{"),
            Err(RunRefusal::InputsNotJson(_))
        ));
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_INPUT_BYTES));
        assert!(matches!(
            check_inputs(&big),
            Err(RunRefusal::InputsTooLarge(_))
        ));
    }
}
