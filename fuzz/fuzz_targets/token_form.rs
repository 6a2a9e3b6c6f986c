//! The token endpoints' forms (v2.0 and v1), every grant type, with and
//! without Basic credentials.
#![no_main]

use axum::body::Body;
use http::{Request, header};
use libfuzzer_sys::fuzz_target;
use padconnect_fuzz::{TENANT, harness};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, form)) = data.split_first() else {
        return;
    };
    let path = match pick % 3 {
        0 => format!("/{TENANT}/oauth2/v2.0/token"),
        1 => format!("/{TENANT}/oauth2/token"),
        _ => "/organizations/oauth2/v2.0/token".to_owned(),
    };
    let mut request =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if pick & 0x80 != 0 {
        // Client credentials in an Authorization header, as RFC 6749 allows.
        request = request.header(header::AUTHORIZATION, "Basic NWYwZTlhMWM6eA==");
    }
    let request = request.body(Body::from(form.to_vec())).expect("a request");
    harness().send(request);
});
