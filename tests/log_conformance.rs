//! libapparmor's own test cases (`test_multi`), run as-is: for every `NAME.in` in the corpus,
//! `aa-assist debug parse-log NAME.in` must print exactly `NAME.out`.
//!
//! Cases we knowingly differ on are listed, with the reason, in
//! `tests/data/log/known-differences.md` (a line `- NAME: reason`).

#![allow(clippy::unwrap_used)] // test helpers, like the tests themselves, may unwrap

mod common;

use std::path::Path;
use std::process::Command;

fn known_differences() -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/log/known-differences.md"),
    )
    .expect("known-differences.md is checked in");
    text.lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn libapparmor_test_multi() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let dir = corpus.join("logs/libapparmor-test_multi");
    let known = known_differences();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("corpus dir readable")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter_map(|n| n.strip_suffix(".in").map(str::to_string))
        .collect();
    names.sort();
    assert!(
        names.len() > 100,
        "expected the full test_multi corpus, found {}",
        names.len()
    );
    let mut failed = Vec::new();
    let mut passed = 0;
    for name in &names {
        let expected = std::fs::read_to_string(dir.join(format!("{name}.out"))).unwrap();
        let out = Command::new(common::bin())
            .args(["debug", "parse-log", &format!("{name}.in")])
            .current_dir(&dir)
            .output()
            .unwrap();
        let got = String::from_utf8_lossy(&out.stdout);
        if got == expected {
            passed += 1;
            assert!(
                !known.contains(name),
                "{name} passes: remove it from known-differences.md"
            );
        } else if !known.contains(name) {
            failed.push(format!("--- {name}\nexpected:\n{expected}\ngot:\n{got}"));
        }
    }
    eprintln!("test_multi: {passed}/{} identical", names.len());
    assert!(
        failed.is_empty(),
        "{} cases differ:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
