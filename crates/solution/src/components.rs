//! The components a deployment configures: connection references and flows
//! (`customizations.xml`, `Workflows/*.json`) and environment variables
//! (`environmentvariabledefinitions/<schema>/`).

use std::collections::HashMap;

use padconnect_core::VariableDeclaration;
use serde_json::Value;
use uuid::Uuid;

use crate::PackageError;
use crate::files::{CUSTOMIZATIONS, Files, VARIABLES};
use crate::xml::{self, Attributes, Step, ends_with};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Components {
    pub connection_references: Vec<ConnectionReference>,
    pub environment_variables: Vec<EnvironmentVariable>,
    pub workflows: Vec<Workflow>,
}

/// A `<connectionreference>` of `customizations.xml`. The package names
/// the connector, never a connection: that is the deployment's to give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionReference {
    pub logical_name: String,
    pub display_name: String,
    /// `/providers/Microsoft.PowerApps/apis/shared_uiflow`.
    pub connector_id: String,
    pub description: String,
}

/// An `environmentvariabledefinition.xml`, with the value the package
/// carries in `environmentvariablevalues.json`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentVariable {
    pub declaration: VariableDeclaration,
    pub value: Option<PackagedValue>,
}

impl EnvironmentVariable {
    /// Whether `value` is one of this variable's type. The type codes are
    /// the table reference's and UpsertEnvironmentVariable's (String
    /// 100000000, Number 100000001, Boolean 100000002, JSON 100000003, Data
    /// source 100000004, Secret 100000005, whose only store is Azure Key
    /// Vault: `SecretStore` 0). How a value of each type is spelled is not
    /// public: padconnect accepts any decimal number, yes/no/true/false,
    /// well-formed JSON, and a Key Vault secret's resource path, and says
    /// so in the error. An empty value says nothing here: whether it may be
    /// empty is `is_required`'s question.
    pub fn accepts(&self, value: &str) -> Result<(), String> {
        value_fits(self.declaration.kind, &self.declaration.schema_name, value)
    }
}

/// [`EnvironmentVariable::accepts`] for a variable of type `kind` named
/// `name`, wherever its definition was read from.
pub fn value_fits(kind: i64, name: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    match kind {
        100000001 if value.trim().parse::<f64>().is_err() => Err(format!(
            "'{value}' is not a number, which {name} takes (a decimal number)"
        )),
        100000002
            if !["yes", "no", "true", "false"]
                .contains(&value.trim().to_ascii_lowercase().as_str()) =>
        {
            Err(format!(
                "'{value}' is not yes or no, which {name} (two options) takes"
            ))
        }
        100000003 if serde_json::from_str::<Value>(value).is_err() => {
            Err(format!("{name} takes JSON, and its value is not JSON"))
        }
        100000005 if !is_key_vault_secret(value) => Err(format!(
            "{name} is a secret: its value is the path of an Azure Key Vault secret, /subscriptions/{{id}}/resourceGroups/{{group}}/providers/Microsoft.KeyVault/vaults/{{vault}}/secrets/{{name}}"
        )),
        _ => Ok(()),
    }
}

/// `/subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{vault}/secrets/{name}`.
fn is_key_vault_secret(value: &str) -> bool {
    const FIXED: [(usize, &str); 6] = [
        (0, "subscriptions"),
        (2, "resourceGroups"),
        (4, "providers"),
        (5, "Microsoft.KeyVault"),
        (6, "vaults"),
        (8, "secrets"),
    ];
    let parts: Vec<&str> = value.trim().trim_start_matches('/').split('/').collect();
    parts.len() == 10
        && parts.iter().all(|p| !p.is_empty())
        && FIXED
            .iter()
            .all(|(at, name)| parts.get(*at).is_some_and(|p| p.eq_ignore_ascii_case(name)))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagedValue {
    pub id: Option<Uuid>,
    pub value: String,
}

/// The `category` of a workflow row (workflow table reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowCategory {
    /// 5 Modern Flow: a cloud flow.
    CloudFlow,
    /// 6 Desktop Flow.
    DesktopFlow,
    /// Any other category (classic workflows, business rules, ...), kept
    /// as it is.
    Other(i64),
}

impl WorkflowCategory {
    pub fn code(self) -> i64 {
        match self {
            Self::CloudFlow => 5,
            Self::DesktopFlow => 6,
            Self::Other(code) => code,
        }
    }

    fn from_code(code: i64) -> Self {
        match code {
            5 => Self::CloudFlow,
            6 => Self::DesktopFlow,
            other => Self::Other(other),
        }
    }
}

/// A `<Workflow>` of `customizations.xml` and its definition file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    /// `WorkflowId`: the same in every environment it is imported into.
    pub id: Uuid,
    pub name: String,
    pub category: WorkflowCategory,
    /// `UIFlowType` of a desktop flow (2: Power Automate Desktop).
    pub ui_flow_type: Option<i64>,
    /// The definition file's text (the row's `clientdata`).
    pub client_data: Option<String>,
    /// The logical names of the connection references its definition uses.
    pub connection_references: Vec<String>,
}

/// The most components of one kind a package may hold: far more than a
/// real solution has, few enough that an import's work stays bounded.
pub const MAX_COMPONENTS: usize = 5_000;

impl Components {
    /// Reads the components; `customizations.xml` must be there.
    pub fn read(files: &Files) -> Result<Self, PackageError> {
        let xml = files
            .get(CUSTOMIZATIONS)
            .ok_or(PackageError::MissingFile(CUSTOMIZATIONS))?;
        let mut reader = CustomizationsReader::default();
        xml::walk(CUSTOMIZATIONS, xml, |step| reader.take(step))?;
        let mut connection_references = reader.references;
        connection_references.sort_by(|a, b| a.logical_name.cmp(&b.logical_name));
        connection_references.dedup_by(|a, b| a.logical_name == b.logical_name);
        distinct_workflows(&reader.workflows)?;
        let workflows: Vec<Workflow> = reader
            .workflows
            .into_iter()
            .map(|w| w.finish(files))
            .collect::<Result<_, _>>()?;
        let environment_variables = environment_variables(files)?;
        for (kind, count) in [
            ("connection references", connection_references.len()),
            ("flows", workflows.len()),
            ("environment variables", environment_variables.len()),
        ] {
            if count > MAX_COMPONENTS {
                return Err(PackageError::TooLarge(format!(
                    "it holds {count} {kind}, more than the {MAX_COMPONENTS} a package may"
                )));
            }
        }
        Ok(Self {
            connection_references,
            environment_variables,
            workflows,
        })
    }
}

/// Each flow once, each with a definition file of its own: a package
/// that names one id or one file twice is not an export (and would make
/// one file count many times against the budget).
fn distinct_workflows(workflows: &[WorkflowElement]) -> Result<(), PackageError> {
    if workflows.len() > MAX_COMPONENTS {
        return Err(PackageError::TooLarge(format!(
            "it holds {} flows, more than the {MAX_COMPONENTS} a package may",
            workflows.len()
        )));
    }
    let mut ids = std::collections::HashSet::new();
    let mut files = std::collections::HashSet::new();
    for w in workflows {
        if !ids.insert(w.id) {
            return Err(PackageError::invalid(
                CUSTOMIZATIONS,
                format!(
                    "the WorkflowId {} is given to two <Workflow> elements",
                    w.id
                ),
            ));
        }
        if let Some(file) = &w.json_file
            && !files.insert(file.to_ascii_lowercase())
        {
            return Err(PackageError::invalid(
                CUSTOMIZATIONS,
                format!("two flows name the definition file {file}"),
            ));
        }
    }
    Ok(())
}

/// The connector's name at the end of a `connectorid` or `apiId`:
/// `/providers/Microsoft.PowerApps/apis/shared_uiflow` is `shared_uiflow`.
pub fn connector_name(connector_id: &str) -> &str {
    connector_id.rsplit('/').next().unwrap_or(connector_id)
}

/// An element being read: its attributes and the text of its children.
#[derive(Default)]
struct Element {
    attributes: Attributes,
    children: HashMap<String, String>,
    /// `LocalizedName@description`s below it, first one first.
    localized: Vec<String>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&str> {
        self.children
            .get(&name.to_ascii_lowercase())
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
    }
}

#[derive(Default)]
struct CustomizationsReader {
    current: Option<(Kind, usize, Element)>,
    references: Vec<ConnectionReference>,
    workflows: Vec<WorkflowElement>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reference,
    Workflow,
}

impl CustomizationsReader {
    fn take(&mut self, step: Step<'_>) -> Result<(), PackageError> {
        match step {
            Step::Open { path, attributes } => {
                if let Some((_, depth, element)) = &mut self.current {
                    if path.len() > *depth
                        && ends_with(path, &["LocalizedName"])
                        && let Some(text) = attributes.get("description")
                    {
                        element.localized.push(text.to_owned());
                    }
                    return Ok(());
                }
                let kind = if ends_with(path, &["connectionreferences", "connectionreference"]) {
                    Kind::Reference
                } else if ends_with(path, &["Workflows", "Workflow"]) {
                    Kind::Workflow
                } else {
                    return Ok(());
                };
                self.current = Some((
                    kind,
                    path.len(),
                    Element {
                        attributes,
                        ..Element::default()
                    },
                ));
            }
            Step::Text { path, text } => {
                if let Some((_, depth, element)) = &mut self.current
                    && path.len() == *depth + 1
                    && let Some(name) = path.last()
                {
                    element
                        .children
                        .entry(name.to_ascii_lowercase())
                        .or_default()
                        .push_str(text);
                }
            }
            Step::Close { path } => {
                if let Some((kind, depth, _)) = &self.current
                    && path.len() == *depth
                {
                    let kind = *kind;
                    if let Some((_, _, element)) = self.current.take() {
                        match kind {
                            Kind::Reference => self.references.push(reference(element)?),
                            Kind::Workflow => self.workflows.push(WorkflowElement::read(element)?),
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn reference(element: Element) -> Result<ConnectionReference, PackageError> {
    let logical_name = element
        .attributes
        .get("connectionreferencelogicalname")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            PackageError::invalid(
                CUSTOMIZATIONS,
                "a <connectionreference> has no connectionreferencelogicalname",
            )
        })?
        .to_owned();
    let connector_id = element
        .child("connectorid")
        .ok_or_else(|| {
            PackageError::invalid(
                CUSTOMIZATIONS,
                format!("the connection reference '{logical_name}' has no <connectorid>"),
            )
        })?
        .to_owned();
    Ok(ConnectionReference {
        display_name: element
            .child("connectionreferencedisplayname")
            .unwrap_or(&logical_name)
            .to_owned(),
        description: element.child("description").unwrap_or_default().to_owned(),
        logical_name,
        connector_id,
    })
}

/// A `<Workflow>` read, before its definition file is.
struct WorkflowElement {
    id: Uuid,
    name: String,
    category: WorkflowCategory,
    ui_flow_type: Option<i64>,
    json_file: Option<String>,
}

impl WorkflowElement {
    fn read(element: Element) -> Result<Self, PackageError> {
        let invalid = |detail: String| PackageError::invalid(CUSTOMIZATIONS, detail);
        let id_text = element.attributes.get("WorkflowId").unwrap_or_default();
        let id = Uuid::try_parse(id_text.trim().trim_matches(['{', '}'])).map_err(|_| {
            invalid(format!(
                "a <Workflow> has WorkflowId '{id_text}', not a GUID"
            ))
        })?;
        let number = |name: &str| -> Result<Option<i64>, PackageError> {
            element
                .child(name)
                .map(|t| {
                    t.parse().map_err(|_| {
                        invalid(format!("the workflow {id} has {name} '{t}', not a number"))
                    })
                })
                .transpose()
        };
        let category = number("Category")?
            .ok_or_else(|| invalid(format!("the workflow {id} has no <Category>")))?;
        Ok(Self {
            id,
            name: element
                .attributes
                .get("Name")
                .map(str::to_owned)
                .or_else(|| element.localized.first().cloned())
                .unwrap_or_else(|| id.to_string()),
            category: WorkflowCategory::from_code(category),
            ui_flow_type: number("UIFlowType")?,
            json_file: element
                .child("JsonFileName")
                .map(|f| f.replace('\\', "/").trim_start_matches('/').to_owned()),
        })
    }

    /// Reads the definition file it names (a cloud flow must name one).
    fn finish(self, files: &Files) -> Result<Workflow, PackageError> {
        let client_data = match &self.json_file {
            Some(file) => Some(files.get(file).map(str::to_owned).ok_or_else(|| {
                PackageError::invalid(
                    CUSTOMIZATIONS,
                    format!(
                        "the flow '{}' names {file}, which the package lacks",
                        self.name
                    ),
                )
            })?),
            None if self.category == WorkflowCategory::CloudFlow => {
                return Err(PackageError::invalid(
                    CUSTOMIZATIONS,
                    format!("the cloud flow '{}' has no <JsonFileName>", self.name),
                ));
            }
            None => None,
        };
        let connection_references = match (&client_data, &self.json_file) {
            (Some(text), Some(file)) => references_used(file, text)?,
            _ => Vec::new(),
        };
        Ok(Workflow {
            id: self.id,
            name: self.name,
            category: self.category,
            ui_flow_type: self.ui_flow_type,
            client_data,
            connection_references,
        })
    }
}

/// The `connectionReferenceLogicalName` of each entry of a flow
/// definition's `properties.connectionReferences` (manage-flows-with-code:
/// `clientdata` holds the definition "and its connectionReferences").
pub fn references_used(file: &str, text: &str) -> Result<Vec<String>, PackageError> {
    let definition: Value = serde_json::from_str(text).map_err(|e| PackageError::InvalidXml {
        file: file.to_owned(),
        detail: e.to_string(),
    })?;
    let mut names: Vec<String> = definition
        .pointer("/properties/connectionReferences")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|references| references.values())
        .filter_map(|reference| {
            reference
                .pointer("/connection/connectionReferenceLogicalName")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

fn environment_variables(files: &Files) -> Result<Vec<EnvironmentVariable>, PackageError> {
    let mut variables = Vec::new();
    for (name, text) in files.under(VARIABLES) {
        let Some(folder) = name
            .to_ascii_lowercase()
            .strip_suffix("/environmentvariabledefinition.xml")
            .map(str::to_owned)
        else {
            continue;
        };
        let mut variable = definition(name, text)?;
        let values = format!("{folder}/environmentvariablevalues.json");
        if let Some(json) = files.get(&values) {
            variable.value = packaged_value(&values, json)?;
        }
        variables.push(variable);
    }
    variables.sort_by(|a, b| a.declaration.schema_name.cmp(&b.declaration.schema_name));
    variables.dedup_by(|a, b| {
        a.declaration
            .schema_name
            .eq_ignore_ascii_case(&b.declaration.schema_name)
    });
    // A value id given twice keeps its first variable; the others get ids of
    // their own at import.
    let mut ids = std::collections::HashSet::new();
    for value in variables.iter_mut().filter_map(|v| v.value.as_mut()) {
        if let Some(id) = value.id
            && !ids.insert(id)
        {
            value.id = None;
        }
    }
    Ok(variables)
}

fn definition(file: &str, xml: &str) -> Result<EnvironmentVariable, PackageError> {
    let mut root: Option<Element> = None;
    xml::walk(file, xml, |step| {
        match step {
            Step::Open { path, attributes } if path.len() == 1 => {
                root = Some(Element {
                    attributes,
                    ..Element::default()
                });
            }
            Step::Open { path, attributes } if path.len() == 2 => {
                if let (Some(root), Some(default)) = (&mut root, attributes.get("default")) {
                    root.children.insert(
                        format!("{}@default", path[1].to_ascii_lowercase()),
                        default.to_owned(),
                    );
                }
            }
            Step::Text { path, text } if path.len() == 2 => {
                if let Some(root) = &mut root {
                    root.children
                        .entry(path[1].to_ascii_lowercase())
                        .or_default()
                        .push_str(text);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    let invalid = |detail: String| PackageError::invalid(file, detail);
    let root = root.ok_or_else(|| invalid("it is empty".into()))?;
    let schema_name = root
        .attributes
        .get("schemaname")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("<environmentvariabledefinition> has no schemaname".into()))?
        .to_owned();
    let kind_text = root.child("type").unwrap_or("100000000");
    let kind = kind_text
        .parse()
        .map_err(|_| invalid(format!("type '{kind_text}' is not a number")))?;
    let declaration = VariableDeclaration {
        display_name: root
            .child("displayname@default")
            .unwrap_or(&schema_name)
            .to_owned(),
        kind,
        default_value: root.child("defaultvalue").map(str::to_owned),
        is_required: root.child("isrequired") == Some("1"),
        api_id: root.child("apiid").map(str::to_owned),
        parameter_key: root.child("parameterkey").map(str::to_owned),
        schema_name,
    };
    Ok(EnvironmentVariable {
        declaration,
        value: None,
    })
}

/// `{"environmentvariablevalues":{"environmentvariablevalue":{"@environmentvariablevalueid":"…","value":"…"}}}`.
fn packaged_value(file: &str, json: &str) -> Result<Option<PackagedValue>, PackageError> {
    let document: Value = serde_json::from_str(json).map_err(|e| PackageError::InvalidXml {
        file: file.to_owned(),
        detail: e.to_string(),
    })?;
    let entry = match document.pointer("/environmentvariablevalues/environmentvariablevalue") {
        Some(Value::Array(entries)) => entries.first(),
        other => other,
    };
    Ok(entry.and_then(|entry| {
        Some(PackagedValue {
            id: entry
                .get("@environmentvariablevalueid")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::try_parse(id.trim_matches(['{', '}'])).ok()),
            value: entry.get("value")?.as_str()?.to_owned(),
        })
    }))
}
