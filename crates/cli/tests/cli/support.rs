//! Running the built binary.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn padconnect() -> Command {
    Command::new(env!("CARGO_BIN_EXE_padconnect"))
}

pub fn run(args: &[&str]) -> Output {
    padconnect().args(args).output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn example_world() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/world.toml")
        .display()
        .to_string()
}

/// `padconnect serve` in the background, on a free port.
pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Server {
    /// Starts `serve` with `args` (plus `--listen 127.0.0.1:0` and JSON logs)
    /// and waits for the address it logs once the world is loaded.
    pub fn start(args: &[&str]) -> Self {
        Self::start_with_env(args, &[])
    }

    /// [`Server::start`] with these environment variables set.
    #[allow(clippy::zombie_processes)] // `Drop` and `terminate` wait for it.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = padconnect()
            .arg("serve")
            .envs(env.iter().copied())
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(args)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        // A thread drains stderr for the server's whole life (a closed pipe
        // would fail its logging) and reports the address it listens on.
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let log: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                let url = log["url"].as_str().map(str::to_owned);
                let _ = addr_tx.send(url.ok_or(line));
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        while let Ok(message) =
            addr_rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            match message {
                Ok(url) => return Self { child, url },
                Err(line) => seen.push(line),
            }
        }
        // Never leave a server behind, even when the test fails here.
        let _ = child.kill();
        let _ = child.wait();
        panic!("serve did not start listening: {}", seen.join("\n"));
    }

    /// `GET path` of the server.
    pub async fn get(&self, path: &str) -> padconnect_testkit::Reply {
        padconnect_testkit::Client::new(&self.url).get(path).await
    }

    /// SIGTERM, then the exit code.
    pub fn terminate(mut self) -> Option<i32> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A schema of its own on the test PostgreSQL database
/// (`PADCONNECT_TEST_DATABASE_URL`), for a test that runs `serve` on it.
pub struct PgSchema {
    admin: sqlx::PgPool,
    name: String,
    /// The database URL with this schema as its search path.
    pub url: String,
}

impl PgSchema {
    /// A new schema named after `prefix`. The tests that need one are
    /// `#[ignore]`d, so `cargo test` reports them skipped; run with
    /// `--include-ignored` (as CI does), they fail without a database.
    pub async fn create(prefix: &str) -> Self {
        let base = std::env::var("PADCONNECT_TEST_DATABASE_URL").expect(
            "this test needs PostgreSQL: set PADCONNECT_TEST_DATABASE_URL (postgres://postgres@127.0.0.1:5432/test)",
        );
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&base).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&admin)
            .await
            .unwrap();
        let url = format!("{base}?options=-c%20search_path%3D{name}");
        Self { admin, name, url }
    }

    pub async fn drop(self) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA {} CASCADE",
            self.name
        )))
        .execute(&self.admin)
        .await
        .unwrap();
    }
}
