//! Diffs of a profile file before and after: a line-numbered one for the terminal, and a
//! plain unified patch for code review. Both come from `similar`'s line diff with three
//! lines of context.

use std::fmt::Write as _;

use console::Style;
use similar::{ChangeTag, TextDiff};

use super::sanitize;
use crate::display::Untrusted;

/// Render the change from `old` to `new` as hunks of line-numbered `-`/`+` lines:
///
/// ```text
/// @@ -12,3 +12,4 @@
///   12   12 |   capability setgid,
///        13 | + capability setuid,
/// ```
///
/// With `color`, removed lines are red and added lines green (ANSI), whatever the terminal.
/// Line contents are passed through [`sanitize`], so a hostile rule cannot drive the terminal.
/// Returns an empty string when the texts are equal.
pub fn render_diff(old: &str, new: &str, color: bool) -> String {
    let diff = TextDiff::from_lines(old, new);
    let red = Style::new().red().force_styling(color);
    let green = Style::new().green().force_styling(color);
    let dim = Style::new().dim().force_styling(color);
    let cyan = Style::new().cyan().force_styling(color);
    let mut out = String::new();
    for group in diff.grouped_ops(3) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_start = first.old_range().start;
        let old_len = last.old_range().end - old_start;
        let new_start = first.new_range().start;
        let new_len = last.new_range().end - new_start;
        let header = format!(
            "@@ -{},{} +{},{} @@",
            old_start + 1,
            old_len,
            new_start + 1,
            new_len
        );
        let _ = writeln!(out, "{}", cyan.apply_to(header));
        for op in &group {
            for change in diff.iter_changes(op) {
                let old_no = change
                    .old_index()
                    .map_or(String::new(), |i| (i + 1).to_string());
                let new_no = change
                    .new_index()
                    .map_or(String::new(), |i| (i + 1).to_string());
                let line = sanitize(change.value().trim_end_matches(['\n', '\r']));
                let numbers = dim.apply_to(format!("{old_no:>5} {new_no:>5} |"));
                let _ = match change.tag() {
                    ChangeTag::Equal => writeln!(out, "{numbers}   {line}"),
                    ChangeTag::Delete => {
                        writeln!(out, "{numbers} {}", red.apply_to(format!("- {line}")))
                    }
                    ChangeTag::Insert => {
                        writeln!(out, "{numbers} {}", green.apply_to(format!("+ {line}")))
                    }
                };
                if change.missing_newline() {
                    let _ = writeln!(out, "{}", dim.apply_to("\\ No newline at end of file"));
                }
            }
        }
    }
    out
}

/// A unified patch (`--- a/NAME` / `+++ b/NAME`) from `old` to `new`, suitable for
/// `patch -p1` or code review. Returns an empty string when the texts are equal.
///
/// The patch is read by people (`cat`, `less`, a code review page): every line goes through
/// [`crate::display::Untrusted`] (CRLF line ends kept). A hunk that shows a profile line
/// holding a raw control, bidi or invisible character therefore no longer applies: that is
/// the safe failure; the tool itself never writes such a character into a profile.
pub fn unified_patch(name: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let diff = TextDiff::from_lines(old, new);
    let raw = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string();
    let mut out = String::with_capacity(raw.len());
    for line in raw.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix("\r\n") {
            Some(b) => (b, "\r\n"),
            None => match line.strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (line, ""),
            },
        };
        out.push_str(&Untrusted(body).to_string());
        out.push_str(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "profile x {\n  /a r,\n  /b r,\n}\n";
    const NEW: &str = "profile x {\n  /a r,\n  /b r,\n  /c w,\n}\n";

    #[test]
    fn render_has_numbers_and_signs() {
        let d = render_diff(OLD, NEW, false);
        assert_eq!(
            d,
            "@@ -1,4 +1,5 @@\n    1     1 |   profile x {\n    2     2 |     /a r,\n    3     3 |     /b r,\n          4 | +   /c w,\n    4     5 |   }\n"
        );
    }

    #[test]
    fn render_colors_only_when_asked() {
        assert!(!render_diff(OLD, NEW, false).contains('\x1b'));
        assert!(render_diff(OLD, NEW, true).contains("\x1b[32m"));
    }

    #[test]
    fn render_sanitizes_hostile_lines() {
        let new = "profile x {\n  /a\x1b]0;pwned\x07 r,\n}\n";
        let d = render_diff("profile x {\n}\n", new, false);
        assert!(!d.contains('\x1b'), "{d:?}");
        assert!(d.contains("\\x1b]0;pwned\\x07"));
    }

    #[test]
    fn equal_texts_give_nothing() {
        assert_eq!(render_diff(OLD, OLD, true), "");
        assert_eq!(unified_patch("p", OLD, OLD), "");
    }

    #[test]
    fn patch_escapes_hostile_lines_and_keeps_crlf() {
        let old = "profile x {\r\n  # \x1b]52;c;AA==\x07\u{202e}\r\n}\r\n";
        let new = "profile x {\r\n  # \x1b]52;c;AA==\x07\u{202e}\r\n  /c w,\r\n}\r\n";
        let p = unified_patch("p", old, new);
        assert!(!p.contains('\x1b') && !p.contains('\u{202e}'), "{p:?}");
        assert!(p.contains(" # \\x1b]52;c;AA==\\x07\\u{202e}\r\n"), "{p:?}");
        assert!(p.contains("\n+  /c w,\r\n"), "{p:?}");
    }

    #[test]
    fn patch_applies_with_headers() {
        let p = unified_patch("usr.sbin.x", OLD, NEW);
        assert!(p.starts_with("--- a/usr.sbin.x\n+++ b/usr.sbin.x\n@@ -1,4 +1,5 @@\n"));
        assert!(p.contains("\n+  /c w,\n"));
    }
}
