//! A solution as a person looks at it (the portal's Solutions pages): its
//! connection references with their connections' status, and its flows,
//! each off one with the reason it would stay off if the viewer turned it
//! on now.

use uuid::Uuid;

use super::activation::{FlowOff, Importer, references_of, why_off};
use super::may_read_owned;
use crate::connections::{self, Status};
use crate::{Error, Scope};
use padconnect_store::{ConnectionReference, Solution, Workflow};

pub struct SolutionView {
    pub solution: Solution,
    /// Each reference, with its connection's status when it is bound to a
    /// connection of this environment (`None`: unbound, or the connection
    /// is gone).
    pub references: Vec<(ConnectionReference, Option<Status>)>,
    /// The flows the viewer may read, each off one with its reason.
    pub flows: Vec<(Workflow, Option<FlowOff>)>,
}

/// The solution `id` of the viewer's environment.
pub async fn view(scope: Scope<'_>, id: Uuid) -> Result<SolutionView, Error> {
    let Scope {
        store, environment, ..
    } = scope;
    let solution = super::find(store, environment, id).await?;
    let mut references = Vec::new();
    for reference in store.connection_references(&environment.id).await? {
        if reference.solution_id != solution.id {
            continue;
        }
        let connection = match reference.connection_id.as_deref().map(str::parse) {
            Some(Ok(connection_id)) => store.connection(&environment.id, &connection_id).await?,
            _ => None,
        };
        let status = match &connection {
            Some(c) => Some(connections::status(store, c).await?),
            None => None,
        };
        references.push((reference, status));
    }
    let viewer = Importer::new(store, environment, scope.actor.user, scope.actor.admin).await?;
    // A read-only transaction: `why_off` reads references through one.
    let mut tx = store.begin().await?;
    let mut flows = Vec::new();
    for flow in store.workflows(&environment.id).await? {
        if flow.solution_id != solution.id || !may_read_owned(scope.actor, flow.owner_id) {
            continue;
        }
        let off = match flow.statecode == super::ON.0 {
            true => None,
            false => {
                let used = references_of(flow.client_data.as_deref());
                why_off(&mut tx, &viewer, &used).await?
            }
        };
        flows.push((flow, off));
    }
    Ok(SolutionView {
        solution,
        references,
        flows,
    })
}
