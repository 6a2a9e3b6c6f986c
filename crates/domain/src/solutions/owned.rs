//! The user-owned rows of the solution tables a caller may read: flows
//! (`workflow`) and system jobs (`asyncoperation`). Their owner and the
//! administrators read them; to anyone else they do not exist
//! ([`may_read_owned`]).

use uuid::Uuid;

use super::may_read_owned;
use crate::Scope;
use padconnect_store::{AsyncOperation, StoreError, Workflow};

/// The flows of the scope's environment that its actor may read.
pub async fn readable_workflows(scope: Scope<'_>) -> Result<Vec<Workflow>, StoreError> {
    let mut flows = scope.store.workflows(&scope.environment.id).await?;
    flows.retain(|flow| may_read_owned(scope.actor, flow.owner_id));
    Ok(flows)
}

/// The flow `id`, if the actor may read it.
pub async fn readable_workflow(scope: Scope<'_>, id: Uuid) -> Result<Option<Workflow>, StoreError> {
    let flow = scope.store.workflow(&scope.environment.id, id).await?;
    Ok(flow.filter(|flow| may_read_owned(scope.actor, flow.owner_id)))
}

/// The system jobs of the scope's environment that its actor may read.
pub async fn readable_operations(scope: Scope<'_>) -> Result<Vec<AsyncOperation>, StoreError> {
    let mut operations = scope.store.async_operations(&scope.environment.id).await?;
    operations.retain(|op| may_read_owned(scope.actor, op.owner_id));
    Ok(operations)
}

/// The system job `id` of the scope's environment, if the actor may read it.
pub async fn readable_operation(
    scope: Scope<'_>,
    id: Uuid,
) -> Result<Option<AsyncOperation>, StoreError> {
    let operation = scope.store.async_operation(id).await?;
    Ok(operation.filter(|op| {
        op.environment_id == scope.environment.id && may_read_owned(scope.actor, op.owner_id)
    }))
}

/// The import job `job` of the scope's environment, if the actor may read
/// the system job that runs it.
pub async fn readable_import(
    scope: Scope<'_>,
    job: Uuid,
) -> Result<Option<AsyncOperation>, StoreError> {
    let operation = scope
        .store
        .async_operation_by_job(&scope.environment.id, job)
        .await?;
    Ok(operation.filter(|op| may_read_owned(scope.actor, op.owner_id)))
}
