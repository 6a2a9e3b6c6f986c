//! An import's log as `RetrieveSolutionImportResult` returns it in
//! `FormattedResults`: an Excel 2003 XML workbook (SpreadsheetML) with a
//! `Solution` sheet (name, version, package type, status) and a
//! `Components` sheet (one row per flow, with its state), in the shape of
//! the recorded answer (get_solution_import_result.json), without its
//! styles.

use quick_xml::escape::escape;

use padconnect_domain::solutions::ImportResult;
use padconnect_store::AsyncOperation;

/// Where an import job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Running,
    Passed,
    Failed,
}

impl JobStatus {
    pub fn of(operation: &AsyncOperation, result: &ImportResult) -> Self {
        match (operation.is_done(), &result.failure) {
            (false, _) => Self::Running,
            (true, None) => Self::Passed,
            (true, Some(_)) => Self::Failed,
        }
    }

    /// `SolutionOperationResult.Status`: `Passed` as recorded; the other
    /// two are ours (the service's are not public).
    pub fn api(self) -> &'static str {
        match self {
            Self::Running => "InProgress",
            Self::Passed => "Passed",
            Self::Failed => "Failed",
        }
    }

    /// The workbook's Status row: `Processed` as recorded.
    fn log(self) -> &'static str {
        match self {
            Self::Running => "In progress",
            Self::Passed => "Processed",
            Self::Failed => "Failure",
        }
    }
}

/// The workbook of a job's result.
pub fn workbook(operation: &AsyncOperation, result: &ImportResult) -> String {
    let status = JobStatus::of(operation, result).log();
    let message = result
        .failure
        .as_ref()
        .map(|f| f.message.as_str())
        .unwrap_or_default();
    let solution = [
        ("Name", result.solution_name.as_str()),
        ("Version", result.version.as_str()),
        (
            "Package Type",
            if result.managed {
                "Managed"
            } else {
                "Unmanaged"
            },
        ),
        ("Status", status),
        ("Message", message),
    ]
    .iter()
    .map(|(name, value)| row(&[name, value]))
    .collect::<String>();
    let components = std::iter::once(row(&[
        "ItemType",
        "Id",
        "Name",
        "Status",
        "ErrorCode",
        "ErrorText",
    ]))
    .chain(result.flows.iter().map(|f| {
        let id = f.id.to_string();
        let (state, code, text) = match &f.off {
            None => ("Processed", "", ""),
            Some(off) => (
                "Processed (left off)",
                off.code.as_str(),
                off.message.as_str(),
            ),
        };
        row(&["Process", &id, &f.name, state, code, text])
    }))
    .collect::<String>();
    format!(
        r#"<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="Solution"><Table>{solution}</Table></Worksheet><Worksheet ss:Name="Components"><Table>{components}</Table></Worksheet></Workbook>"#
    )
}

fn row(cells: &[&str]) -> String {
    let cells: String = cells
        .iter()
        .map(|c| {
            format!(
                r#"<Cell><Data ss:Type="String">{}</Data></Cell>"#,
                escape(*c)
            )
        })
        .collect();
    format!("<Row>{cells}</Row>")
}
