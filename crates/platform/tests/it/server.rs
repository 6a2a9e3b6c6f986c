//! The server over real HTTP on a free port: probes, request ids, routing by
//! Host and by path, body limits, restarts.

use std::collections::{BTreeMap, BTreeSet};

use padconnect_platform::Platform;
use padconnect_testkit::{Client, Reply};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::{config, start_example};

const ENV_HOST: &str = "37520647dbdf49faba016134c14680.c4.environment.api.powerplatform.com";

async fn get(
    base: &str,
    host: Option<&str>,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut client = Client::new(base);
    if let Some(host) = host {
        client = client.host(host);
    }
    let reply = client.get(path).await;
    (reply.status, reply.headers, reply.text)
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn probes_answer_and_every_response_has_a_request_id() {
    let (platform, _dir) = start_example().await;
    let base = platform.url();
    let (status, headers, body) = get(&base, None, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["status"], "ok");
    let first = headers["x-ms-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::try_parse(&first).is_ok(), "{first}");

    let (status, headers, body) = get(&base, None, "/readyz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["database"], "sqlite");
    assert_ne!(headers["x-ms-request-id"].to_str().unwrap(), first);

    let (_, headers, _) = get(
        &base,
        Some("contoso.crm.dynamics.com"),
        "/api/data/v9.2/nothing",
    )
    .await;
    assert!(headers.contains_key("x-ms-request-id"));
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn cloud_host_names_reach_their_surface() {
    let (platform, _dir) = start_example().await;
    let base = platform.url();

    let (status, headers, body) = get(&base, Some("login.microsoftonline.com"), "/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let body = json(&body);
    assert_eq!(body["error_codes"][0], 900561);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS900561: ")
    );
    assert_eq!(headers["cache-control"], "no-store");

    for host in [
        ENV_HOST,
        "api.powerplatform.com",
        "37520647dbdf49faba016134c14680.c4.environment.api.localhost:7232",
    ] {
        let (status, _, body) = get(&base, Some(host), "/connectivity/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{host}");
        assert_eq!(json(&body)["error"]["code"], "ResourceNotFound", "{host}");
    }

    for host in [
        "contoso.crm.dynamics.com",
        "contoso.crm4.dynamics.com",
        "contoso.crm.localhost",
    ] {
        let (status, headers, body) = get(&base, Some(host), "/api/data/v9.2/widgets/all").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{host}");
        assert_eq!(json(&body)["error"]["code"], "0x8006088a");
        assert_eq!(
            json(&body)["error"]["message"],
            "Resource not found for the segment 'all'."
        );
        assert_eq!(headers["odata-version"], "4.0");
    }

    let (status, headers, body) = get(&base, Some("make.powerautomate.com"), "/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(body.contains("There is no page at /nothing-here."));
    platform.shutdown().await.unwrap();
}

/// A known route called with a method it does not take: each surface
/// answers in its own format (axum's default is an empty 405), and the
/// 405s name the methods the route takes in `Allow`.
#[tokio::test]
async fn a_method_a_route_does_not_take_gets_the_surface_format() {
    let (platform, _dir) = start_example().await;
    let client = Client::new(platform.url());
    let send = |method: Method, path: &'static str| {
        Reply::read(
            client
                .request(method, path)
                .header("content-type", "application/json")
                .body("{}"),
        )
    };

    for (method, path, allow) in [
        (
            Method::POST,
            "/orgs/contoso/api/data/v9.2/WhoAmI",
            "GET,HEAD",
        ),
        (
            Method::PUT,
            "/orgs/contoso/api/data/v9.2/workflows",
            "GET,HEAD,POST,PATCH,DELETE",
        ),
        (
            Method::GET,
            "/orgs/contoso/api/data/v9.2/ImportSolution",
            "POST",
        ),
    ] {
        let reply = send(method.clone(), path).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(reply.headers["allow"], allow, "{method} {path}");
        let body = json(&reply.text);
        assert_eq!(body["error"]["code"], "0x80060888", "{method} {path}");
        assert_eq!(
            body["error"]["message"],
            format!("The requested resource does not support http method '{method}'.")
        );
    }

    for (method, path, accepted) in [
        (
            Method::GET,
            "/contoso.onmicrosoft.com/oauth2/v2.0/token",
            "POST",
        ),
        (Method::PUT, "/contoso.onmicrosoft.com/oauth2/token", "POST"),
        (
            Method::POST,
            "/contoso.onmicrosoft.com/discovery/v2.0/keys",
            "GET",
        ),
    ] {
        let reply = send(method.clone(), path).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{method} {path}");
        let body = json(&reply.text);
        assert_eq!(body["error"], "invalid_request");
        assert_eq!(body["error_codes"][0], 900561);
        let description = body["error_description"].as_str().unwrap();
        assert!(
            description.starts_with(&format!(
                "AADSTS900561: The endpoint only accepts {accepted} requests. Received a {method} request."
            )),
            "{description}"
        );
    }

    for (method, path) in [
        (Method::POST, "/arm/subscriptions?api-version=2022-12-01"),
        (
            Method::DELETE,
            "/bap/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2023-06-01",
        ),
    ] {
        let reply = send(method.clone(), path).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(reply.headers["allow"], "GET,HEAD", "{method} {path}");
        let body = json(&reply.text);
        assert_eq!(body["error"]["code"], "MethodNotAllowed", "{method} {path}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(method.as_str()),
            "{body}"
        );
    }
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn bare_addresses_use_path_style_routes() {
    let (platform, _dir) = start_example().await;
    let base = platform.url();

    let (status, _, body) = get(&base, None, "/contoso.onmicrosoft.com/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json(&body)["error_codes"][0], 900561);

    let (status, _, body) = get(&base, None, "/orgs/contoso/api/data/v9.2/widgets/all").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json(&body)["error"]["code"], "0x8006088a");

    let (_, _, body) = get(
        &base,
        None,
        "/environments/37520647-dbdf-49fa-ba01-6134c14680c4/connectivity/nope",
    )
    .await;
    let body = json(&body);
    assert_eq!(body["error"]["code"], "ResourceNotFound");
    assert_eq!(
        body["error"]["message"],
        "The route '/connectivity/nope' does not exist on the Power Platform API."
    );

    let (status, _, body) = get(
        &base,
        None,
        "/environments/not-an-env/connectivity/connections",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json(&body)["error"]["code"], "EnvironmentNotFound");

    let (status, _, body) = get(&base, None, "/connectivity/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json(&body)["error"]["code"], "ResourceNotFound");

    // Doubled leading slashes route as single ones; they once panicked the
    // prefix strip (found by the `host` fuzz target).
    let (status, _, body) = get(&base, None, "//arm?/").await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(
        json(&body)["error"].is_object(),
        "ARM's error format: {body}"
    );
    let (status, headers, _) = get(&base, None, "//orgs/contoso/api/data/v9.2/WhoAmI").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "Dataverse asks for a token"
    );
    assert!(headers.contains_key("www-authenticate"));

    // A name the platform does not answer to (no --public-url here) gets
    // HTTP.sys's answer, not the portal: DNS rebinding reaches nothing.
    let (status, _, body) = get(&base, Some("padconnect.internal:8080"), "/machines").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("Bad Request - Invalid Hostname"), "{body}");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn oversized_bodies_get_413_in_each_surface_format() {
    let (platform, _dir) = start_example().await;
    let big = vec![b'x'; 1024 * 1024 + 1];
    let cases = [
        (
            "login.microsoftonline.com",
            "/contoso.onmicrosoft.com/oauth2/v2.0/token",
        ),
        (
            ENV_HOST,
            "/connectivity/connectors/shared_uiflow/connections/x",
        ),
        ("contoso.crm.dynamics.com", "/api/data/v9.2/flowmachines"),
        ("make.powerautomate.com", "/"),
    ];
    for (host, path) in cases {
        let request = Client::new(platform.url())
            .host(host)
            .request(Method::POST, path)
            .body(big.clone());
        let response = Reply::read(request).await;
        assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE, "{host}");
        let body = response.text;
        assert!(
            body.contains("the limit is 1048576 bytes"),
            "{host}: {body}"
        );
        if host.starts_with("make.") {
            assert!(body.starts_with("<!doctype html>"));
        } else {
            assert!(
                json(&body)["error"].is_string() || json(&body)["error"]["code"].is_string(),
                "{body}"
            );
        }
    }
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_world_is_still_there_after_a_restart() {
    let (platform, dir) = start_example().await;
    let counts = platform.store().counts().await.unwrap();
    assert_eq!(
        (counts.tenants, counts.machine_groups, counts.machines),
        (1, 2, 3)
    );
    platform.shutdown().await.unwrap();

    // Restart on the same data dir, without the world file.
    let again = Platform::start(config(dir.path())).await.unwrap();
    assert_eq!(again.store().counts().await.unwrap(), counts);
    let (status, _, _) = get(&again.url(), None, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    again.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_bad_world_file_stops_the_start_with_its_problems() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.toml");
    std::fs::write(
        &world,
        "[[tenants]]\nid = \"x\"\ndomain = \"contoso.com\"\n",
    )
    .unwrap();
    let mut config = config(dir.path());
    config.world = Some(world);
    let err = Platform::start(config)
        .await
        .err()
        .expect("the start fails")
        .to_string();
    assert!(err.contains("tenants[0].id: 'x' is not a GUID"), "{err}");
}

/// What a copied or shared data dir could leak stays its owner's: the dir
/// is 0700, the database (with its WAL) and the master key 0600.
#[cfg(unix)]
#[tokio::test]
async fn data_files_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let (platform, dir) = crate::support::start_example().await;
    // A write, so the WAL exists.
    Client::new(platform.url()).get("/healthz").await;
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(""), 0o700);
    for file in [
        "platform.db",
        "platform.db-wal",
        "master.key",
        "tls/ca.key.sealed",
    ] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
    platform.shutdown().await.unwrap();
}

/// Half-sent requests and silent kept-alive connections are closed after
/// the idle timeout, and the platform answers others meanwhile: held-open
/// sockets cannot pile up until it runs out of file handles.
#[tokio::test]
async fn half_sent_and_silent_connections_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::support::config(dir.path());
    config.idle_timeout = 1;
    let platform = padconnect_platform::Platform::start(config).await.unwrap();
    let mut held = Vec::new();
    for _ in 0..50 {
        let mut stream = tokio::net::TcpStream::connect(platform.addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHo")
            .await
            .unwrap();
        held.push(stream);
    }
    // A kept-alive connection that goes silent after one request.
    let mut kept = tokio::net::TcpStream::connect(platform.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 512];
    assert!(kept.read(&mut answer).await.unwrap() > 0);
    held.push(kept);

    let healthz = Client::new(platform.url()).get("/healthz").await;
    assert_eq!(
        healthz.status,
        reqwest::StatusCode::OK,
        "answers while they are held"
    );
    for stream in &mut held {
        // Whatever the platform says before closing (a 408, or nothing), it closes.
        let closed = crate::support::closed_within(stream, std::time::Duration::from_secs(5)).await;
        assert!(closed, "a silent connection stayed open");
    }
    platform.shutdown().await.unwrap();
}

/// A body trickled forever hits the request deadline: a 408 in the
/// surface's format, while the connection-level idle timeout (headers
/// only) would never fire.
#[tokio::test]
async fn a_body_that_never_finishes_gets_408_at_the_request_deadline() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let world = crate::support::identity_world();
    let mut config = crate::support::config(&world.dir.path().join("data"));
    config.world = Some(world.world.clone());
    config.idle_timeout = 60;
    config.request_timeout = 1;
    let platform = padconnect_platform::Platform::start(config).await.unwrap();
    // The connections API checks the caller before it reads a body.
    let token = crate::support::app_token_for(
        &platform,
        crate::support::SECRET_APP,
        "https://api.powerplatform.com/.default",
    )
    .await;
    let cases = [
        (
            "POST",
            "/8a235459-3d2c-415d-8c1e-e2fe133509ad/oauth2/v2.0/token",
            "\"error_codes\":[9002313]",
        ),
        (
            "PUT",
            "/environments/37520647-dbdf-49fa-ba01-6134c14680c4/connectivity/connectors/shared_uiflow/connections/x?api-version=1",
            "\"code\":\"RequestTimeout\"",
        ),
    ];
    for (method, path, says) in cases {
        let mut stream = tokio::net::TcpStream::connect(platform.addr).await.unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"a\":"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        // One byte a while, never the whole body.
        let mut answer = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            let mut buffer = [0u8; 2048];
            loop {
                tokio::select! {
                    n = stream.read(&mut buffer) => match n {
                        Ok(0) | Err(_) => break,
                        Ok(n) => answer.extend_from_slice(&buffer[..n]),
                    },
                    _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {
                        let _ = stream.write_all(b" ").await;
                    }
                }
                if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                    break;
                }
            }
        })
        .await;
        assert!(read.is_ok(), "no answer within 10 s");
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(text.contains(says), "{text}");
    }
    let healthz = Client::new(platform.url()).get("/healthz").await;
    assert_eq!(healthz.status, reqwest::StatusCode::OK);
    platform.shutdown().await.unwrap();
}

/// Every operation of `/openapi.json`, with its path parameters' examples:
/// (method, path).
fn documented_operations(document: &Value) -> Vec<(String, String)> {
    let parameters = &document["components"]["parameters"];
    let mut operations = Vec::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        let mut path = template.clone();
        for parameter in parameters.as_object().unwrap().values() {
            if parameter["in"] == "path" {
                let name = parameter["name"].as_str().unwrap();
                let example = parameter["example"].as_str().unwrap();
                path = path.replace(&format!("{{{name}}}"), example);
            }
        }
        assert!(
            !path.contains('{'),
            "a path parameter has no example: {template}"
        );
        for method in ["get", "put", "post", "patch", "delete"] {
            if item.get(method).is_some() {
                operations.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

#[tokio::test]
async fn the_openapi_document_is_served_and_every_operation_in_it_is_routed() {
    let (platform, _dir) = start_example().await;
    let base = platform.url();
    let (status, headers, body) = get(&base, None, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    let document = json(&body);
    assert_eq!(document["openapi"], "3.1.0");

    // Each operation reaches its surface, which asks for a token in its own
    // format: never the portal's HTML, never a route that does not exist.
    let operations = documented_operations(&document);
    assert!(operations.len() >= 30, "{}", operations.len());
    let client = Client::new(&base);
    for (method, path) in operations {
        let response = bearerless(&client, &method, &path).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert!(
            response.headers.contains_key("www-authenticate"),
            "{method} {path}"
        );
    }

    // A Dataverse path whose org is no org name answers in Dataverse's
    // format too (schemathesis found the portal's HTML here).
    let (status, headers, body) = get(&base, None, "/orgs/no%20org/api/data/v9.2/WhoAmI").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["content-type"], "application/json");
    assert!(
        json(&body)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not an org name")
    );
    platform.shutdown().await.unwrap();
}

/// What the platform's Dataverse surface serves, the list its dispatch
/// reads (compiled here as a module of its own: it is plain data).
#[path = "../../src/dataverse/served.rs"]
#[allow(dead_code)] // The dispatch's look-ups.
mod served;

const METHODS: [&str; 5] = ["GET", "PUT", "POST", "PATCH", "DELETE"];

/// Every operation of `/openapi.json` by (method, path template).
fn documented_templates(document: &Value) -> BTreeMap<(String, String), Value> {
    let mut operations = BTreeMap::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(operation) = item.get(method.to_lowercase()) {
                operations.insert((method.to_owned(), template.clone()), operation.clone());
            }
        }
    }
    operations
}

/// A path template with the examples of its path parameters, or the
/// parameter that has none.
fn instantiated(document: &Value, template: &str) -> Result<String, String> {
    let mut path = template.to_owned();
    for parameter in document["components"]["parameters"]
        .as_object()
        .unwrap()
        .values()
    {
        if let (Some("path"), Some(name), Some(example)) = (
            parameter["in"].as_str(),
            parameter["name"].as_str(),
            parameter["example"].as_str(),
        ) {
            path = path.replace(&format!("{{{name}}}"), example);
        }
    }
    match path.find('{') {
        None => Ok(path),
        Some(start) => Err(path[start..]
            .split('}')
            .next()
            .unwrap_or_default()
            .to_owned()
            + "}"),
    }
}

/// `method path?api-version=1` with a JSON body of `{}` and no token.
async fn bearerless(client: &Client, method: &str, path: &str) -> Reply {
    let separator = if path.contains('?') { '&' } else { '?' };
    let request = client
        .request(
            method.parse().unwrap(),
            &format!("{path}{separator}api-version=1"),
        )
        .header("content-type", "application/json")
        .body("{}");
    Reply::read(request).await
}

/// Whether a bearer-less request reaches a route: it is asked for a token
/// (401 with a challenge), where a method or path with no route gets a 404
/// or a 405.
async fn routed(client: &Client, method: &str, path: &str) -> bool {
    let response = bearerless(client, method, path).await;
    match response.status {
        StatusCode::UNAUTHORIZED => {
            assert!(
                response.headers.contains_key("www-authenticate"),
                "{method} {path}: a 401 without a challenge"
            );
            true
        }
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => false,
        other => panic!("{method} {path}: {other}, neither a route nor none"),
    }
}

#[tokio::test]
async fn every_route_served_is_in_the_openapi_document() {
    let (platform, _dir) = start_example().await;
    let base = platform.url();
    let document = json(&get(&base, None, "/openapi.json").await.2);
    let documented = documented_templates(&document);

    // The Dataverse surface's operations, from the list its dispatch reads.
    const ROOT: &str = "/orgs/{org}/api/data/v9.2";
    let mut listed = BTreeSet::new();
    for set in served::ENTITY_SETS {
        let (rows, row) = (
            format!("{ROOT}/{}", set.name),
            format!("{ROOT}/{}({{id}})", set.name),
        );
        listed.insert(("GET".to_owned(), rows.clone()));
        listed.insert(("GET".to_owned(), row.clone()));
        for write in set.writes {
            let path = if *write == "POST" { &rows } else { &row };
            listed.insert((write.to_string(), path.clone()));
        }
    }
    for operation in served::OPERATIONS {
        listed.insert((
            operation.method.to_owned(),
            format!("{ROOT}/{}", operation.path),
        ));
    }

    // Every method of every path listed or documented, probed without a
    // token. The connections API answers 405 to a method it does not take
    // and 404 to a path it does not have, so what answers 401 there is
    // routed. The Dataverse routes ask for the token before they look at
    // the entity set (`{segment}`), so there the list says which of the
    // methods that reach them are served; beyond the entity set (actions,
    // functions, values) the probe tells routes apart too.
    let client = Client::new(&base);
    let mut paths: BTreeSet<&String> = listed.iter().map(|(_, path)| path).collect();
    paths.extend(documented.keys().map(|(_, path)| path));
    let mut problems = Vec::new();
    let mut connections = BTreeMap::<&str, BTreeSet<(&str, &str)>>::new();
    for template in paths {
        let path = match instantiated(&document, template) {
            Ok(path) => path,
            Err(parameter) => {
                problems.push(format!(
                    "{template}: no example for {parameter} in components.parameters"
                ));
                continue;
            }
        };
        for method in METHODS {
            let key = (method.to_owned(), template.clone());
            let is_routed = routed(&client, method, &path).await;
            let is_documented = documented.contains_key(&key);
            let is_listed = listed.contains(&key);
            if is_listed && !is_routed {
                problems.push(format!(
                    "{method} {template}: listed as served, but not routed"
                ));
            }
            if is_documented && !is_routed {
                problems.push(format!("{method} {template}: documented, but not routed"));
            }
            let is_connections = !template.starts_with("/orgs/");
            if (is_listed || (is_connections && is_routed)) && !is_documented {
                problems.push(format!(
                    "{method} {template}: served, but not in the document"
                ));
            }
            if is_connections && is_routed {
                for prefix in [
                    "/environments/{environmentId}/connectivity",
                    "/connectivity/environments/{environmentId}",
                ] {
                    if let Some(route) = template.strip_prefix(prefix) {
                        connections
                            .entry(prefix)
                            .or_default()
                            .insert((method, route));
                    }
                }
            }
        }
    }

    // An operation the document says succeeds is served; one it documents
    // without a success is a refusal, a 405.
    for ((method, template), operation) in &documented {
        if !template.starts_with("/orgs/") {
            continue;
        }
        let statuses = operation["responses"].as_object().unwrap();
        let succeeds = statuses.keys().any(|status| status.starts_with('2'));
        let key = (method.clone(), template.clone());
        if succeeds && !listed.contains(&key) {
            problems.push(format!("{method} {template}: documented, but not served"));
        }
        if !succeeds && !statuses.contains_key("405") {
            problems.push(format!(
                "{method} {template}: documented with neither a success nor a 405"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "/openapi.json and the routes differ:\n{}",
        problems.join("\n")
    );

    // The connections API has the same routes under both prefixes.
    assert_eq!(connections.len(), 2, "{connections:?}");
    let mut prefixes = connections.values();
    assert_eq!(prefixes.next(), prefixes.next());
    platform.shutdown().await.unwrap();
}

/// A path whose %-escapes are no UTF-8 would fail every handler's path
/// extractor with axum's plain text; dispatch refuses it first, in the
/// format of the service the request was for.
#[tokio::test]
async fn a_path_that_decodes_to_no_utf8_gets_400_in_the_surface_format() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (platform, _dir) = start_example().await;
    for (host, path, expected) in [
        (
            ENV_HOST,
            "/connectivity/connectors/shared_uiflow/connections/%FF?api-version=1",
            "\"code\":\"InvalidRequestUri\"",
        ),
        (
            "contoso.crm.dynamics.com",
            "/api/data/v9.2/flowmachinegroups(%C3%28)",
            "\"code\":\"0x80040203\"",
        ),
        (
            "login.microsoftonline.com",
            "/%FF/oauth2/v2.0/token",
            "\"error\":\"invalid_request\"",
        ),
    ] {
        let mut stream = tokio::net::TcpStream::connect(platform.addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{host}{path}: {answer}");
        assert!(answer.contains(expected), "{host}{path}: {answer}");
        assert!(answer.contains("not UTF-8"), "{host}{path}: {answer}");
    }
    platform.shutdown().await.unwrap();
}

/// Dataverse's documented URL limits, answered as HTTP.sys answers them:
/// a URL over 32,768 characters gets 414 and a path segment over 260
/// characters 400 "Invalid URL", each as an HTML page; at the limit, the
/// request reaches Dataverse (its 401: no token). Other surfaces keep their
/// own answers.
#[tokio::test]
async fn dataverse_urls_over_its_limits_get_http_sys_pages() {
    let (platform, _dir) = start_example().await;
    let base = format!("http://{}", platform.addr);
    let dataverse = Some("contoso.crm.dynamics.com");
    let whoami = "/api/data/v9.2/WhoAmI";
    let url_of = |chars: usize| {
        let query = "?x=";
        format!(
            "{whoami}{query}{}",
            "a".repeat(chars - whoami.len() - query.len())
        )
    };
    let (status, _, _) = get(&base, dataverse, &url_of(32_768)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "at the limit");
    let (status, headers, body) = get(&base, dataverse, &url_of(32_769)).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    assert_eq!(headers["content-type"], "text/html; charset=us-ascii");
    assert!(
        body.contains("<h2>Request URL Too Long</h2>")
            && body.contains("HTTP Error 414. The request URL is too long."),
        "{body}"
    );

    // A segment is counted as its characters once %-decoded.
    let segment = |chars: usize| {
        format!(
            "/api/data/v9.2/flowmachines({})",
            "%C3%A9".repeat(chars - 14)
        )
    };
    let (status, _, _) = get(&base, dataverse, &segment(260)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "at the limit");
    let (status, headers, body) = get(&base, dataverse, &segment(261)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(headers["content-type"], "text/html; charset=us-ascii");
    assert!(
        body.contains("<h2>Bad Request - Invalid URL</h2>")
            && body.contains("HTTP Error 400. The request URL is invalid."),
        "{body}"
    );
    let (status, _, body) = get(&base, None, &format!("/orgs/contoso{}", segment(261))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "path-style: {body}");
    assert!(body.contains("Invalid URL"), "{body}");

    let connections = format!(
        "/connectivity/connectors/shared_uiflow/connections/{}?api-version=1",
        "a".repeat(300)
    );
    let (status, _, body) = get(&base, Some(ENV_HOST), &connections).await;
    assert!(status.is_client_error(), "{status}");
    assert!(json(&body)["error"]["code"].is_string(), "{body}");
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_gets_413_in_the_surface_format() {
    // No Content-Length to refuse up front: the limit holds as the body is
    // read, before any surface sees it.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (platform, _dir) = start_example().await;
    let mut stream = tokio::net::TcpStream::connect(platform.addr).await.unwrap();
    let head = format!(
        "PUT /connectivity/connectors/shared_uiflow/connections/x?api-version=1 HTTP/1.1\r\n\
         Host: {ENV_HOST}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
    for _ in 0..17 {
        // The platform may answer and close before the last chunks.
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"code\":\"RequestEntityTooLarge\""),
        "{answer}"
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_early_answer_to_a_large_body_reaches_the_client_over_tls() {
    // Found by schemathesis (Python requests): a PUT whose query is refused
    // before its body is read (a bad api-version) closed the TLS connection
    // while the client, which sends its whole body before it reads, was
    // still sending a few hundred kilobytes; it saw a reset instead of the
    // 400. The body is now read whole (within the limit) first. A raw TLS
    // client here does as requests does: write everything, then read.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (platform, world) = crate::support::start_identity(true).await;
    let ca = std::fs::read(world.dir.path().join("data/tls/ca.pem")).unwrap();
    let body = format!("{{\"padding\":\"{}\"}}", "x".repeat(900 * 1024));
    let request = format!(
        "PUT /environments/37520647-dbdf-49fa-ba01-6134c14680c4/connectivity/connectors/shared_uiflow/connections/6c1f0b2a7d3e4f5a9b8c1d2e3f4a5b6c?api-version=null HTTP/1.1\r\n\
         Host: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let tcp = tokio::net::TcpStream::connect(platform.addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = crate::tunnel::tls_client(&ca, true)
        .connect(name, tcp)
        .await
        .unwrap();
    // The headers and a first part, a pause in which an early answer would
    // be sent and the connection closed, then the rest.
    let (first, rest) = request.as_bytes().split_at(64 * 1024);
    tls.write_all(first).await.unwrap();
    tls.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for part in rest.chunks(64 * 1024) {
        tls.write_all(part).await.expect("the whole body is taken");
    }
    tls.flush().await.unwrap();
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer)
        .await
        .expect("the answer arrives, not a reset");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("InvalidApiVersionParameter"), "{answer}");
    platform.shutdown().await.unwrap();
}
