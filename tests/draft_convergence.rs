//! Convergence: apply every first choice the drafter proposes, re-parse the resulting policy,
//! re-run the coverage on the same log: nothing drafted from may be left uncovered. And each
//! first choice, cross-checked, really covers the groups it claims.

mod common;

use std::collections::BTreeMap;
use std::io::Cursor;

use aa_assist::check::coverage::{statuses, Status};
use aa_assist::check::{group_evidence, CheckOptions, Checker, Universe, Verdict};
use aa_assist::draft::{Drafter, Proposal};
use aa_assist::log::group::{group_events, Filter};
use aa_assist::log::{Event, Source};
use aa_assist::profile::{IncludeMode, Loader};

fn read_events(label: &str, text: String) -> Vec<Event> {
    let mut r =
        Source::from_reader(label.to_string(), Cursor::new(text.into_bytes())).into_reader();
    let mut out = Vec::new();
    while let Some(ev) = r.next_event().expect("in-memory read cannot fail") {
        out.push(ev);
    }
    out
}

#[derive(Default)]
struct Node {
    rules: Vec<String>,
    children: BTreeMap<String, Node>,
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

fn write(node: &Node, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    for r in &node.rules {
        out.push_str(&format!("{pad}{r}\n"));
    }
    for (name, child) in &node.children {
        // hat names are written bare, as the utils write them
        out.push_str(&format!("{pad}^{name} {{\n"));
        write(child, depth + 1, out);
        out.push_str(&format!("{pad}}}\n"));
    }
}

/// The policy text that applying every first choice gives (one profile per top-level name,
/// hats nested).
fn apply(proposals: &[Proposal]) -> String {
    let mut tops: BTreeMap<String, Node> = BTreeMap::new();
    for p in proposals {
        let mut parts = p.profile.split("//");
        let top = parts.next().unwrap_or_default().to_string();
        let mut node = tops.entry(top).or_default();
        for hat in parts {
            node = node.children.entry(hat.to_string()).or_default();
        }
        node.rules.push(p.rule.clone());
    }
    let mut out = String::new();
    for (name, node) in &tops {
        out.push_str(&format!("profile {} {{\n", quoted(name)));
        write(node, 1, &mut out);
        out.push_str("}\n");
    }
    out
}

fn corpus_log() -> Option<String> {
    let corpus = common::corpus_dir()?;
    let cases: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(corpus.join("logs/libapparmor-test_multi/cases.json"))
            .expect("cases.json readable"),
    )
    .expect("cases.json parses");
    let mut text = String::new();
    for c in &cases {
        text.push_str(c["in"].as_str().unwrap_or_default());
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    text.push_str(
        &std::fs::read_to_string(corpus.join("logs/apparmor.d-testdata/logs/audit.log"))
            .expect("audit.log readable"),
    );
    Some(text)
}

#[test]
fn applying_every_first_choice_leaves_nothing_uncovered() {
    let Some(text) = corpus_log() else {
        return;
    };
    let events = read_events("corpus", text);
    let grouping = group_events(&events, &Filter::default());
    let proposals = Drafter::new().draft(&events, &grouping, None);
    assert!(
        proposals.len() > 80,
        "expected many proposals, got {}",
        proposals.len()
    );

    let policy_text = apply(&proposals);
    let mut loader = Loader::new("/nonexistent", IncludeMode::Lenient);
    let policy = loader
        .load_str("applied.aa", &policy_text)
        .unwrap_or_else(|e| {
            panic!(
                "applied policy does not parse: {e}\n{}",
                policy_text
                    .lines()
                    .enumerate()
                    .map(|(i, l)| format!("{:4} {l}", i + 1))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });

    let evidence = group_evidence(&events, &grouping);
    let result = statuses(&policy, &evidence);
    let missing: Vec<_> = result
        .iter()
        .filter(|s| matches!(s.status, Status::Missing | Status::Denied { .. }))
        .collect();
    assert!(
        missing.is_empty(),
        "still uncovered after applying: {missing:#?}"
    );
    // every group something was drafted from was judged (and allowed)
    let drafted: std::collections::BTreeSet<&String> = proposals
        .iter()
        .flat_map(|p| p.claimed_evidence.iter())
        .collect();
    for id in drafted {
        let s = result
            .iter()
            .find(|s| &s.group == id)
            .unwrap_or_else(|| panic!("{id} was drafted for but not judged"));
        assert!(
            matches!(s.status, Status::Allowed { .. }),
            "{id}: {:?}",
            s.status
        );
    }
}

#[test]
fn first_choices_cover_what_they_claim_and_nothing_needs_blocking() {
    let Some(text) = corpus_log() else {
        return;
    };
    let events = read_events("corpus", text);
    let grouping = group_events(&events, &Filter::default());
    let proposals = Drafter::new().draft(&events, &grouping, None);
    let checker = Checker::new(
        &events,
        &grouping,
        Universe::builtin(),
        CheckOptions {
            trust_userspace: true,
            ..CheckOptions::default()
        },
    );
    for c in checker.check_all(&proposals) {
        assert!(
            c.unsupported_claims.is_empty(),
            "{} ({}) does not cover {:?}: {:?}",
            c.proposal.id,
            c.proposal.rule,
            c.unsupported_claims,
            c.findings
        );
        let has = |code: &str| c.findings.iter().any(|f| f.code == code);
        // a network first choice is the form every ABI accepts (`network inet stream,`): it
        // grants every access of the family, and says so
        if c.proposal.rule.starts_with("network ") {
            assert!(
                c.extra_perms.is_empty() || has("extra-perms"),
                "{}: {:?}",
                c.proposal.rule,
                c.findings
            );
        } else {
            assert!(
                c.extra_perms.is_empty(),
                "{}: extra perms {:?}",
                c.proposal.rule,
                c.extra_perms
            );
        }
        // a generalised first choice (`@{PROC}/@{pid}/…`, `[0-9]*`) may reach paths beyond
        // the evidence: never silently
        assert!(
            c.extra_path_count == 0 || has("broad-path"),
            "{}: {:?}",
            c.proposal.rule,
            c.extra_paths
        );
        if c.verdict == Verdict::Blocked {
            assert!(
                c.findings.iter().all(|f| !matches!(
                    f.code.as_str(),
                    "no-evidence" | "invalid-rule" | "unsupported-claim"
                )),
                "{}: {:?}",
                c.proposal.rule,
                c.findings
            );
        }
    }
}
