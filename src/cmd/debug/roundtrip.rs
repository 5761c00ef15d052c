//! `aa-assist debug roundtrip FILE`: print a profile file back from its parsed tree. The
//! output is byte-identical to the input. Text that does not parse is kept verbatim in the
//! tree (and reported on stderr as a warning), so even invalid files round-trip.

use std::io::Write;
use std::path::PathBuf;

use aa_assist::profile::ProfileFile;
use anyhow::Context;

use crate::cmd::{GlobalArgs, Outcome};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  aa-assist debug roundtrip /etc/apparmor.d/usr.sbin.cupsd | diff - /etc/apparmor.d/usr.sbin.cupsd"
)]
pub struct Args {
    /// Profile, abstraction or tunable file.
    pub file: PathBuf,
}

pub fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let text = String::from_utf8(bytes)
        .with_context(|| format!("{}: not valid UTF-8", args.file.display()))?;
    let (tree, errors) = ProfileFile::parse_recovering(&args.file.display().to_string(), &text);
    if !global.quiet {
        for e in &errors {
            eprintln!("warning: {e} (kept verbatim)");
        }
    }
    let mut out = std::io::stdout().lock();
    // Byte-identical into a pipe or file (its purpose); escaped on a terminal.
    if std::io::IsTerminal::is_terminal(&out) {
        out.write_all(aa_assist::display::escape_lines(&tree.to_text()).as_bytes())?;
    } else {
        out.write_all(tree.to_text().as_bytes())?;
    }
    out.flush()?;
    Ok(Outcome::Clean)
}
