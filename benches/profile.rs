//! Benchmark: parse and resolve every profile of the corpus with its includes.
//!
//! Run: `cargo bench --bench profile` (corpus from `$AA_CORPUS_DIR`, default
//! `../shared/corpus`). Prints, per tree: files, profiles, rules, and wall time for the lossless
//! parse, for loading every top-level profile with its includes (one `Loader`, so included
//! files are parsed once and their walks replayed), and for expanding every file rule's path
//! patterns, each as wall time and as this thread's CPU time. The numbers go into BENCHMARKS.md ("Profile
//! parsing").

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aa_assist::profile::{IncludeMode, Loader, ProfileFile};

#[path = "../tests/common/files.rs"]
mod tree;
use tree::files;

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
    let cpu_start = thread_cpu();
    let mut bytes = 0usize;
    for f in &all {
        if let Ok(text) = std::fs::read_to_string(f) {
            bytes += text.len();
            let (tree, _) = ProfileFile::parse_recovering(&f.display().to_string(), &text);
            std::hint::black_box(tree);
        }
    }
    let parse = start.elapsed();
    let parse_cpu = thread_cpu().zip(cpu_start).map(|(b, a)| b - a);
    let mut loader = match fallback {
        Some(fb) => Loader::new(fb, IncludeMode::Lenient).include_dir(root),
        None => Loader::new(root, IncludeMode::Lenient),
    };
    let (mut loaded, mut failed, mut profiles, mut rules) = (0, 0, 0, 0);
    // Loading (includes inlined, variables and rules checked) and expanding every file
    // rule's path patterns (`file_rules`, the form the drafter and the cross-check compile)
    // are timed apart; each policy is dropped before the next load, and dropping counts as
    // loading.
    let (mut resolve, mut expand) = (Duration::ZERO, Duration::ZERO);
    let (mut resolve_cpu, mut expand_cpu) = (0.0, 0.0);
    let mut patterns = 0usize;
    // Reading the thread's CPU time costs a system call or three: each load reads it twice
    // more (after loading, after expanding), and the end of one iteration is the start of
    // the next.
    let (mut t0, mut c0) = (Instant::now(), thread_cpu().unwrap_or(0.0));
    for f in &top_level {
        let result = loader.load_file(f);
        let (t1, c1) = (Instant::now(), thread_cpu().unwrap_or(0.0));
        let (mut t2, mut c2) = (t1, c1);
        match result {
            Ok(p) => {
                loaded += 1;
                profiles += p.profiles.len();
                rules += p.profiles.iter().map(|p| p.rules.len()).sum::<usize>();
                for prof in &p.profiles {
                    for r in prof.file_rules(&p.variables) {
                        patterns += r.patterns.len();
                        std::hint::black_box(r);
                    }
                }
                (t2, c2) = (Instant::now(), thread_cpu().unwrap_or(0.0));
                drop(p);
            }
            Err(_) => failed += 1,
        }
        let (t3, c3) = (Instant::now(), thread_cpu().unwrap_or(0.0));
        resolve += (t1 - t0) + (t3 - t2);
        expand += t2 - t1;
        resolve_cpu += (c1 - c0) + (c3 - c2);
        expand_cpu += c2 - c1;
        (t0, c0) = (t3, c3);
    }
    let cpu = |c: Option<f64>| c.map_or_else(|| "?".to_string(), |c| format!("{c:.3}"));
    println!(
        "{}: {} files ({:.1} MB), {} top-level files ({} loaded, {} rejected; {} profiles/hats, {} effective rules, {} expanded path patterns)",
        root.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
        all.len(),
        bytes as f64 / 1e6,
        top_level.len(),
        loaded,
        failed,
        profiles,
        rules,
        patterns,
    );
    println!(
        "  wall s / CPU s: lossless parse {:.3} / {}; resolve with includes {:.3} / {:.3}; expand file rules {:.3} / {:.3}; all {:.3} / {}",
        parse.as_secs_f64(),
        cpu(parse_cpu),
        resolve.as_secs_f64(),
        resolve_cpu,
        expand.as_secs_f64(),
        expand_cpu,
        (parse + resolve + expand).as_secs_f64(),
        cpu(parse_cpu.map(|p| p + resolve_cpu + expand_cpu)),
    );
}

fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
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
