//! FetchXML (`?fetchXml=`) on the Dataverse tables, as the example app:
//! the input, after a byte that picks the entity set, is the XML itself,
//! percent-encoded whole, so every input reaches the FetchXML reader.
#![no_main]

use axum::body::Body;
use http::{Request, header};
use libfuzzer_sys::fuzz_target;
use padconnect_fuzz::{DATAVERSE, harness};

const SETS: [&str; 4] = [
    "flowmachinegroups",
    "flowmachines",
    "systemusers",
    "workflows",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, xml)) = data.split_first() else {
        return;
    };
    let set = SETS[usize::from(pick) % SETS.len()];
    let mut encoded = String::with_capacity(xml.len() * 3);
    for &byte in xml {
        match byte.is_ascii_alphanumeric() {
            true => encoded.push(char::from(byte)),
            false => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    let harness = harness();
    let Ok(request) = Request::get(format!("{DATAVERSE}/{set}?fetchXml={encoded}"))
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
