//! Writes a solution zip in the layout a Dataverse export has (the three
//! root files, `Workflows/*.json`, `environmentvariabledefinitions/`), for
//! tests and examples that need a solution with flows: none of the real
//! zips at hand holds one.
//!
//! A cloud flow's `<Workflow>` element and definition file follow the
//! unpacked solution of Microsoft's CoE starter kit
//! (`GetSolutionFlows-....json`, `.json.data.xml`); a desktop flow's
//! element is written the same way with `Category` 6 and `UIFlowType` 2,
//! the workflow table's values for a Power Automate Desktop flow. How a real
//! export serializes a desktop flow's definition is not public
//! (docs/evidence/solution-import.md, section 6, item 10).

use std::io::Write;

use quick_xml::escape::escape;
use serde_json::json;
use uuid::Uuid;

use crate::version::Version;

/// A solution to write.
#[derive(Debug, Clone)]
pub struct SolutionZip {
    unique_name: String,
    display_name: String,
    version: Version,
    managed: bool,
    publisher: (String, String),
    references: Vec<(String, String)>,
    flows: Vec<Flow>,
    variables: Vec<(String, i64, Option<String>)>,
    missing: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
struct Flow {
    id: Uuid,
    name: String,
    category: i64,
    /// `(connection reference logical name, connector name)`.
    uses: Vec<(String, String)>,
}

impl SolutionZip {
    pub fn new(unique_name: &str, version: Version) -> Self {
        Self {
            unique_name: unique_name.to_owned(),
            display_name: unique_name.to_owned(),
            version,
            managed: false,
            publisher: ("contoso".into(), "new".into()),
            references: Vec::new(),
            flows: Vec::new(),
            variables: Vec::new(),
            missing: Vec::new(),
        }
    }

    pub fn managed(mut self, managed: bool) -> Self {
        self.managed = managed;
        self
    }

    /// A connection reference of the connector named `connector` (`shared_uiflow`).
    pub fn connection_reference(mut self, logical_name: &str, connector: &str) -> Self {
        self.references
            .push((logical_name.to_owned(), connector.to_owned()));
        self
    }

    /// A cloud flow that uses the connection references named.
    pub fn cloud_flow(mut self, id: Uuid, name: &str, references: &[&str]) -> Self {
        let uses = references
            .iter()
            .map(|logical| {
                let connector = self
                    .references
                    .iter()
                    .find(|(name, _)| name == logical)
                    .map_or_else(|| "shared_uiflow".to_owned(), |(_, c)| c.clone());
                ((*logical).to_owned(), connector)
            })
            .collect();
        self.flows.push(Flow {
            id,
            name: name.to_owned(),
            category: 5,
            uses,
        });
        self
    }

    pub fn desktop_flow(mut self, id: Uuid, name: &str) -> Self {
        self.flows.push(Flow {
            id,
            name: name.to_owned(),
            category: 6,
            uses: Vec::new(),
        });
        self
    }

    /// An environment variable of `kind` (100000000 String, ...).
    pub fn environment_variable(mut self, schema: &str, kind: i64, default: Option<&str>) -> Self {
        self.variables
            .push((schema.to_owned(), kind, default.map(str::to_owned)));
        self
    }

    /// A dependency the export declares missing: a table of `solution`.
    pub fn missing_dependency(mut self, table: &str, solution: &str) -> Self {
        self.missing.push((table.to_owned(), solution.to_owned()));
        self
    }

    /// The zip's bytes.
    pub fn build(&self) -> std::io::Result<Vec<u8>> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        let mut add = |name: &str, text: &str| -> std::io::Result<()> {
            zip.start_file(name, options)?;
            zip.write_all(text.as_bytes())
        };
        add("[Content_Types].xml", CONTENT_TYPES)?;
        add("solution.xml", &self.solution_xml())?;
        add("customizations.xml", &self.customizations_xml())?;
        for flow in &self.flows {
            add(&flow_file(flow), &flow_definition(flow))?;
        }
        for (schema, kind, default) in &self.variables {
            add(
                &format!(
                    "environmentvariabledefinitions/{schema}/environmentvariabledefinition.xml"
                ),
                &variable_xml(schema, *kind, default.as_deref()),
            )?;
        }
        Ok(zip.finish()?.into_inner())
    }

    fn solution_xml(&self) -> String {
        let missing: String = self
            .missing
            .iter()
            .map(|(table, solution)| {
                format!(
                    r#"<MissingDependency><Required type="1" schemaName="{t}" displayName="{t}" solution="{s}" /><Dependent type="1" schemaName="{t}" displayName="{t}" /></MissingDependency>"#,
                    t = escape(table),
                    s = escape(solution)
                )
            })
            .collect();
        let roots: String = self
            .flows
            .iter()
            .map(|f| {
                format!(
                    r#"<RootComponent type="29" id="{{{}}}" behavior="0" />"#,
                    f.id
                )
            })
            .collect();
        format!(
            r#"<ImportExportXml version="9.2.24093.196" SolutionPackageVersion="9.2" languagecode="1033" generatedBy="CrmLive" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><SolutionManifest><UniqueName>{name}</UniqueName><LocalizedNames><LocalizedName description="{display}" languagecode="1033" /></LocalizedNames><Descriptions /><Version>{version}</Version><Managed>{managed}</Managed><Publisher><UniqueName>{publisher}</UniqueName><LocalizedNames><LocalizedName description="{publisher}" languagecode="1033" /></LocalizedNames><CustomizationPrefix>{prefix}</CustomizationPrefix><CustomizationOptionValuePrefix>10000</CustomizationOptionValuePrefix></Publisher><RootComponents>{roots}</RootComponents><MissingDependencies>{missing}</MissingDependencies></SolutionManifest></ImportExportXml>"#,
            name = escape(&self.unique_name),
            display = escape(&self.display_name),
            version = self.version,
            managed = u8::from(self.managed),
            publisher = escape(&self.publisher.0),
            prefix = escape(&self.publisher.1),
        )
    }

    fn customizations_xml(&self) -> String {
        let workflows: String = self
            .flows
            .iter()
            .map(|f| {
                let ui_flow = if f.category == 6 { "<UIFlowType>2</UIFlowType>" } else { "" };
                format!(
                    r#"<Workflow WorkflowId="{{{id}}}" Name="{name}"><JsonFileName>/{file}</JsonFileName><Type>1</Type><Subprocess>0</Subprocess><Category>{category}</Category><Mode>0</Mode><Scope>4</Scope><OnDemand>0</OnDemand><TriggerOnCreate>0</TriggerOnCreate><TriggerOnDelete>0</TriggerOnDelete><AsyncAutodelete>0</AsyncAutodelete><SyncWorkflowLogOnFailure>0</SyncWorkflowLogOnFailure><StateCode>1</StateCode><StatusCode>2</StatusCode><RunAs>1</RunAs><IsTransacted>1</IsTransacted><IntroducedVersion>1.0.0.0</IntroducedVersion><IsCustomizable>1</IsCustomizable>{ui_flow}<BusinessProcessType>0</BusinessProcessType><IsCustomProcessingStepAllowedForOtherPublishers>1</IsCustomProcessingStepAllowedForOtherPublishers><PrimaryEntity>none</PrimaryEntity><LocalizedNames><LocalizedName languagecode="1033" description="{name}" /></LocalizedNames></Workflow>"#,
                    id = f.id,
                    name = escape(&f.name),
                    file = escape(flow_file(f)),
                    category = f.category,
                )
            })
            .collect();
        let references: String = self
            .references
            .iter()
            .map(|(logical, connector)| {
                format!(
                    r#"<connectionreference connectionreferencelogicalname="{logical}"><connectionreferencedisplayname>{logical}</connectionreferencedisplayname><connectorid>/providers/Microsoft.PowerApps/apis/{connector}</connectorid><iscustomizable>1</iscustomizable><promptingbehavior>0</promptingbehavior><statecode>0</statecode><statuscode>1</statuscode></connectionreference>"#,
                    logical = escape(logical),
                    connector = escape(connector),
                )
            })
            .collect();
        format!(
            r#"<ImportExportXml xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" OrganizationVersion="9.2.24093.196" OrganizationSchemaType="Standard" CRMServerServiceabilityVersion="9.2.24093.00196"><Entities /><Roles /><Workflows>{workflows}</Workflows><FieldSecurityProfiles /><Templates /><EntityMaps /><EntityRelationships /><OrganizationSettings /><optionsets /><CustomControls /><EntityDataProviders /><connectionreferences>{references}</connectionreferences><Languages><Language>1033</Language></Languages></ImportExportXml>"#
        )
    }
}

const CONTENT_TYPES: &str = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"xml\" ContentType=\"application/octet-stream\" /><Default Extension=\"json\" ContentType=\"application/octet-stream\" /></Types>";

/// `Workflows/<Name without spaces>-<ID IN UPPER CASE>.json`.
fn flow_file(flow: &Flow) -> String {
    let name: String = flow
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    format!(
        "Workflows/{name}-{}.json",
        flow.id.to_string().to_ascii_uppercase()
    )
}

/// A cloud flow's definition: a manual trigger and, for each connection
/// reference, one action through it. A desktop flow's is a stub with its
/// name: its script is not what an import looks at.
fn flow_definition(flow: &Flow) -> String {
    if flow.category == 6 {
        return json!({"properties": {"displayName": flow.name, "uiFlowType": 2}}).to_string();
    }
    let references: serde_json::Map<String, serde_json::Value> = flow
        .uses
        .iter()
        .map(|(logical, connector)| {
            (
                format!("{connector}_1"),
                json!({
                    "runtimeSource": "invoker",
                    "connection": {"connectionReferenceLogicalName": logical},
                    "api": {"name": connector}
                }),
            )
        })
        .collect();
    let actions: serde_json::Map<String, serde_json::Value> = flow
        .uses
        .iter()
        .map(|(_, connector)| {
            (
                format!("Run_{connector}"),
                json!({
                    "type": "OpenApiConnection",
                    "inputs": {"host": {"connectionName": format!("{connector}_1"), "apiId": format!("/providers/Microsoft.PowerApps/apis/{connector}")}}
                }),
            )
        })
        .collect();
    json!({
        "properties": {
            "connectionReferences": references,
            "definition": {
                "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
                "contentVersion": "1.0.0.0",
                "parameters": {"$connections": {"defaultValue": {}, "type": "Object"}, "$authentication": {"defaultValue": {}, "type": "SecureObject"}},
                "triggers": {"manual": {"type": "Request", "kind": "Button", "inputs": {"schema": {"type": "object", "properties": {}}}}},
                "actions": actions
            },
            "templateName": null
        },
        "schemaVersion": "1.0.0.0"
    })
    .to_string()
}

fn variable_xml(schema: &str, kind: i64, default: Option<&str>) -> String {
    let default = default
        .map(|d| format!("<defaultvalue>{}</defaultvalue>", escape(d)))
        .unwrap_or_default();
    format!(
        r#"<environmentvariabledefinition schemaname="{schema}">{default}<displayname default="{schema}"><label description="{schema}" languagecode="1033" /></displayname><introducedversion>1.0.0.0</introducedversion><iscustomizable>1</iscustomizable><isrequired>0</isrequired><secretstore>0</secretstore><type>{kind}</type></environmentvariabledefinition>"#,
        schema = escape(schema),
    )
}
