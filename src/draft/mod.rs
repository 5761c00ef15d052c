//! Proposals: candidate rules for uncovered event groups.
//!
//! Owns the deterministic, offline drafter (first-choice minimal rule plus alternatives) and
//! the [`Proposal`] type every proposer produces, the model included. It does not judge
//! proposals: that is [`crate::check`]'s job, and nothing here trusts a proposal's claims.

pub mod generalize;
pub mod globs;
pub mod perms;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::aare;
use crate::log::group::Grouping;
use crate::log::{Event, EventKind};

pub use generalize::{generalize, Generalized, Vars};
pub use globs::Globs;
pub use perms::FilePerms;
pub use rules::{need_of, Need};

/// Who proposed a rule. A model's proposal is never trusted more than the drafter's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The built-in deterministic drafter.
    Drafter,
    /// An LLM answer (online or from an ingested prompt pack).
    Model,
    /// A human edit of another proposal (re-checked like any other).
    Human,
}

/// Another way to write a proposal's rule, offered beside the first choice, never instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alternative {
    /// The rule text, e.g. `/var/lib/foo/cache/* rw,` or `include <abstractions/nameservice>`.
    pub rule: String,
    /// Short reason, e.g. `glob last component`, `logprof.conf [globs]`, `abstraction`.
    pub why: String,
}

/// A candidate rule for one profile (or hat), with the evidence its proposer *claims*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// Stable id in report order: `P1`, `P2`, ….
    pub id: String,
    /// Profile (or `profile//hat`) the rule belongs to, as in the log's `profile=` field.
    pub profile: String,
    /// One rule in profile syntax, ending with `,` (or an `include` line).
    pub rule: String,
    /// Who proposed it.
    pub source: Source,
    /// Group ids (`G1`…) the proposer says this rule resolves. Claims only: the cross-check
    /// computes the real coverage.
    pub claimed_evidence: Vec<String>,
    /// Alternatives offered beside the first choice.
    pub alternatives: Vec<Alternative>,
    /// Why the proposer thinks the rule is right (model rationale or drafter note).
    pub rationale: Option<String>,
    /// For exec rules: the modes the human may pick from, the preselected one first.
    pub exec_modes: Vec<String>,
}

/// Exec modes the human may pick from (the preselected one is moved first).
pub const EXEC_MODES: &[&str] = &["ix", "px", "pix", "cx", "cix", "ux"];

/// An abstraction the drafter may suggest, with what it allows.
#[derive(Debug, Clone)]
pub struct Abstraction {
    /// The include name, e.g. `abstractions/nameservice`.
    pub name: String,
    /// Allowing file rules: compiled patterns, permissions, owner-only.
    pub file_rules: Vec<(aare::Pattern, FilePerms, bool)>,
}

/// A failure to load abstractions.
#[derive(Debug, thiserror::Error)]
pub enum AbstractionError {
    /// The `abstractions/` directory could not be listed.
    #[error("{path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl Abstraction {
    /// Loads every abstraction of `<profile_dir>/abstractions/` (files only, not the `.d`
    /// directories), resolving their includes and variables with the profile engine. Those
    /// marked `LOGPROF-SUGGEST: no` are left out, as are those that do not load (they are
    /// returned by name so the caller can say so).
    pub fn load_dir(
        profile_dir: &std::path::Path,
        include_dirs: &[std::path::PathBuf],
    ) -> Result<(Vec<Abstraction>, Vec<String>), AbstractionError> {
        let dir = profile_dir.join("abstractions");
        let rd = std::fs::read_dir(&dir).map_err(|source| AbstractionError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let mut names: Vec<String> = rd
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        names.sort();
        let mut loader =
            crate::profile::Loader::new(profile_dir, crate::profile::IncludeMode::Lenient);
        for d in include_dirs {
            loader = loader.include_dir(d.clone());
        }
        let mut out = Vec::new();
        let mut failed = Vec::new();
        for name in names {
            let text = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
            if text.lines().any(|l| {
                let l = l.trim_start_matches(['#', ' ', '\t']);
                l.starts_with("LOGPROF-SUGGEST:") && l["LOGPROF-SUGGEST:".len()..].trim() == "no"
            }) {
                continue;
            }
            let include = format!("abstractions/{name}");
            // The abstraction's own text inside a profile, its `abi` line (preamble-only in
            // the profile engine) left out.
            let body: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("abi "))
                .map(|l| format!("{l}\n"))
                .collect();
            let wrapped = format!("profile aa-assist-abstraction {{\n{body}\n}}\n");
            let Ok(policy) = loader.load_str("<abstraction>", &wrapped) else {
                failed.push(include);
                continue;
            };
            let Some(prof) = policy.profiles.first() else {
                failed.push(include);
                continue;
            };
            let mut vars = crate::check::default_vars();
            vars.extend(policy.variables.clone());
            let mut file_rules = Vec::new();
            for r in prof.file_rules(&vars) {
                if r.deny {
                    continue;
                }
                let p = &r.perms;
                let letters: String = [
                    (p.mmap, 'm'),
                    (p.read, 'r'),
                    (p.write, 'w'),
                    (p.append, 'a'),
                    (p.link, 'l'),
                    (p.lock, 'k'),
                ]
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, c)| *c)
                .collect();
                let perms = FilePerms::parse_letters(&letters).unwrap_or_default();
                for pat in &r.patterns {
                    if let Ok(c) = aare::Pattern::compile_path(pat) {
                        file_rules.push((c, perms, r.owner));
                    }
                }
            }
            out.push(Abstraction {
                name: include,
                file_rules,
            });
        }
        Ok((out, failed))
    }

    /// True when the abstraction allows `perms` on `path` (for an owner access if `owner`).
    pub fn covers(&self, path: &str, perms: FilePerms, owner: bool) -> bool {
        let mut got = FilePerms::NONE;
        for (pat, p, rule_owner) in &self.file_rules {
            if (!*rule_owner || owner) && pat.is_match(path) {
                got = got.union(*p);
            }
        }
        got.contains(perms)
    }
}

/// The deterministic, offline drafter.
#[derive(Debug, Clone, Default)]
pub struct Drafter {
    globs: Globs,
    known_profiles: BTreeSet<String>,
    abstractions: Vec<Abstraction>,
    vars: Vars,
    /// Top directories (`/var/lib`) where the profile itself writes `owner` rules outside
    /// the usual owner areas: its style, followed for new rules there.
    owner_dirs: BTreeSet<String>,
}

/// One merged rule being drafted.
#[derive(Debug, Clone)]
struct Draft {
    need: Need,
    groups: BTreeSet<usize>,
    events: usize,
    /// File drafts: the first choice's path (generalised) and owner flag.
    rule_path: String,
    owner: bool,
    /// Every literal need merged into this draft: file path → owner flag as logged; for
    /// other rules the literal rule texts.
    literals: BTreeMap<String, bool>,
}

impl Drafter {
    /// A drafter with no `[globs]`, no known profiles and no abstractions.
    pub fn new() -> Drafter {
        Drafter::default()
    }

    /// Use these `logprof.conf` `[globs]` rewrites for alternatives.
    pub fn with_globs(mut self, globs: Globs) -> Drafter {
        self.globs = globs;
        self
    }

    /// Profiles (names or attachments) known to exist: `px` is preselected for exec targets
    /// among them, and only for them.
    pub fn with_known_profiles<I: IntoIterator<Item = String>>(mut self, names: I) -> Drafter {
        self.known_profiles.extend(names);
        self
    }

    /// Abstractions that may be offered when they already cover an access (callers leave
    /// out those marked `LOGPROF-SUGGEST: no`).
    pub fn with_abstractions(mut self, abstractions: Vec<Abstraction>) -> Drafter {
        self.abstractions = abstractions;
        self
    }

    /// Use the profile's resolved variables (name without `@{}` → values): volatile path
    /// components become the variables defined here (`@{pid}`, `@{uid}`, `@{int}`, `@{hex}`,
    /// `@{rand6}`, `@{uuid}`…) and well-known prefixes `@{HOME}`, `@{PROC}`, `@{run}`,
    /// `@{sys}`, `@{bin}`, `@{lib}` or the profile's own directory variables, each only when
    /// defined and when its expansion covers the logged path. Without variables the
    /// narrowest globs are used (`[0-9]*`, `??????`, `/home/*`).
    pub fn with_variables(mut self, vars: BTreeMap<String, Vec<String>>) -> Drafter {
        self.vars = Vars::new(vars);
        self
    }

    /// Use what a loaded profile file defines: its variables (see [`Drafter::with_variables`]).
    /// The loader's stand-ins for the standard tunables count as defined only when the file
    /// includes something from `tunables/` (whose real copy defines them).
    pub fn with_policy(mut self, policy: &crate::profile::LoadedPolicy) -> Drafter {
        let vars = defined_variables(policy);
        let mut all = crate::check::default_vars();
        all.extend(policy.variables.clone());
        for prof in &policy.profiles {
            for r in prof.file_rules(&all) {
                if !r.owner || r.deny {
                    continue;
                }
                for p in &r.patterns {
                    if let Some(top) = top_dir(p).filter(|_| !generalize::is_owner_area(p)) {
                        self.owner_dirs.insert(top);
                    }
                }
            }
        }
        self.with_variables(vars)
    }

    /// Follow a profile's style of writing `owner` on rules under these top directories
    /// (`/var/lib`, …) besides the usual owner areas.
    pub fn with_owner_dirs<I: IntoIterator<Item = String>>(mut self, dirs: I) -> Drafter {
        self.owner_dirs.extend(dirs);
        self
    }

    /// Drafts proposals for the given groups (all groups when `only` is `None`). Only
    /// `ALLOWED` and `DENIED` events are drafted from; events the utils ignore give nothing.
    /// Rules are merged as the utils merge them (one rule per path and owner flag, with the
    /// union of permissions) and numbered `P1`, `P2`, … in the order of their first group.
    pub fn draft(
        &self,
        events: &[Event],
        grouping: &Grouping,
        only: Option<&BTreeSet<String>>,
    ) -> Vec<Proposal> {
        let mut merged: BTreeMap<(String, MergeKey), Draft> = BTreeMap::new();
        for (i, ev) in events.iter().enumerate() {
            if !matches!(ev.kind, EventKind::Allowed | EventKind::Denied) {
                continue;
            }
            let Some(gi) = grouping.membership.get(i).copied().flatten() else {
                continue;
            };
            let Some(group) = grouping.groups.get(gi) else {
                continue;
            };
            if only.is_some_and(|o| !o.contains(&group.id)) {
                continue;
            }
            let Some(profile) = ev.profile_name() else {
                continue;
            };
            let Some(need) = need_of(ev) else {
                continue;
            };
            let (key, rule_path, owner) = self.merge_key(&need);
            let key = (profile.to_string(), key);
            let d = merged.entry(key).or_insert_with(|| Draft {
                need: need.clone(),
                groups: BTreeSet::new(),
                events: 0,
                rule_path,
                owner,
                literals: BTreeMap::new(),
            });
            match (&mut d.need, &need) {
                (
                    Need::File { perms: have, .. },
                    Need::File {
                        perms: add,
                        path,
                        owner,
                    },
                ) => {
                    *have = have.union(*add);
                    let o = d.literals.entry(path.clone()).or_insert(*owner);
                    *o &= *owner;
                }
                (_, Need::Other { text, .. }) => {
                    d.literals.insert(text.clone(), false);
                }
                _ => {}
            }
            d.groups.insert(gi);
            d.events += 1;
        }
        let mut drafts: Vec<((String, MergeKey), Draft)> = merged.into_iter().collect();
        drafts.sort_by_key(|(k, d)| (d.groups.first().copied(), k.clone()));
        drafts
            .into_iter()
            .enumerate()
            .map(|(n, ((profile, _), d))| {
                let ids: Vec<String> = d
                    .groups
                    .iter()
                    .filter_map(|g| grouping.groups.get(*g).map(|g| g.id.clone()))
                    .collect();
                self.proposal(format!("P{}", n + 1), profile, &d, ids)
            })
            .collect()
    }

    /// What a need merges on, with a file need's first-choice path and owner flag.
    fn merge_key(&self, need: &Need) -> (MergeKey, String, bool) {
        match need {
            Need::File { path, owner, .. } => {
                let g = generalize(path, &self.vars);
                // `owner` where maintainers write it, not on system files because the
                // process happened to own them
                let owner = *owner
                    && (g.owner_area
                        || top_dir(path).is_some_and(|t| self.owner_dirs.contains(&t)));
                (MergeKey::File(g.path.clone(), owner), g.path, owner)
            }
            Need::Exec { path } => (MergeKey::Exec(path.clone()), String::new(), false),
            Need::Other { text, class } => (
                MergeKey::Other(first_other(class, text)),
                String::new(),
                false,
            ),
        }
    }

    fn proposal(&self, id: String, profile: String, d: &Draft, ids: Vec<String>) -> Proposal {
        let plural = if d.events == 1 { "" } else { "s" };
        let (rule, alternatives, exec_modes, what) = match &d.need {
            Need::File { path, perms, .. } => {
                let perms = perms.normalized();
                let p = perms.to_string();
                let rule = file_rule(d.owner, &d.rule_path, &p);
                let mut alts = Vec::new();
                // the literal rule (as aa-logprof writes it) is always the first alternative
                let literal_owner = d.literals.values().all(|o| *o);
                let literal = literal_path(&d.literals);
                if let Some(lit) = &literal {
                    push_alt(
                        &mut alts,
                        &rule,
                        file_rule(literal_owner, lit, &p),
                        "literal, as logged",
                    );
                }
                if literal_owner && !d.owner {
                    push_alt(
                        &mut alts,
                        &rule,
                        file_rule(true, &d.rule_path, &p),
                        "narrower: owner only",
                    );
                }
                for a in self.file_alternatives(path, literal_owner, perms, &rule) {
                    push_alt(&mut alts, &rule, a.rule, &a.why);
                }
                let more = match d.literals.len() {
                    0 | 1 => String::new(),
                    n => format!(" and {} more path{}", n - 1, if n == 2 { "" } else { "s" }),
                };
                let how = if d.rule_path == aare::escape(path) {
                    String::new()
                } else {
                    ", path generalised (profile variables, volatile parts)".to_string()
                };
                (
                    rule,
                    alts,
                    Vec::new(),
                    format!("{perms} on {path}{more}{how}"),
                )
            }
            Need::Exec { path } => {
                let preselect = if self.known_profiles.contains(path) {
                    "px"
                } else {
                    "ix"
                };
                let mut modes = vec![preselect.to_string()];
                modes.extend(
                    EXEC_MODES
                        .iter()
                        .filter(|m| **m != preselect)
                        .map(|m| m.to_string()),
                );
                let rule = exec_rule(&aare::escape(path), preselect);
                let mut alts = Vec::new();
                let globbed = aare::glob_path(&aare::escape(path));
                if globbed != aare::escape(path) {
                    push_alt(
                        &mut alts,
                        &rule,
                        exec_rule(&globbed, preselect),
                        "glob last component",
                    );
                }
                (rule, alts, modes, format!("exec of {path}"))
            }
            Need::Other { text, class } => {
                let rule = format!("{},", first_other(class, text));
                let mut alts = Vec::new();
                // the literal rules merged here (as aa-logprof writes them), then narrower ones
                for lit in d.literals.keys() {
                    push_alt(&mut alts, &rule, format!("{lit},"), "literal, as logged");
                }
                if *class == "network" {
                    for lit in d.literals.keys() {
                        if let Some(n) = network_with_access(lit) {
                            push_alt(
                                &mut alts,
                                &rule,
                                n,
                                "narrower: this access only (AppArmor 4 parser)",
                            );
                        }
                    }
                }
                let what = if d.literals.len() > 1 {
                    format!("{text} and {} similar", d.literals.len() - 1)
                } else {
                    text.clone()
                };
                (rule, alts, Vec::new(), what)
            }
        };
        Proposal {
            id,
            profile,
            rule,
            source: Source::Drafter,
            claimed_evidence: ids.clone(),
            alternatives,
            rationale: Some(format!(
                "rule for {what}, seen in {} event{plural} ({})",
                d.events,
                ids.join(", ")
            )),
            exec_modes,
        }
    }

    fn file_alternatives(
        &self,
        path: &str,
        owner: bool,
        perms: FilePerms,
        first: &str,
    ) -> Vec<Alternative> {
        let p = perms.to_string();
        let esc = aare::escape(path);
        let mut alts = Vec::new();
        let g = aare::glob_path(&esc);
        push_alt(
            &mut alts,
            first,
            file_rule(owner, &g, &p),
            "glob last component",
        );
        let ge = aare::glob_path_withext(&esc);
        push_alt(
            &mut alts,
            first,
            file_rule(owner, &ge, &p),
            "glob with extension",
        );
        for dir in climb(&esc) {
            push_alt(
                &mut alts,
                first,
                file_rule(owner, &format!("{dir}**"), &p),
                "climb to /**",
            );
        }
        for v in variable_forms(&esc) {
            push_alt(&mut alts, first, file_rule(owner, &v, &p), "variable form");
        }
        for r in self.globs.rewrite(path) {
            push_alt(
                &mut alts,
                first,
                file_rule(owner, &r, &p),
                "logprof.conf [globs]",
            );
        }
        for a in &self.abstractions {
            if a.covers(path, perms, owner) {
                push_alt(
                    &mut alts,
                    first,
                    format!("include <{}>", a.name),
                    "abstraction already covers it",
                );
            }
        }
        alts
    }
}

/// What rules merge on: file rules on their first choice's (path, owner), exec rules on the
/// path, others on their first choice's text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum MergeKey {
    File(String, bool),
    Exec(String),
    Other(String),
}

fn file_rule(owner: bool, path: &str, perms: &str) -> String {
    let o = if owner { "owner " } else { "" };
    format!("{o}{} {perms},", rules::quote(path))
}

/// An exec rule as the utils write it: inherit gets `mr` too.
pub fn exec_rule(path: &str, mode: &str) -> String {
    let extra = if mode.contains('i') { "mr" } else { "" };
    format!("{} {extra}{mode},", rules::quote(path))
}

fn push_alt(alts: &mut Vec<Alternative>, first: &str, rule: String, why: &str) {
    if rule != first && !alts.iter().any(|a| a.rule == rule) {
        alts.push(Alternative {
            rule,
            why: why.to_string(),
        });
    }
}

/// Parent directories to climb to (as `dir/`), nearest first, at most two, never `/`.
fn climb(path: &str) -> Vec<String> {
    let trimmed = path.trim_end_matches('/');
    let mut out = Vec::new();
    let mut cur = trimmed;
    while let Some(i) = cur.rfind('/') {
        cur = &cur[..i];
        // keep at least two components: never climb to /** or /top/**
        if cur.matches('/').count() < 2 || out.len() == 2 {
            break;
        }
        out.push(format!("{cur}/"));
    }
    out
}

/// The variables a loaded policy defines, for the drafter: the loader's stand-ins for the
/// standard tunables only when the main file includes something from `tunables/`.
pub fn defined_variables(policy: &crate::profile::LoadedPolicy) -> BTreeMap<String, Vec<String>> {
    let mut vars = policy.variables.clone();
    let includes_tunables = policy.file.nodes.iter().any(|n| {
        matches!(&n.kind, crate::profile::cst::NodeKind::Statement(t)
            if t.contains("include") && t.contains("tunables/"))
    });
    if !includes_tunables {
        for (k, v) in crate::profile::resolve::DEFAULT_TUNABLES {
            let same = vars
                .get(*k)
                .is_some_and(|have| have.iter().map(String::as_str).eq(v.iter().copied()));
            if same {
                vars.remove(*k);
            }
        }
    }
    vars
}

/// The first two components of an absolute path (`/var/lib`), when it has a third and both
/// are literal.
fn top_dir(path: &str) -> Option<String> {
    let mut it = path.strip_prefix('/')?.split('/');
    let (a, b) = (it.next()?, it.next()?);
    it.next()?;
    let literal = |c: &str| !c.is_empty() && !c.contains(['*', '?', '[', '{', '@', '\\']);
    (literal(a) && literal(b)).then(|| format!("/{a}/{b}"))
}

/// The literal path(s) of a file draft: one path escaped, several as `{a,b,…}` (at most
/// eight, none holding a comma), else none.
fn literal_path(literals: &BTreeMap<String, bool>) -> Option<String> {
    match literals.len() {
        0 => None,
        1 => literals.keys().next().map(|p| aare::escape(p)),
        n if n <= 8 && !literals.keys().any(|p| p.contains(',')) => Some(format!(
            "{{{}}}",
            literals
                .keys()
                .map(|p| aare::escape(p))
                .collect::<Vec<_>>()
                .join(",")
        )),
        _ => None,
    }
}

/// The first choice of a non-file rule: what a rule can express without pinning what
/// changes between runs. Network rules lose addresses, ports and the access list
/// (`network inet stream,`, which every ABI accepts); others are kept as logged.
pub fn first_other(class: &str, text: &str) -> String {
    if class != "network" {
        return text.to_string();
    }
    let words: Vec<&str> = text
        .split(' ')
        .filter(|w| !w.is_empty())
        .take_while(|w| !w.starts_with("ip=") && !w.starts_with("port=") && !w.starts_with("peer="))
        .collect();
    let mut out = vec!["network"];
    let mut in_access = false;
    for w in words.iter().skip(1) {
        if w.starts_with('(') {
            in_access = !w.ends_with(')');
            continue;
        }
        if in_access {
            in_access = !w.ends_with(')');
            continue;
        }
        out.push(w);
    }
    out.join(" ")
}

/// A logged network rule without addresses and ports but with its access list, when it has
/// one (`network (receive) inet stream,`).
fn network_with_access(text: &str) -> Option<String> {
    if !text.contains('(') {
        return None;
    }
    let words: Vec<&str> = text
        .split(' ')
        .take_while(|w| !w.starts_with("ip=") && !w.starts_with("port=") && !w.starts_with("peer="))
        .collect();
    Some(format!("{},", words.join(" ")))
}

fn is_num(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Rewrites with the standard tunables: `@{HOME}`, `@{PROC}/@{pid}`, `@{run}/user/@{uid}`.
pub fn variable_forms(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(rest) = path.strip_prefix("/home/") {
        if let Some((_, tail)) = rest.split_once('/') {
            out.push(format!("@{{HOME}}/{tail}"));
        }
    } else if let Some(tail) = path.strip_prefix("/root/") {
        out.push(format!("@{{HOME}}/{tail}"));
    }
    if let Some(rest) = path.strip_prefix("/proc/") {
        match rest.split_once('/') {
            Some((pid, tail)) if is_num(pid) => out.push(format!("@{{PROC}}/@{{pid}}/{tail}")),
            _ => out.push(format!("@{{PROC}}/{rest}")),
        }
    }
    for run in ["/run/", "/var/run/"] {
        if let Some(rest) = path.strip_prefix(run) {
            if let Some(tail) = rest.strip_prefix("user/") {
                if let Some((uid, t)) = tail.split_once('/') {
                    if is_num(uid) {
                        out.push(format!("@{{run}}/user/@{{uid}}/{t}"));
                        continue;
                    }
                }
            }
            out.push(format!("@{{run}}/{rest}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_forms_use_standard_tunables() {
        assert_eq!(
            variable_forms("/home/al/.config/x"),
            vec!["@{HOME}/.config/x"]
        );
        assert_eq!(variable_forms("/root/.cache/y"), vec!["@{HOME}/.cache/y"]);
        assert_eq!(
            variable_forms("/proc/123/status"),
            vec!["@{PROC}/@{pid}/status"]
        );
        assert_eq!(
            variable_forms("/proc/sys/kernel/x"),
            vec!["@{PROC}/sys/kernel/x"]
        );
        assert_eq!(
            variable_forms("/run/user/1000/bus"),
            vec!["@{run}/user/@{uid}/bus"]
        );
        assert_eq!(variable_forms("/var/run/foo.pid"), vec!["@{run}/foo.pid"]);
        assert!(variable_forms("/etc/hosts").is_empty());
    }

    #[test]
    fn climbs_at_most_two_levels_never_to_the_top() {
        assert_eq!(
            climb("/var/lib/foo/cache/x"),
            vec!["/var/lib/foo/cache/", "/var/lib/foo/"]
        );
        assert_eq!(climb("/etc/hosts"), Vec::<String>::new());
        assert_eq!(climb("/var/lib/x"), vec!["/var/lib/"]);
    }

    #[test]
    fn abstractions_are_offered_when_they_cover_the_access() {
        let a = Abstraction {
            name: "abstractions/nameservice".into(),
            file_rules: vec![(
                aare::Pattern::compile_path("/etc/{hosts,resolv.conf}").expect("compiles"),
                FilePerms::parse_letters("r").expect("perms"),
                false,
            )],
        };
        assert!(a.covers(
            "/etc/hosts",
            FilePerms::parse_letters("r").expect("r"),
            false
        ));
        assert!(!a.covers(
            "/etc/hosts",
            FilePerms::parse_letters("rw").expect("rw"),
            false
        ));
        let d = Drafter::new().with_abstractions(vec![a]);
        let alts = d.file_alternatives(
            "/etc/hosts",
            false,
            FilePerms::parse_letters("r").expect("r"),
            "/etc/hosts r,",
        );
        assert!(
            alts.iter()
                .any(|x| x.rule == "include <abstractions/nameservice>"),
            "{alts:?}"
        );
        assert!(
            alts.iter()
                .any(|x| x.rule == "/etc/* r," && x.why == "glob last component"),
            "{alts:?}"
        );
    }

    #[test]
    fn exec_rules_add_mr_for_inherit() {
        assert_eq!(exec_rule("/usr/bin/rm", "ix"), "/usr/bin/rm mrix,");
        assert_eq!(exec_rule("/usr/bin/rm", "px"), "/usr/bin/rm px,");
    }
}

#[cfg(test)]
mod drafter_tests {
    use super::*;
    use crate::log::group::{group_events, Filter};

    fn line(n: usize, rest: &str) -> String {
        format!(
            "type=AVC msg=audit(1700000000.{n:03}:{n}): apparmor=\"DENIED\" profile=\"demo\" pid=1511 comm=\"demo\" {rest}\n"
        )
    }

    fn file(n: usize, name: &str, mask: &str, fsuid: u32, ouid: u32) -> String {
        line(
            n,
            &format!(
                "operation=\"open\" class=\"file\" name=\"{name}\" requested_mask=\"{mask}\" denied_mask=\"{mask}\" fsuid={fsuid} ouid={ouid}"
            ),
        )
    }

    fn draft(d: &Drafter, log: &str) -> Vec<Proposal> {
        let events: Vec<Event> = log
            .lines()
            .filter_map(|l| crate::log::parse_line(l.as_bytes()).ok().flatten())
            .collect();
        let grouping = group_events(&events, &Filter::default());
        d.draft(&events, &grouping, None)
    }

    fn tunables() -> Drafter {
        Drafter::new().with_variables(crate::check::default_vars())
    }

    #[test]
    fn a_literal_pid_is_never_a_first_choice() {
        let log = [
            file(1, "/proc/1511/stat", "r", 0, 0),
            file(2, "/proc/4242/stat", "r", 0, 0),
        ]
        .concat();
        let props = draft(&tunables(), &log);
        assert_eq!(props.len(), 1, "{props:#?}");
        assert_eq!(props[0].rule, "owner @{PROC}/@{pid}/stat r,");
        assert_eq!(props[0].claimed_evidence.len(), 2);
        // the literal rule is one keypress away: the first alternative
        assert_eq!(
            props[0].alternatives[0].rule,
            "owner \"{/proc/1511/stat,/proc/4242/stat}\" r,"
        );
        let plain = draft(&Drafter::new(), &log);
        assert_eq!(plain[0].rule, "owner /proc/[0-9]*/stat r,");
    }

    #[test]
    fn user_names_and_dates_merge_into_one_rule() {
        let log = [
            file(1, "/home/alice/.config/foo/x.conf", "r", 1000, 1000),
            file(2, "/home/bob/.config/foo/x.conf", "r", 1001, 1001),
            file(3, "/var/log/foo/2026-06-16.log", "w", 0, 0),
            file(4, "/var/log/foo/2026-06-17.log", "w", 0, 0),
        ]
        .concat();
        let props = draft(&tunables(), &log);
        let rules: Vec<&str> = props.iter().map(|p| p.rule.as_str()).collect();
        assert_eq!(
            rules,
            vec![
                "owner @{HOME}/.config/foo/x.conf r,",
                "/var/log/foo/[0-9]*-[0-9]*-[0-9]*.log w,"
            ]
        );
        // owner dropped on a system file (fsuid = ouid = 0), offered as narrower
        assert!(props[1]
            .alternatives
            .iter()
            .any(|a| a.rule == "owner /var/log/foo/[0-9]*-[0-9]*-[0-9]*.log w,"));
    }

    #[test]
    fn owner_only_where_maintainers_use_it() {
        let log = [
            file(1, "/var/lib/my-service/cache.db", "wk", 0, 0),
            file(2, "/tmp/foo-abc123", "rw", 1000, 1000),
            file(3, "/tmp/bar", "r", 0, 1000),
        ]
        .concat();
        let props = draft(&tunables(), &log);
        let mut rules: Vec<&str> = props.iter().map(|p| p.rule.as_str()).collect();
        rules.sort_unstable();
        assert_eq!(
            rules,
            vec![
                "/tmp/bar r,",
                "/var/lib/my-service/cache.db wk,",
                "owner /tmp/foo-?????? rw,",
            ]
        );
        let db = props
            .iter()
            .find(|p| p.rule.starts_with("/var/lib"))
            .expect("cache.db proposal");
        assert_eq!(
            db.alternatives[0].rule,
            "owner /var/lib/my-service/cache.db wk,"
        );
    }

    #[test]
    fn tunables_stand_ins_count_only_when_the_profile_includes_tunables() {
        let load = |text: &str| {
            crate::profile::Loader::new(
                std::path::Path::new("/nonexistent"),
                crate::profile::IncludeMode::Lenient,
            )
            .load_str("t", text)
            .expect("loads")
        };
        let with = load("include <tunables/global>\nprofile t {\n  /etc/x r,\n}\n");
        let without = load("@{WWW}=/srv/www\nprofile t {\n  /etc/x r,\n}\n");
        let log = file(1, "/proc/1511/stat", "r", 0, 0);
        let first = |p: &crate::profile::LoadedPolicy| {
            draft(&Drafter::new().with_policy(p), &log)[0].rule.clone()
        };
        assert_eq!(first(&with), "owner @{PROC}/@{pid}/stat r,");
        assert_eq!(first(&without), "owner /proc/[0-9]*/stat r,");
        assert!(defined_variables(&without).contains_key("WWW"));
    }

    #[test]
    fn owner_follows_the_profiles_style_under_its_own_directories() {
        let log = [
            file(1, "/var/lib/my-service/cache.db", "wk", 998, 998),
            file(2, "/run/my-service.pid", "w", 0, 0),
        ]
        .concat();
        let d = tunables().with_owner_dirs(["/var/lib".to_string()]);
        let mut rules: Vec<String> = draft(&d, &log).into_iter().map(|p| p.rule).collect();
        rules.sort_unstable();
        assert_eq!(
            rules,
            vec![
                "@{run}/my-service.pid w,".to_string(),
                "owner /var/lib/my-service/cache.db wk,".to_string()
            ]
        );
    }

    #[test]
    fn network_first_choice_pins_no_address_or_port() {
        let net = |n: usize, port: u32| {
            line(
                n,
                &format!(
                    "operation=\"recvmsg\" family=\"inet6\" sock_type=\"stream\" protocol=6 requested_mask=\"receive\" denied_mask=\"receive\" laddr=2001:db8::1 lport=443 faddr=2001:db8::9 fport={port}"
                ),
            )
        };
        let log = [net(1, 51514), net(2, 51515), net(3, 40001)].concat();
        let props = draft(&Drafter::new(), &log);
        assert_eq!(props.len(), 1, "{props:#?}");
        assert_eq!(props[0].rule, "network inet6 stream,");
        assert_eq!(
            props[0].claimed_evidence.len(),
            props[0].claimed_evidence.len()
        );
        assert!(props[0]
            .alternatives
            .iter()
            .any(|a| a.rule == "network (receive) inet6 stream,"));
        assert!(props[0]
            .alternatives
            .iter()
            .any(|a| a.rule.contains("port=51514") && a.why.starts_with("literal")));
    }
}
