//! Host classification: any `Host` header (the cloud's names, `.localhost`
//! forms, ports, garbage) with any path, unauthenticated.
#![no_main]

use axum::body::Body;
use http::{HeaderValue, Request, header};
use libfuzzer_sys::fuzz_target;
use padconnect_fuzz::{harness, uri_part};

fuzz_target!(|data: &[u8]| {
    let (host, path) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(host) = HeaderValue::from_bytes(host) else {
        return;
    };
    let Ok(request) = Request::get(format!("/{}", uri_part(path)))
        .header(header::HOST, host)
        .body(Body::empty())
    else {
        return;
    };
    harness().send(request);
});
