//! Fuzz the profile parser: it must never panic, the recovering parse must always print the
//! input back byte for byte, and loading (includes, variables, checks) must not panic.
//!
//! Run (with the `fuzz/` crate set up by `cargo fuzz init`): `cargo fuzz run profile_parse`.
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
    }
    let mut loader = Loader::new("/nonexistent", IncludeMode::Lenient);
    let _ = loader.load_str("fuzz", text);
    for line in text.lines().take(16) {
        let _ = aa_assist::profile::parse_one(line);
    }
});
