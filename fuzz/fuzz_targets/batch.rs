//! `$batch` bodies: any multipart document, under a boundary the first
//! byte picks (the one the seeds use, or one that appears nowhere), as the
//! example app. The parts that parse run through the Dataverse router, so
//! change sets, references and every part's own URL are reached, and a
//! part's 5xx counts as a crash.
#![no_main]

use axum::body::Body;
use http::{Request, header};
use libfuzzer_sys::fuzz_target;
use padconnect_fuzz::{DATAVERSE, harness};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let content_type = match pick % 3 {
        0 => "multipart/mixed; boundary=\"batch_1\"",
        1 => "multipart/mixed; boundary=b",
        _ => "multipart/mixed; boundary=nowhere",
    };
    let harness = harness();
    let request = Request::builder()
        .method("POST")
        .uri(format!("{DATAVERSE}/$batch"))
        .header(header::CONTENT_TYPE, content_type)
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", harness.dataverse_token),
        )
        .body(Body::from(body.to_vec()))
        .expect("a request");
    // The batch answers 200 and each part its own status: a part's 5xx is
    // as much a crash as the batch's.
    let body = harness.answer(request);
    let answer = String::from_utf8_lossy(&body);
    assert!(
        !answer.contains("\r\nHTTP/1.1 5"),
        "a part answered a 5xx: {answer}"
    );
});
