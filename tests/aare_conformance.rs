//! Every row of `corpus/aare/*.json` through the `aare` module.
//!
//! `parser-regex-unit-tests.json` is the authority (the real parser's conversions and
//! rejections); `utils-test-aare.json` holds the Python utils' tables, each checked by the
//! same idea as its `run_test_src`. Where the utils and the parser disagree, the row is
//! checked against the parser and listed in `DISAGREEMENTS` with the reason.

mod common;

use aa_assist::aare::{
    escape, glob_path, glob_path_withext, to_pcre, GlobMode, Pattern, PatternKind,
};
use serde_json::Value;

fn load(name: &str) -> Option<Value> {
    let dir = common::corpus_dir()?;
    let text = std::fs::read_to_string(dir.join("aare").join(name)).expect("read corpus file");
    Some(serde_json::from_str(&text).expect("corpus file is JSON"))
}

/// The utils do not expand variables; bind each to a distinct placeholder path.
fn placeholder(name: &str) -> Option<Vec<String>> {
    Some(vec![format!("/__var_{name}__")])
}

fn compile_any(aare: &str) -> Pattern {
    Pattern::compile_with_resolver(aare, &placeholder)
        .unwrap_or_else(|e| panic!("{aare:?} should compile: {e}"))
}

/// Rows where the parser and the utils disagree; the parser wins. (table, pattern, why)
const DISAGREEMENTS: &[(&str, &str, &str)] = &[
    (
        "TestConvert_regexpAndAAREMatch",
        "/foo/{foo,bar,user,other}/test,ca}se/{aa,sd,nd}/bar/",
        "a '}' with no open '{' is 'Invalid close }' in parser_regex.c (see parser row \
         'biz}beta'); the utils match it literally",
    ),
    (
        "TestConvert_regexp",
        "/x\\y",
        "the parser drops an unnecessary quote ('\\y' is 'y', with a warning); the utils keep \
         the backslash",
    ),
];

/// Single (pattern, probe) pairs of `TestConvert_regexp` where the utils' regex and the
/// parser disagree; the parser wins.
const PROBE_DISAGREEMENTS: &[(&str, &str, &str)] = &[(
    "/foo/**.bar",
    "/foo/.bar",
    "parser row '/foo/**.ext' -> '/foo/[^\\x00]*\\.ext': a '**' not followed by '/' or the \
     end may match nothing; the utils' look-behind demands one character after '/'",
)];

fn disagreement(table: &str, pattern: &str) -> bool {
    DISAGREEMENTS
        .iter()
        .any(|(t, p, _)| *t == table && *p == pattern)
}

#[test]
fn parser_regex_unit_tests() {
    let Some(rows) = load("parser-regex-unit-tests.json") else {
        return;
    };
    let rows = rows.as_array().expect("array of rows");
    let (mut ok, mut fail) = (0, 0);
    for row in rows {
        let input = row["input"].as_str().expect("input");
        match row["kind"].as_str() {
            Some("ok") => {
                let glob = match row["glob"].as_str() {
                    Some("glob_null") => GlobMode::Null,
                    _ => GlobMode::Default,
                };
                let (pcre, kind) =
                    to_pcre(input, glob).unwrap_or_else(|e| panic!("{input:?}: {e}"));
                assert_eq!(pcre, row["pcre"].as_str().unwrap(), "pcre of {input:?}");
                let want = match row["type"].as_str() {
                    Some("Basic") => PatternKind::Basic,
                    Some("TailGlob") => PatternKind::TailGlob,
                    _ => PatternKind::Regex,
                };
                assert_eq!(kind, want, "kind of {input:?}");
                let p = Pattern::compile_with(input, glob)
                    .unwrap_or_else(|e| panic!("{input:?} must compile: {e}"));
                assert_eq!(p.kind(), want);
                ok += 1;
            }
            Some("fail") => {
                let e = Pattern::compile(input).expect_err(input);
                assert!(e.column >= 1 && e.offset <= input.len(), "{e:?}");
                fail += 1;
            }
            other => panic!("unknown row kind {other:?}"),
        }
    }
    assert_eq!(ok + fail, rows.len());
    assert!(ok > 50 && fail > 10, "ok={ok} fail={fail}");
}

fn table<'a>(v: &'a Value, name: &str) -> &'a [Value] {
    v[name]["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("table {name}"))
}

#[test]
fn utils_deepcopy() {
    let Some(v) = load("utils-test-aare.json") else {
        return;
    };
    for row in table(&v, "TestAAREDeepcopy") {
        let repr = row["params"]["__repr__"].as_str().unwrap();
        let text = repr
            .strip_prefix("AARE('")
            .and_then(|s| s.strip_suffix("')"))
            .expect("repr form");
        let p = Pattern::compile(text).unwrap();
        let dup = p.clone();
        assert!(p.is_match("/foo") && dup.is_match("/foo"));
        assert_eq!(p.to_regex(), dup.to_regex());
        assert_eq!(p.as_str(), dup.as_str());
        assert_eq!(p, dup);
    }
}

#[test]
fn utils_is_equal() {
    let Some(v) = load("utils-test-aare.json") else {
        return;
    };
    for name in ["TestAAREIsEqual", "TestAAREIs_eq"] {
        for row in table(&v, name) {
            let a = row["params"][0].as_str().unwrap();
            let b = row["params"][2].as_str().unwrap();
            let expected = row["expected"].as_bool().unwrap();
            assert_eq!(compile_any(a) == compile_any(b), expected, "{name} {a} {b}");
            assert_eq!(compile_any(a).as_str() == b, expected, "{name} {a} {b}");
        }
    }
}

#[test]
fn utils_is_path_match() {
    let Some(v) = load("utils-test-aare.json") else {
        return;
    };
    for row in table(&v, "TestAAREIsPath") {
        let re = row["params"][0].as_str().unwrap();
        let path = row["params"][2].as_str().unwrap();
        let expected = row["expected"].as_bool().unwrap();
        assert_eq!(compile_any(re).is_match(path), expected, "{re} vs {path}");
    }
}

#[test]
fn utils_match_from_log() {
    let Some(v) = load("utils-test-aare.json") else {
        return;
    };
    for row in table(&v, "TestAAREMatchFromLog") {
        let re = row["params"][0].as_str().unwrap();
        let event = row["params"][1].as_str().unwrap();
        let expected = row["expected"].as_bool().unwrap();
        assert_eq!(compile_any(re).is_match(event), expected, "{re} vs {event}");
        // The log path, quoted, is a literal that matches exactly itself.
        let quoted = Pattern::compile(&escape(event)).unwrap();
        assert!(quoted.literal().is_some(), "{event}");
        assert!(quoted.is_match(event));
    }
}

#[test]
fn utils_glob_path() {
    let Some(v) = load("utils-test-aare.json") else {
        return;
    };
    for row in table(&v, "TestAAREglobPath") {
        let p = row["params"].as_str().unwrap();
        let want = row["expected"].as_str().unwrap();
        assert_eq!(glob_path(p), want, "file {p}");
        assert_eq!(glob_path(&format!("{p}/")), format!("{want}/"), "dir {p}/");
    }
}

#[test]
fn utils_glob_path_withext() {
    let Some(v) = load("utils-test-aare.json") else {
        return;
    };
    for row in table(&v, "TestAAREglobPathWithExt") {
        let p = row["params"].as_str().unwrap();
        let want = row["expected"].as_str().unwrap();
        assert_eq!(glob_path_withext(p), want, "file {p}");
        let dir = format!("{p}/");
        assert_eq!(glob_path_withext(&dir), dir, "dir {p}/ unchanged");
    }
}

/// The utils' own regex dialect uses look-behind for `*` after `/`; every occurrence in the
/// table directly follows a literal `/`, where `(?<=/)` holds, so that branch is the meaning.
fn utils_regex_to_rust(py: &str) -> String {
    let star = "(((?<=/)[^/\u{0}]+)|((?<!/)[^/\u{0}]*))";
    let dstar = "(((?<=/)[^\u{0}]+)|((?<!/)[^\u{0}]*))";
    let mut out = py.to_owned();
    for (group, after_slash) in [(star, "[^/\\x00]+"), (dstar, "[^\\x00]+")] {
        out = out.replace(&format!("/{group}"), &format!("/{after_slash}"));
        assert!(
            !out.contains(group),
            "look-behind group not after '/': {py}"
        );
    }
    out.replace('\u{0}', "\\x00")
}

const PROBES: &[&str] = &[
    "/foo",
    "/bar",
    "/foo/",
    "/foo/x",
    "/foo/x.bar",
    "/foo/a/b.bar",
    "/foo/.bar",
    "/foo/bar",
    "/fob",
    "/foa",
    "/fod",
    "/fo/",
    "/fo?",
    "/foo bar",
    "/foobar",
    "/x\\y",
    "/xy",
    "/x[y",
    "/x\\[y",
    "/foo/a/b",
    "/foo/a.bar/c",
];

#[test]
fn utils_convert_regexp() {
    let Some(v) = load("utils-test-aare.json") else {
        return;
    };
    let mut checked = 0;
    for row in table(&v, "TestConvert_regexp") {
        let aare = row["params"].as_str().unwrap();
        let py = row["expected"].as_str().unwrap();
        let ours = Pattern::compile(aare).unwrap();
        if disagreement("TestConvert_regexp", aare) {
            assert_eq!(ours.to_regex(), "/xy");
            assert!(ours.is_match("/xy") && !ours.is_match("/x\\y"));
            continue;
        }
        let theirs = regex::bytes::Regex::new(&utils_regex_to_rust(py))
            .unwrap_or_else(|e| panic!("{py}: {e}"));
        for probe in PROBES {
            if let Some((_, _, why)) = PROBE_DISAGREEMENTS
                .iter()
                .find(|(a, p, _)| *a == aare && p == probe)
            {
                assert!(ours.is_match(probe), "parser semantics: {why}");
                assert!(!theirs.is_match(probe.as_bytes()), "utils semantics: {why}");
                continue;
            }
            assert_eq!(
                ours.is_match(probe),
                theirs.is_match(probe.as_bytes()),
                "{aare} vs {probe} (utils regex {py})"
            );
        }
        checked += 1;
    }
    assert!(checked >= 8);
}

#[test]
fn utils_convert_regexp_and_match() {
    let Some(v) = load("utils-test-aare.json") else {
        return;
    };
    let name = "TestConvert_regexpAndAAREMatch";
    for row in table(&v, name) {
        let re = row["params"][0].as_str().unwrap();
        let path = row["params"][1].as_str().unwrap();
        let expected = row["expected"].as_bool().unwrap();
        if disagreement(name, re) {
            let e = Pattern::compile(re).expect_err("parser rejects a stray '}'");
            assert!(e.to_string().contains("'}'"), "{e}");
            continue;
        }
        assert_eq!(
            Pattern::compile(re).unwrap().is_match(path),
            expected,
            "{re} vs {path}"
        );
    }
}

#[test]
fn utils_convert_expression_to_aare() {
    let Some(v) = load("utils-test-aare.json") else {
        return;
    };
    for row in table(&v, "Test_convert_expression_to_aare") {
        let p = row["params"].as_str().unwrap();
        assert_eq!(escape(p), row["expected"].as_str().unwrap(), "{p}");
        assert!(Pattern::compile(&escape(p)).unwrap().is_match(p), "{p}");
    }
}

#[test]
fn every_utils_table_is_covered() {
    let Some(v) = load("utils-test-aare.json") else {
        return;
    };
    let covered = [
        "TestAAREDeepcopy",
        "TestAAREIsEqual",
        "TestAAREIsPath",
        "TestAAREIs_eq",
        "TestAAREMatchFromLog",
        "TestAAREglobPath",
        "TestAAREglobPathWithExt",
        "TestConvert_regexp",
        "TestConvert_regexpAndAAREMatch",
        "Test_convert_expression_to_aare",
    ];
    for k in v.as_object().unwrap().keys() {
        assert!(covered.contains(&k.as_str()), "table {k} has no test");
    }
}
