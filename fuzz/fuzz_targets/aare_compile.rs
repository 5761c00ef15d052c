//! Fuzz the AARE compiler: any text either compiles or gets an error, never a panic; a
//! compiled pattern matches without panicking, agrees with itself inside a [`PatternSet`],
//! and its inclusion test is sound; quoting a path gives a literal of itself.
//!
//! Input: `PATTERN\nPATH` (PATH defaults to `/`); the pattern is matched against PATH and a
//! few fixed paths.
//!
//! Cheap per input (see `fuzz/README.md`): patterns longer than [`MAX_PATTERN`] bytes are
//! skipped (real rules are short; a longer pattern only makes a bigger automaton, not a new
//! one), and the inclusion test that builds a dense DFA of the pattern (`literal ⊇ pattern`)
//! only runs on patterns of at most [`MAX_DFA_TOKENS`] glob tokens: its cost grows
//! exponentially with the wildcards (a `**` followed by n `?` has about 2^n states), and the
//! library bounds it by a byte budget that still allows a DFA of seconds under the fuzzer
//! (finding 1 in `fuzz/README.md`). The other direction (`pattern ⊇ literal`) is a match and
//! always runs. A pattern is compiled once (the set reuses it and a `/**` compiled once per
//! process; `compile_path` only runs when there are slashes to collapse).
//! Run: `cargo +nightly fuzz run aare_compile` (see `fuzz/README.md`).
#![no_main]

use aa_assist::aare::{
    escape, glob_path, glob_path_withext, pattern_contains, Pattern, PatternSet,
};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

/// Longest pattern text tried.
const MAX_PATTERN: usize = 256;

/// Most glob tokens (`*`, `**`, `?`, `[`, `{`, `,`) in a pattern whose dense DFA is built.
const MAX_DFA_TOKENS: usize = 6;

/// The glob tokens of `pattern`, roughly (escapes skipped, classes counted by their bytes):
/// an upper bound on what makes its DFA big.
fn glob_tokens(pattern: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for b in pattern.bytes() {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if matches!(b, b'*' | b'?' | b'[' | b'{' | b',') {
            n += 1;
        }
    }
    n
}

/// The second pattern of every set, compiled once.
static SLASH_STARSTAR: LazyLock<Pattern> =
    LazyLock::new(|| Pattern::compile("/**").expect("`/**` compiles"));

/// Paths every compiled pattern is matched against, besides the one in the input.
const PATHS: &[&str] = &[
    "/",
    "",
    "/etc/passwd",
    "/home/alice/.config/foo/x",
    "/proc/1234/status",
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/tmp/{a,b}/[x]*?",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, path) = text.split_once('\n').unwrap_or((text, "/"));
    if pattern.len() > MAX_PATTERN {
        return;
    }
    if let Ok(p) = Pattern::compile(pattern) {
        let _ = p.to_regex();
        let _ = p.kind();
        for probe in PATHS.iter().copied().chain([path]) {
            let _ = p.is_match(probe);
        }
        if let Ok(set) = PatternSet::from_patterns(vec![p.clone(), SLASH_STARSTAR.clone()]) {
            assert_eq!(set.matches(path).any(|i| i == 0), p.is_match(path));
        }
        if !path.contains('\0') {
            let quoted = Pattern::compile(&escape(path)).expect("a quoted path compiles");
            // Inclusion must be sound: if `p` is said to contain the literal, it matches it.
            if pattern_contains(&p, &quoted) == Some(true) {
                assert!(p.is_match(path));
            }
            if glob_tokens(pattern) <= MAX_DFA_TOKENS && pattern_contains(&quoted, &p) == Some(true)
            {
                // `p` matches nothing but `path`.
                assert!(!p.is_match("/etc/passwd") || path == "/etc/passwd");
            }
        }
    }
    // `compile_path` is `compile` once repeated slashes are collapsed.
    if pattern.contains("//") {
        let _ = Pattern::compile_path(pattern);
    }
    let _ = glob_path(pattern);
    let _ = glob_path_withext(pattern);
    if !path.contains('\0') {
        let quoted = Pattern::compile(&escape(path)).expect("a quoted path compiles");
        assert_eq!(quoted.literal(), Some(path.as_bytes()));
    }
});
