//! The OData query options (`$filter`, `$select`, `$orderby`, `$top`,
//! `$count`, `$skiptoken`) on the Dataverse tables and EntityDefinitions,
//! as the example app.
#![no_main]

use axum::body::Body;
use http::{Request, header};
use libfuzzer_sys::fuzz_target;
use padconnect_fuzz::{DATAVERSE, harness, uri_part};

const SETS: [&str; 4] = [
    "flowmachinegroups",
    "flowmachines",
    "EntityDefinitions",
    "systemusers",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, query)) = data.split_first() else {
        return;
    };
    let set = SETS[usize::from(pick) % SETS.len()];
    let harness = harness();
    let uri = format!("{DATAVERSE}/{set}?{}", uri_part(query));
    let Ok(request) = Request::get(uri)
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", harness.dataverse_token),
        )
        .body(Body::empty())
    else {
        return;
    };
    harness.send(request);
});
