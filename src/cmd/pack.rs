//! `aa-assist pack --log LOG… [--profile PROFILE] [--task TASK] --out DIR`: write an offline
//! prompt pack (see [`aa_assist::pack`]) for a model this host may not talk to.
//!
//! Same grouping, redaction, templates, token budget and request body as the online path;
//! the answers come back with `aa-assist ingest`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use aa_assist::check::coverage::{profile_log_name, statuses, Status};
use aa_assist::check::group_evidence;
use aa_assist::config::Config;
use aa_assist::llm::{Client, LlmConfig};
use aa_assist::log::group::{group_events, Filter, Grouping};
use aa_assist::log::{Event, EventKind};
use aa_assist::pack::{self, LocalEvidence, PackInput};
use aa_assist::profile::{IncludeMode, Loader};
use aa_assist::prompt::{Planner, PlannerOptions, ProfileData, Task, Templates, TokenCounter};
use aa_assist::redact::{RedactConfig, Redactor};

use super::tune::pipeline::{self, Events};
use super::{GlobalArgs, Outcome};

const EXAMPLE: &str = "\
Examples:
  # Draft rules for the bundled example with a model elsewhere:
  aa-assist pack --log examples/pidcache/audit.log \\
      --profile examples/pidcache/profile/usr.sbin.exampled -d examples/pidcache/profile \\
      --out pack-exampled
  # ...paste pack-exampled/B1.md into a chat, save the reply as pack-exampled/answers/B1.txt
  # (or submit pack-exampled/requests.jsonl to a Batch API and save its output), then:
  aa-assist ingest --pack pack-exampled pack-exampled/answers/

  # Ask a model to review a profile for over-broad rules:
  aa-assist pack --task review --profile usr.sbin.nginx --log /var/log/audit/audit.log --out pack-nginx

Files: B1.md… (paste into a chat), requests.jsonl (OpenAI Batch API input), manifest.json
(batches, group ids, token counts, SHA-256 of every prompt file). These may travel.
redaction-map.json and local/ (mode 0600) hold the real values and events: they must never
travel; `ingest` needs them, on this host.

How answers are checked: `ingest` cross-checks every proposed rule against the audit events
stored in local/evidence.json when the pack was written (only what the cross-check needs: one
event per distinct access of each packed group), so the logs may rotate while the prompts are
away. local/evidence.json also pins the SHA-256 of manifest.json, which pins every prompt file
and request line: a pack changed after packing is refused.

Review packs (`--task review`) bring back narrower replacement rules: `ingest` offers each as
an addition to review; removing the broad rule it replaces is left to you.";

/// Flags of `aa-assist pack`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLE)]
pub struct Args {
    /// Log to read (audit.log, kern.log, syslog, dmesg, `journalctl -o json`). Repeatable.
    #[arg(long = "log", value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// The profile (file path, or name in the profile directory): only its groups are packed
    /// (for `draft`: only those it does not cover yet).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Pack PROFILE for explanation (same as `--task explain-profile --profile PROFILE`).
    #[arg(long, value_name = "PROFILE", conflicts_with_all = ["profile", "task"])]
    pub explain_profile: Option<String>,
    /// What the model is asked to do.
    #[arg(long, value_enum, default_value = "draft")]
    pub task: TaskArg,
    /// Directory to write the pack into (must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Where profiles and includes are found.
    #[command(flatten)]
    pub dirs: super::profile_args::ProfileDirArgs,
    /// Model the requests name and whose tokenizer counts (default: config, else gpt-4o-mini).
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Prompt-token budget per batch (default: config, else 16000).
    #[arg(long, value_name = "N")]
    pub max_prompt_tokens: Option<usize>,
    /// Directory with prompt templates overriding the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub prompts_dir: Option<PathBuf>,
}

/// `--task`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TaskArg {
    /// Explain the denials.
    Explain,
    /// Draft minimal rules.
    Draft,
    /// Explain a profile.
    ExplainProfile,
    /// Review a profile for over-broad rules.
    Review,
}

impl From<TaskArg> for Task {
    fn from(t: TaskArg) -> Task {
        match t {
            TaskArg::Explain => Task::Explain,
            TaskArg::Draft => Task::Draft,
            TaskArg::ExplainProfile => Task::ExplainProfile,
            TaskArg::Review => Task::Review,
        }
    }
}

/// The groups to pack: those of the profile (uncovered ones for `draft`), or every denial
/// and complaint without a profile.
fn select(
    task: Task,
    events: &[Event],
    grouping: &Grouping,
    policy: Option<&aa_assist::profile::LoadedPolicy>,
) -> Vec<String> {
    let evidence = group_evidence(events, grouping);
    let drafting = |mode: EventKind| matches!(mode, EventKind::Denied | EventKind::Allowed);
    match policy {
        Some(policy) => {
            let names: Vec<String> = policy.profiles.iter().map(profile_log_name).collect();
            if task == Task::Draft {
                statuses(policy, &evidence)
                    .into_iter()
                    .filter(|s| s.status == Status::Missing)
                    .filter(|s| evidence.iter().any(|g| g.id == s.group && drafting(g.mode)))
                    .map(|s| s.group)
                    .collect()
            } else {
                evidence
                    .iter()
                    .filter(|g| names.contains(&g.profile))
                    .map(|g| g.id.clone())
                    .collect()
            }
        }
        None => evidence
            .iter()
            .filter(|g| task != Task::Draft || (drafting(g.mode) && !g.needs.is_empty()))
            .map(|g| g.id.clone())
            .collect(),
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

fn sha_or_empty(p: &Path) -> anyhow::Result<String> {
    if p == Path::new("-") || !p.is_file() {
        return Ok(String::new());
    }
    Ok(pack::sha256_file(p)?)
}

pub fn run(mut args: Args, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    let config = Config::load_default()?;
    args.dirs.resolve_with(&config);
    // As root, the output directory and those above it must be root's alone: another user
    // could swap the files written there (the redaction map among them) for links.
    aa_assist::fsguard::Policy::current()
        .check(&args.out, aa_assist::fsguard::Usage::Write)
        .map_err(|e| anyhow::anyhow!("pack --out: {e}; nothing was written"))?;
    let (task, profile_arg) = match &args.explain_profile {
        Some(p) => (Task::ExplainProfile, Some(p.clone())),
        None => (Task::from(args.task), args.profile.clone()),
    };
    if task.needs_profile_text() && profile_arg.is_none() {
        bail!(
            "--task {} needs --profile PROFILE (the profile text is what the model reads)",
            task.name()
        );
    }
    if !task.needs_profile_text() && args.logs.is_empty() {
        bail!(
            "--task {} needs at least one --log LOG (the events are what the model reads)",
            task.name()
        );
    }
    let profile_path = profile_arg
        .as_deref()
        .map(|p| super::tune::resolve_profile(p, args.dirs.dir()))
        .transpose()?;
    let policy = match &profile_path {
        Some(path) => {
            let mut loader = Loader::new(args.dirs.dir(), IncludeMode::Lenient);
            for d in &args.dirs.include {
                loader = loader.include_dir(d);
            }
            Some(
                loader
                    .load_file(path)
                    .with_context(|| format!("loading {}", path.display()))?,
            )
        }
        None => None,
    };

    // The same reading, profile filter and grouping as `tune`, so group ids agree.
    let Events { events, summary } = pipeline::read_events(&args.logs)?;
    if summary.failed > 0 && !global.quiet {
        eprintln!(
            "{} of {} log lines could not be parsed and were skipped",
            summary.failed, summary.lines
        );
    }
    let events: Vec<Event> = match &policy {
        Some(policy) => {
            let names = pipeline::profile_names(policy);
            events
                .into_iter()
                .filter(|e| pipeline::belongs(e, &names))
                .collect()
        }
        None => events,
    };
    let grouping = group_events(&events, &Filter::default());
    let ids = select(task, &events, &grouping, policy.as_ref());
    let groups = pack::group_data(&events, &grouping, &ids);

    let mut profiles = Vec::new();
    if task.needs_profile_text() {
        let (Some(path), Some(policy)) = (&profile_path, &policy) else {
            bail!("internal: a profile task without a profile");
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading profile {}", path.display()))?;
        let name = policy
            .profiles
            .first()
            .map(profile_log_name)
            .with_context(|| format!("{} defines no profile", path.display()))?;
        profiles.push(ProfileData { name, text });
    }
    if groups.is_empty() && profiles.is_empty() {
        if !global.quiet {
            println!(
                "Nothing to pack: no event group{} needs a model. No files written.",
                if profile_path.is_some() {
                    " of this profile"
                } else {
                    ""
                }
            );
        }
        return Ok(Outcome::Clean);
    }

    let model = args
        .model
        .clone()
        .or_else(|| config.llm.model.clone())
        .unwrap_or_else(|| LlmConfig::default().model);
    let max_prompt_tokens = args
        .max_prompt_tokens
        .or(config.llm.max_prompt_tokens)
        .unwrap_or(PlannerOptions::default().max_prompt_tokens);
    let prompts_dir = args.prompts_dir.clone().or(config.llm.prompts_dir.clone());
    if let Some(dir) = &prompts_dir {
        super::llm_args::check_prompts_dir(dir)?;
    }
    let patterns = config
        .redact
        .patterns
        .iter()
        .map(|p| regex::Regex::new(p))
        .collect::<Result<Vec<_>, _>>()
        .context("redact.patterns in the config file")?;
    let mut redactor = Redactor::new(RedactConfig { patterns });
    let counter = TokenCounter::for_model(&model);
    let encoding = counter.encoding().to_string();
    let llm = LlmConfig {
        model: model.clone(),
        ..LlmConfig::default()
    };
    let planner = Planner::new(
        Templates::load(prompts_dir.as_deref())?,
        counter,
        PlannerOptions {
            task,
            max_prompt_tokens,
            max_completion_tokens: llm.max_tokens,
            ..PlannerOptions::default()
        },
    );
    let batches = planner.plan(&groups, &profiles, &mut redactor)?;
    let client = Client::with_key(llm.clone(), None)?;
    let bodies = batches
        .iter()
        .map(|b| client.request_body(b, llm.response_format))
        .collect();

    let (kept, reduced) = pack::reduce_events(&events, &grouping, &ids);
    let local = LocalEvidence {
        warning: pack::EVIDENCE_WARNING.to_string(),
        manifest_sha256: String::new(),
        // Absolute, so `ingest` finds them from any directory.
        profile_path: profile_path.as_deref().map(absolute),
        logs: args.logs.iter().map(|l| absolute(l)).collect(),
        evidence: pipeline::describe_groups(
            &events,
            &grouping,
            &BTreeMap::new(),
            pack::EVIDENCE_LINES,
        )
        .1
        .into_iter()
        .filter(|(id, _)| ids.contains(id))
        .collect(),
        events: kept,
        grouping: reduced,
    };
    let log_sha256 = args
        .logs
        .iter()
        .map(|l| sha_or_empty(l))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let dir_label = args
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "DIR".into());
    let written = pack::write_pack(
        &args.out,
        PackInput {
            batches: &batches,
            bodies,
            task,
            model,
            encoding,
            max_prompt_tokens,
            redactor: &redactor,
            profile_sha256: profile_path.as_deref().map(sha_or_empty).transpose()?,
            log_sha256,
            local,
            dir_label: dir_label.clone(),
        },
    )?;

    if !global.quiet {
        let m = &written.manifest;
        let tokens: usize = m.batches.iter().map(|b| b.prompt_tokens).sum();
        println!(
            "Packed {} group(s) into {} batch(es) ({tokens} prompt tokens, model {}) in {}:",
            ids.len(),
            m.batches.len(),
            m.model,
            args.out.display()
        );
        for b in &m.batches {
            println!(
                "  {}  {} group(s), {} tokens",
                b.prompt_file,
                b.group_ids.len(),
                b.prompt_tokens
            );
        }
        println!("  {}  OpenAI Batch API input", pack::REQUESTS_FILE);
        println!("  {}  hashes of every prompt", pack::MANIFEST_FILE);
        println!(
            "SECRET, never send with the prompts: {} ({} pseudonym(s)) and {} (mode 0600).",
            written.map.display(),
            redactor.len(),
            written.evidence.display()
        );
        println!(
            "Bring the answers back with: aa-assist ingest --pack {} {}/{}/",
            args.out.display(),
            args.out.display(),
            pack::ANSWERS_DIR
        );
    }
    Ok(Outcome::Clean)
}
