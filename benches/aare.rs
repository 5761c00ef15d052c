//! AARE matching benchmark: compile the file-rule paths of real profiles (every upstream
//! `usr.sbin.*` profile plus all abstractions, variables expanded from the upstream tunables)
//! into one `PatternSet`, then check 1,000,000 generated paths against it.
//!
//! Run: `cargo bench --bench aare` (set `AA_CORPUS_DIR` if the corpus is not at
//! `../shared/corpus`). Prints patterns compiled, build time, and checks/s for `is_match`
//! (any rule allows?), `matches` (which rules?) and `matches_into` (the same into a reused
//! buffer). Rules that are exactly `/**` (those of child hats such as apache2's, or
//! ubuntu-helpers' sanitized_helper) are left out.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use aa_assist::aare::{expand_variables, PatternSet};
use regex::Regex;

const PATHS: usize = 1_000_000;

fn corpus() -> PathBuf {
    std::env::var_os("AA_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
        .join("profiles/upstream")
}

fn read_dir_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(read_dir_files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// `@{NAME}=v1 v2` and `@{NAME}+=v3` lines of the tunables (a rough reading: enough here).
fn tunables(root: &std::path::Path) -> HashMap<String, Vec<String>> {
    let def = Regex::new(r#"^\s*@\{(\w+)\}\s*(\+?=)\s*(.*)$"#).expect("regex");
    let mut vars: HashMap<String, Vec<String>> = HashMap::new();
    for f in read_dir_files(&root.join("tunables")) {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for line in text.lines() {
            let Some(c) = def.captures(line) else {
                continue;
            };
            let values: Vec<String> = c[3]
                .split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(|v| v.trim_matches('"').to_owned())
                .collect();
            let e = vars.entry(c[1].to_owned()).or_default();
            if &c[2] == "=" {
                *e = values;
            } else {
                e.extend(values);
            }
        }
    }
    vars.insert("exec_path".into(), vec!["/usr/sbin/example".into()]);
    vars
}

fn rule_paths(root: &std::path::Path) -> Vec<String> {
    let rule = Regex::new(
        r#"^\s*(?:(?:audit|deny|owner|allow)\s+)*"?((?:/|@\{)[^\s",]*)"?\s+[rwlkmixPUCpuca]+\s*(?:->\s*\S+\s*)?,"#,
    )
    .expect("regex");
    let mut files: Vec<PathBuf> = read_dir_files(root)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("usr.sbin."))
        })
        .collect();
    files.extend(read_dir_files(&root.join("abstractions")));
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for line in text.lines() {
            if let Some(c) = rule.captures(line) {
                out.push(c[1].to_owned());
            }
        }
    }
    out
}

/// A small deterministic generator (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "lib",
    "x86_64-linux-gnu",
    "libc.so.6",
    "passwd",
    "ssl",
    "certs",
    "1234",
    "status",
    "fd",
    "config",
    "cache",
    "share",
    "locale",
    "en_US.UTF-8",
    "tmp",
    "a.conf",
    "run",
    "dbus",
    "sys",
    "devices",
    "user",
    "home",
    "alice",
    ".bashrc",
    "mime",
    "types",
    "zoneinfo",
    "UTC",
];

/// Paths shaped like real accesses: a rule's literal prefix plus random segments, or a
/// random path; roughly half match some rule.
fn gen_paths(patterns: &[String], n: usize) -> Vec<String> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let prefixes: Vec<&str> = patterns
        .iter()
        .map(|p| {
            let end = p.find(['*', '?', '[', '{', '\\', '@']).unwrap_or(p.len());
            &p[..end]
        })
        .filter(|p| p.starts_with('/'))
        .collect();
    (0..n)
        .map(|_| {
            let mut s = if rng.below(4) == 0 {
                String::new()
            } else {
                prefixes[rng.below(prefixes.len())].to_owned()
            };
            for _ in 0..rng.below(3) {
                if !s.ends_with('/') {
                    s.push('/');
                }
                s.push_str(WORDS[rng.below(WORDS.len())]);
            }
            if s.is_empty() {
                s.push('/');
            }
            s
        })
        .collect()
}

/// CPU time this thread has run, in seconds (Linux `/proc/thread-self/schedstat`, nanoseconds):
/// on a shared machine wall time also counts the time other jobs held the CPU.
fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn main() {
    let root = corpus();
    let vars = tunables(&root);
    let raw = rule_paths(&root);
    let mut patterns = Vec::new();
    let mut skipped = 0;
    for p in &raw {
        // `/**` alone is the whole-system rule of child hats/profiles (apache2's hats,
        // ubuntu-helpers' sanitized_helper), not of the service profile: it would match
        // every path and make the benchmark trivial.
        if p == "/**" {
            skipped += 1;
            continue;
        }
        match expand_variables(p, &vars) {
            Ok(e) if aa_assist::aare::Pattern::compile_path(&e).is_ok() => patterns.push(e),
            _ => skipped += 1,
        }
    }
    assert!(
        !patterns.is_empty(),
        "no rule paths found under {}",
        root.display()
    );

    let t = Instant::now();
    let set = PatternSet::new(patterns.iter().map(|p| aa_assist::aare::filter_slashes(p)))
        .expect("patterns compiled one by one above");
    let build = t.elapsed();
    let paths = gen_paths(&patterns, PATHS);

    // Warm the lazy DFA, then measure.
    let warm = paths
        .iter()
        .take(10_000)
        .filter(|p| set.is_match(p))
        .count();
    std::hint::black_box(warm);

    let cpu = || thread_cpu().unwrap_or(f64::NAN);
    let (t, c) = (Instant::now(), cpu());
    let hits = paths.iter().filter(|p| set.is_match(p)).count();
    let (any, any_cpu) = (t.elapsed(), cpu() - c);

    let (t, c) = (Instant::now(), cpu());
    let mut total = 0usize;
    for p in &paths {
        total += set.matches(p).count();
    }
    let (which, which_cpu) = (t.elapsed(), cpu() - c);
    let (t, c) = (Instant::now(), cpu());
    let mut total_into = 0usize;
    let mut buf = Vec::new();
    for p in &paths {
        set.matches_into(p, &mut buf);
        total_into += buf.len();
    }
    let (which_into, which_into_cpu) = (t.elapsed(), cpu() - c);
    assert_eq!(total, total_into, "matches and matches_into agree");

    let rate = |d: std::time::Duration| PATHS as f64 / d.as_secs_f64();
    let cpu_rate = |c: f64| PATHS as f64 / c;
    println!(
        "patterns: {} compiled ({} skipped) from {} rule paths",
        set.len(),
        skipped,
        raw.len()
    );
    println!("build: {:.1} ms", build.as_secs_f64() * 1e3);
    println!(
        "is_match: {PATHS} paths in {:.3} s = {:.0} checks/s; CPU {:.3} s = {:.0} checks per CPU second ({hits} matched)",
        any.as_secs_f64(),
        rate(any),
        any_cpu,
        cpu_rate(any_cpu)
    );
    println!(
        "matches:  {PATHS} paths in {:.3} s = {:.0} checks/s; CPU {:.3} s = {:.0} checks per CPU second ({total} rule hits)",
        which.as_secs_f64(),
        rate(which),
        which_cpu,
        cpu_rate(which_cpu)
    );
    println!(
        "matches_into (one reused buffer): {PATHS} paths in {:.3} s = {:.0} checks/s; CPU {:.3} s = {:.0} checks per CPU second",
        which_into.as_secs_f64(),
        rate(which_into),
        which_into_cpu,
        cpu_rate(which_into_cpu)
    );
}
