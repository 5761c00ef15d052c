//! What travels holds none of the seeded secrets; the secret files are private and restore
//! them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use aa_assist::pack::Pack;

/// Identifying and secret values seeded into the logs, in several framings.
const SECRETS: &[&str] = &[
    "alice",
    "bob",
    "secrethost01",
    "corp.example",
    "sk-live0123456789abcdefXYZ",
    "203.0.113.77",
    "0b3e2c1a-1111-4222-8333-944455556666",
    "bob@corp.example",
];

/// The values the prompts needed and therefore carry as pseudonyms (host names and peer
/// addresses never reach a prompt and need none).
const RESTORED: &[&str] = &[
    "alice",
    "bob@corp.example",
    "sk-live0123456789abcdefXYZ",
    "0b3e2c1a-1111-4222-8333-944455556666",
];

const KERN_LOG: &str = r#"Nov 19 10:01:52 secrethost01 kernel: audit: type=1400 audit(1700000000.100:10): apparmor="DENIED" operation="open" profile="exampled" name="/home/alice/.config/exampled/token-sk-live0123456789abcdefXYZ.conf" pid=100 comm="exampled" requested_mask="r" denied_mask="r" fsuid=1000 ouid=1000
Nov 19 10:01:53 secrethost01 kernel: audit: type=1400 audit(1700000001.100:11): apparmor="DENIED" operation="connect" profile="exampled" pid=100 comm="exampled" family="inet" sock_type="stream" protocol=6 requested_mask="send receive connect" denied_mask="send receive connect" faddr=203.0.113.77 fport=5432
Nov 19 10:01:54 secrethost01 kernel: audit: type=1400 audit(1700000002.100:12): apparmor="DENIED" operation="open" profile="exampled" name="/var/lib/exampled/0b3e2c1a-1111-4222-8333-944455556666/state" pid=100 comm="exampled" requested_mask="rw" denied_mask="rw" fsuid=0 ouid=0
"#;

const AUDIT_LOG: &str = "node=secrethost01.corp.example type=AVC msg=audit(1700000003.100:13): apparmor=\"DENIED\" operation=\"open\" profile=\"exampled\" name=\"/srv/mail/bob@corp.example/inbox\" pid=101 comm=\"exampled\" requested_mask=\"r\" denied_mask=\"r\" fsuid=1001 ouid=1001\x1dFSUID=\"bob\" OUID=\"bob\"\n";

fn make_pack(root: &Path) -> PathBuf {
    let kern = root.join("kern.log");
    let audit = root.join("audit.log");
    std::fs::write(&kern, KERN_LOG).expect("write");
    std::fs::write(&audit, AUDIT_LOG).expect("write");
    let out = root.join("pack");
    let st = Command::new(common::bin())
        .args(["pack", "--log"])
        .arg(&kern)
        .arg("--log")
        .arg(&audit)
        .arg("--out")
        .arg(&out)
        .env("AA_ASSIST_CONFIG", root.join("no-config.toml"))
        .output()
        .expect("run pack");
    let stdout = String::from_utf8_lossy(&st.stdout);
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(
        stdout.contains("SECRET, never send with the prompts")
            && stdout.contains("redaction-map.json"),
        "pack says where the map is and that it must not travel: {stdout}"
    );
    out
}

fn travelling(out: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(out)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| p.file_name().is_some_and(|n| n != "redaction-map.json"))
        .map(|p| {
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).expect("read"),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn prompts_requests_and_manifest_hold_no_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = make_pack(dir.path());
    let files = travelling(&out);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["B1.md", "manifest.json", "requests.jsonl"]);
    for (name, text) in &files {
        for s in SECRETS {
            assert!(!text.contains(s), "{name} leaks {s:?}");
        }
        assert!(
            !text.contains("redaction-map") && !text.contains("evidence.json"),
            "{name} must not reference the secret files"
        );
    }
    // The pseudonyms did reach the prompt: the data is there, just not the values.
    let md = &files[0].1;
    assert!(md.contains("USER_1") || md.contains("@{HOME}"), "{md}");
    assert!(md.contains("SECRET_1") && md.contains("EMAIL_1") && md.contains("UUID_1"));
}

#[test]
fn the_map_is_private_and_restores_every_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = make_pack(dir.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: PathBuf| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(out.join("redaction-map.json")), 0o600);
        assert_eq!(mode(out.join("local/evidence.json")), 0o600);
        assert_eq!(mode(out.join("local")), 0o700);
    }
    let map: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("redaction-map.json")).expect("read"),
    )
    .expect("json");
    assert!(map["warning"]
        .as_str()
        .is_some_and(|w| w.starts_with("SECRET")));

    let pack = Pack::open(&out).expect("the pack verifies");
    let red = pack.redactor();
    let prompt = std::fs::read_to_string(out.join("B1.md")).expect("read");
    let restored = red.restore_str(&prompt);
    for s in RESTORED {
        assert!(restored.contains(s), "the map restores {s:?}");
    }
    assert!(
        restored.contains("/home/alice/.config/exampled/token-sk-live0123456789abcdefXYZ.conf")
            || restored.contains("@{HOME}/.config/exampled/token-sk-live0123456789abcdefXYZ.conf")
    );
}

#[test]
fn ingest_restores_pseudonyms_in_the_model_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let pdir = root.join("apparmor.d");
    std::fs::create_dir_all(&pdir).expect("mkdir");
    let profile = pdir.join("usr.sbin.exampled");
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("examples/pidcache/profile/usr.sbin.exampled"),
        &profile,
    )
    .expect("copy");
    let original = std::fs::read(&profile).expect("read");
    let kern = root.join("kern.log");
    std::fs::write(&kern, KERN_LOG).expect("write");
    let out = root.join("pack");
    let st = Command::new(common::bin())
        .args(["pack", "--log"])
        .arg(&kern)
        .arg("--profile")
        .arg(&profile)
        .arg("-d")
        .arg(&pdir)
        .arg("--out")
        .arg(&out)
        .env("AA_ASSIST_CONFIG", root.join("no-config.toml"))
        .output()
        .expect("run pack");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );

    // The model only ever saw pseudonyms, so it answers in them.
    let md = std::fs::read_to_string(out.join("B1.md")).expect("read");
    let line = md
        .lines()
        .find(|l| l.contains("token-SECRET_1.conf"))
        .expect("the redacted path is in the data");
    let id_at = line.find("\"id\":\"").expect("id") + 6;
    let id = &line[id_at..id_at + line[id_at..].find('"').expect("end")];
    let rule = "owner @{HOME}/.config/exampled/token-SECRET_1.conf r,";
    let answer = serde_json::json!({"proposals": [{"profile": "exampled", "rule": rule,
        "evidence": [id], "rationale": "reads its token", "risk": "medium"}],
        "explanations": []});
    let a = root.join("B1.txt");
    // Written as the model would answer: in pseudonyms already. (Redacting it again would
    // give the literal `SECRET_1` a pseudonym of its own, as for any pseudonym-shaped input.)
    std::fs::write(&a, answer.to_string()).expect("write");
    let o = Command::new(common::bin())
        .arg("ingest")
        .arg("--pack")
        .arg(&out)
        .arg(&a)
        .arg("-d")
        .arg(&pdir)
        .args(["--json", "--trust-userspace"])
        .env("AA_ASSIST_STATE_DIR", root.join("state"))
        .env("AA_ASSIST_CONFIG", root.join("no-config.toml"))
        .output()
        .expect("run ingest");
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&o.stderr));
    });
    let p = &r["proposals"][0];
    assert_eq!(
        p["rule"],
        "owner @{HOME}/.config/exampled/token-sk-live0123456789abcdefXYZ.conf r,"
    );
    assert_eq!(
        p["evidence"],
        serde_json::json!([id]),
        "covers the real event: {p}"
    );
    assert_eq!(p["verdict"], "review");
    assert_eq!(std::fs::read(&profile).expect("read"), original);
}
