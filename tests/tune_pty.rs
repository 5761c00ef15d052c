//! `aa-assist tune` through a real pseudo-terminal: the real binary, real `dialoguer`
//! prompts, keys sent as a human would type them.
//!
//! The proposals come from a hand-made file (`--proposals`) so these tests pin the review
//! and write behaviour independently of the drafter; the profile is the bundled example.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aa_assist::check::{Checked, Finding, Severity, Verdict};
use aa_assist::draft::{Proposal, Source};
use expectrl::{Eof, Session};

const PROFILE: &str = "examples/pidcache/profile/usr.sbin.exampled";
const LOG: &str = "examples/pidcache/audit.log";

fn repo(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn checked(id: &str, rule: &str, covers: &[&str], verdict: Verdict) -> Checked {
    Checked {
        proposal: Proposal {
            id: id.into(),
            profile: "exampled".into(),
            rule: rule.into(),
            source: Source::Drafter,
            claimed_evidence: covers.iter().map(|s| s.to_string()).collect(),
            alternatives: vec![],
            rationale: None,
            exec_modes: vec![],
        },
        covers: covers.iter().map(|s| s.to_string()).collect(),
        unsupported_claims: vec![],
        extra_paths: vec![],
        extra_path_count: 0,
        extra_perms: vec![],
        findings: if verdict == Verdict::Blocked {
            vec![Finding {
                code: "recursive-write-glob".into(),
                severity: Severity::Error,
                message: "write on a recursive glob".into(),
            }]
        } else {
            vec![]
        },
        verdict,
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    profile: PathBuf,
    original: String,
    proposals: PathBuf,
    state: PathBuf,
}

fn fixture(items: &[Checked], rechecks: &[Checked]) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let pdir = root.join("apparmor.d");
    std::fs::create_dir_all(&pdir).expect("mkdir");
    let profile = pdir.join("usr.sbin.exampled");
    let original = std::fs::read_to_string(repo(PROFILE)).expect("example profile");
    std::fs::write(&profile, &original).expect("write");
    let proposals = root.join("proposals.json");
    let json = serde_json::json!({
        "evidence": {
            "G1": {"summary": "file open /etc/exampled/exampled.conf (r)",
                   "lines": ["type=AVC msg=audit(1795082402.114:301): apparmor=\"DENIED\" operation=\"open\" name=\"/etc/exampled/exampled.conf\""]},
        },
        "checked": items,
        "rechecks": rechecks,
    });
    std::fs::write(&proposals, json.to_string()).expect("write");
    Fixture {
        root: root.clone(),
        state: root.join("state"),
        _dir: dir,
        profile,
        original,
        proposals,
    }
}

fn spawn(f: &Fixture, extra_env: &[(&str, &str)]) -> Session {
    let mut cmd = Command::new(common::bin());
    cmd.arg("tune")
        .arg(&f.profile)
        .arg("--log")
        .arg(repo(LOG))
        .arg("-d")
        .arg(f.profile.parent().expect("dir"))
        .arg("--proposals")
        .arg(&f.proposals)
        .env("AA_ASSIST_STATE_DIR", &f.state)
        .env("TERM", "xterm")
        .env_remove("NO_COLOR");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut s = Session::spawn(cmd).expect("spawn in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(20)));
    s
}

fn exit_code(s: &mut Session) -> i32 {
    match s.get_process_mut().wait().expect("wait") {
        expectrl::WaitStatus::Exited(_, code) => code,
        other => panic!("unexpected end: {other:?}"),
    }
}

fn two_ok() -> Vec<Checked> {
    vec![
        checked("P1", "/etc/exampled/exampled.conf r,", &["G1"], Verdict::Ok),
        checked("P2", "capability net_bind_service,", &["G2"], Verdict::Ok),
    ]
}

/// Remove exactly one occurrence of `line` (with its newline) from `text`.
fn without_line(text: &str, line: &str) -> String {
    let needle = format!("{line}\n");
    let i = text.find(&needle).expect("the line is there");
    assert_eq!(text.matches(&needle).count(), 1, "exactly once");
    format!("{}{}", &text[..i], &text[i + needle.len()..])
}

fn parser_accepts(profile: &Path) {
    let Some(parser) = aa_assist::review::validate::find_parser() else {
        eprintln!("notice: apparmor_parser not installed; not validating");
        return;
    };
    let text = std::fs::read_to_string(profile).expect("read");
    aa_assist::review::validate::validate(&parser, profile, &text, &[], &[])
        .expect("apparmor_parser accepts the written profile");
}

#[test]
fn approve_one_reject_other_writes_exactly_the_approved_rule() {
    let f = fixture(&two_ok(), &[]);
    let mut s = spawn(&f, &[]);
    s.expect("P1: what to do?").expect("first prompt");
    s.send("\r").expect("approve (the default)");
    s.expect("P2: what to do?").expect("second prompt");
    // Skip is always second to last: up twice from the top wraps round to it.
    s.send("k").expect("up");
    s.send("k").expect("up");
    s.send("\r").expect("skip");
    s.expect("Write 1 rule(s)").expect("final confirmation");
    s.send("y").expect("yes");
    s.expect("Wrote").expect("written");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 0);

    let new = std::fs::read_to_string(&f.profile).expect("read");
    assert_eq!(
        without_line(&new, "  /etc/exampled/exampled.conf r,"),
        f.original,
        "every other byte unchanged"
    );
    assert!(!new.contains("net_bind_service"));
    parser_accepts(&f.profile);

    let decisions = std::fs::read_to_string(f.state.join("decisions.json")).expect("memory");
    let d: serde_json::Value = serde_json::from_str(&decisions).expect("json");
    let list = d["decisions"].as_array().expect("list");
    assert_eq!(list.len(), 2);
    assert!(list
        .iter()
        .any(|r| r["rule"] == "capability net_bind_service," && r["decision"] == "rejected"));
    let backups: Vec<_> = std::fs::read_dir(f.state.join("backups"))
        .expect("backup dir")
        .collect();
    assert_eq!(backups.len(), 1);
}

#[test]
fn quit_half_way_leaves_the_file_unchanged() {
    let f = fixture(&two_ok(), &[]);
    let mut s = spawn(&f, &[]);
    s.expect("P1: what to do?").expect("first prompt");
    s.send("\r").expect("approve");
    s.expect("P2: what to do?").expect("second prompt");
    s.send("k").expect("up to quit");
    s.send("\r").expect("quit");
    s.expect("nothing written").expect("says so");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 1);
    assert_eq!(
        std::fs::read(&f.profile).expect("read"),
        f.original.as_bytes()
    );
    assert!(
        !f.state.join("decisions.json").exists(),
        "quit remembers nothing"
    );
}

#[test]
fn blocked_proposal_is_edited_rechecked_and_approved() {
    let blocked = checked("P1", "/var/lib/exampled/** rw,", &["G1"], Verdict::Blocked);
    let edited = checked(
        "P1",
        "owner /var/lib/exampled/cache/* rw,",
        &["G1"],
        Verdict::Ok,
    );
    let f = fixture(&[blocked], &[edited]);
    let editor = f.root.join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf 'owner /var/lib/exampled/cache/* rw,\\n' > \"$1\"\n",
    )
    .expect("write editor");
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let editor = editor.to_string_lossy().into_owned();
    let mut s = spawn(&f, &[("EDITOR", &editor), ("VISUAL", &editor)]);
    s.expect("BLOCKED").expect("shown as blocked");
    s.expect("P1: what to do?").expect("prompt");
    let menu = s.expect("quit (write nothing)").expect("menu");
    let menu = String::from_utf8_lossy(menu.before()).into_owned();
    assert!(menu.contains("edit in $EDITOR"), "{menu}");
    assert!(
        !menu.contains("approve"),
        "a blocked proposal cannot be approved: {menu}"
    );
    // The menu of a blocked file rule: toggle owner, toggle audit, toggle deny, edit, skip,
    // quit; "approve" is not offered, and the cursor starts on "skip". One up is "edit".
    s.send("k").expect("up");
    s.send("\r").expect("edit");
    s.expect("verdict: ok").expect("re-checked");
    s.expect("P1: what to do?").expect("prompt again");
    s.send("\r").expect("approve the edit");
    s.expect("Write 1 rule(s)").expect("final confirmation");
    s.send("y").expect("yes");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 0);
    let new = std::fs::read_to_string(&f.profile).expect("read");
    assert_eq!(
        without_line(&new, "  owner /var/lib/exampled/cache/* rw,"),
        f.original
    );
    parser_accepts(&f.profile);
}

#[test]
fn missing_parser_is_said_plainly_before_any_question() {
    let f = fixture(&two_ok(), &[]);
    let mut s = spawn(
        &f,
        &[("AA_ASSIST_APPARMOR_PARSER", "/nonexistent/apparmor_parser")],
    );
    s.expect("apparmor_parser was not found")
        .expect("plain message");
    s.expect("--no-parser-check").expect("the way out");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 2);
    assert_eq!(
        std::fs::read(&f.profile).expect("read"),
        f.original.as_bytes()
    );
}
