//! What commands print: tables for people, JSON for machines, progress on
//! stderr only when a person is watching.

use std::io::IsTerminal;

use clap::ValueEnum;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
}

/// Prints progress on stderr when it is a terminal; off a terminal, quiet.
pub fn progress() -> impl FnMut(&str) {
    let shown = std::io::stderr().is_terminal();
    move |step: &str| {
        if shown {
            eprintln!("  {step}...");
        }
    }
}

pub fn json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values serialize")
    );
}

/// Rows of label and value, aligned.
pub fn table(rows: &[(&str, String)]) {
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    for (label, value) in rows {
        println!("{label:<width$}  {value}");
    }
}

/// The fields of a connection a person looks for.
pub fn connection_rows(c: &Value) -> Vec<(&'static str, String)> {
    let p = &c["properties"];
    let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    let status = &p["statuses"][0];
    let status = match status["error"]["code"].as_str() {
        Some(code) => format!(
            "{} ({code}: {})",
            text(&status["status"]),
            text(&status["error"]["message"])
        ),
        None => text(&status["status"]),
    };
    vec![
        ("Connection", text(&c["name"])),
        ("Display name", text(&p["displayName"])),
        ("Status", status),
        (
            "Account",
            text(&p["connectionParametersSet"]["values"]["username"]["value"]),
        ),
        (
            "Machine group",
            text(&p["connectionParametersSet"]["values"]["targetId"]["value"]),
        ),
        (
            "Created by",
            format!(
                "{} ({})",
                text(&p["createdBy"]["displayName"]),
                text(&p["createdBy"]["type"])
            ),
        ),
        ("Created", text(&p["createdTime"])),
        ("Environment", text(&p["environment"]["name"])),
    ]
}
