//! `aa-assist redact LOG…`: print exactly the text a model would receive for these logs
//! (system and user messages of every batch, after redaction), and the token estimate.
//! Sends nothing.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use aa_assist::log::group::{Filter, Grouper, Grouping};
use aa_assist::log::{open_sources, Event, EventKind, Summary};
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
    let filter = Filter {
        profile: args.profile.clone(),
        ..Filter::default()
    };
    let (events, grouping) = read_grouped(&args.logs, &filter, global.quiet)?;
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
    drop(events);
    let planned = settings.plan(task, &groups, &[])?;
    drop(groups);
    // The data in a prompt is already inert (prompt::neutralise: no control, bidi or
    // invisible character), so this prints exactly what is sent, batch by batch; the escape
    // only guards against such characters in a template from --prompts-dir.
    for b in &planned.batches {
        let text = render_for_model(std::slice::from_ref(b));
        out.write_all(aa_assist::display::escape_lines(&text).as_bytes())?;
    }
    if !global.quiet {
        eprintln!(
            "{}; {} value(s) pseudonymised",
            estimate_line(&planned.estimate, &settings.client.model),
            planned.redactor.len()
        );
    }
    Ok(Outcome::Clean)
}

/// Read the logs event by event into a streaming grouper, keeping only the first event of
/// each group (all a prompt samples): memory grows with the number of groups, not with the
/// size of the logs. Returns those events and a grouping whose membership covers them.
fn read_grouped(
    logs: &[std::path::PathBuf],
    filter: &Filter,
    quiet: bool,
) -> anyhow::Result<(Vec<Event>, Grouping)> {
    let specs = super::inputs::log_specs(logs)?;
    let mut grouper = Grouper::new();
    // Per provisional group: (input position, first event).
    let mut firsts: Vec<Option<(u64, Event)>> = Vec::new();
    let mut summary = Summary::default();
    let mut seq = 0u64;
    for source in open_sources(&specs)? {
        let label = source.label.clone();
        let mut reader = source.into_reader();
        for ev in reader.by_ref() {
            let ev = ev.with_context(|| format!("reading {label}"))?;
            seq += 1;
            if grouper.observe_status(&ev, ev.provenance.trusted) || !filter.matches(&ev) {
                continue;
            }
            let i = grouper.add(&ev);
            if firsts.len() <= i {
                firsts.resize_with(i + 1, || None);
            }
            if firsts[i].is_none() {
                firsts[i] = Some((seq, ev));
            }
        }
        summary.merge(reader.summary());
    }
    if summary.failed > 0 && !quiet {
        eprintln!(
            "{} of {} log line(s) could not be parsed and were skipped",
            summary.failed, summary.lines
        );
    }
    let (groups, position) = grouper.finish();
    // Provisional groups merged into one final group: keep the earliest event.
    let mut first_of: Vec<Option<(u64, Event)>> = Vec::new();
    first_of.resize_with(groups.len(), || None);
    for (i, first) in firsts.into_iter().enumerate() {
        let (Some((at, ev)), Some(&gi)) = (first, position.get(i)) else {
            continue;
        };
        if let Some(slot) = first_of.get_mut(gi) {
            if slot.as_ref().is_none_or(|(seen, _)| at < *seen) {
                *slot = Some((at, ev));
            }
        }
    }
    let mut kept: Vec<(u64, usize, Event)> = first_of
        .into_iter()
        .enumerate()
        .filter_map(|(gi, f)| f.map(|(at, ev)| (at, gi, ev)))
        .collect();
    kept.sort_by_key(|(at, _, _)| *at);
    let membership = kept.iter().map(|(_, gi, _)| Some(*gi)).collect();
    let events = kept.into_iter().map(|(_, _, ev)| ev).collect();
    Ok((events, Grouping { groups, membership }))
}
