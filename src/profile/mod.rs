//! The AppArmor profile language: lossless parse, typed view, edit, includes and variables.
//!
//! Owns: the concrete syntax tree ([`cst`]), the typed rule view ([`rule`]), the validity
//! checks that mirror `apparmor_parser` ([`check`]), include resolution and variable
//! expansion ([`resolve`]), and the edit API ([`edit`]). It does not match paths against
//! patterns (that is [`crate::aare`]) and does not read audit logs (that is [`crate::log`]).
//!
//! # What is preserved
//! Printing an unedited [`ProfileFile`] gives back the input byte for byte: every byte belongs
//! to some node's prefix trivia (whitespace, comments), its text, or the file's trailing
//! trivia. Edits only touch the node they name; an inserted rule copies the indentation of
//! the rule it follows. Not preserved: nothing is re-formatted, so a rule you insert is
//! printed exactly as you pass it (plus indentation and a newline).

pub mod check;
pub mod cst;
pub mod edit;
pub mod find;
pub mod resolve;
pub mod rule;

use std::fmt;

pub use cst::{Block, Node, NodeKind, ProfileFile};
pub use edit::EditError;
pub use resolve::{
    EffectiveProfile, FileRuleInfo, IncludeMode, LoadedPolicy, Loader, OtherRuleInfo, Warning,
};
pub use rule::{Qualifiers, Rule, RuleKind};

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub col: u32,
}

/// A syntax or validity error, printed as `file:line:col: message`. The message may quote
/// the profile text, and the file name is a path: both are shown through
/// [`crate::display::Untrusted`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{}:{}:{}: {}",
    crate::display::Untrusted(.file),
    .pos.line,
    .pos.col,
    crate::display::Untrusted(.message)
)]
pub struct ParseError {
    /// The file the error is in.
    pub file: String,
    /// Where in the file.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Position of byte `off` of `text`, where `text` starts at `start`.
pub(crate) fn advance(start: Pos, text: &str, off: usize) -> Pos {
    let mut p = start;
    let end = off.min(text.len());
    let mut i = 0;
    for ch in text.chars() {
        if i >= end {
            break;
        }
        if ch == '\n' {
            p.line += 1;
            p.col = 1;
        } else {
            p.col += 1;
        }
        i += ch.len_utf8();
    }
    p
}

/// Parse and check one statement on its own (a rule, include, variable, `abi` or `alias`
/// line), the way it would be checked inside a profile. Rules are checked strictly: unknown
/// rule kinds are errors here.
pub fn parse_one(text: &str) -> Result<rule::Statement, ParseError> {
    let ctx = rule::Ctx {
        file: "<rule>",
        start: Pos { line: 1, col: 1 },
        text: text.trim(),
    };
    let st = rule::parse_statement(&ctx)?;
    if let rule::Statement::Rule(r) = &st {
        check::check_rule(r, &ctx, true)?;
    }
    Ok(st)
}
