//! Which profile names a policy defines, and exec transitions to names it does not.
//!
//! Owns reading the names (`name`, `outer//child`, hats without their `^`) that the files of
//! a profile directory define, cheaply (syntax only, no include resolution), and the
//! `unknown-exec-target` finding for a `px`/`cx` rule whose `-> name` is not one of them.

use std::collections::BTreeSet;
use std::path::Path;

use crate::profile::cst::{Node, NodeKind, ProfileFile};
use crate::profile::rule::{parse_block_header, BlockHeader, Ctx, ExecMode, Rule, RuleKind};

use super::{Code, Finding};

/// Largest profile file read when collecting names.
const MAX_FILE_BYTES: u64 = 4 << 20;

/// Names of every profile and hat `text` (the file `file`) defines, nested ones joined with
/// `//`.
pub fn names_in_text(file: &str, text: &str) -> BTreeSet<String> {
    fn walk(file: &str, nodes: &[Node], path: &mut Vec<String>, out: &mut BTreeSet<String>) {
        for n in nodes {
            let NodeKind::Block(b) = &n.kind else {
                continue;
            };
            let header = parse_block_header(&Ctx {
                file,
                start: n.pos,
                text: &b.header,
            });
            match header {
                Ok(BlockHeader::Profile(h)) => {
                    path.push(h.name.trim_start_matches('^').trim_matches('"').to_string());
                    out.insert(path.join("//"));
                    walk(file, &b.children, path, out);
                    path.pop();
                }
                Ok(_) => walk(file, &b.children, path, out),
                Err(_) => {}
            }
        }
    }
    let (tree, _) = ProfileFile::parse_recovering(file, text);
    let mut out = BTreeSet::new();
    walk(file, &tree.nodes, &mut Vec::new(), &mut out);
    out
}

/// Names of every profile the regular files directly in `dir` define (subdirectories such
/// as `abstractions/` and `local/` hold no profiles of their own). Unreadable files are
/// skipped.
pub fn names_in_dir(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
            continue;
        }
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        out.extend(names_in_text(&p.display().to_string(), &text));
    }
    out
}

/// `unknown-exec-target` when `rule` is a `px`/`cx` transition to a named profile that
/// `known` does not hold. `profile` is the profile the rule belongs to (`cx -> child` names
/// `profile//child`). `-> unconfined` is `unconfined-exec`'s business.
pub fn unknown_exec_target(
    rule: &Rule,
    profile: &str,
    known: &BTreeSet<String>,
) -> Option<Finding> {
    if rule.qualifiers.deny {
        return None;
    }
    let RuleKind::File(f) = &rule.kind else {
        return None;
    };
    let target = f.target.as_deref()?.trim().trim_matches('"');
    if target.is_empty() || target == "unconfined" || target.contains(['@', '*', '?', '[', '{']) {
        return None;
    }
    // a stacked or namespaced target (`&name`, `a//&b`, `:ns:name`) is not judged here
    if target.contains('&') || target.starts_with(':') {
        return None;
    }
    let (wanted, kind) = match f.perms.exec? {
        // a child is judged only when its parent's file is in sight
        ExecMode::Child { .. } if !known.contains(profile) => return None,
        ExecMode::Child { .. } => (format!("{profile}//{target}"), "child profile"),
        ExecMode::Profile { .. } => (target.to_string(), "profile"),
        _ => return None,
    };
    if known.contains(&wanted) {
        return None;
    }
    Some(Code::UnknownExecTarget.finding(format!(
        "the {kind} {wanted} is not defined in the profile directory: until it is, the exec \
         fails, or runs unconfined with a `u` fallback"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::grant::parse_one;
    use crate::profile::rule::Statement;

    #[test]
    fn names_nested_and_hats() {
        let n = names_in_text(
            "t",
            "include <tunables/global>\n/usr/bin/foo {\n  profile helper {\n  }\n  ^hat {\n  }\n  if ${x} {\n    profile inner { }\n  }\n}\nprofile bar /usr/bin/bar flags=(complain) {\n}\n",
        );
        let want: BTreeSet<String> = [
            "/usr/bin/foo",
            "/usr/bin/foo//helper",
            "/usr/bin/foo//hat",
            "/usr/bin/foo//inner",
            "bar",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(n, want);
    }

    #[test]
    fn unknown_targets() {
        let known: BTreeSet<String> = ["foo", "foo//helper", "bar"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let f = |t: &str| {
            let Ok(Statement::Rule(r)) = parse_one(t) else {
                panic!("{t}")
            };
            unknown_exec_target(&r, "foo", &known).map(|f| f.code)
        };
        assert_eq!(f("/usr/bin/bar px -> bar,"), None);
        assert_eq!(f("/usr/bin/x cx -> helper,"), None);
        assert_eq!(
            f("/usr/bin/x Px -> baz,").as_deref(),
            Some("unknown-exec-target")
        );
        assert_eq!(
            f("/usr/bin/x cx -> nothere,").as_deref(),
            Some("unknown-exec-target")
        );
        assert_eq!(f("/usr/bin/x px,"), None);
        assert_eq!(f("/usr/bin/x px -> unconfined,"), None);
        assert_eq!(f("/usr/bin/x ix,"), None);
        assert_eq!(f("/usr/bin/x px -> bwrap//&loaders,"), None);
    }
}
