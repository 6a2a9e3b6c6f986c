//! The documentation stays true of the repository: every relative link in
//! README.md and docs/ names a file that exists (and a heading of it, when
//! it names one), and every `padconnect ...` command line in their code
//! blocks names commands the binary has.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::support::padconnect;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// README.md and every Markdown file under docs/, with their text.
fn documents() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    let root = repository();
    let mut paths = vec![root.join("README.md")];
    walk(&root.join("docs"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect()
}

/// A document's name as the repository knows it, for messages.
fn shown(path: &Path) -> String {
    let root = repository().canonicalize().unwrap();
    let path = path.canonicalize().unwrap();
    path.strip_prefix(&root)
        .unwrap_or(&path)
        .display()
        .to_string()
}

/// A line of a document: its number, whether it is inside a fenced code
/// block (and that block's info string), and its text.
struct Line<'a> {
    number: usize,
    fence: Option<&'a str>,
    text: &'a str,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut fence: Option<&str> = None;
    let mut out = Vec::new();
    for (i, text) in text.lines().enumerate() {
        let trimmed = text.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = match fence {
                Some(_) => None,
                None => Some(trimmed[3..].trim()),
            };
            continue;
        }
        out.push(Line {
            number: i + 1,
            fence,
            text,
        });
    }
    out
}

/// The text with inline code spans taken out: a link inside backticks is
/// an example, not a link.
fn without_code_spans(text: &str) -> String {
    text.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// The targets of the inline links `[text](target)` on one line of prose.
fn link_targets(prose: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = prose;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let end = after
            .find(|c: char| c == ')' || c.is_whitespace())
            .unwrap_or(after.len());
        targets.push(after[..end].trim_matches(['<', '>']).to_owned());
        rest = &after[end..];
    }
    targets
}

/// The target of a reference definition, `[label]: target` alone on its
/// line (with an optional title): `[API]: this cancels ...` is prose.
fn reference_target(line: &str) -> Option<String> {
    let (label, rest) = line.trim_start().split_once("]: ")?;
    let mut words = rest.split_whitespace();
    let target = words.next()?;
    let title = words.next();
    (label.starts_with('[') && title.is_none_or(|t| t.starts_with(['"', '\'', '('])))
        .then(|| target.trim_matches(['<', '>']).to_owned())
}

/// Whether a link leaves the repository.
fn is_external(target: &str) -> bool {
    target.contains("://") || target.starts_with("mailto:")
}

/// The anchors GitHub gives a document's headings: lower case, spaces as
/// hyphens, other punctuation dropped, and `-1`, `-2`, ... on repeats.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in lines(text).iter().filter(|l| l.fence.is_none()) {
        let Some(heading) = line.text.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let slug: String = heading
            .trim()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                '-' | '_' => Some(c),
                c if c.is_alphanumeric() => Some(c),
                _ => None,
            })
            .flat_map(char::to_lowercase)
            .collect();
        let mut anchor = slug.clone();
        let mut repeat = 0;
        while !found.insert(anchor.clone()) {
            repeat += 1;
            anchor = format!("{slug}-{repeat}");
        }
    }
    found
}

#[test]
fn every_relative_link_names_a_file_that_exists() {
    let mut checked = 0;
    let mut broken = Vec::new();
    for (path, text) in documents() {
        let dir = path.parent().unwrap();
        for line in lines(&text).iter().filter(|l| l.fence.is_none()) {
            let targets = link_targets(&without_code_spans(line.text))
                .into_iter()
                .chain(reference_target(line.text));
            for target in targets {
                if target.is_empty() || is_external(&target) {
                    continue;
                }
                let (file, fragment) = match target.split_once('#') {
                    Some((file, fragment)) => (file, Some(fragment)),
                    None => (target.as_str(), None),
                };
                let place = format!("{}:{}: {target}", shown(&path), line.number);
                let linked = match file.is_empty() {
                    true => path.clone(),
                    false => dir.join(file),
                };
                if !file.is_empty() {
                    checked += 1;
                    if !linked.exists() {
                        broken.push(format!("{place} (no such file)"));
                        continue;
                    }
                }
                // A heading of a Markdown file, as GitHub names it.
                if let Some(fragment) = fragment
                    && linked.extension().is_some_and(|e| e == "md")
                    && !anchors(&std::fs::read_to_string(&linked).unwrap()).contains(fragment)
                {
                    broken.push(format!("{place} (no such heading)"));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links to files or headings that do not exist:\n{}",
        broken.join("\n")
    );
    // The README alone links to a dozen documents: finding none means the
    // parsing broke, not that the docs are right.
    assert!(checked >= 20, "only {checked} relative links found");
}

/// The command words of a `padconnect ...` line: those before its first
/// flag, value or placeholder (`connection get` of
/// `padconnect connection get ID --data-dir qs`). The line may start with
/// a prompt (`$ `) and with environment variables (`NAME=value`).
fn command_words(line: &str) -> Option<Vec<&str>> {
    let line = line.trim_start();
    let mut line = line.strip_prefix("$ ").unwrap_or(line);
    let assigns = line.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    });
    if assigns {
        line = &line[line.find(" padconnect ")? + 1..];
    }
    let rest = line.strip_prefix("padconnect ")?;
    let words: Vec<&str> = rest
        .split_whitespace()
        .take_while(|word| {
            word.starts_with(|c: char| c.is_ascii_lowercase())
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
        .collect();
    Some(words)
}

/// Where each command the documents show is written, by its words.
fn commands_shown() -> BTreeMap<Vec<String>, Vec<String>> {
    let mut commands: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for (path, text) in documents() {
        for line in lines(&text) {
            let Some(info) = line.fence else { continue };
            // Output is not a command; in a console transcript only the
            // lines after a prompt are.
            let is_command = match info {
                "text" => false,
                "console" => line.text.trim_start().starts_with("$ "),
                _ => true,
            };
            if !is_command {
                continue;
            }
            if let Some(words) = command_words(line.text) {
                let words = words.into_iter().map(str::to_owned).collect();
                commands.entry(words).or_default().push(format!(
                    "{}:{}",
                    shown(&path),
                    line.number
                ));
            }
        }
    }
    commands
}

#[test]
fn every_command_the_docs_show_exists() {
    let commands = commands_shown();
    // The README's tour, at least, must be found.
    for tour in [
        "quickstart",
        "serve",
        "connect",
        "settings",
        "settings check",
        "deploy",
        "verify",
        "token",
    ] {
        let words: Vec<String> = tour.split(' ').map(str::to_owned).collect();
        assert!(
            commands.contains_key(&words),
            "no `padconnect {tour}` line found in the docs' code blocks"
        );
    }
    let mut unknown = Vec::new();
    for (words, places) in &commands {
        let status = padconnect()
            .args(words)
            .arg("--help")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        if !status.success() {
            unknown.push(format!(
                "padconnect {} ({})",
                words.join(" "),
                places.join(", ")
            ));
        }
    }
    assert!(
        unknown.is_empty(),
        "commands the docs show that `--help` does not know:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn the_link_and_command_parsers_read_markdown_as_written() {
    assert_eq!(
        link_targets("See [the world](world.md#machines) and [cli](cli.md \"title\")."),
        ["world.md#machines", "cli.md"]
    );
    assert_eq!(
        reference_target("[ref]: ../README.md").as_deref(),
        Some("../README.md")
    );
    assert_eq!(reference_target("  [API]: this cancels \"a run\"."), None);
    assert_eq!(reference_target("`X` [SSR]: `Y` Collection(Z)"), None);
    assert!(link_targets(&without_code_spans("`[a](b.md)` only")).is_empty());
    assert!(is_external("https://learn.microsoft.com/x"));
    assert!(!is_external("docs/evidence/"));
    let headings = "# padconnect\n## A five-minute tour\n```sh\n# not a heading\n```\n## `[[tenants.apps]]`\n## Proving it: `verify`\n## Notes\n## Notes\n";
    assert_eq!(
        anchors(headings).into_iter().collect::<Vec<_>>(),
        [
            "a-five-minute-tour",
            "notes",
            "notes-1",
            "padconnect",
            "proving-it-verify",
            "tenantsapps"
        ]
    );
    assert_eq!(
        command_words("$ padconnect connection get 9338c9e6 --data-dir qs"),
        Some(vec!["connection", "get"])
    );
    assert_eq!(
        command_words("    padconnect settings check settings.json"),
        Some(vec!["settings", "check"])
    );
    assert_eq!(command_words("Look at it again: padconnect x"), None);
    assert_eq!(
        command_words("PADCONNECT_PFX_PASSWORD=<pfx password> padconnect connect ..."),
        Some(vec!["connect"])
    );
    assert_eq!(command_words("TOKEN=$(padconnect token --scope x)"), None);
}
