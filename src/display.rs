//! The one way untrusted text reaches a person: [`Untrusted`].
//!
//! Every string that came from a log, a profile or a model (file names, `comm`, profile
//! names, rule text, parse-error excerpts, model explanations) is attacker-controlled. Shown
//! raw on a terminal, it can move the cursor, rewrite the screen, set the window title, write
//! the clipboard (OSC 52), plant links (OSC 8), or reorder what the reader sees (bidi
//! overrides), and invisible characters (zero-width, Unicode tags) can hide text from the
//! reader that a model still reads.
//!
//! [`Untrusted`] wraps such a string; its `Display` writes every [`is_hidden`] character as a
//! visible escape (`\x1b`, `\x0a`, `\u{202e}`, `\u{e0041}`) and every other character as is.
//! Tabs are kept. [`escape`] is the same as a `String`. Nothing else in the crate escapes
//! text for display: `crate::review::sanitize` is this function under its older name.
//!
//! This is for people. `--json` output is exact JSON (serde escapes controls as JSON
//! requires, and keeps the value exact), and a profile never receives raw control characters
//! (the drafter and the model-answer check refuse them; see `crate::draft`).

use std::fmt;

/// Characters that change how text around them is shown, or hide text: C0 and C1 controls and
/// DEL (so every escape sequence loses its ESC), bidirectional overrides, embeddings,
/// isolates and marks, zero-width characters, the word joiner and invisible operators, the
/// byte order mark, the soft hyphen, every other format character (general category `Cf`),
/// line and paragraph separators, variation selectors, and Unicode tag characters (which can
/// carry a hidden ASCII message).
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Cf, the format characters (Unicode 15.1), bidi and zero-width ones included
            '\u{00ad}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061c}'
                | '\u{06dd}'
                | '\u{070f}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08e2}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{110bd}'
                | '\u{110cd}'
                | '\u{13430}'..='\u{1343f}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                // tags (Cf, plus the unassigned rest of the block)
                | '\u{e0000}'..='\u{e007f}'
                // line and paragraph separators: line breaks to some renderers
                | '\u{2028}'..='\u{2029}'
                // variation selectors: invisible, and usable to smuggle bytes
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{e0100}'..='\u{e01ef}'
                // invisible fillers
                | '\u{034f}'
                | '\u{115f}'..='\u{1160}'
                | '\u{3164}'
                | '\u{ffa0}'
        )
}

/// Untrusted text for a person to read: its `Display` escapes every [`is_hidden`] character
/// (tabs are kept) as `\xNN` (below U+0100) or `\u{NNNN}`.
///
/// ```
/// use aa_assist::display::Untrusted;
/// assert_eq!(Untrusted("a\x1b]52;c;eA==\x07").to_string(), "a\\x1b]52;c;eA==\\x07");
/// assert_eq!(Untrusted("x\u{202e}y").to_string(), "x\\u{202e}y");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Untrusted<'a>(pub &'a str);

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let mut start = 0;
        for (i, c) in s.char_indices() {
            if c != '\t' && is_hidden(c) {
                f.write_str(&s[start..i])?;
                if (c as u32) < 0x100 {
                    write!(f, "\\x{:02x}", c as u32)?;
                } else {
                    write!(f, "\\u{{{:04x}}}", c as u32)?;
                }
                start = i + c.len_utf8();
            }
        }
        f.write_str(&s[start..])
    }
}

/// `s` as [`Untrusted`] shows it.
pub fn escape(s: &str) -> String {
    Untrusted(s).to_string()
}

/// [`escape`], keeping line breaks (`\n`): for multi-line text whose lines are each
/// untrusted, such as an error chain or a log printed back.
pub fn escape_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (n, line) in s.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&escape(line));
    }
    out
}

/// Whether `s` holds any character [`Untrusted`] would escape, tabs included: what must never
/// be written raw into a profile.
pub fn has_hidden(s: &str) -> bool {
    s.chars().any(is_hidden)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls_bidi_and_invisible_characters() {
        assert_eq!(escape("a\x1b[31mb\rc\td"), "a\\x1b[31mb\\x0dc\td");
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape("/etc/ünï r,"), "/etc/ünï r,");
        assert_eq!(
            escape("a\u{200b}b\u{e0041}\u{ad}"),
            "a\\u{200b}b\\u{e0041}\\xad"
        );
        assert_eq!(
            escape("\x1b]8;;http://x\x1b\\l\x1b]8;;\x1b\\"),
            "\\x1b]8;;http://x\\x1b\\l\\x1b]8;;\\x1b\\"
        );
        assert_eq!(escape("\u{9b}2J\u{7f}"), "\\x9b2J\\x7f");
        assert_eq!(
            escape("\u{2066}\u{061c}\u{feff}\u{2028}"),
            "\\u{2066}\\u{061c}\\u{feff}\\u{2028}"
        );
        assert_eq!(escape("a\nb"), "a\\x0ab");
        assert_eq!(escape_lines("a\x1b\nb"), "a\\x1b\nb");
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        for s in [
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
            "owner @{HOME}/.config/** rw,",
            "日本語 ñ é ☃ 🙂",
            "",
        ] {
            assert_eq!(escape(s), s);
            assert!(!has_hidden(s));
        }
    }

    #[test]
    fn escaped_text_never_holds_a_hidden_character() {
        let all: String = (0u32..0x110000)
            .filter_map(char::from_u32)
            .filter(|c| *c != '\t')
            .collect();
        assert!(!escape(&all).chars().any(|c| c != '\t' && is_hidden(c)));
    }
}
