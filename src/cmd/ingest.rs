//! `aa-assist ingest --pack DIR ANSWER…`: take a prompt pack's answers back in.
//!
//! Flow: verify the pack (manifest against the hash kept locally, every prompt file and
//! request line against the manifest) → read the answers (Batch API output JSONL, pasted chat
//! answers, or a directory of them) → match each to its batch (unknown batch, duplicate or
//! unnamed file: error) → validate against the batch's group ids and profiles → de-redact
//! with the pack's map → cross-check every proposal against the events stored in the pack
//! → the same review, `--dry-run`, `--json`, `--patch`, validation and safe write as `tune`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};

use aa_assist::check::coverage::{statuses, Status};
use aa_assist::check::{CheckOptions, Checker, Universe};
use aa_assist::draft::Proposal;
use aa_assist::pack::{self, answers, IngestedBatch, Pack};
use aa_assist::profile::{IncludeMode, Loader};
use aa_assist::prompt::Task;
use aa_assist::review::report::GroupEntry;
use aa_assist::review::sanitize;

use super::tune::pipeline::{self, ProfileApplier};
use super::tune::{self, Plan};
use super::{GlobalArgs, Outcome};

const EXAMPLE: &str = "\
Examples:
  # Pasted chat answers saved as answers/B1.txt, answers/B2.txt, …:
  aa-assist ingest --pack pack-exampled pack-exampled/answers/

  # The output file of an OpenAI Batch API job run on pack-exampled/requests.jsonl:
  aa-assist ingest --pack pack-exampled batch_output.jsonl --dry-run

An answer file names its batch in its file name (B2.txt, answer-b2.md); a one-batch pack
accepts any name. The pack must be the one written by `aa-assist pack` on this host: its
redaction-map.json restores the real values, local/evidence.json holds the audit events every
proposal is cross-checked against (the logs need not exist any more). A prompt file changed
since packing, an answer for a batch that was never packed, or two answers for one batch stop
the ingest with an error naming the batch. A proposal whose answer cites groups outside its
batch, names another profile or is not one plain rule is shown as blocked (finding
`answer-problem`). Nothing is written without your approval.

Exit status: 0 nothing to do or all written, 1 proposals (shown, not written), 2 error,
3 the review was quit (nothing written).";

/// Flags of `aa-assist ingest`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLE)]
pub struct Args {
    /// The pack directory written by `aa-assist pack`.
    #[arg(long = "pack", value_name = "DIR")]
    pub pack: PathBuf,
    /// Answers: Batch API output JSONL, pasted chat answers (one file per batch), or
    /// directories of them.
    #[arg(value_name = "ANSWER", required = true)]
    pub answers: Vec<PathBuf>,
    /// The profile to review proposals against (default: the one given to `pack`).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Where the profile lives and how the review may write (as for `tune`).
    #[command(flatten)]
    pub review: super::tune::ReviewArgs,
}

/// Problems with whole answers, and explanations, for the person (sanitized: model text).
fn report_batches(
    pack: &Pack,
    batches: &[IngestedBatch],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for b in batches {
        for p in b.answer_problems() {
            writeln!(
                out,
                "warning: batch {} ({}): {}",
                b.batch_id,
                sanitize(&b.origin.to_string()),
                sanitize(&p)
            )?;
        }
        for e in b.explanations() {
            let summary = pack
                .local
                .evidence
                .get(&e.group)
                .map(|ev| format!(" [{}]", sanitize(&ev.summary)))
                .unwrap_or_default();
            writeln!(out, "{}{summary}: {}", e.group, sanitize(&e.text))?;
        }
    }
    let answered: Vec<&str> = batches.iter().map(|b| b.batch_id.as_str()).collect();
    let missing: Vec<&str> = pack
        .manifest
        .batches
        .iter()
        .map(|b| b.id.as_str())
        .filter(|id| !answered.contains(id))
        .collect();
    if !missing.is_empty() {
        writeln!(
            out,
            "note: no answer for batch(es) {}; their groups get no model proposals",
            missing.join(", ")
        )?;
    }
    Ok(())
}

/// `--pack` must be a directory `aa-assist pack` wrote: say so plainly before opening it.
fn check_pack_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let shown = dir.display();
    let hint = "give the directory `aa-assist pack --out DIR` wrote";
    if !dir.exists() {
        bail!("pack {shown}: no such directory; {hint}");
    }
    if !dir.is_dir() {
        bail!("pack {shown} is not a directory; {hint}");
    }
    if !dir.join(pack::MANIFEST_FILE).exists() {
        bail!(
            "pack {shown} has no {}, so it is not a pack; {hint}",
            pack::MANIFEST_FILE
        );
    }
    Ok(())
}

/// As root, refuse a pack directory, or anything in it (a few levels down: `local/`,
/// `answers/`), that another user owns or others can write: its map restores real names into
/// the proposals and its prompts are what the manifest's hashes vouch for, so that user would
/// choose what root applies.
fn trusted_pack(
    policy: &aa_assist::fsguard::Policy,
    dir: &std::path::Path,
    depth: usize,
) -> Result<(), aa_assist::fsguard::Untrusted> {
    policy.check_dir_and_entries(dir, aa_assist::fsguard::Usage::Read)?;
    if depth == 0 || !policy.enforced() {
        return Ok(());
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                trusted_pack(policy, &e.path(), depth - 1)?;
            }
        }
    }
    Ok(())
}

pub fn run(mut args: Args, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    args.review.dirs.resolve()?;
    check_pack_dir(&args.pack)?;
    trusted_pack(&aa_assist::fsguard::Policy::current(), &args.pack, 3)
        .map_err(|e| anyhow::anyhow!("pack: {e}; nothing was read or written"))?;
    for a in args.answers.iter().filter(|a| !a.is_dir()) {
        super::inputs::readable_file(super::inputs::Kind::Other("answer"), a)?;
    }
    let pack = Pack::open(&args.pack)
        .with_context(|| format!("pack {} cannot be used", args.pack.display()))?;
    let raw = pack::read_answers(&args.answers)?;
    let batches = pack.ingest(raw)?;
    let proposals = answers::proposals(&batches);

    let task = pack.manifest.task;
    let explaining = matches!(task, Task::Explain | Task::ExplainProfile);
    {
        // Explanations are the result for explain tasks; otherwise context on stderr, so that
        // stdout stays the cards or the JSON report.
        let mut stdout = std::io::stdout().lock();
        let mut stderr = std::io::stderr().lock();
        let out: &mut dyn Write = if explaining && !args.review.json {
            &mut stdout
        } else {
            &mut stderr
        };
        if !global.quiet || explaining {
            report_batches(&pack, &batches, out)?;
        }
    }
    if explaining && proposals.is_empty() {
        if args.review.json {
            let doc = serde_json::json!({
                "schema_version": 1,
                "task": task,
                "explanations": batches.iter().flat_map(|b| b.explanations()).collect::<Vec<_>>(),
                "problems": batches
                    .iter()
                    .map(|b| (b.batch_id.clone(), b.answer_problems()))
                    .filter(|(_, p)| !p.is_empty())
                    .collect::<BTreeMap<_, _>>(),
            });
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        return Ok(Outcome::Clean);
    }

    let profile_path = match (&args.profile, &pack.local.profile_path) {
        (Some(p), _) => tune::resolve_profile(p, args.review.dirs.dir())?,
        (None, Some(p)) => p.clone(),
        (None, None) => bail!(
            "the pack was made without --profile, so there is no file to put the {} proposal(s) \
             into; pass --profile PROFILE",
            proposals.len()
        ),
    };
    let profile_text = std::fs::read_to_string(&profile_path)
        .with_context(|| format!("reading profile {}", profile_path.display()))?;
    if let Some(expected) = &pack.manifest.profile_sha256 {
        if args.profile.is_none()
            && &pack::sha256_hex(profile_text.as_bytes()) != expected
            && !global.quiet
        {
            eprintln!(
                "note: {} changed since packing; proposals are checked against it as it is now",
                profile_path.display()
            );
        }
    }
    let plan = plan(&args, &pack, &profile_path, proposals)?;
    let targs = tune::Args {
        profile: profile_path.display().to_string(),
        logs: pack.local.logs.clone(),
        review: args.review.clone(),
        llm: super::llm_args::LlmArgs::default(),
        proposals: None,
    };
    tune::run_plan(&targs, global, profile_path, profile_text, plan)
}

/// The review plan: the pack's groups of this profile, whether the profile covers them now,
/// and every model proposal cross-checked against the pack's events.
fn plan(
    args: &Args,
    pack: &Pack,
    profile_path: &std::path::Path,
    proposals: Vec<(Proposal, Vec<aa_assist::llm::Problem>)>,
) -> anyhow::Result<Plan> {
    let local = &pack.local;
    let mut loader = Loader::new(args.review.dirs.dir(), IncludeMode::Lenient);
    for d in &args.review.dirs.include {
        loader = loader.include_dir(d);
    }
    let policy = loader
        .load_file(profile_path)
        .with_context(|| format!("loading {}", profile_path.display()))?;
    let packed: Vec<&String> = pack
        .manifest
        .batches
        .iter()
        .flat_map(|b| b.group_ids.iter())
        .collect();

    // As `tune` does: the profile's variables for the cross-check, its coverage of each group.
    let mut universe = Universe::builtin();
    if let Some(file) = &args.review.universe {
        crate::cmd::inputs::readable_file(crate::cmd::inputs::Kind::Other("--universe"), file)?;
        universe
            .add_file(file)
            .with_context(|| format!("reading {}", file.display()))?;
    }
    let mut vars = aa_assist::check::default_vars();
    vars.extend(policy.variables.clone());
    let checker = Checker::new(
        &local.events,
        &local.grouping,
        universe,
        CheckOptions {
            trust_userspace: args.review.trust_userspace,
            vars,
            include: Some((
                args.review.dirs.dir().to_path_buf(),
                args.review.dirs.include.clone(),
            )),
        },
    );
    let mut covered = BTreeMap::new();
    let mut uncovered = Vec::new();
    let mut judged = Vec::new();
    for s in statuses(&policy, checker.groups()) {
        if !packed.contains(&&s.group) {
            continue;
        }
        judged.push(s.group.clone());
        match s.status {
            Status::Allowed { rules } => {
                let text: Vec<String> = rules.into_iter().map(|r| r.rule).collect();
                covered.insert(s.group, text.join(" + "));
            }
            Status::Denied { rule } => {
                covered.insert(s.group, rule.rule);
            }
            Status::Missing => uncovered.push(s.group),
            Status::NotJudged => {}
        }
    }
    // Entries only: the evidence lines were read from the logs at pack time.
    let (groups, _) = pipeline::describe_groups(&local.events, &local.grouping, &covered, 0);
    let groups: Vec<GroupEntry> = groups
        .into_iter()
        .filter(|g| judged.contains(&g.id))
        .collect();

    let checked = proposals
        .iter()
        .map(|(p, problems)| answers::block_for_problems(checker.check(p), problems))
        .collect();
    let recheck = move |p: Proposal| checker.check(&p);
    Ok(Plan {
        groups,
        uncovered,
        evidence: local.evidence.clone(),
        checked,
        recheck: Box::new(recheck),
        applier: Box::new(ProfileApplier {
            file: profile_path.display().to_string(),
        }),
        found: None,
    })
}
