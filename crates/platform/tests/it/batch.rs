//! `$batch` on the Dataverse Web API: several requests in one POST, each
//! answered as if sent alone, in order, in a multipart/mixed answer; the
//! first failure stops it unless `Prefer: odata.continue-on-error`; change
//! sets of one request run, larger ones are refused whole; a batch that
//! cannot be read is refused in Dataverse's format.

use padconnect_platform::RunningPlatform;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::dataverse::{DV_SCOPE, Reply, admin_token, app_token, dv_client, get};
use crate::support::*;

/// One part of a batch's answer.
#[derive(Debug)]
struct Part {
    content_id: Option<String>,
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
    /// For a change set's part: its answers.
    change_set: Vec<Part>,
}

struct BatchReply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    parts: Vec<Part>,
    /// For an answer that is no multipart document: its JSON.
    error: Value,
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_owned())
}

/// Reads a multipart/mixed answer as a client would: parts between
/// `--boundary` lines, each an HTTP response or a nested change set.
fn parts(body: &str, boundary: &str) -> Vec<Part> {
    let delimiter = format!("--{boundary}");
    let end = body
        .find(&format!("{delimiter}--"))
        .expect("the answer ends with its closing delimiter");
    body[..end]
        .split(&delimiter)
        .skip(1)
        .map(|raw| {
            let raw = raw.trim_start_matches("\r\n");
            let (mime, content) = raw.split_once("\r\n\r\n").expect("a part's headers end");
            let header = |name: &str| {
                mime.lines().find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                })
            };
            let content_type = header("Content-Type").unwrap_or_default();
            if content_type.starts_with("multipart/mixed") {
                let inner = boundary_of(&content_type).unwrap();
                return Part {
                    content_id: None,
                    status: 0,
                    headers: vec![],
                    body: Value::Null,
                    change_set: parts(content, &inner),
                };
            }
            assert_eq!(content_type, "application/http", "{raw}");
            let (head, body) = content.split_once("\r\n\r\n").unwrap_or((content, ""));
            let mut lines = head.lines();
            let status_line = lines.next().unwrap();
            assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
            Part {
                content_id: header("Content-ID"),
                status: status_line[9..12].parse().unwrap(),
                headers: lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
                    .collect(),
                body: serde_json::from_str(body.trim_end()).unwrap_or(Value::Null),
                change_set: vec![],
            }
        })
        .collect()
}

impl Part {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn names(&self) -> Vec<&str> {
        self.body["value"]
            .as_array()
            .unwrap_or_else(|| panic!("{:?}", self.body))
            .iter()
            .map(|row| row["name"].as_str().unwrap())
            .collect()
    }
}

async fn batch_with(
    platform: &RunningPlatform,
    token: Option<&str>,
    content_type: &str,
    body: String,
    prefer: Option<&str>,
) -> BatchReply {
    let mut request = dv_client(platform)
        .maybe_token(token)
        .request(Method::POST, "$batch")
        .header("Content-Type", content_type)
        .header("OData-Version", "4.0")
        .body(body);
    if let Some(prefer) = prefer {
        request = request.header("Prefer", prefer);
    }
    let reply = Reply::read(request).await;
    let content_type = reply.header("content-type").unwrap_or_default().to_owned();
    match content_type.starts_with("multipart/mixed") {
        true => BatchReply {
            status: reply.status,
            parts: parts(&reply.text, &boundary_of(&content_type).unwrap()),
            headers: reply.headers,
            error: Value::Null,
        },
        false => BatchReply {
            status: reply.status,
            headers: reply.headers,
            parts: vec![],
            error: reply.body,
        },
    }
}

/// A batch of `parts` (each a whole part after its delimiter line), as the
/// Python SDK writes one: CRLF line breaks, a quoted boundary.
async fn batch(
    platform: &RunningPlatform,
    token: &str,
    parts: &[String],
    prefer: Option<&str>,
) -> BatchReply {
    let body = parts
        .iter()
        .map(|p| format!("--batch_1\r\n{p}"))
        .collect::<String>()
        + "--batch_1--\r\n";
    batch_with(
        platform,
        Some(token),
        "multipart/mixed; boundary=\"batch_1\"",
        body,
        prefer,
    )
    .await
}

fn request(method: &str, url: &str, body: Option<&str>) -> String {
    match body {
        Some(body) => format!(
            "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n{method} {url} HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n\r\n{body}\r\n"
        ),
        None => format!(
            "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n{method} {url} HTTP/1.1\r\n\r\n"
        ),
    }
}

fn change_set(requests: &[(&str, &str, Option<&str>)]) -> String {
    let inner: String = requests
        .iter()
        .enumerate()
        .map(|(i, (method, url, body))| {
            let part = request(method, url, *body).replacen(
                "binary\r\n",
                &format!("binary\r\nContent-ID: {}\r\n", i + 1),
                1,
            );
            format!("--changeset_9\r\n{part}")
        })
        .collect();
    format!("Content-Type: multipart/mixed; boundary=changeset_9\r\n\r\n{inner}--changeset_9--\r\n")
}

async fn group_names(platform: &RunningPlatform, token: &str) -> Vec<String> {
    get(
        platform,
        token,
        "flowmachinegroups?$select=name&$orderby=name",
        None,
    )
    .await
    .body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn each_request_is_answered_in_order_as_if_sent_alone() {
    let (platform, _world) = start_identity(false).await;
    let admin = admin_token(&platform, DV_SCOPE).await;
    let base = format!("{}/orgs/contoso/api/data/v9.2", platform.url());
    let reply = batch(
        &platform,
        &admin,
        &[
            // The three forms of URL clients write: absolute, absolute
            // path, relative to the service root.
            request(
                "GET",
                &format!("{base}/flowmachinegroups?$select=name&$orderby=name"),
                None,
            ),
            request(
                "POST",
                "/api/data/v9.2/flowmachinegroups",
                Some(r#"{"name":"Batch pool"}"#),
            ),
            request(
                "GET",
                "flowmachinegroups?$select=name&$filter=name%20eq%20%27Batch%20pool%27",
                None,
            ),
        ],
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.error);
    assert_eq!(reply.headers["odata-version"], "4.0");
    let boundary = boundary_of(reply.headers["content-type"].to_str().unwrap()).unwrap();
    assert!(boundary.starts_with("batchresponse_"), "{boundary}");
    let [before, created, after] = reply.parts.as_slice() else {
        panic!("{:?}", reply.parts)
    };
    assert_eq!(before.status, 200, "{:?}", before.body);
    assert_eq!(before.names(), ["Finance bots", "HR bots", "LAPTOP-07"]);
    assert_eq!(created.status, 204, "{:?}", created.body);
    let entity = created.header("odata-entityid").unwrap();
    assert!(
        entity.starts_with(&format!("{base}/flowmachinegroups(")),
        "{entity}"
    );
    assert_eq!(after.names(), ["Batch pool"]);
    assert!(
        group_names(&platform, &admin)
            .await
            .contains(&"Batch pool".to_owned())
    );
}

/// A batch's inner URL may be longer than a URL sent alone (Dataverse takes
/// 64 KB there, 32 KB on the request line), so a FetchXML query too long
/// for a GET reaches FetchXML's own limit inside one.
#[tokio::test]
async fn a_long_fetchxml_in_a_batch_reaches_fetchxmls_own_limit() {
    let (platform, _world) = start_identity(false).await;
    let admin = admin_token(&platform, DV_SCOPE).await;
    let spaces = "+".repeat(33_000);
    let url = format!("flowmachinegroups?fetchXml=%3Cfetch%3E{spaces}%3C%2Ffetch%3E");
    assert!(url.len() > 32_768);
    let reply = batch(&platform, &admin, &[request("GET", &url, None)], None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.error);
    let [part] = reply.parts.as_slice() else {
        panic!("{:?}", reply.parts)
    };
    assert_eq!(part.status, 400, "{:?}", part.body);
    assert_eq!(part.body["error"]["code"], "0x80040203");
    let message = part.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("at most 32768"), "{message}");
}

#[tokio::test]
async fn the_first_failure_stops_the_batch_unless_the_client_prefers_to_continue() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform).await;
    let parts = [
        request(
            "GET",
            "flowmachinegroups(11111111-2222-3333-4444-555555555555)",
            None,
        ),
        request("GET", "WhoAmI", None),
    ];
    let stopped = batch(&platform, &token, &parts, None).await;
    let [missing] = stopped.parts.as_slice() else {
        panic!("{:?}", stopped.parts)
    };
    assert_eq!(
        (missing.status, &missing.body["error"]["code"]),
        (404, &Value::from("0x80040217"))
    );
    assert!(stopped.headers.get("preference-applied").is_none());

    let continued = batch(&platform, &token, &parts, Some("odata.continue-on-error")).await;
    assert_eq!(
        continued.headers["preference-applied"],
        "odata.continue-on-error"
    );
    let statuses: Vec<u16> = continued.parts.iter().map(|p| p.status).collect();
    assert_eq!(statuses, [404, 200]);
    assert!(continued.parts[1].body["UserId"].is_string());
}

#[tokio::test]
async fn a_change_set_of_one_runs_and_a_larger_one_is_refused_whole() {
    let (platform, _world) = start_identity(false).await;
    let admin = admin_token(&platform, DV_SCOPE).await;
    let one = batch(
        &platform,
        &admin,
        &[change_set(&[(
            "POST",
            "flowmachinegroups",
            Some(r#"{"name":"Alone"}"#),
        )])],
        None,
    )
    .await;
    let [set] = one.parts.as_slice() else {
        panic!("{:?}", one.parts)
    };
    let [created] = set.change_set.as_slice() else {
        panic!("{set:?}")
    };
    assert_eq!(
        (created.status, created.content_id.as_deref()),
        (204, Some("1"))
    );

    let two = batch(
        &platform,
        &admin,
        &[change_set(&[
            (
                "POST",
                "flowmachinegroups",
                Some(r#"{"name":"First of two"}"#),
            ),
            (
                "POST",
                "flowmachinegroups",
                Some(r#"{"name":"Second of two"}"#),
            ),
        ])],
        None,
    )
    .await;
    let [refused] = two.parts.as_slice() else {
        panic!("{:?}", two.parts)
    };
    assert_eq!(
        (refused.status, refused.content_id.as_deref()),
        (400, Some("1"))
    );
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("change set of one request only") && message.contains("holds 2"),
        "{message}"
    );
    let names = group_names(&platform, &admin).await;
    assert!(names.contains(&"Alone".to_owned()), "{names:?}");
    assert!(
        !names.iter().any(|n| n.ends_with("of two")),
        "nothing of a refused change set is kept: {names:?}"
    );
}

#[tokio::test]
async fn every_part_is_the_batchs_callers_and_this_orgs() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform).await;
    let unauthenticated = batch_with(
        &platform,
        None,
        "multipart/mixed; boundary=b",
        format!("--b\r\n{}--b--\r\n", request("GET", "WhoAmI", None)),
        None,
    )
    .await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);

    // A part's own Authorization is not used: the batch's token is.
    let with_own_token = request("GET", "WhoAmI", None).replace(
        "HTTP/1.1\r\n",
        "HTTP/1.1\r\nAuthorization: Bearer not-a-token\r\n",
    );
    let elsewhere = request(
        "GET",
        "https://fabrikam.crm.dynamics.com/api/data/v9.2/WhoAmI",
        None,
    );
    let nested = request("POST", "$batch", Some(""));
    let reply = batch(
        &platform,
        &token,
        &[with_own_token, elsewhere, nested],
        Some("odata.continue-on-error"),
    )
    .await;
    let [own, other_org, inner_batch] = reply.parts.as_slice() else {
        panic!("{:?}", reply.parts)
    };
    assert_eq!(own.status, 200, "{:?}", own.body);
    assert_eq!(other_org.status, 400);
    assert!(
        other_org.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is not a URL of this organization"),
        "{:?}",
        other_org.body
    );
    assert_eq!(inner_batch.status, 400);
    assert!(
        inner_batch.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot contain another batch"),
        "{:?}",
        inner_batch.body
    );
}

#[tokio::test]
async fn a_batch_that_cannot_be_read_is_refused_whole_in_dataverses_format() {
    let (platform, _world) = start_identity(false).await;
    let token = app_token(&platform).await;
    let whoami = request("GET", "WhoAmI", None);
    let cases = [
        (
            "application/json",
            format!("--b\r\n{whoami}--b--\r\n"),
            "Content-Type is 'application/json'",
        ),
        (
            "multipart/mixed",
            format!("--b\r\n{whoami}--b--\r\n"),
            "names no boundary",
        ),
        (
            "multipart/mixed; boundary=b",
            format!("--b\r\n{whoami}"),
            "closing delimiter",
        ),
        (
            "multipart/mixed; boundary=b",
            "--b\r\nContent-Type: application/http\r\n\r\nhello\r\n--b--\r\n".into(),
            "Part 1's request cannot be read",
        ),
        (
            "multipart/mixed; boundary=b",
            format!("{}--b--\r\n", format!("--b\r\n{whoami}").repeat(1001)),
            "more than 1000 requests",
        ),
    ];
    for (content_type, body, expected) in cases {
        let reply = batch_with(&platform, Some(&token), content_type, body, None).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{content_type}: {:?}",
            reply.error
        );
        assert_eq!(reply.error["error"]["code"], "0x80060888");
        let message = reply.error["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
    }
}
