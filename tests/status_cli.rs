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
    let (code, r) = status(&["svc", "--now", "@1700090000"]);
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
    // Another profile has no denials in these logs.
    let (_, r) = status(&["other", "--now", "@1700090000"]);
    assert_eq!(r["denials"], 0);
    assert_eq!(r["ready"], true);
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
