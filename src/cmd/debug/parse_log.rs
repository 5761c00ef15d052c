//! `aa-assist debug parse-log FILE`: print each record in libapparmor's test-harness format.
//!
//! This output is an interface (conformance checks script against it). Each record is a line
//! of FILE plus any following lines that start with a space or tab; blank lines are skipped;
//! each record is cut to 1023 bytes, as libapparmor's `test_multi` harness reads at most that
//! much. Every record prints `START`, `File: <basename of FILE>` and the fields in
//! libapparmor's order (see `aa_assist::log::testfmt`). Parsing uses libapparmor's exact
//! semantics (`aa_assist::log::parse_record`): no framing rewrite, unknown keys invalidate.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::cmd::{GlobalArgs, Outcome};
use aa_assist::log::{parse_record, testfmt};

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  aa-assist debug parse-log testcase01.in\n\n\
Prints START, File: testcase01.in, then Event type, Audit ID, Operation, … exactly as\n\
libapparmor's test_multi harness does. Exit 0 when every record parsed, 1 when a record is\n\
AA_RECORD_INVALID.")]
pub struct Args {
    /// Input file (`-` for stdin).
    pub file: PathBuf,
}

pub fn run(args: Args, _global: &GlobalArgs) -> anyhow::Result<Outcome> {
    let data = if args.file.as_os_str() == "-" {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut v).context("reading stdin")?;
        v
    } else {
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?
    };
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "-".into());
    let tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut out = std::io::stdout().lock();
    let mut invalid = false;
    for rec in testfmt::split_records(&data) {
        let ev = parse_record(rec);
        invalid |= ev.kind == aa_assist::log::EventKind::Invalid;
        let text = testfmt::format_record(&name, &ev);
        // Byte-exact into a pipe or file (the conformance harness compares it); escaped on
        // a terminal, where a hostile name would otherwise drive it.
        if tty {
            out.write_all(aa_assist::display::escape_lines(&text).as_bytes())?;
        } else {
            out.write_all(text.as_bytes())?;
        }
    }
    out.flush()?;
    Ok(if invalid {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
