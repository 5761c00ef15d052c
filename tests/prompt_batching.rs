//! Property: batching never exceeds the budget, never splits or loses a group, and keeps a
//! profile's groups together whenever they fit in one batch.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use aa_assist::prompt::{
    GroupData, Planner, PlannerOptions, PromptError, Task, Templates, TokenCounter,
};
use aa_assist::redact::{RedactConfig, Redactor};
use proptest::prelude::*;

/// (profile number, path, padding, extra fields)
type RawGroup = (usize, String, usize, Vec<(String, String)>);

fn arb_group() -> impl Strategy<Value = RawGroup> {
    (
        0usize..5,
        "[a-z/._-]{1,60}",
        0usize..400,
        prop::collection::vec(("[a-z_]{1,8}", "[ -~]{0,80}"), 0..4),
    )
}

fn build(raw: Vec<RawGroup>) -> Vec<GroupData> {
    raw.into_iter()
        .enumerate()
        .map(|(i, (p, path, pad, extra))| GroupData {
            id: format!("G{}", i + 1),
            profile: format!("/usr/bin/p{p}"),
            class: "file".into(),
            operation: "open".into(),
            mode: "DENIED".into(),
            // Some groups are huge, to exercise sampling.
            resource: format!("/{path}{}", "x/".repeat(pad * pad / 40)),
            mask: "r".into(),
            count: i as u64 + 1,
            comms: vec!["c".into()],
            extra: extra.into_iter().collect::<BTreeMap<_, _>>(),
            ..GroupData::default()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn batches_respect_the_budget(
        raw in prop::collection::vec(arb_group(), 1..30),
        budget in 700usize..4000,
    ) {
        let groups = build(raw);
        let counter = TokenCounter::for_model("test-model");
        let planner = Planner::new(Templates::default(), counter.clone(), PlannerOptions {
            task: Task::Draft,
            max_prompt_tokens: budget,
            ..PlannerOptions::default()
        });
        let mut red = Redactor::new(RedactConfig::default());
        match planner.plan(&groups, &[], &mut red) {
            Err(PromptError::BudgetTooSmall { budget: b, .. }) => prop_assert_eq!(b, budget),
            Err(e) => prop_assert!(false, "unexpected error {}", e),
            Ok(batches) => {
                let mut seen = Vec::new();
                for (i, b) in batches.iter().enumerate() {
                    prop_assert_eq!(&b.id, &format!("B{}", i + 1));
                    let recount = counter.count_chat(&b.system, &b.user);
                    prop_assert_eq!(recount, b.tokens);
                    prop_assert!(b.tokens <= budget, "{} > {}", b.tokens, budget);
                    prop_assert!(!b.group_ids.is_empty());
                    for id in &b.group_ids {
                        // Each group's line appears whole in its batch.
                        let needle = format!("{{\"id\":\"{id}\",");
                        prop_assert!(b.user.contains(&needle));
                        seen.push(id.clone());
                    }
                }
                let mut want: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
                seen.sort();
                want.sort();
                prop_assert_eq!(seen, want);
                // A profile whose groups fit comfortably in one batch is not split.
                let big = Planner::new(Templates::default(), counter.clone(), PlannerOptions {
                    task: Task::Draft,
                    max_prompt_tokens: 1_000_000,
                    ..PlannerOptions::default()
                });
                for p in 0..5 {
                    let name = format!("/usr/bin/p{p}");
                    let mine: Vec<GroupData> = groups.iter().filter(|g| g.profile == name).cloned().collect();
                    if mine.is_empty() {
                        continue;
                    }
                    let alone = big.plan(&mine, &[], &mut Redactor::new(RedactConfig::default())).unwrap();
                    if alone[0].tokens * 10 <= budget * 9 && mine.iter().all(|g| !batches.iter().any(|b| b.sampled.contains(&g.id))) {
                        let holding = batches.iter().filter(|b| b.profiles.contains(&name)).count();
                        prop_assert_eq!(holding, 1, "profile {} split", name);
                    }
                }
            }
        }
    }
}
