//! `aa-assist completions SHELL` and `aa-assist man`: generated from the CLI definition so
//! they never drift from the real flags.

use std::io::Write;

use clap::CommandFactory;

use super::{Cli, Outcome};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  aa-assist completions bash > /etc/bash_completion.d/aa-assist\n  aa-assist completions zsh > \"${fpath[1]}/_aa-assist\""
)]
pub struct CompletionsArgs {
    /// Shell to generate completions for.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  aa-assist man > aa-assist.1 && man ./aa-assist.1")]
pub struct ManArgs {}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut cmd = Cli::command();
    // Render into memory first: clap_complete panics on a write error such as a closed pipe.
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "aa-assist", &mut buf);
    let mut out = std::io::stdout().lock();
    out.write_all(&buf)?;
    out.flush()?;
    Ok(Outcome::Clean)
}

pub fn man(_args: ManArgs) -> anyhow::Result<Outcome> {
    let cmd = Cli::command();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    // One page with every subcommand's section, so `man aa-assist` documents all of them.
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("aa-assist-{}", sub.get_name());
        let sub = sub.clone().name(name.clone()).display_name(name);
        clap_mangen::Man::new(sub).render(&mut buf)?;
    }
    let mut out = std::io::stdout().lock();
    out.write_all(&buf)?;
    out.flush()?;
    Ok(Outcome::Clean)
}
