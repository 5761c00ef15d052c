//! `aa-assist debug …`: conformance tools that others script against.

use clap::Subcommand;

use super::{GlobalArgs, Outcome};

#[derive(Debug, Subcommand)]
pub enum DebugCommand {}

pub fn run(cmd: DebugCommand, _global: &GlobalArgs) -> anyhow::Result<Outcome> {
    match cmd {}
}
