//! An up-front bound on a pattern's automaton, read from its text alone.
//!
//! Whoever proposes a rule (a language model, a reviewer's edit) chooses its glob, and the
//! cost of compiling and matching a glob grows with its shape: every `*`, `**`, `?`, class
//! and alternation adds automaton states, and a run of single-byte wildcards right after a
//! `*` or `**` multiplies the states of a DFA (`/x/**??????…` needs a DFA exponential in the
//! number of `?`: it must remember which of the last bytes were `/`). Past the DFA budget the
//! lazy DFA gives up and matching falls back to simulating the NFA, byte by byte, for every
//! path the rule is measured against. The checker refuses such a pattern as *too complex*
//! before building anything, by counting: no parse, no automaton, time linear in the text.
//! The bounds are far above what real profiles write (the tunables' `@{pid}` is 36 tokens
//! with runs of 7; apparmor.d's `@{int}` after a `*` is a run of 10).

/// Most glob tokens (`*`, `**`, `?`, `[…]`, `{`, and each `,` inside `{…}`) in one pattern.
pub const MAX_GLOB_TOKENS: usize = 512;
/// Longest run of single-byte wildcards (`?`, `[…]`) after a `*` or `**` with no literal
/// byte between: a DFA may need 2^run states for it.
pub const MAX_WILDCARD_RUN: usize = 12;
/// Longest pattern, in bytes (`PATH_MAX`).
pub const MAX_PATTERN_BYTES: usize = 4096;

/// What [`measure`] counted in a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    /// Length in bytes.
    pub bytes: usize,
    /// Glob tokens.
    pub tokens: usize,
    /// Longest run of `?` and classes after a `*` or `**`, no literal byte between
    /// (alternatives of a `{…}` counted apart, the longest kept).
    pub run: usize,
}

/// Count the glob tokens of AARE text (escapes and the inside of classes skipped).
pub fn measure(aare: &str) -> Shape {
    let b = aare.as_bytes();
    let mut s = Shape {
        bytes: b.len(),
        ..Shape::default()
    };
    // open `{…}`: the state where each began, and the furthest any alternative got
    let mut groups: Vec<((bool, usize), (bool, usize))> = Vec::new();
    // a `*` or `**` seen since the last literal byte, and the run since it
    let mut armed = false;
    let mut run = 0usize;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => {
                // an escaped byte is a literal
                armed = false;
                run = 0;
                i += 2;
                continue;
            }
            b'[' | b'?' => {
                if c == b'[' {
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
                }
                s.tokens += 1;
                if armed {
                    run += 1;
                    s.run = s.run.max(run);
                }
            }
            b'*' => {
                if b.get(i + 1) == Some(&b'*') {
                    i += 1;
                }
                s.tokens += 1;
                armed = true;
                run = 0;
            }
            b'{' => {
                // alternatives are not in a row: each starts where the group starts, and the
                // group ends with the longest of them
                groups.push(((armed, run), (false, 0)));
                s.tokens += 1;
            }
            b',' if !groups.is_empty() => {
                if let Some((open, end)) = groups.last_mut() {
                    *end = (end.0 || armed, end.1.max(run));
                    (armed, run) = *open;
                }
                s.tokens += 1;
            }
            b'}' => {
                if let Some((_, end)) = groups.pop() {
                    armed = end.0 || armed;
                    run = end.1.max(run);
                }
            }
            _ => {
                armed = false;
                run = 0;
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
    } else if s.run > MAX_WILDCARD_RUN {
        Some(format!(
            "pattern too complex: {} single-character wildcards in a row after a `*` (at most \
             {MAX_WILDCARD_RUN}; its automaton would grow exponentially)",
            s.run
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
            (s.tokens, s.run)
        };
        assert_eq!(m("/etc/passwd"), (0, 0));
        assert_eq!(m("/etc/\\*\\?\\{a\\,b\\}"), (0, 0));
        assert_eq!(m("/a/*/b?"), (2, 0));
        assert_eq!(m("/a/[*?{,}]x"), (1, 0));
        assert_eq!(m("/a/[]x]/[^]y]"), (2, 0));
        assert_eq!(m("/{a,b,c}/x"), (3, 0));
        assert_eq!(m("/a,b"), (0, 0));
        assert_eq!(m("/a/**"), (1, 0));
        assert_eq!(m("/a/**/b/*.so"), (2, 0));
        assert_eq!(m("/a/*??x??"), (5, 2));
        assert_eq!(m("/a/**?[0-9]{[0-9],}?"), (7, 4));
        assert_eq!(m("/a/**?*?*?"), (6, 1));
        assert_eq!(m("/a/??*"), (3, 0));
    }

    #[test]
    fn real_tunables_are_within_budget() {
        let tunable = |name: &str| {
            crate::profile::resolve::DEFAULT_TUNABLES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v[0])
                .unwrap_or_default()
        };
        for (name, values) in crate::profile::resolve::DEFAULT_TUNABLES {
            for v in *values {
                assert_eq!(over_budget(v), None, "@{{{name}}}");
            }
        }
        let (pid, uid) = (tunable("pid"), tunable("uid"));
        for p in [
            format!("/proc/{pid}/task/{pid}/**"),
            format!("/run/user/{uid}/*{pid}"),
            "/home/*/.config/{foo,bar}/**".to_string(),
            // apparmor.d's @{int} after a `*` (`/dev/tty*@{int}`)
            format!("/dev/tty*[0-9]{}", "{[0-9],}".repeat(9)),
        ] {
            assert_eq!(over_budget(&p), None, "{p}: {:?}", measure(&p));
        }
    }

    #[test]
    fn blow_ups_are_over_budget() {
        let dstar_q = format!("/x/**{}y", "?".repeat(MAX_WILDCARD_RUN + 1));
        assert!(over_budget(&dstar_q).is_some_and(|m| m.contains("in a row")));
        let alts = format!("/x/{}y", "{a,b}{c,d}?*".repeat(100));
        assert!(over_budget(&alts).is_some_and(|m| m.contains("wildcards and alternations")));
        let long = format!("/{}", "a".repeat(MAX_PATTERN_BYTES));
        assert!(over_budget(&long).is_some_and(|m| m.contains("bytes")));
    }
}
