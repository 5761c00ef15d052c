//! Fuzz the AARE compiler: any text either compiles or gets an error, never a panic; a
//! compiled pattern matches without panicking; quoting a path gives a literal of itself.
//!
//! Input: `PATTERN\nPATH` (PATH defaults to `/`). Run from the repository root:
//! `cargo +nightly fuzz run aare_compile -- -max_total_time=60`.
#![no_main]

use aa_assist::aare::{escape, glob_path, glob_path_withext, Pattern, PatternSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, path) = text.split_once('\n').unwrap_or((text, "/"));
    if let Ok(p) = Pattern::compile(pattern) {
        let _ = p.is_match(path);
        let _ = p.to_regex();
        if let Ok(set) = PatternSet::new([pattern, "/**"]) {
            assert_eq!(set.matches(path).any(|i| i == 0), p.is_match(path));
        }
    }
    let _ = Pattern::compile_path(pattern);
    let _ = glob_path(pattern);
    let _ = glob_path_withext(pattern);
    if !path.contains('\0') {
        let quoted = Pattern::compile(&escape(path)).expect("a quoted path compiles");
        assert_eq!(quoted.literal(), Some(path.as_bytes()));
    }
});
