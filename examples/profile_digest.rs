//! Digest of every load result of the corpus, to check that a change to the profile engine
//! leaves what loading gives unchanged.
//!
//! Run: `cargo run --release --example profile_digest > digest.txt` before and after a change,
//! then `diff` the two files (corpus from `$AA_CORPUS_DIR`, default `../shared/corpus`).
//! Every file of both profile trees and every simple_tests case is loaded in lenient and in
//! strict mode, through one `Loader` per tree and mode (so replayed include walks are
//! exercised as the benchmark and the CLI use them). Each line is `mode path sha256`, the hash
//! of the `Debug` form of everything a `LoadedPolicy` holds (profiles with their rules,
//! variables, booleans, warnings, files read) plus every profile's `file_rules` and
//! `other_rules`, or of the error.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use aa_assist::profile::{IncludeMode, Loader};
use sha2::{Digest, Sha256};

#[path = "../tests/common/files.rs"]
mod tree;
use tree::files;

fn digest(corpus: &Path, root: &Path, fallback: Option<&Path>, mode: IncludeMode) -> usize {
    let mut all = Vec::new();
    files(root, &mut all);
    all.sort();
    let mut loader = match fallback {
        Some(fb) => Loader::new(fb, mode).include_dir(root),
        None => Loader::new(root, mode),
    };
    for f in &all {
        let mut s = String::new();
        match loader.load_file(f) {
            Ok(p) => {
                let _ = write!(
                    s,
                    "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n",
                    p.profiles, p.variables, p.booleans, p.warnings, p.files_read
                );
                for prof in &p.profiles {
                    let _ = write!(
                        s,
                        "{:?}\n{:?}\n",
                        prof.file_rules(&p.variables),
                        prof.other_rules()
                    );
                }
            }
            Err(e) => {
                let _ = write!(s, "error: {e}");
            }
        }
        let rel = f.strip_prefix(corpus).unwrap_or(f);
        println!(
            "{mode:?} {} {}",
            rel.display(),
            hex::encode(Sha256::digest(s.as_bytes()))
        );
    }
    all.len()
}

fn main() {
    let corpus = std::env::var_os("AA_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let up = corpus.join("profiles/upstream");
    let ad = corpus.join("profiles/apparmor.d-collection");
    let simple = corpus.join("profile-parser/simple_tests");
    let mut n = 0;
    for mode in [IncludeMode::Lenient, IncludeMode::Strict] {
        n += digest(&corpus, &up, None, mode);
        n += digest(&corpus, &ad, Some(&up), mode);
        n += digest(&corpus, &simple, None, mode);
    }
    eprintln!("{n} load results");
}
