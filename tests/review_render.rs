//! What a reviewer sees for one proposal, pinned as a snapshot: header, `help:`, the
//! line-numbered diff, sanitized evidence, findings and over-grant notes.

use std::collections::BTreeMap;

use aa_assist::check::{Checked, Finding, Severity, Verdict};
use aa_assist::draft::{Alternative, Proposal, Source};
use aa_assist::review::{render_card, Evidence};

const BASE: &str = "profile exampled /usr/sbin/exampled {\n  include <abstractions/base>\n\n  /usr/sbin/exampled mr,\n  owner /var/lib/exampled/cache/* r,\n}\n";

fn model_proposal() -> Checked {
    Checked {
        proposal: Proposal {
            id: "P4".into(),
            profile: "exampled".into(),
            rule: "owner /var/lib/exampled/** rwk,".into(),
            source: Source::Model,
            claimed_evidence: vec!["G5".into(), "G9".into()],
            alternatives: vec![Alternative {
                rule: "owner /var/lib/exampled/cache/** rwk,".into(),
                why: "narrower directory".into(),
            }],
            rationale: Some("the worker writes its cache\x1b[8m hidden".into()),
            exec_modes: vec![],
        },
        covers: vec!["G5".into()],
        partial: vec![],
        unsupported_claims: vec!["G9".into()],
        extra_paths: vec!["/var/lib/exampled/keys/server.key".into()],
        extra_path_count: 4,
        extra_perms: vec!["k".into()],
        findings: vec![
            Finding {
                code: "model-proposal".into(),
                severity: Severity::Warning,
                message: "proposed by a language model".into(),
            },
            Finding {
                code: "recursive-write-glob".into(),
                severity: Severity::Error,
                message: "write on `/var/lib/exampled/**`".into(),
            },
        ],
        verdict: Verdict::Blocked,
    }
}

#[test]
fn blocked_model_proposal_card() {
    let c = model_proposal();
    let placed = BASE.replace(
        "  owner /var/lib/exampled/cache/* r,\n",
        "  owner /var/lib/exampled/cache/* r,\n  owner /var/lib/exampled/** rwk,\n",
    );
    let evidence = BTreeMap::from([(
        "G5".to_string(),
        Evidence {
            summary: "file open /var/lib/exampled/cache/index.db (w) ×2".into(),
            lines: vec![
                "type=AVC msg=audit(1795082512.400:340): apparmor=\"ALLOWED\" operation=\"open\" name=\"/var/lib/exampled/cache/index.db\"".into(),
                "type=AVC msg=audit(1795082513.400:341): apparmor=\"ALLOWED\" name=\"\x1b]0;owned\x07\"".into(),
                "third".into(),
                "fourth".into(),
            ],
        },
    )]);
    let card = render_card(&c, BASE, Ok(&placed), &evidence, (4, 9), 2, false);
    assert!(!card.contains('\x1b'), "nothing reaches the terminal raw");
    insta::assert_snapshot!("review_blocked_model_card", card);
}

#[test]
fn unplaceable_rule_card_says_why() {
    let mut c = model_proposal();
    c.covers.clear();
    let card = render_card(
        &c,
        BASE,
        Err("no profile or hat named [\"nosuch\"]"),
        &BTreeMap::new(),
        (1, 1),
        3,
        false,
    );
    assert!(card.contains("error: cannot place this rule: no profile or hat named"));
    assert!(card.contains("evidence: none"));
}
