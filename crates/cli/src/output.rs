//! What commands print: tables for people, JSON for machines, progress on
//! stderr only when a person is watching.

use std::io::IsTerminal;

use clap::ValueEnum;
use serde_json::Value;

/// `println!` that never panics: a reader that went away (`| head -1`)
/// ends the command quietly, as it would `cat`; any other failure to write
/// stdout (closed with `>&-`) is no reason to stop the work.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}
pub(crate) use out;

/// `eprintln!` that never panics: a closed or broken stderr loses the line.
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use err;

/// Bytes to stdout, as [`line`] writes them.
pub fn bytes(text: &[u8]) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_all(text).and_then(|()| stdout.flush())
        && error.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

pub fn line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = writeln!(stdout, "{args}").and_then(|()| stdout.flush())
        && error.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// `--output`, one flag with one help text and one default for every
/// command that prints a table or JSON.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct OutputArg {
    /// How to print: table for people, json for scripts.
    #[arg(id = "output", long, value_name = "OUTPUT", value_enum, ignore_case = true, default_value_t = Format::Table)]
    pub format: Format,
}

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
            err!("  {step}...");
        }
    }
}

pub fn json(value: &Value) {
    // A `Value` always serializes: its map keys are strings.
    out!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// Rows of label and value, aligned.
pub fn table(rows: &[(&str, String)]) {
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    for (label, value) in rows {
        out!("{label:<width$}  {value}");
    }
}

/// Rows under a header, each column as wide as its widest cell.
pub fn columns<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// A connection as one line of `connection list`: id, short status
/// (Connected, Error, ...), account, display name.
pub fn connection_line(c: &Value) -> [String; 4] {
    let p = &c["properties"];
    let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    [
        text(&c["name"]),
        text(&p["statuses"][0]["status"]),
        text(&p["connectionParametersSet"]["values"]["username"]["value"]),
        text(&p["displayName"]),
    ]
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

/// A value from `names` in any case (with `ignore_case = true` on the arg),
/// given back as `names` spells it, which is how the service wants it.
pub fn one_of(
    names: &'static [&'static str],
) -> impl clap::builder::TypedValueParser<Value = String> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(names).map(move |typed: String| {
        names
            .iter()
            .find(|name| name.eq_ignore_ascii_case(&typed))
            .map_or(typed, |name| (*name).to_owned())
    })
}
