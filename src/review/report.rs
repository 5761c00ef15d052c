//! The machine-readable report of `tune --json` (schema documented in
//! `docs/json-schema.md`, section "tune --json"; versioned by [`SCHEMA_VERSION`]).
//!
//! Adding a field is a compatible change; renaming, removing or changing the meaning of one
//! bumps the version.

use serde::{Deserialize, Serialize};

use crate::check::injection::NameFlag;
use crate::check::{Checked, Severity, Verdict};
use crate::draft::{Alternative, Source};

use super::decisions::Decision;

/// The version of the report's schema.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The file reviewed (the profile, or its `local/` override with `--local`).
    pub file: String,
    /// Every event group read from the logs for the profile, in id order.
    pub groups: Vec<GroupEntry>,
    /// Every proposal, in id order.
    pub proposals: Vec<ProposalEntry>,
    /// Ids of groups the current profile does not cover.
    pub uncovered: Vec<String>,
    /// Ids of uncovered groups that no proposal short of `blocked` covers.
    pub unresolved: Vec<String>,
}

/// One event group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupEntry {
    /// `G1`, `G2`, ….
    pub id: String,
    /// The profile (or `profile//hat`) the events were logged for.
    pub profile: String,
    /// Mediation class, e.g. `file`, `capability`, `network`.
    pub class: String,
    /// Operation, e.g. `open`, `capable`, `connect`.
    pub operation: String,
    /// The resource, e.g. a path, a capability name, `inet stream`.
    pub resource: String,
    /// The requested (denied) permissions, e.g. `w`, as logged.
    pub mask: String,
    /// Number of events in the group.
    pub count: usize,
    /// How the current profile covers the group (e.g. the covering rule), or null.
    pub covered_by: Option<String>,
    /// Names in the group's events that read like instructions to a model
    /// (`instruction-like-name`, [`crate::check::injection`]); empty for ordinary groups.
    #[serde(default)]
    pub flags: Vec<NameFlag>,
}

/// One finding of the cross-check.
#[derive(Debug, Clone, Serialize)]
pub struct FindingEntry {
    /// Stable kebab-case code (`docs/findings.md`).
    pub code: String,
    /// `note`, `warning` or `error`.
    pub severity: Severity,
    /// Detail for this instance.
    pub message: String,
}

/// One proposal with its cross-check.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalEntry {
    /// `P1`, `P2`, ….
    pub id: String,
    /// Profile (or `profile//hat`) the rule is for.
    pub profile: String,
    /// The rule text.
    pub rule: String,
    /// `drafter`, `model` or `human`.
    pub source: Source,
    /// Group ids the rule really covers (computed by the cross-check).
    pub evidence: Vec<String>,
    /// Group ids of which the rule covers some events but not all.
    pub partial_evidence: Vec<String>,
    /// Group ids the proposer claimed.
    pub claimed_evidence: Vec<String>,
    /// `ok`, `review` or `blocked`.
    pub verdict: Verdict,
    /// What the cross-check noticed.
    pub findings: Vec<FindingEntry>,
    /// Other ways to write the rule.
    pub alternatives: Vec<Alternative>,
    /// Permissions beyond those observed.
    pub extra_perms: Vec<String>,
    /// Number of known paths opened beyond the evidence.
    pub extra_path_count: usize,
    /// A remembered decision about exactly this rule, if any.
    pub remembered: Option<Decision>,
}

impl ProposalEntry {
    /// The entry for a checked proposal.
    pub fn new(c: &Checked, remembered: Option<Decision>) -> ProposalEntry {
        ProposalEntry {
            id: c.proposal.id.clone(),
            profile: c.proposal.profile.clone(),
            rule: c.proposal.rule.clone(),
            source: c.proposal.source,
            evidence: c.covers.clone(),
            partial_evidence: c.partial.clone(),
            claimed_evidence: c.proposal.claimed_evidence.clone(),
            verdict: c.verdict,
            findings: c
                .findings
                .iter()
                .map(|f| FindingEntry {
                    code: f.code.clone(),
                    severity: f.severity,
                    message: f.message.clone(),
                })
                .collect(),
            alternatives: c.proposal.alternatives.clone(),
            extra_perms: c.extra_perms.clone(),
            extra_path_count: c.extra_path_count,
            remembered,
        }
    }
}

/// Ids in `uncovered` that no proposal short of `blocked` covers.
pub fn unresolved(uncovered: &[String], proposals: &[Checked]) -> Vec<String> {
    // one set of what is covered, not a scan of every proposal per group
    let covered: std::collections::HashSet<&str> = proposals
        .iter()
        .filter(|c| c.verdict != Verdict::Blocked)
        .flat_map(|c| c.covers.iter().map(String::as_str))
        .collect();
    uncovered
        .iter()
        .filter(|g| !covered.contains(g.as_str()))
        .cloned()
        .collect()
}
