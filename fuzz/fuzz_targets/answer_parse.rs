//! Fuzz the model-answer parser: arbitrary bytes as model text, with and without the
//! "cut off" flag, against a fixed batch context. The parser must never panic, and every
//! item it reports clean must cite only known groups and profiles.
//!
//! The batch is built once per process, not per input.
//!
//! Run: `cargo +nightly fuzz run answer_parse` (see `fuzz/README.md`).
#![no_main]

use std::sync::LazyLock;

use aa_assist::llm::parse_answer;
use aa_assist::prompt::BatchContext;
use libfuzzer_sys::fuzz_target;

/// The fixed batch every answer is parsed against.
static CTX: LazyLock<BatchContext> = LazyLock::new(|| BatchContext {
    batch_id: "B1".into(),
    group_ids: vec!["G1".into(), "G2".into()],
    profiles: vec!["/usr/bin/foo".into()],
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ctx = &*CTX;
    for cut_off in [false, true] {
        let parsed = parse_answer(text, cut_off, ctx);
        let clean = parsed.clean();
        for p in &clean.proposals {
            assert!(ctx.profiles.contains(&p.profile));
            assert!(!p.evidence.is_empty());
            assert!(p.evidence.iter().all(|e| ctx.group_ids.contains(e)));
            assert!(!p.rule.contains('\n'));
        }
        for e in &clean.explanations {
            assert!(ctx.group_ids.contains(&e.group));
        }
        if cut_off {
            assert!(!parsed.is_json());
        }
    }
});
