//! Fuzz the profile parser and the resolver on one file.
//!
//! Properties: nothing panics; the recovering parse prints any input back byte for byte, and so
//! does the strict parse when it accepts; loading the file (includes with nothing installed,
//! variables, conditionals, the parser's checks) and expanding its file rules never panics;
//! each line on its own goes through the single-statement parser and checker.
//!
//! Run: `cargo +nightly fuzz run profile_parse` (see `fuzz/README.md`).
#![no_main]

use aa_assist::profile::{IncludeMode, Loader, ProfileFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (tree, _errors) = ProfileFile::parse_recovering("fuzz", text);
    assert_eq!(tree.to_text(), text);
    if let Ok(strict) = ProfileFile::parse("fuzz", text) {
        assert_eq!(strict.to_text(), text);
        let _ = strict.includes();
    }
    // Includes resolve against a base that does not exist: the lenient loader turns them into
    // warnings and supplies the standard tunables.
    let mut loader = Loader::new("/nonexistent", IncludeMode::Lenient);
    if let Ok(policy) = loader.load_str("/nonexistent/fuzz", text) {
        for profile in &policy.profiles {
            let _ = profile.file_rules(&policy.variables);
            let _ = profile.other_rules();
        }
    }
    for line in text.lines().take(16) {
        let _ = aa_assist::profile::parse_one(line);
    }
});
