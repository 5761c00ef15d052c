//! Proposals: candidate rules for uncovered event groups.
//!
//! Owns the deterministic, offline drafter (first-choice minimal rule plus alternatives) and
//! the [`Proposal`] type every proposer produces, the model included. It does not judge
//! proposals: that is [`crate::check`]'s job, and nothing here trusts a proposal's claims.

pub mod globs;
pub mod perms;

use serde::{Deserialize, Serialize};

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
