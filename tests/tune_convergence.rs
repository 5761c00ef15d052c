//! Convergence: apply every first choice `tune` proposes that may be approved, re-run on the
//! same log, and nothing is left uncovered except what only blocked (dangerous) proposals
//! would cover; nothing new is proposed. A first choice may be blocked for its danger, never
//! for covering nothing, lying about its evidence, or not parsing.

mod common;

use common::repo;

use aa_assist::profile::ProfileFile;
use assert_cmd::Command;

fn report(
    profile: &std::path::Path,
    log: &std::path::Path,
    state: &std::path::Path,
) -> (i32, serde_json::Value) {
    let out = Command::new(common::bin())
        .arg("tune")
        .arg(profile)
        .arg("--log")
        .arg(log)
        .arg("-d")
        .arg(profile.parent().expect("dir"))
        .arg("--json")
        .env("AA_ASSIST_STATE_DIR", state)
        .output()
        .expect("run");
    let code = out.status.code().expect("exit code");
    assert!(
        code == 0 || code == 1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        code,
        serde_json::from_slice(&out.stdout).expect("json report"),
    )
}

fn converges(example: &str, profile_file: &str, log: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pdir = dir.path().join("apparmor.d");
    std::fs::create_dir_all(&pdir).expect("mkdir");
    let profile = pdir.join(profile_file);
    let original =
        std::fs::read_to_string(repo(&format!("examples/{example}/profile/{profile_file}")))
            .expect("example profile");
    std::fs::write(&profile, &original).expect("write");
    let log = repo(&format!("examples/{example}/{log}"));
    let state = dir.path().join("state");

    let (code, first) = report(&profile, &log, &state);
    let proposals = first["proposals"].as_array().expect("proposals");
    assert_eq!(code, 1);
    assert!(
        !proposals.is_empty(),
        "the example has something to propose"
    );
    for p in proposals {
        let codes: Vec<&str> = p["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["code"].as_str())
            .collect();
        for bad in ["no-evidence", "unsupported-claim", "invalid-rule"] {
            assert!(!codes.contains(&bad), "first choice with {bad}: {p:#}");
        }
    }
    let unresolved = first["unresolved"].clone();
    let blocked: Vec<&str> = proposals
        .iter()
        .filter(|p| p["verdict"] == "blocked")
        .filter_map(|p| p["rule"].as_str())
        .collect();

    let mut text = original.clone();
    let mut inserted = Vec::new();
    for p in proposals.iter().filter(|p| p["verdict"] != "blocked") {
        let rule = p["rule"].as_str().expect("rule");
        let name = p["profile"].as_str().expect("profile");
        let path: Vec<&str> = name.split("//").collect();
        let mut tree = ProfileFile::parse(profile_file, &text).expect("parses");
        text = tree.insert_rule(&path, rule).expect("insertable");
        inserted.push(rule.to_string());
    }
    // Every other byte is unchanged: removing the inserted lines gives the original back.
    let mut stripped = text.clone();
    for r in &inserted {
        let i = stripped
            .lines()
            .position(|l| l.trim() == r)
            .expect("inserted line present");
        let mut lines: Vec<&str> = stripped.split_inclusive('\n').collect();
        lines.remove(i);
        stripped = lines.concat();
    }
    assert_eq!(stripped, original);
    std::fs::write(&profile, &text).expect("write");

    let (code, second) = report(&profile, &log, &state);
    assert_eq!(second["uncovered"], unresolved, "{second:#}");
    let again: Vec<&str> = second["proposals"]
        .as_array()
        .expect("proposals")
        .iter()
        .filter_map(|p| p["rule"].as_str())
        .collect();
    assert_eq!(again, blocked, "only the blocked proposals come back");
    assert_eq!(code, if blocked.is_empty() { 0 } else { 1 });
}

#[test]
fn pidcache_converges() {
    converges("pidcache", "usr.sbin.exampled", "audit.log");
}

#[test]
fn webserver_converges() {
    converges("webserver", "usr.sbin.examplehttpd", "audit.log");
}

#[test]
fn desktop_converges() {
    converges("desktop", "example-notifier", "audit.log");
}
