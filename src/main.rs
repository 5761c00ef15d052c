//! The `aa-assist` command line: parse flags, call the library, map errors to exit codes.
//!
//! Exit codes: 0 clean, 1 findings, 2 error, 3 the interactive review was quit. Each subcommand lives in `src/cmd/`.

mod cmd;

use std::process::ExitCode;

use clap::Parser;

/// Events are allocated on parsing threads and freed on the main thread; mimalloc handles
/// that far better than glibc's malloc (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    cmd::init_tracing(&cli.global);
    match cmd::run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(err) => {
            if cmd::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            // Error chains quote paths, profile text and server answers: escaped here once
            // more, whatever each error's own Display did.
            let line = cmd::inputs::error_line(&err);
            eprintln!(
                "aa-assist: error: {}",
                aa_assist::display::escape_lines(&line)
            );
            ExitCode::from(cmd::Outcome::Error as u8)
        }
    }
}
