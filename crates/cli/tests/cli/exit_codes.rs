//! Exit codes a pipeline can tell apart (README, "Exit codes"), listed in `--help`,
//! and no panic when stdout or stderr is closed.

use std::process::Stdio;

use crate::support::{padconnect, run, stderr};

/// `--help`'s table: (code, meaning), a code a line, long meanings
/// wrapped onto the lines after.
fn help_table() -> Vec<(String, String)> {
    let help = run(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout).into_owned();
    let table = &text[text
        .find("Exit codes:")
        .expect("help ends with the exit codes")..];
    let mut rows: Vec<(String, String)> = Vec::new();
    for line in table.lines().skip(1) {
        let entry = line.trim().split_once("  ");
        match (entry, rows.last_mut()) {
            (Some((code, meaning)), _) if code.parse::<u8>().is_ok() => {
                rows.push((code.to_owned(), meaning.trim().to_owned()));
            }
            (_, Some((_, meaning))) => {
                meaning.push(' ');
                meaning.push_str(line.trim());
            }
            (_, None) => panic!("text before the first code: {line}"),
        }
    }
    rows
}

#[test]
fn help_lists_the_exit_codes() {
    let table = help_table();
    let codes: Vec<&str> = table.iter().map(|(code, _)| code.as_str()).collect();
    assert_eq!(codes, ["0", "1", "2", "3", "4", "5", "6", "7", "8"]);
    assert!(table[5].1.starts_with("network or TLS"), "{table:?}");
}

/// The README's table says what `--help` says, code by code (the README
/// marks names as code; the help cannot).
#[test]
fn the_readme_lists_the_exit_codes_help_lists() {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"),
    )
    .unwrap();
    let section = &readme[readme.find("## Exit codes").expect("README has Exit codes")..];
    let rows: Vec<(String, String)> = section
        .lines()
        .skip_while(|line| !line.starts_with("|---"))
        .skip(1)
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            Some((cells.first()?.to_string(), cells.get(1)?.replace('`', "")))
        })
        .collect();
    assert_eq!(rows, help_table());
}

#[test]
fn an_unreachable_platform_is_a_network_failure() {
    // Port 9 (discard) on loopback: nothing listens there on these machines.
    let output = padconnect()
        .args([
            "token",
            "--platform",
            "http://127.0.0.1:9",
            "--scope",
            "https://api.powerplatform.com/.default",
        ])
        .env("AZURE_TENANT_ID", "8a235459-3d2c-415d-8c1e-e2fe133509ad")
        .env("AZURE_CLIENT_ID", "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40")
        .env("AZURE_CLIENT_SECRET", "example-secret-value")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot reach"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_closed_stdout_is_no_panic() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // every write to the pipe now fails with EPIPE
    let output = padconnect()
        .args(["env-url", "37520647-dbdf-49fa-ba01-6134c14680c4"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = stderr(&output);
    assert!(!err.contains("panicked"), "{err}");
}

/// Mistakes in the command line are usage errors (2) whose message names
/// the fix, with no source path or type name in it.
#[test]
fn usage_mistakes_name_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo");
    let typo = typo.to_str().unwrap();
    for (args, expected) in [
        (
            vec!["token", "--platform", "127.0.0.1:7232", "--scope", "x"],
            "has no scheme: write http://127.0.0.1:7232",
        ),
        (
            vec!["serve", "--signing-key-lifetime", "1w", "--data-dir", typo],
            "invalid configuration: signing_key_lifetime: '1w' is not a duration",
        ),
        (
            vec!["connection", "list", "--data-dir", typo],
            "does not exist",
        ),
        (vec!["keys", "rotate", "--data-dir", typo], "does not exist"),
        // `keys` takes only the flags it uses.
        (
            vec!["keys", "rotate", "--tls", "--data-dir", typo],
            "unexpected argument '--tls'",
        ),
    ] {
        let output = padconnect()
            .args(&args)
            .env_remove("PADCONNECT_MASTER_KEY")
            .output()
            .unwrap();
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(
            !err.contains(".rs:") && !err.contains("::"),
            "{args:?}: {err}"
        );
    }
    assert!(
        !dir.path().join("typo").exists(),
        "a mistyped data dir is not created"
    );
}
