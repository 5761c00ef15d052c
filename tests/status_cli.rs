//! `aa-assist status PROFILE --log …`: ready to enforce only after a quiet period without
//! denials of the profile or its hats.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cmds")
        .join(name)
}

fn status(args: &[&str]) -> (Option<i32>, Value) {
    let out = Command::new(common::bin())
        .arg("status")
        .args(args)
        .arg("--json")
        .arg("--log")
        .arg(fixture("svc.log"))
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), v)
}

#[test]
fn not_ready_while_denials_are_recent() {
    let (code, r) = status(&["svc"]);
    assert_eq!(code, Some(1));
    assert_eq!(r["ready"], false);
    assert_eq!(r["last_denial"], 1_700_000_104);
    assert_eq!(r["last_load"], 1_700_000_000);
    assert_eq!(r["new_groups_since_load"], 5, "hat groups count too");
    assert_eq!(r["denials_in_quiet_period"], 5);
}

#[test]
fn ready_after_the_quiet_period() {
    // The logs go on (another profile's denial) into the day before "now": a quiet day.
    let later = "type=AVC msg=audit(1700089000.000:20): apparmor=\"DENIED\" operation=\"open\" profile=\"other\" name=\"/x\" pid=12 comm=\"o\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n";
    let (code, r) = status_with_args(later, &["--now", "@1700090000"]);
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(r["ready"], true);
    // A shorter period that still holds the denials.
    let (code, _) = status(&["svc", "--now", "@1700000200", "--quiet-period", "5m"]);
    assert_eq!(code, Some(1));
}

#[test]
fn logs_must_cover_the_period() {
    // No denial in the day before "now", but the logs start only 50 s before it.
    let (code, r) = status(&["svc", "--now", "@1700000050", "--quiet-period", "1d"]);
    assert_eq!(code, Some(1));
    assert!(
        r["reason"].as_str().unwrap().contains("cover only"),
        "{r:#}"
    );
}

#[test]
fn profile_file_names_the_profile_and_its_hats() {
    let prof = fixture("svc.profile");
    let dir = prof.parent().unwrap().to_str().unwrap().to_string();
    let (code, r) = status(&[prof.to_str().unwrap(), "-d", &dir]);
    assert_eq!(code, Some(1));
    assert_eq!(r["profiles"], serde_json::json!(["svc", "svc//hat"]));
    // Another profile has no event at all in these logs: nothing shows it ran, so it is not
    // ready; the reason names the profiles the logs do have.
    let (code, r) = status(&["other", "--now", "@1700090000"]);
    assert_eq!(r["denials"], 0);
    assert_eq!(r["ready"], false, "{r:#}");
    assert_eq!(code, Some(1));
    let reason = r["reason"].as_str().unwrap();
    assert!(reason.contains("no event of profile other"), "{reason}");
    assert!(reason.contains("svc"), "{reason}");
}

/// `--now` long after the logs end: the logs say nothing about the quiet period, so the
/// profile is not called ready (it was, because no denial fell in a period nothing covered).
#[test]
fn logs_that_end_before_the_quiet_period_do_not_make_a_profile_ready() {
    let (code, r) = status(&["svc", "--now", "@1700900000"]);
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(r["ready"], false);
    let reason = r["reason"].as_str().unwrap();
    assert!(reason.contains("the logs end at"), "{reason}");
    assert!(reason.contains("before the quiet period"), "{reason}");
}

#[test]
fn bad_period_is_an_error() {
    let out = Command::new(common::bin())
        .args(["status", "svc", "--quiet-period", "soon", "--log"])
        .arg(fixture("svc.log"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `status` on a copy of `svc.log` with `extra` lines after it (a root-owned file, as an
/// audit log is), judged at the newest trusted timestamp.
fn status_with(extra: &str) -> (Option<i32>, Value) {
    status_with_args(extra, &[])
}

/// [`status_with`], with more arguments.
fn status_with_args(extra: &str, args: &[&str]) -> (Option<i32>, Value) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let mut text = std::fs::read_to_string(fixture("svc.log")).unwrap();
    text.push_str(extra);
    std::fs::write(&log, text).unwrap();
    let out = Command::new(common::bin())
        .args(["status", "svc", "--json", "--log"])
        .arg(&log)
        .args(args)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), v)
}

/// A line any user can write (`logger -t kernel`, in a log it makes mixed) or a line stamped
/// in the future moves neither the end of the quiet period nor the last load: the recent
/// denials still make the profile not ready.
#[test]
fn untrusted_or_future_lines_do_not_make_a_profile_ready() {
    let forged_load = "Nov 14 22:13:20 host kernel: audit: type=1400 audit(4000000000.000:9): apparmor=\"STATUS\" operation=\"profile_replace\" profile=\"unconfined\" name=\"svc\" pid=10 comm=\"apparmor_parser\"\n";
    let future_load = "type=AVC msg=audit(4000000000.000:9): apparmor=\"STATUS\" operation=\"profile_replace\" profile=\"unconfined\" name=\"svc\" pid=10 comm=\"apparmor_parser\"\n";
    let future_other = "type=AVC msg=audit(4000000000.000:10): apparmor=\"DENIED\" operation=\"open\" profile=\"other\" name=\"/x\" pid=12 comm=\"o\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n";
    for (what, extra) in [
        ("forged load", forged_load),
        ("future load", future_load),
        ("future event of another profile", future_other),
    ] {
        let (code, r) = status_with(extra);
        assert_eq!(code, Some(1), "{what}: {r:#}");
        assert_eq!(r["ready"], false, "{what}");
        assert_eq!(r["until"], 1_700_000_104, "{what}");
        assert_eq!(r["last_load"], 1_700_000_000, "{what}");
        assert_eq!(r["denials_in_quiet_period"], 5, "{what}");
    }
    // A forged line stamped long before the logs start does not make them cover the period.
    let old = "Nov 14 22:13:20 host kernel: audit: type=1400 audit(1600000000.000:9): apparmor=\"DENIED\" operation=\"open\" profile=\"other\" name=\"/x\" pid=12 comm=\"o\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n";
    let (_, r) = status_with(old);
    assert_eq!(r["logs_start"], 1_700_000_000);
}

/// A program path (as `aa-complain` takes it) judges the profile attaching to it, by the name
/// the logs give that profile.
#[test]
fn a_program_path_judges_the_profile_attaching_to_it() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(common::bin())
        .args(["status", "/usr/sbin/exampled", "--json", "-d"])
        .arg(repo.join("examples/pidcache/profile"))
        .arg("--log")
        .arg(repo.join("examples/pidcache/audit.log"))
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(
        r["profiles"]
            .as_array()
            .unwrap()
            .contains(&Value::from("exampled")),
        "{r:#}"
    );
    assert!(r["denials"].as_u64().unwrap() > 0, "{r:#}");
}
