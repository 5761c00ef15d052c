//! Editing the tree: insert, replace or remove one rule in a named profile or hat, leaving
//! every other byte as it was.

use super::cst::{Block, Node, NodeKind, ProfileFile};
use super::rule::{parse_block_header, parse_statement, BlockHeader, Ctx, Statement};
use super::Pos;

/// Why an edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// No profile or hat with that path.
    #[error("no profile or hat named {0:?}")]
    NoSuchProfile(Vec<String>),
    /// The rule text does not parse as exactly one rule.
    #[error("not a single valid rule: {}", crate::display::Untrusted(.0))]
    BadRule(String),
    /// The rule text holds a raw control, bidirectional or invisible character
    /// ([`crate::display::is_hidden`]): a profile never receives one (write `\xHH` instead).
    #[error(
        "the rule holds a raw control, bidirectional or invisible character: {}",
        crate::display::Untrusted(.0)
    )]
    HiddenCharacter(String),
    /// The rule to replace or remove is not in the profile.
    #[error("rule {0:?} not found in the profile")]
    NoSuchRule(String),
}

fn refuse_hidden(rule: &str) -> Result<(), EditError> {
    if crate::display::has_hidden(rule) {
        return Err(EditError::HiddenCharacter(rule.to_string()));
    }
    Ok(())
}

fn profile_name(n: &Node) -> Option<String> {
    let NodeKind::Block(b) = &n.kind else {
        return None;
    };
    let ctx = Ctx {
        file: "",
        start: n.pos,
        text: &b.header,
    };
    match parse_block_header(&ctx).ok()? {
        BlockHeader::Profile(h) => Some(if h.hat {
            format!("^{}", h.name)
        } else {
            h.name
        }),
        _ => None,
    }
}

/// Find the children list of the profile at `path` (each element a profile name; hats may be
/// given as `^hat` or `hat`).
fn find_block<'a>(nodes: &'a mut [Node], path: &[&str]) -> Option<&'a mut Block> {
    let (first, rest) = path.split_first()?;
    for n in nodes.iter_mut() {
        let Some(name) = profile_name(n) else {
            continue;
        };
        let matches =
            name == *first || name.strip_prefix('^') == Some(first.trim_start_matches('^'));
        if !matches {
            continue;
        }
        let NodeKind::Block(b) = &mut n.kind else {
            continue;
        };
        if rest.is_empty() {
            return Some(b);
        }
        return find_block(&mut b.children, rest);
    }
    None
}

fn rule_kind_of(text: &str) -> Option<String> {
    let ctx = Ctx {
        file: "",
        start: Pos { line: 1, col: 1 },
        text,
    };
    match parse_statement(&ctx).ok()? {
        Statement::Rule(r) => Some(r.kind.name().to_string()),
        Statement::Include(_) => Some("include".into()),
        _ => None,
    }
}

fn indentation(prefix: &str) -> &str {
    match prefix.rfind('\n') {
        Some(i) => &prefix[i + 1..],
        None => "",
    }
}

impl ProfileFile {
    /// Insert `rule_text` (e.g. `/etc/foo r,`) into the profile at `profile_path`, after the
    /// last rule of the same kind (else after the last rule, else before the closing brace),
    /// copying that rule's indentation. Returns the new file text.
    pub fn insert_rule(
        &mut self,
        profile_path: &[&str],
        rule_text: &str,
    ) -> Result<String, EditError> {
        let rule_text = rule_text.trim();
        refuse_hidden(rule_text)?;
        let kind =
            rule_kind_of(rule_text).ok_or_else(|| EditError::BadRule(rule_text.to_string()))?;
        let path: Vec<String> = profile_path.iter().map(|s| s.to_string()).collect();
        let block =
            find_block(&mut self.nodes, profile_path).ok_or(EditError::NoSuchProfile(path))?;
        let children = &mut block.children;
        let mut last_same = None;
        let mut last_any = None;
        for (i, c) in children.iter().enumerate() {
            if let NodeKind::Statement(t) = &c.kind {
                if let Some(k) = rule_kind_of(t) {
                    if k != "include" {
                        last_any = Some(i);
                    }
                    if k == kind {
                        last_same = Some(i);
                    }
                }
            }
        }
        let anchor = last_same.or(last_any);
        let (at, indent) = match anchor {
            Some(i) => (i + 1, indentation(&children[i].prefix).to_string()),
            None => (
                children.len(),
                children
                    .last()
                    .map(|c| indentation(&c.prefix).to_string())
                    .unwrap_or_else(|| "  ".to_string()),
            ),
        };
        // A comment on the anchor's line stays on that line.
        let following = match children.get_mut(at) {
            Some(n) => &mut n.prefix,
            None => &mut block.close_prefix,
        };
        let same_line = match following.find('\n') {
            Some(nl) if anchor.is_some() => {
                let s = following[..nl].to_string();
                *following = following[nl..].to_string();
                s
            }
            _ => String::new(),
        };
        let children = &mut block.children;
        children.insert(
            at,
            Node {
                prefix: format!("{same_line}\n{indent}"),
                pos: Pos::default(),
                kind: NodeKind::Statement(rule_text.to_string()),
            },
        );
        Ok(self.to_text())
    }

    /// Replace the rule whose text (trimmed) equals `old` with `new`, keeping its trivia.
    pub fn replace_rule(
        &mut self,
        profile_path: &[&str],
        old: &str,
        new: &str,
    ) -> Result<String, EditError> {
        let new = new.trim();
        refuse_hidden(new)?;
        rule_kind_of(new).ok_or_else(|| EditError::BadRule(new.to_string()))?;
        let path: Vec<String> = profile_path.iter().map(|s| s.to_string()).collect();
        let children = &mut find_block(&mut self.nodes, profile_path)
            .ok_or(EditError::NoSuchProfile(path))?
            .children;
        let node = children
            .iter_mut()
            .find(|c| matches!(&c.kind, NodeKind::Statement(t) if t.trim() == old.trim()))
            .ok_or_else(|| EditError::NoSuchRule(old.to_string()))?;
        node.kind = NodeKind::Statement(new.to_string());
        Ok(self.to_text())
    }

    /// Remove the rule whose text (trimmed) equals `old`, together with its leading line
    /// break and indentation (comments above it stay).
    pub fn remove_rule(&mut self, profile_path: &[&str], old: &str) -> Result<String, EditError> {
        let path: Vec<String> = profile_path.iter().map(|s| s.to_string()).collect();
        let block =
            find_block(&mut self.nodes, profile_path).ok_or(EditError::NoSuchProfile(path))?;
        let children = &mut block.children;
        let i = children
            .iter()
            .position(|c| matches!(&c.kind, NodeKind::Statement(t) if t.trim() == old.trim()))
            .ok_or_else(|| EditError::NoSuchRule(old.to_string()))?;
        let removed = children.remove(i);
        // keep comments that were above the rule: move prefix minus its last line's indent
        let keep = match removed.prefix.rfind('\n') {
            Some(nl) => &removed.prefix[..nl],
            None => "",
        };
        if !keep.is_empty() {
            match children.get_mut(i) {
                Some(next) => next.prefix = format!("{keep}{}", next.prefix),
                None => block.close_prefix = format!("{keep}{}", block.close_prefix),
            }
        }
        Ok(self.to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "# head\n/usr/bin/foo {\n  #include <abstractions/base>\n  capability chown,\n    /etc/a r,\n  /etc/b w, # tail\n\n  ^hat {\n    /x r,\n  }\n}\n";

    #[test]
    fn rules_with_raw_hidden_characters_are_refused() {
        let src = "profile x {\n  /a r,\n}\n";
        for bad in ["/b\x1b]52;c;AA==\x07 r,", "/b\u{202e} r,", "/b\u{e0041} r,"] {
            let mut t = ProfileFile::parse("p", src).expect("parses");
            assert!(matches!(
                t.insert_rule(&["x"], bad),
                Err(EditError::HiddenCharacter(_))
            ));
            assert!(matches!(
                t.replace_rule(&["x"], "/a r,", bad),
                Err(EditError::HiddenCharacter(_))
            ));
        }
        let mut t = ProfileFile::parse("p", src).expect("parses");
        assert!(t.insert_rule(&["x"], "\"/b\\xe2\\x80\\xae\" r,").is_ok());
    }

    #[test]
    fn insert_after_same_kind_with_indent() {
        let mut f = ProfileFile::parse("t", SRC).expect("parses");
        let out = f
            .insert_rule(&["/usr/bin/foo"], "/etc/c r,")
            .expect("inserts");
        assert_eq!(
            out,
            SRC.replace("/etc/b w, # tail\n", "/etc/b w, # tail\n  /etc/c r,\n")
        );
    }

    #[test]
    fn insert_into_hat_and_remove() {
        let mut f = ProfileFile::parse("t", SRC).expect("parses");
        let out = f
            .insert_rule(&["/usr/bin/foo", "^hat"], "capability kill,")
            .expect("inserts");
        assert_eq!(
            out,
            SRC.replace("    /x r,\n", "    /x r,\n    capability kill,\n")
        );
        let mut g = ProfileFile::parse("t", SRC).expect("parses");
        let out = g
            .remove_rule(&["/usr/bin/foo"], "capability chown,")
            .expect("removes");
        assert_eq!(out, SRC.replace("\n  capability chown,", ""));
        let out = g
            .replace_rule(&["/usr/bin/foo"], "/etc/a r,", "/etc/a rw,")
            .expect("replaces");
        assert!(out.contains("    /etc/a rw,\n"));
    }
}
