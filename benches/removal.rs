//! Judgement benchmark: remove a rule from a real profile, replay what it allowed, draft.
//!
//! Run: `nice -n 10 cargo bench --bench removal` (corpus from `$AA_CORPUS_DIR`, default
//! `../shared/corpus`). Figures go to BENCHMARKS.md, section "Judgement: remove-a-rule".
//!
//! For each sampled top-level profile of `profiles/upstream` and `profiles/apparmor.d-collection`
//! (loaded with its includes and tunables by the library's `Loader`, lenient, apparmor.d on top
//! of upstream as in `benches/profile.rs`), up to `REMOVAL_RULES` allow file rules written in
//! that file are removed, one at a time. For each:
//!
//! 1. The rule's path is instantiated into concrete paths (`aare::sample`), `INSTANCES` times
//!    for the log the drafter sees, then once more for a *fresh* instance (the next run). What
//!    changes between instances: `@{pid}`/`@{tid}` (a pid), the user (`@{HOME}` →
//!    `/home/alice/`, `/home/bob/`, …, `@{user}`, `@{uid}`), the date, and every `*`, `**`,
//!    `?` and character class (names, ids, `@{int}`/`@{hex}` digits). What stays (the same
//!    machine): which `{a,b}` alternative and which value of a multi-valued variable.
//!    Rules whose path cannot be instantiated (bare `file,`, a first component that is a glob
//!    such as `/**`, an undefined variable) are skipped and counted.
//! 2. Complain-mode (`apparmor="ALLOWED"`) AVC lines in auditd's text format, one per kind of
//!    access the rule allows (`r` open, `w` open or mkdir, `a` open, `k` file_lock, `l` link,
//!    `m` file_mmap, `x` exec), `profile=` the profile's log name, `fsuid` the instance user's
//!    uid, `ouid` the same for `owner` rules and 0 otherwise. They are read back with the
//!    library's `Reader` (a trusted channel, like the audit log).
//! 3. Sanity: the unmodified profile must allow every synthesised event (else the removal is
//!    counted as a synthesis miss and skipped); the profile without the rule must lack at
//!    least one (else the rule is redundant there: skipped and counted).
//! 4. The `tune` pipeline on the profile without the rule (`draft_like_tune`, kept in step with
//!    `src/cmd/tune/pipeline.rs`): groups not covered by the profile → `Drafter` → `Checker`.
//! 5. Measures: first choice equal to the removed rule (strict: same qualifiers, path text,
//!    permission set, exec mode and target after parsing both, so whitespace, qualifier and
//!    permission order, quotes and the trailing comma do not matter; equivalent: same owner
//!    flag and permissions and the same matches on a sample universe of paths — instances of
//!    the removed rule, their parents, siblings, children and one-component substitutions,
//!    plus the built-in sensitive-path catalogue); some choice (first or an alternative)
//!    equal; coverage of the fresh instance's events, among those the profile without the rule
//!    does not allow, by the profile plus every first choice not `blocked`; breadth: a first
//!    choice matching a universe path the removed rule does not, or granting more (permissions,
//!    owner dropped), with or without the cross-check saying so (a finding or a verdict other
//!    than `ok`).
//!
//! Then: drafting and cross-checking about 1,000 groups (the drafted-from events of the first
//! upstream removals, in one log) with the upstream abstractions loaded, timed; and, for each
//! scenario in `examples/`, the proposals `aa-assist tune --dry-run --json` makes against the
//! rules of its converged profile (from the scenario's README), and the proposals a second,
//! simulated run (other pids, dates and temporary names) still makes once the first run's
//! non-blocked first choices are in the profile.
//!
//! Knobs (environment): `REMOVAL_EVERY_UPSTREAM` (every Nth top-level file of upstream,
//! default 1), `REMOVAL_EVERY_APPARMOR_D` (default 5), `REMOVAL_RULES` (rules per profile
//! file, evenly spread, default 4), `INSTANCES` (default 3), `REMOVAL_DUMP=FILE` (one JSON line
//! per removal, for reading the misses), `REMOVAL_ABSTRACTIONS=1` (give the drafter the tree's
//! abstractions in step 4 too; `tune` does not yet).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use aa_assist::aare::sample::{instance, Seeds};
use aa_assist::aare::{filter_slashes, Pattern, PatternSet};
use aa_assist::check::coverage::{self, Status};
use aa_assist::check::{
    default_vars, group_evidence, sensitive, CheckOptions, Checked, Checker, Universe, Verdict,
};
use aa_assist::draft::{Abstraction, Drafter, Globs, Proposal};
use aa_assist::log::group::{group_events, Filter, Grouping};
use aa_assist::log::{Event, Reader};
use aa_assist::profile::resolve::{expand_with, EffectiveRule};
use aa_assist::profile::rule::{FileRule, Statement};
use aa_assist::profile::{
    parse_one, EffectiveProfile, IncludeMode, LoadedPolicy, Loader, ProfileFile, Rule, RuleKind,
};

#[path = "../tests/common/files.rs"]
mod tree;

type Vars = BTreeMap<String, Vec<String>>;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn hash(s: &str) -> u64 {
    // FNV-1a: stable across runs and versions (std's hasher is not).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

// ---------------------------------------------------------------------------------------
// Instances and events

/// The user and process of one instance (one run of the service).
struct Inst {
    user: String,
    uid: u32,
    pid: u32,
    epoch: i64,
}

fn inst(k: usize) -> Inst {
    const USERS: &[&str] = &["alice", "bob", "carol", "dave", "erin", "frank", "grace"];
    let user = USERS
        .get(k)
        .map_or_else(|| format!("user{k}"), |u| u.to_string());
    Inst {
        user,
        uid: 1000 + k as u32,
        pid: [1423, 2871, 3310, 4127, 5093, 6221, 7345]
            .get(k)
            .copied()
            .unwrap_or(8000 + k as u32),
        // 2026-12-01 09:00 UTC, one day per instance
        epoch: 1_796_115_600 + k as i64 * 86_400,
    }
}

/// The variables of one instance: the profile's (over the built-in defaults) with the run's
/// user, uid and pid.
fn inst_vars(base: &Vars, i: &Inst) -> Vars {
    let mut v = base.clone();
    let one = |s: String| vec![s];
    v.insert("HOME".into(), one(format!("/home/{}/", i.user)));
    v.insert("user".into(), one(i.user.clone()));
    for n in ["uid", "uids"] {
        v.insert(n.into(), one(i.uid.to_string()));
    }
    for n in ["pid", "pids", "tid"] {
        v.insert(n.into(), one(i.pid.to_string()));
    }
    v
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Skip {
    BareOrPureGlob,
    Undefined,
    Mismatch,
    NoAccess,
    SynthNotAllowed,
    StillCovered,
    RemoveFailed,
}

/// The pattern chosen for this rule (the same for every instance: the same machine), and one
/// concrete path of it for instance `k`.
fn instantiate(
    path: &str,
    vars: &Vars,
    local: &[(String, Vec<String>)],
    rule_seed: u64,
    k: u64,
) -> Result<(String, String), Skip> {
    let pats = expand_with(path, vars, local).map_err(|_| Skip::Undefined)?;
    if pats.is_empty() {
        return Err(Skip::Undefined);
    }
    // The first value of each variable (tunables list the usual one first: `/run/` before
    // `/var/run/`).
    let pat = filter_slashes(&pats[0]);
    let first = pat.trim_start_matches('/').split('/').next().unwrap_or("");
    if !pat.starts_with('/') || first.is_empty() || first.contains(['*', '?', '[']) {
        return Err(Skip::BareOrPureGlob);
    }
    let seeds = Seeds {
        alternatives: rule_seed,
        names: rule_seed ^ (k + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15),
    };
    let p = instance(&pat, seeds).map_err(|_| Skip::Undefined)?;
    match Pattern::compile_path(&pat) {
        Ok(c) if c.is_match(&p) => Ok((pat, p)),
        _ => Err(Skip::Mismatch),
    }
}

/// A value as the kernel writes it: quoted, or hex when it holds a space, a quote or a byte
/// outside 0x21–0x7e.
fn kernel_value(s: &str) -> String {
    if s.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'"') {
        format!("\"{s}\"")
    } else {
        s.bytes().map(|b| format!("{b:02X}")).collect()
    }
}

/// The accesses a rule's permissions allow, as (operation, mask) pairs of one event each.
fn accesses(f: &FileRule, dir: bool) -> Vec<(&'static str, &'static str)> {
    let p = &f.perms;
    let mut out = Vec::new();
    if p.read {
        out.push(("open", "r"));
    }
    if p.write {
        out.push(if dir { ("mkdir", "c") } else { ("open", "w") });
    }
    if p.append && !p.write {
        out.push(("open", "a"));
    }
    if p.lock {
        out.push(("file_lock", "k"));
    }
    if p.link {
        out.push(("link", "l"));
    }
    if p.mmap {
        out.push(("file_mmap", "m"));
    }
    if p.exec.is_some() {
        out.push(("exec", "x"));
    }
    out
}

/// The AVC lines of one instance of a rule.
#[allow(clippy::too_many_arguments)]
fn lines(
    out: &mut String,
    serial: &mut u64,
    profile: &str,
    path: &str,
    f: &FileRule,
    owner: bool,
    i: &Inst,
) -> usize {
    let dir = path.ends_with('/');
    let mut n = 0;
    for (op, mask) in accesses(f, dir) {
        *serial += 1;
        let ms = *serial % 1000;
        let ouid = if owner { i.uid } else { 0 };
        let mut l = format!(
            "type=AVC msg=audit({}.{ms:03}:{serial}): apparmor=\"ALLOWED\" operation=\"{op}\" class=\"file\" profile={} name={} pid={} comm=\"svc\" requested_mask=\"{mask}\" denied_mask=\"{mask}\" fsuid={} ouid={ouid}",
            i.epoch + (*serial as i64 % 3600),
            kernel_value(profile),
            kernel_value(path),
            i.pid,
            i.uid,
        );
        if op == "exec" {
            l.push_str(&format!(
                " target={}",
                kernel_value(&format!("{profile}//null-{path}"))
            ));
        } else if op == "link" {
            l.push_str(&format!(" target={}", kernel_value("/tmp/link-source")));
        }
        l.push('\n');
        out.push_str(&l);
        n += 1;
    }
    n
}

fn read_events(text: &str) -> Vec<Event> {
    let reader = Reader::new(
        std::io::Cursor::new(text.as_bytes().to_vec()),
        "removal.log",
    )
    .trusted_channel(true);
    reader.filter_map(Result::ok).collect()
}

// ---------------------------------------------------------------------------------------
// Comparing rules

/// A file rule modulo formatting: qualifiers, path text, permission set, exec mode, target.
fn norm(r: &Rule) -> Option<String> {
    let RuleKind::File(f) = &r.kind else {
        return None;
    };
    let q = &r.qualifiers;
    let p = &f.perms;
    let letters: String = [
        (p.read, 'r'),
        (p.write, 'w'),
        (p.append, 'a'),
        (p.lock, 'k'),
        (p.link, 'l'),
        (p.mmap, 'm'),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, c)| *c)
    .collect();
    Some(format!(
        "{}{}{}{}|{}|{letters}|{:?}|{:?}",
        if q.audit { "audit " } else { "" },
        if q.deny { "deny " } else { "" },
        if q.owner { "owner " } else { "" },
        if q.other { "other " } else { "" },
        f.path.as_deref().unwrap_or(""),
        p.exec,
        f.target,
    ))
}

fn parse_rule(text: &str) -> Option<Rule> {
    let t = text.trim();
    let owned;
    let t = if t.ends_with(',') {
        t
    } else {
        owned = format!("{t},");
        owned.as_str()
    };
    match parse_one(t) {
        Ok(Statement::Rule(r)) => Some(r),
        _ => None,
    }
}

/// What a candidate grants, as file rules: (patterns, permission letters, owner).
struct Grants(Vec<(PatternSet, BTreeSet<char>, bool)>);

fn letters(p: &aa_assist::profile::rule::FilePerms) -> BTreeSet<char> {
    [
        (p.read, 'r'),
        (p.write, 'w'),
        (p.append || p.write, 'a'),
        (p.lock, 'k'),
        (p.link, 'l'),
        (p.mmap, 'm'),
        (p.exec.is_some(), 'x'),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, c)| *c)
    .collect()
}

impl Grants {
    fn of_file_rule(
        r: &Rule,
        vars: &Vars,
        local: &[(String, Vec<String>)],
    ) -> Option<(PatternSet, BTreeSet<char>, bool)> {
        let RuleKind::File(f) = &r.kind else {
            return None;
        };
        if r.qualifiers.deny {
            return None;
        }
        let pats = match &f.path {
            Some(p) => expand_with(p, vars, local).ok()?,
            None => vec!["/{**,}".to_string()],
        };
        let set = PatternSet::new(pats.iter().map(|p| filter_slashes(p))).ok()?;
        Some((set, letters(&f.perms), r.qualifiers.owner))
    }

    /// The file grants of a candidate rule text: a file rule directly, anything else (an
    /// include) through a wrapper profile loaded with the same loader.
    fn of_text(
        text: &str,
        vars: &Vars,
        local: &[(String, Vec<String>)],
        loader: &mut Loader,
    ) -> Grants {
        if let Some(r) = parse_rule(text) {
            return Grants(Grants::of_file_rule(&r, vars, local).into_iter().collect());
        }
        let wrapped = format!("profile aa-bench-candidate {{\n  {text}\n}}\n");
        let Ok(policy) = loader.load_str("<candidate>", &wrapped) else {
            return Grants(Vec::new());
        };
        let mut out = Vec::new();
        for p in &policy.profiles {
            for r in &p.rules {
                out.extend(Grants::of_file_rule(&r.rule, vars, local));
            }
        }
        Grants(out)
    }

    fn allows(&self, path: &str) -> Option<(BTreeSet<char>, bool)> {
        let mut perms = BTreeSet::new();
        let mut any_owner_free = false;
        let mut any = false;
        for (set, l, owner) in &self.0 {
            if set.is_match(path) {
                any = true;
                perms.extend(l.iter().copied());
                any_owner_free |= !owner;
            }
        }
        any.then_some((perms, !any_owner_free))
    }
}

/// How a candidate compares with the removed rule on the universe.
#[derive(Default, Debug, Clone, Copy)]
struct Cmp {
    broader: bool,
    narrower: bool,
}

fn compare(removed: &Grants, cand: &Grants, universe: &BTreeSet<String>) -> Cmp {
    let mut c = Cmp::default();
    for u in universe {
        match (removed.allows(u), cand.allows(u)) {
            (Some(_), None) => c.narrower = true,
            (None, Some(_)) => c.broader = true,
            (Some((rp, ro)), Some((cp, co))) => {
                if !cp.is_subset(&rp) || (ro && !co) {
                    c.broader = true;
                }
                if !rp.is_subset(&cp) || (!ro && co) {
                    c.narrower = true;
                }
            }
            (None, None) => {}
        }
    }
    c
}

/// Parents, children, siblings and one-component substitutions of each path.
fn neighbours(paths: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for p in paths {
        let dir = p.ends_with('/');
        let t = p.trim_end_matches('/');
        let comps: Vec<&str> = t.split('/').collect();
        out.insert(format!("{t}/zz-child"));
        out.insert(format!("{t}/zz-child/"));
        if let Some((parent, _)) = t.rsplit_once('/') {
            if !parent.is_empty() {
                out.insert(format!("{parent}/"));
            }
            out.insert(format!("{parent}/zz-other{}", if dir { "/" } else { "" }));
            out.insert(format!("{parent}/zz-other.conf"));
        }
        for i in 1..comps.len() {
            let mut c = comps.clone();
            c[i] = "zz";
            out.insert(format!("{}{}", c.join("/"), if dir { "/" } else { "" }));
        }
        if let Some(rest) = t.strip_prefix("/home/") {
            if let Some((_, tail)) = rest.split_once('/') {
                out.insert(format!("/root/{tail}{}", if dir { "/" } else { "" }));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The pipeline, as `tune` runs it

struct Drafted {
    checked: Vec<Checked>,
    uncovered: usize,
}

/// `tune`'s pipeline after reading the log: groups the profile does not cover → drafter →
/// cross-check. Keep in step with `src/cmd/tune/pipeline.rs::plan`.
fn draft_like_tune(
    events: &[Event],
    policy: &LoadedPolicy,
    include: (PathBuf, Vec<PathBuf>),
    globs: &Globs,
    abstractions: &[Abstraction],
) -> (Drafted, Grouping) {
    let names = profile_names(policy);
    let grouping = group_events(events, &Filter::default());
    let mut vars = default_vars();
    vars.extend(policy.variables.clone());
    let options = CheckOptions {
        trust_userspace: false,
        vars,
        include: Some(include),
    };
    let checker = Checker::new(events, &grouping, Universe::builtin(), options);
    let only: BTreeSet<String> = coverage::statuses(policy, checker.groups())
        .into_iter()
        .filter(|s| matches!(s.status, Status::Missing))
        .map(|s| s.group)
        .collect();
    // As `tune` does (src/cmd/tune/pipeline.rs): the profile's variables and style too.
    let mut drafter = Drafter::new()
        .with_globs(globs.clone())
        .with_known_profiles(names.iter().cloned())
        .with_policy(policy);
    if !abstractions.is_empty() {
        drafter = drafter.with_abstractions(abstractions.to_vec());
    }
    let proposals = drafter.draft(events, &grouping, Some(&only));
    let checked = checker.check_all(&proposals);
    (
        Drafted {
            checked,
            uncovered: only.len(),
        },
        grouping,
    )
}

fn profile_names(policy: &LoadedPolicy) -> BTreeSet<String> {
    policy
        .profiles
        .iter()
        .map(coverage::profile_log_name)
        .collect()
}

/// Ids of the groups of `evidence` that `policy` leaves missing.
fn missing(policy: &LoadedPolicy, events: &[Event]) -> (BTreeSet<String>, usize) {
    let grouping = group_events(events, &Filter::default());
    let ev = group_evidence(events, &grouping);
    let st = coverage::statuses(policy, &ev);
    let judged = st
        .iter()
        .filter(|s| !matches!(s.status, Status::NotJudged))
        .count();
    (
        st.into_iter()
            .filter(|s| matches!(s.status, Status::Missing))
            .map(|s| s.group)
            .collect(),
        judged,
    )
}

// ---------------------------------------------------------------------------------------
// One removal

#[derive(Default, Debug, Clone)]
struct Tally {
    profiles: usize,
    rules_seen: usize,
    skipped: BTreeMap<String, usize>,
    measured: usize,
    first_strict: usize,
    first_equiv: usize,
    any_strict: usize,
    any_equiv: usize,
    fresh_needed: usize,
    fresh_covered: usize,
    fresh_full: usize,
    broader: usize,
    broader_unflagged: usize,
    narrower: usize,
    proposals: usize,
    blocked_first: usize,
    exec_rules: usize,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.profiles += o.profiles;
        self.rules_seen += o.rules_seen;
        for (k, v) in &o.skipped {
            *self.skipped.entry(k.clone()).or_default() += v;
        }
        self.measured += o.measured;
        self.first_strict += o.first_strict;
        self.first_equiv += o.first_equiv;
        self.any_strict += o.any_strict;
        self.any_equiv += o.any_equiv;
        self.fresh_needed += o.fresh_needed;
        self.fresh_covered += o.fresh_covered;
        self.fresh_full += o.fresh_full;
        self.broader += o.broader;
        self.broader_unflagged += o.broader_unflagged;
        self.narrower += o.narrower;
        self.proposals += o.proposals;
        self.blocked_first += o.blocked_first;
        self.exec_rules += o.exec_rules;
    }
}

struct Tree<'a> {
    name: &'static str,
    root: PathBuf,
    base: PathBuf,
    extra: Vec<PathBuf>,
    loader: Loader,
    globs: &'a Globs,
    abstractions: Vec<Abstraction>,
    instances: usize,
    dump: Option<std::fs::File>,
    /// Drafting logs of the removals measured so far (for the 1,000-group timing).
    logs: Vec<String>,
}

/// The byte offset of a 1-based line and character column.
fn offset(text: &str, line: u32, col: u32) -> Option<usize> {
    let mut start = 0usize;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let rest = &text[start..];
    let by = rest
        .char_indices()
        .nth(col.saturating_sub(1) as usize)
        .map_or(rest.len(), |(i, _)| i);
    Some(start + by)
}

impl Tree<'_> {
    fn skip(&mut self, t: &mut Tally, why: Skip, file: &str, rule: &str) {
        *t.skipped.entry(format!("{why:?}")).or_default() += 1;
        if let Some(d) = &mut self.dump {
            let j = serde_json::json!({"tree": self.name, "file": file, "rule": rule, "skip": format!("{why:?}")});
            let _ = writeln!(d, "{j}");
        }
    }

    #[allow(clippy::too_many_lines)]
    fn removal(
        &mut self,
        kinds: &mut Kinds,
        file: &str,
        text: &str,
        policy: &LoadedPolicy,
        prof: &EffectiveProfile,
        r: &EffectiveRule,
    ) {
        let rule_text = r.text.trim().to_string();
        let RuleKind::File(f) = &r.rule.kind else {
            return;
        };
        let t = if f.perms.exec.is_some() {
            &mut kinds.exec
        } else {
            &mut kinds.file
        };
        t.rules_seen += 1;
        let Some(path) = f.path.as_deref() else {
            return self.skip(t, Skip::BareOrPureGlob, file, &rule_text);
        };
        if accesses(f, false).is_empty() {
            return self.skip(t, Skip::NoAccess, file, &rule_text);
        }
        let mut base = default_vars();
        base.extend(policy.variables.clone());
        let local = prof.auto_vars();
        let seed = hash(&format!("{file}\n{rule_text}"));
        let log_name = coverage::profile_log_name(prof);
        let owner = r.rule.qualifiers.owner;

        // Instances: 0..n for the drafter, n the fresh one; a few more for the universe.
        let mut draft_log = String::new();
        let mut fresh_log = String::new();
        let mut serial = 100u64;
        let mut samples = BTreeSet::new();
        for k in 0..=self.instances {
            let i = inst(k);
            let vars = inst_vars(&base, &i);
            let (_, p) = match instantiate(path, &vars, &local, seed, k as u64) {
                Ok(x) => x,
                Err(e) => return self.skip(t, e, file, &rule_text),
            };
            samples.insert(p.clone());
            let out = if k < self.instances {
                &mut draft_log
            } else {
                &mut fresh_log
            };
            lines(out, &mut serial, &log_name, &p, f, owner, &i);
        }
        for j in 0..6u64 {
            let i = inst(10 + j as usize);
            let vars = inst_vars(&base, &i);
            if let Ok((_, p)) = instantiate(path, &vars, &local, seed.wrapping_add(j + 1), 50 + j) {
                samples.insert(p);
            }
        }
        let events = read_events(&draft_log);
        let fresh = read_events(&fresh_log);

        // The unmodified profile must allow everything synthesised.
        let both: Vec<Event> = events.iter().chain(&fresh).cloned().collect();
        if !missing(policy, &both).0.is_empty() {
            return self.skip(t, Skip::SynthNotAllowed, file, &rule_text);
        }
        // Remove the rule's text.
        let Some(off) = offset(text, r.pos.line, r.pos.col).filter(|o| {
            text.get(*o..)
                .is_some_and(|rest| rest.starts_with(r.text.as_str()))
        }) else {
            return self.skip(t, Skip::RemoveFailed, file, &rule_text);
        };
        let removed_text = format!("{}{}", &text[..off], &text[off + r.text.len()..]);
        let Ok(removed) = self.loader.load_str(file, &removed_text) else {
            return self.skip(t, Skip::RemoveFailed, file, &rule_text);
        };
        let include = (self.base.clone(), self.extra.clone());
        let (drafted, _) =
            draft_like_tune(&events, &removed, include, self.globs, &self.abstractions);
        if drafted.uncovered == 0 {
            return self.skip(t, Skip::StillCovered, file, &rule_text);
        }
        self.logs.push(draft_log);
        t.measured += 1;
        if f.perms.exec.is_some() {
            t.exec_rules += 1;
        }
        t.proposals += drafted.checked.len();

        // Compare.
        let want = norm(&r.rule);
        let mut universe: BTreeSet<String> = neighbours(&samples);
        universe.extend(samples.iter().cloned());
        universe.extend(sensitive::catalogue_paths().map(str::to_string));
        let removed_grants = Grants(
            Grants::of_file_rule(&r.rule, &base, &local)
                .into_iter()
                .collect(),
        );
        let strict = |text: &str| parse_rule(text).and_then(|x| norm(&x)) == want;
        let mut equiv_memo: BTreeMap<String, Cmp> = BTreeMap::new();
        let mut cmp_of = |text: &str, loader: &mut Loader| -> Cmp {
            if let Some(c) = equiv_memo.get(text) {
                return *c;
            }
            let g = Grants::of_text(text, &base, &local, loader);
            let c = if g.0.is_empty() {
                Cmp {
                    broader: false,
                    narrower: true,
                }
            } else {
                compare(&removed_grants, &g, &universe)
            };
            equiv_memo.insert(text.to_string(), c);
            c
        };
        let firsts: BTreeSet<&str> = drafted
            .checked
            .iter()
            .map(|c| c.proposal.rule.as_str())
            .collect();
        let first_strict = !firsts.is_empty() && firsts.iter().all(|x| strict(x));
        let mut first_equiv = !firsts.is_empty();
        let mut broader = false;
        let mut broader_unflagged = false;
        let mut narrower = false;
        for c in &drafted.checked {
            let cmp = cmp_of(&c.proposal.rule, &mut self.loader);
            first_equiv &= !cmp.broader && !cmp.narrower;
            narrower |= cmp.narrower;
            if cmp.broader {
                broader = true;
                if c.verdict == Verdict::Ok && c.findings.is_empty() {
                    broader_unflagged = true;
                }
            }
        }
        let mut any_strict = false;
        let mut any_equiv = false;
        for c in &drafted.checked {
            let choices = std::iter::once(c.proposal.rule.as_str())
                .chain(c.proposal.alternatives.iter().map(|a| a.rule.as_str()));
            for ch in choices {
                any_strict |= strict(ch);
                let cmp = cmp_of(ch, &mut self.loader);
                any_equiv |= !cmp.broader && !cmp.narrower;
            }
        }
        t.first_strict += usize::from(first_strict);
        t.first_equiv += usize::from(first_equiv);
        t.any_strict += usize::from(any_strict);
        t.any_equiv += usize::from(any_equiv);
        t.broader += usize::from(broader);
        t.broader_unflagged += usize::from(broader_unflagged);
        t.narrower += usize::from(narrower);

        // Fresh instance: what the profile without the rule lacks, and what the accepted
        // first choices (every one not blocked) cover of it.
        let (need, _) = missing(&removed, &fresh);
        let accepted: Vec<&Checked> = drafted
            .checked
            .iter()
            .filter(|c| c.verdict != Verdict::Blocked)
            .collect();
        t.blocked_first += drafted.checked.len() - accepted.len();
        let mut covered = 0;
        if !need.is_empty() {
            let mut with = removed_text.clone();
            if let Ok(mut tree) = ProfileFile::parse(file, &removed_text) {
                for c in &accepted {
                    let path: Vec<&str> = c.proposal.profile.split("//").collect();
                    let hat: Vec<String> = path
                        .iter()
                        .enumerate()
                        .map(|(n, p)| {
                            if n == 0 {
                                p.to_string()
                            } else {
                                format!("^{p}")
                            }
                        })
                        .collect();
                    let hat: Vec<&str> = hat.iter().map(String::as_str).collect();
                    if let Ok(x) = tree.insert_rule(&path, &c.proposal.rule) {
                        with = x;
                    } else if let Ok(x) = tree.insert_rule(&hat, &c.proposal.rule) {
                        with = x;
                    } else if let Ok(x) = tree.insert_rule(&prof_path(prof), &c.proposal.rule) {
                        with = x;
                    }
                }
            }
            if let Ok(after) = self.loader.load_str(file, &with) {
                let (still, _) = missing(&after, &fresh);
                covered = need.iter().filter(|g| !still.contains(*g)).count();
            }
        }
        t.fresh_needed += need.len();
        t.fresh_covered += covered;
        t.fresh_full += usize::from(covered == need.len());

        if let Some(d) = &mut self.dump {
            let j = serde_json::json!({
                "tree": self.name, "file": file, "profile": log_name, "rule": rule_text,
                "first_strict": first_strict, "first_equiv": first_equiv,
                "any_strict": any_strict, "any_equiv": any_equiv,
                "broader": broader, "broader_unflagged": broader_unflagged,
                "fresh_needed": need.len(), "fresh_covered": covered,
                "proposals": drafted.checked.iter().map(|c| serde_json::json!({
                    "rule": c.proposal.rule, "verdict": c.verdict,
                    "alternatives": c.proposal.alternatives.iter().map(|a| &a.rule).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            });
            let _ = writeln!(d, "{j}");
        }
    }
}

/// The name path `insert_rule` finds a profile by (names as written in the headers).
fn prof_path(p: &EffectiveProfile) -> Vec<&str> {
    p.path.iter().map(String::as_str).collect()
}

fn top_level(root: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    tree::files(root, &mut all);
    all.sort();
    all.into_iter()
        .filter(|f| {
            let rel = f.strip_prefix(root).unwrap_or(f);
            let first = rel
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .unwrap_or("");
            !matches!(first, "abstractions" | "tunables" | "abi" | "local")
        })
        .collect()
}

/// Tallies of rules without and with an exec permission.
#[derive(Default)]
struct Kinds {
    file: Tally,
    exec: Tally,
}

fn run_tree(tr: &mut Tree<'_>, every: usize, per_profile: usize) -> Kinds {
    let mut k = Kinds::default();
    let files = top_level(&tr.root);
    for f in files.iter().step_by(every) {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let name = f.display().to_string();
        let Ok(policy) = tr.loader.load_str(&name, &text) else {
            continue;
        };
        // Allow file rules written in this file, in order, with their profile.
        let mut own: Vec<(usize, Arc<EffectiveRule>)> = Vec::new();
        for (pi, p) in policy.profiles.iter().enumerate() {
            for r in &p.rules {
                if r.file == name
                    && matches!(r.rule.kind, RuleKind::File(_))
                    && !r.rule.qualifiers.deny
                    && !own.iter().any(|(_, o)| o.pos == r.pos)
                {
                    own.push((pi, r.clone()));
                }
            }
        }
        if own.is_empty() {
            continue;
        }
        k.file.profiles += 1;
        let n = own.len().min(per_profile);
        for j in 0..n {
            let (pi, r) = &own[j * own.len() / n];
            let Some(prof) = policy.profiles.get(*pi) else {
                continue;
            };
            tr.removal(&mut k, &name, &text, &policy, prof, r);
        }
    }
    k
}

fn pct(a: usize, b: usize) -> String {
    if b == 0 {
        "n/a".into()
    } else {
        format!("{:.1}%", 100.0 * a as f64 / b as f64)
    }
}

fn report_kinds(name: &str, k: &Kinds, secs: f64) -> Tally {
    let mut all = k.file.clone();
    all.add(&k.exec);
    report(name, &all, secs);
    for (label, t) in [("without exec", &k.file), ("exec rules", &k.exec)] {
        println!(
            "  {label}: {} measured; first equals {} / {} (strict / equivalent); some equals {} / {}; fresh {}; broader {} ({} without a finding)",
            t.measured,
            pct(t.first_strict, t.measured),
            pct(t.first_equiv, t.measured),
            pct(t.any_strict, t.measured),
            pct(t.any_equiv, t.measured),
            pct(t.fresh_covered, t.fresh_needed),
            t.broader,
            t.broader_unflagged,
        );
    }
    all
}

fn report(name: &str, t: &Tally, secs: f64) {
    println!("{name}: {} profile files with allow file rules, {} rules tried, {} measured, skipped {:?}; {:.1} s",
        t.profiles, t.rules_seen, t.measured, t.skipped, secs);
    println!(
        "  first choice equals: strict {} ({}), equivalent {} ({})",
        pct(t.first_strict, t.measured),
        t.first_strict,
        pct(t.first_equiv, t.measured),
        t.first_equiv
    );
    println!(
        "  some choice equals:  strict {} ({}), equivalent {} ({})",
        pct(t.any_strict, t.measured),
        t.any_strict,
        pct(t.any_equiv, t.measured),
        t.any_equiv
    );
    println!(
        "  fresh instance: {} of {} needed groups covered ({}); removals fully covered {}",
        t.fresh_covered,
        t.fresh_needed,
        pct(t.fresh_covered, t.fresh_needed),
        pct(t.fresh_full, t.measured)
    );
    println!(
        "  breadth: first choice broader than the removed rule in {} ({}), of which without a finding {}; narrower in {}",
        t.broader,
        pct(t.broader, t.measured),
        t.broader_unflagged,
        t.narrower
    );
    println!(
        "  decisions: {} proposals ({:.2} per removal), {} blocked; exec rules measured {}",
        t.proposals,
        t.proposals as f64 / t.measured.max(1) as f64,
        t.blocked_first,
        t.exec_rules
    );
}

// ---------------------------------------------------------------------------------------
// Self-check of the helpers (runs every time; cheap)

fn self_check() {
    let n = |s: &str| parse_rule(s).and_then(|r| norm(&r));
    assert_eq!(n("owner /a/b wr ,"), n("owner  \"/a/b\" rw,"));
    assert_eq!(n("allow owner /a/b r,"), n("owner /a/b r"));
    assert_eq!(n("r /a/b,"), n("file /a/b r,"));
    assert_ne!(n("/a/b r,"), n("owner /a/b r,"));
    assert_ne!(n("/a/* r,"), n("/a/b r,"));
    assert_ne!(n("/a/b ix,"), n("/a/b px,"));
    assert!(n("capability kill,").is_none());
    let vars = default_vars();
    let g = |s: &str| {
        Grants(
            Grants::of_file_rule(&parse_rule(s).expect("rule"), &vars, &[])
                .into_iter()
                .collect(),
        )
    };
    let u: BTreeSet<String> = ["/a/b", "/a/c", "/a/b/c"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let c = compare(&g("/a/b r,"), &g("/a/* r,"), &u);
    assert!(c.broader && !c.narrower);
    let c = compare(&g("/a/* r,"), &g("/a/{b,c} r,"), &u);
    assert!(!c.broader && !c.narrower);
    let c = compare(&g("owner /a/b rw,"), &g("/a/b r,"), &u);
    assert!(c.broader && c.narrower);
    assert_eq!(offset("ab\ncdé f\n", 2, 5), Some(8));
    assert_eq!(kernel_value("/a b"), "2F612062");
}

// ---------------------------------------------------------------------------------------
// 1,000 groups, timed

fn thousand(logs: &[String], upstream: &Path) {
    // Whole removal logs, until at least 1,000 groups.
    let mut events = Vec::new();
    for (n, l) in logs.iter().enumerate() {
        events.extend(read_events(l));
        if n % 20 == 19 && group_events(&events, &Filter::default()).groups.len() >= 1000 {
            break;
        }
    }
    let (c0, w0) = (thread_cpu(), Instant::now());
    let (abstractions, _) = Abstraction::load_dir(upstream, &[]).unwrap_or_default();
    let (c1, w1) = (thread_cpu(), Instant::now());
    let grouping = group_events(&events, &Filter::default());
    let names: BTreeSet<String> = grouping
        .groups
        .iter()
        .map(|g| g.key.profile.clone())
        .collect();
    let (c2, w2) = (thread_cpu(), Instant::now());
    let drafter = Drafter::new()
        .with_globs(Globs::system())
        .with_known_profiles(names)
        .with_abstractions(abstractions.clone());
    let proposals: Vec<Proposal> = drafter.draft(&events, &grouping, None);
    let (c3, w3) = (thread_cpu(), Instant::now());
    let options = CheckOptions {
        include: Some((upstream.to_path_buf(), Vec::new())),
        ..CheckOptions::default()
    };
    let checker = Checker::new(&events, &grouping, Universe::builtin(), options);
    let checked = checker.check_all(&proposals);
    let (c4, w4) = (thread_cpu(), Instant::now());
    let cpu = |a: Option<f64>, b: Option<f64>| {
        a.zip(b)
            .map_or("?".to_string(), |(a, b)| format!("{:.3}", b - a))
    };
    let wall = |a: Instant, b: Instant| format!("{:.3}", (b - a).as_secs_f64());
    println!(
        "1,000 groups: {} events in {} groups, {} abstractions; {} proposals, {} ok / {} review / {} blocked",
        events.len(),
        grouping.groups.len(),
        abstractions.len(),
        proposals.len(),
        checked.iter().filter(|c| c.verdict == Verdict::Ok).count(),
        checked.iter().filter(|c| c.verdict == Verdict::Review).count(),
        checked.iter().filter(|c| c.verdict == Verdict::Blocked).count(),
    );
    println!(
        "  wall s / CPU s: load abstractions {} / {}; group {} / {}; draft {} / {}; cross-check {} / {}; draft + cross-check {} / {}",
        wall(w0, w1), cpu(c0, c1), wall(w1, w2), cpu(c1, c2), wall(w2, w3), cpu(c2, c3),
        wall(w3, w4), cpu(c3, c4), wall(w2, w4), cpu(c2, c4),
    );
}

// ---------------------------------------------------------------------------------------
// The examples: decisions per converged profile, and a second run

/// Rules a careful reviewer ends up adding (each scenario's README, "What a careful reviewer
/// ends up with"; judgement calls and "nothing for …" items left out).
const CONVERGED: &[(&str, &str, &[&str])] = &[
    (
        "pidcache",
        "usr.sbin.exampled",
        &[
            "/etc/exampled/exampled.conf r,",
            "/etc/exampled/conf.d/ r,",
            "/etc/exampled/conf.d/*.conf r,",
            "/usr/lib/exampled/plugins/*.so mr,",
            "capability net_bind_service,",
            "capability setuid,",
            "network inet stream,",
            "/run/exampled.pid rw,",
            "owner /var/lib/exampled/cache/** rwk,",
            "owner /var/lib/exampled/cache/**/ rw,",
            "@{PROC}/@{pid}/stat r,",
            "@{PROC}/@{pid}/statm r,",
            "/usr/bin/logger Px,",
        ],
    ),
    (
        "webserver",
        "usr.sbin.examplehttpd",
        &[
            "network inet6 stream,",
            "capability net_bind_service,",
            "capability setuid,",
            "capability dac_read_search,",
            "@{WWW_ROOT}/** r,",
            "/var/log/examplehttpd/*.log w,",
            "signal (send, receive) set=(quit) peer=examplehttpd,",
        ],
    ),
    (
        "desktop",
        "example-notifier",
        &[
            "owner @{HOME}/.config/example-notifier/ r,",
            "owner @{HOME}/.config/example-notifier/** r,",
            "owner @{HOME}/.cache/example-notifier/ rw,",
            "owner @{HOME}/.cache/example-notifier/** rw,",
            "unix (send, receive, connect) type=stream peer=(addr=\"@/tmp/.X11-unix/X[0-9]*\"),",
            "dbus send bus=session path=/org/freedesktop/Notifications interface=org.freedesktop.Notifications member=Notify peer=(name=org.freedesktop.Notifications),",
            "dbus receive bus=session path=/org/freedesktop/Notifications interface=org.freedesktop.Notifications member=NotificationClosed,",
            "dbus send bus=system path=/org/freedesktop/login1/session/* interface=org.freedesktop.DBus.Properties member=Get peer=(name=org.freedesktop.login1),",
            "signal (send) set=(term) peer=example-notifier//sound,",
            "signal (receive) set=(term) peer=unconfined,",
        ],
    ),
];

/// Runs `tune --dry-run --json`; the proposals as (profile, rule, verdict).
fn tune_json(bin: &str, profile: &Path, log: &Path, dir: &Path) -> Vec<(String, String, String)> {
    let out = std::process::Command::new(bin)
        .arg("tune")
        .arg(profile)
        .arg("--log")
        .arg(log)
        .arg("-d")
        .arg(dir)
        .args(["--dry-run", "--json"])
        .output();
    let Ok(out) = out else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
        eprintln!(
            "tune gave no JSON for {}: {}",
            profile.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        return Vec::new();
    };
    v["proposals"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    let prop = if p["proposal"].is_object() {
                        &p["proposal"]
                    } else {
                        p
                    };
                    (
                        prop["profile"].as_str().unwrap_or("").to_string(),
                        prop["rule"].as_str().unwrap_or("").to_string(),
                        p["verdict"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A second run of the same service: pids, audit stamps and every run of 3+ digits or 8+
/// hex letters in a quoted `name=` shifted; the rest kept.
fn second_run(log: &str) -> String {
    let shift_digits = |s: &str| -> String {
        let mut out = String::new();
        let b: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < b.len() {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_hexdigit() {
                j += 1;
            }
            let run: String = b[i..j].iter().collect();
            let digits = run.chars().all(|c| c.is_ascii_digit());
            if j > i
                && ((digits && run.len() >= 3)
                    || (!digits
                        && run.len() >= 8
                        && run
                            .chars()
                            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))))
            {
                for c in run.chars() {
                    let d = c.to_digit(16).unwrap_or(0);
                    let radix = if digits { 10 } else { 16 };
                    let n = (d + 3) % radix;
                    out.push(char::from_digit(n, radix).unwrap_or('0'));
                }
                i = j;
            } else if j > i {
                out.push_str(&run);
                i = j;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    };
    let pid_re = regex::Regex::new(r"\b(pid|ppid)=(\d+)").expect("regex");
    let stamp_re = regex::Regex::new(r"audit\((\d+)\.").expect("regex");
    let name_re = regex::Regex::new(r#"\bname="([^"]*)""#).expect("regex");
    let mut out = String::new();
    for l in log.lines() {
        let l = pid_re.replace_all(l, |c: &regex::Captures| {
            let n: u64 = c[2].parse().unwrap_or(0);
            format!("{}={}", &c[1], n + 1000)
        });
        let l = stamp_re.replace_all(&l, |c: &regex::Captures| {
            let n: u64 = c[1].parse().unwrap_or(0);
            format!("audit({}.", n + 86_400)
        });
        let l = name_re.replace_all(&l, |c: &regex::Captures| {
            format!("name=\"{}\"", shift_digits(&c[1]))
        });
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn examples(bin: &str, tmp: &Path) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    println!("examples (aa-assist tune --dry-run --json):");
    for (name, prof, converged) in CONVERGED {
        let dir = root.join(name).join("profile");
        let profile = dir.join(prof);
        let log = root.join(name).join("audit.log");
        let first = tune_json(bin, &profile, &log, &dir);
        let blocked = first.iter().filter(|p| p.2 == "blocked").count();
        // Accept every first choice not blocked, then replay a second run.
        let text = std::fs::read_to_string(&profile).unwrap_or_default();
        let mut accepted = text.clone();
        if let Ok(mut tree) = ProfileFile::parse(&profile.display().to_string(), &text) {
            for (p, rule, verdict) in &first {
                if verdict == "blocked" {
                    continue;
                }
                let path: Vec<&str> = p.split("//").collect();
                if let Ok(x) = tree.insert_rule(&path, rule) {
                    accepted = x;
                }
            }
        }
        let d2 = tmp.join(name);
        let _ = std::fs::create_dir_all(&d2);
        let p2 = d2.join(prof);
        let l2 = d2.join("audit-run2.log");
        let ok = std::fs::write(&p2, &accepted).is_ok()
            && std::fs::write(
                &l2,
                second_run(&std::fs::read_to_string(&log).unwrap_or_default()),
            )
            .is_ok();
        let second = if ok {
            tune_json(bin, &p2, &l2, &d2)
        } else {
            Vec::new()
        };
        println!(
            "  {name}: {} proposals ({blocked} blocked) for {} converged rules: {:.2}× (goal ≤ 1.2×); second run: {} new proposals (goal 0){}",
            first.len(),
            converged.len(),
            first.len() as f64 / converged.len() as f64,
            second.len(),
            if second.is_empty() { String::new() } else {
                format!(": {}", second.iter().take(4).map(|p| p.1.as_str()).collect::<Vec<_>>().join(" | "))
            }
        );
    }
}

fn main() {
    self_check();
    let corpus = std::env::var_os("AA_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let up = corpus.join("profiles/upstream");
    let ad = corpus.join("profiles/apparmor.d-collection");
    let instances = env_usize("INSTANCES", 3);
    let per = env_usize("REMOVAL_RULES", 4);
    let every_up = env_usize("REMOVAL_EVERY_UPSTREAM", 1);
    let every_ad = env_usize("REMOVAL_EVERY_APPARMOR_D", 5);
    let with_abs = std::env::var("REMOVAL_ABSTRACTIONS").is_ok_and(|v| v == "1");
    let dump = std::env::var_os("REMOVAL_DUMP").and_then(|p| std::fs::File::create(p).ok());
    let globs = Globs::system();
    println!(
        "remove-a-rule: {instances} drafting instances + 1 fresh; every {every_up} upstream file, every {every_ad} apparmor.d file; up to {per} rules per file; logprof.conf [globs]: {}; abstractions given to the drafter: {with_abs}",
        globs.len()
    );
    let abstractions = |dir: &Path, extra: &[PathBuf]| {
        if with_abs {
            Abstraction::load_dir(dir, extra)
                .map(|x| x.0)
                .unwrap_or_default()
        } else {
            Vec::new()
        }
    };
    let mut total = Tally::default();
    let start = Instant::now();
    let mut tup = Tree {
        name: "upstream",
        root: up.clone(),
        base: up.clone(),
        extra: Vec::new(),
        loader: Loader::new(&up, IncludeMode::Lenient),
        globs: &globs,
        abstractions: abstractions(&up, &[]),
        instances,
        dump,
        logs: Vec::new(),
    };
    let t0 = Instant::now();
    let k = run_tree(&mut tup, every_up, per);
    total.add(&report_kinds("upstream", &k, t0.elapsed().as_secs_f64()));
    let logs = std::mem::take(&mut tup.logs);
    let mut tad = Tree {
        name: "apparmor.d",
        root: ad.clone(),
        base: up.clone(),
        extra: vec![ad.clone()],
        loader: Loader::new(&up, IncludeMode::Lenient).include_dir(&ad),
        globs: &globs,
        abstractions: abstractions(&ad, std::slice::from_ref(&up)),
        instances,
        dump: tup.dump.take(),
        logs: Vec::new(),
    };
    let t0 = Instant::now();
    let k = run_tree(&mut tad, every_ad, per);
    let mut logs = logs;
    logs.append(&mut tad.logs);
    total.add(&report_kinds(
        "apparmor.d-collection",
        &k,
        t0.elapsed().as_secs_f64(),
    ));
    report("total", &total, start.elapsed().as_secs_f64());
    thousand(&logs, &up);
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("removal-bench");
    examples(env!("CARGO_BIN_EXE_aa-assist"), &tmp);
}
