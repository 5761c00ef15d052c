//! Building the review [`Plan`]: from the logs and the profile (the real pipeline), or from a
//! JSON file of hand-made checked proposals (`--proposals`, for developing and testing the
//! review itself).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use serde::Deserialize;

use aa_assist::check::{Checked, Finding, Severity, Verdict};
use aa_assist::draft::Proposal;
use aa_assist::profile::ProfileFile;
use aa_assist::review::report::GroupEntry;
use aa_assist::review::{Applier, Evidence};

use super::{Args, Plan};

/// The real pipeline: parse logs → group → drop covered groups → draft → cross-check.
pub fn plan(_args: &Args, _profile_path: &Path, _profile_text: &str) -> anyhow::Result<Plan> {
    bail!(
        "drafting from logs needs the log, profile, draft and check modules, which are not \
         merged into this build yet"
    )
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
}
