//! `aa-assist redact LOG…`: print exactly the text a model would receive for these logs
//! (system and user messages of every batch, after redaction), and the token estimate.
//! Sends nothing.

use std::io::Write;
use std::path::PathBuf;

use aa_assist::log::group::{group_events, Filter};
use aa_assist::log::EventKind;
use aa_assist::prompt::{render_for_model, Task};

use super::llm_args::{estimate_line, LlmArgs};
use super::{GlobalArgs, Outcome};

const EXAMPLE: &str = "\
Examples:
  # What would `explain --llm` send for this log?
  aa-assist redact examples/pidcache/audit.log

  # What would `tune --llm` send (draft task), counted with another model's tokenizer?
  aa-assist redact --task draft --model gpt-4o examples/pidcache/audit.log

Nothing is sent. Pseudonyms (USER_1, HOST_1, …) are consistent across batches; the map back to
real values stays in memory.";

/// What the model would be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TaskArg {
    /// Explain the denials (`explain --llm`).
    Explain,
    /// Draft rules (`tune --llm`).
    Draft,
}

/// Flags of `aa-assist redact`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLE)]
pub struct Args {
    /// Logs to read (`-` is stdin).
    #[arg(value_name = "LOG", required = true)]
    pub logs: Vec<PathBuf>,
    /// Which prompt to show.
    #[arg(long, value_enum, default_value = "explain")]
    pub task: TaskArg,
    /// Only this profile's groups (and its hats).
    #[arg(long)]
    pub profile: Option<String>,
    #[command(flatten)]
    pub llm: LlmArgs,
}

pub fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    let settings = args.llm.resolve(false)?;
    let events = super::explain::read_logs(&args.logs, global.quiet)?;
    let filter = Filter {
        profile: args.profile.clone(),
        ..Filter::default()
    };
    let grouping = group_events(&events, &filter);
    let task = match args.task {
        TaskArg::Explain => Task::Explain,
        TaskArg::Draft => Task::Draft,
    };
    let ids: Vec<String> = grouping
        .groups
        .iter()
        .filter(|g| {
            task != Task::Draft || matches!(g.key.mode, EventKind::Denied | EventKind::Allowed)
        })
        .map(|g| g.id.clone())
        .collect();
    let mut out = std::io::stdout().lock();
    if ids.is_empty() {
        writeln!(out, "No event group would be sent.")?;
        return Ok(Outcome::Clean);
    }
    let groups = aa_assist::pack::group_data(&events, &grouping, &ids);
    let planned = settings.plan(task, &groups, &[])?;
    // The data in a prompt is already inert (prompt::neutralise: no control, bidi or
    // invisible character), so this prints exactly what is sent; the escape only guards
    // against such characters in a template from --prompts-dir.
    let text = render_for_model(&planned.batches);
    out.write_all(aa_assist::display::escape_lines(&text).as_bytes())?;
    if !global.quiet {
        eprintln!(
            "{}; {} value(s) pseudonymised",
            estimate_line(&planned.estimate, &settings.client.model),
            planned.redactor.len()
        );
    }
    Ok(Outcome::Clean)
}
