//! Snapshots of a pack's files for the bundled examples: the Markdown prompt, the Batch API
//! requests and the manifest. A change to any of them is a change to what leaves the host,
//! so it must show up in review (`cargo insta review`); under CI=true insta never writes.

mod common;

use common::repo;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Pack `log` (for `profile`, with `extra` flags) into `<tmp>/pack` and return the directory.
fn pack(tmp: &Path, log: &str, profile: &str, extra: &[&str]) -> PathBuf {
    let out = tmp.join("pack");
    let profile = repo(profile);
    let o = Command::new(common::bin())
        .arg("pack")
        .arg("--log")
        .arg(repo(log))
        .arg("--profile")
        .arg(&profile)
        .arg("-d")
        .arg(profile.parent().expect("dir"))
        .args(extra)
        .arg("--out")
        .arg(&out)
        .env("AA_ASSIST_CONFIG", tmp.join("no-config.toml"))
        .output()
        .expect("run pack");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The manifest with the tool version masked (it changes with every release).
fn manifest(dir: &Path) -> String {
    let mut m: serde_json::Value =
        serde_json::from_str(&read(dir.join("manifest.json"))).expect("json");
    assert_eq!(m["tool_version"], env!("CARGO_PKG_VERSION"));
    m["tool_version"] = "[version]".into();
    serde_json::to_string_pretty(&m).expect("json")
}

/// Each request line, pretty-printed.
fn requests(dir: &Path) -> String {
    read(dir.join("requests.jsonl"))
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            serde_json::to_string_pretty(&v).expect("json")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn pidcache_draft_pack() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = pack(
        tmp.path(),
        "examples/pidcache/audit.log",
        "examples/pidcache/profile/usr.sbin.exampled",
        &[],
    );
    insta::assert_snapshot!("pidcache_draft_B1_md", read(dir.join("B1.md")));
    insta::assert_snapshot!("pidcache_draft_manifest", manifest(&dir));
    insta::assert_snapshot!("pidcache_draft_requests", requests(&dir));
}

#[test]
fn webserver_review_pack() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = pack(
        tmp.path(),
        "examples/webserver/audit.log",
        "examples/webserver/profile/usr.sbin.examplehttpd",
        &["--task", "review", "--model", "gpt-4.1-mini"],
    );
    insta::assert_snapshot!("webserver_review_B1_md", read(dir.join("B1.md")));
    insta::assert_snapshot!("webserver_review_manifest", manifest(&dir));
}
