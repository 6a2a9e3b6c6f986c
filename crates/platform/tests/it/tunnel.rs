//! Transparent mode: `CONNECT host:443` on the platform's own listener, TLS
//! ended with a certificate for that very name from the data dir's CA, the
//! request served as under that host; anything else refused, nothing dialled.

use std::sync::Arc;
use std::time::Duration;

use padconnect_client::{ClientCredential, Secret, TokenClient};
use padconnect_platform::{Platform, RunningPlatform};
use padconnect_testkit::Client;
use reqwest::StatusCode;
use rustls::pki_types::ServerName;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

const LOGIN: &str = "login.microsoftonline.com";

fn ca_pem(world: &IdentityWorld) -> Vec<u8> {
    std::fs::read(world.dir.path().join("data/tls/ca.pem")).unwrap()
}

/// A reqwest client that goes through the platform as its HTTPS proxy and
/// trusts the data dir's CA, as `padconnect env` sets tools up.
fn proxied(platform: &RunningPlatform, world: &IdentityWorld) -> reqwest::Client {
    padconnect_testkit::http_builder()
        .proxy(reqwest::Proxy::https(platform.url()).unwrap())
        .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem(world)).unwrap())
        .build()
        .unwrap()
}

/// Sends raw bytes and reads one HTTP/1.1 response head and its body.
async fn exchange(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    request: &str,
) -> (u16, String) {
    stream.write_all(request.as_bytes()).await.unwrap();
    read_response(stream).await
}

async fn read_response(stream: &mut (impl AsyncRead + Unpin)) -> (u16, String) {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        if stream.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn connect_line(platform: &RunningPlatform, line: &str) -> (TcpStream, u16, String) {
    let mut stream = TcpStream::connect(platform.addr).await.unwrap();
    let (status, body) = exchange(&mut stream, line).await;
    (stream, status, body)
}

pub(crate) fn tls_client(ca: &[u8], sni: bool) -> tokio_rustls::TlsConnector {
    tokio_rustls::TlsConnector::from(Arc::new(tls_client_config(ca, sni)))
}

/// A rustls client trusting only `ca`.
pub(crate) fn tls_client_config(ca: &[u8], sni: bool) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::pem::PemObject::pem_slice_iter(ca) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.enable_sni = sni;
    config
}

#[tokio::test]
async fn tools_reach_the_cloud_names_through_the_proxy() {
    let (platform, world) = start_identity(false).await;
    let http = proxied(&platform, &world);
    let token = secret_token(
        &http,
        &format!("https://{LOGIN}/{TENANT_ID}/oauth2/v2.0/token"),
        "https://api.powerplatform.com/.default",
    )
    .await;
    // The environment's own host, the seed's URL.
    let list = Client::with(http.clone(), format!("https://{ENV_HOST}"))
        .token(&token)
        .get("/connectivity/connections?api-version=1")
        .await;
    assert_eq!(list.status, StatusCode::OK);
    // Absolute URLs name the cloud's host, so clients come back the same way.
    let discovery = Client::with(http, format!("https://{LOGIN}"))
        .get(&format!(
            "/{TENANT_ID}/v2.0/.well-known/openid-configuration"
        ))
        .await;
    assert_eq!(
        discovery.json()["token_endpoint"],
        format!("https://{LOGIN}/{TENANT_ID}/oauth2/v2.0/token")
    );
    platform.shutdown().await.unwrap();
}

/// Through the proxy, BAP names the org under the cloud's Dataverse host,
/// and a regional org's challenge names its regional URL, so a client asks
/// for the token the API wants.
#[tokio::test]
async fn bap_and_dataverse_answer_under_the_clouds_names() {
    let (platform, world) = start_identity(false).await;
    let http = proxied(&platform, &world);
    let token_url = format!("https://{LOGIN}/{TENANT_ID}/oauth2/v2.0/token");
    let bap = secret_token(&http, &token_url, "https://service.powerapps.com/.default").await;
    let environment = Client::with(http.clone(), "https://api.bap.microsoft.com")
        .token(&bap)
        .get(&format!(
            "/providers/Microsoft.BusinessAppPlatform/environments/{ENVIRONMENT}?api-version=2023-06-01"
        ))
        .await;
    assert_eq!(
        environment.json()["properties"]["linkedEnvironmentMetadata"]["instanceUrl"],
        "https://contoso.crm.dynamics.com/"
    );
    let refused = Client::with(http, "https://contoso.crm4.dynamics.com")
        .get("/api/data/v9.2/WhoAmI")
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let challenge = refused.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("resource_id=\"https://contoso.crm4.dynamics.com/\""),
        "{challenge}"
    );
    platform.shutdown().await.unwrap();
}

/// Outside the public cloud an environment's host splits one character off
/// (Microsoft's `PowerPlatformApiDiscovery`); the two-character form names
/// no environment there, so the tunnel refuses it.
#[tokio::test]
async fn each_cloud_splits_the_environment_label_its_own_way() {
    let (platform, world) = start_identity(false).await;
    let http = proxied(&platform, &world);
    let token = TokenClient::new(http.clone(), &format!("https://{LOGIN}"))
        .client_credentials(
            TENANT_ID,
            SECRET_APP,
            &ClientCredential::Secret(Secret::new(SECRET)),
            "https://api.powerplatform.com/.default",
        )
        .await
        .unwrap()
        .token;
    let gov = "api.gov.powerplatform.microsoft.us";
    let one = format!(
        "https://37520647dbdf49faba016134c14680c.4.environment.{gov}/connectivity/connections?api-version=1"
    );
    let gov_client = Client::with(http, "").token(&token);
    assert_eq!(gov_client.get(&one).await.status, StatusCode::OK);
    // The Terraform provider's two-character split, in the same cloud.
    let two = format!(
        "https://37520647dbdf49faba016134c14680.c4.environment.{gov}/connectivity/connections?api-version=1"
    );
    assert_eq!(gov_client.get(&two).await.status, StatusCode::OK);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_tunnel_certificate_names_exactly_the_host_and_keeps_alive() {
    let (platform, world) = start_identity(false).await;
    let (stream, status, _) = connect_line(
        &platform,
        &format!("CONNECT {ENV_HOST}:443 HTTP/1.1\r\nHost: {ENV_HOST}:443\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 200);
    let name = ServerName::try_from(ENV_HOST.to_owned()).unwrap();
    let mut tls = tls_client(&ca_pem(&world), true)
        .connect(name, stream)
        .await
        .unwrap();
    let (_, session) = tls.get_ref();
    let leaf = session.peer_certificates().unwrap()[0].clone();
    let (_, cert) = x509_parser::parse_x509_certificate(&leaf).unwrap();
    let names: Vec<String> = cert
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, [format!("DNSName({ENV_HOST})")]);
    // Two requests on one tunnel: keep-alive inside it works.
    for _ in 0..2 {
        let (status, body) = exchange(
            &mut tls,
            &format!("GET /healthz HTTP/1.1\r\nHost: {ENV_HOST}\r\n\r\n"),
        )
        .await;
        assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    }
    // The same name with another port is still this tunnel's host.
    let (status, _) = exchange(
        &mut tls,
        &format!("GET /healthz HTTP/1.1\r\nHost: {ENV_HOST}:80\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 200);
    // Another site's name inside this tunnel is misdirected.
    let (status, _) = exchange(
        &mut tls,
        "GET /healthz HTTP/1.1\r\nHost: example.com\r\n\r\n",
    )
    .await;
    assert_eq!(status, 421);
    platform.shutdown().await.unwrap();
}

/// With `--tls` the listener is an HTTPS proxy: CONNECT over TLS, then the
/// tunnel's own TLS inside it.
#[tokio::test]
async fn tunnels_work_on_a_tls_listener_too() {
    let (platform, world) = start_identity(true).await;
    let ca = ca_pem(&world);
    let outer = TcpStream::connect(platform.addr).await.unwrap();
    let localhost = ServerName::try_from("localhost".to_owned()).unwrap();
    let mut outer = tls_client(&ca, true)
        .connect(localhost, outer)
        .await
        .unwrap();
    let (status, _) = exchange(
        &mut outer,
        &format!("CONNECT {LOGIN}:443 HTTP/1.1\r\nHost: {LOGIN}:443\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 200);
    let name = ServerName::try_from(LOGIN.to_owned()).unwrap();
    let mut inner = tls_client(&ca, true).connect(name, outer).await.unwrap();
    let (status, body) = exchange(
        &mut inner,
        &format!("GET /{TENANT_ID}/v2.0/.well-known/openid-configuration HTTP/1.1\r\nHost: {LOGIN}\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 200);
    let document: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        document["token_endpoint"],
        format!("https://{LOGIN}/{TENANT_ID}/oauth2/v2.0/token")
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn other_hosts_ports_and_malformed_lines_are_refused_and_nothing_is_dialled() {
    let (platform, _world) = start_identity(false).await;
    // A listener the platform must never reach.
    let bait = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bait_addr = bait.local_addr().unwrap();
    for (line, want) in [
        (
            format!("CONNECT {bait_addr} HTTP/1.1\r\nHost: {bait_addr}\r\n\r\n"),
            403,
        ),
        (
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n".to_owned(),
            403,
        ),
        (
            format!("CONNECT {LOGIN}:80 HTTP/1.1\r\nHost: {LOGIN}:80\r\n\r\n"),
            403,
        ),
        (
            "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n".to_owned(),
            403,
        ),
    ] {
        let (_, status, body) = connect_line(&platform, &line).await;
        assert_eq!(status, want, "{line}: {body}");
        assert!(body.ends_with('\n') && body.lines().count() == 1, "{body}");
    }
    let (_, status, _) =
        connect_line(&platform, "CONNECT /nowhere HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(status, 400);
    let (_, status, body) =
        connect_line(&platform, &format!("CONNECT {LOGIN}:443 HTTP/1.1\r\n\r\n")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("needs the header 'Host:"), "{body}");
    // HTTP/1.0 has no Host to require: Python's http.client tunnels so.
    let (_, status, _) =
        connect_line(&platform, &format!("CONNECT {LOGIN}:443 HTTP/1.0\r\n\r\n")).await;
    assert_eq!(status, 200);
    let accepted = tokio::time::timeout(Duration::from_millis(300), bait.accept()).await;
    assert!(accepted.is_err(), "the platform dialled {bait_addr}");
    // The listener still answers.
    let healthz = Client::new(platform.url()).get("/healthz").await;
    assert_eq!(healthz.status, StatusCode::OK);
    platform.shutdown().await.unwrap();
}

#[tokio::test]
async fn silent_tunnels_and_hellos_without_sni_are_closed() {
    let world = identity_world();
    let mut config = config(&world.dir.path().join("data"));
    config.world = Some(world.world.clone());
    config.idle_timeout = 1;
    let platform = Platform::start(config).await.unwrap();
    let line = format!("CONNECT {LOGIN}:443 HTTP/1.1\r\nHost: {LOGIN}:443\r\n\r\n");

    // Silent after CONNECT: closed after the idle timeout.
    let (mut silent, status, _) = connect_line(&platform, &line).await;
    assert_eq!(status, 200);
    let mut buffer = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buffer)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the silent tunnel stayed open: {read:?}"
    );

    // A ClientHello without SNI: the handshake fails, nothing is served.
    let (stream, _, _) = connect_line(&platform, &line).await;
    let name = ServerName::try_from(LOGIN.to_owned()).unwrap();
    let handshake = tls_client(&ca_pem(&world), false)
        .connect(name, stream)
        .await;
    assert!(handshake.is_err(), "a tunnel without SNI was served");

    // Idle inside a tunnel after a request: closed too.
    let (stream, _, _) = connect_line(&platform, &line).await;
    let name = ServerName::try_from(LOGIN.to_owned()).unwrap();
    let mut tls = tls_client(&ca_pem(&world), true)
        .connect(name, stream)
        .await
        .unwrap();
    let (status, _) = exchange(
        &mut tls,
        &format!("GET /healthz HTTP/1.1\r\nHost: {LOGIN}\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 200);
    let read = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut buffer)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the idle tunnel stayed open: {read:?}"
    );
    platform.shutdown().await.unwrap();
}

/// The CA vouches only for the names the platform serves: its certificate
/// carries critical name constraints that leave out every other site.
#[tokio::test]
async fn the_local_ca_is_constrained_to_the_served_names() {
    let (platform, world) = start_identity(false).await;
    let pem = ca_pem(&world);
    let der = rustls_pki_types::pem::PemObject::from_pem_slice(&pem)
        .map(|c: rustls_pki_types::CertificateDer<'_>| c.to_vec())
        .unwrap();
    let (_, ca) = x509_parser::parse_x509_certificate(&der).unwrap();
    let constraints = ca.name_constraints().unwrap().unwrap();
    assert!(constraints.critical);
    let permitted: Vec<String> = constraints
        .value
        .permitted_subtrees
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| s.base.to_string())
        .collect();
    for name in [
        "login.microsoftonline.com",
        "api.powerplatform.com",
        "crm4.dynamics.com",
        "management.azure.com",
        "localhost",
    ] {
        assert!(
            permitted.contains(&format!("DNSName({name})")),
            "{name} in {permitted:?}"
        );
    }
    assert!(
        !permitted
            .iter()
            .any(|p| p == "DNSName(dynamics.com)" || p == "DNSName(microsoftonline.com)")
    );
    platform.shutdown().await.unwrap();
}

fn connection_fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures/terraform_connection")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every field of the recorded answer is in ours, object by object: the
/// connector's own values, an OAuth connector's token expiry and a person's
/// e-mail aside (a desktop flow connection has none; its owner here is an app).
fn has_recorded_fields(ours: &Value, recorded: &Value, path: &str) {
    const CONNECTOR_OR_PERSON: [&str; 4] = [
        "connectionParameters",
        "expirationTime",
        "email",
        "userPrincipalName",
    ];
    match (ours, recorded) {
        (Value::Object(ours), Value::Object(recorded)) => {
            for (key, value) in recorded {
                if CONNECTOR_OR_PERSON.contains(&key.as_str()) {
                    continue;
                }
                let theirs = ours
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}.{key} is missing"));
                has_recorded_fields(theirs, value, &format!("{path}.{key}"));
            }
        }
        (Value::Array(ours), Value::Array(recorded)) => {
            if let (Some(a), Some(b)) = (ours.first(), recorded.first()) {
                has_recorded_fields(a, b, &format!("{path}[0]"));
            }
        }
        _ => {}
    }
}

/// `powerplatform_connection` (create, read, update with the whole GET
/// body sent back, delete) and `powerplatform_connections`, call by call
/// as `internal/services/connection/api_connection.go` makes them: the
/// environment host split as `helpers/uri.go` splits it, `Content-Type` on
/// every method, its `$filter`, its expected statuses; through the
/// platform as the HTTPS proxy, under the cloud's names.
#[tokio::test]
async fn the_terraform_providers_connection_calls_work_under_the_clouds_names() {
    let (platform, world) = start_identity(false).await;
    let http = proxied(&platform, &world);
    let token = TokenClient::new(http.clone(), &format!("https://{LOGIN}"))
        .client_credentials(
            TENANT_ID,
            SECRET_APP,
            &ClientCredential::Secret(Secret::new(SECRET)),
            "https://api.powerplatform.com/.default",
        )
        .await
        .unwrap()
        .token;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let query = format!("api-version=1&%24filter=environment+eq+%27{ENVIRONMENT}%27");
    let one = format!(
        "https://{ENV_HOST}/connectivity/connectors/shared_uiflow/connections/{id}?{query}"
    );
    let terraform = Client::with(http, "")
        .token(&token)
        .header("Content-Type", "application/json");
    let send = async |method: reqwest::Method, url: &str, body: Option<Value>| {
        let reply = terraform.send(method, url, &[], body.as_ref()).await;
        (reply.status, reply.body)
    };
    let values = serde_json::json!({
        "name": "azureRelay",
        "values": {
            "username": {"value": "CONTOSO\\svc-bot"},
            "password": {"value": crate::connections::WINDOWS_PASSWORD},
            "targetId": {"value": SHARED_GROUP},
        },
    });
    let create = serde_json::json!({"properties": {
        "displayName": "Payroll bot",
        "connectionParametersSet": values,
        "environment": {"id": format!("/providers/Microsoft.PowerApps/environments/{ENVIRONMENT}"), "name": ENVIRONMENT},
    }});
    let (status, created) = send(reqwest::Method::PUT, &one, Some(create)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    has_recorded_fields(&created, &connection_fixture("put_connection.json"), "put");

    let (status, read) = send(reqwest::Method::GET, &one, None).await;
    assert_eq!(status, StatusCode::OK, "{read}");

    // Update: the GET body, its display name and values replaced.
    let mut update = read.clone();
    update["properties"]["displayName"] = Value::from("Payroll bot (renamed)");
    update["properties"]["connectionParametersSet"] = values.clone();
    let (status, updated) = send(reqwest::Method::PUT, &one, Some(update)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        updated["properties"]["displayName"],
        "Payroll bot (renamed)"
    );

    let (status, list) = send(
        reqwest::Method::GET,
        &format!("https://{ENV_HOST}/connectivity/connections?api-version=1"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    has_recorded_fields(&list, &connection_fixture("get_connections.json"), "list");
    assert!(
        list["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == id.as_str())
    );

    let (status, _) = send(reqwest::Method::DELETE, &one, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, gone) = send(reqwest::Method::GET, &one, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{gone}");
    platform.shutdown().await.unwrap();
}
