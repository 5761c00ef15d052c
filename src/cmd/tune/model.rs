//! `tune --llm`: ask the model for rules for the uncovered groups, and turn its answers into
//! model [`Proposal`](aa_assist::draft::Proposal)s that go through the same cross-check and
//! the same review as the drafter's.
//!
//! Answer → de-redacted ([`super::super::llm_args::send`]) → numbered and typed by
//! [`aa_assist::pack::answers::proposals`] → [`Checker::check`] → blocked when the answer item
//! had problems ([`aa_assist::pack::answers::block_for_problems`]: unknown group, another
//! profile, not one plain rule). Whole-answer problems (not JSON, cut off, wrong shape) are
//! reported on stderr as data; they never stop the run.

use std::path::PathBuf;

use aa_assist::check::{Checked, Checker};
use aa_assist::log::group::Grouping;
use aa_assist::log::Event;
use aa_assist::pack::answers::{self, AnswerOrigin, IngestedBatch};
use aa_assist::prompt::Task;
use aa_assist::review::sanitize;

use crate::cmd::llm_args::{self, LlmArgs};

/// Checked model proposals for `uncovered`, numbered after the `first_id - 1` proposals
/// already made.
pub fn proposals(
    llm: &LlmArgs,
    events: &[Event],
    grouping: &Grouping,
    uncovered: &[String],
    already: usize,
    checker: &Checker,
    quiet: bool,
) -> anyhow::Result<Vec<Checked>> {
    let settings = llm.resolve(true)?;
    if uncovered.is_empty() {
        return Ok(Vec::new());
    }
    let groups = aa_assist::pack::group_data(events, grouping, uncovered);
    let planned = settings.plan(Task::Draft, &groups, &[])?;
    let Some(replies) = llm_args::send(&settings, &planned, quiet)? else {
        if !quiet {
            eprintln!("note: the model was not asked (declined)");
        }
        return Ok(Vec::new());
    };
    let mut batches = Vec::new();
    for r in replies {
        if !quiet {
            for n in r.notes() {
                eprintln!("note: {}", sanitize(&n));
            }
        }
        if let Ok(reply) = r.reply {
            batches.push(IngestedBatch {
                batch_id: r.batch_id,
                // Not a file: the answer came over HTTP from this server.
                origin: AnswerOrigin::Pasted {
                    file: PathBuf::from(&settings.client.base_url),
                },
                parsed: Ok(reply.parsed),
            });
        }
    }
    let mut out = Vec::new();
    for (mut p, problems) in answers::proposals(&batches) {
        p.id = format!("P{}", already + out.len() + 1);
        let checked = answers::block_for_problems(checker.check(&p), &problems);
        out.push(checked);
    }
    if !quiet && !out.is_empty() {
        eprintln!(
            "{} model proposal(s) cross-checked: {} blocked",
            out.len(),
            out.iter()
                .filter(|c| c.verdict == aa_assist::check::Verdict::Blocked)
                .count()
        );
    }
    Ok(out)
}
