//! TODO(owner helper): implement.

use std::path::PathBuf;

use crate::cmd::{GlobalArgs, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input file.
    pub file: PathBuf,
}

pub fn run(_args: Args, _global: &GlobalArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("not implemented yet")
}
