//! Subcommand definitions and dispatch. One file per subcommand; each exposes an `Args`
//! struct (clap) and a `run` function returning an [`Outcome`].

use clap::{Args, Parser, Subcommand};

pub mod check;
pub mod completions;
pub mod debug;
pub mod denials;
pub mod explain;
pub mod follow;
pub mod ingest;
pub mod inputs;
pub mod llm_args;
pub mod pack;
pub mod profile_args;
pub mod redact;
pub mod review_profile;
pub mod status;
pub mod tune;

/// How a command ended; the numeric value is the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report.
    Clean = 0,
    /// The command ran and has findings for the user.
    Findings = 1,
    /// The command could not do its job.
    Error = 2,
    /// The person quit the interactive review (`tune`, `ingest`): nothing was written.
    Quit = 3,
}

/// aa-assist: confine services with AppArmor, with a human approving every rule.
#[derive(Debug, Parser)]
#[command(name = "aa-assist", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print less: only results and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more about what the tool is doing (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// As root, use files and directories that another user owns or that group or others
    /// can write (profile and state directories, config file, prompt templates, answer cache,
    /// `pack --out` and `ingest --pack` directories). Refused by
    /// default: that user could redirect what root writes or choose what it reads.
    #[arg(long, global = true)]
    pub allow_untrusted_paths: bool,
    /// Overwrite an output file that already exists (`--patch`, `--transcript`); it is never
    /// followed through a symlink.
    #[arg(long, global = true)]
    pub force: bool,
}

static FORCE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--force` was given.
pub fn force() -> bool {
    FORCE.load(std::sync::atomic::Ordering::Relaxed)
}

/// Create an output file named on the command line (`--patch`, `--transcript`): never
/// through a symlink planted at its name, and never over an existing file unless `--force`
/// (then it is truncated, or appended to with `append`).
pub fn create_output(path: &std::path::Path, append: bool) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.write(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    if !force() {
        o.create_new(true);
    } else if append {
        o.create(true).append(true);
    } else {
        o.create(true).truncate(true);
    }
    o.open(path).map_err(|e| {
        let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        let why = if link {
            "it is a symbolic link, which is never followed".to_string()
        } else if e.kind() == std::io::ErrorKind::AlreadyExists {
            "it already exists (add --force to overwrite it)".to_string()
        } else {
            e.to_string()
        };
        anyhow::anyhow!("cannot create {}: {why}", path.display())
    })
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Group AppArmor audit events from logs (auditd, dmesg, syslog, journal, …).
    Denials(denials::Args),
    /// Explain each event group: deterministic causes, and a model's narrative with --llm.
    Explain(explain::Args),
    /// Say, for each event group, whether a profile allows, denies or lacks it.
    Check(check::Args),
    /// Propose rules from the logs, review each one, write what you approve.
    Tune(tune::Args),
    /// Explain each rule of a profile and flag over-broad or dangerous ones.
    Review(review_profile::Args),
    /// Say whether a profile has been quiet long enough to enforce.
    Status(status::Args),
    /// Show exactly the text a model would receive for these logs (sends nothing).
    Redact(redact::Args),
    /// Write an offline prompt pack for a model this host may not talk to.
    Pack(pack::Args),
    /// Take a prompt pack's answers back: cross-check, review, write what you approve.
    Ingest(ingest::Args),
    /// Print shell completions generated from the CLI definition.
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff) generated from the CLI definition.
    Man(completions::ManArgs),
    /// Developer and conformance tools.
    #[command(subcommand)]
    Debug(debug::DebugCommand),
}

/// Colour follows https://no-color.org: only a non-empty `NO_COLOR` turns it off. The
/// terminal crate treats any `NO_COLOR`, even empty, as off, so an empty one is decided here
/// as if it were unset (a terminal that is not `dumb`, `CLICOLOR`, `CLICOLOR_FORCE`).
fn apply_no_color() {
    use std::io::IsTerminal;
    let Some(value) = std::env::var_os("NO_COLOR") else {
        return;
    };
    if !value.is_empty() {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
        return;
    }
    let var = |name: &str| std::env::var(name).ok();
    let dumb = var("TERM").is_none_or(|t| t == "dumb");
    let clicolor = var("CLICOLOR").is_none_or(|v| v != "0");
    let forced = var("CLICOLOR_FORCE").is_some_and(|v| v != "0");
    let on = |tty: bool| (tty && !dumb && clicolor) || forced;
    console::set_colors_enabled(on(std::io::stdout().is_terminal()));
    console::set_colors_enabled_stderr(on(std::io::stderr().is_terminal()));
}

pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    apply_no_color();
    aa_assist::fsguard::set_allow_untrusted(cli.global.allow_untrusted_paths);
    FORCE.store(cli.global.force, std::sync::atomic::Ordering::Relaxed);
    match cli.command {
        Command::Completions(a) => completions::completions(a),
        Command::Man(a) => completions::man(a),
        Command::Check(a) => check::run(a, &cli.global),
        Command::Explain(a) => explain::run(a, &cli.global),
        Command::Redact(a) => redact::run(a, &cli.global),
        Command::Review(a) => review_profile::run(a, &cli.global),
        Command::Status(a) => status::run(a, &cli.global),
        Command::Debug(c) => debug::run(c, &cli.global),
        Command::Pack(a) => pack::run(a, &cli.global),
        Command::Ingest(a) => ingest::run(a, &cli.global),
        Command::Tune(a) => tune::run(a, &cli.global),
        Command::Denials(a) => denials::run(a, &cli.global),
    }
}

pub fn init_tracing(global: &GlobalArgs) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("AA_ASSIST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

/// A closed stdout (e.g. `| head`) is not an error worth reporting.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    let broken = Some(std::io::ErrorKind::BrokenPipe);
    err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().map(|e| e.kind()) == broken
            // `--json` output is written by serde_json, whose error hides the io::Error.
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|e| e.io_error_kind())
                == broken
    })
}
