//! File permissions as the drafter merges them, the way the AppArmor utils do.
//!
//! Owns the set of plain file permissions (`m r w a l k`) and the conversion from a logged
//! mask: create/delete become `w`, old `owner::other` masks set the owner flag, an `x` seen
//! beside other permissions is dropped (a separate exec event carries it), and `a` is dropped
//! when `w` is present. Exec modes are not here: the drafter writes exec rules itself.

use std::fmt;

/// A set of plain file permissions, written in the utils' order `m r w a l k`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FilePerms(u8);

const ORDER: [(char, u8); 6] = [('m', 1), ('r', 2), ('w', 4), ('a', 8), ('l', 16), ('k', 32)];

/// Why a logged mask could not be turned into permissions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaskError {
    /// A character that is not a file permission.
    #[error("unknown permission {0:?} in mask {1:?}")]
    Unknown(char, String),
    /// An old-style mask with both owner and other permissions.
    #[error("mask {0:?} has both owner and other permissions")]
    OwnerAndOther(String),
}

impl FilePerms {
    /// The empty set.
    pub const NONE: FilePerms = FilePerms(0);

    /// Parses permission letters (`mrwalk`), e.g. from a rule.
    pub fn parse_letters(s: &str) -> Option<FilePerms> {
        let mut p = FilePerms::NONE;
        for ch in s.chars() {
            p.0 |= ORDER.iter().find(|(c, _)| *c == ch)?.1;
        }
        Some(p)
    }

    /// True when every permission of `other` is in `self`.
    pub fn contains(self, other: FilePerms) -> bool {
        self.0 & other.0 == other.0
    }

    /// Union.
    pub fn union(self, other: FilePerms) -> FilePerms {
        FilePerms(self.0 | other.0)
    }

    /// Permissions in `self` but not in `other`.
    pub fn minus(self, other: FilePerms) -> FilePerms {
        FilePerms(self.0 & !other.0)
    }

    /// True when empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when the set has `w` or `a`.
    pub fn writes(self) -> bool {
        self.0 & (4 | 8) != 0
    }

    /// Each permission as its own letter, in write order.
    pub fn letters(self) -> Vec<char> {
        ORDER
            .iter()
            .filter(|(_, b)| self.0 & b != 0)
            .map(|(c, _)| *c)
            .collect()
    }

    /// The set as a rule writes it, with `a` dropped when `w` is present (`w` implies it).
    pub fn normalized(self) -> FilePerms {
        if self.0 & 4 != 0 {
            FilePerms(self.0 & !8)
        } else {
            self
        }
    }
}

impl fmt::Display for FilePerms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.letters() {
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// A logged file mask turned into permissions, with the owner flag old masks carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoggedMask {
    /// The permissions.
    pub perms: FilePerms,
    /// True for an old `perms::` mask (owner permissions).
    pub owner: bool,
}

/// Converts a logged (denied) mask the way the utils do: `c`/`d` → `w`; `owner::other`
/// splits into the owner flag; `x` beside other permissions is dropped.
pub fn from_logged_mask(mask: &str) -> Result<LoggedMask, MaskError> {
    let mut m: String = mask.replace(['c', 'd'], "w");
    let mut owner = false;
    if let Some((o, other)) = m.split_once("::") {
        if !o.is_empty() && !other.is_empty() {
            return Err(MaskError::OwnerAndOther(mask.to_string()));
        }
        owner = !o.is_empty();
        m = if owner {
            o.to_string()
        } else {
            other.to_string()
        };
    }
    if m.contains('x') && m != "x" {
        m = m.replace('x', "");
    }
    let mut perms = FilePerms::NONE;
    for ch in m.chars() {
        if ch == 'x' {
            continue;
        }
        perms = perms.union(
            FilePerms::parse_letters(&ch.to_string())
                .ok_or_else(|| MaskError::Unknown(ch, mask.to_string()))?,
        );
    }
    Ok(LoggedMask { perms, owner })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> FilePerms {
        FilePerms::parse_letters(s).expect("valid letters")
    }

    #[test]
    fn merges_like_the_utils() {
        let cases = [
            ("r", "r", false),
            ("c", "w", false),
            ("wc", "w", false),
            ("d", "w", false),
            ("xm", "m", false),
            ("r::", "r", true),
            ("::r", "r", false),
            ("wc::", "w", true),
            ("k", "k", false),
            ("rwa", "rwa", false),
        ];
        for (mask, want, owner) in cases {
            let got = from_logged_mask(mask).expect(mask);
            assert_eq!(got.perms, p(want), "{mask}");
            assert_eq!(got.owner, owner, "{mask}");
        }
        assert!(from_logged_mask("r::w").is_err());
        assert!(from_logged_mask("rq").is_err());
    }

    #[test]
    fn writes_in_order_and_drops_a_beside_w() {
        assert_eq!(p("krwm").to_string(), "mrwk");
        assert_eq!(p("wa").normalized().to_string(), "w");
        assert_eq!(p("a").normalized().to_string(), "a");
        assert!(p("mrw").contains(p("rw")));
        assert_eq!(p("rwk").minus(p("r")).to_string(), "wk");
    }
}
