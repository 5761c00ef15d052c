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
use crate::check::{default_vars, rule_findings, Finding, Severity};
use crate::profile::rule::{CondRule, ExecMode, FilePerms, Rule, RuleKind};
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
}

/// A profile (or hat), explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileExplanation {
    /// Name as logs spell it (`outer//hat`).
    pub profile: String,
    /// Flags written in the header (`complain`, `attach_disconnected`, …).
    pub flags: Vec<String>,
    /// Rules written in the profile's own file.
    pub rules: Vec<RuleExplanation>,
    /// What each include brings in, in order of first appearance.
    pub includes: Vec<IncludeSummary>,
}

impl ProfileExplanation {
    /// Every finding (own rules and includes), worst first.
    pub fn worst(&self) -> Option<Severity> {
        self.rules
            .iter()
            .chain(self.includes.iter().flat_map(|i| &i.notable))
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
}

impl Default for RuleContext {
    fn default() -> RuleContext {
        RuleContext {
            vars: default_vars(),
            known_profiles: None,
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
        let ex = RuleExplanation {
            rule: r.text.trim().to_string(),
            source: format!("{}:{}", r.file, r.pos.line),
            meaning: meaning(&r.rule),
            findings: rule_findings(&r.rule, &ctx.vars, &name, ctx.known_profiles.as_ref()),
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
                }
            });
            e.rules += 1;
            if !ex.findings.is_empty() {
                e.notable.push(ex);
            }
        }
    }
    ProfileExplanation {
        profile: name,
        flags: profile.header.flags.clone(),
        rules,
        includes: order
            .into_iter()
            .filter_map(|f| by_file.remove(&f))
            .collect(),
    }
}

/// File permission letters as words (`rw` → "read, write").
pub fn perm_words(p: &FilePerms) -> Vec<String> {
    let mut w = Vec::new();
    if p.read {
        w.push("read".to_string());
    }
    if p.write {
        w.push("write (create, change, delete)".to_string());
    } else if p.append {
        w.push("append".to_string());
    }
    if p.lock {
        w.push("lock".to_string());
    }
    if p.link {
        w.push("hard-link".to_string());
    }
    if p.mmap {
        w.push("map as executable code".to_string());
    }
    if let Some(m) = p.exec {
        w.push(exec_words(m));
    }
    w
}

/// What an exec mode does.
pub fn exec_words(m: ExecMode) -> String {
    let scrub = |unsafe_env: bool| {
        if unsafe_env {
            " without scrubbing the environment (uppercase: unsafe)"
        } else {
            ""
        }
    };
    match m {
        ExecMode::X => "execute (deny rules only)".into(),
        ExecMode::Inherit => "execute under this same profile (ix)".into(),
        ExecMode::Profile {
            unsafe_env,
            inherit_fallback,
            unconfined_fallback,
        } => format!(
            "execute under the program's own profile{}{}",
            if inherit_fallback {
                ", else this one"
            } else if unconfined_fallback {
                ", else UNCONFINED"
            } else {
                " (which must exist)"
            },
            scrub(unsafe_env)
        ),
        ExecMode::Child {
            unsafe_env,
            inherit_fallback,
            unconfined_fallback,
        } => format!(
            "execute under a child profile of this one{}{}",
            if inherit_fallback {
                ", else this one"
            } else if unconfined_fallback {
                ", else UNCONFINED"
            } else {
                ""
            },
            scrub(unsafe_env)
        ),
        ExecMode::Unconfined { unsafe_env } => {
            format!("execute WITHOUT ANY CONFINEMENT (ux){}", scrub(unsafe_env))
        }
    }
}

/// What a path pattern matches, in words.
pub fn glob_words(pattern: &str) -> String {
    let has = |c: &str| pattern.contains(c);
    if !has("*") && !has("?") && !has("[") && !has("{") {
        return if pattern.ends_with('/') {
            format!("the directory {pattern} itself")
        } else {
            format!("exactly {pattern}")
        };
    }
    if let Some(dir) = pattern.strip_suffix("**") {
        if !dir.contains(['*', '?', '[', '{']) {
            return format!("everything under {dir} (any depth)");
        }
    }
    if let Some(dir) = pattern.strip_suffix('*') {
        if !dir.contains(['*', '?', '[', '{']) && dir.ends_with('/') {
            return format!("every file directly in {dir} (not below)");
        }
    }
    let mut notes = Vec::new();
    if has("**") {
        notes.push("`**` crosses directories");
    }
    if has("*") && !has("**") || pattern.replace("**", "").contains('*') {
        notes.push("`*` is any name part within one directory");
    }
    if has("?") {
        notes.push("`?` is one character");
    }
    if pattern.replace("@{", "").contains('{') {
        notes.push("`{a,b}` is either");
    }
    if has("[") {
        notes.push("`[…]` is a character class");
    }
    if has("@{") {
        notes.push("`@{VAR}` expands a variable");
    }
    format!("paths matching {pattern} ({})", notes.join("; "))
}

fn cond_words(c: &CondRule) -> String {
    let mut parts = Vec::new();
    if c.access.is_empty() {
        parts.push("any access".to_string());
    } else {
        parts.push(c.access.join(", "));
    }
    if !c.words.is_empty() {
        parts.push(c.words.join(" "));
    }
    for (k, v) in &c.conds {
        parts.push(format!("{k}={}", v.join("|")));
    }
    parts.join("; ")
}

/// One line of plain English for a rule.
pub fn meaning(rule: &Rule) -> String {
    let q = &rule.qualifiers;
    let verb = if q.deny { "Refuses" } else { "Allows" };
    let mut tail = Vec::new();
    if q.owner {
        tail.push("only for files the process owns");
    }
    if q.audit {
        tail.push("and logs every use");
    }
    if q.deny && !q.audit {
        tail.push("silently (no log entry)");
    }
    let tail = if tail.is_empty() {
        String::new()
    } else {
        format!(", {}", tail.join(", "))
    };
    let body = match &rule.kind {
        RuleKind::File(f) => match &f.path {
            None => "every file access".to_string(),
            Some(p) => {
                let words = perm_words(&f.perms);
                let target = f
                    .target
                    .as_ref()
                    .map(|t| format!(", transitioning to profile {t}"))
                    .unwrap_or_default();
                format!(
                    "{} on {}{target}",
                    if words.is_empty() {
                        "no permission".to_string()
                    } else {
                        words.join(", ")
                    },
                    glob_words(p)
                )
            }
        },
        RuleKind::Link {
            subset,
            path,
            target,
        } => format!(
            "hard links at {path} pointing to {target}{}",
            if *subset {
                " (only with no more permissions than the target)"
            } else {
                ""
            }
        ),
        RuleKind::Capability(names) if names.is_empty() => "EVERY capability".to_string(),
        RuleKind::Capability(names) => format!("capability {}", names.join(", ")),
        RuleKind::Network(c) if c.words.is_empty() && c.access.is_empty() && c.conds.is_empty() => {
            "every kind of socket".to_string()
        }
        RuleKind::Network(c) => format!("network sockets: {}", cond_words(c)),
        RuleKind::Dbus(c) => format!("D-Bus messages: {}", cond_words(c)),
        RuleKind::Unix(c) => format!("Unix sockets: {}", cond_words(c)),
        RuleKind::Signal(c) => format!("signals: {}", cond_words(c)),
        RuleKind::Ptrace(c) => format!("ptrace: {}", cond_words(c)),
        RuleKind::Mount(c) => format!("mounting filesystems: {}", cond_words(c)),
        RuleKind::Umount(c) => format!("unmounting: {}", cond_words(c)),
        RuleKind::Remount(c) => format!("remounting: {}", cond_words(c)),
        RuleKind::PivotRoot(c) => format!("pivot_root: {}", cond_words(c)),
        RuleKind::ChangeProfile(c) => format!("changing to another profile: {}", cond_words(c)),
        RuleKind::Rlimit { resource, value } => {
            return format!("Sets the resource limit {resource} to at most {value}")
        }
        RuleKind::All => "EVERYTHING (the profile confines nothing)".to_string(),
        RuleKind::Unknown { keyword } => {
            return format!("A `{keyword}` rule this tool does not know")
        }
        other => format!("{} rule", other.name()),
    };
    format!("{verb} {body}{tail}")
}

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
            "Allows read, write (create, change, delete), lock on everything under /var/lib/svc/ (any depth), only for files the process owns"
        );
        assert!(m("/usr/bin/helper ux,").contains("WITHOUT ANY CONFINEMENT"));
        assert!(m("/usr/bin/helper Px,").contains("unsafe"));
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
