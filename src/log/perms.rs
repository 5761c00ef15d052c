//! Access masks (`requested_mask`, `denied_mask`) parsed into permission tokens.
//!
//! Two spellings exist in logs: file modes (`rw`, `mr`, `::r`, `Px`, with `::` separating
//! owner from other in old kernels) and words (`read create`, `send receive`, `bind`).
//! This module turns either into a sorted, de-duplicated list of tokens; it does not decide
//! what rule grants them (that is drafting's job).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Permission tokens of one mask, sorted and unique: file-mode letters (`r`, `w`, `a`, `l`,
/// `k`, `m`, `x`, `c`, `d`, with exec qualifiers kept whole: `ix`, `px`, `Px`, `ux`, `Ux`,
/// `cx`, `Cx`, `pix`) or words (`read`, `send`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Perms(pub Vec<String>);

impl Perms {
    /// Parse a mask as logged. Unknown characters are kept as single-character tokens.
    pub fn parse(mask: &str) -> Perms {
        let mut out: Vec<String> = Vec::new();
        let words = mask.contains(' ')
            || mask.len() > 3 && mask.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if words {
            out.extend(mask.split_whitespace().map(str::to_string));
        } else {
            let b: Vec<char> = mask.chars().filter(|&c| c != ':').collect();
            let mut i = 0;
            while i < b.len() {
                let c = b[i];
                let qual = matches!(c, 'i' | 'p' | 'P' | 'u' | 'U' | 'c' | 'C');
                if qual && b.get(i + 1) == Some(&'x') {
                    out.push(format!("{c}x"));
                    i += 2;
                } else if (c == 'p' || c == 'P')
                    && b.get(i + 1) == Some(&'i')
                    && b.get(i + 2) == Some(&'x')
                {
                    out.push(format!("{c}ix"));
                    i += 3;
                } else {
                    out.push(c.to_string());
                    i += 1;
                }
            }
        }
        out.sort();
        out.dedup();
        Perms(out)
    }

    /// True when no permission is present.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tokens.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = self.0.iter().any(|t| t.len() > 3);
        f.write_str(&self.0.join(if words { " " } else { "" }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_modes() {
        assert_eq!(Perms::parse("rw").0, ["r", "w"]);
        assert_eq!(Perms::parse("::r").0, ["r"]);
        assert_eq!(Perms::parse("Pxr").0, ["Px", "r"]);
        assert_eq!(Perms::parse("mr").to_string(), "mr");
    }

    #[test]
    fn words() {
        assert_eq!(Perms::parse("read create").0, ["create", "read"]);
        assert_eq!(Perms::parse("send").0, ["send"]);
        assert_eq!(Perms::parse("override_creds").0, ["override_creds"]);
    }
}
