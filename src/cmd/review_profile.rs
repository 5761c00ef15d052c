//! `aa-assist review PROFILE [--llm]`: explain each rule of an unfamiliar profile and flag
//! the over-broad and dangerous ones with the cross-check's danger findings. With `--llm`,
//! the model's narrative is shown beside (never instead of) the deterministic reading.

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

Exit status: 0 nothing worse than a note, 1 a warning or error finding, 2 error.";

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
    let ctx = context(&policy, args.dirs.dir());
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
            },
        )?;
        writeln!(out)?;
    } else {
        for w in &policy.warnings {
            writeln!(out, "{}", sanitize(&w.to_string()))?;
        }
        for p in &explained {
            print_profile(&mut out, p)?;
        }
        if let Some(m) = &model {
            writeln!(out, "model: {}", sanitize(m))?;
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
fn context(policy: &aa_assist::profile::LoadedPolicy, dir: &std::path::Path) -> RuleContext {
    let mut ctx = RuleContext::default();
    ctx.vars.extend(policy.variables.clone());
    let mut known = aa_assist::check::names::names_in_dir(dir);
    known.extend(policy.profiles.iter().map(profile_log_name));
    ctx.known_profiles = Some(known);
    ctx
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

fn print_profile(out: &mut impl Write, p: &ProfileExplanation) -> std::io::Result<()> {
    let flags = if p.flags.is_empty() {
        String::new()
    } else {
        format!(" flags=({})", p.flags.join(","))
    };
    writeln!(out, "profile {}{}", sanitize(&p.profile), sanitize(&flags))?;
    for n in &p.notes {
        writeln!(out, "  note: {}", sanitize(n))?;
    }
    for inc in &p.includes {
        writeln!(
            out,
            "  include {}: brings in {} rule(s){}",
            sanitize(&inc.file),
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
