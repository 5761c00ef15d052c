//! `aa-assist tune` without a terminal: it never writes, prints the proposals, and reports
//! them as JSON or a patch when asked.

mod common;

use common::repo;

use std::path::PathBuf;

use aa_assist::check::{Checked, Verdict};
use aa_assist::draft::Alternative;
use assert_cmd::Command;

const PROFILE: &str = "examples/pidcache/profile/usr.sbin.exampled";
const LOG: &str = "examples/pidcache/audit.log";

/// The shared base proposal, offering one alternative (shown in cards and the JSON report).
fn checked(id: &str, rule: &str, covers: &[&str], verdict: Verdict) -> Checked {
    let mut c = common::checked(id, rule, covers, verdict);
    c.proposal.alternatives = vec![Alternative {
        rule: "/etc/exampled/** r,".into(),
        why: "glob directory".into(),
    }];
    c
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    profile: PathBuf,
    original: Vec<u8>,
    proposals: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let pdir = root.join("apparmor.d");
    std::fs::create_dir_all(&pdir).expect("mkdir");
    let profile = pdir.join("usr.sbin.exampled");
    let original = std::fs::read(repo(PROFILE)).expect("example profile");
    std::fs::write(&profile, &original).expect("write");
    let proposals = root.join("proposals.json");
    let json = serde_json::json!({
        "groups": [
            {"id": "G1", "profile": "exampled", "class": "file", "operation": "open",
             "resource": "/etc/exampled/exampled.conf", "mask": "r", "count": 2, "covered_by": null},
            {"id": "G2", "profile": "exampled", "class": "capability", "operation": "capable",
             "resource": "setgid", "mask": "", "count": 1, "covered_by": "capability setgid,"},
            {"id": "G3", "profile": "exampled", "class": "file", "operation": "mknod",
             "resource": "/var/lib/exampled/cache/objects/ab/x.obj", "mask": "c", "count": 1, "covered_by": null},
        ],
        "checked": [
            checked("P1", "/etc/exampled/exampled.conf r,", &["G1"], Verdict::Ok),
            checked("P2", "/var/lib/exampled/** rw,", &["G3"], Verdict::Blocked),
        ],
    });
    std::fs::write(&proposals, json.to_string()).expect("write");
    Fixture {
        root,
        _dir: dir,
        profile,
        original,
        proposals,
    }
}

fn tune(f: &Fixture) -> Command {
    let mut c = Command::new(common::bin());
    c.arg("tune")
        .arg(&f.profile)
        .arg("--log")
        .arg(repo(LOG))
        .arg("--proposals")
        .arg(&f.proposals)
        .env("AA_ASSIST_STATE_DIR", f.root.join("state"));
    c
}

#[test]
fn non_tty_prints_diffs_and_never_writes() {
    let f = fixture();
    // Without --dry-run, the review was asked for and cannot happen: an error, after the diffs.
    let out = tune(&f).assert().code(2).get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no terminal to review the 2 proposal(s)"),
        "{err}"
    );
    assert_eq!(std::fs::read(&f.profile).expect("read"), f.original);
    let out = String::from_utf8(out.stdout).expect("utf8");
    assert!(out.contains("+   /etc/exampled/exampled.conf r,"), "{out}");
    // With --dry-run, the preview is all that was asked for.
    let out = tune(&f)
        .arg("--dry-run")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).expect("utf8");
    assert!(out.contains("+   /etc/exampled/exampled.conf r,"), "{out}");
    assert!(out.contains("BLOCKED"), "{out}");
    assert!(out.contains("nothing written (no terminal)"), "{out}");
    assert!(!out.contains('\x1b'), "no colour into a pipe");
    assert_eq!(std::fs::read(&f.profile).expect("read"), f.original);
}

/// The previews (`--dry-run`, `--json`) check the unmodified profile too, and say a parser
/// rejection as a warning on standard error: the preview still runs with its usual exit
/// status, `--json` stays exact JSON, the parser's lines stay lines and are escaped.
#[test]
fn previews_warn_about_an_invalid_unmodified_profile() {
    let f = fixture();
    let parser = f.root.join("rejecting_apparmor_parser");
    let script = "#!/bin/sh\ncat >/dev/null\nprintf 'AppArmor parser error at line 6: Could not open \\047abi/9.9\\047: No such file or directory\\nsecond \\033[31m line\\n' >&2\nexit 1\n";
    std::fs::write(&parser, script).expect("write");
    std::fs::set_permissions(&parser, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    for mode in ["--dry-run", "--json"] {
        let out = tune(&f)
            .arg(mode)
            .env("AA_ASSIST_APPARMOR_PARSER", &parser)
            .assert()
            .code(1)
            .get_output()
            .clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("aa-assist: warning: apparmor_parser rejects"),
            "{mode}: {err}"
        );
        assert!(
            err.lines()
                .any(|l| l == "AppArmor parser error at line 6: Could not open 'abi/9.9': No such file or directory"),
            "{mode}: the parser's lines stay lines: {err:?}"
        );
        assert!(
            err.lines().any(|l| l == "second \\x1b[31m line"),
            "{mode}: {err:?}"
        );
        assert!(err.contains("does not ship abi/9.9"), "{mode}: {err}");
        assert!(!err.contains('\x1b'), "{mode}: no raw ESC: {err:?}");
        if mode == "--json" {
            serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("exact JSON");
        }
        assert_eq!(std::fs::read(&f.profile).expect("read"), f.original);
    }
    // --no-parser-check: no parser run, no warning.
    let out = tune(&f)
        .args(["--dry-run", "--no-parser-check"])
        .env("AA_ASSIST_APPARMOR_PARSER", &parser)
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
}

#[test]
fn json_report_follows_schema_v1() {
    let f = fixture();
    let out = tune(&f)
        .arg("--json")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["groups"].as_array().expect("groups").len(), 3);
    assert_eq!(v["groups"][1]["covered_by"], "capability setgid,");
    let p = &v["proposals"][0];
    assert_eq!(p["id"], "P1");
    assert_eq!(p["profile"], "exampled");
    assert_eq!(p["source"], "drafter");
    assert_eq!(p["evidence"], serde_json::json!(["G1"]));
    assert_eq!(p["verdict"], "ok");
    assert_eq!(p["alternatives"][0]["rule"], "/etc/exampled/** r,");
    assert_eq!(v["proposals"][1]["verdict"], "blocked");
    assert_eq!(v["uncovered"], serde_json::json!(["G1", "G3"]));
    assert_eq!(v["unresolved"], serde_json::json!(["G3"]));
    assert_eq!(std::fs::read(&f.profile).expect("read"), f.original);
}

#[test]
fn patch_holds_approvable_first_choices_and_applies() {
    let f = fixture();
    let patch = f.root.join("tune.patch");
    tune(&f)
        .arg("--dry-run")
        .arg("--patch")
        .arg(&patch)
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&patch).expect("patch written");
    assert!(
        text.contains("# P1 [ok] exampled: /etc/exampled/exampled.conf r,"),
        "{text}"
    );
    assert!(text.contains("# P2 [blocked, not included]"), "{text}");
    assert!(
        text.contains("\n+  /etc/exampled/exampled.conf r,\n"),
        "{text}"
    );
    assert!(!text.contains("+  /var/lib/exampled/** rw,"), "{text}");
    assert_eq!(std::fs::read(&f.profile).expect("read"), f.original);
    // It applies with patch(1) when available.
    let copy = f.root.join("copy");
    std::fs::write(&copy, &f.original).expect("write");
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let stripped = f.root.join("body.patch");
    std::fs::write(&stripped, body).expect("write");
    if let Ok(st) = std::process::Command::new("patch")
        .arg(&copy)
        .arg(&stripped)
        .stdout(std::process::Stdio::null())
        .status()
    {
        assert!(st.success());
        let patched = std::fs::read_to_string(&copy).expect("read");
        assert!(patched.contains("  /etc/exampled/exampled.conf r,\n"));
    }
}

#[test]
fn llm_without_a_configured_server_is_a_clear_error() {
    let f = fixture();
    let out = tune(&f)
        .arg("--llm")
        .env("AA_ASSIST_CONFIG", f.root.join("no-config.toml"))
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("AA_ASSIST_MODEL")
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(err.contains("--llm needs a base URL"), "{err}");
    assert!(
        err.contains("OPENAI_API_KEY"),
        "says the key alone picks OpenAI: {err}"
    );
}

/// The README's OpenAI example: with `OPENAI_API_KEY` set and no base URL, OpenAI's is used
/// (not "--llm needs a base URL").
#[test]
fn an_openai_key_without_a_base_url_uses_openai() {
    let f = fixture();
    let out = tune(&f)
        .args(["--llm", "--model", "gpt-4o-mini", "--json"])
        .env("AA_ASSIST_CONFIG", f.root.join("no-config.toml"))
        .env_remove("OPENAI_BASE_URL")
        .env_remove("AA_ASSIST_MODEL")
        .env("OPENAI_API_KEY", "sk-test-not-a-key")
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("needs a base URL"), "{err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
}

#[test]
fn local_requires_the_profile_to_include_its_override() {
    let f = fixture();
    tune(&f).arg("--local").arg("--dry-run").assert().code(1);
    let text = String::from_utf8(f.original.clone()).expect("utf8");
    std::fs::write(
        &f.profile,
        text.replace("  include if exists <local/usr.sbin.exampled>\n", ""),
    )
    .expect("write");
    let out = tune(&f)
        .arg("--local")
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(
        err.contains("does not include local/usr.sbin.exampled"),
        "{err}"
    );
}

#[test]
fn local_dry_run_shows_the_override_file_diff() {
    let f = fixture();
    let out = tune(&f)
        .arg("--local")
        .arg("--dry-run")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).expect("utf8");
    assert!(out.contains("+ # Site-specific additions"), "{out}");
    assert!(out.contains("+ /etc/exampled/exampled.conf r,"), "{out}");
    assert!(!f.root.join("apparmor.d/local").exists());
}

#[test]
fn profile_is_found_by_name_in_the_profile_dir() {
    let f = fixture();
    let dir = f.profile.parent().expect("dir").to_path_buf();
    for name in ["exampled", "usr.sbin.exampled", "/usr/sbin/exampled"] {
        Command::new(common::bin())
            .arg("tune")
            .arg(name)
            .arg("-d")
            .arg(&dir)
            .arg("--log")
            .arg(repo(LOG))
            .arg("--proposals")
            .arg(&f.proposals)
            .arg("--json")
            .env("AA_ASSIST_STATE_DIR", f.root.join("state"))
            .assert()
            .code(1);
    }
    Command::new(common::bin())
        .args(["tune", "nosuch", "--log", "x", "-d"])
        .arg(&dir)
        .assert()
        .code(2);
}

/// The README's main command: the bundled example, offline, no AppArmor, no API key.
#[test]
fn readme_command_works_without_apparmor_or_api_key() {
    let state = tempfile::tempdir().expect("tempdir");
    let out = Command::new(common::bin())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tune",
            "examples/pidcache/profile/usr.sbin.exampled",
            "--log",
            "examples/pidcache/audit.log",
            "-d",
            "examples/pidcache/profile",
            "--dry-run",
        ])
        .env("AA_ASSIST_STATE_DIR", state.path())
        .env("AA_ASSIST_APPARMOR_PARSER", "/nonexistent/apparmor_parser")
        .env_remove("OPENAI_API_KEY")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).expect("utf8");
    assert!(out.contains("── P1 "), "{out}");
    assert!(out.contains("help: add `"), "{out}");
    assert!(out.contains("evidence:"), "{out}");
    assert!(out.contains("nothing written"), "{out}");
}

#[test]
fn remembered_rejection_is_left_out_of_the_patch_unless_ask_again() {
    let f = fixture();
    let state = f.root.join("state");
    std::fs::create_dir_all(&state).expect("mkdir");
    std::fs::write(
        state.join("decisions.json"),
        serde_json::json!({"version": 1, "decisions": [
            {"file": std::fs::canonicalize(&f.profile).expect("canon"),
             "profile": "exampled", "rule": "/etc/exampled/exampled.conf r,",
             "decision": "rejected", "at": 0}
        ]})
        .to_string(),
    )
    .expect("seed memory");
    let patch = f.root.join("p.patch");
    let out = tune(&f)
        .arg("--json")
        .arg("--patch")
        .arg(&patch)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["proposals"][0]["remembered"], "rejected");
    let text = std::fs::read_to_string(&patch).expect("patch");
    assert!(
        text.contains("# P1 [rejected before, not included]"),
        "{text}"
    );
    assert!(!text.contains("\n+"), "nothing left to add: {text}");

    tune(&f)
        .arg("--dry-run")
        .arg("--ask-again")
        .arg("--patch")
        .arg(&patch)
        .arg("--force")
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&patch).expect("patch");
    assert!(
        text.contains("\n+  /etc/exampled/exampled.conf r,\n"),
        "{text}"
    );
}

/// From a syslog file (`logger -t kernel` writes the same lines) every proposal is blocked
/// only because its evidence is untrusted: each card and the summary say so, and how to get
/// evidence the kernel vouches for (or to accept these lines).
#[test]
fn proposals_blocked_only_by_untrusted_evidence_say_why_and_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pdir = dir.path().join("apparmor.d");
    std::fs::create_dir_all(&pdir).expect("mkdir");
    let profile = pdir.join("usr.sbin.exampled");
    std::fs::write(&profile, std::fs::read(repo(PROFILE)).expect("profile")).expect("write");
    let out = Command::new(common::bin())
        .arg("tune")
        .arg(&profile)
        .arg("-d")
        .arg(&pdir)
        .arg("--log")
        .arg(repo("examples/pidcache/kern.log"))
        .arg("--dry-run")
        .env("AA_ASSIST_STATE_DIR", dir.path().join("state"))
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let cards = text.matches("error[untrusted-evidence]").count();
    assert!(cards > 3, "{text}");
    for line in text
        .lines()
        .filter(|l| l.starts_with("error[untrusted-evidence]"))
    {
        assert!(line.contains("any user could have written"), "{line}");
        assert!(line.contains("--trust-userspace"), "{line}");
        assert!(line.contains("/var/log/audit/audit.log"), "{line}");
    }
    let summary = text
        .lines()
        .find(|l| l.starts_with("Every proposal is blocked only because"))
        .unwrap_or_else(|| panic!("no summary of why: {text}"));
    assert!(summary.contains("--trust-userspace"), "{summary}");
    assert!(summary.contains("journalctl -k -o json"), "{summary}");
    assert!(summary.contains("ausearch"), "{summary}");
}

/// One trusted (kernel) denial of each sensitive target, and a few ordinary ones. The
/// drafter's exact rule for each sensitive target is never `ok`: a plain-words finding says
/// what it would let the service do (a symlink planted where a service reads is enough to
/// make the kernel log such a path).
#[test]
fn observed_sensitive_targets_are_never_ok() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pdir = dir.path().join("apparmor.d");
    std::fs::create_dir_all(&pdir).expect("mkdir");
    std::fs::write(pdir.join("usr.sbin.svc"), "/usr/sbin/svc {\n}\n").expect("profile");
    let file = |n: u32, op: &str, name: &str, mask: &str, ouid: u32| {
        format!(
            "type=AVC msg=audit(1700000100.{n:03}:{n}): apparmor=\"DENIED\" operation=\"{op}\" \
             class=\"file\" profile=\"/usr/sbin/svc\" name=\"{name}\" pid=10 comm=\"svc\" \
             requested_mask=\"{mask}\" denied_mask=\"{mask}\" fsuid=0 ouid={ouid}\n"
        )
    };
    let cases: &[(&str, &str, &str, &str)] = &[
        // path, mask, expected verdict, words the finding must hold
        (
            "/etc/shadow",
            "r",
            "review",
            "password hashes of every user",
        ),
        (
            "/etc/ld.so.preload",
            "w",
            "blocked",
            "every program started on the host",
        ),
        (
            "/root/.ssh/authorized_keys",
            "w",
            "blocked",
            "authorized_keys",
        ),
        (
            "/sys/kernel/security/apparmor/.replace",
            "w",
            "blocked",
            "AppArmor policy",
        ),
        (
            "/proc/sys/kernel/core_pattern",
            "w",
            "blocked",
            "run a program of its choosing as root",
        ),
        (
            "/proc/sysrq-trigger",
            "w",
            "blocked",
            "reboot, crash or freeze",
        ),
        ("/dev/mem", "r", "blocked", "kernel memory"),
        ("/dev/sda", "r", "review", "whole disk"),
        ("/etc/sudoers.d/svc", "w", "blocked", "root through sudo"),
        (
            "/etc/pam.d/common-auth",
            "w",
            "blocked",
            "accept any password",
        ),
        (
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
            "w",
            "blocked",
            "replace libraries",
        ),
        ("/run/docker.sock", "w", "blocked", "container runtime"),
    ];
    let ordinary = [
        ("/etc/passwd", "r"),
        ("/dev/null", "w"),
        ("/proc/1234/stat", "r"),
    ];
    let mut log = String::new();
    for (n, (path, mask)) in (1..).zip(
        cases
            .iter()
            .map(|c| (c.0, c.1))
            .chain(ordinary.iter().copied()),
    ) {
        let op = if mask == "r" { "open" } else { "truncate" };
        log.push_str(&file(n, op, path, mask, 1000));
    }
    let log_path = dir.path().join("audit.log");
    std::fs::write(&log_path, log).expect("log");
    let out = Command::new(common::bin())
        .args(["tune", "usr.sbin.svc", "--dry-run", "--json", "-d"])
        .arg(&pdir)
        .arg("--log")
        .arg(&log_path)
        .env("AA_ASSIST_STATE_DIR", dir.path().join("state"))
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let proposals = report["proposals"].as_array().expect("proposals");
    // the first choice may generalise the path (`@{PROC}/@{pid}/stat`): find the proposal
    // by its literal alternative, which is always offered first
    let find = |path: &str| {
        let has = |r: &serde_json::Value| {
            r.as_str()
                .is_some_and(|r| r.split_whitespace().any(|w| w == path))
        };
        proposals
            .iter()
            .find(|p| has(&p["rule"]) || has(&p["alternatives"][0]["rule"]))
            .unwrap_or_else(|| panic!("no proposal for {path} in {report:#}"))
    };
    for (path, _, verdict, words) in cases {
        let p = find(path);
        assert_eq!(p["verdict"], *verdict, "{path}: {p:#}");
        let code = if *verdict == "blocked" {
            "critical-target"
        } else {
            "sensitive-target"
        };
        let f = p["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("{path}: no {code} in {p:#}"));
        let msg = f["message"].as_str().expect("message");
        assert!(msg.starts_with("would let the service "), "{msg}");
        assert!(msg.contains(words), "{path}: {msg}");
    }
    for (path, _) in ordinary {
        let p = find(path);
        assert_eq!(p["verdict"], "ok", "{path}: {p:#}");
    }
}

/// A rule holding raw OSC 52, OSC 8, CSI, U+202E, U+200B and U+E0041 (here from a hand-made
/// proposals file that even calls it `ok`) never reaches the profile or the patch raw, and a
/// profile whose own text holds them (a comment) is shown escaped in the patch.
#[test]
fn raw_hidden_characters_never_reach_the_patch_or_the_profile() {
    let f = fixture();
    let hostile = common::hostile_name("# note ");
    let mut original = String::from_utf8(f.original.clone()).expect("utf8");
    // right where the new file rule goes, so the patch's context shows it
    let anchor = "owner /var/lib/exampled/cache/* r,\n";
    let at = original.find(anchor).expect("anchor") + anchor.len();
    original.insert_str(at, &format!("  {hostile}\n"));
    std::fs::write(&f.profile, &original).expect("write");
    let json = serde_json::json!({
        "groups": [
            {"id": "G1", "profile": "exampled", "class": "file", "operation": "open",
             "resource": "/etc/exampled/exampled.conf", "mask": "r", "count": 2, "covered_by": null},
        ],
        "checked": [
            checked("P1", &format!("{} r,", common::hostile_name("/etc/exampled/x")), &["G1"], Verdict::Ok),
            checked("P2", "/etc/exampled/exampled.conf r,", &["G1"], Verdict::Ok),
        ],
    });
    std::fs::write(&f.proposals, json.to_string()).expect("write");
    let patch = f.root.join("tune.patch");
    let out = tune(&f)
        .arg("--dry-run")
        .arg("--patch")
        .arg(&patch)
        .output()
        .expect("runs");
    common::assert_no_raw_hostile("tune stdout", &out.stdout);
    common::assert_no_raw_hostile("tune stderr", &out.stderr);
    let text = std::fs::read(&patch).expect("patch written");
    common::assert_no_raw_hostile("--patch", &text);
    let text = String::from_utf8_lossy(&text);
    assert!(text.contains("# P1 [cannot be placed"), "{text}");
    assert!(
        text.contains("\n+  /etc/exampled/exampled.conf r,\n"),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(&f.profile).expect("read"), original);
}

/// `--patch FILE` never follows a symlink planted at FILE (root would truncate the link's
/// target), and never replaces an existing file without `--force`.
#[test]
fn patch_is_never_written_through_a_symlink_or_over_a_file() {
    let f = fixture();
    let victim = f.root.join("victim");
    std::fs::write(&victim, "precious\n").expect("write");
    let link = f.root.join("tune.patch");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    for force in [false, true] {
        let mut c = tune(&f);
        c.arg("--dry-run").arg("--patch").arg(&link);
        if force {
            c.arg("--force");
        }
        let out = c.assert().code(2).get_output().stderr.clone();
        let err = String::from_utf8_lossy(&out);
        assert!(err.contains("symbolic link"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&victim).expect("read"),
            "precious\n"
        );
    }
    let out = tune(&f)
        .arg("--dry-run")
        .arg("--patch")
        .arg(&victim)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&victim).expect("read"),
        "precious\n"
    );
    tune(&f)
        .arg("--dry-run")
        .arg("--patch")
        .arg(&victim)
        .arg("--force")
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&victim).expect("read");
    assert!(text.contains("+  /etc/exampled/exampled.conf r,"), "{text}");
    assert_eq!(std::fs::read(&f.profile).expect("read"), f.original);
}

/// A remembered decision is bound to the profile file it was made for: a rejection recorded
/// for another file with a profile of the same name, or with no file at all (written by an
/// older version, or by hand), spares no question. A decision file that others can write is
/// ignored with a warning.
#[test]
fn remembered_decisions_are_bound_to_the_file_and_must_be_the_users_own() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let state = f.root.join("state");
    std::fs::create_dir_all(&state).expect("mkdir");
    let decisions = state.join("decisions.json");
    let rule = "/etc/exampled/exampled.conf r,";
    let seed = |file: Option<&std::path::Path>| {
        let mut r = serde_json::json!({"profile": "exampled", "rule": rule,
                                       "decision": "rejected", "at": 0});
        if let Some(file) = file {
            r["file"] = serde_json::json!(file);
        }
        let text = serde_json::json!({"version": 1, "decisions": [r]}).to_string();
        std::fs::write(&decisions, text).expect("seed memory");
    };
    let remembered = |f: &Fixture| -> (serde_json::Value, String) {
        let out = tune(f).arg("--json").assert().code(1).get_output().clone();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        (
            v["proposals"][0]["remembered"].clone(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    seed(Some(std::path::Path::new(
        "/etc/apparmor.d/usr.sbin.exampled",
    )));
    assert_eq!(remembered(&f).0, serde_json::Value::Null, "another file");
    seed(None);
    assert_eq!(remembered(&f).0, serde_json::Value::Null, "no file");
    let canon = std::fs::canonicalize(&f.profile).expect("canon");
    seed(Some(&canon));
    assert_eq!(remembered(&f).0, "rejected", "this file");
    std::fs::set_permissions(&decisions, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let (r, stderr) = remembered(&f);
    assert_eq!(r, serde_json::Value::Null, "a file others can write");
    assert!(
        stderr.contains("decisions.json") && stderr.contains("ignor"),
        "{stderr}"
    );
}

/// The drafter's first choices use the variables the profile's tunables define and never pin
/// a pid, a hash, a temporary name, a client's address or an ephemeral port; the literal rule
/// is the first alternative; the profile's own variables (`@{WWW_ROOT}`) are used.
#[test]
fn first_choices_generalise_what_changes_between_runs() {
    let run = |example: &str, profile: &str| -> serde_json::Value {
        let state = tempfile::tempdir().expect("tempdir");
        let out = Command::new(common::bin())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("tune")
            .arg(format!("examples/{example}/profile/{profile}"))
            .arg("--log")
            .arg(format!("examples/{example}/audit.log"))
            .arg("-d")
            .arg(format!("examples/{example}/profile"))
            .args(["--dry-run", "--json"])
            .env("AA_ASSIST_STATE_DIR", state.path())
            .output()
            .expect("runs");
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
    };
    let rules = |r: &serde_json::Value| -> Vec<(String, String, String)> {
        r["proposals"]
            .as_array()
            .expect("proposals")
            .iter()
            .map(|p| {
                (
                    p["rule"].as_str().expect("rule").to_string(),
                    p["alternatives"][0]["rule"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    p["verdict"].as_str().expect("verdict").to_string(),
                )
            })
            .collect()
    };
    let pid = rules(&run("pidcache", "usr.sbin.exampled"));
    let first: Vec<&str> = pid.iter().map(|r| r.0.as_str()).collect();
    assert!(first.contains(&"@{PROC}/@{pid}/stat r,"), "{first:#?}");
    assert!(first.contains(&"@{run}/exampled.pid w,"), "{first:#?}");
    assert!(
        first.contains(
            &"owner /var/lib/exampled/cache/objects/[0-9a-f][0-9a-f]/[0-9a-fA-F]*.obj w,"
        ),
        "{first:#?}"
    );
    for r in &first {
        for pinned in ["1511", "7c11f0e2a9b4", "port=", "ip="] {
            assert!(!r.contains(pinned), "{r} pins {pinned}");
        }
    }
    let stat = pid
        .iter()
        .find(|r| r.0 == "@{PROC}/@{pid}/stat r,")
        .expect("stat");
    assert_eq!(stat.1, "/proc/1511/stat r,", "literal rule first");
    assert_eq!(stat.2, "ok");
    let net = pid
        .iter()
        .find(|r| r.0.starts_with("network"))
        .expect("network");
    assert_eq!(net.0, "network inet stream,");
    assert_eq!(net.2, "review", "broader than the evidence: said");

    let www = rules(&run("webserver", "usr.sbin.examplehttpd"));
    let first: Vec<&str> = www.iter().map(|r| r.0.as_str()).collect();
    assert!(
        first.contains(&"@{WWW_ROOT}/example.org/config.php r,"),
        "{first:#?}"
    );
    assert!(first.contains(&"network inet6 stream,"), "{first:#?}");
}

/// A log with no event for the profile is not "already covered": the message says what the
/// logs do hold, and names the profiles they are for.
#[test]
fn a_log_without_events_for_the_profile_says_what_it_found() {
    let state = tempfile::tempdir().expect("tempdir");
    let run = |log: &str| {
        let out = Command::new(common::bin())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "tune",
                "examples/pidcache/profile/usr.sbin.exampled",
                "--log",
                log,
                "-d",
                "examples/pidcache/profile",
                "--dry-run",
            ])
            .env("AA_ASSIST_STATE_DIR", state.path())
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).expect("utf8")
    };
    let out = run("examples/webserver/audit.log");
    assert!(!out.contains("already covered"), "{out}");
    assert!(out.contains("none for profile exampled"), "{out}");
    assert!(out.contains("group(s)"), "{out}");
    assert!(out.contains("examplehttpd"), "the profiles it has: {out}");

    let empty = state.path().join("empty.log");
    std::fs::write(&empty, "no apparmor here\n").expect("write");
    let out = run(empty.to_str().expect("utf8 path"));
    assert!(!out.contains("already covered"), "{out}");
    assert!(out.contains("no AppArmor event"), "{out}");
}

/// `tune PROGRAM` (as `aa-complain` takes it): the program file is never read as a profile;
/// the profile in the directory whose attachment (a glob too) matches it is used. None or
/// several: an error naming what was looked for, or the candidates.
#[test]
fn a_program_path_finds_the_profile_that_attaches_to_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let program = bin.join("exampled");
    std::fs::write(&program, b"\x7fELF\x02\x01\x01\x00\xff\xfe binary").expect("write");
    let pdir = tmp.path().join("apparmor.d");
    std::fs::create_dir_all(&pdir).expect("mkdir");
    let text = std::fs::read_to_string(repo(PROFILE)).expect("profile");
    let bin_s = bin.to_str().expect("utf8");
    // A glob attachment, as packaged profiles often have.
    let attached = text.replace(
        "profile exampled /usr/sbin/exampled ",
        &format!("profile exampled {bin_s}/example{{d,r}} "),
    );
    assert_ne!(attached, text);
    std::fs::write(pdir.join("usr.sbin.exampled"), &attached).expect("write");
    std::fs::write(
        pdir.join("other"),
        "profile other /usr/bin/other {\n  /etc/other r,\n}\n",
    )
    .expect("write");
    let run = || {
        Command::new(common::bin())
            .arg("tune")
            .arg(&program)
            .arg("-d")
            .arg(&pdir)
            .arg("--log")
            .arg(repo(LOG))
            .arg("--dry-run")
            .env("AA_ASSIST_STATE_DIR", tmp.path().join("state"))
            .output()
            .expect("runs")
    };
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stderr.contains("UTF-8"), "{stderr}");
    assert!(stdout.contains("── P1 "), "{stdout}");
    assert!(
        stdout.contains("usr.sbin.exampled"),
        "the profile file found is named: {stdout}"
    );

    // Two profiles attach to it: which one is ambiguous, so both are named.
    std::fs::write(pdir.join("copy.exampled"), &attached).expect("write");
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("copy.exampled"), "{stderr}");
    assert!(stderr.contains("usr.sbin.exampled"), "{stderr}");

    // None attaches to it.
    std::fs::remove_file(pdir.join("copy.exampled")).expect("rm");
    std::fs::write(pdir.join("usr.sbin.exampled"), &text).expect("write");
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("UTF-8"), "{stderr}");
    assert!(stderr.contains("no profile in"), "{stderr}");
    assert!(stderr.contains("attaches to"), "{stderr}");
}
