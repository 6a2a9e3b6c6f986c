//! Dataverse JSON bodies: creating and updating machine groups and
//! machines, associating them, the sharing actions, and RunDesktopFlow's
//! parameters, as the example app.
#![no_main]

use axum::body::Body;
use http::{Request, header};
use libfuzzer_sys::fuzz_target;
use padconnect_fuzz::{DATAVERSE, GROUP, harness};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let (method, path) = match pick % 7 {
        0 => ("POST", "flowmachinegroups".to_owned()),
        1 => ("PATCH", format!("flowmachinegroups({GROUP})")),
        2 => ("POST", "flowmachines".to_owned()),
        3 => ("POST", "GrantAccess".to_owned()),
        4 => ("POST", "ModifyAccess".to_owned()),
        5 => (
            "POST",
            format!("workflows({GROUP})/Microsoft.Dynamics.CRM.RunDesktopFlow"),
        ),
        _ => (
            "POST",
            format!("flowmachinegroups({GROUP})/flowmachinegroup_flowmachines/$ref"),
        ),
    };
    let harness = harness();
    let request = Request::builder()
        .method(method)
        .uri(format!("{DATAVERSE}/{path}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", harness.dataverse_token),
        )
        .body(Body::from(body.to_vec()))
        .expect("a request");
    harness.send(request);
});
