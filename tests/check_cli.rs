//! `aa-assist check PROFILE --log LOG…` on the hand-written fixture in `tests/data/check/`.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/check")
}

fn run(extra: &[&str]) -> (i32, String, String) {
    let d = data();
    let out = Command::new(common::bin())
        .arg("check")
        .arg(d.join("usr.bin.demo"))
        .arg("-d")
        .arg(&d)
        .arg("--log")
        .arg(d.join("audit.log"))
        .args(extra)
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn table_names_rules_with_file_and_line_and_exits_1_on_missing() {
    let (code, out, err) = run(&[]);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    // allowed inside an include, with the include's file:line
    assert!(out.contains("/etc/hosts r,  ("), "{out}");
    assert!(out.contains("abstractions/demo-base:2)"), "{out}");
    // allowed by a rule with a variable
    assert!(out.contains("owner @{HOME}/.config/demo/* rw,"), "{out}");
    assert!(out.contains("usr.bin.demo:10)"), "{out}");
    // explicit deny
    assert!(out.contains("denied by: deny /etc/shadow r,"), "{out}");
    assert!(out.contains("usr.bin.demo:11)"), "{out}");
    // missing ones
    assert!(
        out.contains("/var/lib/demo/state (1x) [demo]\n      missing"),
        "{out}"
    );
    assert!(
        out.contains("capability net_admin (1x) [demo]\n      missing"),
        "{out}"
    );
    // allowed yet logged: stale
    assert!(out.contains("probably stale"), "{out}");
    assert!(
        out.contains("3 allowed (3 stale), 1 denied, 2 missing, 0 not judged; 1 group(s) of other profiles ignored"),
        "{out}"
    );
}

#[test]
fn json_report_has_every_group_status() {
    let (code, out, _) = run(&["--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let groups = v["groups"].as_array().expect("groups array");
    assert_eq!(groups.len(), 6);
    let status_of = |res: &str| {
        groups
            .iter()
            .find(|g| g["resource"] == res)
            .map(|g| g["status"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(status_of("/etc/hosts").as_deref(), Some("allowed"));
    assert_eq!(status_of("/etc/shadow").as_deref(), Some("denied"));
    assert_eq!(status_of("/var/lib/demo/state").as_deref(), Some("missing"));
    assert_eq!(v["summary"]["missing"], 2);
    let hosts = groups
        .iter()
        .find(|g| g["resource"] == "/etc/hosts")
        .expect("hosts group");
    assert_eq!(hosts["stale"], true);
    assert!(hosts["rules"][0]["source"]
        .as_str()
        .is_some_and(|s| s.ends_with("abstractions/demo-base:2")));
}

#[test]
fn exit_0_when_nothing_is_missing_and_2_on_error() {
    let d = data();
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("ok.log");
    std::fs::write(
        &log,
        "type=AVC msg=audit(1700000000.001:10): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"demo\" name=\"/etc/demo/a.conf\" pid=1 comm=\"demo\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n",
    )
    .expect("write log");
    let out = Command::new(common::bin())
        .args(["check"])
        .arg(d.join("usr.bin.demo"))
        .arg("-d")
        .arg(&d)
        .arg("--log")
        .arg(&log)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = Command::new(common::bin())
        .args(["check", "/nonexistent/profile", "--log"])
        .arg(&log)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/profile"));
}

/// The bundled examples deliberately lack `tunables/global`: `check` must still work, and
/// `--strict` must name the missing include.
#[test]
fn missing_includes_are_warnings_unless_strict() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pidcache");
    let run = |strict: bool| {
        let mut cmd = std::process::Command::new(common::bin());
        cmd.arg("check")
            .arg(root.join("profile/usr.sbin.exampled"))
            .arg("--log")
            .arg(root.join("audit.log"))
            .arg("-d")
            .arg(root.join("profile"));
        if strict {
            cmd.arg("--strict");
        }
        cmd.output().unwrap()
    };
    let lenient = run(false);
    assert_eq!(lenient.status.code(), Some(1), "{lenient:?}");
    assert!(String::from_utf8_lossy(&lenient.stdout).contains("G1"));
    let strict = run(true);
    assert_eq!(strict.status.code(), Some(2), "{strict:?}");
    assert!(String::from_utf8_lossy(&strict.stderr).contains("tunables/global"));
}

/// A log and a profile carrying OSC 52, OSC 8, CSI, U+202E, U+200B and U+E0041 in names and
/// rule text: the table shows them escaped, and `--json` keeps them exact.
#[test]
fn hostile_names_and_rule_text_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().expect("tempdir");
    // rule text cannot hold an unbalanced `]` or a lone `\\`: the controls and invisibles only
    let allowed = "/srv/a\x1bP\x07\u{9b}2J\u{202e}z\u{200b}z\u{e0041}z".to_string();
    let missing = common::hostile_name("/opt/m");
    let profile = dir.path().join("usr.bin.demo");
    std::fs::write(
        &profile,
        format!("profile demo /usr/bin/demo {{\n  \"{allowed}\" r,\n}}\n"),
    )
    .expect("write profile");
    let line = |serial: u32, name: &str| {
        format!(
            "type=AVC msg=audit(1700000000.{serial:03}:{serial}): apparmor=\"DENIED\" operation=\"open\" \
             class=\"file\" profile=\"demo\" name={} pid=1 comm={} requested_mask=\"r\" \
             denied_mask=\"r\" fsuid=0 ouid=0\n",
            common::audit_hex(name),
            common::audit_hex(&common::hostile_name("c")),
        )
    };
    let log = dir.path().join("audit.log");
    std::fs::write(&log, line(1, &allowed) + &line(2, &missing)).expect("write log");
    let run = |json: bool| {
        let mut c = Command::new(common::bin());
        c.arg("check")
            .arg(&profile)
            .arg("-d")
            .arg(dir.path())
            .arg("--log")
            .arg(&log);
        if json {
            c.arg("--json");
        }
        c.output().expect("runs")
    };
    let out = run(false);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    common::assert_no_raw_hostile("check stdout", &out.stdout);
    common::assert_no_raw_hostile("check stderr", &out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/opt/m\\x1b]52;c;"), "{text}");
    assert!(text.contains("\\u{202e}z\\u{200b}z\\u{e0041}z"), "{text}");
    assert!(text.contains("\"/srv/a\\x1bP\\x07\\x9b2J"), "{text}");
    assert!(text.contains("allowed by:"), "{text}");
    let out = run(true);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("exact JSON");
    let resources: Vec<&str> = v["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["resource"].as_str())
        .collect();
    assert!(resources.contains(&missing.as_str()), "{resources:?}");
}

/// A profile parse error quotes the offending text: escaped, never raw.
#[test]
fn profile_parse_errors_are_escaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("usr.bin.demo");
    std::fs::write(
        &profile,
        format!("profile demo {{\n  {} r,\n}}\n", common::hostile_name("/x")),
    )
    .expect("write profile");
    let log = dir.path().join("audit.log");
    std::fs::write(&log, "").expect("write log");
    let out = Command::new(common::bin())
        .arg("check")
        .arg(&profile)
        .arg("-d")
        .arg(dir.path())
        .arg("--log")
        .arg(&log)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    common::assert_no_raw_hostile("check stderr", &out.stderr);
    common::assert_no_raw_hostile("check stdout", &out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/x\\x1b]52;c;"),
        "the error quotes the text, escaped: {err}"
    );
}

/// `review PROFILE` (rule text from the profile) and `status` (profile names and load records
/// from the log) show OSC 52, OSC 8, CSI, U+202E, U+200B and U+E0041 escaped.
#[test]
fn review_and_status_show_hostile_text_escaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("usr.bin.demo");
    std::fs::write(
        &profile,
        "profile demo /usr/bin/demo {\n  \"/srv/a\x1bP\x07\u{202e}z\u{200b}\u{e0041}\" r,\n  # c \x1b]52;c;AA==\x07\n}\n",
    )
    .expect("write profile");
    let h = common::hostile_name("");
    let log = dir.path().join("audit.log");
    std::fs::write(
        &log,
        format!(
            "type=AVC msg=audit(1700000000.001:1): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"demo\" name={} pid=1 comm={} requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n\
             type=AVC msg=audit(1700000000.002:2): apparmor=\"STATUS\" operation=\"profile_replace\" profile=\"unconfined\" name={} pid=1 comm=\"apparmor_parser\"\n",
            common::audit_hex(&format!("/srv/n{h}")),
            common::audit_hex(&format!("c{h}")),
            common::audit_hex(&format!("demo{h}")),
        ),
    )
    .expect("write log");
    for args in [
        vec![
            "review".to_string(),
            profile.display().to_string(),
            "-d".into(),
            dir.path().display().to_string(),
        ],
        vec![
            "status".to_string(),
            "demo".into(),
            "--log".into(),
            log.display().to_string(),
        ],
        vec![
            "status".to_string(),
            format!("demo{h}"),
            "--log".into(),
            log.display().to_string(),
        ],
    ] {
        let out = Command::new(common::bin())
            .args(&args)
            .env("AA_ASSIST_CONFIG", "/nonexistent/config.toml")
            .output()
            .expect("runs");
        common::assert_no_raw_hostile(&format!("{args:?} stdout"), &out.stdout);
        common::assert_no_raw_hostile(&format!("{args:?} stderr"), &out.stderr);
    }
}

/// A log with no group for the profile does not read as "all allowed": the summary says the
/// logs have none for this profile and names the profiles they have.
#[test]
fn a_log_without_groups_for_the_profile_names_the_profiles_it_has() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(common::bin())
        .arg("check")
        .arg(repo.join("examples/pidcache/profile/usr.sbin.exampled"))
        .arg("-d")
        .arg(repo.join("examples/pidcache/profile"))
        .arg("--log")
        .arg(repo.join("examples/webserver/audit.log"))
        .output()
        .expect("binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("none for profile exampled"), "{text}");
    assert!(text.contains("examplehttpd"), "{text}");
}

/// A profile name works in `check` as in every command: the file in `-d DIR` defining it.
#[test]
fn a_profile_name_is_found_in_the_profile_dir() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(common::bin())
        .args(["check", "exampled", "-d"])
        .arg(repo.join("examples/pidcache/profile"))
        .arg("--log")
        .arg(repo.join("examples/pidcache/audit.log"))
        .output()
        .expect("binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    assert!(text.contains("missing"), "{text}");
}
