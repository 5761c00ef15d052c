//! The real binary: `debug check-profile` and `debug roundtrip`.

mod common;

use std::process::Command;

fn data(name: &str) -> String {
    format!("{}/tests/data/profile/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn check_profile_accepts_valid_policy() {
    let out = Command::new(common::bin())
        .args([
            "debug",
            "check-profile",
            "-d",
            "/nonexistent",
            &data("good.profile"),
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn check_profile_reports_file_line_col() {
    let out = Command::new(common::bin())
        .args(["debug", "check-profile", &data("bad.profile")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("bad.profile:3:3: Invalid capability not_a_capability."),
        "{stdout}"
    );
}

#[test]
fn check_profile_missing_include_strict_vs_lenient() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("p");
    std::fs::write(
        &f,
        "include <tunables/global>\nprofile p { @{HOME}/x r, }\n",
    )
    .expect("write");
    let strict = Command::new(common::bin())
        .args(["debug", "check-profile", "-d"])
        .arg(dir.path())
        .arg(&f)
        .output()
        .expect("runs");
    assert_eq!(strict.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&strict.stdout)
        .contains(":1:1: could not find include file 'tunables/global'"));
    let lenient = Command::new(common::bin())
        .args(["debug", "check-profile", "--lenient", "-d"])
        .arg(dir.path())
        .arg(&f)
        .output()
        .expect("runs");
    assert_eq!(lenient.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&lenient.stderr).contains("warning: could not find include file")
    );
}

#[test]
fn roundtrip_is_byte_identical_even_for_invalid_text() {
    for name in ["good.profile", "bad.profile"] {
        let out = Command::new(common::bin())
            .args(["debug", "roundtrip", &data(name)])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(out.stdout, std::fs::read(data(name)).expect("read"));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("broken");
    let text = "profile x {\n  /a r\n  /b w,\n";
    std::fs::write(&f, text).expect("write");
    let out = Command::new(common::bin())
        .args(["debug", "roundtrip"])
        .arg(&f)
        .output()
        .expect("runs");
    assert_eq!(out.stdout, text.as_bytes());
}

/// A profile whose parse error quotes OSC 52, OSC 8, CSI, U+202E, U+200B and U+E0041: every
/// command that parses profiles (`debug check-profile`, `check`, `review`, `tune`) shows the
/// error escaped.
#[test]
fn parse_errors_quoting_hostile_text_are_escaped_in_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("usr.bin.demo");
    std::fs::write(
        &f,
        format!("profile demo {{\n  {} r,\n}}\n", common::hostile_name("/x")),
    )
    .expect("write");
    let log = dir.path().join("audit.log");
    std::fs::write(&log, "").expect("log");
    let d = dir.path().to_str().expect("utf8 path");
    let p = f.to_str().expect("utf8 path");
    let l = log.to_str().expect("utf8 path");
    let state = dir.path().join("state");
    for args in [
        vec!["debug", "check-profile", "-d", d, p],
        vec!["check", p, "-d", d, "--log", l],
        vec!["review", p, "-d", d],
        vec!["tune", p, "-d", d, "--dry-run", "--log", l],
    ] {
        let out = Command::new(common::bin())
            .args(&args)
            .env("AA_ASSIST_STATE_DIR", &state)
            .env_remove("OPENAI_API_KEY")
            .output()
            .expect("runs");
        assert_ne!(out.status.code(), Some(0), "{args:?}: {out:?}");
        common::assert_no_raw_hostile(&format!("{args:?} stdout"), &out.stdout);
        common::assert_no_raw_hostile(&format!("{args:?} stderr"), &out.stderr);
        let all = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(all.contains("/x\\x1b]52;c;"), "{args:?}: {all}");
    }
}
