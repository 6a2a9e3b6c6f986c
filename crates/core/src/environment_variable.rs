//! What an environment variable definition (`environmentvariabledefinition`)
//! declares: a solution package carries it, and the platform keeps it with
//! the environment, solution and time it was imported in.

/// A definition's own columns, as its package wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableDeclaration {
    pub schema_name: String,
    pub display_name: String,
    /// `type`: 100000000 String, 100000001 Number, 100000002 Boolean,
    /// 100000003 JSON, 100000004 Data source, 100000005 Secret.
    pub kind: i64,
    pub default_value: Option<String>,
    pub is_required: bool,
    pub api_id: Option<String>,
    pub parameter_key: Option<String>,
}
