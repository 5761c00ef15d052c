//! The cross-check: what a proposed rule really covers and what else it would grant.
//!
//! Owns coverage (which event groups a rule resolves, computed against the real audit
//! events, never taken from the proposer), over-grant measures (permissions and paths beyond
//! the evidence), danger findings with stable codes, and the verdict. It never edits or writes
//! a profile.

pub mod findings;
pub mod sensitive;

pub use findings::Code;

use serde::{Deserialize, Serialize};

/// How far a proposal may be trusted, ordered: `Ok < Review < Blocked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Justified by the evidence and minimal.
    Ok,
    /// Justified, but broader than the evidence (or from a model): a human must look closely.
    Review,
    /// No evidence, dangerous, or invalid: shown, but cannot be approved as is.
    Blocked,
}

/// How much a finding weighs on the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; does not change the verdict.
    Note,
    /// Lifts the verdict to at least `review`.
    Warning,
    /// Lifts the verdict to `blocked`.
    Error,
}

/// One thing the cross-check noticed about a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable kebab-case code, documented in `docs/findings.md`.
    pub code: String,
    /// Its weight.
    pub severity: Severity,
    /// Human-readable detail for this instance.
    pub message: String,
}

/// A proposal after the cross-check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checked {
    /// The proposal as proposed.
    pub proposal: crate::draft::Proposal,
    /// Group ids the rule really covers, computed from the events.
    pub covers: Vec<String>,
    /// Claimed group ids the rule does not cover (or that do not exist).
    pub unsupported_claims: Vec<String>,
    /// Paths from the universe the rule would open beyond the evidence, most sensitive first.
    pub extra_paths: Vec<String>,
    /// Number of universe paths matched beyond the evidence.
    pub extra_path_count: usize,
    /// Permissions granted beyond what was observed, e.g. `["w", "k"]`.
    pub extra_perms: Vec<String>,
    /// What was noticed.
    pub findings: Vec<Finding>,
    /// The resulting level.
    pub verdict: Verdict,
}
