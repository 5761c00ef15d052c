//! `aa-assist explain`, `review PROFILE` and `redact` through the real binary: cause classes
//! per group (with and without the profile on disk), the model narrative beside them from a
//! wiremock server, invalid answers as data, and the exact prompt text.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use wiremock::MockServer;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cmds")
        .join(name)
}

fn aa(args: &[&str]) -> Command {
    let mut c = Command::new(common::bin());
    c.args(args)
        .env(
            "AA_ASSIST_CONFIG",
            "/nonexistent/aa-assist-test-config.toml",
        )
        .env_remove("OPENAI_BASE_URL")
        .env_remove("AA_ASSIST_MODEL");
    c
}

fn classes(report: &Value, group: &str) -> Vec<String> {
    let g = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == group)
        .unwrap_or_else(|| panic!("no {group} in {report:#}"));
    g["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["class"].as_str().unwrap().to_string())
        .collect()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn cause_classes_against_the_profile_on_disk() {
    let log = fixture("svc.log");
    let prof = fixture("svc.profile");
    let out = aa(&["explain", "--json", "-d"])
        .arg(prof.parent().unwrap())
        .arg("-p")
        .arg(&prof)
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r = json_of(&out);
    assert_eq!(r["schema_version"], 1);
    assert_eq!(classes(&r, "G1"), ["explicit-deny"]); // /etc/shadow
    assert_eq!(classes(&r, "G2"), ["stale-profile"]); // /etc/svc.conf
    assert_eq!(classes(&r, "G3"), ["path-resolution"]);
    assert_eq!(classes(&r, "G4"), ["narrower-capability", "missing-rule"]);
    assert_eq!(classes(&r, "G5"), ["missing-rule"]); // the hat lacks it
}

#[test]
fn without_a_profile_nothing_is_called_stale() {
    let out = aa(&["explain"]).arg(fixture("svc.log")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("G1  DENIED file open /etc/shadow (r) ×1 [svc]"),
        "{text}"
    );
    assert!(!text.contains("stale-profile"), "{text}");
    assert!(text.contains("missing-rule"), "{text}");
}

#[test]
fn bundled_example_exec_needs_a_transition() {
    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pidcache/audit.log");
    let out = aa(&["explain", "--json"]).arg(&log).output().unwrap();
    let r = json_of(&out);
    let exec: Vec<&Value> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["operation"] == "exec")
        .collect();
    assert!(!exec.is_empty());
    for g in exec {
        assert!(
            g["causes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["class"] == "exec-transition"),
            "{g:#}"
        );
    }
}

async fn explain_llm(server: &MockServer, extra: &[&str]) -> Output {
    let mut cmd = aa(&[
        "explain",
        "--llm",
        "--model",
        "m",
        "--no-cache",
        "--base-url",
    ]);
    cmd.arg(format!("{}/v1", server.uri()))
        .args(extra)
        .arg(fixture("svc.log"));
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_narrative_beside_the_causes() {
    let answer = json!({
        "proposals": [],
        "explanations": [
            {"group": "G1", "text": "The service tried to read the shadow file."},
            {"group": "G77", "text": "Made up."}
        ]
    });
    let server = common::server_answering(answer.to_string()).await;
    let out = explain_llm(&server, &[]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stdout.contains("    model: The service tried to read the shadow file."),
        "{stdout}"
    );
    assert!(
        !stdout.contains("Made up"),
        "an explanation of a group that does not exist"
    );
    assert!(stdout.contains("set aside"), "{stdout}");
    assert!(stderr.contains("prompt tokens"), "{stderr}");

    let tdir = tempfile::tempdir().unwrap();
    let transcript = tdir.path().join("transcript.jsonl");
    let t = transcript.to_str().unwrap().to_string();
    let out = explain_llm(&server, &["--json", "--transcript", &t]).await;
    let r = json_of(&out);
    let lines = std::fs::read_to_string(&transcript).unwrap();
    assert_eq!(lines.lines().count(), 1, "one line per attempt: {lines}");
    let entry: Value = serde_json::from_str(lines.trim()).unwrap();
    assert!(
        entry["request"].to_string().contains("/etc/shadow"),
        "as sent: {entry}"
    );
    assert!(
        entry["response"].to_string().contains("shadow file"),
        "as received: {entry}"
    );
    assert_eq!(
        r["groups"][0]["model"],
        "The service tried to read the shadow file."
    );
    assert!(r["groups"][1].get("model").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonsense_is_reported_as_data() {
    let server = common::server_answering("the the the the".into()).await;
    let out = explain_llm(&server, &[]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("note: model answer for B1 was not valid: the answer is not JSON"),
        "{stdout}"
    );
    assert!(
        stdout.contains("missing-rule"),
        "the deterministic causes stay: {stdout}"
    );
}

#[test]
fn server_unreachable_is_reported_not_a_crash() {
    // A port nothing listens on (bound, then closed).
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = aa(&[
        "explain",
        "--llm",
        "--model",
        "m",
        "--no-cache",
        "--timeout",
        "2",
        "--base-url",
        &format!("http://127.0.0.1:{port}/v1"),
    ])
    .arg(fixture("svc.log"))
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("model answer for B1 failed"), "{stdout}");
}

#[test]
fn review_explains_rules_and_flags_danger() {
    let dir = tempfile::tempdir().unwrap();
    let prof = dir.path().join("usr.bin.svc");
    std::fs::write(
        &prof,
        "profile svc /usr/bin/svc {\n  /etc/svc.conf r,\n  /srv/** rw,\n  /usr/bin/helper ux,\n  capability sys_admin,\n}\n",
    )
    .unwrap();
    let out = aa(&["review", "-d"])
        .arg(dir.path())
        .arg(&prof)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Allows read on exactly /etc/svc.conf"),
        "{text}"
    );
    assert!(
        text.contains("everything under /srv/ (any depth)"),
        "{text}"
    );
    assert!(text.contains("recursive-write-glob"), "{text}");
    assert!(
        text.contains("unconfined-exec") || text.contains("WITHOUT ANY CONFINEMENT"),
        "{text}"
    );
    assert!(text.contains("dangerous-capability"), "{text}");

    std::fs::write(&prof, "profile svc /usr/bin/svc {\n  /etc/svc.conf r,\n}\n").unwrap();
    let out = aa(&["review", "--json", "-d"])
        .arg(dir.path())
        .arg(&prof)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r = json_of(&out);
    assert_eq!(r["profiles"][0]["rules"][0]["rule"], "/etc/svc.conf r,");
}

/// `review PROFILE` reports the same target, breadth and transition findings for rules
/// already in a profile as the cross-check does for proposals; ordinary rules stay quiet.
#[test]
fn review_flags_sensitive_targets_broad_rules_and_unconfined_transitions() {
    let dir = tempfile::tempdir().unwrap();
    let prof = dir.path().join("usr.bin.svc");
    let rules: &[(&str, &[&str])] = &[
        ("owner /etc/shadow r,", &["sensitive-target"]),
        ("/etc/ld.so.preload w,", &["critical-target"]),
        ("/sys/kernel/security/apparmor/.replace w,", &["critical-target"]),
        ("@{PROC}/sys/kernel/core_pattern w,", &["critical-target"]),
        ("/etc/sudoers.d/* w,", &["critical-target"]),
        ("/var/run/docker.sock rw,", &["critical-target"]),
        (
            "dbus send bus=system path=/org/freedesktop/systemd1 interface=org.freedesktop.systemd1.Manager member=StartTransientUnit,",
            &["critical-target"],
        ),
        ("signal (send) set=(kill) peer=unconfined,", &["sensitive-target"]),
        ("ptrace (read) peer=unconfined,", &["sensitive-target"]),
        ("/usr/bin/a px -> unconfined,", &["unconfined-exec"]),
        ("/usr/bin/b Px -> unconfined,", &["unconfined-exec"]),
        ("/usr/bin/c px -> no-such-profile,", &["unknown-exec-target"]),
        ("/usr/bin/d cx -> no-such-child,", &["unknown-exec-target"]),
        ("/usr/bin/e cx -> helper,", &[]),
        ("/usr/bin/f px -> other,", &[]),
        ("dbus send bus=session,", &["broad-rule"]),
        ("signal send,", &["broad-rule", "sensitive-target"]),
        ("unix (connect, send, receive),", &["broad-rule"]),
        ("network stream,", &["broad-rule"]),
        ("/etc/passwd r,", &[]),
        ("/dev/null rw,", &[]),
        ("@{PROC}/@{pid}/stat r,", &[]),
        ("signal (receive) peer=unconfined,", &[]),
    ];
    let body: String = rules.iter().map(|(r, _)| format!("  {r}\n")).collect();
    std::fs::write(
        &prof,
        format!("profile svc /usr/bin/svc {{\n{body}  profile helper {{\n  }}\n}}\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("other"), "profile other {\n}\n").unwrap();
    let out = aa(&["review", "--json", "-d"])
        .arg(dir.path())
        .arg(&prof)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r = json_of(&out);
    let got = r["profiles"][0]["rules"].as_array().unwrap();
    for (rule, want) in rules {
        let ex = got
            .iter()
            .find(|x| x["rule"] == *rule)
            .unwrap_or_else(|| panic!("{rule} not in {r:#}"));
        let codes: Vec<&str> = ex["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, want.to_vec(), "{rule}: {ex:#}");
    }
    let shadow = got
        .iter()
        .find(|x| x["rule"] == "owner /etc/shadow r,")
        .unwrap();
    assert_eq!(
        shadow["findings"][0]["message"],
        "would let the service read the password hashes of every user (/etc/shadow)"
    );
}

#[test]
fn redact_prints_the_prompt_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::write(
        &log,
        "type=AVC msg=audit(1700000100.000:2): apparmor=\"DENIED\" operation=\"open\" profile=\"svc\" name=\"/home/alice/.config/svc.conf\" pid=11 comm=\"svc\" requested_mask=\"r\" denied_mask=\"r\" fsuid=1000 ouid=1000 FSUID=\"alice\" OUID=\"alice\"\n",
    )
    .unwrap();
    let out = aa(&["redact", "--base-url", "http://127.0.0.1:9/v1"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("=== batch B1"), "{text}");
    assert!(text.contains("--- system ---") && text.contains("--- user ---"));
    assert!(text.contains("\"id\":\"G1\""), "{text}");
    assert!(
        !text.contains("alice"),
        "the user name must be pseudonymised: {text}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("prompt tokens"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_with_a_model_narrative() {
    let answer = json!({
        "proposals": [],
        "explanations": [{"group": "P1", "text": "A config reader with one risky rule."}]
    });
    let server = common::server_answering(answer.to_string()).await;
    let dir = tempfile::tempdir().unwrap();
    let prof = dir.path().join("usr.bin.svc");
    std::fs::write(&prof, "profile svc /usr/bin/svc {\n  /srv/** rw,\n}\n").unwrap();
    let mut cmd = aa(&["review", "--llm", "--model", "m", "--no-cache", "-d"]);
    cmd.arg(dir.path())
        .arg("--base-url")
        .arg(format!("{}/v1", server.uri()))
        .arg(&prof);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("recursive-write-glob"), "{text}");
    assert!(
        text.contains("model: A config reader with one risky rule."),
        "{text}"
    );
}

/// `redact` and `explain` on a log whose name, comm and profile carry OSC 52, OSC 8, CSI,
/// U+202E, U+200B and U+E0041: neither the printed prompt nor the table carries a raw one,
/// and the prompt shows them as `\xHH` escapes (what the model receives).
#[test]
fn redact_and_explain_never_print_hostile_characters_raw() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::write(
        &log,
        format!(
            "type=AVC msg=audit(1700000100.000:2): apparmor=\"DENIED\" operation=\"open\" profile={} name={} pid=11 comm={} requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n",
            common::audit_hex(&common::hostile_name("/usr/bin/p")),
            common::audit_hex(&common::hostile_name("/srv/n")),
            common::audit_hex(&common::hostile_name("c")),
        ),
    )
    .unwrap();
    let out = aa(&["redact", "--base-url", "http://127.0.0.1:9/v1"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    common::assert_no_raw_hostile("redact stdout", &out.stdout);
    common::assert_no_raw_hostile("redact stderr", &out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/srv/n\\\\x1b]52;c;"), "{text}");
    assert!(text.contains("\\\\xe2\\\\x80\\\\xae"), "{text}");
    let out = aa(&["explain"]).arg(&log).output().unwrap();
    common::assert_no_raw_hostile("explain stdout", &out.stdout);
    common::assert_no_raw_hostile("explain stderr", &out.stderr);
}

/// A server that echoes the API key in its answer (in the narrative, and JSON-escaped): the key
/// is printed nowhere and stored in no cache file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echoed_key_is_never_printed_or_cached() {
    let key = "sk-echo-test-5ecr3t-key-0123456789";
    let escaped: String = key
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let content = format!(
        r#"{{"proposals": [], "explanations": [{{"group": "G1", "text": "your key is {key} or {escaped}"}}]}}"#
    );
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_string(common::completion(&content, "stop").to_string()),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let transcript = dir.path().join("t.jsonl");
    for json in [false, true] {
        let mut cmd = aa(&["explain", "--llm", "--model", "m", "--base-url"]);
        cmd.arg(format!("{}/v1", server.uri()))
            .arg("--cache-dir")
            .arg(&cache)
            .arg("--transcript")
            .arg(&transcript)
            // The second run appends to the first run's transcript.
            .arg("--force")
            .env("OPENAI_API_KEY", key)
            .arg(fixture("svc.log"));
        if json {
            cmd.arg("--json");
        }
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(matches!(out.status.code(), Some(0 | 1)), "{all}");
        assert!(!all.contains(key), "key printed: {all}");
        assert!(
            all.contains("your key is ***"),
            "the answer is shown, scrubbed: {all}"
        );
    }
    let mut files = 0;
    for entry in std::fs::read_dir(&cache).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            !text.contains(key) && !text.contains(&escaped),
            "key cached: {text}"
        );
        files += 1;
    }
    assert!(files > 0, "the answer was cached");
    let t = std::fs::read_to_string(&transcript).unwrap();
    assert!(!t.contains(key) && !t.contains(&escaped), "{t}");
}

/// The config file may name another environment variable as the key source only when it is
/// owned by the invoking user (or root) and not writable by group or others: otherwise anyone
/// who can write it could have, say, AWS_SECRET_ACCESS_KEY sent as a bearer token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_may_name_the_key_variable_only_when_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = common::server_answering(r#"{"proposals":[],"explanations":[]}"#.into()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[llm]\napi_key_env = \"AA_TEST_OTHER_SECRET\"\n").unwrap();
    let run = |mode: u32| {
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(mode)).unwrap();
        let mut cmd = aa(&[
            "explain",
            "--llm",
            "--model",
            "m",
            "--no-cache",
            "--base-url",
        ]);
        // As root (here and in CI) the whole file would be refused first for being writable
        // by others (fsguard); the key-source rule must hold even when that is overridden.
        cmd.arg(format!("{}/v1", server.uri()))
            .arg("--allow-untrusted-paths")
            .env("AA_ASSIST_CONFIG", &config)
            .env("AA_TEST_OTHER_SECRET", "sk-other-secret-value-42")
            .arg(fixture("svc.log"));
        cmd.output().unwrap()
    };
    for mode in [0o666, 0o620, 0o602] {
        let out = run(mode);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "mode {mode:o}: {err}");
        assert!(err.contains(&config.display().to_string()), "{err}");
        assert!(err.contains("api_key_env"), "{err}");
    }
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing sent with an unsafe key source"
    );
    let out = run(0o600);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(
        reqs[0].headers.get("authorization").unwrap(),
        "Bearer sk-other-secret-value-42"
    );
}

/// `--transcript FILE` never follows a symlink planted at FILE (root would append to, or
/// create, the link's target), and never writes into an existing file without `--force`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcript_is_never_written_through_a_symlink_or_over_a_file() {
    let answer = json!({"proposals": [], "explanations": []});
    let server = common::server_answering(answer.to_string()).await;
    let d = tempfile::tempdir().unwrap();
    let victim = d.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let link = d.path().join("transcript.jsonl");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let l = link.to_str().unwrap().to_string();
    let out = explain_llm(&server, &["--json", "--transcript", &l]).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let out = explain_llm(&server, &["--json", "--force", "--transcript", &l]).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "--force does not follow links either"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");

    let v = victim.to_str().unwrap().to_string();
    let out = explain_llm(&server, &["--json", "--transcript", &v]).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let out = explain_llm(&server, &["--json", "--force", "--transcript", &v]).await;
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&victim).unwrap();
    assert!(
        text.starts_with("precious\n{"),
        "appended with --force: {text}"
    );
}

// --- "Explanations you can trust": the ten statements the issue found wrong, each through
// the real binary. Meanings come from apparmor.d(5) and the kernel (src/explain/meaning.rs).

/// `review --json` of a profile `svc` with `body` inside; the rule objects by rule text.
fn review_rules(body: &str) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let prof = dir.path().join("usr.bin.svc");
    std::fs::write(
        &prof,
        format!("profile svc /usr/bin/svc {{\n{body}\n  profile helper {{\n  }}\n}}\n"),
    )
    .unwrap();
    let out = aa(&["review", "--json", "-d"])
        .arg(dir.path())
        .arg(&prof)
        .output()
        .unwrap();
    let text = aa(&["review", "-d"])
        .arg(dir.path())
        .arg(&prof)
        .output()
        .unwrap();
    (
        json_of(&out),
        String::from_utf8_lossy(&text.stdout).into_owned(),
    )
}

fn rule_of<'a>(r: &'a Value, rule: &str) -> &'a Value {
    r["profiles"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"] == rule)
        .unwrap_or_else(|| panic!("{rule} not in {r:#}"))
}

fn meaning_of(r: &Value, rule: &str) -> String {
    rule_of(r, rule)["meaning"].as_str().unwrap().to_string()
}

fn finding_messages(r: &Value, rule: &str) -> Vec<(String, String)> {
    rule_of(r, rule)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// 1. Uppercase exec modes scrub the environment; lowercase ones do not and get the warning.
#[test]
fn trust_uppercase_exec_modes_scrub_the_environment() {
    let up = ["Px", "Cx", "Ux", "PUx", "Pix", "Cix", "CUx"];
    let low = ["px", "cx", "ux", "pux", "pix", "cix", "cux"];
    let body: String = up
        .iter()
        .chain(low.iter())
        .enumerate()
        .map(|(i, m)| format!("  /usr/bin/p{i} {m},\n"))
        .collect();
    let (r, _) = review_rules(&body);
    for (i, m) in up.iter().chain(low.iter()).enumerate() {
        let text = meaning_of(&r, &format!("/usr/bin/p{i} {m},"));
        if m.chars().next().unwrap().is_ascii_uppercase() {
            assert!(text.contains("the environment is scrubbed"), "{m}: {text}");
            assert!(
                !text.contains("unsafe") && !text.contains("without scrubbing"),
                "{m}: {text}"
            );
        } else {
            assert!(text.contains("NOT scrubbed"), "{m}: {text}");
        }
    }
}

/// 2. A bare access word is that access only, not "any access".
#[test]
fn trust_bare_access_words_grant_only_the_named_access() {
    let rules = [
        ("ptrace read peer=unconfined,", "ptrace: read"),
        ("dbus send bus=system path=/org/x,", "D-Bus: send"),
        ("signal send set=term peer=svc,", "signals: send"),
        (
            "unix connect type=stream,",
            "Unix sockets (abstract and anonymous): connect",
        ),
    ];
    let body: String = rules.iter().map(|(r, _)| format!("  {r}\n")).collect();
    let (r, _) = review_rules(&body);
    for (rule, want) in rules {
        let m = meaning_of(&r, rule);
        assert!(
            !m.contains("any access") && !m.contains("every access"),
            "{rule}: {m}"
        );
        assert!(m.contains(want), "{rule}: {m}");
    }
}

/// 3. Complain mode still enforces explicit deny rules.
#[test]
fn trust_complain_mode_still_enforces_deny_rules() {
    let out = aa(&[
        "review",
        "examples/webserver/profile/usr.sbin.examplehttpd",
        "-d",
        "examples/webserver/profile",
    ])
    .current_dir(env!("CARGO_MANIFEST_DIR"))
    .output()
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("nothing is denied"), "{text}");
    assert!(
        text.contains("explicit deny rules are still enforced"),
        "{text}"
    );
    // and the deny rules themselves say so
    assert!(text.contains("Refuses read"), "{text}");
    assert!(text.contains("even in complain mode"), "{text}");
}

/// 4. `audit deny` logs every refusal; only plain `deny` silences the evidence.
#[test]
fn trust_audit_deny_logs_every_refusal() {
    let (r, _) = review_rules("  audit deny /etc/shadow r,\n  deny /etc/gshadow r,\n");
    let audit = meaning_of(&r, "audit deny /etc/shadow r,");
    assert!(audit.contains("logs every refusal"), "{audit}");
    assert!(!audit.contains("silen"), "{audit}");
    let plain = meaning_of(&r, "deny /etc/gshadow r,");
    assert!(plain.contains("silently (no log entry)"), "{plain}");
    // and neither gets a note that would say otherwise
    for rule in ["audit deny /etc/shadow r,", "deny /etc/gshadow r,"] {
        let f = finding_messages(&r, rule);
        assert!(
            f.iter().all(|(_, m)| !m.contains("silences")),
            "{rule}: {f:?}"
        );
    }
}

/// 5. Under no_new_privs only `ix` or a stack works; an unstacked `cx` is refused too.
#[test]
fn trust_no_new_privs_advice_is_ix_or_stacking() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::write(
        &log,
        "type=AVC msg=audit(1700000000.000:4): apparmor=\"DENIED\" operation=\"exec\" info=\"no new privs\" error=-1 profile=\"svc\" name=\"/usr/bin/helper\" pid=1 comm=\"svc\" requested_mask=\"x\" denied_mask=\"x\" fsuid=0 ouid=0 target=\"helper\"\n",
    )
    .unwrap();
    let out = aa(&["explain", "--json"]).arg(&log).output().unwrap();
    let r = json_of(&out);
    let nnp = r["groups"][0]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == "no-new-privs")
        .unwrap_or_else(|| panic!("{r:#}"))["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!nnp.contains("a child profile (`cx`)"), "{nnp}");
    assert!(nnp.contains("`ix`") && nnp.contains("&"), "{nnp}");
    assert!(nnp.contains("`cx` to a child profile is refused"), "{nnp}");
}

/// Statement 6: a logged dac_override is a write, dac_read_search is not advised for it; a
/// blocked `capability dac_read_search` says why and how to proceed.
#[test]
fn trust_dac_override_is_a_write_and_dac_read_search_says_why_blocked() {
    let out = aa(&["explain", "--json", "examples/webserver/audit.log"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let r = json_of(&out);
    let g = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["resource"] == "dac_override")
        .unwrap_or_else(|| panic!("{r:#}"));
    let msgs: Vec<&str> = g["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["message"].as_str().unwrap())
        .collect();
    let all = msgs.join("\n");
    assert!(!all.contains("dac_read_search is often enough"), "{all}");
    assert!(
        all.contains("dac_read_search will not help with a write"),
        "{all}"
    );

    let (r, _) = review_rules("  capability dac_read_search,\n");
    let f = finding_messages(&r, "capability dac_read_search,");
    let (code, msg) = &f[0];
    assert_eq!(code, "dangerous-capability");
    assert!(msg.contains("open_by_handle_at"), "why: {msg}");
    assert!(
        msg.contains("edit the rule to accept it yourself"),
        "how: {msg}"
    );
}

/// 7. `network netlink raw` is the normal netlink socket; raw inet sockets keep the warning.
#[test]
fn trust_netlink_raw_is_not_a_raw_network_socket() {
    let (r, _) = review_rules("  network netlink raw,\n  network inet raw,\n");
    let netlink = finding_messages(&r, "network netlink raw,");
    assert!(
        netlink.iter().all(|(c, _)| c != "raw-socket"),
        "{netlink:?}"
    );
    assert!(!meaning_of(&r, "network netlink raw,").contains("forge"));
    let inet = finding_messages(&r, "network inet raw,");
    assert!(inet.iter().any(|(c, _)| c == "raw-socket"), "{inet:?}");
}

/// 8. `PUx` leaves confinement only when no profile exists for the program.
#[test]
fn trust_pux_is_unconfined_only_without_a_profile() {
    let (r, _) = review_rules("  /usr/bin/a PUx,\n  /usr/bin/b ux,\n");
    let pux = finding_messages(&r, "/usr/bin/a PUx,");
    assert!(
        pux.iter()
            .any(|(c, m)| c == "unconfined-exec" && m.ends_with("when no profile exists for it")),
        "{pux:?}"
    );
    assert!(meaning_of(&r, "/usr/bin/a PUx,").contains("if one exists, else UNCONFINED"));
    let ux = finding_messages(&r, "/usr/bin/b ux,");
    assert!(
        ux.iter()
            .any(|(_, m)| m.ends_with("runs the program without confinement")),
        "{ux:?}"
    );
}

/// 9. `&` stacks: the program is confined by both profiles.
#[test]
fn trust_stacking_is_explained() {
    let (r, _) = review_rules("  /usr/bin/groff Cx -> &man_groff,\n  profile man_groff {\n  }\n");
    let m = meaning_of(&r, "/usr/bin/groff Cx -> &man_groff,");
    assert!(m.contains("STACKED"), "{m}");
    assert!(m.contains("AND by its child profile man_groff"), "{m}");
}

/// 10. No placeholder is shown as a meaning.
#[test]
fn trust_no_placeholder_meanings() {
    let rules = [
        "userns,",
        "mqueue,",
        "io_uring sqpoll,",
        "deny /usr/bin/a x,",
        "change_profile -> other,",
    ];
    let body: String = rules.iter().map(|r| format!("  {r}\n")).collect();
    let (r, _) = review_rules(&body);
    for rule in rules {
        let m = meaning_of(&r, rule);
        assert!(
            !m.ends_with(" rule") && !m.contains("deny rules only"),
            "{rule}: {m}"
        );
    }
    assert!(meaning_of(&r, "userns,").contains("creating user namespaces"));
    assert!(meaning_of(&r, "deny /usr/bin/a x,").starts_with("Refuses execute"));
}

/// `review` says how each profile is entered (no attachment: only by a transition), shows
/// the variables its rules use with where each is set, summarises a stock abstraction's
/// findings once per include, gives plain deny rules no note each, and exits 0 when only
/// stock abstractions have findings (1 once the profile's own rules do): `review` gates CI.
#[test]
fn review_header_variables_stock_abstractions_and_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("abstractions")).unwrap();
    std::fs::create_dir_all(d.join("tunables")).unwrap();
    std::fs::write(
        d.join("tunables/svc"),
        "@{SVC_DATA} = /srv/svc /var/lib/svc\n",
    )
    .unwrap();
    std::fs::write(
        d.join("abstractions/stock"),
        "  /etc/stock r,\n  owner @{HOME}/** rwix,\n",
    )
    .unwrap();
    let prof = d.join("svc");
    let write = |extra: &str| {
        std::fs::write(
            &prof,
            format!(
                "include <tunables/svc>\n@{{HOME}} = /home/*/\nprofile svc {{\n  include <abstractions/stock>\n  @{{SVC_DATA}}/** r,\n  deny /etc/shadow r,\n{extra}  profile child {{\n    include <abstractions/stock>\n  }}\n}}\n"
            ),
        )
        .unwrap();
    };
    write("");
    let out = aa(&["review", "-d"]).arg(d).arg(&prof).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("svc: no attachment"), "{text}");
    assert!(text.contains("svc//child: a child profile"), "{text}");
    assert!(
        text.contains("variable @{SVC_DATA} = /srv/svc /var/lib/svc  (source: ")
            && text.contains("tunables/svc:1)"),
        "{text}"
    );
    // the stock abstraction: one summary line, findings counted, then "shown above"
    assert!(
        text.contains("stock abstraction findings (not counted for the exit status): ")
            && text.contains("1× write-exec"),
        "{text}"
    );
    assert!(
        !text.contains("@{HOME}/** rwix,  ("),
        "listed rule by rule: {text}"
    );
    assert!(text.contains("(findings shown above)"), "{text}");
    assert!(!text.contains("deny-rule"), "{text}");
    assert!(
        text.contains("Refuses read on exactly /etc/shadow"),
        "{text}"
    );

    let out = aa(&["review", "--json", "-d"])
        .arg(d)
        .arg(&prof)
        .output()
        .unwrap();
    let r = json_of(&out);
    assert_eq!(r["profiles"][0]["includes"][0]["stock"], true);
    assert_eq!(r["profiles"][0]["variables"][0]["name"], "SVC_DATA");

    // a finding in the profile's own rules is worth acting on
    write("  /srv/** rw,\n");
    let out = aa(&["review", "-d"]).arg(d).arg(&prof).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// A model narrative that contradicts the meaning table (calls `Px` unsafe, says complain
/// mode denies nothing) is shown flagged as wrong, in text and JSON, never as fact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_flags_a_model_narrative_that_contradicts_the_meaning_table() {
    let answer = json!({
        "proposals": [],
        "explanations": [{"group": "P1", "text": "The helper runs with Px, which is unsafe: it does not scrub the environment. In complain mode nothing is denied."}]
    });
    let server = common::server_answering(answer.to_string()).await;
    let dir = tempfile::tempdir().unwrap();
    let prof = dir.path().join("usr.bin.svc");
    std::fs::write(
        &prof,
        "profile svc /usr/bin/svc flags=(complain) {\n  /usr/bin/helper Px,\n}\n",
    )
    .unwrap();
    for json in [false, true] {
        let mut cmd = aa(&["review", "--llm", "--model", "m", "--no-cache", "-d"]);
        cmd.arg(dir.path())
            .arg("--base-url")
            .arg(format!("{}/v1", server.uri()))
            .arg(&prof);
        if json {
            cmd.arg("--json");
        }
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if json {
            let r = json_of(&out);
            let c = r["model_contradictions"].as_array().unwrap();
            assert_eq!(c.len(), 2, "{r:#}");
            assert!(c[0].as_str().unwrap().contains("scrub the environment"));
        } else {
            assert!(
                text.contains("model-check: WRONG: the model says"),
                "{text}"
            );
            assert!(text.contains("uppercase exec modes"), "{text}");
            assert!(
                text.contains("still enforces explicit deny rules"),
                "{text}"
            );
        }
    }
}

/// Runs as root here and in CI. As root, an answer cache directory that another user owns or
/// anyone can write is refused before any request (that user would choose the answers root
/// replays, or plant links where root writes): one error naming it and the override flag.
/// A cache directory the run creates is private (0700), and an entry planted as a symlink is
/// neither followed when read nor written through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_cache_dir_is_refused_as_root_and_a_new_one_is_private() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if !aa_assist::fsguard::Policy::current().enforced() {
        eprintln!("notice: not running as root; the refusal is tested by fsguard's unit tests");
        return;
    }
    let server = common::server_answering(r#"{"proposals":[],"explanations":[]}"#.into()).await;
    let dir = tempfile::tempdir().unwrap();
    let run = |cache: &Path, extra: &[&str]| {
        let mut cmd = aa(&["explain", "--llm", "--model", "m", "--base-url"]);
        cmd.arg(format!("{}/v1", server.uri()))
            .arg("--cache-dir")
            .arg(cache)
            .args(extra)
            .arg(fixture("svc.log"));
        cmd.output().unwrap()
    };
    let nobody = dir.path().join("nobody");
    std::fs::create_dir(&nobody).unwrap();
    std::os::unix::fs::chown(&nobody, Some(65534), Some(65534)).unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    for (cache, reason) in [
        (nobody.clone(), "owned by another user"),
        (open.join("llm"), "writable by everyone"),
    ] {
        let out = run(&cache, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        for needle in [
            &cache.display().to_string(),
            reason,
            "--allow-untrusted-paths",
            "mode 0",
        ] {
            assert!(err.contains(needle), "{needle:?} in {err}");
        }
    }
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing sent before the refusal"
    );
    assert!(!open.join("llm").exists(), "nothing created");
    assert_eq!(
        std::fs::read_dir(&nobody).unwrap().count(),
        0,
        "nothing written"
    );

    let out = run(&open.join("llm"), &["--allow-untrusted-paths"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "overridden: {out:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // A fresh cache directory is created private, and its entries are real files.
    let fresh = dir.path().join("private/llm");
    let out = run(&fresh, &[]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    assert_eq!(
        std::fs::metadata(&fresh).unwrap().mode() & 0o777,
        0o700,
        "cache dir is private"
    );
    let entries: Vec<_> = std::fs::read_dir(&fresh)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    // An entry replaced by a symlink is not read through (the request is sent again) and the
    // link's target is not overwritten.
    let victim = dir.path().join("victim");
    std::fs::write(&victim, std::fs::read(&entries[0]).unwrap()).unwrap();
    std::fs::remove_file(&entries[0]).unwrap();
    std::os::unix::fs::symlink(&victim, &entries[0]).unwrap();
    let before = server.received_requests().await.unwrap().len();
    let out = run(&fresh, &[]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        before + 1,
        "a symlinked cache entry is not a hit"
    );
    assert!(
        !std::fs::symlink_metadata(&entries[0])
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced by a real file"
    );
}
