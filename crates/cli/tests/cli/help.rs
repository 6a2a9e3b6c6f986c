//! Shell completions and the manual page.

use std::process::Command;

use crate::support::{run, stdout};

#[test]
fn completions_for_each_shell_name_the_commands() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = run(&["completions", shell]);
        assert!(output.status.success(), "{shell}");
        let script = stdout(&output);
        // Flags as each shell writes them (fish: `-l environment`).
        for word in [
            "connect",
            "quickstart",
            "environment",
            "wait-for-environment",
        ] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    // The bash script is valid bash.
    let script = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(script.path(), run(&["completions", "bash"]).stdout).unwrap();
    let checked = Command::new("bash")
        .arg("-n")
        .arg(script.path())
        .status()
        .unwrap();
    assert!(checked.success());
}

#[test]
fn the_manual_page_is_roff_with_the_exit_codes() {
    let page = stdout(&run(&["man"]));
    assert!(
        page.contains(".TH padconnect 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    assert!(page.contains(".SH NAME") && page.contains("quickstart"));
    assert!(
        !page.contains(".SH EXTRA"),
        "the exit codes have their own section"
    );
    let status = &page[page
        .find(".SH \"EXIT STATUS\"")
        .expect("an EXIT STATUS section")..];
    assert!(status.contains(".TP\n\\fB0\\fR\nsuccess"), "{status}");
    assert!(
        status.contains("\\fB8\\fR\na desktop flow run did not succeed"),
        "{status}"
    );
    // A command's own page has the same table: every command exits by it.
    let list = stdout(&run(&["man", "group", "list"]));
    assert!(list.contains(".SH \"EXIT STATUS\""), "{list}");
}

/// Every command the main page lists has a page of its own, and `man
/// COMMAND` prints it.
#[test]
fn each_command_has_its_own_manual_page() {
    let dir = tempfile::tempdir().unwrap();
    let written = run(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    let main = stdout(&run(&["man"]));
    let named: Vec<String> = main
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter_map(|word| word.strip_suffix("(1)"))
        .map(|name| name.replace("\\-", "-"))
        .collect();
    assert!(
        named.len() >= 15,
        "the main page names the commands' pages: {named:?}"
    );
    for name in &named {
        assert!(
            dir.path().join(format!("{name}.1")).is_file(),
            "{name}(1) is named but not written"
        );
    }
    let list = stdout(&run(&["man", "group", "list"]));
    assert!(list.contains(".TH padconnect-group-list 1"), "{list}");
    let unknown = run(&["man", "grop"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("quickstart, connect"));
}

/// docs/cli.md is `padconnect man --markdown`, so the docs say what the
/// commands do now.
#[test]
fn the_command_line_doc_is_current() {
    let generated = stdout(&run(&["man", "--markdown"]));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == committed,
        "docs/cli.md is out of date: run `cargo run -q -p padconnect -- man --markdown > docs/cli.md`"
    );
    for command in [
        "## `padconnect connect`",
        "## `padconnect group list`",
        "## `padconnect report`",
    ] {
        assert!(generated.contains(command), "{command}");
    }
}
