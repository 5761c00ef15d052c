//! docs/json-schema.md against the real output: for every documented `--json` command, run
//! the binary on the bundled examples and check that every documented field is there (in
//! every object of its kind, unless the row says it appears "only with/for …" or is
//! "absent" otherwise), and that every field the binary prints is documented.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// One documented field: the object kind it belongs to (`""` top level, `groups[]`, …),
/// its name, and whether it may be missing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Field {
    kind: String,
    name: String,
    optional: bool,
}

/// Every field row of every table, by section (`tune --json`, …).
fn documented() -> BTreeMap<String, Vec<Field>> {
    let text = std::fs::read_to_string(common::repo("docs/json-schema.md")).expect("the doc");
    let mut out: BTreeMap<String, Vec<Field>> = BTreeMap::new();
    let mut section = String::new();
    let mut kind = String::new();
    for line in text.lines() {
        if let Some(s) = line.strip_prefix("## ") {
            section = s.trim().to_string();
            kind.clear();
            continue;
        }
        if let Some(s) = line.strip_prefix("### ") {
            let s = s.trim().trim_matches('`');
            kind = match s {
                "Top level" => String::new(),
                "group" => "groups[]".into(),
                "proposal" => "proposals[]".into(),
                "profile" => "profiles[]".into(),
                "rule" => "profiles[].rules[]".into(),
                other => other.to_string(),
            };
            continue;
        }
        let Some(row) = line.strip_prefix("| `") else {
            continue;
        };
        let cells: Vec<&str> = row.split(" | ").collect();
        let meaning = cells.get(2).copied().unwrap_or_default();
        let optional = meaning.starts_with("Only ") || meaning.contains("Absent");
        let mut prefix = String::new();
        for name in cells[0].split('`').step_by(2) {
            let name = name.trim().trim_matches(',').trim();
            if name.is_empty() {
                continue;
            }
            let (p, n) = match name.rsplit_once('.') {
                Some(("", n)) => (prefix.clone(), n),
                Some((p, n)) => (p.to_string(), n),
                None => (String::new(), name),
            };
            prefix = p.clone();
            let full = [kind.as_str(), p.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(".");
            out.entry(section.clone()).or_default().push(Field {
                kind: full,
                // A row for the array itself (`groups[]`) names the field `groups`.
                name: n.trim_end_matches("[]").to_string(),
                optional,
            });
        }
    }
    out
}

/// The objects of `kind` (`""`, `groups[]`, `profiles[].rules[]`) in `v`.
fn objects<'a>(v: &'a Value, kind: &str) -> Vec<&'a serde_json::Map<String, Value>> {
    let mut level = vec![v];
    for step in kind.split('.').filter(|s| !s.is_empty()) {
        let (key, each) = match step.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (step, false),
        };
        level = level
            .into_iter()
            .filter_map(|o| o.get(key))
            .flat_map(|x| match (each, x) {
                (true, Value::Array(items)) => items.iter().collect::<Vec<_>>(),
                (false, x) => vec![x],
                _ => vec![],
            })
            .collect();
    }
    level.into_iter().filter_map(Value::as_object).collect()
}

fn json_of(args: &[&str]) -> Value {
    let state = tempfile::tempdir().expect("tempdir");
    let out = Command::new(common::bin())
        .current_dir(common::repo(""))
        .args(args)
        .env("AA_ASSIST_STATE_DIR", state.path())
        .env("AA_ASSIST_CONFIG", state.path().join("no-config.toml"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("binary runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

const PIDCACHE: [&str; 4] = [
    "examples/pidcache/profile/usr.sbin.exampled",
    "--log",
    "examples/pidcache/audit.log",
    "-d",
];

fn runs() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        (
            "denials --json",
            vec![json_of(&[
                "denials",
                "--json",
                "tests/data/log/audit.log",
                "examples/pidcache/audit.log",
            ])],
        ),
        (
            "tune --json",
            vec![json_of(
                &[
                    &["tune"][..],
                    &PIDCACHE,
                    &["examples/pidcache/profile", "--json"],
                ]
                .concat(),
            )],
        ),
        (
            "explain --json",
            vec![json_of(&[
                "explain",
                "--json",
                "examples/pidcache/audit.log",
                "-p",
                "examples/pidcache/profile/usr.sbin.exampled",
                "-d",
                "examples/pidcache/profile",
            ])],
        ),
        (
            "status --json",
            vec![json_of(&[
                "status",
                "exampled",
                "--json",
                "--log",
                "examples/pidcache/audit.log",
            ])],
        ),
        (
            "review --json",
            vec![
                json_of(&[
                    "review",
                    "--json",
                    "examples/webserver/profile/usr.sbin.examplehttpd",
                    "-d",
                    "examples/webserver/profile",
                ]),
                json_of(&[
                    "review",
                    "--json",
                    "tests/data/check/usr.bin.demo",
                    "-d",
                    "tests/data/check",
                ]),
            ],
        ),
        (
            "check --json",
            vec![json_of(&[
                "check",
                "--json",
                "tests/data/check/usr.bin.demo",
                "-d",
                "tests/data/check",
                "--log",
                "tests/data/check/audit.log",
            ])],
        ),
    ]
}

#[test]
fn every_documented_field_is_printed_and_every_printed_field_documented() {
    let docs = documented();
    let runs = runs();
    let sections: BTreeSet<&str> = runs.iter().map(|(s, _)| *s).collect();
    let documented_sections: BTreeSet<&str> = docs.keys().map(String::as_str).collect();
    assert_eq!(
        sections, documented_sections,
        "every documented schema is run here, and every run is documented"
    );
    for (section, outputs) in &runs {
        let fields = &docs[*section];
        for v in outputs {
            assert_eq!(v["schema_version"], 1, "{section}: schema_version");
        }
        let kinds: BTreeSet<&str> = fields.iter().map(|f| f.kind.as_str()).collect();
        for kind in &kinds {
            let objs: Vec<_> = outputs.iter().flat_map(|v| objects(v, kind)).collect();
            assert!(!objs.is_empty(), "{section}: no `{kind}` object to check");
            let names: BTreeSet<&str> = fields
                .iter()
                .filter(|f| f.kind == *kind)
                .map(|f| f.name.as_str())
                .collect();
            for f in fields.iter().filter(|f| f.kind == *kind) {
                if f.optional {
                    continue;
                }
                for o in &objs {
                    assert!(
                        o.contains_key(&f.name),
                        "{section}: documented `{kind}{}{}` is missing from {}",
                        if kind.is_empty() { "" } else { "." },
                        f.name,
                        Value::Object((*o).clone())
                    );
                }
            }
            for o in &objs {
                for key in o.keys() {
                    assert!(
                        names.contains(key.as_str()),
                        "{section}: `{kind}{}{key}` is printed but not documented in docs/json-schema.md",
                        if kind.is_empty() { "" } else { "." },
                    );
                }
            }
        }
    }
}

#[test]
fn the_doc_parser_sees_the_tables() {
    let docs = documented();
    let tune = &docs["tune --json"];
    assert!(tune
        .iter()
        .any(|f| f.kind == "proposals[]" && f.name == "verdict"));
    let denials = &docs["denials --json"];
    assert!(denials
        .iter()
        .any(|f| f.kind == "groups[]" && f.name == "last_seen"));
    let check = &docs["check --json"];
    assert!(check
        .iter()
        .any(|f| f.kind == "groups[]" && f.name == "resource"));
    assert!(check
        .iter()
        .any(|f| f.kind == "groups[]" && f.name == "rules" && f.optional));
    let explain = &docs["explain --json"];
    assert!(explain
        .iter()
        .any(|f| f.kind.is_empty() && f.name == "model_notes" && f.optional));
}
