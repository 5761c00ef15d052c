//! The cross-check against hostile candidates: over-broad, evidence-free, dangerous,
//! unparseable or lying proposals never come out `ok`; the drafter's minimal rules do (so the
//! test is not vacuous); human edits are re-checked; untrusted evidence is no evidence.

use std::io::Cursor;

use aa_assist::check::{CheckOptions, Checked, Checker, Universe, Verdict};
use aa_assist::draft::{Drafter, Proposal, Source};
use aa_assist::log::group::{group_events, Filter, Grouping};
use aa_assist::log::{Event, Reader};

const LOG: &str = include_str!("data/check/adversarial.log");

fn events(trusted: bool) -> Vec<Event> {
    let mut r =
        Reader::new(Cursor::new(LOG.as_bytes().to_vec()), "audit.log").trusted_channel(trusted);
    let mut out = Vec::new();
    while let Some(ev) = r.next_event().expect("in-memory read") {
        out.push(ev);
    }
    assert_eq!(out.len(), 7);
    out
}

fn checker(evs: &[Event], grouping: &Grouping, trust_userspace: bool) -> Checker {
    let mut universe = Universe::builtin();
    universe.extend([
        "/etc/demo/secret.key".to_string(),
        "/var/lib/demo/other".to_string(),
    ]);
    Checker::new(
        evs,
        grouping,
        universe,
        CheckOptions {
            trust_userspace,
            ..CheckOptions::default()
        },
    )
}

fn proposal(rule: &str, source: Source, claims: &[&str]) -> Proposal {
    Proposal {
        id: "P1".into(),
        profile: "demo".into(),
        rule: rule.into(),
        source,
        claimed_evidence: claims.iter().map(|s| s.to_string()).collect(),
        alternatives: Vec::new(),
        rationale: None,
        exec_modes: Vec::new(),
    }
}

fn codes(c: &Checked) -> Vec<&str> {
    c.findings.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn no_adversarial_candidate_is_ok() {
    let evs = events(true);
    let grouping = group_events(&evs, &Filter::default());
    let ck = checker(&evs, &grouping, false);
    // (rule, source, expected verdict, a finding code that must be among the findings)
    let cases: &[(&str, Source, Verdict, &str)] = &[
        (
            "/** rw,",
            Source::Model,
            Verdict::Blocked,
            "recursive-write-glob",
        ),
        (
            "/etc/** r,",
            Source::Drafter,
            Verdict::Blocked,
            "sensitive-path",
        ),
        (
            "/etc/demo/* r,",
            Source::Drafter,
            Verdict::Review,
            "broad-path",
        ),
        (
            "/etc/demo/app.conf rw,",
            Source::Drafter,
            Verdict::Review,
            "extra-perms",
        ),
        (
            "/etc/shadow r,",
            Source::Model,
            Verdict::Blocked,
            "no-evidence",
        ),
        (
            "capability sys_module,",
            Source::Model,
            Verdict::Blocked,
            "no-evidence",
        ),
        (
            "capability sys_admin,",
            Source::Drafter,
            Verdict::Blocked,
            "dangerous-capability",
        ),
        (
            "capability,",
            Source::Model,
            Verdict::Blocked,
            "unrestricted-rule",
        ),
        (
            "/usr/bin/helper ux,",
            Source::Drafter,
            Verdict::Blocked,
            "unconfined-exec",
        ),
        (
            "/usr/bin/helper rwix,",
            Source::Model,
            Verdict::Blocked,
            "write-exec",
        ),
        (
            "/usr/bin/* ix,",
            Source::Model,
            Verdict::Review,
            "exec-glob",
        ),
        (
            "network,",
            Source::Model,
            Verdict::Blocked,
            "unrestricted-rule",
        ),
        (
            "network packet raw,",
            Source::Model,
            Verdict::Blocked,
            "raw-socket",
        ),
        ("mount,", Source::Model, Verdict::Blocked, "mount-rule"),
        (
            "ptrace trace peer=unconfined,",
            Source::Drafter,
            Verdict::Blocked,
            "ptrace-trace",
        ),
        (
            "change_profile -> unconfined,",
            Source::Model,
            Verdict::Blocked,
            "change-profile-unconfined",
        ),
        (
            "owner /var/lib/demo/** rw,",
            Source::Model,
            Verdict::Blocked,
            "recursive-write-glob",
        ),
        (
            "@{HOME}/** r,",
            Source::Model,
            Verdict::Blocked,
            "no-evidence",
        ),
        (
            "/etc/demo/app.conf r",
            Source::Model,
            Verdict::Blocked,
            "invalid-rule",
        ),
        (
            "please allow everything",
            Source::Model,
            Verdict::Blocked,
            "invalid-rule",
        ),
        (
            "/etc/demo/{app.conf r,",
            Source::Model,
            Verdict::Blocked,
            "invalid-rule",
        ),
        (
            "include <abstractions/does-not-exist>",
            Source::Model,
            Verdict::Blocked,
            "unresolved-include",
        ),
        (
            "/etc/demo/app.conf r,",
            Source::Model,
            Verdict::Review,
            "model-proposal",
        ),
    ];
    for (rule, source, want, code) in cases {
        let c = ck.check(&proposal(rule, *source, &[]));
        assert_ne!(
            c.verdict,
            Verdict::Ok,
            "{rule} came out ok: {:?}",
            c.findings
        );
        assert_eq!(c.verdict, *want, "{rule}: {:?}", c.findings);
        assert!(
            codes(&c).contains(code),
            "{rule}: expected {code} in {:?}",
            c.findings
        );
    }
    // a rule claiming evidence it does not cover
    let c = ck.check(&proposal(
        "/etc/demo/app.conf r,",
        Source::Drafter,
        &["G1", "G2", "G3", "G99"],
    ));
    assert_ne!(c.verdict, Verdict::Ok);
    assert!(codes(&c).contains(&"unsupported-claim"));
    assert!(c.unsupported_claims.contains(&"G99".to_string()));
}

#[test]
fn breadth_names_the_most_sensitive_paths_first() {
    let evs = events(true);
    let grouping = group_events(&evs, &Filter::default());
    let ck = checker(&evs, &grouping, false);
    let c = ck.check(&proposal("/etc/** r,", Source::Drafter, &[]));
    assert_eq!(
        c.extra_paths.first().map(String::as_str),
        Some("/etc/gshadow"),
        "{:?}",
        c.extra_paths
    );
    assert!(c.extra_paths.iter().any(|p| p == "/etc/shadow"));
    assert!(c.extra_path_count >= 10);
    assert!(
        !c.extra_paths.contains(&"/etc/demo/app.conf".to_string()),
        "evidence is not extra"
    );
    assert!(c.covers.len() == 1);
}

#[test]
fn the_drafters_minimal_rules_are_ok_and_justified() {
    let evs = events(true);
    let grouping = group_events(&evs, &Filter::default());
    let ck = checker(&evs, &grouping, false);
    let proposals = Drafter::new().draft(&evs, &grouping, None);
    let checked = ck.check_all(&proposals);
    let verdict = |rule: &str| {
        checked
            .iter()
            .find(|c| c.proposal.rule == rule)
            .unwrap_or_else(|| panic!("no proposal {rule}"))
            .verdict
    };
    // `owner` only where maintainers write it: not on system files the process owns
    assert_eq!(verdict("/etc/demo/app.conf r,"), Verdict::Ok);
    assert_eq!(verdict("/var/lib/demo/state rw,"), Verdict::Ok);
    assert_eq!(verdict("capability net_bind_service,"), Verdict::Ok);
    assert_eq!(verdict("/usr/bin/helper mrix,"), Verdict::Ok);
    // the first choice every parser accepts grants more than `create`: said, not hidden
    let net = checked
        .iter()
        .find(|c| c.proposal.rule == "network inet stream,")
        .expect("network first choice");
    assert_eq!(net.verdict, Verdict::Review);
    assert!(net.findings.iter().any(|f| f.code == "extra-perms"));
    assert!(net
        .proposal
        .alternatives
        .iter()
        .any(|a| a.rule == "network (create) inet stream,"));
    // justified but dangerous: blocked even from the drafter
    assert_eq!(verdict("capability sys_admin,"), Verdict::Blocked);
    assert_eq!(verdict("ptrace trace peer=unconfined,"), Verdict::Blocked);
    for c in &checked {
        assert_eq!(c.covers, c.proposal.claimed_evidence, "{}", c.proposal.rule);
    }
}

#[test]
fn human_edits_are_rechecked() {
    let evs = events(true);
    let grouping = group_events(&evs, &Filter::default());
    let ck = checker(&evs, &grouping, false);
    // a human may accept a danger on purpose: review, not blocked
    let c = ck.check(&proposal("capability sys_admin,", Source::Human, &[]));
    assert_eq!(c.verdict, Verdict::Review, "{:?}", c.findings);
    let c = ck.check(&proposal("/etc/demo/* r,", Source::Human, &[]));
    assert_eq!(c.verdict, Verdict::Review);
    // but no evidence or invalid text stays blocked whoever wrote it
    let c = ck.check(&proposal("/etc/shadow r,", Source::Human, &[]));
    assert_eq!(c.verdict, Verdict::Blocked);
    let c = ck.check(&proposal("/etc/demo/app.conf rz,", Source::Human, &[]));
    assert_eq!(c.verdict, Verdict::Blocked);
    // an exact human rule is ok
    let c = ck.check(&proposal("owner /etc/demo/app.conf r,", Source::Human, &[]));
    assert_eq!(c.verdict, Verdict::Ok, "{:?}", c.findings);
}

#[test]
fn untrusted_evidence_is_no_evidence_unless_trusted_explicitly() {
    let evs = events(false);
    let grouping = group_events(&evs, &Filter::default());
    let strict = checker(&evs, &grouping, false);
    let c = strict.check(&proposal(
        "owner /etc/demo/app.conf r,",
        Source::Drafter,
        &[],
    ));
    assert_eq!(c.verdict, Verdict::Blocked);
    assert!(codes(&c).contains(&"untrusted-evidence"));
    let lenient = checker(&evs, &grouping, true);
    let c = lenient.check(&proposal(
        "owner /etc/demo/app.conf r,",
        Source::Drafter,
        &[],
    ));
    assert_eq!(c.verdict, Verdict::Ok, "{:?}", c.findings);
}

#[test]
fn transitions_out_of_confinement_or_to_unknown_profiles_are_blocked() {
    let evs = events(true);
    let grouping = group_events(&evs, &Filter::default());
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("demo"),
        "profile demo {\n  profile helper {\n  }\n}\n",
    )
    .expect("profile");
    std::fs::write(dir.path().join("other"), "profile other {\n}\n").expect("profile");
    let ck = Checker::new(
        &evs,
        &grouping,
        Universe::builtin(),
        CheckOptions {
            include: Some((dir.path().to_path_buf(), Vec::new())),
            ..CheckOptions::default()
        },
    );
    let check = |rule: &str| ck.check(&proposal(rule, Source::Drafter, &[]));
    for rule in [
        "/usr/bin/helper px -> unconfined,",
        "/usr/bin/helper Px -> unconfined,",
        "/usr/bin/helper cx -> unconfined,",
    ] {
        let c = check(rule);
        assert!(
            codes(&c).contains(&"unconfined-exec"),
            "{rule}: {:?}",
            c.findings
        );
        assert_eq!(c.verdict, Verdict::Blocked, "{rule}");
    }
    for rule in [
        "/usr/bin/helper px -> no-such-profile,",
        "/usr/bin/helper cx -> no-such-child,",
    ] {
        let c = check(rule);
        assert!(
            codes(&c).contains(&"unknown-exec-target"),
            "{rule}: {:?}",
            c.findings
        );
        assert_eq!(c.verdict, Verdict::Blocked, "{rule}");
    }
    for rule in [
        "/usr/bin/helper cx -> helper,",
        "/usr/bin/helper px -> other,",
    ] {
        let c = check(rule);
        assert_eq!(c.verdict, Verdict::Ok, "{rule}: {:?}", c.findings);
    }
}

#[test]
fn broad_non_file_rules_are_review_at_least() {
    let evs = events(true);
    let grouping = group_events(&evs, &Filter::default());
    let ck = checker(&evs, &grouping, false);
    // the log has `ptrace trace peer=unconfined`; a rule naming no peer covers it too
    let c = ck.check(&proposal("ptrace,", Source::Human, &[]));
    assert!(codes(&c).contains(&"broad-rule"), "{:?}", c.findings);
    assert!(c.verdict >= Verdict::Review);
    // and `network (create) inet stream`; one naming no family covers it too
    let c = ck.check(&proposal("network (create) stream,", Source::Drafter, &[]));
    assert!(codes(&c).contains(&"broad-rule"), "{:?}", c.findings);
    assert_eq!(c.verdict, Verdict::Review, "{:?}", c.findings);
}

/// Globs a model (or a reviewer's edit) may propose whose automata would blow the budget:
/// `**` followed by many `?` (a DFA exponential in the number of `?`), hundreds of stacked
/// alternations and wildcards, variables whose expansion multiplies (`@{HOME}` has two
/// values: 2^16 patterns), thousands of `*`. Each is
/// rejected up front, by its shape, as too complex: blocked with an `invalid-rule` finding
/// that says so, never compiled and matched for seconds.
#[test]
fn globs_over_the_automaton_budget_are_rejected_as_too_complex() {
    let evs = events(true);
    let grouping = group_events(&evs, &Filter::default());
    let ck = checker(&evs, &grouping, false);
    let dstar_q = format!("/var/lib/demo/**{}state r,", "?".repeat(40));
    let alternations = format!("/var/lib/demo/{}state rw,", "{a,b}{c,d}?*".repeat(100));
    let expansion = format!("/var/lib/demo/{}state r,", "@{HOME}".repeat(16));
    let long = format!("/var/lib/demo/{}** r,", "a*".repeat(3000));
    for rule in [&expansion, &long, &dstar_q, &alternations] {
        let started = std::time::Instant::now();
        let c = ck.check(&proposal(rule, Source::Model, &["G2"]));
        let took = started.elapsed();
        eprintln!("{} chars: {took:?}", rule.len());
        assert_eq!(c.verdict, Verdict::Blocked, "{rule}: {:?}", c.findings);
        assert!(
            c.findings
                .iter()
                .any(|f| f.code == "invalid-rule" && f.message.contains("too complex")),
            "{rule}: {:?}",
            c.findings
        );
        assert!(c.covers.is_empty() && c.extra_paths.is_empty(), "{rule}");
    }
    // not vacuous: smaller globs of the same kinds are checked, not refused
    for within in [
        format!("/var/lib/demo/{}state rw,", "{a,b}{c,d}?*".repeat(10)),
        format!("/var/lib/demo/{}state r,", "**?".repeat(40)),
        format!("/var/lib/demo/**{}state r,", "?".repeat(8)),
        "@{HOME}/.config/demo/** r,".to_string(),
        "@{PROC}/@{pid}/task/@{tid}/stat r,".to_string(),
    ] {
        let c = ck.check(&proposal(&within, Source::Model, &[]));
        assert!(
            !c.findings.iter().any(|f| f.message.contains("too complex")),
            "{within}: {:?}",
            c.findings
        );
    }
}
