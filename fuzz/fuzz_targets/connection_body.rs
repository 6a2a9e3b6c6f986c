//! The connections API's JSON bodies: the seed's PUT (create or update, the
//! run-owner parameter set too) and modifyPermissions, as the example app.
#![no_main]

use axum::body::Body;
use http::{Request, header};
use libfuzzer_sys::fuzz_target;
use padconnect_fuzz::{ENV_HOST, harness};

const CONNECTION: &str =
    "/connectivity/connectors/shared_uiflow/connections/0f1e2d3c4b5a69788796a5b4c3d2e1f0";

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let (method, path) = match pick % 2 {
        0 => ("PUT", format!("{CONNECTION}?api-version=1")),
        _ => (
            "POST",
            format!("{CONNECTION}/modifyPermissions?api-version=1"),
        ),
    };
    let harness = harness();
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, ENV_HOST)
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", harness.api_token),
        )
        .body(Body::from(body.to_vec()))
        .expect("a request");
    harness.send(request);
});
