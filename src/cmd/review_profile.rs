//! `aa-assist review PROFILE [--llm]`: explain each rule of an unfamiliar profile and flag
//! the over-broad and dangerous ones with the cross-check's danger findings. With `--llm`,
//! the model's narrative is shown beside (never instead of) the deterministic reading.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::Context;
use serde::Serialize;

use aa_assist::check::coverage::profile_log_name;
use aa_assist::check::{Finding, Severity};
use aa_assist::explain::profile::{
    explain_profile_in, ProfileExplanation, RuleContext, RuleExplanation,
};
use aa_assist::log::group::{group_events, Filter};
use aa_assist::prompt::{ProfileData, Task};
use aa_assist::review::sanitize;

use super::llm_args::LlmArgs;
use super::{GlobalArgs, Outcome};

const EXAMPLE: &str = "\
Examples:
  # What does this profile allow, and what in it is risky?
  aa-assist review examples/webserver/profile/usr.sbin.examplehttpd -d examples/webserver/profile

  # A profile by name from /etc/apparmor.d, with a model's narrative, as JSON:
  aa-assist review usr.sbin.nginx --llm --json

Exit status: 0 nothing worth acting on, 1 a warning or error finding in the profile's own
rules or in an include that is not a stock abstraction (so `review` can gate CI), 2 error.
Findings inside the stock abstractions (PROFILE_DIR/abstractions/) are summarised per
include and do not set the exit status.";

/// Flags of `aa-assist review`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLE)]
pub struct Args {
    /// The profile: a file path, or a file or profile name in the profile directory.
    pub profile: String,
    /// Where profiles and includes are found.
    #[command(flatten)]
    pub dirs: super::profile_args::ProfileDirArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub llm: LlmArgs,
}

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    file: String,
    profiles: &'a [ProfileExplanation],
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    model_notes: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    model_contradictions: Vec<String>,
}

pub fn run(mut args: Args, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    args.dirs.resolve()?;
    let path = super::tune::resolve_profile(&args.profile, args.dirs.dir())?;
    let policy = super::explain::load_policy(&path, args.dirs.dir(), &args.dirs.include)?;
    if policy.profiles.is_empty() {
        anyhow::bail!("{} defines no profile", path.display());
    }
    let main = policy
        .files_read
        .first()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| path.display().to_string());
    let ctx = context(&policy, args.dirs.dir(), &args.dirs.include);
    let explained: Vec<ProfileExplanation> = policy
        .profiles
        .iter()
        .map(|p| explain_profile_in(p, &main, &ctx))
        .collect();

    let (model, notes) = if args.llm.llm {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let name = profile_log_name(&policy.profiles[0]);
        let (texts, notes) = super::explain::model_explanations(
            &args.llm,
            Task::Review,
            &[],
            &group_events(&[], &Filter::default()),
            &[],
            &[ProfileData { name, text }],
            global.quiet,
        )?;
        let narrative: Vec<String> = texts.into_values().collect();
        ((!narrative.is_empty()).then(|| narrative.join(" ")), notes)
    } else {
        (None, Vec::new())
    };

    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(
            &mut out,
            &Report {
                schema_version: 1,
                file: path.display().to_string(),
                profiles: &explained,
                model: model.as_deref(),
                model_notes: &notes,
                model_contradictions: model
                    .as_deref()
                    .map(super::explain::flagged)
                    .unwrap_or_default(),
            },
        )?;
        writeln!(out)?;
    } else {
        for w in &policy.warnings {
            writeln!(out, "{}", sanitize(&w.to_string()))?;
        }
        let mut shown = BTreeSet::new();
        for p in &explained {
            print_profile(&mut out, p, &mut shown)?;
        }
        if let Some(m) = &model {
            writeln!(out, "model: {}", sanitize(m))?;
            for f in super::explain::flagged(m) {
                writeln!(out, "model-check: WRONG: {}", sanitize(&f))?;
            }
        } else if args.llm.llm {
            writeln!(out, "model: (no valid narrative)")?;
        }
        for n in &notes {
            writeln!(out, "note: {}", sanitize(n))?;
        }
    }
    let worst = explained.iter().filter_map(|p| p.worst()).max();
    Ok(if worst >= Some(Severity::Warning) {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// Variables and profile names for judging the rules: the standard tunables and the
/// policy's own variables; the names the profile directory and the file define.
fn context(
    policy: &aa_assist::profile::LoadedPolicy,
    dir: &std::path::Path,
    extra: &[std::path::PathBuf],
) -> RuleContext {
    let mut ctx = RuleContext::default();
    ctx.vars.extend(policy.variables.clone());
    let mut known = aa_assist::check::names::names_in_dir(dir);
    known.extend(policy.profiles.iter().map(profile_log_name));
    ctx.known_profiles = Some(known);
    // the abstractions shipped with AppArmor: their findings are summarised per include
    ctx.stock_dirs = std::iter::once(dir)
        .chain(extra.iter().map(std::path::PathBuf::as_path))
        .map(|d| format!("{}/", d.join("abstractions").display()))
        .collect();
    ctx.var_origins = var_origins(&policy.files_read);
    ctx
}

/// Where each variable is assigned: `file:line` of every `@{NAME} =`, `+=`, `?=`, `:=` line
/// in the files the policy was read from (tunables, includes, the profile).
fn var_origins(files: &[std::path::PathBuf]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            let l = line.trim_start();
            let Some(rest) = l.strip_prefix("@{") else {
                continue;
            };
            let Some(end) = rest.find('}') else {
                continue;
            };
            let after = rest[end + 1..].trim_start();
            if ["=", "+=", "?=", ":="]
                .iter()
                .any(|op| after.starts_with(op))
            {
                out.entry(rest[..end].to_string())
                    .or_default()
                    .push(format!("{}:{}", f.display(), i + 1));
            }
        }
    }
    out
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Note => "note",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

fn print_findings(out: &mut impl Write, findings: &[Finding], indent: &str) -> std::io::Result<()> {
    for f in findings {
        writeln!(
            out,
            "{indent}{}[{}]: {}",
            severity(f.severity),
            f.code,
            sanitize(&f.message)
        )?;
    }
    Ok(())
}

fn print_rule(out: &mut impl Write, r: &RuleExplanation, indent: &str) -> std::io::Result<()> {
    writeln!(
        out,
        "{indent}{}  ({})",
        sanitize(&r.rule),
        sanitize(&r.source)
    )?;
    writeln!(out, "{indent}    {}", sanitize(&r.meaning))?;
    print_findings(out, &r.findings, &format!("{indent}    "))
}

fn print_profile(
    out: &mut impl Write,
    p: &ProfileExplanation,
    shown: &mut BTreeSet<String>,
) -> std::io::Result<()> {
    let flags = if p.flags.is_empty() {
        String::new()
    } else {
        format!(" flags=({})", p.flags.join(","))
    };
    writeln!(out, "profile {}{}", sanitize(&p.profile), sanitize(&flags))?;
    for n in &p.notes {
        writeln!(out, "  note: {}", sanitize(n))?;
    }
    for v in &p.variables {
        let mut vals: Vec<&str> = v.values.iter().map(String::as_str).take(6).collect();
        if v.values.len() > 6 {
            vals.push("…");
        }
        writeln!(
            out,
            "  variable @{{{}}} = {}  (source: {})",
            sanitize(&v.name),
            sanitize(&vals.join(" ")),
            sanitize(&v.from.join(", "))
        )?;
    }
    for inc in &p.includes {
        let file = sanitize(&inc.file);
        if !shown.insert(inc.file.clone()) {
            writeln!(
                out,
                "  include {file}: brings in {} rule(s) (findings shown above)",
                inc.rules
            )?;
            continue;
        }
        if inc.stock {
            // a stock abstraction: one line, findings counted by code
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for f in inc.notable.iter().flat_map(|r| &r.findings) {
                *counts.entry(f.code.as_str()).or_default() += 1;
            }
            let summary = if counts.is_empty() {
                String::new()
            } else {
                let parts: Vec<String> = counts.iter().map(|(c, n)| format!("{n}× {c}")).collect();
                format!(
                    "; stock abstraction findings (not counted for the exit status): {}",
                    parts.join(", ")
                )
            };
            writeln!(
                out,
                "  include {file}: brings in {} rule(s){}",
                inc.rules,
                sanitize(&summary)
            )?;
            continue;
        }
        writeln!(
            out,
            "  include {file}: brings in {} rule(s){}",
            inc.rules,
            if inc.notable.is_empty() {
                String::new()
            } else {
                format!(", {} notable:", inc.notable.len())
            }
        )?;
        for r in inc.notable.iter().take(5) {
            print_rule(out, r, "      ")?;
        }
        if inc.notable.len() > 5 {
            writeln!(out, "      … and {} more", inc.notable.len() - 5)?;
        }
    }
    for r in &p.rules {
        print_rule(out, r, "  ")?;
    }
    Ok(())
}
