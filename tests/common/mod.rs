//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The conformance corpus: `$AA_CORPUS_DIR`, else `../shared/corpus` beside the repository.
///
/// Returns `None` (after printing a notice) when the corpus is absent, so a developer without
/// it can still run the suite; under `CI=true` a missing corpus is a failure, never a skip.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("AA_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "conformance corpus not found at {} (set AA_CORPUS_DIR); CI must not skip it",
            dir.display()
        );
    }
    eprintln!(
        "notice: conformance corpus not found at {}; skipping (set AA_CORPUS_DIR)",
        dir.display()
    );
    None
}

/// Path of the built `aa-assist` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_aa-assist"))
}

/// A path inside the repository (the examples, fixtures, scripts).
pub fn repo(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Whether the suite runs under CI (`CI=true`), where a skip is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}
