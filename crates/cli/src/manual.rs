//! `padconnect man`: the manual, generated from the commands' own
//! definitions so it cannot drift from them. One roff page per command
//! (`padconnect-connect(1)`, `padconnect-group-list(1)`, ...), as the main
//! page's list of commands names them, and the same text as Markdown for
//! `docs/cli.md`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::client_args::ClientArgs;
use crate::exit::Exit;

use crate::output::{self, err};

#[derive(Args)]
pub struct ManArgs {
    /// The command whose page to print (`padconnect man group list`);
    /// without it, padconnect(1).
    #[arg(value_name = "COMMAND")]
    command: Vec<String>,
    /// Write every page (padconnect.1, padconnect-connect.1, ...) into DIR
    /// instead: `padconnect man --out-dir /usr/local/share/man/man1`.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["command", "markdown"])]
    out_dir: Option<PathBuf>,
    /// Print every command's help as one Markdown page (docs/cli.md).
    #[arg(long, conflicts_with = "command")]
    markdown: bool,
}

/// The width help is wrapped at in generated pages, whatever the terminal.
const WIDTH: usize = 100;

pub fn run(args: ManArgs, root: clap::Command) -> anyhow::Result<()> {
    let root = without_env_values(root.term_width(WIDTH).disable_help_subcommand(true));
    if let Some(dir) = &args.out_dir {
        return write_pages(root, dir);
    }
    if args.markdown {
        output::bytes(markdown(root).as_bytes());
        return Ok(());
    }
    let command = find(root, &args.command)?;
    output::bytes(&page(command)?);
    Ok(())
}

/// One command's page: clap_mangen's sections, then the exit codes as the
/// EXIT STATUS section of man-pages(7) on every page, since every command
/// exits by the same table. `--help`'s closing text, which clap_mangen
/// would print under EXTRA, is that table, so it is left out.
fn page(command: clap::Command) -> std::io::Result<Vec<u8>> {
    let command = command.after_help(None::<&str>);
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut page)?;
    }
    if command.get_subcommands().any(|c| !c.is_hide_set()) {
        man.render_subcommands_section(&mut page)?;
    }
    exit_status().to_writer(&mut page)?;
    man.render_version_section(&mut page)?;
    Ok(page)
}

fn exit_status() -> roff::Roff {
    let mut roff = roff::Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    for exit in Exit::ALL {
        roff.control("TP", []);
        roff.text([roff::bold(exit.code().to_string())]);
        roff.text([roff::roman(exit.meaning())]);
    }
    roff
}

/// The pages name each flag's variable, never the value this shell
/// happens to hold: a page is the same wherever it is made, and no value
/// leaks into a file.
fn without_env_values(command: clap::Command) -> clap::Command {
    command
        .mut_args(|arg| arg.hide_env_values(true))
        .mut_subcommands(without_env_values)
}

fn write_pages(mut root: clap::Command, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    root.build();
    write_tree(root, dir)
        .with_context(|| format!("cannot write the pages into {}", dir.display()))?;
    err!("padconnect: manual pages written to {}", dir.display());
    Ok(())
}

/// `command`'s page and those of the commands under it, named as
/// `clap_mangen` names them (`padconnect-group-list.1`).
fn write_tree(command: clap::Command, dir: &Path) -> std::io::Result<()> {
    for sub in command.get_subcommands().filter(|c| !c.is_hide_set()) {
        write_tree(sub.clone(), dir)?;
    }
    let file = dir.join(clap_mangen::Man::new(command.clone()).get_filename());
    std::fs::write(file, page(command)?)
}

/// The command `path` names under `root`, built so its page carries its
/// full name (`padconnect-group-list`), as `generate_to` names it.
fn find(mut root: clap::Command, path: &[String]) -> anyhow::Result<clap::Command> {
    root.build();
    let mut command = root;
    let mut walked = vec!["padconnect".to_owned()];
    for name in path {
        let Some(sub) = command.find_subcommand(name).cloned() else {
            let known: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
            anyhow::bail!(
                "`{} {name}` is no command: {} has {}",
                walked.join(" "),
                walked.join(" "),
                known.join(", ")
            );
        };
        walked.push(name.clone());
        command = sub;
    }
    Ok(command)
}

/// Every command's long help, in the order of the commands' list, each
/// under its own heading. The sign-in flags, the same on every command
/// that signs in, are written once.
fn markdown(mut root: clap::Command) -> String {
    root.build();
    let sign_in = sign_in_ids();
    let mut text = String::from(
        "# The command line\n\nEvery command's `--help`, generated by `padconnect man --markdown > docs/cli.md` (a test checks that this file is current). `padconnect man COMMAND` prints one command's manual page; `padconnect man --out-dir DIR` writes them all. The sign-in flags every command that signs in takes are under [Sign-in flags](#sign-in-flags), once.\n",
    );
    section(&mut root, "padconnect", &sign_in, &mut text);
    let mut flags = without_env_values(ClientArgs::augment_args(
        clap::Command::new("sign-in")
            .term_width(WIDTH)
            .disable_help_flag(true)
            .disable_version_flag(true),
    ));
    text.push_str(&format!(
        "\n## Sign-in flags\n\n```text\n{}\n```\n",
        flags.render_long_help().to_string().trim_end()
    ));
    text
}

/// The ids of the sign-in flags.
fn sign_in_ids() -> Vec<String> {
    ClientArgs::augment_args(clap::Command::new("sign-in"))
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect()
}

fn section(command: &mut clap::Command, name: &str, sign_in: &[String], text: &mut String) {
    let signs_in = sign_in
        .iter()
        .all(|id| command.get_arguments().any(|a| a.get_id().as_str() == id));
    let mut shown = command.clone();
    for id in sign_in.iter().filter(|_| signs_in) {
        shown = shown.mut_arg(id.as_str(), |a| a.hide(true));
    }
    let help = shown.render_long_help().to_string();
    text.push_str(&format!(
        "\n## `{name}`\n\n```text\n{}\n```\n",
        help.trim_end()
    ));
    if signs_in {
        text.push_str("\nIt also takes the [sign-in flags](#sign-in-flags).\n");
    }
    for sub in command.get_subcommands_mut() {
        let sub_name = format!("{name} {}", sub.get_name());
        section(sub, &sub_name, sign_in, text);
    }
}
