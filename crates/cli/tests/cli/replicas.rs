//! Two `padconnect serve` replicas on one PostgreSQL database, as behind a
//! load balancer (docs/platform.md, "Replicas and PostgreSQL": replicas share nothing but the database). One is
//! killed with SIGKILL while both take connection PUTs; every PUT that was
//! acknowledged reads back on the survivor and on the restarted replica, and
//! a token, a portal session and a deleted connection mean the same on both.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use padconnect_testkit::Client;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, HOST, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::support::{PgSchema, Server, example_world};

const TENANT: &str = "8a235459-3d2c-415d-8c1e-e2fe133509ad";
const APP: &str = "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40";
const SECRET: &str = "example-secret-value";
const ADMIN: &str = "admin@contoso.onmicrosoft.com";
const ADMIN_PASSWORD: &str = "example-password";
const ENVIRONMENT: &str = "37520647-dbdf-49fa-ba01-6134c14680c4";
const ENV_HOST: &str = "37520647dbdf49faba016134c14680.c4.environment.api.powerplatform.com";
const GROUP: &str = "a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d";

/// One replica's command line: its own data dir and the shared database;
/// the master key of the first replica (the key ring must be the same on
/// every replica, docs/platform.md "Replicas and PostgreSQL").
struct Replica {
    args: Vec<String>,
    master_key: Option<String>,
}

impl Replica {
    fn start(&self) -> Server {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        match &self.master_key {
            Some(key) => Server::start_with_env(&args, &[("PADCONNECT_MASTER_KEY", key)]),
            None => Server::start(&args),
        }
    }
}

fn connection_path(id: &str) -> String {
    format!("/connectivity/connectors/shared_uiflow/connections/{id}?api-version=1")
}

async fn app_token(server: &Server) -> String {
    let scope = "https://api.powerplatform.com/.default";
    padconnect_testkit::token::app_token(&server.url, TENANT, APP, SECRET, scope).await
}

/// PUTs the seed's connection `id`; `Ok` only when the platform acknowledged it.
async fn put(http: &reqwest::Client, url: &str, token: &str, id: &str) -> Result<(), String> {
    let body = json!({"properties": {
        "environment": {"id": format!("/providers/Microsoft.PowerApps/environments/{ENVIRONMENT}"), "name": ENVIRONMENT},
        "connectionParametersSet": {"name": "azureRelay", "values": {
            "username": {"value": "CONTOSO\\svc-bot"},
            "password": {"value": "Wind0ws-P@ssw0rd!"},
            "targetId": {"value": GROUP}
        }}
    }});
    let response = http
        .put(format!("{url}{}", connection_path(id)))
        .header(HOST, ENV_HOST)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match response.status() {
        StatusCode::OK | StatusCode::CREATED => Ok(()),
        status => Err(format!(
            "{status}: {}",
            response.text().await.unwrap_or_default()
        )),
    }
}

/// `server`'s connections API as the environment's host, with `token`.
fn connections(http: &reqwest::Client, server: &Server, token: &str) -> Client {
    Client::with(http.clone(), &server.url)
        .host(ENV_HOST)
        .token(token)
}

async fn status_of(http: &reqwest::Client, server: &Server, token: &str, id: &str) -> StatusCode {
    connections(http, server, token)
        .get(&connection_path(id))
        .await
        .status
}

/// Signs in to the portal of `form_from` and posts the form to `post_to`
/// (another replica: the CSRF token must not depend on the process); the
/// session cookie it sets.
async fn portal_session(http: &reqwest::Client, form_from: &Server, post_to: &Server) -> String {
    let form = http
        .get(format!("{}/signin", form_from.url))
        .send()
        .await
        .unwrap();
    let pre_session = cookie_pair(form.headers(), "").expect("a pre-session cookie");
    let body = form.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = body.find(marker).expect("a CSRF field") + marker.len();
    let csrf = &body[start..start + 64];
    let done = http
        .post(format!("{}/signin", post_to.url))
        .header(COOKIE, pre_session)
        .form(&[("upn", ADMIN), ("password", ADMIN_PASSWORD), ("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER, "sign-in accepted");
    cookie_pair(done.headers(), "padconnect_session").expect("a session cookie")
}

/// The first `name=value` of a Set-Cookie whose name starts with `prefix`.
fn cookie_pair(headers: &reqwest::header::HeaderMap, prefix: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .find(|pair| pair.starts_with(prefix) && !pair.ends_with('='))
}

async fn portal_page(http: &reqwest::Client, server: &Server, session: &str) -> StatusCode {
    let page = http
        .get(format!(
            "{}/environments/{ENVIRONMENT}/machines",
            server.url
        ))
        .header(COOKIE, session)
        .send()
        .await
        .unwrap();
    // An unknown session would be a 303 to the sign-in page.
    assert_eq!(
        page.headers().get(LOCATION),
        None,
        "no redirect on {}",
        server.url
    );
    page.status()
}

/// Writers that PUT new connections to `url` until `stop` (or until the
/// replica stops answering); the ids acknowledged.
fn writers(
    url: &str,
    token: &str,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<String>>> {
    (0..3)
        .map(|_| {
            let (url, token, stop) = (url.to_owned(), token.to_owned(), stop.clone());
            tokio::spawn(async move {
                let http = padconnect_testkit::http();
                let mut acked = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let id = uuid::Uuid::new_v4().simple().to_string();
                    match put(&http, &url, &token, &id).await {
                        Ok(()) => acked.push(id),
                        // The killed replica: nothing more is acknowledged.
                        Err(_) => break,
                    }
                }
                acked
            })
        })
        .collect()
}

async fn acknowledged(writers: Vec<tokio::task::JoinHandle<Vec<String>>>) -> Vec<String> {
    let mut all = Vec::new();
    for writer in writers {
        all.extend(writer.await.unwrap());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: set PADCONNECT_TEST_DATABASE_URL, run with --include-ignored"]
async fn a_replica_killed_under_writes_loses_nothing_acknowledged_and_both_agree() {
    let schema = PgSchema::create("padconnect_replicas").await;
    let database = schema.url.clone();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = |dir: &tempfile::TempDir| {
        let data_dir = dir.path().display().to_string();
        vec![
            "--data-dir".to_owned(),
            data_dir,
            "--database".to_owned(),
            database.clone(),
        ]
    };
    let mut first = args(&dir_a);
    first.extend(["--world".to_owned(), example_world()]);
    let replica_a = Replica {
        args: first,
        master_key: None,
    };
    let a = replica_a.start();
    let master_key = std::fs::read_to_string(dir_a.path().join("master.key")).unwrap();
    let replica_b = Replica {
        args: args(&dir_b),
        master_key: Some(master_key.trim().to_owned()),
    };
    let b = replica_b.start();
    // Redirects are what the portal answers; they are checked, not followed.
    let http = padconnect_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Issued before the kill, on each replica.
    let token_from_a = app_token(&a).await;
    let token_from_b = app_token(&b).await;
    let session_from_a = portal_session(&http, &b, &a).await;
    let deleted = uuid::Uuid::new_v4().simple().to_string();
    put(&http, &b.url, &token_from_b, &deleted).await.unwrap();
    assert_eq!(
        status_of(&http, &a, &token_from_b, &deleted).await,
        StatusCode::OK
    );

    // Concurrent writes to both; A dies mid-stream.
    let stop = Arc::new(AtomicBool::new(false));
    let on_a = writers(&a.url, &token_from_a, &stop);
    let on_b = writers(&b.url, &token_from_b, &stop);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut a = a;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    drop(a);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let (acked_a, acked_b) = (acknowledged(on_a).await, acknowledged(on_b).await);
    assert!(
        !acked_a.is_empty() && !acked_b.is_empty(),
        "both replicas took writes before the kill: {} and {}",
        acked_a.len(),
        acked_b.len()
    );

    eprintln!(
        "acknowledged: {} on the killed replica, {} on the survivor",
        acked_a.len(),
        acked_b.len()
    );
    // A deletion on the survivor while A is down.
    let gone = connections(&http, &b, &token_from_a)
        .delete(&connection_path(&deleted))
        .await;
    assert!(gone.status.is_success(), "{}", gone.status);

    // Restarted as an operator would: no world this time.
    let a = Replica {
        args: args(&dir_a),
        master_key: None,
    }
    .start();
    for server in [&a, &b] {
        for id in acked_a.iter().chain(&acked_b) {
            assert_eq!(
                status_of(&http, server, &token_from_a, id).await,
                StatusCode::OK,
                "acknowledged connection {id} is on {}",
                server.url
            );
        }
        assert_eq!(
            status_of(&http, server, &token_from_b, &deleted).await,
            StatusCode::NOT_FOUND,
            "the deleted connection is gone on {}",
            server.url
        );
        assert_eq!(
            portal_page(&http, server, &session_from_a).await,
            StatusCode::OK
        );
    }
    // A token and a session issued after the restart are good on the survivor.
    let token_after = app_token(&a).await;
    assert_eq!(
        status_of(&http, &b, &token_after, &acked_b[0]).await,
        StatusCode::OK
    );
    let session_after = portal_session(&http, &a, &b).await;
    assert_eq!(portal_page(&http, &a, &session_after).await, StatusCode::OK);

    drop((a, b));
    schema.drop().await;
}
