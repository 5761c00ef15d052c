//! Conformance of the drafter's first choices with upstream's expected profiles.
//!
//! For every case of `logs/libapparmor-test_multi/` that has a `.profile` (what aa-logprof
//! drafts from that log), the first-choice rules (with `ix` for exec, as upstream's test
//! picks) must equal the profile's rules, per profile and hat. Known differences are listed,
//! each with its reason, in `tests/drafter-known-differences.md`; the test fails when that
//! list misses a differing case, or when fewer than 95% of cases match. Cases where the
//! drafter writes the maintainer's rule on purpose (a volatile path generalised, `owner` left
//! off a system file, a network rule without addresses and ports) are listed in their own
//! section and left out of that count.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use aa_assist::draft::Drafter;
use aa_assist::log::group::{group_events, Filter};

/// (profile path like `a` or `a//^hat`) → rules.
type Rules = BTreeMap<String, BTreeSet<String>>;

/// Reads the rules of an expected `.profile` (the utils' serializer output: one rule a line,
/// `^hat {` blocks nested one level).
fn expected_rules(text: &str) -> Rules {
    let mut out = Rules::new();
    let mut stack: Vec<String> = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        if let Some(head) = l.strip_suffix('{') {
            let name = head.trim();
            let name = name.strip_prefix("profile ").unwrap_or(name).trim();
            let name = name.trim_matches('"').to_string();
            let full = match stack.last() {
                Some(parent) => format!("{parent}//{}", name.trim_start_matches('^')),
                None => name,
            };
            out.entry(full.clone()).or_default();
            stack.push(full);
        } else if l == "}" {
            stack.pop();
        } else if let Some(p) = stack.last() {
            out.entry(p.clone()).or_default().insert(l.to_string());
        }
    }
    // Profiles without rules do not count: upstream prints the (empty) shell of the profile.
    out.retain(|_, r| !r.is_empty());
    out
}

fn drafted_rules(input: &str) -> Rules {
    let events: Vec<_> = input
        .lines()
        .filter_map(|l| aa_assist::log::parse_line(l.as_bytes()).ok().flatten())
        .collect();
    let grouping = group_events(&events, &Filter::default());
    let mut out = Rules::new();
    for p in Drafter::new().draft(&events, &grouping, None) {
        out.entry(p.profile.clone())
            .or_default()
            .insert(p.rule.clone());
    }
    out
}

/// Listed differences: case name → chosen on purpose (listed under the `## Chosen
/// differently on purpose` heading: the maintainer's rule instead of upstream's literal one).
fn known_differences() -> BTreeMap<String, bool> {
    let text = include_str!("drafter-known-differences.md");
    let mut on_purpose = false;
    let mut out = BTreeMap::new();
    for l in text.lines() {
        if let Some(h) = l.strip_prefix("## ") {
            on_purpose = h.contains("on purpose");
        }
        if let Some((n, _why)) = l.strip_prefix("- `").and_then(|l| l.split_once("`: ")) {
            out.insert(n.to_string(), on_purpose);
        }
    }
    out
}

#[test]
fn first_choices_match_upstream_expected_profiles() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let path = corpus.join("logs/libapparmor-test_multi/cases.json");
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("cases.json readable"))
            .expect("cases.json parses");
    let known = known_differences();
    let mut total = 0;
    let mut matched = 0;
    let mut report = Vec::new();
    let mut unexpected = Vec::new();
    for case in &cases {
        let Some(profile) = case["profile"].as_str() else {
            continue;
        };
        let name = case["name"].as_str().expect("case name");
        let input = case["in"].as_str().expect("case input");
        // cases where we write the maintainer's rule on purpose do not count: the measure
        // is agreement where upstream's literal rule is also the right one
        if known.get(name) != Some(&true) {
            total += 1;
        }
        let want = expected_rules(profile);
        let got = drafted_rules(input);
        let ok = want == got;
        if ok {
            matched += 1;
        } else if known.get(name) == Some(&true) {
            eprintln!("{name}: chosen differently on purpose");
        } else {
            report.push(format!("{name}:\n  want {want:?}\n  got  {got:?}"));
        }
        match (ok, known.contains_key(name)) {
            (false, false) => unexpected.push(format!("{name} differs but is not listed")),
            (true, true) => eprintln!("notice: {name} is listed as a difference but now matches"),
            _ => {}
        }
    }
    eprintln!("drafter conformance: {matched}/{total} cases match");
    for r in &report {
        eprintln!("{r}");
    }
    assert!(
        total >= 60,
        "expected the corpus to hold ≥60 cases with a profile where upstream's literal rule \
         is the right one, got {total}"
    );
    assert!(
        unexpected.is_empty(),
        "tests/drafter-known-differences.md is out of date:\n{}",
        unexpected.join("\n")
    );
    assert!(
        matched * 100 >= total * 95,
        "only {matched}/{total} cases match (need ≥ 95%)"
    );
}
