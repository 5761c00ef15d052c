//! The human review of checked proposals, and the safe write of what the human approved.
//!
//! Owns: rendering a proposal as a line-numbered profile diff with its evidence, verdict and
//! findings ([`diff`], [`Session`]); the review loop driven through a small [`Prompter`] trait
//! (approve, pick an alternative, toggle `owner`/`audit`, make it `deny`, edit, skip, quit);
//! the memory of past decisions ([`decisions`]); the JSON report ([`report`]); validation
//! with the real `apparmor_parser` ([`validate`]); and the atomic write with a backup
//! ([`write`]).
//!
//! It does not parse profiles, logs or rules, and it does not judge rules: inserting a rule
//! into a profile text is the caller's [`Applier`], and every changed rule is re-judged
//! through the caller's [`Recheck`]. Nothing here writes a file while reviewing: an approval
//! is data (an [`Edit`]), applied only after the final confirmation by the caller.

pub mod decisions;
pub mod diff;
pub mod local;
pub mod report;
pub mod rule_text;
mod session;
pub mod validate;
pub mod write;

pub use diff::{render_diff, unified_patch};
pub use session::{
    render_card, Applier, Evidence, Prompter, Recheck, ReviewOutcome, Session, SessionOptions,
    Skipped,
};

use crate::check::Checked;

/// One approved change: which proposal, and the exact rule that goes into which profile.
///
/// This is data only. [`apply_edits`] turns a list of them into the new file text.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// The proposal as finally approved (after any edit or toggle), with its re-check.
    pub checked: Checked,
    /// Always false: a remembered approval is asked again (see [`decisions`]); kept for
    /// callers that still read it.
    pub remembered: bool,
}

impl Edit {
    /// The profile (or `profile//hat`) the rule goes into.
    pub fn profile(&self) -> &str {
        &self.checked.proposal.profile
    }

    /// The rule text as approved.
    pub fn rule(&self) -> &str {
        &self.checked.proposal.rule
    }
}

/// Why approved edits could not be applied to the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot add {rule:?} to profile {profile:?}: {reason}")]
pub struct ApplyError {
    /// The profile the rule was meant for.
    pub profile: String,
    /// The rule text.
    pub rule: String,
    /// What the applier said.
    pub reason: String,
}

/// Apply `edits` one after another to `base` through `applier`, giving the new file text.
pub fn apply_edits(
    applier: &dyn Applier,
    base: &str,
    edits: &[Edit],
) -> Result<String, ApplyError> {
    let mut text = base.to_string();
    for e in edits {
        text = applier
            .apply(&text, e.profile(), e.rule())
            .map_err(|reason| ApplyError {
                profile: e.profile().to_string(),
                rule: e.rule().to_string(),
                reason,
            })?;
    }
    Ok(text)
}

/// Make attacker-controlled text safe to show on a terminal: [`crate::display::escape`]
/// (control characters, bidirectional overrides and invisible characters are shown as
/// `\x1b`-style escapes; tabs are kept). Kept under this name for its many callers.
pub fn sanitize(s: &str) -> String {
    crate::display::escape(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_escapes_terminal_controls() {
        assert_eq!(sanitize("a\x1b[31mb\rc\td"), "a\\x1b[31mb\\x0dc\td");
        assert_eq!(sanitize("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(sanitize("/etc/ünï r,"), "/etc/ünï r,");
        assert_eq!(
            sanitize("a\u{200b}b\u{e0041}\u{ad}"),
            "a\\u{200b}b\\u{e0041}\\xad"
        );
    }
}
