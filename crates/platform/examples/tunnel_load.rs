//! Load for `bench/tunnel.sh`: the same token request sent directly to a
//! running platform and through it as an HTTPS proxy (CONNECT tunnels kept
//! alive), alternated in one run, each for a fixed time at a fixed number of
//! concurrent requests. Prints one line per round: mode, requests, seconds,
//! req/s, p50 and p99 in ms. Load goes only to the URL given (loopback).
//!
//!   tunnel_load URL CA_PEM TENANT CLIENT_ID SECRET [SECONDS] [CONCURRENCY] [ROUNDS]

// Tests may unwrap, expect and panic: a failed test is the point
// (clippy.toml does the same for #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, ca, tenant, client_id, secret, rest @ ..] = args.as_slice() else {
        eprintln!(
            "usage: tunnel_load URL CA_PEM TENANT CLIENT_ID SECRET [SECONDS] [CONCURRENCY] [ROUNDS]"
        );
        std::process::exit(2);
    };
    let number =
        |i: usize, default: u64| rest.get(i).and_then(|v| v.parse().ok()).unwrap_or(default);
    let (seconds, concurrency, rounds) = (number(0, 10), number(1, 16) as usize, number(2, 2));
    let ca =
        reqwest::Certificate::from_pem(&std::fs::read(ca).expect("the CA file")).expect("a PEM");
    let direct = reqwest::Client::builder().no_proxy().build().unwrap();
    let proxied = reqwest::Client::builder()
        .proxy(reqwest::Proxy::https(url.as_str()).unwrap())
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", secret.as_str()),
        ("scope", "https://api.powerplatform.com/.default"),
    ];
    let direct_url = format!("{url}/{tenant}/oauth2/v2.0/token");
    let proxied_url = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token");
    for _ in 0..rounds {
        for (mode, client, target) in [
            ("direct", &direct, &direct_url),
            ("tunnel", &proxied, &proxied_url),
        ] {
            let (count, latencies, elapsed) = run(
                client,
                target,
                &form,
                Duration::from_secs(seconds),
                concurrency,
            )
            .await;
            println!(
                "{mode} {count} {:.2} {:.0} {:.2} {:.2}",
                elapsed.as_secs_f64(),
                count as f64 / elapsed.as_secs_f64(),
                percentile(&latencies, 0.50),
                percentile(&latencies, 0.99),
            );
        }
    }
}

/// `concurrency` loops sending the request until `duration` is up; every
/// answer must be 200.
async fn run(
    client: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
    duration: Duration,
    concurrency: usize,
) -> (usize, Vec<f64>, Duration) {
    let start = Instant::now();
    let deadline = start + duration;
    let workers = (0..concurrency).map(|_| {
        let (client, url, form) = (
            client.clone(),
            url.to_owned(),
            form.to_vec()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        );
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .form(&form)
                    .send()
                    .await
                    .expect("an answer");
                assert_eq!(response.status(), 200, "{url}");
                response.bytes().await.expect("a body");
                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
            }
            latencies
        })
    });
    let mut latencies = Vec::new();
    for worker in workers.collect::<Vec<_>>() {
        latencies.extend(worker.await.expect("a worker"));
    }
    (latencies.len(), latencies, start.elapsed())
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
        .get(((sorted.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}
