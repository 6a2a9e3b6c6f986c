//! What the Web API serves here, named once: the entity sets with the
//! writes each table takes, and the actions, functions and property values,
//! bound to a row or unbound. The dispatch serves nothing that is not here
//! (`Table::from_entity_set`, the writes' refusals, the router's own routes,
//! `entities`' and `actions`' operations), and the test that the OpenAPI
//! document has an operation for every route reads the same list
//! (tests/it/server.rs compiles this file as a module of its own, so it
//! names nothing else of the crate: plain data).

/// An entity set. Every one is read: `GET {set}` and `GET {set}({id})`.
pub struct EntitySet {
    pub name: &'static str,
    /// The writes its table takes: `POST {set}` creates a row, `PATCH
    /// {set}({id})` changes one, `DELETE {set}({id})` deletes one. The
    /// others are refused, in Dataverse's format, with what to do instead.
    pub writes: &'static [&'static str],
}

/// An operation under the service root that is not a table's read or
/// write: an action (`POST`), a function or a property's value (`GET`).
pub struct Operation {
    pub method: &'static str,
    /// The name the dispatch knows it by.
    pub name: &'static str,
    /// Its path under the service root, as the OpenAPI document has it
    /// (`{id}`: a row's GUID); a bound one starts with its row.
    pub path: &'static str,
}

pub const ENTITY_SETS: &[EntitySet] = &[
    EntitySet {
        name: "flowmachinegroups",
        writes: &["POST", "PATCH", "DELETE"],
    },
    EntitySet {
        name: "flowmachines",
        writes: &["POST", "PATCH", "DELETE"],
    },
    // Application users are added and disabled, never deleted.
    EntitySet {
        name: "systemusers",
        writes: &["POST", "PATCH"],
    },
    // The world file's; read and shared here.
    EntitySet {
        name: "credentials",
        writes: &[],
    },
    // Written by runs (RunDesktopFlow, CancelDesktopFlowRun).
    EntitySet {
        name: "flowsessions",
        writes: &[],
    },
    EntitySet {
        name: "organizations",
        writes: &[],
    },
    EntitySet {
        name: "transactioncurrencies",
        writes: &[],
    },
    // The solution tables: written by importing a solution, but for a
    // solution's removal, a connection reference's connection and a flow's
    // state.
    EntitySet {
        name: "solutions",
        writes: &["DELETE"],
    },
    EntitySet {
        name: "connectionreferences",
        writes: &["PATCH"],
    },
    EntitySet {
        name: "workflows",
        writes: &["PATCH"],
    },
    EntitySet {
        name: "environmentvariabledefinitions",
        writes: &[],
    },
    EntitySet {
        name: "environmentvariablevalues",
        writes: &[],
    },
    EntitySet {
        name: "asyncoperations",
        writes: &[],
    },
];

const fn operation(method: &'static str, name: &'static str, path: &'static str) -> Operation {
    Operation { method, name, path }
}

pub const OPERATIONS: &[Operation] = &[
    operation("GET", "WhoAmI", "WhoAmI"),
    operation("GET", "WhoAmI", "WhoAmI()"),
    operation("POST", "GrantAccess", "GrantAccess"),
    operation("POST", "ModifyAccess", "ModifyAccess"),
    operation("POST", "RevokeAccess", "RevokeAccess"),
    operation("POST", "$batch", "$batch"),
    operation("POST", "StageSolution", "StageSolution"),
    operation("POST", "ImportSolutionAsync", "ImportSolutionAsync"),
    operation("POST", "ImportSolution", "ImportSolution"),
    operation(
        "GET",
        "RetrieveSolutionImportResult",
        "RetrieveSolutionImportResult(ImportJobId={importJobId})",
    ),
    operation(
        "GET",
        "RetrieveSharedPrincipalsAndAccess",
        "RetrieveSharedPrincipalsAndAccess(Target=@p1)",
    ),
    operation(
        "GET",
        "RetrievePrincipalAccess",
        "systemusers({id})/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@p1)",
    ),
    operation("GET", "EntityDefinitions", "EntityDefinitions"),
    operation(
        "GET",
        "EntityDefinitions",
        "EntityDefinitions(LogicalName='{logicalName}')",
    ),
    operation(
        "GET",
        "Attributes",
        "EntityDefinitions(LogicalName='{logicalName}')/Attributes",
    ),
    operation(
        "GET",
        "PicklistAttributeMetadata",
        "EntityDefinitions(LogicalName='{logicalName}')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
    ),
    operation(
        "POST",
        "JoinGroup",
        "flowmachines({id})/Microsoft.Dynamics.CRM.JoinGroup",
    ),
    operation(
        "POST",
        "LeaveGroup",
        "flowmachines({id})/Microsoft.Dynamics.CRM.LeaveGroup",
    ),
    operation(
        "POST",
        "RunDesktopFlow",
        "workflows({id})/Microsoft.Dynamics.CRM.RunDesktopFlow",
    ),
    operation(
        "POST",
        "CancelDesktopFlowRun",
        "flowsessions({id})/Microsoft.Dynamics.CRM.CancelDesktopFlowRun",
    ),
    operation("GET", "outputs", "flowsessions({id})/outputs/$value"),
];

/// The entity set of this name, when it is served.
pub fn entity_set(name: &str) -> Option<&'static EntitySet> {
    ENTITY_SETS.iter().find(|set| set.name == name)
}

/// Whether an operation of this method and name is served.
pub fn serves(method: &str, name: &str) -> bool {
    OPERATIONS
        .iter()
        .any(|op| op.method == method && op.name == name)
}
