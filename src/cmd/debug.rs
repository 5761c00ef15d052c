//! `aa-assist debug …`: conformance tools that others script against. Their output formats
//! are interfaces: keep them exact and documented.

use clap::Subcommand;

use super::{GlobalArgs, Outcome};

mod check_profile;
mod parse_log;
mod roundtrip;

#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Print each audit record in libapparmor's test-harness format.
    ParseLog(parse_log::Args),
    /// Say whether a file is valid policy (exit 0) or not (exit 1, `file:line:col: reason`).
    CheckProfile(check_profile::Args),
    /// Print a profile file back from its parsed tree (must be byte-identical).
    Roundtrip(roundtrip::Args),
}

pub fn run(cmd: DebugCommand, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    match cmd {
        DebugCommand::ParseLog(a) => parse_log::run(a, global),
        DebugCommand::CheckProfile(a) => check_profile::run(a, global),
        DebugCommand::Roundtrip(a) => roundtrip::run(a, global),
    }
}
