//! `aa-assist check PROFILE --log LOG…`: for each event group, does the profile on disk already
//! allow it (which rule, `file:line`), deny it with an explicit `deny`, or lack it?
//!
//! Exit 0 when nothing is missing, 1 when some group is missing, 2 on error.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;

use aa_assist::check::coverage::{statuses, GroupStatus, Status};
use aa_assist::check::EvidenceStream;
use aa_assist::display::Untrusted;
use aa_assist::log::group::{Filter, Group, Grouping};
use aa_assist::log::open_sources;
use aa_assist::profile::{IncludeMode, Loader};

use crate::cmd::{GlobalArgs, Outcome};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  aa-assist check /etc/apparmor.d/usr.sbin.nginx --log /var/log/audit/audit.log\n  \
aa-assist check ./usr.bin.foo -d ./apparmor.d --log audit.log --log kern.log.1.gz --json\n\n\
For each event group of the profile: `allowed` (the rule and its file:line, even inside an\n\
include), `denied` (an explicit deny rule) or `missing`. A group that is allowed on disk but\n\
still logged usually means the loaded profile is stale: reload it (apparmor_parser -r).\n\
Exit 0 when nothing is missing, 1 when some group is missing, 2 on error."
)]
pub struct Args {
    /// The profile: a file path, a profile name or a program path (looked up in the profile
    /// directory).
    pub profile: PathBuf,
    /// Audit log to read (`-` for stdin; plain or gzip; repeatable).
    #[arg(long = "log", required = true, num_args = 1..)]
    pub logs: Vec<PathBuf>,
    /// Where profiles and includes are found.
    #[command(flatten)]
    pub dirs: super::profile_args::ProfileDirArgs,
    /// Fail on includes that are not installed, as apparmor_parser does. By default they are
    /// warnings and the standard tunables get built-in defaults, so the check works on a
    /// machine without AppArmor.
    #[arg(long, conflicts_with = "lenient")]
    pub strict: bool,
    /// The default (kept for scripts written against earlier builds).
    #[arg(long, hide = true)]
    pub lenient: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    status: &'a GroupStatus,
    mode: String,
    class: String,
    mask: String,
    resource: String,
    count: u64,
}

#[derive(Serialize, Default)]
struct Summary {
    allowed: usize,
    denied: usize,
    missing: usize,
    not_judged: usize,
    stale: usize,
    other_profiles: usize,
}

/// The `check --json` schema version (docs/json-schema.md).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    profile: String,
    groups: Vec<Row<'a>>,
    summary: Summary,
}

pub fn run(mut args: Args, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    args.dirs.resolve()?;
    let mode = if args.strict {
        IncludeMode::Strict
    } else {
        IncludeMode::Lenient
    };
    // A file, a profile name or a program path, as in every command that reads a profile.
    if let Some(name) = args.profile.to_str() {
        args.profile = super::tune::resolve_profile(name, args.dirs.dir())?;
    }
    super::inputs::readable_file(super::inputs::Kind::Profile, &args.profile)?;
    let mut loader = Loader::new(args.dirs.dir(), mode);
    for d in &args.dirs.include {
        loader = loader.include_dir(d);
    }
    let policy = loader
        .load_file(&args.profile)
        .with_context(|| format!("loading {}", args.profile.display()))?;
    if !global.quiet {
        for w in &policy.warnings {
            eprintln!("{}", Untrusted(&w.to_string()));
        }
    }
    let specs = super::inputs::log_specs(&args.logs)?;
    // groups and their evidence in one pass, no event kept: memory and time grow with the
    // groups, whose number whoever writes the log chooses
    let mut stream = EvidenceStream::new(Filter::default());
    for src in open_sources(&specs)? {
        let label = src.label.clone();
        let mut reader = src.into_reader();
        while let Some(ev) = reader
            .next_event()
            .with_context(|| format!("reading {label}"))?
        {
            stream.add(&ev);
        }
        let failed = reader.summary().failed;
        if failed > 0 && !global.quiet {
            eprintln!("{label}: {failed} line(s) could not be parsed and were skipped");
        }
    }
    let (groups, evidence) = stream.finish();
    let grouping = Grouping {
        groups,
        membership: Vec::new(),
    };
    let result = statuses(&policy, &evidence);

    let by_id = |id: &str| -> Option<&Group> { grouping.group(id) };
    let mut summary = Summary {
        other_profiles: evidence.len().saturating_sub(result.len()),
        ..Summary::default()
    };
    let mut rows = Vec::new();
    for s in &result {
        match s.status {
            Status::Allowed { .. } => summary.allowed += 1,
            Status::Denied { .. } => summary.denied += 1,
            Status::Missing => summary.missing += 1,
            Status::NotJudged => summary.not_judged += 1,
        }
        if s.stale {
            summary.stale += 1;
        }
        let g = by_id(&s.group);
        rows.push(Row {
            status: s,
            mode: g.map(|g| g.key.mode.to_string()).unwrap_or_default(),
            class: g
                .map(|g| g.key.class.as_str().to_string())
                .unwrap_or_default(),
            mask: g.map(|g| g.key.mask.clone()).unwrap_or_default(),
            resource: g.map(|g| g.key.resource.clone()).unwrap_or_default(),
            count: g.map(|g| g.count).unwrap_or_default(),
        });
    }
    let missing = summary.missing > 0;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        let report = Report {
            schema_version: SCHEMA_VERSION,
            profile: args.profile.display().to_string(),
            groups: rows,
            summary,
        };
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &rows, &summary)?;
        if result.is_empty() {
            writeln!(out, "{}", nothing_for(&policy, &evidence))?;
        }
    }
    out.flush()?;
    Ok(if missing {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// When no group is for the profile: say so, and what the logs have instead (a table of
/// zeros must not read as "everything is allowed").
fn nothing_for(
    policy: &aa_assist::profile::LoadedPolicy,
    evidence: &[aa_assist::check::GroupEvidence],
) -> String {
    let wanted: Vec<String> = policy
        .profiles
        .iter()
        .filter(|p| p.path.len() == 1)
        .map(|p| Untrusted(&p.header.name).to_string())
        .collect();
    let wanted = wanted.join(", ");
    if evidence.is_empty() {
        return format!(
            "note: the logs have no AppArmor event, so nothing about profile {wanted} was checked"
        );
    }
    let profiles: std::collections::BTreeSet<&str> =
        evidence.iter().map(|g| g.profile.as_str()).collect();
    let shown: Vec<String> = profiles
        .iter()
        .take(10)
        .map(|p| Untrusted(p).to_string())
        .collect();
    let more = if profiles.len() > shown.len() {
        format!(" and {} more", profiles.len() - shown.len())
    } else {
        String::new()
    };
    format!(
        "note: the logs have {} group(s), none for profile {wanted}; they are for profile(s) {}{more}",
        evidence.len(),
        shown.join(", ")
    )
}

fn print_table(out: &mut impl Write, rows: &[Row<'_>], summary: &Summary) -> std::io::Result<()> {
    for r in rows {
        let what = format!(
            "{} {} {}",
            Untrusted(&r.class),
            Untrusted(&r.mask),
            Untrusted(&r.resource)
        );
        let what = what.split_whitespace().collect::<Vec<_>>().join(" ");
        let head = format!(
            "{:<5} {:<8} {} ({}x) [{}]",
            Untrusted(&r.status.group),
            r.mode,
            what,
            r.count,
            Untrusted(&r.status.profile)
        );
        match &r.status.status {
            Status::Allowed { rules } => {
                writeln!(out, "{head}\n      allowed by:")?;
                for rule in rules {
                    writeln!(
                        out,
                        "        {}  ({})",
                        Untrusted(&rule.rule),
                        Untrusted(&rule.source)
                    )?;
                }
                if r.status.stale {
                    writeln!(
                        out,
                        "      note: allowed on disk but still logged: the loaded profile is probably stale (reload: apparmor_parser -r)"
                    )?;
                }
            }
            Status::Denied { rule } => {
                writeln!(
                    out,
                    "{head}\n      denied by: {}  ({})",
                    Untrusted(&rule.rule),
                    Untrusted(&rule.source)
                )?;
            }
            Status::Missing => writeln!(out, "{head}\n      missing")?,
            Status::NotJudged => writeln!(
                out,
                "{head}\n      not judged (nothing to draft from these events)"
            )?,
        }
    }
    writeln!(
        out,
        "{} allowed ({} stale), {} denied, {} missing, {} not judged; {} group(s) of other profiles ignored",
        summary.allowed, summary.stale, summary.denied, summary.missing, summary.not_judged, summary.other_profiles
    )
}
