//! What each rule of a profile means, in plain English, with the cross-check's danger
//! findings beside it: the deterministic half of `aa-assist review PROFILE`.
//!
//! Permission letters become words, globs say what they match, exec modes say which profile
//! the new program runs under; every rule pulled in by an include is counted under that
//! include, and the notable ones (those with findings) are listed. Findings come from the
//! cross-check's rule-text analyses ([`crate::check::rule_findings`]: danger, sensitive and
//! critical targets, unknown exec targets); this module adds none of its own.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::check::coverage::profile_log_name;
use crate::check::{default_vars, rule_findings, Code, Finding, Severity};
use crate::profile::EffectiveProfile;

/// One rule, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleExplanation {
    /// The rule as written.
    pub rule: String,
    /// `file:line`.
    pub source: String,
    /// One line of plain English.
    pub meaning: String,
    /// Danger findings for the rule.
    pub findings: Vec<Finding>,
}

/// What one included file brings into the profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncludeSummary {
    /// The included file.
    pub file: String,
    /// Rules it brings in.
    pub rules: usize,
    /// Rules from it with findings.
    pub notable: Vec<RuleExplanation>,
    /// A stock abstraction shipped with AppArmor (under a directory of
    /// [`RuleContext::stock_dirs`]): its findings are summarised, not the profile's to fix,
    /// and do not count for the exit code.
    pub stock: bool,
}

/// A profile (or hat), explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileExplanation {
    /// Name as logs spell it (`outer//hat`).
    pub profile: String,
    /// Flags written in the header (`complain`, `attach_disconnected`, …).
    pub flags: Vec<String>,
    /// What the header means: how the profile is entered (attachment, child profile, hat,
    /// or no attachment at all) and what each flag does, from the meaning table.
    pub notes: Vec<String>,
    /// Rules written in the profile's own file.
    pub rules: Vec<RuleExplanation>,
    /// What each include brings in, in order of first appearance.
    pub includes: Vec<IncludeSummary>,
    /// The variables the profile's own rules use, expanded, with where each is set.
    pub variables: Vec<VariableUse>,
}

/// A variable a profile uses: its values and where they come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariableUse {
    /// Name without `@{}`.
    pub name: String,
    /// Values after expansion of nested variables (as the policy sets them).
    pub values: Vec<String>,
    /// `file:line` of each assignment, or `built-in default` for a standard tunable whose
    /// file was not found, or `not set` (the parser would reject the profile).
    pub from: Vec<String>,
}

/// Names of the `@{NAME}` references in `text`.
fn var_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("@{") {
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => {
                let n = &after[..j];
                if !n.is_empty() && !out.iter().any(|x| x == n) {
                    out.push(n.to_string());
                }
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
    out
}

impl ProfileExplanation {
    /// The worst finding worth acting on: the profile's own rules and the includes that
    /// are not stock abstractions.
    pub fn worst(&self) -> Option<Severity> {
        self.rules
            .iter()
            .chain(
                self.includes
                    .iter()
                    .filter(|i| !i.stock)
                    .flat_map(|i| &i.notable),
            )
            .flat_map(|r| &r.findings)
            .map(|f| f.severity)
            .max()
    }
}

/// What judging a profile's rules needs beyond their text.
#[derive(Debug, Clone)]
pub struct RuleContext {
    /// Variables for expanding `@{…}`: the standard tunables plus the policy's own.
    pub vars: BTreeMap<String, Vec<String>>,
    /// Profile names the loaded policy defines (profile directory and the file itself), for
    /// `unknown-exec-target`; `None` to skip that check.
    pub known_profiles: Option<BTreeSet<String>>,
    /// Directories (as path prefixes, e.g. `/etc/apparmor.d/abstractions/`) whose files are
    /// stock abstractions shipped with AppArmor.
    pub stock_dirs: Vec<String>,
    /// Where each variable is set (`file:line` of each assignment), for showing the values
    /// of the variables a profile uses with their origin.
    pub var_origins: BTreeMap<String, Vec<String>>,
}

impl Default for RuleContext {
    fn default() -> RuleContext {
        RuleContext {
            vars: default_vars(),
            known_profiles: None,
            stock_dirs: Vec::new(),
            var_origins: BTreeMap::new(),
        }
    }
}

/// Explain `profile`; rules whose file is not `main_file` are summarized per include.
pub fn explain_profile(profile: &EffectiveProfile, main_file: &str) -> ProfileExplanation {
    explain_profile_in(profile, main_file, &RuleContext::default())
}

/// [`explain_profile`] with the policy's variables and profile names.
pub fn explain_profile_in(
    profile: &EffectiveProfile,
    main_file: &str,
    ctx: &RuleContext,
) -> ProfileExplanation {
    let name = profile_log_name(profile);
    let mut rules = Vec::new();
    let mut order: Vec<String> = Vec::new();
    let mut by_file: BTreeMap<String, IncludeSummary> = BTreeMap::new();
    for r in &profile.rules {
        let mut findings = rule_findings(&r.rule, &ctx.vars, &name, ctx.known_profiles.as_ref());
        // a deny rule's meaning already says it refuses (and whether it logs): no note each
        findings.retain(|f| f.code != Code::DenyRule.as_str());
        let ex = RuleExplanation {
            rule: r.text.trim().to_string(),
            source: format!("{}:{}", r.file, r.pos.line),
            meaning: meaning(&r.rule),
            findings,
        };
        if r.file == main_file {
            rules.push(ex);
        } else {
            let e = by_file.entry(r.file.clone()).or_insert_with(|| {
                order.push(r.file.clone());
                IncludeSummary {
                    file: r.file.clone(),
                    rules: 0,
                    notable: Vec::new(),
                    stock: ctx
                        .stock_dirs
                        .iter()
                        .any(|d| r.file.starts_with(d.as_str())),
                }
            });
            e.rules += 1;
            if !ex.findings.is_empty() {
                e.notable.push(ex);
            }
        }
    }
    let h = &profile.header;
    let attachment = h
        .attachment
        .as_deref()
        .or_else(|| h.name.starts_with('/').then_some(h.name.as_str()));
    let mut notes = vec![format!(
        "{}: {}",
        name,
        block_meaning(h.hat, profile.path.len() > 1, attachment)
    )];
    for f in &h.flags {
        notes.push(match flag_meaning(f) {
            Some(m) => format!("flag {f}: {m}"),
            None => format!("flag {f}: not in this tool's table; read apparmor.d(5)"),
        });
    }
    let mut variables: Vec<VariableUse> = Vec::new();
    for r in &rules {
        for n in var_refs(&r.rule) {
            if variables.iter().any(|v| v.name == n) {
                continue;
            }
            let auto = profile.auto_vars();
            let values =
                crate::profile::resolve::expand_with(&format!("@{{{n}}}"), &ctx.vars, &auto)
                    .unwrap_or_default();
            let from = match ctx.var_origins.get(&n) {
                Some(o) if !o.is_empty() => o.clone(),
                _ if auto.iter().any(|(k, _)| *k == n) => {
                    vec!["set by the parser for this profile".to_string()]
                }
                _ if ctx.vars.contains_key(&n) => vec!["built-in default".to_string()],
                _ => vec!["not set".to_string()],
            };
            variables.push(VariableUse {
                name: n,
                values,
                from,
            });
        }
    }
    ProfileExplanation {
        profile: name,
        variables,
        flags: profile.header.flags.clone(),
        notes,
        rules,
        includes: order
            .into_iter()
            .filter_map(|f| by_file.remove(&f))
            .collect(),
    }
}

use super::meaning::{block_meaning, flag_meaning};
pub use super::meaning::{exec_words, glob_words, meaning, perm_words};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::grant::parse_one;
    use crate::profile::rule::Statement;

    fn m(text: &str) -> String {
        match parse_one(text).expect("parses") {
            Statement::Rule(r) => meaning(&r),
            other => panic!("not a rule: {other:?}"),
        }
    }

    #[test]
    fn file_rules_in_words() {
        assert_eq!(
            m("/etc/svc.conf r,"),
            "Allows read on exactly /etc/svc.conf"
        );
        assert_eq!(
            m("owner /var/lib/svc/** rwk,"),
            "Allows read, write (create, change, delete), lock on everything under /var/lib/svc/ (any depth), only for files the process owns (its fsuid)"
        );
        assert!(m("/usr/bin/helper ux,").contains("WITHOUT ANY CONFINEMENT"));
        assert!(m("/usr/bin/helper Px,").contains("the environment is scrubbed"));
        assert!(m("/usr/bin/helper px,").contains("NOT scrubbed"));
        assert!(m("/run/svc/* r,").contains("directly in /run/svc/"));
        assert!(m("deny /etc/shadow r,").starts_with("Refuses read"));
    }

    #[test]
    fn other_kinds() {
        assert_eq!(m("capability,"), "Allows EVERY capability");
        assert_eq!(
            m("capability net_bind_service,"),
            "Allows capability net_bind_service"
        );
        assert!(m("network inet stream,").contains("inet stream"));
    }
}
