//! The Dataverse calls a deployment makes, as Microsoft's Terraform
//! provider and ALM scripts make them (docs/evidence/solution-import.md,
//! section 1): `StageSolution`, `ImportSolutionAsync`, polling
//! `asyncoperations({id})`, `RetrieveSolutionImportResult`, reading
//! `solutions`, `connectionreferences` and `workflows`, and turning a flow
//! on with `PATCH workflows({id})`.

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::dataverse::quoted;
use crate::{ClientError, DataverseClient};

/// What `ImportSolutionAsync` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportStarted {
    pub async_operation_id: String,
    pub import_job_key: String,
}

impl DataverseClient {
    /// `StageSolution`: its `StageSolutionResults`.
    pub async fn stage_solution(&self, zip: &[u8]) -> Result<Value, ClientError> {
        let file = base64::engine::general_purpose::STANDARD.encode(zip);
        let answer = self
            .send(
                Method::POST,
                "StageSolution",
                Some(&json!({ "CustomizationFile": file })),
            )
            .await?;
        Ok(answer["StageSolutionResults"].clone())
    }

    /// `ImportSolutionAsync` of a staged upload, with `ComponentParameters`.
    pub async fn import_solution_async(
        &self,
        upload_id: &str,
        component_parameters: Vec<Value>,
    ) -> Result<ImportStarted, ClientError> {
        let parameters = match component_parameters.is_empty() {
            true => Value::Null,
            false => Value::Array(component_parameters),
        };
        let answer = self
            .send(
                Method::POST,
                "ImportSolutionAsync",
                Some(&json!({
                    "PublishWorkflows": true,
                    "OverwriteUnmanagedCustomizations": false,
                    "ComponentParameters": parameters,
                    "SolutionParameters": { "StageSolutionUploadId": upload_id },
                })),
            )
            .await?;
        let text = |name: &str| answer[name].as_str().unwrap_or_default().to_owned();
        Ok(ImportStarted {
            async_operation_id: text("AsyncOperationId"),
            import_job_key: text("ImportJobKey"),
        })
    }

    /// One system job (`asyncoperations({id})`).
    pub async fn async_operation(&self, id: &str) -> Result<Value, ClientError> {
        self.get(&format!(
            "asyncoperations({id})?$select=statecode,statuscode,message,friendlymessage,errorcode,completedon"
        ))
        .await
    }

    /// `RetrieveSolutionImportResult`: its `SolutionOperationResult`.
    pub async fn solution_import_result(&self, job_key: &str) -> Result<Value, ClientError> {
        let answer = self
            .get(&format!(
                "RetrieveSolutionImportResult(ImportJobId={job_key})"
            ))
            .await?;
        Ok(answer["SolutionOperationResult"].clone())
    }

    /// The installed solution of this unique name, if any.
    pub async fn solution(&self, unique_name: &str) -> Result<Option<Value>, ClientError> {
        let rows = self
            .rows(&format!(
                "solutions?$select=solutionid,uniquename,friendlyname,version,ismanaged&$filter=uniquename eq {}",
                quoted(unique_name)
            ))
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Every connection reference of the environment.
    pub async fn connection_references(&self) -> Result<Vec<Value>, ClientError> {
        self.rows("connectionreferences?$select=connectionreferenceid,connectionreferencelogicalname,connectorid,connectionid&$orderby=connectionreferencelogicalname").await
    }

    /// The flows of a solution the caller may read.
    pub async fn solution_flows(&self, solution_id: &str) -> Result<Vec<Value>, ClientError> {
        self.rows(&format!(
            "workflows?$select=workflowid,name,category,statecode,statuscode&$filter=solutionid eq {solution_id}&$orderby=name"
        ))
        .await
    }

    /// Turns a flow on (`statecode` 1) as manage-flows-with-code does it.
    pub async fn turn_flow_on(&self, id: &str) -> Result<(), ClientError> {
        self.send(
            Method::PATCH,
            &format!("workflows({id})"),
            Some(&json!({ "statecode": 1, "statuscode": 2 })),
        )
        .await
        .map(|_| ())
    }
}
