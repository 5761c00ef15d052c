//! Building the review [`Plan`]: from the logs and the profile (the real pipeline), or from a
//! JSON file of hand-made checked proposals (`--proposals`, for developing and testing the
//! review itself).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use aa_assist::check::coverage::{self, Status};
use aa_assist::check::{CheckOptions, Checked, Checker, Finding, Severity, Universe, Verdict};
use aa_assist::draft::{Drafter, Globs, Proposal};
use aa_assist::log::group::{group_events, Filter, Grouping};
use aa_assist::log::{open_sources, Event, Summary};
use aa_assist::profile::ProfileFile;
use aa_assist::profile::{IncludeMode, LoadedPolicy, Loader};
use aa_assist::review::report::GroupEntry;
use aa_assist::review::{Applier, Evidence};

use super::{Args, Plan};

/// The real pipeline: parse logs → group → drop covered groups → draft → cross-check.
pub fn plan(
    args: &Args,
    profile_path: &Path,
    _profile_text: &str,
    global: &crate::cmd::GlobalArgs,
) -> anyhow::Result<Plan> {
    let Events { events, summary } = read_events(&args.logs)?;
    if summary.failed > 0 {
        tracing::warn!(
            "{} of {} log lines could not be parsed and were skipped",
            summary.failed,
            summary.lines
        );
    }
    let mut loader = Loader::new(args.review.dirs.dir(), IncludeMode::Lenient);
    for d in &args.review.dirs.include {
        loader = loader.include_dir(d);
    }
    let policy = loader
        .load_file(profile_path)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let names = profile_names(&policy);
    let all = events.len();
    let (events, others): (Vec<Event>, Vec<Event>) =
        events.into_iter().partition(|e| belongs(e, &names));
    let found = events
        .is_empty()
        .then(|| what_the_logs_hold(&others, &summary, &names, all));
    drop(others);
    let grouping = group_events(&events, &Filter::default());

    let mut universe = Universe::builtin();
    if let Some(u) = &args.review.universe {
        crate::cmd::inputs::readable_file(crate::cmd::inputs::Kind::Other("--universe"), u)?;
        universe
            .add_file(u)
            .with_context(|| format!("reading universe {}", u.display()))?;
    }
    let mut vars = aa_assist::check::default_vars();
    vars.extend(policy.variables.clone());
    let options = CheckOptions {
        trust_userspace: args.review.trust_userspace,
        vars,
        include: Some((
            args.review.dirs.dir().to_path_buf(),
            args.review.dirs.include.clone(),
        )),
    };
    let checker = Checker::new(&events, &grouping, universe, options);

    let mut covered = BTreeMap::new();
    let mut uncovered = Vec::new();
    for s in coverage::statuses(&policy, checker.groups()) {
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
    let (mut groups, evidence) = describe_groups(&events, &grouping, &covered, 3);
    let flags: BTreeMap<&str, &[aa_assist::check::injection::NameFlag]> = checker
        .groups()
        .iter()
        .map(|g| (g.id.as_str(), g.flags.as_slice()))
        .collect();
    for g in &mut groups {
        g.flags = flags
            .get(g.id.as_str())
            .map(|f| f.to_vec())
            .unwrap_or_default();
    }

    let only: BTreeSet<String> = uncovered.iter().cloned().collect();
    let drafter = Drafter::new()
        .with_globs(Globs::system())
        .with_known_profiles(names.iter().cloned())
        .with_policy(&policy);
    let proposals = drafter.draft(&events, &grouping, Some(&only));
    let mut checked = checker.check_all(&proposals);
    if args.llm.llm {
        checked.extend(super::model::proposals(
            &args.llm,
            &events,
            &grouping,
            &uncovered,
            checked.len(),
            &checker,
            global.quiet,
        )?);
    }
    let recheck = move |p: Proposal| checker.check(&p);
    Ok(Plan {
        groups,
        uncovered,
        evidence,
        checked,
        recheck: Box::new(recheck),
        applier: Box::new(ProfileApplier {
            file: profile_path.display().to_string(),
        }),
        found,
    })
}

/// What the logs hold when none of their events is for the profile: so that "nothing to do"
/// is never read as "the profile covers everything" (wrong profile, wrong log, no AppArmor
/// lines at all). Profile names come from the log: sanitized.
pub fn what_the_logs_hold(
    others: &[Event],
    summary: &Summary,
    names: &BTreeSet<String>,
    all: usize,
) -> String {
    let wanted: Vec<String> = names
        .iter()
        .filter(|n| !n.contains("//"))
        .map(|n| aa_assist::review::sanitize(n))
        .collect();
    let wanted = if wanted.is_empty() {
        "(none defined)".to_string()
    } else {
        wanted.join(", ")
    };
    if all == 0 {
        return format!(
            "Nothing to do, but only because the logs have no AppArmor event ({} line(s) read): \
             nothing about profile {wanted} was checked. Check the --log files (e.g. \
             /var/log/audit/audit.log, or `journalctl -k -o json`).",
            summary.lines
        );
    }
    let groups = group_events(others, &Filter::default()).groups.len();
    let profiles: BTreeSet<&str> = others.iter().filter_map(Event::profile_name).collect();
    let shown: Vec<String> = profiles
        .iter()
        .take(10)
        .map(|p| aa_assist::review::sanitize(p))
        .collect();
    let more = if profiles.len() > shown.len() {
        format!(" and {} more", profiles.len() - shown.len())
    } else {
        String::new()
    };
    let has = if shown.is_empty() {
        "none names a profile".to_string()
    } else {
        format!("they are for profile(s) {}{more}", shown.join(", "))
    };
    format!(
        "Nothing to do, but not because anything is covered: the logs have {all} AppArmor \
         event(s) in {groups} group(s), none for profile {wanted}; {has}. Check the profile \
         (or give the one these events are for)."
    )
}

/// Events read from the logs, with what could not be read.
pub struct Events {
    /// Every AppArmor event, in source order.
    pub events: Vec<Event>,
    /// Lines read, events found, lines that failed, summed over sources.
    pub summary: Summary,
}

/// Read every `--log` source (`-` is stdin).
pub fn read_events(logs: &[PathBuf]) -> anyhow::Result<Events> {
    let specs = crate::cmd::inputs::log_specs(logs)?;
    let mut events = Vec::new();
    let mut summary = Summary::default();
    for source in open_sources(&specs)? {
        let label = source.label.clone();
        let mut reader = source.into_reader();
        for ev in reader.by_ref() {
            events.push(ev.with_context(|| format!("reading {label}"))?);
        }
        summary.merge(reader.summary());
    }
    Ok(events_with(events, summary))
}

fn events_with(events: Vec<Event>, summary: Summary) -> Events {
    Events { events, summary }
}

/// Names (`name`, `name//hat`) of the profiles defined in the loaded file, hats' `^` removed.
pub fn profile_names(policy: &LoadedPolicy) -> BTreeSet<String> {
    policy
        .profiles
        .iter()
        .map(|p| {
            p.path
                .iter()
                .map(|n| n.trim_start_matches('^'))
                .collect::<Vec<_>>()
                .join("//")
        })
        .collect()
}

/// Whether the event belongs to one of `names` (or a child of one: `name//…`).
pub fn belongs(ev: &Event, names: &BTreeSet<String>) -> bool {
    let Some(p) = ev.profile_name() else {
        return false;
    };
    names.contains(p) || names.contains(p.split("//").next().unwrap_or(p))
}

/// The report entry and the displayed evidence for each group.
pub fn describe_groups(
    events: &[Event],
    grouping: &Grouping,
    covered: &BTreeMap<String, String>,
    max_lines: usize,
) -> (Vec<GroupEntry>, BTreeMap<String, Evidence>) {
    let mut wanted: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    let mut shown: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    // the events of every group in one pass (not a scan of all events per group)
    let by_group = grouping.events_by_group();
    for (g, evs) in grouping.groups.iter().zip(&by_group) {
        let refs: Vec<(String, u64)> = evs
            .iter()
            .filter_map(|&i| events.get(i))
            .map(|e| (e.provenance.source.clone(), e.provenance.line))
            .collect();
        for (src, line) in refs.iter().take(max_lines) {
            wanted.entry(src.clone()).or_default().insert(*line);
        }
        shown.insert(g.id.clone(), refs);
    }
    let raw = raw_lines(&wanted);
    let mut entries = Vec::new();
    let mut evidence = BTreeMap::new();
    for g in &grouping.groups {
        let k = &g.key;
        entries.push(GroupEntry {
            id: g.id.clone(),
            profile: k.profile.clone(),
            class: k.class.as_str().to_string(),
            operation: k.operation.clone(),
            resource: k.resource.clone(),
            mask: k.mask.clone(),
            count: usize::try_from(g.count).unwrap_or(usize::MAX),
            covered_by: covered.get(&g.id).cloned(),
            flags: Vec::new(),
        });
        let mut lines: Vec<String> = Vec::new();
        let refs = shown.get(&g.id).map(Vec::as_slice).unwrap_or(&[]);
        for (i, (src, line)) in refs.iter().enumerate() {
            match raw.get(&(src.clone(), *line)).filter(|_| i < max_lines) {
                Some(text) => lines.push(format!("{src}:{line}: {text}")),
                None => lines.push(format!("{src}:{line}")),
            }
        }
        let untrusted = if g.untrusted > 0 {
            format!(", {} from a source anyone can write", g.untrusted)
        } else {
            String::new()
        };
        evidence.insert(
            g.id.clone(),
            Evidence {
                summary: format!(
                    "{} {} {} {} {}{}{}",
                    k.mode.as_str(),
                    k.class.as_str(),
                    k.operation,
                    k.resource,
                    if k.mask.is_empty() {
                        String::new()
                    } else {
                        format!("({}) ", k.mask)
                    },
                    format_args!("×{}", g.count),
                    untrusted
                ),
                lines,
            },
        );
    }
    (entries, evidence)
}

/// The `--proposals FILE` input.
#[derive(Debug, Deserialize)]
struct HandMade {
    #[serde(default)]
    groups: Vec<GroupEntry>,
    #[serde(default)]
    evidence: BTreeMap<String, Evidence>,
    checked: Vec<Checked>,
    /// Verdicts for rules a reviewer may turn a proposal into, looked up by rule text.
    #[serde(default)]
    rechecks: Vec<Checked>,
}

/// Read hand-made checked proposals. A changed rule is re-judged from `rechecks` (by exact
/// rule text); a rule not listed there is blocked with `unchecked-rule`, since nothing can
/// vouch for it.
pub fn from_json(file: &Path, profile_path: &Path) -> anyhow::Result<Plan> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let hand: HandMade = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a proposals file", file.display()))?;
    let uncovered = hand
        .groups
        .iter()
        .filter(|g| g.covered_by.is_none())
        .map(|g| g.id.clone())
        .collect();
    let rechecks = hand.rechecks;
    let recheck = move |p: Proposal| -> Checked {
        if let Some(c) = rechecks.iter().find(|c| c.proposal.rule == p.rule) {
            return Checked {
                proposal: p,
                ..c.clone()
            };
        }
        Checked {
            proposal: p,
            covers: vec![],
            partial: vec![],
            unsupported_claims: vec![],
            extra_paths: vec![],
            extra_path_count: 0,
            extra_perms: vec![],
            findings: vec![Finding {
                code: "unchecked-rule".into(),
                severity: Severity::Error,
                message: "no cross-check is available for this rule in the proposals file".into(),
            }],
            verdict: Verdict::Blocked,
        }
    };
    Ok(Plan {
        groups: hand.groups,
        uncovered,
        evidence: hand.evidence,
        checked: hand.checked,
        recheck: Box::new(recheck),
        applier: Box::new(ProfileApplier {
            file: profile_path.display().to_string(),
        }),
        found: None,
    })
}

/// Places a rule with the profile editor: after the last rule of the same kind in the named
/// profile (or `profile//hat`), every other byte kept.
pub struct ProfileApplier {
    /// File name used in parse errors.
    pub file: String,
}

impl Applier for ProfileApplier {
    fn apply(&self, text: &str, profile: &str, rule: &str) -> Result<String, String> {
        let mut tree = ProfileFile::parse(&self.file, text).map_err(|e| e.to_string())?;
        let path: Vec<&str> = profile.split("//").collect();
        tree.insert_rule(&path, rule).map_err(|e| e.to_string())
    }
}

/// Longest raw log line shown as evidence; longer ones are cut with `…`.
const MAX_SHOWN: usize = 400;

/// The raw text of the wanted lines (1-based) of each source file, for display as evidence.
/// Sources that are not plain or gzip files (stdin, the journal) give nothing: their events
/// are still summarized.
pub fn raw_lines(
    wanted: &BTreeMap<String, std::collections::BTreeSet<u64>>,
) -> BTreeMap<(String, u64), String> {
    use std::io::{BufRead, BufReader, Read};
    let mut out = BTreeMap::new();
    for (source, lines) in wanted {
        let Some(last) = lines.last().copied() else {
            continue;
        };
        let Ok(mut file) = std::fs::File::open(source) else {
            continue;
        };
        let mut magic = [0u8; 2];
        let gz = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
        let Ok(file) = std::fs::File::open(source) else {
            continue;
        };
        let reader: Box<dyn BufRead> = if gz {
            Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
        } else {
            Box::new(BufReader::new(file))
        };
        for (n, line) in reader.split(b'\n').enumerate() {
            let n = n as u64 + 1;
            if n > last {
                break;
            }
            let Ok(line) = line else {
                break;
            };
            if lines.contains(&n) {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches('\r');
                let shown = match text.char_indices().nth(MAX_SHOWN) {
                    Some((cut, _)) => format!("{}…", &text[..cut]),
                    None => text.to_string(),
                };
                out.insert((source.clone(), n), shown);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_after_the_last_rule_of_its_kind() {
        let t = "include <x>\nprofile p /usr/bin/p {\n    /a r,\n  capability kill,\n  ^hat {\n    /h r,\n  }\n}\n";
        let a = ProfileApplier { file: "t".into() };
        let out = a.apply(t, "p", "/b w,").expect("apply");
        assert_eq!(
            out,
            "include <x>\nprofile p /usr/bin/p {\n    /a r,\n    /b w,\n  capability kill,\n  ^hat {\n    /h r,\n  }\n}\n"
        );
        let out = a.apply(t, "p//hat", "/c w,").expect("hat");
        assert!(out.contains("    /h r,\n    /c w,\n"), "{out}");
        assert!(a.apply(t, "q", "/b w,").is_err());
    }

    #[test]
    fn raw_lines_reads_plain_and_gzip() {
        use std::io::Write;
        let d = tempfile::tempdir().expect("tempdir");
        let plain = d.path().join("a.log");
        std::fs::write(&plain, "one\ntwo\r\nthree\n").expect("write");
        let gz = d.path().join("b.log.1");
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).expect("create"),
            flate2::Compression::fast(),
        );
        enc.write_all(b"x\ny\n").expect("write");
        enc.finish().expect("finish");
        let p = plain.display().to_string();
        let g = gz.display().to_string();
        let wanted = BTreeMap::from([
            (p.clone(), [2, 3].into()),
            (g.clone(), [2].into()),
            ("-".to_string(), [1].into()),
        ]);
        let got = raw_lines(&wanted);
        assert_eq!(got.get(&(p.clone(), 2)).map(String::as_str), Some("two"));
        assert_eq!(got.get(&(p, 3)).map(String::as_str), Some("three"));
        assert_eq!(got.get(&(g, 2)).map(String::as_str), Some("y"));
        assert_eq!(got.len(), 3);
    }
}
