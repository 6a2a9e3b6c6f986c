//! Acknowledged writes survive `kill -9`: a child process (this test binary,
//! re-run on one helper test) commits connections from several tasks (in
//! transactions and as lone statements) and
//! prints each id once its commit returned; the parent kills it with SIGKILL
//! mid-stream, reopens the database and finds every acknowledged id.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use padconnect_core::{ConnectionId, ConnectorName, EnvironmentId};
use padconnect_store::*;
use serde_json::json;
use uuid::Uuid;

use crate::support;

const CHILD_ENV: &str = "PADCONNECT_CRASH_CHILD_DATABASE";
const ACK: &str = "acked ";

fn env() -> EnvironmentId {
    "00000000-0000-0000-0000-000000000123".parse().unwrap()
}

async fn seed(store: &Store) {
    let tenant = Uuid::from_u128(1);
    let mut tx = store.begin().await.unwrap();
    tx.upsert_tenant(&Tenant {
        id: tenant,
        domain: "crash.test".into(),
    })
    .await
    .unwrap();
    tx.upsert_environment(&Environment {
        id: env(),
        tenant_id: tenant,
        display_name: "crash".into(),
        org: "crash".into(),
        ready_at: None,
        import_seconds: 0,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

fn connection(id: ConnectionId) -> Connection {
    let now = Timestamp::now_on(&padconnect_core::Clock::system());
    Connection {
        environment_id: env(),
        id,
        connector: ConnectorName::uiflow(),
        display_name: "crash".into(),
        parameter_set: padconnect_core::ParameterSet::AzureRelay,
        parameter_values: json!({}),
        sealed_secrets: vec![0; 48],
        target_group_id: None,
        credential_id: None,
        created_by: Principal {
            id: Uuid::from_u128(2),
            kind: PrincipalType::ServicePrincipal,
            display_name: "sp".into(),
        },
        created_at: now,
        modified_at: now,
    }
}

/// Not a test of its own: the writer that `acknowledged_writes_survive_kill_9`
/// runs in a child process. Without the variable it returns at once.
#[test]
fn crash_child_writer() {
    let Ok(url) = std::env::var(CHILD_ENV) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let database = Database::parse(&url).unwrap();
        let store = Store::open(&database, SyncMode::Normal).await.unwrap();
        // Writers that never stop: the parent ends this process with SIGKILL.
        // Half commit a transaction, half a lone statement (as a PUT does).
        let writers: Vec<_> = (0..4)
            .map(|writer| {
                let store = store.clone();
                tokio::spawn(async move {
                    loop {
                        let id = ConnectionId::new_random();
                        if writer % 2 == 0 {
                            assert!(store.insert_connection(&connection(id)).await.unwrap());
                        } else {
                            let mut tx = store.begin().await.unwrap();
                            tx.insert_connection(&connection(id)).await.unwrap();
                            tx.commit().await.unwrap();
                        }
                        // Printed only after the commit returned: an acknowledgement.
                        println!("{ACK}{id}");
                    }
                })
            })
            .collect();
        futures_join_all(writers).await;
    });
}

async fn futures_join_all(writers: Vec<tokio::task::JoinHandle<()>>) {
    for writer in writers {
        let _ = writer.await;
    }
}

async fn kill_mid_stream_and_check(url: String) {
    let database = Database::parse(&url).unwrap();
    let store = Store::open(&database, SyncMode::Normal).await.unwrap();
    seed(&store).await;
    store.close().await;

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash::crash_child_writer",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let started = Instant::now();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix(ACK) {
            acked.push(id.parse::<ConnectionId>().unwrap());
        }
        if acked.len() >= 300 || started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    assert!(
        acked.len() >= 50,
        "the writer acknowledged only {} writes",
        acked.len()
    );

    let store = Store::open(&database, SyncMode::Normal).await.unwrap();
    for id in &acked {
        assert!(
            store.connection(&env(), id).await.unwrap().is_some(),
            "acknowledged connection {id} was lost"
        );
    }
    store.close().await;
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("crash.db").display());
    kill_mid_stream_and_check(url).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PADCONNECT_TEST_DATABASE_URL, run with --include-ignored"]
async fn acknowledged_writes_survive_kill_9_on_postgres() {
    let (url, base, schema) = support::postgres_url().await.expect(support::PG_NEEDED);
    kill_mid_stream_and_check(url).await;
    support::drop_schema(&base, &schema).await;
}
