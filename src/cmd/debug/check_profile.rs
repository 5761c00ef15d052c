//! `aa-assist debug check-profile FILE`: is this valid policy, the way `apparmor_parser`
//! decides? Exit 0 when valid, 1 with `file:line:col: reason` when not.

use std::path::PathBuf;

use aa_assist::profile::{IncludeMode, Loader};

use crate::cmd::{GlobalArgs, Outcome};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  aa-assist debug check-profile /etc/apparmor.d/usr.sbin.cupsd\n  aa-assist debug check-profile -I tests/ case.sd --lenient"
)]
pub struct Args {
    /// Profile file to check.
    pub file: PathBuf,
    /// Base directory for `include <…>` (searched after -I dirs).
    #[arg(short = 'd', long = "profile-dir", default_value = "/etc/apparmor.d")]
    pub profile_dir: PathBuf,
    /// Extra include directory, searched first (repeatable).
    #[arg(short = 'I', long = "include-dir")]
    pub include: Vec<PathBuf>,
    /// Treat missing includes as warnings and use built-in tunable defaults.
    #[arg(long)]
    pub lenient: bool,
}

pub fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    let mode = if args.lenient {
        IncludeMode::Lenient
    } else {
        IncludeMode::Strict
    };
    let mut loader = Loader::new(&args.profile_dir, mode);
    for d in &args.include {
        loader = loader.include_dir(d);
    }
    match loader.load_file(&args.file) {
        Ok(p) => {
            if !global.quiet {
                for w in &p.warnings {
                    eprintln!("{w}");
                }
            }
            Ok(Outcome::Clean)
        }
        Err(e) => {
            println!("{e}");
            Ok(Outcome::Findings)
        }
    }
}
