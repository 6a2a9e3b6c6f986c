//! Bearer tokens: JWT parsing and verification (header, `kid`, signature,
//! claims) on each surface that takes one. The seeds include a real token
//! shape to mutate.
#![no_main]

use axum::body::Body;
use http::{HeaderValue, Request, header};
use libfuzzer_sys::fuzz_target;
use padconnect_fuzz::{DATAVERSE, ENV_HOST, harness};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, token)) = data.split_first() else {
        return;
    };
    let mut value = b"Bearer ".to_vec();
    value.extend_from_slice(token);
    let Ok(authorization) = HeaderValue::from_bytes(&value) else {
        return;
    };
    let request = match pick % 3 {
        0 => Request::get(format!("{DATAVERSE}/WhoAmI")),
        1 => Request::get("/connectivity/connections?api-version=1").header(header::HOST, ENV_HOST),
        _ => Request::get("/arm/subscriptions?api-version=2022-12-01"),
    };
    let request = request
        .header(header::AUTHORIZATION, authorization)
        .body(Body::empty())
        .expect("a request");
    harness().send(request);
});
