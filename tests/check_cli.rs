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
