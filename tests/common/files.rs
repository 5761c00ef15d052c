//! Listing a tree's files, shared by the profile tests, the profile benchmark and the
//! `profile_digest` example (included by path where `tests/common` is not a module).

use std::path::{Path, PathBuf};

/// Append every regular file under `dir` (recursively, unsorted) to `out`; unreadable
/// directories are skipped.
pub fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}
