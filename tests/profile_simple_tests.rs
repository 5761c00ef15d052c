//! Conformance with AppArmor's own parser test suite (`parser/tst/simple_tests`): every case
//! is checked the way upstream's `simple.pl` runs it (`-I simple_tests`, working directory
//! the suite's parent) and compared with its `#=EXRESULT`. The agreement must be ≥ 97% and
//! every disagreement must be listed, exactly, in `tests/profile-parser-known-differences.md`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use aa_assist::profile::{IncludeMode, Loader};

fn cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            cases(&p, out);
        } else if p.extension().is_some_and(|x| x == "sd") {
            out.push(p);
        }
    }
}

/// Run one case: `Some(true)` accepted, `Some(false)` rejected, `None` disabled.
fn run_case(root: &Path, rel: &str) -> (bool, bool, String) {
    let text = std::fs::read_to_string(root.join(rel)).expect("case readable");
    let expect_pass = !text.lines().any(|l| l.starts_with("#=EXRESULT FAIL"));
    // simple.pl feeds the parser every line except its own `#=` headers
    let body: String = text
        .split_inclusive('\n')
        .filter(|l| {
            !(l.starts_with("#=DESCRIPTION")
                || l.starts_with("#=EXRESULT")
                || l.starts_with("#=TODO")
                || l.starts_with("#=DISABLED"))
        })
        .collect();
    let mut loader = Loader::new("/nonexistent-apparmor.d", IncludeMode::Strict)
        .include_dir(root.join("simple_tests"));
    loader.cwd = Some(root.to_path_buf());
    let got = loader.load_str(rel, &body);
    let msg = match &got {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    };
    (expect_pass, got.is_ok(), msg)
}

#[test]
fn simple_tests_agreement() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let root = corpus.join("profile-parser");
    let mut files = Vec::new();
    cases(&root.join("simple_tests"), &mut files);
    files.sort();
    let mut total = 0usize;
    let mut disagree = BTreeSet::new();
    let mut report = String::new();
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .expect("under root")
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(f).expect("readable");
        if text.lines().any(|l| l.starts_with("#=DISABLED")) {
            continue;
        }
        total += 1;
        let (exp, got, msg) = run_case(&root, &rel);
        if exp != got {
            let name = rel.trim_start_matches("simple_tests/").to_string();
            report.push_str(&format!(
                "{} expected {} got {} :: {}\n",
                name,
                if exp { "PASS" } else { "FAIL" },
                if got { "PASS" } else { "FAIL" },
                msg
            ));
            disagree.insert(name);
        }
    }
    if let Ok(p) = std::env::var("AA_SIMPLE_REPORT") {
        std::fs::write(p, &report).expect("report written");
    }
    let agree = total - disagree.len();
    let rate = agree as f64 / total as f64;
    eprintln!("simple_tests: {agree}/{total} agree ({:.2}%)", rate * 100.0);

    let listed_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/profile-parser-known-differences.md"),
    )
    .expect("known-differences file");
    let listed: BTreeSet<String> = listed_text
        .lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    let unlisted: Vec<_> = disagree.difference(&listed).collect();
    let fixed: Vec<_> = listed.difference(&disagree).collect();
    assert!(
        unlisted.is_empty() && fixed.is_empty(),
        "known-differences list is out of date.\nnew disagreements:\n{}\nnow agreeing (remove from list): {:?}",
        report,
        fixed
    );
    assert!(rate >= 0.97, "agreement {:.2}% below 97%", rate * 100.0);
}
