//! An up-front bound on a pattern's automaton, read from its text alone.
//!
//! Whoever proposes a rule (a language model, a reviewer's edit) chooses its glob, and the
//! cost of compiling and matching a glob grows with its shape: every `*`, `**`, `?`, class
//! and alternation adds automaton states, and single-byte wildcards after a `**` multiply
//! the states of a DFA (`/**?**?**?…` needs a DFA exponential in the number of `?`). The
//! checker refuses such a pattern as *too complex* before building anything, by counting:
//! no parse, no automaton, time linear in the text. The numbers are far above what real
//! profiles write (the largest tunable, `@{uid}`, is 66 tokens; `@{pid}` 36).

/// Most glob tokens (`*`, `**`, `?`, `[…]`, `{`, and each `,` inside `{…}`) in one pattern.
pub const MAX_GLOB_TOKENS: usize = 160;
/// Most glob tokens after the first `**` (where each adds states to every path position).
pub const MAX_TOKENS_AFTER_DSTAR: usize = 16;
/// Longest pattern, in bytes (`PATH_MAX`).
pub const MAX_PATTERN_BYTES: usize = 4096;

/// What [`measure`] counted in a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    /// Length in bytes.
    pub bytes: usize,
    /// Glob tokens.
    pub tokens: usize,
    /// Glob tokens after the first `**` (the `**` itself not counted).
    pub after_dstar: usize,
}

/// Count the glob tokens of AARE text (escapes and the inside of classes skipped).
pub fn measure(aare: &str) -> Shape {
    let b = aare.as_bytes();
    let mut s = Shape {
        bytes: b.len(),
        ..Shape::default()
    };
    let mut dstar = false;
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let token = match c {
            b'\\' => {
                i += 2;
                continue;
            }
            b'[' => {
                // to the closing `]` (a `]` right after `[` or `[^` is a member)
                let mut j = i + 1;
                if b.get(j) == Some(&b'^') {
                    j += 1;
                }
                if b.get(j) == Some(&b']') {
                    j += 1;
                }
                while let Some(&d) = b.get(j) {
                    match d {
                        b'\\' => j += 2,
                        b']' => break,
                        _ => j += 1,
                    }
                }
                i = j;
                true
            }
            b'*' => {
                if b.get(i + 1) == Some(&b'*') {
                    i += 1;
                    if !dstar {
                        dstar = true;
                        i += 1;
                        s.tokens += 1;
                        continue;
                    }
                }
                true
            }
            b'?' => true,
            b'{' => {
                depth += 1;
                true
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                false
            }
            b',' => depth > 0,
            _ => false,
        };
        if token {
            s.tokens += 1;
            if dstar {
                s.after_dstar += 1;
            }
        }
        i += 1;
    }
    s
}

/// Why a pattern is over budget, or `None` when it is within it.
pub fn over_budget(aare: &str) -> Option<String> {
    let s = measure(aare);
    if s.bytes > MAX_PATTERN_BYTES {
        Some(format!(
            "pattern too complex: {} bytes (at most {MAX_PATTERN_BYTES})",
            s.bytes
        ))
    } else if s.tokens > MAX_GLOB_TOKENS {
        Some(format!(
            "pattern too complex: {} wildcards and alternations (at most {MAX_GLOB_TOKENS})",
            s.tokens
        ))
    } else if s.after_dstar > MAX_TOKENS_AFTER_DSTAR {
        Some(format!(
            "pattern too complex: {} wildcards and alternations after a `**` (at most \
             {MAX_TOKENS_AFTER_DSTAR}; its automaton would grow exponentially)",
            s.after_dstar
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_glob_tokens_not_escapes_or_class_members() {
        let m = |s: &str| {
            let s = measure(s);
            (s.tokens, s.after_dstar)
        };
        assert_eq!(m("/etc/passwd"), (0, 0));
        assert_eq!(m("/etc/\\*\\?\\{a\\,b\\}"), (0, 0));
        assert_eq!(m("/a/*/b?"), (2, 0));
        assert_eq!(m("/a/[*?{,}]x"), (1, 0));
        assert_eq!(m("/a/[]x]/[^]y]"), (2, 0));
        assert_eq!(m("/{a,b,c}/x"), (3, 0));
        assert_eq!(m("/a,b"), (0, 0));
        assert_eq!(m("/a/**"), (1, 0));
        assert_eq!(m("/a/**/b/*.so"), (2, 1));
        assert_eq!(m("/**?**?"), (4, 3));
    }

    #[test]
    fn real_tunables_are_within_budget() {
        for (name, values) in crate::profile::resolve::DEFAULT_TUNABLES {
            for v in *values {
                assert_eq!(over_budget(v), None, "@{{{name}}}");
            }
        }
        let pid = crate::profile::resolve::DEFAULT_TUNABLES
            .iter()
            .find(|(n, _)| *n == "pid")
            .map(|(_, v)| v[0])
            .unwrap_or_default();
        let tid = pid;
        let both = format!("/proc/{pid}/task/{tid}/**");
        assert_eq!(over_budget(&both), None, "{}", measure(&both).tokens);
        assert_eq!(over_budget("/home/*/.config/{foo,bar}/**"), None);
    }

    #[test]
    fn blow_ups_are_over_budget() {
        let dstar_q = format!("/x/{}y", "**?".repeat(20));
        assert!(over_budget(&dstar_q).is_some_and(|m| m.contains("after a `**`")));
        let alts = format!("/x/{}y", "{a,b}{c,d}?*".repeat(30));
        assert!(over_budget(&alts).is_some_and(|m| m.contains("wildcards and alternations")));
        let long = format!("/{}", "a".repeat(MAX_PATTERN_BYTES));
        assert!(over_budget(&long).is_some_and(|m| m.contains("bytes")));
    }
}
