//! `aa-assist denials` and `aa-assist debug parse-log`, run as the real binary.

#![allow(clippy::unwrap_used)] // test helpers, like the tests themselves, may unwrap

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/log")
        .join(name)
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(common::bin())
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(data) = stdin {
        input.write_all(data).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = run(args, None);
    assert_eq!(out.status.code(), Some(1), "groups found: {out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn json_has_schema_version_and_sequential_ids() {
    let audit = fixture("audit.log");
    let dmesg = fixture("dmesg.txt");
    let v = json(&[
        "denials",
        "--json",
        audit.to_str().unwrap(),
        dmesg.to_str().unwrap(),
    ]);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["summary"]["events"], 9);
    assert_eq!(v["summary"]["failed"], 1);
    let groups = v["groups"].as_array().unwrap();
    for (i, g) in groups.iter().enumerate() {
        assert_eq!(g["id"], format!("G{}", i + 1));
    }
    // /etc/shadow read by nginx: two auditd events and one dmesg event, one group.
    let shadow = groups
        .iter()
        .find(|g| g["resource"] == "/etc/shadow")
        .unwrap();
    assert_eq!(shadow["count"], 3);
    assert_eq!(shadow["mode"], "DENIED");
    assert_eq!(shadow["class"], "file");
    assert_eq!(shadow["mask"], "r");
    assert_eq!(shadow["pids"], serde_json::json!([1193, 1194]));
    assert_eq!(shadow["first_seen"], 1680266735);
    // Denials come before complain-mode events.
    let first_allowed = groups.iter().position(|g| g["mode"] == "ALLOWED").unwrap();
    assert!(groups[..first_allowed]
        .iter()
        .all(|g| g["mode"] == "DENIED"));
}

#[test]
fn filters() {
    let audit = fixture("audit.log");
    let a = audit.to_str().unwrap();
    let v = json(&["denials", "--json", "--mode", "allowed", a]);
    assert_eq!(v["groups"].as_array().unwrap().len(), 1);
    let v = json(&[
        "denials",
        "--json",
        "--mode",
        "denied",
        "--operation",
        "mount",
        a,
    ]);
    assert_eq!(v["groups"].as_array().unwrap().len(), 1);
    assert_eq!(v["groups"][0]["class"], "mount");
    let v = json(&["denials", "--json", "--profile", "unprivileged_userns", a]);
    assert_eq!(v["groups"].as_array().unwrap().len(), 1);
    let v = json(&[
        "denials",
        "--json",
        "--since",
        "@1718798456",
        "--mode",
        "denied",
        a,
    ]);
    assert_eq!(v["groups"].as_array().unwrap().len(), 3);
    let out = run(&["denials", "--profile", "nobody", a], None);
    assert_eq!(out.status.code(), Some(0), "no groups: exit 0");
}

#[test]
fn stale_groups_predate_the_last_replace() {
    let v = json(&[
        "denials",
        "--json",
        fixture("ausearch.txt").to_str().unwrap(),
    ]);
    assert_eq!(v["groups"][0]["stale"], true);
    assert_eq!(v["groups"][0]["resource"], "/var/log/nginx/new x.log");
}

#[test]
fn strict_names_file_line_and_reason() {
    let audit = fixture("audit.log");
    let out = run(&["denials", "--strict", audit.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("audit.log:5: malformed AppArmor record"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn unparseable_lines_are_summarised() {
    let out = run(&["denials", fixture("audit.log").to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 unparseable"), "{err}");
    assert!(err.contains("audit.log:5:"), "{err}");
}

#[test]
fn missing_sources_give_a_message_not_a_trace() {
    let out = run(&["denials", "/nonexistent/audit.log"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/audit.log: no such file"),
        "{err}"
    );
    assert!(!err.contains("panicked") && !err.contains("backtrace"));
    let out = run(&["denials", "--audit-log", "/nonexistent/a.log"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn stdin_and_table_output_escapes_control_characters() {
    let line = b"type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" profile=\"/x\" name=2F746D702F1B5B33316D726564 pid=1 comm=\"x\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n";
    let out = run(&["denials", "-"], Some(line));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("ID "), "{text}");
    assert!(text.contains("/tmp/\\x1b[31mred"), "{text}");
    assert!(!text.contains('\x1b'), "no raw escape reaches the terminal");
}

#[test]
fn parse_log_prints_harness_format() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("case.in");
    std::fs::write(
        &f,
        "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" profile=\"/x\" name=\"/y\" pid=7 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=1\n\nbogus\n",
    )
    .unwrap();
    let out = run(&["debug", "parse-log", f.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1), "one record is invalid");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "START\nFile: case.in\nEvent type: AA_RECORD_DENIED\nAudit ID: 1.2:3\nOperation: open\n\
Mask: r\nDenied Mask: r\nfsuid: 0\nouid: 1\nProfile: /x\nName: /y\nCommand: c\nPID: 7\n\
Epoch: 1\nAudit subid: 3\nSTART\nFile: case.in\nEvent type: AA_RECORD_INVALID\n"
    );
}

#[test]
fn journal_runs_journalctl_with_since() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let args_file = dir.path().join("args");
    let script = dir.path().join("journalctl");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" > '{}'\ncat '{}'\n",
            args_file.display(),
            fixture("journal.json").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(common::bin())
        .args(["denials", "--journal", "--since", "@1700000000", "--json"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&args_file).unwrap().trim(),
        "-k -o json --no-pager --since @1700000000"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["events"], 3);
    // The syslog-transport entry is the forged one.
    let forged = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["resource"] == "/forged")
        .unwrap();
    assert_eq!(forged["untrusted"], 1);
}

/// `AA_ASSIST_THREADS` changes how lines are parsed, never what comes out.
#[test]
fn worker_threads_give_the_same_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let logs: Vec<String> = ["pidcache", "webserver", "desktop"]
        .iter()
        .flat_map(|ex| std::fs::read_dir(root.join("examples").join(ex)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(logs.len() >= 3, "{logs:?}");
    let report = |threads: &str| {
        let mut args = vec!["denials", "--json", "--mode", "all"];
        args.extend(logs.iter().map(String::as_str));
        let out = Command::new(common::bin())
            .args(&args)
            .env("AA_ASSIST_THREADS", threads)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        out.stdout
    };
    let one = report("1");
    assert!(String::from_utf8_lossy(&one).contains("\"G1\""));
    assert_eq!(one, report("3"));
}

/// A thread count that is not a number from 1 to 64 is an error that names the variable, not
/// a silent default.
#[test]
fn bad_thread_counts_are_refused() {
    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pidcache/audit.log");
    for bad in ["abc", "0", "65", "-1", ""] {
        let out = Command::new(common::bin())
            .args(["denials", "--json"])
            .arg(&log)
            .env("AA_ASSIST_THREADS", bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("AA_ASSIST_THREADS must be a whole number from 1 to 64"),
            "{err}"
        );
    }
}

/// Bidi overrides, zero-width and tag characters, OSC 52 and OSC 8 in the name, comm and
/// profile: the table shows every one as an escape; `--json` keeps them exact.
#[test]
fn table_escapes_bidi_zero_width_and_tag_characters() {
    let name = common::hostile_name("/tmp/n");
    let short = "/t\u{202e}\u{200b}\u{e0041}";
    let line = format!(
        "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" profile={} name={} \
         pid=1 comm={} requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n",
        common::audit_hex(&common::hostile_name("/usr/bin/p")),
        common::audit_hex(&name),
        common::audit_hex(&common::hostile_name("c")),
    ) + &format!(
        "type=AVC msg=audit(1.2:4): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name={} \
         pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n",
        common::audit_hex(short),
    );
    let out = run(&["denials", "-"], Some(line.as_bytes()));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    common::assert_no_raw_hostile("denials stdout", &out.stdout);
    common::assert_no_raw_hostile("denials stderr", &out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/t\\u{202e}\\u{200b}\\u{e0041}"), "{text}");
    let out = run(&["denials", "-", "--json"], Some(line.as_bytes()));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .chain(serde_json::from_str::<serde_json::Value>(&text).ok())
            .any(|v| v.to_string().contains("\\u001b]52")),
        "JSON keeps the exact name: {text}"
    );
}

/// `--since 2h` is read here (journalctl's own grammar differs and its failure was blamed on
/// group membership): journalctl gets `@EPOCH`, and the time the filter starts at is stated
/// in UTC. A time we cannot read is our error, naming the accepted forms.
#[test]
fn since_is_parsed_here_and_journalctl_gets_an_epoch() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let args_file = dir.path().join("args");
    let fake = dir.path().join("journalctl");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\nexit 0\n",
            args_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |since: &str| {
        Command::new(common::bin())
            .args(["denials", "--journal", "--since", since])
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    for since in [
        "2h",
        "30m",
        "1d",
        "2026-01-02T03:04:05Z",
        "2026-01-02T04:04:05+01:00",
    ] {
        let _ = std::fs::remove_file(&args_file);
        let out = run(since);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{since}: {stderr}");
        let args = std::fs::read_to_string(&args_file).unwrap();
        let given: Vec<&str> = args.lines().collect();
        let at = given.iter().position(|a| *a == "--since").unwrap();
        let value = given[at + 1];
        assert!(
            value.starts_with('@') && value[1..].parse::<i64>().is_ok(),
            "{since}: journalctl got {value:?}"
        );
        assert!(
            stderr.contains("UTC"),
            "{since}: the time zone is stated: {stderr}"
        );
        if since.starts_with("2026") {
            assert_eq!(value, "@1767323045", "{since}");
            assert!(stderr.contains("2026-01-02 03:04:05 UTC"), "{stderr}");
        }
    }
    let _ = std::fs::remove_file(&args_file);
    let out = run("two hours");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2h"), "the accepted forms: {stderr}");
    assert!(!stderr.contains("group"), "{stderr}");
    assert!(
        !args_file.exists(),
        "journalctl is not run with a time it cannot read"
    );
}
