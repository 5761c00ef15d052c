//! `aa-assist tune` through a real pseudo-terminal: the real binary, real `dialoguer`
//! prompts, keys sent as a human would type them.
//!
//! The proposals come from a hand-made file (`--proposals`) so these tests pin the review
//! and write behaviour independently of the drafter; the profile is the bundled example.

mod common;

use common::repo;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aa_assist::check::{Checked, Finding, Severity, Verdict};
use expectrl::{Eof, Regex, Session};

const PROFILE: &str = "examples/pidcache/profile/usr.sbin.exampled";
const LOG: &str = "examples/pidcache/audit.log";

/// The shared base proposal; a blocked one carries the finding that blocks it.
fn checked(id: &str, rule: &str, covers: &[&str], verdict: Verdict) -> Checked {
    let mut c = common::checked(id, rule, covers, verdict);
    if verdict == Verdict::Blocked {
        c.findings = vec![Finding {
            code: "recursive-write-glob".into(),
            severity: Severity::Error,
            message: "write on a recursive glob".into(),
        }];
    }
    c
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
    spawn_with(f, &[], extra_env)
}

fn spawn_with(f: &Fixture, extra_args: &[&str], extra_env: &[(&str, &str)]) -> Session {
    let mut cmd = Command::new(common::bin());
    cmd.arg("tune")
        .args(extra_args)
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

/// Approval fatigue: pressing Enter through the cards must not approve what a human was
/// asked to look at closely. The default of a `review` card is skip; of an `ok` card,
/// approve.
#[test]
fn enter_on_a_review_card_skips_it() {
    let items = vec![
        checked("P1", "/etc/exampled/exampled.conf r,", &["G1"], Verdict::Ok),
        checked(
            "P2",
            "capability net_bind_service,",
            &["G2"],
            Verdict::Review,
        ),
    ];
    let f = fixture(&items, &[]);
    let mut s = spawn(&f, &[]);
    s.expect("P1: what to do?").expect("first prompt");
    s.send("\r").expect("approve (the default of an ok card)");
    s.expect("P2: what to do?").expect("second prompt");
    s.send("\r").expect("the default of a review card");
    s.expect("Write 1 rule(s)").expect("final confirmation");
    s.send("y").expect("yes");
    s.expect("Wrote").expect("written");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 0);
    let new = std::fs::read_to_string(&f.profile).expect("read");
    assert!(new.contains("/etc/exampled/exampled.conf r,"));
    assert!(
        !new.contains("net_bind_service"),
        "Enter on a review card must not approve it"
    );
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
    // Its own exit status (documented in --help), not the "findings" one a script would
    // read as "there are proposals".
    assert_eq!(exit_code(&mut s), 3);
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

#[test]
fn real_pipeline_approve_first_reject_rest() {
    let f = fixture(&[], &[]);
    let mut cmd = Command::new(common::bin());
    cmd.arg("tune")
        .arg(&f.profile)
        .arg("--log")
        .arg(repo(LOG))
        .arg("-d")
        .arg(f.profile.parent().expect("dir"))
        .env("AA_ASSIST_STATE_DIR", &f.state)
        .env("TERM", "xterm");
    let mut s = Session::spawn(cmd).expect("spawn in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(30)));
    let first = s.expect("P1: what to do?").expect("first prompt");
    let card = String::from_utf8_lossy(first.before()).into_owned();
    let rule = card
        .split("help: add `")
        .nth(1)
        .and_then(|r| r.split('`').next())
        .expect("the card names the rule")
        .to_string();
    s.send("\r").expect("approve P1");
    let mut skipped = 0;
    loop {
        // Expect the next id exactly: dialoguer also echoes each answered prompt.
        let next = format!(r"P{}: what to do\?|Write 1 rule\(s\)", skipped + 2);
        let m = s.expect(Regex(next.as_str())).expect("next prompt");
        let matched = String::from_utf8_lossy(m.get(0).expect("match")).into_owned();
        if matched.starts_with("Write") {
            s.send("y").expect("yes");
            break;
        }
        let before = String::from_utf8_lossy(m.before()).into_owned();
        if before.contains("verdict: BLOCKED") || before.contains("verdict: review") {
            s.send("\r")
                .expect("skip (the default of a blocked or review proposal)");
        } else {
            s.send("k").expect("up");
            s.send("k").expect("up");
            s.send("\r").expect("skip");
        }
        skipped += 1;
    }
    let end = s.expect(Eof).expect("exits");
    let end: String = end
        .matches()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .chain([String::from_utf8_lossy(end.before()).into_owned()])
        .collect();
    assert!(end.contains("Wrote"), "{end}");
    assert_eq!(exit_code(&mut s), 0);
    assert!(skipped > 0);
    let new = std::fs::read_to_string(&f.profile).expect("read");
    assert_eq!(without_line(&new, &format!("  {rule}")), f.original);
    parser_accepts(&f.profile);

    // Re-run: the approved rule now covers its groups, the rejected ones are remembered, so
    // nothing is asked and nothing changes.
    let mut cmd = Command::new(common::bin());
    cmd.arg("tune")
        .arg(&f.profile)
        .arg("--log")
        .arg(repo(LOG))
        .arg("-d")
        .arg(f.profile.parent().expect("dir"))
        .env("AA_ASSIST_STATE_DIR", &f.state)
        .env("TERM", "xterm");
    let mut s = Session::spawn(cmd).expect("spawn in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(30)));
    s.expect("rejected before, not asked again")
        .expect("memory used");
    s.expect("Nothing approved").expect("nothing to do");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 0);
    assert_eq!(std::fs::read_to_string(&f.profile).expect("read"), new);
}

fn fake_parser(dir: &Path, reload_ok: bool) -> String {
    let p = dir.join("fake_apparmor_parser");
    let script = format!(
        "#!/bin/sh\n# -QK validates (accept), -r reloads\ncase \"$1\" in -r) exit {};; esac\ncat >/dev/null\nexit 0\n",
        if reload_ok { 0 } else { 1 }
    );
    std::fs::write(&p, script).expect("write");
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    p.to_string_lossy().into_owned()
}

#[test]
fn reload_failure_is_reported_after_the_write() {
    let f = fixture(&two_ok(), &[]);
    let parser = fake_parser(&f.root, false);
    let mut cmd = Command::new(common::bin());
    cmd.arg("tune")
        .arg(&f.profile)
        .arg("--log")
        .arg(repo(LOG))
        .arg("--proposals")
        .arg(&f.proposals)
        .arg("--reload")
        .env("AA_ASSIST_STATE_DIR", &f.state)
        .env("AA_ASSIST_APPARMOR_PARSER", &parser)
        .env("TERM", "xterm");
    let mut s = Session::spawn(cmd).expect("spawn");
    s.set_expect_timeout(Some(Duration::from_secs(20)));
    s.expect("P1: what to do?").expect("prompt");
    s.send("\r").expect("approve");
    s.expect("P2: what to do?").expect("prompt");
    s.send("\r").expect("approve");
    s.expect("Write 2 rule(s)").expect("confirm");
    s.send("y").expect("yes");
    s.expect("Wrote").expect("written");
    s.expect("the kernel still has the old policy")
        .expect("reload failure said");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 2);
    let new = std::fs::read_to_string(&f.profile).expect("read");
    let new = without_line(&new, "  /etc/exampled/exampled.conf r,");
    assert_eq!(
        without_line(&new, "  capability net_bind_service,"),
        f.original
    );
}

#[test]
fn local_writes_the_override_and_leaves_the_profile_alone() {
    let f = fixture(&two_ok(), &[]);
    let mut s = {
        let mut cmd = Command::new(common::bin());
        cmd.arg("tune")
            .arg(&f.profile)
            .arg("--log")
            .arg(repo(LOG))
            .arg("--proposals")
            .arg(&f.proposals)
            .arg("--local")
            .env("AA_ASSIST_STATE_DIR", &f.state)
            .env("TERM", "xterm");
        Session::spawn(cmd).expect("spawn")
    };
    s.set_expect_timeout(Some(Duration::from_secs(20)));
    s.expect("P1: what to do?").expect("prompt");
    s.send("\r").expect("approve");
    s.expect("P2: what to do?").expect("prompt");
    s.send("k").expect("up");
    s.send("k").expect("up");
    s.send("\r").expect("skip");
    s.expect("Write 1 rule(s)").expect("confirm");
    s.send("y").expect("yes");
    s.expect("Wrote").expect("written");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 0);
    assert_eq!(
        std::fs::read(&f.profile).expect("read"),
        f.original.as_bytes()
    );
    let local = f
        .profile
        .parent()
        .expect("dir")
        .join("local/usr.sbin.exampled");
    let text = std::fs::read_to_string(local).expect("override written");
    assert!(text.starts_with("# Site-specific additions"), "{text}");
    assert!(
        text.ends_with("\n/etc/exampled/exampled.conf r,\n"),
        "{text}"
    );
    assert!(!text.contains("net_bind_service"));
}

#[test]
fn parser_rejection_writes_nothing() {
    // AppArmor 4 network syntax: the profile editor places it, apparmor_parser 3 rejects it.
    let rule = "network (listen) inet stream ip=127.0.0.1 port=705,";
    let f = fixture(&[checked("P1", rule, &["G1"], Verdict::Ok)], &[]);
    if aa_assist::review::validate::find_parser().is_none() {
        eprintln!("notice: apparmor_parser not installed; skipping");
        return;
    }
    let probe =
        std::process::Command::new(aa_assist::review::validate::find_parser().expect("parser"))
            .arg("-QK")
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin
                    .take()
                    .expect("stdin")
                    .write_all(format!("profile x {{\n  {rule}\n}}\n").as_bytes())?;
                c.wait()
            })
            .expect("probe");
    if probe.success() {
        eprintln!("notice: this apparmor_parser knows AppArmor 4 network rules; skipping");
        return;
    }
    let mut s = spawn(&f, &[]);
    s.expect("P1: what to do?").expect("prompt");
    s.send("\r").expect("approve");
    s.expect("Write 1 rule(s)").expect("confirm");
    s.send("y").expect("yes");
    s.expect("apparmor_parser rejected the new profile")
        .expect("rejection shown");
    s.expect("Nothing written").expect("says so");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 2);
    assert_eq!(
        std::fs::read(&f.profile).expect("read"),
        f.original.as_bytes()
    );
}

#[test]
fn ctrl_c_at_a_prompt_quits_and_writes_nothing() {
    let f = fixture(&two_ok(), &[]);
    let mut s = spawn(&f, &[]);
    s.expect("P1: what to do?").expect("first prompt");
    s.send("\r").expect("approve");
    s.expect("P2: what to do?").expect("second prompt");
    s.send("\x03").expect("ctrl-c");
    s.expect(Eof).expect("exits");
    // Killed by SIGINT, or a quit if the terminal layer turned Ctrl-C into an error.
    match s.get_process_mut().wait().expect("wait") {
        expectrl::WaitStatus::Exited(_, code) => assert_ne!(code, 0),
        expectrl::WaitStatus::Signaled(_, sig, _) => {
            assert_eq!(sig, expectrl::Signal::SIGINT)
        }
        other => panic!("unexpected end: {other:?}"),
    }
    assert_eq!(
        std::fs::read(&f.profile).expect("read"),
        f.original.as_bytes()
    );
    assert!(!f.state.join("decisions.json").exists());
}

/// A stand-in `apparmor_parser` that rejects every policy holding the proposed
/// `net_bind_service` rule, as a real one does on bad syntax (the unmodified profile passes).
fn failing_parser(dir: &Path) -> String {
    let p = dir.join("failing_apparmor_parser");
    let script = "#!/bin/sh\nt=$(cat)\ncase \"$t\" in *net_bind_service*) ;; *) exit 0;; esac\necho 'AppArmor parser error for /dev/stdin in profile exampled at line 31: syntax error, unexpected TOK_ID' >&2\nexit 1\n";
    std::fs::write(&p, script).expect("write");
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    p.to_string_lossy().into_owned()
}

#[test]
fn failing_parser_writes_nothing() {
    let f = fixture(&two_ok(), &[]);
    let parser = failing_parser(&f.root);
    let mut s = spawn(&f, &[("AA_ASSIST_APPARMOR_PARSER", &parser)]);
    s.expect("P1: what to do?").expect("prompt");
    s.send("\r").expect("approve");
    s.expect("P2: what to do?").expect("prompt");
    s.send("\r").expect("approve");
    s.expect("Write 2 rule(s)").expect("confirm");
    s.send("y").expect("yes");
    s.expect("apparmor_parser rejected the new profile")
        .expect("the parser is named");
    s.expect("syntax error, unexpected TOK_ID")
        .expect("with its own reason");
    s.expect("Nothing written").expect("says so");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 2);
    assert_eq!(
        std::fs::read(&f.profile).expect("read"),
        f.original.as_bytes()
    );
    let backups = std::fs::read_dir(f.state.join("backups")).map_or(0, |d| d.count());
    assert_eq!(backups, 0, "no write, so no backup either");
}

/// The unmodified profile is validated before the first question, exactly as the final
/// validation does: a profile the parser rejects as it is (here a stand-in parser whose
/// message has two lines and a terminal escape) is said at once, its lines as lines and
/// escaped, and nothing is asked or written.
#[test]
fn an_invalid_unmodified_profile_is_said_before_the_first_question() {
    let f = fixture(&two_ok(), &[]);
    let parser = f.root.join("rejecting_apparmor_parser");
    let script = "#!/bin/sh\ncat >/dev/null\nprintf 'AppArmor parser error at line 6: Could not open \\047abi/9.9\\047: No such file or directory\\nsecond line \\033]52;c;eA==\\007 end\\n' >&2\nexit 1\n";
    std::fs::write(&parser, script).expect("write");
    std::fs::set_permissions(&parser, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let parser = parser.to_string_lossy().into_owned();
    let mut s = spawn(&f, &[("AA_ASSIST_APPARMOR_PARSER", &parser)]);
    let said = s
        .expect("apparmor_parser rejects")
        .expect("said before anything else");
    assert!(
        !String::from_utf8_lossy(said.before()).contains("what to do?"),
        "before the first question"
    );
    let rest = s.expect(Eof).expect("exits");
    let out = String::from_utf8_lossy(rest.as_bytes()).into_owned();
    assert_eq!(exit_code(&mut s), 2);
    assert!(!out.contains("what to do?"), "no question at all: {out}");
    assert!(!out.contains('\x1b'), "no raw ESC from the parser: {out:?}");
    assert!(!out.contains("\\x0a"), "newlines are not escaped: {out:?}");
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("Could not open 'abi/9.9': No such file or directory")),
        "the parser's first line is a line: {out:?}"
    );
    assert!(
        lines.contains(&"second line \\x1b]52;c;eA==\\x07 end"),
        "the second line is its own line, escaped: {out:?}"
    );
    assert!(out.contains("does not ship abi/9.9"), "the hint: {out}");
    assert!(out.contains("-I DIR"), "how to proceed: {out}");
    assert_eq!(
        std::fs::read(&f.profile).expect("read"),
        f.original.as_bytes()
    );
    assert!(!f.state.join("decisions.json").exists());
}

/// The same with the real parser on the webserver example, whose `abi <abi/4.0>,` the
/// installed parser (AppArmor 3) does not ship.
#[test]
fn a_profile_with_an_abi_the_parser_lacks_is_said_before_the_first_question() {
    let Some(_) = aa_assist::review::validate::find_parser() else {
        eprintln!("notice: apparmor_parser not installed; skipping");
        return;
    };
    if Path::new("/etc/apparmor.d/abi/4.0").exists() {
        eprintln!("notice: this apparmor_parser ships abi/4.0; skipping");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let pdir = dir.path().join("apparmor.d");
    std::fs::create_dir_all(&pdir).expect("mkdir");
    let profile = pdir.join("usr.sbin.examplehttpd");
    let original =
        std::fs::read_to_string(repo("examples/webserver/profile/usr.sbin.examplehttpd"))
            .expect("example profile");
    assert!(
        original.contains("abi <abi/4.0>,"),
        "the example declares abi/4.0"
    );
    std::fs::write(&profile, &original).expect("write");
    let mut cmd = Command::new(common::bin());
    cmd.arg("tune")
        .arg(&profile)
        .arg("--log")
        .arg(repo("examples/webserver/audit.log"))
        .arg("-d")
        .arg(&pdir)
        .env("AA_ASSIST_STATE_DIR", dir.path().join("state"))
        .env("TERM", "xterm");
    let mut s = Session::spawn(cmd).expect("spawn in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(30)));
    let said = s.expect("apparmor_parser rejects").expect("said");
    assert!(!String::from_utf8_lossy(said.before()).contains("what to do?"));
    let rest = s.expect(Eof).expect("exits");
    let out = String::from_utf8_lossy(rest.as_bytes()).into_owned();
    assert_eq!(exit_code(&mut s), 2);
    assert!(out.contains("Could not open 'abi/4.0'"), "{out}");
    assert!(out.contains("does not ship abi/4.0"), "{out}");
    assert!(out.contains("abi/3.0"), "names a shipped ABI: {out}");
    assert!(!out.contains("what to do?"), "{out}");
    assert_eq!(std::fs::read_to_string(&profile).expect("read"), original);
}

/// Every write leaves a backup: when the backup directory cannot be created (even as root:
/// a file is in its place, or the state dir is under a file), the review does not start.
#[test]
fn no_backup_directory_refuses_before_any_question() {
    let f = fixture(&two_ok(), &[]);
    let parser = fake_parser(&f.root, true);

    std::fs::create_dir_all(&f.state).expect("mkdir");
    std::fs::write(f.state.join("backups"), "not a directory\n").expect("write");
    let mut s = spawn(&f, &[("AA_ASSIST_APPARMOR_PARSER", &parser)]);
    let said = s
        .expect("cannot create the backup directory")
        .expect("plain message");
    assert!(
        !String::from_utf8_lossy(said.before()).contains("what to do?"),
        "refused before the first question"
    );
    s.expect("backups (it exists and is not a directory)")
        .expect("names the directory and the reason");
    s.expect("AA_ASSIST_STATE_DIR").expect("what to do");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 2);
    assert_eq!(
        std::fs::read(&f.profile).expect("read"),
        f.original.as_bytes()
    );
    assert!(!f.state.join("decisions.json").exists());

    // A state dir below a regular file cannot exist at all.
    let blocker = f.root.join("a-file");
    std::fs::write(&blocker, "").expect("write");
    let state = blocker.join("state");
    let state = state.to_str().expect("utf-8");
    let mut s = spawn(
        &f,
        &[
            ("AA_ASSIST_APPARMOR_PARSER", &parser),
            ("AA_ASSIST_STATE_DIR", state),
        ],
    );
    let said = s.expect(state).expect("names the state path");
    assert!(!String::from_utf8_lossy(said.before()).contains("what to do?"));
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 2);
    assert_eq!(
        std::fs::read(&f.profile).expect("read"),
        f.original.as_bytes()
    );
}

/// `debug roundtrip` and `debug parse-log` are byte-exact into a pipe (their purpose), but on a
/// terminal a profile or log holding OSC 52, OSC 8, CSI, U+202E, U+200B or U+E0041 is shown
/// escaped.
#[test]
fn debug_tools_escape_hostile_text_on_a_terminal_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("p");
    let hostile = common::hostile_name("# c ");
    let text = format!("profile demo {{\n  {hostile}\n}}\n");
    std::fs::write(&profile, &text).expect("write");
    let log = dir.path().join("audit.log");
    std::fs::write(
        &log,
        format!(
            "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name={} pid=1 comm=\"x\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n",
            common::audit_hex(&common::hostile_name("/t/n"))
        ),
    )
    .expect("write");
    for args in [
        vec![
            "debug".to_string(),
            "roundtrip".into(),
            profile.display().to_string(),
        ],
        vec![
            "debug".to_string(),
            "parse-log".into(),
            log.display().to_string(),
        ],
    ] {
        let mut cmd = Command::new(common::bin());
        cmd.args(&args).env("TERM", "xterm");
        let mut s = Session::spawn(cmd).expect("spawn in a pty");
        s.set_expect_timeout(Some(Duration::from_secs(20)));
        let end = s.expect(Eof).expect("exits");
        let shown: Vec<u8> = end
            .matches()
            .flat_map(|m| m.to_vec())
            .chain(end.before().to_vec())
            .collect();
        common::assert_no_raw_hostile(&format!("{args:?} on a terminal"), &shown);
        assert!(
            String::from_utf8_lossy(&shown).contains("\\x1b]52;c;"),
            "{args:?}: {:?}",
            String::from_utf8_lossy(&shown)
        );
    }
    let piped = std::process::Command::new(common::bin())
        .args(["debug", "roundtrip"])
        .arg(&profile)
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8(piped.stdout).expect("utf8"), text);
}

/// Runs as root here and in CI. A profile directory, `local/` directory or state directory
/// that another user owns or anyone can write is refused before the first question, naming
/// it and the override flag; nothing is written. With `--allow-untrusted-paths` the review
/// goes ahead.
#[test]
fn untrusted_directories_are_refused_as_root_before_any_question() {
    use std::os::unix::fs::PermissionsExt;
    if !aa_assist::fsguard::Policy::current().enforced() {
        eprintln!("notice: not running as root; the refusal is tested by fsguard's unit tests");
        return;
    }
    let f = fixture(&two_ok(), &[]);
    let parser = fake_parser(&f.root, true);
    let env = [("AA_ASSIST_APPARMOR_PARSER", parser.as_str())];
    let pdir = f.profile.parent().expect("dir").to_path_buf();
    let refused = |s: &mut Session, what: &str| {
        let said = s.expect("refusing to write").expect(what);
        assert!(
            !String::from_utf8_lossy(said.before()).contains("what to do?"),
            "{what}: refused before the first question"
        );
        s.expect("--allow-untrusted-paths").expect("the way out");
        s.expect(Eof).expect("exits");
        assert_eq!(exit_code(s), 2, "{what}");
        assert_eq!(
            std::fs::read(&f.profile).expect("read"),
            f.original.as_bytes(),
            "{what}"
        );
        assert!(!f.state.join("decisions.json").exists(), "{what}");
        assert!(!pdir.join("local").exists(), "{what}");
    };

    // The profile directory belongs to another user (nobody).
    std::os::unix::fs::chown(&pdir, Some(65534), Some(65534)).expect("chown");
    let mut s = spawn_with(&f, &[], &env);
    refused(&mut s, "profile dir owned by nobody");
    std::os::unix::fs::chown(&pdir, Some(0), Some(0)).expect("chown back");

    // --local: the override directory is world-writable.
    let local = pdir.join("local");
    std::fs::create_dir(&local).expect("mkdir");
    std::fs::set_permissions(&local, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let mut s = spawn_with(&f, &["--local"], &env);
    let said = s.expect("refusing to write").expect("local dir");
    assert!(!String::from_utf8_lossy(said.before()).contains("what to do?"));
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 2);
    assert!(!local.join("usr.sbin.exampled").exists());
    std::fs::remove_dir(&local).expect("rmdir");

    // The state directory is world-writable.
    std::fs::create_dir_all(&f.state).expect("mkdir");
    std::fs::set_permissions(&f.state, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let mut s = spawn_with(&f, &[], &env);
    refused(&mut s, "state dir world-writable");
    assert!(!f.state.join("backups").exists());

    // Overridden: the review starts.
    let mut s = spawn_with(&f, &["--allow-untrusted-paths"], &env);
    s.expect("P1: what to do?").expect("the review starts");
    s.send("k").expect("up to quit");
    s.send("\r").expect("quit");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 3, "a quit");
}

/// A remembered approval never spares the question: only a rejection may be remembered
/// that way (a decision file someone else wrote must not be able to pre-approve a rule).
#[test]
fn a_remembered_approval_is_asked_again() {
    let f = fixture(&two_ok(), &[]);
    let parser = fake_parser(&f.root, true);
    std::fs::create_dir_all(&f.state).expect("mkdir");
    let file = std::fs::canonicalize(&f.profile).expect("canon");
    let text = serde_json::json!({"version": 1, "decisions": [
        {"file": file, "profile": "exampled", "rule": "/etc/exampled/exampled.conf r,",
         "decision": "approved", "at": 0},
        {"file": file, "profile": "exampled", "rule": "capability net_bind_service,",
         "decision": "rejected", "at": 0},
    ]})
    .to_string();
    std::fs::write(f.state.join("decisions.json"), text).expect("seed");
    let mut s = spawn(&f, &[("AA_ASSIST_APPARMOR_PARSER", &parser)]);
    let asked = s.expect("P1: what to do?").expect("asked again");
    assert!(!String::from_utf8_lossy(asked.before()).contains("approved before"));
    s.send("k").expect("up");
    s.send("k").expect("up");
    s.send("\r").expect("skip");
    s.expect("rejected before, not asked again")
        .expect("the rejection is remembered");
    s.expect("Nothing approved").expect("nothing to write");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 1);
    assert_eq!(
        std::fs::read(&f.profile).expect("read"),
        f.original.as_bytes()
    );
}

/// A stand-in `apparmor_parser` that accepts every policy and, the first time it validates,
/// does what another administrator might do meanwhile: `edit` is a shell command run on the
/// profile file (`$P`).
fn meddling_parser(dir: &Path, profile: &Path, edit: &str) -> String {
    let p = dir.join("meddling_apparmor_parser");
    let marker = dir.join("meddled");
    let script = format!(
        "#!/bin/sh\ncat >/dev/null\nP='{}'\nif [ ! -e '{}' ]; then touch '{}'; {edit}; fi\nexit 0\n",
        profile.display(),
        marker.display(),
        marker.display()
    );
    std::fs::write(&p, script).expect("write");
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    p.to_string_lossy().into_owned()
}

/// Lost update: the profile changes between the read and the write. When the approved rule
/// still applies to the new text, the new diff is shown and confirmed again, and the other
/// change is kept; when it no longer applies, nothing is written, the other change stays,
/// and the approved rules are kept in the state directory.
#[test]
fn a_profile_changed_meanwhile_is_never_overwritten() {
    let f = fixture(&two_ok(), &[]);
    let theirs = "  # added meanwhile by someone else";
    let parser = meddling_parser(
        &f.root,
        &f.profile,
        &format!("sed -i 's|^}}$|{theirs}\\n}}|' \"$P\""),
    );
    let mut s = spawn(&f, &[("AA_ASSIST_APPARMOR_PARSER", &parser)]);
    s.expect("P1: what to do?").expect("prompt");
    s.send("\r").expect("approve");
    s.expect("P2: what to do?").expect("prompt");
    s.send("k").expect("up");
    s.send("k").expect("up");
    s.send("\r").expect("skip");
    s.expect("Write 1 rule(s)").expect("first confirmation");
    s.send("y").expect("yes");
    s.expect("changed by someone else")
        .expect("the change is noticed");
    s.expect("still apply").expect("re-applied to the new text");
    s.expect("/etc/exampled/exampled.conf r,")
        .expect("the diff against the new text");
    s.expect("Write 1 rule(s)").expect("asked again");
    s.send("y").expect("yes");
    s.expect("Wrote").expect("written");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 0);
    let new = std::fs::read_to_string(&f.profile).expect("read");
    assert!(new.contains(theirs), "their change is kept: {new}");
    assert!(new.contains("  /etc/exampled/exampled.conf r,\n"), "{new}");

    // The profile is renamed meanwhile: the approved rule no longer applies.
    let f = fixture(&two_ok(), &[]);
    let parser = meddling_parser(
        &f.root,
        &f.profile,
        "sed -i 's|^profile exampled |profile renamed |' \"$P\"",
    );
    let mut s = spawn(&f, &[("AA_ASSIST_APPARMOR_PARSER", &parser)]);
    s.expect("P1: what to do?").expect("prompt");
    s.send("\r").expect("approve");
    s.expect("P2: what to do?").expect("prompt");
    s.send("\r").expect("approve");
    s.expect("Write 2 rule(s)").expect("confirmation");
    s.send("y").expect("yes");
    s.expect("changed by someone else")
        .expect("the change is noticed");
    s.expect("nothing was written").expect("refused");
    s.expect(Eof).expect("exits");
    assert_eq!(exit_code(&mut s), 2);
    let now = std::fs::read_to_string(&f.profile).expect("read");
    assert!(
        now.contains("profile renamed "),
        "their change is kept: {now}"
    );
    assert!(!now.contains("exampled.conf r,"), "{now}");
    let kept: Vec<_> = std::fs::read_dir(f.state.join("unwritten"))
        .expect("approvals kept")
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(kept.len(), 1);
    let text = std::fs::read_to_string(kept[0].path()).expect("read");
    assert!(text.contains("/etc/exampled/exampled.conf r,"), "{text}");
    assert!(text.contains("capability net_bind_service,"), "{text}");
}

/// https://no-color.org: only a non-empty `NO_COLOR` turns colour off; `NO_COLOR=` (empty)
/// leaves the review's cards coloured.
#[test]
fn only_a_non_empty_no_color_turns_colour_off() {
    for (value, coloured) in [("", true), ("1", false)] {
        let f = fixture(&two_ok(), &[]);
        let mut s = spawn(&f, &[("NO_COLOR", value)]);
        let card = s.expect("P1: what to do?").expect("first prompt");
        let shown = String::from_utf8_lossy(card.before()).into_owned();
        assert_eq!(sgr(&shown), coloured, "NO_COLOR={value:?}:\n{shown}");
        s.send("\x03").expect("ctrl-c");
        s.expect(Eof).expect("exits");
    }
}

/// Whether `text` holds a colour (SGR: `ESC [ digits;… m`) sequence.
fn sgr(text: &str) -> bool {
    text.split("\x1b[").skip(1).any(|rest| {
        let params = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ';')
            .count();
        params > 0 && rest[params..].starts_with('m')
    })
}
