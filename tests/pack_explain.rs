//! Explanation packs (`--explain-profile`, `--task explain`): the answer's explanations are
//! the result; nothing is proposed or written. And the CLI's refusals.

mod common;

use common::repo;

use std::process::Command;

#[test]
fn explain_profile_without_logs_round_trips_explanations() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let profile = repo("examples/webserver/profile/usr.sbin.examplehttpd");
    let out = tmp.path().join("explain");
    let o = Command::new(common::bin())
        .arg("pack")
        .arg("--explain-profile")
        .arg(&profile)
        .arg("-d")
        .arg(profile.parent().expect("dir"))
        .arg("--out")
        .arg(&out)
        .env("AA_ASSIST_CONFIG", tmp.path().join("no-config.toml"))
        .output()
        .expect("run pack");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(out.join("B1.md")).expect("read");
    assert!(md.contains("(task: explain-profile)"));
    assert!(md.contains("PROFILE P1 (untrusted):"));
    assert!(md.contains("audit deny @{WWW_ROOT}/**/.git/** rwl,"));

    let answer = tmp.path().join("reply.txt");
    std::fs::write(
        &answer,
        "The profile, explained:\n```json\n{\"proposals\":[],\"explanations\":[\
         {\"group\":\"P1\",\"text\":\"A web server confined to its config and document root.\"},\
         {\"group\":\"G42\",\"text\":\"not a group of this batch\"}]}\n```\n",
    )
    .expect("write");
    let o = Command::new(common::bin())
        .arg("ingest")
        .arg("--pack")
        .arg(&out)
        .arg(&answer)
        .env("AA_ASSIST_STATE_DIR", tmp.path().join("state"))
        .output()
        .expect("run ingest");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("P1: A web server confined to its config and document root."),
        "{stdout}"
    );
    assert!(
        !stdout.contains("G42"),
        "explanations of unknown groups are dropped"
    );

    let o = Command::new(common::bin())
        .arg("ingest")
        .arg("--pack")
        .arg(&out)
        .arg(&answer)
        .arg("--json")
        .env("AA_ASSIST_STATE_DIR", tmp.path().join("state"))
        .output()
        .expect("run ingest");
    assert_eq!(o.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["task"], "explain-profile");
    assert_eq!(doc["explanations"][0]["group"], "P1");
    assert_eq!(doc["explanations"].as_array().map(Vec::len), Some(1));
}

#[test]
fn pack_refuses_a_non_empty_directory_and_missing_inputs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("busy");
    std::fs::create_dir_all(&out).expect("mkdir");
    std::fs::write(out.join("keep.txt"), "mine").expect("write");
    let o = Command::new(common::bin())
        .arg("pack")
        .arg("--log")
        .arg(repo("examples/pidcache/audit.log"))
        .arg("--out")
        .arg(&out)
        .env("AA_ASSIST_CONFIG", tmp.path().join("no-config.toml"))
        .output()
        .expect("run pack");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is never overwritten"));
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).expect("read"),
        "mine"
    );

    let o = Command::new(common::bin())
        .args(["pack", "--task", "review", "--log"])
        .arg(repo("examples/pidcache/audit.log"))
        .arg("--out")
        .arg(tmp.path().join("new"))
        .env("AA_ASSIST_CONFIG", tmp.path().join("no-config.toml"))
        .output()
        .expect("run pack");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs --profile"));
    assert!(!tmp.path().join("new").exists());
}

#[test]
fn help_carries_examples() {
    for cmd in ["pack", "ingest"] {
        let o = Command::new(common::bin())
            .args([cmd, "--help"])
            .output()
            .expect("run");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("Examples:"), "{cmd}: {text}");
        assert!(text.contains("aa-assist ingest --pack"), "{cmd}: {text}");
    }
}
