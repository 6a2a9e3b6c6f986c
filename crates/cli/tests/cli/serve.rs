//! `padconnect serve` as a user runs it: world loaded before it answers,
//! graceful stop on SIGTERM, the world kept across restarts, on SQLite and
//! on PostgreSQL.

use padconnect_store::{Database, Store, SyncMode};

use crate::support::{PgSchema, Server, example_world, padconnect};

async fn assert_serves_the_example_world(server: &Server) {
    let health = server.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("x-ms-request-id"));
    let ready: serde_json::Value = server.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
}

async fn machine_groups(database: &Database) -> i64 {
    let store = Store::open(database, SyncMode::Normal).await.unwrap();
    let counts = store.counts().await.unwrap();
    store.close().await;
    counts.machine_groups
}

#[tokio::test]
async fn serves_the_example_world_and_keeps_it_across_restarts_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let server = Server::start(&["--data-dir", data_dir, "--world", &example_world()]);
    assert_serves_the_example_world(&server).await;
    assert_eq!(server.terminate(), Some(0), "SIGTERM stops it cleanly");

    let server = Server::start(&["--data-dir", data_dir]);
    assert_serves_the_example_world(&server).await;
    assert_eq!(server.terminate(), Some(0));
    assert_eq!(machine_groups(&Database::in_data_dir(dir.path())).await, 2);
    let key = std::fs::read_to_string(dir.path().join("master.key")).unwrap();
    assert_eq!(key.trim().len(), 44, "one base64 key");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PADCONNECT_TEST_DATABASE_URL, run with --include-ignored"]
async fn serves_the_example_world_and_keeps_it_across_restarts_on_postgres() {
    let schema = PgSchema::create("padconnect_cli").await;
    let url = schema.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();

    let server = Server::start(&[
        "--data-dir",
        data_dir,
        "--database",
        &url,
        "--world",
        &example_world(),
    ]);
    assert_serves_the_example_world(&server).await;
    let ready: serde_json::Value = server.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["database"], "postgres");
    assert_eq!(server.terminate(), Some(0));

    let server = Server::start(&["--data-dir", data_dir, "--database", &url]);
    assert_serves_the_example_world(&server).await;
    assert_eq!(server.terminate(), Some(0));
    assert_eq!(machine_groups(&Database::Postgres(url)).await, 2);
    assert!(
        !dir.path().join("platform.db").exists(),
        "no SQLite file when PostgreSQL is used"
    );
    schema.drop().await;
}

#[test]
fn a_bad_world_fails_the_start_and_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.toml");
    std::fs::write(&world, "[[tenants]]\nid = \"8a235459-3d2c-415d-8c1e-e2fe133509ad\"\ndomain = \"contoso.com\"\nregion = \"eu\"\n").unwrap();
    let output = padconnect()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .arg("--world")
        .arg(&world)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("unknown field `region`"), "{err}");
}

#[test]
fn a_bad_config_value_is_refused_before_starting() {
    let output = padconnect()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("PADCONNECT_BODY_LIMIT", "lots")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("invalid configuration") && err.contains("lots"),
        "{err}"
    );
}
