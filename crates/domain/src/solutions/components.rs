//! Writing a package's components at import, inside the import's
//! transaction: its connection references bound as `ComponentParameters`
//! say, its environment variables and their values, and its flows, each on
//! where [`activation`] allows.

use uuid::Uuid;

use padconnect_solution::{Package, WorkflowCategory, value_fits};
use padconnect_store::{
    ConnectionReference, Environment, Solution, Store, SystemUser, Tx, VariableDefinition,
    VariableValue, Workflow,
};

use super::activation::{self, FlowOff, Importer};
use super::import::{ImportRequest, ImportedFlow};
use super::{ImportError, OFF, ON, references};
use crate::Error;

/// Creates or updates each of the package's connection references, bound
/// as `ComponentParameters` say. An empty `connectionid` leaves a reference
/// as it was (the Terraform provider sends one for every settings-file
/// entry without an id; what the service does with it is not public).
pub(super) async fn bind_references(
    store: &Store,
    tx: &mut Tx,
    environment: &Environment,
    package: &Package,
    solution: &Solution,
    owner: &SystemUser,
    request: &ImportRequest,
) -> Result<Result<(), ImportError>, Error> {
    for binding in &request.bindings {
        let in_package = package
            .components
            .connection_references
            .iter()
            .any(|r| r.logical_name == binding.logical_name);
        if !in_package
            && tx
                .connection_reference_by_name(&environment.id, &binding.logical_name)
                .await?
                .is_none()
        {
            return Ok(Err(ImportError::UnknownReference(
                binding.logical_name.clone(),
            )));
        }
    }
    let now = store.now();
    for reference in &package.components.connection_references {
        let existing = tx
            .connection_reference_by_name(&environment.id, &reference.logical_name)
            .await?;
        let mut connection_id = existing.as_ref().and_then(|r| r.connection_id.clone());
        let given = request.bindings.iter().find(|b| {
            b.logical_name == reference.logical_name && !b.connection_id.trim().is_empty()
        });
        if let Some(given) = given {
            match references::find_connection(
                store,
                environment,
                &reference.connector_id,
                &given.connection_id,
            )
            .await?
            {
                Ok(connection) => connection_id = Some(connection.id.to_string()),
                Err(error) => return Ok(Err(error)),
            }
        }
        let row = ConnectionReference {
            environment_id: environment.id,
            id: existing.as_ref().map_or_else(Uuid::new_v4, |r| r.id),
            solution_id: solution.id,
            logical_name: reference.logical_name.clone(),
            display_name: reference.display_name.clone(),
            connector_id: reference.connector_id.clone(),
            connection_id,
            description: reference.description.clone(),
            owner_id: existing.as_ref().map_or(owner.id, |r| r.owner_id),
            modified_on: now,
            versionnumber: now.0,
        };
        tx.upsert_connection_reference(&row).await?;
    }
    // Entries for references the environment has from elsewhere bind them too.
    for binding in request.bindings.iter().filter(|b| {
        !b.connection_id.trim().is_empty()
            && !package
                .components
                .connection_references
                .iter()
                .any(|r| r.logical_name == b.logical_name)
    }) {
        let Some(existing) = tx
            .connection_reference_by_name(&environment.id, &binding.logical_name)
            .await?
        else {
            continue;
        };
        let connection = match references::find_connection(
            store,
            environment,
            &existing.connector_id,
            &binding.connection_id,
        )
        .await?
        {
            Ok(connection) => connection,
            Err(error) => return Ok(Err(error)),
        };
        tx.set_reference_connection(&existing, Some(connection.id.to_string()), now.0)
            .await?;
    }
    Ok(Ok(()))
}

/// Creates or updates each definition; a value from `ComponentParameters`
/// becomes the current value (padconnect's choice: the settings file is
/// the deployment's word; whether the service overwrites an existing value
/// is not public, and users report both), else the package's value when
/// the environment has none yet ("You will not see this screen if
/// value(s) are already present in your solution or the target
/// environment", Import solutions).
pub(super) async fn set_variables(
    tx: &mut Tx,
    environment: &Environment,
    package: &Package,
    solution: &Solution,
    request: &ImportRequest,
) -> Result<Result<(), ImportError>, Error> {
    for setting in &request.values {
        let in_package = package
            .components
            .environment_variables
            .iter()
            .any(|v| v.declaration.schema_name == setting.schema_name);
        if !in_package
            && tx
                .variable_definition_by_name(&environment.id, &setting.schema_name)
                .await?
                .is_none()
        {
            return Ok(Err(ImportError::UnknownVariable(
                setting.schema_name.clone(),
            )));
        }
    }
    let now = tx.now();
    for variable in &package.components.environment_variables {
        let existing = tx
            .variable_definition_by_name(&environment.id, &variable.declaration.schema_name)
            .await?;
        let definition = VariableDefinition {
            environment_id: environment.id,
            id: existing.as_ref().map_or_else(Uuid::new_v4, |d| d.id),
            solution_id: solution.id,
            declaration: variable.declaration.clone(),
            modified_on: now,
        };
        tx.upsert_variable_definition(&definition).await?;
        let given = request
            .values
            .iter()
            .find(|s| s.schema_name == variable.declaration.schema_name && !s.value.is_empty());
        if let Some(setting) = given
            && let Err(why) = variable.accepts(&setting.value)
        {
            return Ok(Err(ImportError::InvalidValue(why)));
        }
        let value = match (given, &variable.value) {
            (Some(setting), _) => Some((None, setting.value.clone())),
            (None, Some(packaged))
                if !tx
                    .has_variable_value(&environment.id, definition.id)
                    .await? =>
            {
                Some((packaged.id, packaged.value.clone()))
            }
            _ => None,
        };
        if let Some((id, value)) = value {
            tx.upsert_variable_value(&VariableValue {
                environment_id: environment.id,
                id: id.unwrap_or_else(Uuid::new_v4),
                definition_id: definition.id,
                schema_name: variable.declaration.schema_name.clone(),
                value,
                modified_on: now,
            })
            .await?;
        }
    }
    // Values for definitions the environment has from elsewhere.
    for setting in request.values.iter().filter(|s| {
        !s.value.is_empty()
            && !package
                .components
                .environment_variables
                .iter()
                .any(|v| v.declaration.schema_name == s.schema_name)
    }) {
        let Some(definition) = tx
            .variable_definition_by_name(&environment.id, &setting.schema_name)
            .await?
        else {
            continue;
        };
        if let Err(why) = value_fits(
            definition.declaration.kind,
            &definition.declaration.schema_name,
            &setting.value,
        ) {
            return Ok(Err(ImportError::InvalidValue(why)));
        }
        tx.upsert_variable_value(&VariableValue {
            environment_id: environment.id,
            id: Uuid::new_v4(),
            definition_id: definition.id,
            schema_name: definition.declaration.schema_name.clone(),
            value: setting.value.clone(),
            modified_on: now,
        })
        .await?;
    }
    Ok(Ok(()))
}

/// Writes each flow, on where [`activation`] allows, off with the reason
/// otherwise. "During solution import into a target environment, a
/// connection is provided for all the connection references so any
/// referencing flows can be turned on automatically after the import
/// completes" (Use a connection reference in a solution); a flow whose
/// references cannot be used stays off, and the import still succeeds.
pub(super) async fn import_flows(
    tx: &mut Tx,
    importer: &Importer,
    package: &Package,
    solution: &Solution,
    request: &ImportRequest,
) -> Result<Result<Vec<ImportedFlow>, ImportError>, Error> {
    let now = tx.now();
    let mut flows = Vec::new();
    for flow in &package.components.workflows {
        // A flow of another installed solution is not taken over; one of
        // this solution keeps its owner (the importer enables it).
        let existing = tx.workflow(&solution.environment_id, flow.id).await?;
        if let Some(existing) = &existing
            && existing.solution_id != solution.id
            && let Some(other) = tx
                .solution(&solution.environment_id, existing.solution_id)
                .await?
        {
            return Ok(Err(ImportError::FlowOfAnotherSolution {
                flow: flow.id,
                solution: other.unique_name,
            }));
        }
        let off = match flow.category {
            WorkflowCategory::CloudFlow | WorkflowCategory::DesktopFlow => {
                activation::why_off(tx, importer, &flow.connection_references).await?
            }
            // Classic processes follow PublishWorkflows.
            WorkflowCategory::Other(_) if request.publish_workflows => None,
            WorkflowCategory::Other(_) => Some(FlowOff::not_published()),
        };
        let (statecode, statuscode) = if off.is_none() { ON } else { OFF };
        tx.upsert_workflow(&Workflow {
            environment_id: solution.environment_id,
            id: flow.id,
            solution_id: solution.id,
            name: flow.name.clone(),
            category: flow.category.code(),
            ui_flow_type: flow.ui_flow_type,
            statecode,
            statuscode,
            client_data: flow.client_data.clone(),
            owner_id: existing.as_ref().map_or(importer.user.id, |w| w.owner_id),
            created_on: existing.as_ref().map_or(now, |w| w.created_on),
            modified_on: now,
            versionnumber: now.0,
        })
        .await?;
        flows.push(ImportedFlow {
            id: flow.id,
            name: flow.name.clone(),
            category: flow.category.code(),
            on: off.is_none(),
            off,
        });
    }
    Ok(Ok(flows))
}
