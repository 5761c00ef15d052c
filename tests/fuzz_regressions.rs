//! Inputs the fuzz targets (`fuzz/`) found problems with, replayed through the same library
//! calls as the target that found them. Each input is kept byte for byte under
//! `tests/data/fuzz/TARGET/` with the name libFuzzer gave it; `fuzz/README.md` lists them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aa_assist::aare::{escape, pattern_contains, Pattern};

fn input(target: &str, name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(target)
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8(bytes).expect("the aare_compile target only runs UTF-8 inputs")
}

/// `/foo/**.j~gJ/oo/**` followed by 45 `?`: a `**` then many one-byte wildcards is the
/// textbook pattern whose DFA is exponential in the number of `?`. `pattern_contains` built
/// that DFA up to its size limit before giving up, which took over 10 s (libFuzzer timeout).
#[test]
fn aare_contains_gives_up_quickly_on_an_exponential_dfa() {
    let text = input(
        "aare_compile",
        "timeout-c1f0935beac45f3f86a94a86ef6ccda9e8bd1a66",
    );
    let p = Pattern::compile(&text).expect("the pattern is valid AARE");
    let quoted = Pattern::compile(&escape("/")).expect("a quoted path compiles");
    let start = Instant::now();
    // Both directions, as the fuzz target asks them.
    assert_eq!(pattern_contains(&p, &quoted), Some(false));
    let answer = pattern_contains(&quoted, &p);
    let took = start.elapsed();
    // `p` matches much more than "/": inclusion must never be claimed; giving up is allowed.
    assert_ne!(answer, Some(true));
    eprintln!("pattern_contains took {took:?}, answered {answer:?}");
    assert!(
        took < Duration::from_secs(5),
        "pattern_contains took {took:?} on a 59-byte pattern"
    );
}
