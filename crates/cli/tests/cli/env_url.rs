//! `padconnect env-url`.

use crate::support::{run, stderr, stdout};

#[test]
fn prints_the_seed_vectors() {
    for (id, label) in [
        (
            "37520647-dbdf-49fa-ba01-6134c14680c4",
            "37520647dbdf49faba016134c14680.c4",
        ),
        (
            "00000000-0000-0000-0000-000000000123",
            "000000000000000000000000000001.23",
        ),
        (
            "Default-8a235459-3d2c-415d-8c1e-e2fe133509ad",
            "default8a2354593d2c415d8c1ee2fe133509.ad",
        ),
    ] {
        let output = run(&["env-url", id]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(stdout(&output), format!("{label}\n"));
    }
}

#[test]
fn a_bad_id_fails_with_what_to_fix() {
    let output = run(&["env-url", "contoso-prod"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    let err = stderr(&output);
    assert!(
        err.starts_with("error: 'contoso-prod' is not an environment id: expected a GUID"),
        "{err}"
    );
}
