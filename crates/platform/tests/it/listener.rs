//! The listener itself, plain and TLS: HTTP/1.1 only, the idle limit on a
//! TLS handshake, and a shutdown that does not wait for idle connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use padconnect_platform::Platform;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{closed_within, config, start_identity};
use crate::tunnel::tls_client_config;

/// A client that offers h2 first still gets HTTP/1.1: the platform builds
/// no HTTP/2 and says so in ALPN, so curl and browsers fall back cleanly.
#[tokio::test]
async fn the_tls_listener_negotiates_http1_even_when_h2_is_offered_first() {
    let (platform, world) = start_identity(true).await;
    let ca = std::fs::read(world.dir.path().join("data/tls/ca.pem")).unwrap();
    let mut client = tls_client_config(&ca, true);
    client.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(platform.addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    platform.shutdown().await.unwrap();
}

/// A client that connects to the TLS port and never sends a ClientHello is
/// held to the same idle limit as one that never finishes its headers.
#[tokio::test]
async fn a_silent_tls_client_is_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.tls = true;
    config.idle_timeout = 1;
    let platform = Platform::start(config).await.unwrap();
    let mut silent = TcpStream::connect(platform.addr).await.unwrap();
    // Half a ClientHello: a record header announcing more than follows.
    let mut half = TcpStream::connect(platform.addr).await.unwrap();
    half.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .unwrap();
    for stream in [&mut silent, &mut half] {
        assert!(
            closed_within(stream, Duration::from_secs(5)).await,
            "a connection without a TLS handshake stayed open"
        );
    }
    platform.shutdown().await.unwrap();
}

/// Shutdown closes kept-alive connections at once instead of waiting out
/// the drain limit (10 s), and the clients see the connection end.
#[tokio::test]
async fn shutdown_closes_idle_kept_alive_connections_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::start(config(dir.path())).await.unwrap();
    let mut kept = TcpStream::connect(platform.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 512];
    assert!(kept.read(&mut answer).await.unwrap() > 0);
    let started = Instant::now();
    platform.shutdown().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown waited {:?} for an idle connection",
        started.elapsed()
    );
    assert!(closed_within(&mut kept, Duration::from_secs(1)).await);
}

/// RFC 9112 3.2: an HTTP/1.1 request with two Host headers, or none, is a
/// 400 in the format of the surface its path names (here Dataverse's),
/// not routed by whichever Host came first.
#[tokio::test]
async fn a_request_with_two_hosts_or_none_is_refused() {
    let (platform, _world) = start_identity(false).await;
    let ask = |request: &'static [u8]| async move {
        let mut tcp = TcpStream::connect(platform.addr).await.unwrap();
        tcp.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        tcp.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    };
    let two = ask(b"GET /orgs/contoso/api/data/v9.2/WhoAmI HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: contoso.crm.dynamics.com\r\nConnection: close\r\n\r\n").await;
    assert!(two.starts_with("HTTP/1.1 400"), "{two}");
    assert!(two.contains("more than one Host header"), "{two}");
    assert!(two.contains("0x80040203"), "Dataverse's format: {two}");
    let none = ask(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    assert!(none.starts_with("HTTP/1.1 400"), "{none}");
    assert!(none.contains("no Host header"), "{none}");
    let one = ask(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await;
    assert!(one.starts_with("HTTP/1.1 200"), "{one}");
    let old = ask(b"GET /healthz HTTP/1.0\r\n\r\n").await;
    assert!(
        old.starts_with("HTTP/1.0 200") || old.starts_with("HTTP/1.1 200"),
        "HTTP/1.0 needs no Host: {old}"
    );
    platform.shutdown().await.unwrap();
}

/// Bare LF line endings are read as line endings, as Microsoft's HTTP.sys
/// reads them by default ("Parser enhancements", HTTP Server API: "Requests
/// that use a single Line Feed (LF) as line terminators ... are enabled by
/// default"), as Kestrel has since .NET 7 (dotnet/aspnetcore#43202; strict
/// CRLF is its opt-in switch) and RFC 9112 section 2.2 allows; a header
/// split that way is still one header, so two Hosts written with bare LFs
/// are refused too.
#[tokio::test]
async fn bare_lf_line_endings_are_read_as_http_sys_reads_them() {
    let (platform, _world) = start_identity(false).await;
    let ask = |request: &'static [u8]| async move {
        let mut tcp = TcpStream::connect(platform.addr).await.unwrap();
        tcp.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        tcp.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    };
    let bare = ask(b"GET /healthz HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n").await;
    assert!(bare.starts_with("HTTP/1.1 200"), "{bare}");
    let two = ask(b"GET /healthz HTTP/1.1\nHost: 127.0.0.1\nHost: contoso.crm.dynamics.com\nConnection: close\n\n").await;
    assert!(two.starts_with("HTTP/1.1 400"), "{two}");
    let carriage = ask(b"GET /healthz HTTP/1.1\rHost: 127.0.0.1\rConnection: close\r\r").await;
    assert!(
        carriage.is_empty() || carriage.starts_with("HTTP/1.1 400"),
        "a bare CR ends no line: {carriage}"
    );
    platform.shutdown().await.unwrap();
}

/// Only the names the platform answers to are served (IP addresses,
/// localhost, the cloud's names, `--public-url`'s): a page whose name an
/// attacker points at 127.0.0.1 (DNS rebinding) gets HTTP.sys's 400.
#[tokio::test]
async fn a_name_the_platform_does_not_answer_to_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.public_url = Some("https://padconnect.internal:8443".into());
    let platform = Platform::start(config).await.unwrap();
    let ask = |host: &'static str| async move {
        let mut tcp = TcpStream::connect(platform.addr).await.unwrap();
        let request = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tcp.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    };
    let rebound = ask("attacker.example:7232").await;
    assert!(rebound.starts_with("HTTP/1.1 400"), "{rebound}");
    assert!(
        rebound.contains("Bad Request - Invalid Hostname"),
        "{rebound}"
    );
    for served in [
        "127.0.0.1:7232",
        "[::1]:7232",
        "localhost",
        "login.microsoftonline.com",
        "padconnect.internal:8443",
        "PADCONNECT.internal",
    ] {
        let answer = ask(served).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{served}: {answer}");
    }
    platform.shutdown().await.unwrap();
}

/// A client that sends requests and never reads the answers is closed
/// once a write has waited the idle timeout: it cannot hold its
/// connection, and the answers queued for it, for ever. Far more is asked
/// than the two sockets' buffers hold, so the platform must stall on a write.
#[tokio::test]
async fn a_client_that_never_reads_is_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.idle_timeout = 1;
    let platform = Platform::start(config).await.unwrap();
    let mut greedy = TcpStream::connect(platform.addr).await.unwrap();
    let one = b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let size = padconnect_testkit::Client::new(format!("http://{}", platform.addr))
        .get("/openapi.json")
        .await
        .text
        .len();
    let asked = (64 << 20) / size + 1;
    greedy.write_all(&one.repeat(asked)).await.unwrap();
    // Not reading, well past the idle timeout.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut received = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(30), greedy.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the connection was still open");
    assert!(
        received.len() < asked * size,
        "every answer was written ({} bytes): no write ever waited",
        received.len()
    );
    platform.shutdown().await.unwrap();
}
