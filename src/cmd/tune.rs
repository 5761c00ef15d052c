//! `aa-assist tune PROFILE --log LOG…`: propose rules for what the logs show the profile
//! denies, let a human review each one, and write what they approved, safely.
//!
//! Flow: parse logs → group → drop groups the profile already covers → draft → cross-check →
//! review each proposal → one final confirmation → validate with `apparmor_parser -QK` →
//! atomic write with a backup. Without a terminal, or with `--dry-run`/`--json`, nothing is
//! written: the proposals are printed (or reported as JSON, or written as a patch).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use console::Term;

use aa_assist::check::{Checked, Verdict};
use aa_assist::fsguard::{Policy, Usage};
use aa_assist::review::decisions::{self, Decision, DecisionStore};
use aa_assist::review::report::{self, GroupEntry, ProposalEntry, Report, SCHEMA_VERSION};
use aa_assist::review::write::{atomic_write_with, Expected, WriteError, WriteOptions};
use aa_assist::review::{
    self, local, render_card, unified_patch, validate, Applier, Evidence, Prompter, Recheck,
    Session, SessionOptions,
};

use super::{GlobalArgs, Outcome};

mod model;
pub(crate) mod pipeline;

const EXAMPLE: &str = "\
Examples:
  # Review proposals for the bundled example (no AppArmor, no API key needed):
  aa-assist tune examples/pidcache/profile/usr.sbin.exampled \\
      --log examples/pidcache/audit.log -d examples/pidcache/profile --dry-run

  # On a host: review interactively, validate with apparmor_parser, write with a backup:
  sudo aa-assist tune usr.sbin.exampled --log /var/log/audit/audit.log

  # Put approved rules into /etc/apparmor.d/local/usr.sbin.exampled, then reload:
  sudo aa-assist tune usr.sbin.exampled --log /var/log/audit/audit.log --local --reload

  # For code review: a JSON report and a patch, never writing the profile:
  aa-assist tune usr.sbin.exampled --log audit.log --json --patch tune.patch > tune.json

Exit status: 0 nothing to do or all written, 1 proposals (shown, not written), 2 error,
3 the review was quit (nothing written).";

/// Flags of `aa-assist tune`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLE)]
pub struct Args {
    /// The profile: a file path, a file or profile name in the profile directory, or the
    /// program it attaches to (as `aa-complain` takes it).
    pub profile: String,
    /// Log to read (audit.log, kern.log, syslog, dmesg, `journalctl -o json`; `-` for stdin).
    /// Repeat for several.
    #[arg(long = "log", value_name = "LOG", required = true)]
    pub logs: Vec<PathBuf>,
    /// Where the profile lives and how the review may write.
    #[command(flatten)]
    pub review: ReviewArgs,
    /// Model flags: with `--llm`, a model's proposals are cross-checked and reviewed beside
    /// the drafter's.
    #[command(flatten)]
    pub llm: super::llm_args::LlmArgs,
    /// Review hand-made checked proposals from a JSON file instead of drafting (development
    /// and tests of the review; see `Plan::from_json`).
    #[arg(long, value_name = "FILE", hide = true)]
    pub proposals: Option<PathBuf>,
}

/// Review and write flags shared by `tune` and `ingest`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReviewArgs {
    /// Where profiles and includes are found.
    #[command(flatten)]
    pub dirs: super::profile_args::ProfileDirArgs,
    /// Never write: print the proposals and their diffs.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the versioned JSON report (docs/json-schema.md) instead of reviewing; never writes.
    #[arg(long)]
    pub json: bool,
    /// Also write a unified patch of every approvable first choice to FILE (for code review).
    #[arg(long, value_name = "FILE")]
    pub patch: Option<PathBuf>,
    /// Write approved rules into the profile's `local/` override instead of the profile.
    #[arg(long)]
    pub local: bool,
    /// After writing, load the new policy into the kernel with `apparmor_parser -r`.
    #[arg(long)]
    pub reload: bool,
    /// Write without validating with apparmor_parser (e.g. when it is not installed).
    #[arg(long)]
    pub no_parser_check: bool,
    /// Ask about proposals even when a decision about them is remembered.
    #[arg(long)]
    pub ask_again: bool,
    /// File listing known paths (one per line), to measure what a glob would open beyond
    /// the evidence.
    #[arg(long, value_name = "FILE")]
    pub universe: Option<PathBuf>,
    /// Treat events from userspace-writable sources (syslog, journal) as trustworthy evidence.
    #[arg(long)]
    pub trust_userspace: bool,
}

/// Everything the review needs, produced by the pipeline (or read from `--proposals`).
pub struct Plan {
    /// Event groups of this profile, for the report.
    pub groups: Vec<GroupEntry>,
    /// Ids of groups the profile does not cover.
    pub uncovered: Vec<String>,
    /// Evidence shown beside each proposal, by group id.
    pub evidence: BTreeMap<String, Evidence>,
    /// The checked proposals, in id order.
    pub checked: Vec<Checked>,
    /// Re-judges edited proposals.
    pub recheck: Box<dyn Recheck>,
    /// Places a rule into the profile text.
    pub applier: Box<dyn Applier>,
    /// When the logs hold no event for the profile: what they do hold (said instead of
    /// "everything is covered").
    pub found: Option<String>,
}

/// The file the approved rules go into.
struct Target {
    /// The file written.
    path: PathBuf,
    /// Its current text ("" when it does not exist yet).
    base: String,
    /// The profile file (validated; equal to `path` unless `--local`).
    profile_path: PathBuf,
    /// The profile file's text.
    profile_text: String,
    /// With `--local`: the override's path relative to the profile directory.
    local_rel: Option<PathBuf>,
    /// What `path` held when `base` was read: the write refuses to replace anything else.
    expected: Expected,
}

pub fn run(mut args: Args, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    args.review.dirs.resolve()?;
    if args.llm.llm {
        // Fail on a missing server or model before reading anything.
        args.llm.resolve(true)?;
    }
    let profile_path = resolve_profile(&args.profile, args.review.dirs.dir())?;
    let profile_text = std::fs::read_to_string(&profile_path)
        .with_context(|| format!("reading profile {}", profile_path.display()))?;
    let plan = match &args.proposals {
        Some(file) => pipeline::from_json(file, &profile_path)?,
        None => pipeline::plan(&args, &profile_path, &profile_text, global)?,
    };
    run_plan(&args, global, profile_path, profile_text, plan)
}

/// Everything `tune` does once the checked proposals exist: `--patch`, `--json`, the
/// dry-run/non-TTY cards, or the interactive review, validation and safe write. Shared with
/// `ingest`, which builds its [`Plan`] from a prompt pack's answers.
pub(crate) fn run_plan(
    args: &Args,
    global: &GlobalArgs,
    profile_path: PathBuf,
    profile_text: String,
    plan: Plan,
) -> anyhow::Result<Outcome> {
    let target = target(args, profile_path, profile_text)?;
    let applier: Box<dyn Applier> = if args.review.local {
        Box::new(local::LocalApplier {
            name: file_name(&target.profile_path),
            profiles: top_level_profiles(&target.profile_path, &target.profile_text)?,
        })
    } else {
        plan.applier
    };
    let plan = Plan { applier, ..plan };

    let state = decisions::state_dir();
    let store = match &state {
        Some(dir) => DecisionStore::load(&dir.join("decisions.json"), &target.profile_path)
            .with_context(|| {
                format!(
                    "the state directory {} cannot be used (set AA_ASSIST_STATE_DIR to a writable \
                 directory)",
                    dir.display()
                )
            })?,
        None => DecisionStore::empty(PathBuf::from("decisions.json"), &target.profile_path),
    };

    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if args.review.json || args.review.dry_run || !interactive {
        warn_unmodified(args, &target);
    }
    if let Some(patch_file) = &args.review.patch {
        write_patch(patch_file, &target, &plan, &store, args.review.ask_again)?;
    }
    if args.review.json {
        print_report(&target, &plan, &store)?;
        return Ok(findings_outcome(&plan));
    }
    if args.review.dry_run || !interactive {
        print_cards(&target, &plan, global, interactive)?;
        // Asked to review and write, with nobody to ask: an error, not a silent preview.
        // `--dry-run` (or `--json`, `--patch FILE`) asks for the preview alone.
        if !interactive
            && !args.review.dry_run
            && args.review.patch.is_none()
            && !plan.checked.is_empty()
        {
            bail!(
                "no terminal to review the {} proposal(s) above in, so nothing was written; run \
                 this in a terminal to approve them, or add --dry-run to only show them",
                plan.checked.len()
            );
        }
        return Ok(findings_outcome(&plan));
    }
    if plan.checked.is_empty() {
        if !global.quiet {
            println!("{}", nothing_to_do(&plan));
        }
        return Ok(Outcome::Clean);
    }
    let parser = if args.review.no_parser_check {
        None
    } else {
        match validate::find_parser() {
            Some(p) => Some(p),
            None => bail!(validate::ValidateError::ParserMissing),
        }
    };
    if let Some(parser) = &parser {
        check_unmodified(parser, &target, &args.review.dirs.include)?;
    }
    // As root, the file written, its directories and the state directory must be root's
    // and not writable by others: checked before the first question, and again at the write.
    let policy = Policy::current();
    policy.check(&target.path, Usage::Write).map_err(refused)?;
    let backups = backup_dir(&policy)?;
    review_and_write(args, target, plan, store, parser, backups)
}

/// Validate the profile as it is, exactly as the final validation will (same parser, include
/// directories and working directory), before the first question: a profile the parser
/// rejects already (e.g. an `abi` it does not ship) would otherwise fail only after the whole
/// review. The parser's lines are kept as lines; `main` escapes each.
fn check_unmodified(
    parser: &std::path::Path,
    target: &Target,
    include: &[PathBuf],
) -> anyhow::Result<()> {
    match unmodified_rejection(parser, target, include)? {
        None => Ok(()),
        Some(why) => bail!(
            "apparmor_parser rejects {} as it is, before any change; nothing was written, \
             no question asked:\n{why}",
            target.profile_path.display()
        ),
    }
}

/// What the parser says against the profile as it is, with a hint when the case is known,
/// or `None` when it accepts it. Not escaped: the caller escapes each line.
fn unmodified_rejection(
    parser: &std::path::Path,
    target: &Target,
    include: &[PathBuf],
) -> anyhow::Result<Option<String>> {
    let text = &target.profile_text;
    match validate::validate(parser, &target.profile_path, text, include, &[]) {
        Ok(()) => Ok(None),
        Err(validate::ValidateError::Rejected { message }) => {
            let hint = validate::hint(&message, std::path::Path::new(validate::ABI_DIR))
                .map(|h| format!("\n{h}"))
                .unwrap_or_default();
            Ok(Some(format!("{message}{hint}")))
        }
        Err(e) => Err(e.into()),
    }
}

/// In the previews (`--dry-run`, `--json`, `--patch`, no terminal) a profile the parser
/// rejects as it is is a warning on standard error, not a failure: nothing is written there
/// anyway, and `--json` stays exact JSON on standard output.
fn warn_unmodified(args: &Args, target: &Target) {
    if args.review.no_parser_check {
        return;
    }
    let Some(parser) = validate::find_parser() else {
        return;
    };
    let said = match unmodified_rejection(&parser, target, &args.review.dirs.include) {
        Ok(None) => return,
        Ok(Some(why)) => format!(
            "apparmor_parser rejects {} as it is, before any change (a write would fail \
             until this is fixed):\n{why}",
            target.profile_path.display()
        ),
        Err(e) => format!("the profile as it is could not be validated: {e:#}"),
    };
    eprintln!(
        "aa-assist: warning: {}",
        aa_assist::display::escape_lines(&said)
    );
}

/// Keep approved rules that could not be written in `STATE/unwritten/NAME.UNIXTIME`, one
/// `# profile` comment and rule each (escaped like every other rendering).
fn keep_unwritten(target: &Target, approved: &[review::Edit]) -> anyhow::Result<PathBuf> {
    let state = decisions::state_dir().context("no state directory to keep the rules in")?;
    let mut text = format!(
        "# Rules approved with `aa-assist tune` for {}, not written: the file changed\n\
         # since it was read. Review them again, or add them by hand.\n",
        review::sanitize(&target.path.display().to_string())
    );
    for e in approved {
        text.push_str(&format!(
            "# profile {}\n{}\n",
            review::sanitize(e.profile()),
            review::sanitize(e.rule())
        ));
    }
    let dir = state.join("unwritten");
    Policy::current()
        .check(&dir, Usage::Write)
        .map_err(refused)?;
    Ok(aa_assist::review::write::save_aside(
        &dir,
        &file_name(&target.path),
        text.as_bytes(),
    )?)
}

/// An ownership/permission refusal, said to have written nothing.
fn refused(e: aa_assist::fsguard::Untrusted) -> anyhow::Error {
    anyhow::anyhow!("{e}; nothing was written")
}

/// Where the original goes before a write, created now: every write leaves a backup, so a
/// review that could not keep one must not start (rather than fail after the approvals).
fn backup_dir(policy: &Policy) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let what_to_do = "set AA_ASSIST_STATE_DIR to a writable directory; nothing was written";
    let Some(state) = decisions::state_dir() else {
        bail!("no state directory to keep a backup of the profile in (no HOME); {what_to_do}");
    };
    let dir = state.join("backups");
    policy.check(&dir, Usage::Write).map_err(refused)?;
    if let Err(e) = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
    {
        let why = if dir.exists() && !dir.is_dir() {
            "it exists and is not a directory".to_string()
        } else {
            e.to_string()
        };
        bail!(
            "cannot create the backup directory {} ({why}); {what_to_do}",
            dir.display()
        );
    }
    policy.check(&dir, Usage::Write).map_err(refused)?;
    Ok(dir)
}

/// What to say when there is no proposal: either everything is covered, or some groups are
/// not and nothing (drafter or answers) proposes a rule for them.
fn nothing_to_do(plan: &Plan) -> String {
    if let Some(found) = &plan.found {
        found.clone()
    } else if plan.groups.is_empty() {
        "Nothing to do: the logs have no event for this profile.".to_string()
    } else if plan.uncovered.is_empty() {
        "Nothing to do: every event in the logs for this profile is already covered.".to_string()
    } else {
        let shown: Vec<&str> = plan.uncovered.iter().take(10).map(String::as_str).collect();
        let more = if plan.uncovered.len() > shown.len() {
            ", …"
        } else {
            ""
        };
        format!(
            "No proposals: {} group(s) the profile does not cover ({}{more}) have no proposed rule.",
            plan.uncovered.len(),
            shown.join(", ")
        )
    }
}

fn findings_outcome(plan: &Plan) -> Outcome {
    if plan.checked.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    }
}

/// A profile file's path; else a program's path (an executable, or not text), whose profile
/// is the one in the profile dir attaching to it; else a file in the profile dir; else the
/// file in the profile dir that defines a profile of that name (or attaches to that path).
/// None, or several candidates: an error naming what was looked for, or the candidates.
pub(crate) fn resolve_profile(name: &str, dir: &Path) -> anyhow::Result<PathBuf> {
    use aa_assist::profile::find::{find_in_dir, Query};
    let mut loader = aa_assist::profile::Loader::new(dir, aa_assist::profile::IncludeMode::Lenient);
    let as_path = PathBuf::from(name);
    if as_path.is_file() {
        super::inputs::readable_file(super::inputs::Kind::Profile, &as_path)?;
        let (program, text) = program_or_text(&as_path);
        if !program {
            return Ok(as_path);
        }
        let absolute = std::fs::canonicalize(&as_path).unwrap_or_else(|_| as_path.clone());
        let shown = absolute.to_string_lossy();
        let found = find_in_dir(&mut loader, dir, Query::Program(&shown));
        if found.is_empty() && text {
            // An executable text file nothing attaches to: read it as the profile it may be.
            return Ok(as_path);
        }
        return one_of(found, dir, &format!("attaches to the program {name}"));
    }
    if name.contains('/') && as_path.is_dir() {
        super::inputs::readable_file(super::inputs::Kind::Profile, &as_path)?;
    }
    let in_dir = dir.join(name);
    if !name.contains('/') && in_dir.is_file() {
        return Ok(in_dir);
    }
    let conventional = dir.join(name.trim_start_matches('/').replace('/', "."));
    if name.starts_with('/') && conventional.is_file() {
        return Ok(conventional);
    }
    let (query, what) = if name.starts_with('/') {
        (Query::Program(name), format!("attaches to {name}"))
    } else {
        (Query::Name(name), format!("is named {name}"))
    };
    let found = find_in_dir(&mut loader, dir, query);
    if !found.is_empty() {
        return one_of(found, dir, &what);
    }
    // Files the loader refuses (e.g. invalid rules) may still be the one meant: a plain look.
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files {
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            if text.lines().any(|l| defines_profile(l, name)) {
                return Ok(f);
            }
        }
    }
    bail!(
        "profile {:?} not found: not a file, and no profile in {} {what} (use -d DIR)",
        aa_assist::review::sanitize(name),
        dir.display()
    )
}

/// Whether the file at `path` is a program rather than a profile (executable, or not text),
/// and whether its start is text.
fn program_or_text(path: &Path) -> (bool, bool) {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let exec = std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
    let mut head = Vec::new();
    let text = std::fs::File::open(path)
        .and_then(|f| f.take(8192).read_to_end(&mut head))
        .is_ok_and(|_| match std::str::from_utf8(&head) {
            Ok(_) => true,
            // cut in the middle of a character by the 8 KiB limit
            Err(e) => e.error_len().is_none(),
        })
        && !head.contains(&0);
    (exec || !text, text)
}

/// The one profile found, or an error: none ("no profile in DIR {what}"), or several (each
/// named with its file).
fn one_of(
    found: Vec<aa_assist::profile::find::Found>,
    dir: &Path,
    what: &str,
) -> anyhow::Result<PathBuf> {
    use aa_assist::display::Untrusted;
    let what = aa_assist::review::sanitize(what);
    match found.as_slice() {
        [] => bail!(
            "no profile in {} {what}; give the profile file, or its name, or its directory \
             with -d DIR",
            dir.display()
        ),
        [one] => Ok(one.file.clone()),
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|f| {
                    format!(
                        "{} (profile {})",
                        Untrusted(&f.file.display().to_string()),
                        Untrusted(&f.profile)
                    )
                })
                .collect();
            bail!(
                "{} profiles in {} {what}: {}; give the profile file",
                many.len(),
                dir.display(),
                list.join(", ")
            )
        }
    }
}

/// Whether a line opens a profile named (or attached to) `name`.
fn defines_profile(line: &str, name: &str) -> bool {
    let l = line.trim_start();
    let l = l.strip_prefix("profile ").unwrap_or(l);
    let mut words = l.split_whitespace();
    let first = words.next();
    let second = words.next();
    line.contains('{')
        && (first == Some(name)
            || (l.len() < line.trim_start().len() && second == Some(name))
            || first == Some(&format!("{name}{{")))
}

/// Names of the top-level profiles `text` (the file at `path`) defines.
fn top_level_profiles(
    path: &Path,
    text: &str,
) -> anyhow::Result<std::collections::BTreeSet<String>> {
    let mut loader = aa_assist::profile::Loader::new(
        path.parent().unwrap_or(Path::new(".")),
        aa_assist::profile::IncludeMode::Lenient,
    );
    let policy = loader
        .load_str(&path.display().to_string(), text)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(policy
        .profiles
        .iter()
        .filter(|p| p.path.len() == 1)
        .filter_map(|p| p.path.first().cloned())
        .collect())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn target(args: &Args, profile_path: PathBuf, profile_text: String) -> anyhow::Result<Target> {
    if !args.review.local {
        return Ok(Target {
            path: profile_path.clone(),
            expected: Expected::content(profile_text.as_bytes()),
            base: profile_text.clone(),
            profile_path,
            profile_text,
            local_rel: None,
        });
    }
    let name = file_name(&profile_path);
    if !local::includes_local(&profile_text, &name) {
        bail!(
            "{} does not include local/{name}, so rules written there would have no effect; \
             add `include if exists <local/{name}>` to the profile body (or run without --local)",
            profile_path.display()
        );
    }
    let path = local::local_path(&profile_path)
        .with_context(|| format!("{} is not a file path", profile_path.display()))?;
    let (base, expected) = read_current(&path)?;
    Ok(Target {
        path,
        base,
        expected,
        profile_path,
        profile_text,
        local_rel: Some(PathBuf::from("local").join(name)),
    })
}

/// The text of `path` now ("" when it does not exist), and what it holds, for the write.
fn read_current(path: &Path) -> anyhow::Result<(String, Expected)> {
    match std::fs::read_to_string(path) {
        Ok(t) => {
            let e = Expected::content(t.as_bytes());
            Ok((t, e))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((String::new(), Expected::Absent)),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn placed(plan: &Plan, base: &str, c: &Checked) -> Result<String, String> {
    plan.applier
        .apply(base, &c.proposal.profile, &c.proposal.rule)
}

fn print_cards(
    target: &Target,
    plan: &Plan,
    global: &GlobalArgs,
    interactive: bool,
) -> anyhow::Result<()> {
    let color = std::io::stdout().is_terminal() && console::colors_enabled();
    let mut out = std::io::stdout().lock();
    if plan.checked.is_empty() {
        if !global.quiet {
            writeln!(out, "{}", nothing_to_do(plan))?;
        }
        return Ok(());
    }
    let total = plan.checked.len();
    for (i, c) in plan.checked.iter().enumerate() {
        let new = placed(plan, &target.base, c);
        let card = render_card(
            c,
            &target.base,
            new.as_deref().map_err(String::as_str),
            &plan.evidence,
            (i + 1, total),
            3,
            color,
        );
        out.write_all(card.as_bytes())?;
    }
    if !global.quiet {
        let why = if interactive {
            "--dry-run"
        } else {
            "no terminal"
        };
        writeln!(
            out,
            "\n{total} proposal(s) for {}; nothing written ({why}). Run in a terminal without \
             --dry-run to review and write them.",
            target.path.display()
        )?;
        if let Some(why) = all_blocked_by_untrusted(plan) {
            writeln!(out, "{why}")?;
        }
    }
    Ok(())
}

/// When every proposal is blocked only because its evidence is untrusted: why, and how to
/// get evidence that is not.
fn all_blocked_by_untrusted(plan: &Plan) -> Option<String> {
    let all = !plan.checked.is_empty()
        && plan
            .checked
            .iter()
            .all(Checked::blocked_only_by_untrusted_evidence);
    all.then(|| {
        format!(
            "Every proposal is blocked only because its evidence comes from log lines any user \
             could have written: {}.",
            aa_assist::check::UNTRUSTED_REMEDY
        )
    })
}

fn write_patch(
    file: &Path,
    target: &Target,
    plan: &Plan,
    store: &DecisionStore,
    ask_again: bool,
) -> anyhow::Result<()> {
    let mut header = String::new();
    let mut new = target.base.clone();
    for c in &plan.checked {
        let p = &c.proposal;
        let rule = review::sanitize(&p.rule);
        let remembered = store.get(&p.profile, &p.rule);
        let excluded = if c.verdict == Verdict::Blocked {
            Some("blocked".to_string())
        } else if !ask_again && remembered == Some(Decision::Rejected) {
            Some("rejected before".to_string())
        } else {
            match plan.applier.apply(&new, &p.profile, &p.rule) {
                Ok(t) => {
                    new = t;
                    None
                }
                Err(e) => Some(format!("cannot be placed: {}", review::sanitize(&e))),
            }
        };
        match excluded {
            None => header.push_str(&format!(
                "# {} [{}] {}: {rule}\n",
                review::sanitize(&p.id),
                verdict_name(c.verdict),
                review::sanitize(&p.profile)
            )),
            Some(why) => header.push_str(&format!(
                "# {} [{why}, not included]: {rule}\n",
                review::sanitize(&p.id)
            )),
        }
    }
    let name = target
        .path
        .to_string_lossy()
        .trim_start_matches('/')
        .to_string();
    header.push_str(&unified_patch(&name, &target.base, &new));
    super::create_output(file, false)?
        .write_all(header.as_bytes())
        .with_context(|| format!("writing patch {}", file.display()))?;
    Ok(())
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "ok",
        Verdict::Review => "review",
        Verdict::Blocked => "blocked",
    }
}

fn print_report(target: &Target, plan: &Plan, store: &DecisionStore) -> anyhow::Result<()> {
    let report = Report {
        schema_version: SCHEMA_VERSION,
        file: target.path.display().to_string(),
        groups: plan.groups.clone(),
        proposals: plan
            .checked
            .iter()
            .map(|c| ProposalEntry::new(c, store.get(&c.proposal.profile, &c.proposal.rule)))
            .collect(),
        uncovered: plan.uncovered.clone(),
        unresolved: report::unresolved(&plan.uncovered, &plan.checked),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, &report)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// `dialoguer` on the controlling terminal.
struct TermPrompter {
    term: Term,
}

impl Prompter for TermPrompter {
    fn show(&mut self, text: &str) -> std::io::Result<()> {
        self.term.write_str(text)?;
        self.term.flush()
    }

    fn select(
        &mut self,
        prompt: &str,
        items: &[String],
        default: usize,
    ) -> std::io::Result<Option<usize>> {
        dialoguer::Select::new()
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact_on_opt(&self.term)
            .map_err(dialoguer_io)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> std::io::Result<Option<bool>> {
        dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(default)
            .interact_on_opt(&self.term)
            .map_err(dialoguer_io)
    }

    fn edit(&mut self, text: &str) -> std::io::Result<Option<String>> {
        dialoguer::Editor::new()
            .extension(".apparmor")
            .edit(text)
            .map_err(dialoguer_io)
    }

    fn color(&self) -> bool {
        // `colors_enabled` carries the NO_COLOR decision (`cmd::apply_no_color`).
        self.term.is_term() && console::colors_enabled()
    }
}

fn dialoguer_io(e: dialoguer::Error) -> std::io::Error {
    match e {
        dialoguer::Error::IO(e) => e,
    }
}

fn review_and_write(
    args: &Args,
    target: Target,
    mut plan: Plan,
    mut store: DecisionStore,
    parser: Option<PathBuf>,
    backup_dir: PathBuf,
) -> anyhow::Result<Outcome> {
    let mut prompter = TermPrompter {
        term: Term::stdout(),
    };
    if let Some(why) = all_blocked_by_untrusted(&plan) {
        prompter.show(&format!("{why}\n"))?;
    }
    let checked = std::mem::take(&mut plan.checked);
    let outcome = Session::new(
        &mut prompter,
        plan.recheck.as_mut(),
        plan.applier.as_ref(),
        &target.base,
        &plan.evidence,
    )
    .with_decisions(&store)
    .with_options(SessionOptions {
        ask_again: args.review.ask_again,
        file_label: target.path.display().to_string(),
        max_evidence_lines: 3,
    })
    .run(checked)?;
    if outcome.quit {
        return Ok(Outcome::Quit);
    }
    for c in &outcome.rejected {
        store.record(&c.proposal.profile, &c.proposal.rule, Decision::Rejected);
    }
    let Some(new_text) = outcome.new_text.filter(|_| outcome.confirmed) else {
        store.save()?;
        return Ok(
            if outcome.approved.is_empty() && outcome.rejected.is_empty() {
                Outcome::Clean
            } else {
                Outcome::Findings
            },
        );
    };

    let mut new_text = new_text;
    let mut expected = target.expected.clone();
    // Validated, then written unless the file changed since it was read; then the approved
    // rules are placed into the new text and the human confirms again.
    let written = loop {
        if let Some(parser) = &parser {
            let (text, overlays) = match &target.local_rel {
                Some(rel) => (
                    target.profile_text.as_str(),
                    vec![validate::Overlay {
                        relative: rel.clone(),
                        content: new_text.clone(),
                    }],
                ),
                None => (new_text.as_str(), vec![]),
            };
            if let Err(e) = validate::validate(
                parser,
                &target.profile_path,
                text,
                &args.review.dirs.include,
                &overlays,
            ) {
                store.save()?;
                let hint = match &e {
                    validate::ValidateError::Rejected { message } => {
                        validate::hint(message, std::path::Path::new(validate::ABI_DIR))
                            .map(|h| format!("\n{h}"))
                            .unwrap_or_default()
                    }
                    _ => String::new(),
                };
                // The parser's lines stay lines; each is escaped.
                prompter.show(&format!(
                    "{}{}\nNothing written.\n",
                    aa_assist::display::escape_lines(&e.to_string()),
                    aa_assist::display::escape_lines(&hint)
                ))?;
                return Ok(Outcome::Error);
            }
            prompter.show("apparmor_parser -QK: the new policy is valid.\n")?;
        } else {
            prompter.show("Not validated (--no-parser-check).\n")?;
        }

        if let Some(dir) = target.path.parent() {
            if target.local_rel.is_some() {
                use std::os::unix::fs::DirBuilderExt;
                Policy::current()
                    .check(dir, Usage::Write)
                    .map_err(refused)?;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o755)
                    .create(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
        }
        // Every write leaves a backup (the directory was made before the review began).
        let result = atomic_write_with(
            &target.path,
            new_text.as_bytes(),
            WriteOptions {
                backup_dir: Some(backup_dir.clone()),
                trust: Some(Policy::current()),
                expected: Some(expected.clone()),
                ..WriteOptions::default()
            },
        );
        match result {
            Ok(w) => break w,
            Err(WriteError::Changed { path }) => {
                let (now, now_expected) = read_current(&target.path)?;
                let shown = review::sanitize(&path.display().to_string());
                let n = outcome.approved.len();
                match review::apply_edits(plan.applier.as_ref(), &now, &outcome.approved) {
                    Ok(t) => {
                        prompter.show(&format!(
                            "\n{shown} was changed by someone else since it was read. The \
                             approved rule(s) still apply to it; the change would now be:\n{}",
                            review::render_diff(&now, &t, prompter.color())
                        ))?;
                        let again =
                            prompter.confirm(&format!("Write {n} rule(s) to {shown}?"), false)?;
                        if again == Some(true) {
                            new_text = t;
                            expected = now_expected;
                            continue;
                        }
                        store.save()?;
                        let kept = keep_unwritten(&target, &outcome.approved)?;
                        prompter.show(&format!(
                            "Not written. The approved rule(s) are kept in {}.\n",
                            review::sanitize(&kept.display().to_string())
                        ))?;
                        return Ok(Outcome::Findings);
                    }
                    Err(e) => {
                        store.save()?;
                        let kept = keep_unwritten(&target, &outcome.approved)?;
                        bail!(
                            "{shown} was changed by someone else since it was read, and the \
                             approved rule(s) no longer apply to it ({}); nothing was written. \
                             The approved rule(s) are kept in {}; run tune again to review them \
                             against the new text",
                            review::sanitize(&e.to_string()),
                            kept.display()
                        );
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    };
    for e in &outcome.approved {
        store.record(e.profile(), e.rule(), Decision::Approved);
    }
    store.save()?;
    let backup = written
        .backup
        .map(|b| format!(" (backup of the original: {})", b.display()))
        .unwrap_or_default();
    prompter.show(&format!("Wrote {}{backup}.\n", written.path.display()))?;

    if args.review.reload {
        let parser = match parser.or_else(validate::find_parser) {
            Some(p) => p,
            None => bail!(validate::ValidateError::ParserMissing),
        };
        let status = std::process::Command::new(&parser)
            .arg("-r")
            .arg(&target.profile_path)
            .status()
            .with_context(|| format!("running {} -r", parser.display()))?;
        if !status.success() {
            bail!(
                "{} -r {} failed ({status}); the file is written but the kernel still has the \
                 old policy",
                parser.display(),
                target.profile_path.display()
            );
        }
        prompter.show("Reloaded into the kernel.\n")?;
    }
    Ok(Outcome::Clean)
}
