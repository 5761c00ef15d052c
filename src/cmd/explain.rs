//! `aa-assist explain LOG…`: per event group, why it happened. Deterministic cause classes
//! always (see [`aa_assist::explain`]); with `--llm`, the model's narrative beside them,
//! its invalid answers reported as data.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;

use aa_assist::check::coverage::statuses;
use aa_assist::check::group_evidence;
use aa_assist::explain::{causes, GroupCauses};
use aa_assist::log::group::{group_events, Filter, Grouping};
use aa_assist::log::Event;
use aa_assist::profile::{IncludeMode, LoadedPolicy, Loader};
use aa_assist::prompt::Task;
use aa_assist::review::sanitize;

use super::llm_args::{self, LlmArgs};
use super::{GlobalArgs, Outcome};

/// The `explain --json` schema version.
pub const SCHEMA_VERSION: u32 = 1;

const EXAMPLE: &str = "\
Examples:
  # Why was each group denied? (no model needed)
  aa-assist explain examples/pidcache/audit.log

  # Check against the profile on disk: stale-profile and explicit-deny become visible
  aa-assist explain examples/pidcache/audit.log -p examples/pidcache/profile/usr.sbin.exampled \\
      -d examples/pidcache/profile

  # With a local model's narrative beside the causes
  aa-assist explain --llm --base-url http://127.0.0.1:8080/v1 --model llama3 audit.log

Cause classes: stale-profile, explicit-deny, exec-transition, narrower-capability,
path-resolution, no-new-privs, complain-mode, kernel-error, missing-rule.
Exit status: 0 no groups, 1 groups explained, 2 error.";

/// Flags of `aa-assist explain`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLE)]
pub struct Args {
    /// Logs to read (audit.log, kern.log, syslog, dmesg, `journalctl -o json`; `-` is stdin).
    #[arg(value_name = "LOG", required = true)]
    pub logs: Vec<PathBuf>,
    /// The profile file to compare with (enables stale-profile and explicit-deny).
    #[arg(short = 'p', long = "profile-file", value_name = "FILE")]
    pub profile_file: Option<PathBuf>,
    /// Where profiles and includes are found.
    #[command(flatten)]
    pub dirs: super::profile_args::ProfileDirArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub llm: LlmArgs,
}

#[derive(Serialize)]
struct Entry<'a> {
    #[serde(flatten)]
    causes: &'a GroupCauses,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    model_contradictions: Vec<String>,
}

/// The sentences of a model narrative that contradict the meaning table, flagged with what
/// the table says (`aa_assist::explain::meaning::contradictions`).
pub(crate) fn flagged(narrative: &str) -> Vec<String> {
    aa_assist::explain::meaning::contradictions(narrative)
        .into_iter()
        .map(|(s, truth)| format!("the model says {s:?}, which is wrong: {truth}"))
        .collect()
}

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    groups: Vec<Entry<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    model_notes: &'a [String],
}

/// Read every log (tune's reader), telling about unparseable lines unless quiet.
pub(crate) fn read_logs(logs: &[PathBuf], quiet: bool) -> anyhow::Result<Vec<Event>> {
    let read = super::tune::pipeline::read_events(logs)?;
    if read.summary.failed > 0 && !quiet {
        eprintln!(
            "{} of {} log line(s) could not be parsed and were skipped",
            read.summary.failed, read.summary.lines
        );
    }
    Ok(read.events)
}

/// Load the profile given with `-p`.
pub(crate) fn load_policy(
    file: &std::path::Path,
    dir: &std::path::Path,
    include: &[PathBuf],
) -> anyhow::Result<LoadedPolicy> {
    super::inputs::readable_file(super::inputs::Kind::Profile, file)?;
    let mut loader = Loader::new(dir, IncludeMode::Lenient);
    for d in include {
        loader = loader.include_dir(d);
    }
    loader
        .load_file(file)
        .with_context(|| format!("loading {}", file.display()))
}

/// The model's explanations by group id, and notes on what was set aside.
pub(crate) fn model_explanations(
    llm: &LlmArgs,
    task: Task,
    events: &[Event],
    grouping: &Grouping,
    ids: &[String],
    profiles: &[aa_assist::prompt::ProfileData],
    quiet: bool,
) -> anyhow::Result<(BTreeMap<String, String>, Vec<String>)> {
    let settings = llm.resolve(true)?;
    let groups = aa_assist::pack::group_data(events, grouping, ids);
    let planned = settings.plan(task, &groups, profiles)?;
    let mut texts = BTreeMap::new();
    let mut notes = Vec::new();
    let Some(replies) = llm_args::send(&settings, &planned, quiet)? else {
        notes.push("not sent: declined at the confirmation".to_string());
        return Ok((texts, notes));
    };
    for r in &replies {
        notes.extend(r.notes());
        if let Ok(reply) = &r.reply {
            for e in reply.parsed.clean().explanations {
                let t: &mut String = texts.entry(e.group.clone()).or_default();
                if !t.is_empty() {
                    t.push(' ');
                }
                t.push_str(e.text.trim());
            }
            let missing: Vec<&String> = r
                .group_ids
                .iter()
                .filter(|g| !texts.contains_key(*g))
                .collect();
            if reply.parsed.is_json() && !missing.is_empty() && task == Task::Explain {
                notes.push(format!(
                    "model answer for {} explains no group of {}",
                    r.batch_id,
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    Ok((texts, notes))
}

pub fn run(mut args: Args, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    args.dirs.resolve()?;
    let events = read_logs(&args.logs, global.quiet)?;
    let grouping = group_events(&events, &Filter::default());
    let statuses = match &args.profile_file {
        Some(f) => {
            let policy = load_policy(f, args.dirs.dir(), &args.dirs.include)?;
            Some(statuses(&policy, &group_evidence(&events, &grouping)))
        }
        None => None,
    };
    let explained = causes(&events, &grouping, statuses.as_deref());

    let (model, notes) = if args.llm.llm {
        let ids: Vec<String> = explained
            .iter()
            .filter(|g| !g.causes.is_empty())
            .map(|g| g.group.clone())
            .collect();
        if ids.is_empty() {
            (BTreeMap::new(), Vec::new())
        } else {
            model_explanations(
                &args.llm,
                Task::Explain,
                &events,
                &grouping,
                &ids,
                &[],
                global.quiet,
            )?
        }
    } else {
        (BTreeMap::new(), Vec::new())
    };

    let mut out = std::io::stdout().lock();
    if args.json {
        let report = Report {
            schema_version: SCHEMA_VERSION,
            groups: explained
                .iter()
                .map(|c| Entry {
                    causes: c,
                    model: model.get(&c.group).map(String::as_str),
                    model_contradictions: model
                        .get(&c.group)
                        .map(|t| flagged(t))
                        .unwrap_or_default(),
                })
                .collect(),
            model_notes: &notes,
        };
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        print_text(&mut out, &explained, &model, &notes, args.llm.llm)?;
    }
    Ok(if explained.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

fn print_text(
    out: &mut impl Write,
    explained: &[GroupCauses],
    model: &BTreeMap<String, String>,
    notes: &[String],
    llm: bool,
) -> std::io::Result<()> {
    if explained.is_empty() {
        writeln!(out, "No AppArmor event groups in the logs.")?;
    }
    for g in explained {
        let mask = if g.mask.is_empty() {
            String::new()
        } else {
            format!(" ({})", g.mask)
        };
        writeln!(
            out,
            "{}  {} {} {} {}{} ×{} [{}]",
            g.group,
            g.mode,
            g.class,
            sanitize(&g.operation),
            sanitize(&g.resource),
            sanitize(&mask),
            g.count,
            sanitize(&g.profile)
        )?;
        if g.causes.is_empty() {
            writeln!(out, "    (nothing to explain: not a policy decision)")?;
        }
        for c in &g.causes {
            writeln!(out, "    {}: {}", c.class.as_str(), sanitize(&c.message))?;
        }
        if let Some(t) = model.get(&g.group) {
            writeln!(out, "    model: {}", sanitize(t))?;
            for f in flagged(t) {
                writeln!(out, "    model-check: WRONG: {}", sanitize(&f))?;
            }
        } else if llm && !g.causes.is_empty() {
            writeln!(out, "    model: (no valid explanation)")?;
        }
    }
    for n in notes {
        writeln!(out, "note: {}", sanitize(n))?;
    }
    Ok(())
}
