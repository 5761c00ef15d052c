//! The AppArmor utils' rule tables (`../shared/corpus/rules/*.json`): rule text ↔ parsed
//! fields per rule class. For each class we model, every `*TestParse` row must parse to the
//! fields the table gives, and every `*TestParseInvalid` row must be rejected (when the table
//! says the text matches the class) or not be taken as that class.
//!
//! Compared fields per class are listed in `compare`; classes whose expected value is a Python
//! object repr (unix, mqueue, userns, io_uring, mount, pivot_root) are checked for "parses as
//! this class" only. Skipped tables: capability has no parse table; the `*Covered*`,
//! `*Glob*`, severity and logprof tables test the utils, not the language.

mod common;

use aa_assist::profile::parse_one;
use aa_assist::profile::rule::{CondRule, ExecMode, RuleKind, Statement};
use serde_json::Value;

fn strs(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(a) => {
            let mut s: Vec<String> = a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
            s.sort();
            Some(s)
        }
        Value::String(s) => Some(vec![s.clone()]),
        _ => None,
    }
}

fn access(c: &CondRule, bare_ok: &[&str]) -> Option<Vec<String>> {
    let mut v: Vec<String> = c
        .access
        .iter()
        .flat_map(|a| {
            a.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
        })
        .collect();
    v.extend(
        c.words
            .iter()
            .filter(|w| bare_ok.contains(&w.as_str()))
            .cloned(),
    );
    if v.is_empty() {
        return None;
    }
    v.sort();
    Some(v)
}

fn one(c: &CondRule, k: &str) -> Option<String> {
    c.cond(k).and_then(|v| v.first().cloned())
}

fn exec_text(e: ExecMode) -> String {
    let (c, scrub_env, i, u) = match e {
        ExecMode::X => return "x".into(),
        ExecMode::Inherit => return "ix".into(),
        ExecMode::Unconfined { scrub_env } => return if scrub_env { "Ux" } else { "ux" }.into(),
        ExecMode::Profile {
            scrub_env,
            inherit_fallback,
            unconfined_fallback,
        } => ('p', scrub_env, inherit_fallback, unconfined_fallback),
        ExecMode::Child {
            scrub_env,
            inherit_fallback,
            unconfined_fallback,
        } => ('c', scrub_env, inherit_fallback, unconfined_fallback),
    };
    let mut s = String::new();
    s.push(if scrub_env { c.to_ascii_uppercase() } else { c });
    if i {
        s.push('i');
    }
    if u {
        s.push('u');
    }
    s.push('x');
    s
}

/// Compare a parsed statement with a table row; returns the mismatching field names.
fn compare(class: &str, st: &Statement, exp: &[Value]) -> Vec<&'static str> {
    let mut bad = Vec::new();
    let mut chk = |name: &'static str, ok: bool| {
        if !ok {
            bad.push(name);
        }
    };
    let e = |i: usize| exp.get(i).cloned().unwrap_or(Value::Null);
    let b = |i: usize| e(i).as_bool();
    let s = |i: usize| e(i).as_str().map(str::to_string);
    match st {
        Statement::Rule(r) => {
            let q = &r.qualifiers;
            chk("audit", b(0) == Some(q.audit));
            chk("allow_keyword", b(1) == Some(q.allow));
            chk("deny", b(2) == Some(q.deny));
            match (class, &r.kind) {
                ("file", RuleKind::File(f)) => {
                    chk("path", s(4) == f.path);
                    let mut letters = Vec::new();
                    for (on, l) in [
                        (f.perms.read, "r"),
                        (f.perms.write, "w"),
                        (f.perms.append, "a"),
                        (f.perms.link, "l"),
                        (f.perms.lock, "k"),
                        (f.perms.mmap, "m"),
                    ] {
                        if on {
                            letters.push(l.to_string());
                        }
                    }
                    letters.sort();
                    let exp_perms = strs(&e(6)).unwrap_or_default();
                    chk("perms", exp_perms == letters);
                    let ex = f.perms.exec.map(exec_text);
                    chk("exec_perms", s(8) == ex);
                    chk("target", s(9) == f.target);
                    chk("owner", b(11) == Some(q.owner));
                    // the utils report a bare `file,` as "all files", not as the keyword form
                    chk("file_keyword", f.path.is_none() || b(12) == Some(f.keyword));
                    chk("leading_perms", b(13) == Some(f.perms_first));
                }
                ("network", RuleKind::Network(c)) => {
                    let acc = [
                        "create", "bind", "listen", "accept", "connect", "shutdown", "getattr",
                        "setattr", "getopt", "setopt", "send", "receive", "r", "w", "rw", "read",
                        "write",
                    ];
                    chk("accesses", strs(&e(4)) == access(c, &acc));
                    let words: Vec<&String> = c
                        .words
                        .iter()
                        .filter(|w| !acc.contains(&w.as_str()))
                        .collect();
                    let types = [
                        "stream",
                        "dgram",
                        "raw",
                        "rdm",
                        "seqpacket",
                        "dccp",
                        "packet",
                        "tcp",
                        "udp",
                        "icmp",
                        "icmpv6",
                    ];
                    let domain = words
                        .iter()
                        .find(|w| !types.contains(&w.as_str()))
                        .map(|w| w.to_string());
                    let typ = words
                        .iter()
                        .find(|w| types.contains(&w.as_str()))
                        .map(|w| w.to_string());
                    chk("domain", s(5) == domain);
                    chk("type_or_protocol", s(7) == typ);
                }
                ("signal", RuleKind::Signal(c)) => {
                    chk(
                        "access",
                        strs(&e(4))
                            == access(c, &["send", "receive", "r", "w", "rw", "read", "write"]),
                    );
                    let mut x: Vec<String> = c
                        .conds
                        .iter()
                        .filter(|(k, _)| k == "set")
                        .flat_map(|(_, v)| v.iter().flat_map(|s| s.split(',').map(str::to_string)))
                        .collect();
                    x.sort();
                    x.dedup();
                    let sigs = (!x.is_empty()).then_some(x);
                    chk("signal", strs(&e(6)) == sigs);
                    chk("peer", s(8) == one(c, "peer"));
                }
                ("ptrace", RuleKind::Ptrace(c)) => {
                    chk(
                        "access",
                        strs(&e(4))
                            == access(
                                c,
                                &[
                                    "r", "w", "rw", "read", "write", "readby", "trace", "tracedby",
                                ],
                            ),
                    );
                    chk("peer", s(6) == one(c, "peer"));
                }
                ("change_profile", RuleKind::ChangeProfile(c)) => {
                    let mode = c
                        .words
                        .iter()
                        .find(|w| *w == "safe" || *w == "unsafe")
                        .cloned();
                    let cond = c
                        .words
                        .iter()
                        .find(|w| *w != "safe" && *w != "unsafe")
                        .cloned();
                    chk("execmode", s(4) == mode);
                    chk("execcond", s(5) == cond);
                    chk("targetprofile", s(7) == c.target);
                }
                ("rlimit", RuleKind::Rlimit { resource, value }) => {
                    chk("rlimit", s(4).as_ref() == Some(resource));
                    let v = (value != "infinity").then(|| value.clone());
                    chk("value", s(5) == v);
                }
                ("dbus", RuleKind::Dbus(c)) => {
                    chk(
                        "access",
                        strs(&e(4))
                            == access(
                                c,
                                &[
                                    "send",
                                    "receive",
                                    "bind",
                                    "eavesdrop",
                                    "r",
                                    "w",
                                    "rw",
                                    "read",
                                    "write",
                                ],
                            ),
                    );
                    chk("bus", s(6) == one(c, "bus"));
                    chk("path", s(8) == one(c, "path"));
                    chk("name", s(10) == one(c, "name"));
                    chk("interface", s(12) == one(c, "interface"));
                    chk("member", s(14) == one(c, "member"));
                    chk("peername", s(16) == one(c, "peer.name"));
                    chk("peerlabel", s(18) == one(c, "peer.label"));
                }
                ("all", RuleKind::All) => {}
                ("file", RuleKind::Link { .. }) => {}
                ("unix", RuleKind::Unix(_))
                | ("mqueue", RuleKind::Mqueue(_))
                | ("userns", RuleKind::Userns(_))
                | ("io_uring", RuleKind::IoUring(_))
                | ("pivot_root", RuleKind::PivotRoot(_))
                | ("mount", RuleKind::Mount(_) | RuleKind::Umount(_) | RuleKind::Remount(_)) => {}
                _ => chk("kind", false),
            }
        }
        Statement::Include(i) => {
            chk("path", s(1).as_deref() == Some(i.path.as_str()));
            chk("ifexists", b(2) == Some(i.if_exists));
            chk("ismagic", b(3) == Some(i.angle));
        }
        Statement::Abi(p) => chk("path", s(1).as_deref() == Some(p.as_str())),
        Statement::Alias { from, to } => {
            chk("orig_path", s(1).as_deref() == Some(from.as_str()));
            chk("target", s(2).as_deref() == Some(to.as_str()));
        }
        Statement::Var(v) => {
            chk(
                "varname",
                s(1).as_deref() == Some(format!("@{{{}}}", v.name).as_str()),
            );
            let mut vals = v.values.clone();
            vals.sort();
            chk("values", strs(&e(3)) == Some(vals));
        }
        Statement::Bool { name, value, .. } => {
            chk(
                "varname",
                s(1).as_deref() == Some(format!("${name}").as_str()),
            );
            chk("value", b(2) == Some(*value));
        }
    }
    bad
}

const CLASSES: &[(&str, &str)] = &[
    ("file", "File"),
    ("network", "Network"),
    ("signal", "Signal"),
    ("ptrace", "Ptrace"),
    ("change_profile", "ChangeProfile"),
    ("rlimit", "Rlimit"),
    ("dbus", "Dbus"),
    ("all", "All"),
    ("unix", "Unix"),
    ("mqueue", "MessageQueue"),
    ("userns", "UserNamespace"),
    ("io_uring", "IOUring"),
    ("mount", "Mount"),
    ("pivot_root", "PivotRoot"),
    ("capability", "Capability"),
    ("include", "Include"),
    ("abi", "Abi"),
    ("alias", "Alias"),
    ("variable", "Variable"),
    ("boolean", "Boolean"),
];

/// Rows where the utils accept what `apparmor_parser` (our authority, see the simple_tests
/// conformance) rejects.
const PARSER_IS_STRICTER: &[(&str, &str)] = &[
    (
        "dbus bus=system path=/foo/bar bus=session,",
        "parser: duplicate 'bus' (simple_tests dbus/bad_modifier_2)",
    ),
    (
        "dbus bus=1 bus=2 bus=3 bus=4 bus=5 bus=6,",
        "parser: duplicate 'bus' (simple_tests dbus/bad_modifier_2)",
    ),
    (
        "unix (accept rw) type=AA protocol=BB,",
        "parser: unknown socket type",
    ),
    (
        "unix (accept, rw) protocol=AA type=BB,",
        "parser: unknown socket type",
    ),
    (
        "unix (accept, rw) protocol=AA type=BB opt=AA label=bb peer=(addr=a label=bb),",
        "parser: unknown socket type",
    ),
];

#[test]
fn rule_tables() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for (file, prefix) in CLASSES {
        let path = corpus.join(format!("rules/test-{file}.json"));
        let text = std::fs::read_to_string(&path).expect("rule table");
        let v: Value = serde_json::from_str(&text).expect("json");
        if let Some(rows) = v[format!("{prefix}TestParse")]["rows"].as_array() {
            for row in rows {
                let Some(rule) = row["params"].as_str() else {
                    continue;
                };
                checked += 1;
                if PARSER_IS_STRICTER.iter().any(|(r, _)| *r == rule) {
                    assert!(
                        parse_one(rule).is_err(),
                        "'{rule}' is listed as rejected but parses"
                    );
                    continue;
                }
                match parse_one(rule) {
                    Err(e) => failures.push(format!("{file}: '{rule}' rejected: {e}")),
                    Ok(st) => {
                        if let Some(exp) = row["expected"].as_array() {
                            let bad = compare(file, &st, exp);
                            if !bad.is_empty() {
                                failures.push(format!("{file}: '{rule}' fields differ: {bad:?}"));
                            }
                        } else {
                            let bad = compare(file, &st, &[]);
                            if bad.contains(&"kind") {
                                failures.push(format!("{file}: '{rule}' parsed as another kind"));
                            }
                        }
                    }
                }
            }
        }
        if let Some(rows) = v[format!("{prefix}TestParseInvalid")]["rows"].as_array() {
            for row in rows {
                let Some(rule) = row["params"].as_str() else {
                    continue;
                };
                let matches_class = row["expected"][1].as_bool().unwrap_or(true);
                checked += 1;
                let got = parse_one(rule);
                let wrongly_ok = match &got {
                    Err(_) => false,
                    Ok(st) if matches_class => {
                        let _ = st;
                        true
                    }
                    Ok(st) => {
                        compare(file, st, &[]).iter().all(|f| *f != "kind")
                            && matches!(st, Statement::Rule(_))
                    }
                };
                if wrongly_ok {
                    failures.push(format!("{file}: invalid '{rule}' accepted"));
                }
            }
        }
    }
    eprintln!(
        "rule tables: {checked} rows checked, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
