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
    assert!(page.contains("Exit codes: 0 success"));
}
