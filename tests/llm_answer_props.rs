//! Property tests of the answer parser (the in-tree twin of `fuzz/fuzz_targets/answer_parse.rs`):
//! arbitrary text and mangled valid answers never panic, and nothing reported clean cites an
//! unknown group or profile or carries a multi-line rule.
#![allow(clippy::unwrap_used)]

use aa_assist::llm::parse_answer;
use aa_assist::prompt::BatchContext;
use proptest::prelude::*;

fn ctx() -> BatchContext {
    BatchContext {
        batch_id: "B1".into(),
        group_ids: vec!["G1".into(), "G2".into()],
        profiles: vec!["/usr/bin/foo".into()],
    }
}

fn check(text: &str, cut_off: bool) -> Result<(), TestCaseError> {
    let c = ctx();
    let parsed = parse_answer(text, cut_off, &c);
    let clean = parsed.clean();
    for p in &clean.proposals {
        prop_assert!(c.profiles.contains(&p.profile));
        prop_assert!(!p.evidence.is_empty());
        prop_assert!(p.evidence.iter().all(|e| c.group_ids.contains(e)));
        prop_assert!(!p.rule.contains('\n'));
    }
    for e in &clean.explanations {
        prop_assert!(c.group_ids.contains(&e.group));
    }
    if cut_off {
        prop_assert!(!parsed.is_json());
    }
    Ok(())
}

const VALID: &str = r#"{"proposals":[{"profile":"/usr/bin/foo","rule":"/etc/foo r,","evidence":["G1"],"rationale":"r","risk":"low"}],"explanations":[{"group":"G2","text":"t"}]}"#;

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}", cut in any::<bool>()) {
        check(&text, cut)?;
    }

    #[test]
    fn mangled_answers_never_pass_bad_items(
        cut_at in 0usize..VALID.len(),
        insert in "[{}\\[\\]\",:a-zG0-9 /*\\n]{0,12}",
        profile in prop::sample::select(vec!["/usr/bin/foo", "/usr/bin/bar", ""]),
        group in prop::sample::select(vec!["G1", "G2", "G3", "g1", ""]),
        rule in prop::sample::select(vec!["/etc/foo r,", "/** rwx,", "/a r,\n}", "capability,", "x"]),
    ) {
        let mut text = VALID.replace("/usr/bin/foo", profile).replace("\"G1\"", &format!("\"{group}\"")).replace("/etc/foo r,", &rule.replace('\n', "\\n"));
        let at = (0..=cut_at.min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text.insert_str(at, &insert);
        check(&text, false)?;
        check(&text[..at], false)?;
    }
}
