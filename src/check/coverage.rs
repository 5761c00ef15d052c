//! Covered or not: whether a profile, as written on disk, already allows each event group.
//!
//! Owns the per-group answer of `aa-assist check`: allowed (naming the rule and its
//! `file:line`, even inside an include), denied by an explicit `deny` rule, or missing; and
//! the "allowed but still logged" hint that the loaded profile is stale. It does not read
//! files or print (the `check` command does).

use serde::Serialize;

use crate::log::EventKind;
use crate::profile::{EffectiveProfile, LoadedPolicy};

use super::{Grant, GroupEvidence};

/// A rule of the profile, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// The rule text as written.
    pub rule: String,
    /// `file:line`.
    pub source: String,
}

/// Where a group stands against the profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Every need of the group is allowed; the first rule that allows it.
    Allowed {
        /// The allowing rule(s).
        rules: Vec<RuleRef>,
    },
    /// An explicit `deny` rule matches.
    Denied {
        /// The deny rule.
        rule: RuleRef,
    },
    /// Some need is neither allowed nor denied.
    Missing,
    /// Nothing can be drafted or judged from the group's events (e.g. AUDIT or STATUS
    /// records, or events the utils ignore).
    NotJudged,
}

/// The answer for one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupStatus {
    /// `G1`, ….
    pub group: String,
    /// Profile of the group.
    pub profile: String,
    /// What the profile says.
    #[serde(flatten)]
    pub status: Status,
    /// Allowed by the profile on disk, yet logged as denied or complained about: the loaded
    /// profile is probably older than the file (reload it with `apparmor_parser -r`).
    pub stale: bool,
}

/// The name of an effective profile as logs spell it (`outer//hat`).
pub fn profile_log_name(p: &EffectiveProfile) -> String {
    p.path
        .iter()
        .map(|s| s.trim_start_matches('^'))
        .collect::<Vec<_>>()
        .join("//")
}

struct Compiled {
    grant: Grant,
    at: RuleRef,
}

/// For every group of a profile in `policy`, whether that profile allows, denies or lacks it.
/// Groups of profiles `policy` does not define are left out.
pub fn statuses(policy: &LoadedPolicy, evidence: &[GroupEvidence]) -> Vec<GroupStatus> {
    let mut vars = super::default_vars();
    vars.extend(policy.variables.clone());
    let mut out = Vec::new();
    for prof in &policy.profiles {
        let name = profile_log_name(prof);
        let groups: Vec<&GroupEvidence> = evidence.iter().filter(|g| g.profile == name).collect();
        if groups.is_empty() {
            continue;
        }
        let compiled: Vec<Compiled> = prof
            .rules
            .iter()
            .filter_map(|r| {
                Grant::compile(r.rule.clone(), &vars)
                    .ok()
                    .map(|grant| Compiled {
                        grant,
                        at: RuleRef {
                            rule: r.text.trim().to_string(),
                            source: format!("{}:{}", r.file, r.pos.line),
                        },
                    })
            })
            .collect();
        for g in groups {
            out.push(status_of(g, &name, &compiled));
        }
    }
    out.sort_by_key(|s| {
        s.group
            .trim_start_matches('G')
            .parse::<u64>()
            .unwrap_or(u64::MAX)
    });
    out
}

fn status_of(g: &GroupEvidence, name: &str, rules: &[Compiled]) -> GroupStatus {
    let mut status =
        if g.needs.is_empty() || !matches!(g.mode, EventKind::Allowed | EventKind::Denied) {
            Status::NotJudged
        } else {
            Status::Allowed { rules: Vec::new() }
        };
    if status != Status::NotJudged {
        for n in &g.needs {
            let hit = |deny: bool| {
                rules.iter().find(|c| {
                    c.grant.is_deny() == deny && c.grant.satisfies(&n.need, n.parsed.as_ref())
                })
            };
            if let Some(d) = hit(true) {
                status = Status::Denied { rule: d.at.clone() };
                break;
            }
            match (hit(false), &mut status) {
                (Some(a), Status::Allowed { rules }) if !rules.contains(&a.at) => {
                    rules.push(a.at.clone());
                }
                (None, _) => status = Status::Missing,
                _ => {}
            }
        }
    }
    let stale = matches!(status, Status::Allowed { .. });
    GroupStatus {
        group: g.id.clone(),
        profile: name.to_string(),
        status,
        stale: stale && matches!(g.mode, EventKind::Allowed | EventKind::Denied),
    }
}
