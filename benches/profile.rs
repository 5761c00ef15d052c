//! Benchmark: parse and resolve every profile of the corpus with its includes.
//!
//! Run: `cargo bench --bench profile` (corpus from `$AA_CORPUS_DIR`, default
//! `../shared/corpus`). Prints files, profiles, rules and wall time per tree; the numbers go
//! into BENCHMARKS.md ("Profile parsing").

use std::path::{Path, PathBuf};
use std::time::Instant;

use aa_assist::profile::{IncludeMode, Loader, ProfileFile};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
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

fn run(root: &Path, fallback: Option<&Path>) {
    let mut all = Vec::new();
    files(root, &mut all);
    all.sort();
    let top_level: Vec<&PathBuf> = all
        .iter()
        .filter(|f| {
            let rel = f.strip_prefix(root).unwrap_or(f);
            let first = rel
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .unwrap_or("");
            !matches!(first, "abstractions" | "tunables" | "abi" | "local")
        })
        .collect();
    let start = Instant::now();
    let mut bytes = 0usize;
    for f in &all {
        if let Ok(text) = std::fs::read_to_string(f) {
            bytes += text.len();
            let (tree, _) = ProfileFile::parse_recovering(&f.display().to_string(), &text);
            std::hint::black_box(tree);
        }
    }
    let parse = start.elapsed();
    let start = Instant::now();
    let mut loader = match fallback {
        Some(fb) => Loader::new(fb, IncludeMode::Lenient).include_dir(root),
        None => Loader::new(root, IncludeMode::Lenient),
    };
    let (mut loaded, mut failed, mut profiles, mut rules) = (0, 0, 0, 0);
    for f in &top_level {
        match loader.load_file(f) {
            Ok(p) => {
                loaded += 1;
                profiles += p.profiles.len();
                rules += p.profiles.iter().map(|p| p.rules.len()).sum::<usize>();
                for prof in &p.profiles {
                    std::hint::black_box(prof.file_rules(&p.variables));
                }
            }
            Err(_) => failed += 1,
        }
    }
    let resolve = start.elapsed();
    println!(
        "{}: {} files ({:.1} MB) parsed losslessly in {:.3} s; {} top-level files resolved with includes in {:.3} s ({} loaded, {} rejected; {} profiles/hats, {} effective rules)",
        root.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
        all.len(),
        bytes as f64 / 1e6,
        parse.as_secs_f64(),
        top_level.len(),
        resolve.as_secs_f64(),
        loaded,
        failed,
        profiles,
        rules
    );
}

fn main() {
    let corpus = std::env::var_os("AA_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let up = corpus.join("profiles/upstream");
    let total = Instant::now();
    run(&up, None);
    run(&corpus.join("profiles/apparmor.d-collection"), Some(&up));
    println!("total: {:.3} s", total.elapsed().as_secs_f64());
}
