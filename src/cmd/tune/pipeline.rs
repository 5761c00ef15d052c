//! Building the review [`Plan`]: from the logs and the profile (the real pipeline), or from a
//! JSON file of hand-made checked proposals (`--proposals`, for developing and testing the
//! review itself).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use serde::Deserialize;

use aa_assist::check::{Checked, Finding, Severity, Verdict};
use aa_assist::draft::Proposal;
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
pub fn from_json(file: &Path) -> anyhow::Result<Plan> {
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
        applier: Box::new(BraceApplier),
    })
}

/// Inserts a rule at the end of the named profile's block, with the indentation of the
/// block's last line. A stand-in for the profile editor in `--proposals` mode.
struct BraceApplier;

impl Applier for BraceApplier {
    fn apply(&self, text: &str, profile: &str, rule: &str) -> Result<String, String> {
        let rule = rule.trim();
        if rule.is_empty() || rule.contains('\n') {
            return Err("not a single rule line".into());
        }
        let mut offset = 0;
        let mut open: Option<usize> = None;
        let mut depth = 0usize;
        let mut last_indent = "  ";
        for line in text.split_inclusive('\n') {
            let code = line.split('#').next().unwrap_or("");
            match open {
                None => {
                    if super::defines_profile(line, profile) {
                        open = Some(offset);
                        depth = code
                            .matches('{')
                            .count()
                            .saturating_sub(code.matches('}').count());
                    }
                }
                Some(_) => {
                    let closes = code.matches('}').count();
                    let opens = code.matches('{').count();
                    if closes > 0 && depth + opens <= closes {
                        let indent = if last_indent.is_empty() {
                            "  "
                        } else {
                            last_indent
                        };
                        return Ok(format!(
                            "{}{indent}{rule}\n{}",
                            &text[..offset],
                            &text[offset..]
                        ));
                    }
                    depth = depth + opens - closes;
                    if !line.trim().is_empty() {
                        let t = line.trim_start();
                        last_indent = &line[..line.len() - t.len()];
                    }
                }
            }
            offset += line.len();
        }
        Err(format!("no profile named {profile:?} in the file"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_at_block_end_with_indentation() {
        let t = "include <x>\nprofile p /usr/bin/p {\n    /a r,\n  ^hat {\n    /h r,\n  }\n}\n";
        let out = BraceApplier.apply(t, "p", "/b w,").expect("apply");
        assert_eq!(
            out,
            "include <x>\nprofile p /usr/bin/p {\n    /a r,\n  ^hat {\n    /h r,\n  }\n  /b w,\n}\n"
        );
        assert!(BraceApplier.apply(t, "q", "/b w,").is_err());
    }
}
