//! Every bad input gives one clear message naming the thing and what is wrong, exit code 2,
//! and no partial write (issue #7). One test per kind of input, each running the real binary
//! for every command that takes that input.
//!
//! "Unreadable" is tested two ways: a directory given where a file is expected (unreadable
//! as a file even for root, which is how CI runs), and `chmod 000` when not running as root.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PROFILE: &str = "examples/pidcache/profile/usr.sbin.exampled";
const LOG: &str = "examples/pidcache/audit.log";

/// A scratch copy of the example profile (to prove it is never written), a state dir, an
/// output dir that must not appear, and a directory to give where files are expected.
struct Scratch {
    dir: tempfile::TempDir,
    pdir: PathBuf,
    profile: PathBuf,
    original: Vec<u8>,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("tempdir");
        let pdir = dir.path().join("apparmor.d");
        std::fs::create_dir_all(&pdir).expect("mkdir");
        let profile = pdir.join("usr.sbin.exampled");
        let original = std::fs::read(common::repo(PROFILE)).expect("example profile");
        std::fs::write(&profile, &original).expect("write");
        Scratch {
            dir,
            pdir,
            profile,
            original,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A directory, given where a file is expected.
    fn a_directory(&self) -> PathBuf {
        let d = self.path("a-directory");
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    }

    fn s(p: &Path) -> String {
        p.to_str().expect("utf-8 temp path").to_string()
    }

    /// Run the binary without a terminal, with private state and no config file.
    fn run(&self, args: &[String]) -> Output {
        Command::new(common::bin())
            .args(args)
            .env("AA_ASSIST_STATE_DIR", self.path("state"))
            .env("AA_ASSIST_CONFIG", self.path("no-config.toml"))
            .env("AA_ASSIST_APPARMOR_PARSER", "/nonexistent/apparmor_parser")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("AA_ASSIST_MODEL")
            .env_remove("OPENAI_API_KEY")
            .stdin(Stdio::null())
            .output()
            .expect("binary runs")
    }

    /// Nothing was written: the profile is byte-identical, no pack, no state files.
    fn nothing_written(&self, what: &str) {
        assert_eq!(
            std::fs::read(&self.profile).expect("read"),
            self.original,
            "{what}: the profile is untouched"
        );
        assert!(!self.path("pack").exists(), "{what}: no pack written");
        assert!(
            !self.path("state/decisions.json").exists() && !self.path("state/backups").exists(),
            "{what}: no state written"
        );
    }
}

/// Exit 2, and stderr ends with one `aa-assist: error:` message holding every `needle` (it
/// may span lines, e.g. a TOML error with its caret). Returns the message.
fn assert_error(what: &str, out: &Output, needles: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{what}: exit 2\n{stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert_eq!(
        stderr.matches("aa-assist: error:").count(),
        1,
        "{what}: one message\n{stderr}"
    );
    let start = stderr.find("aa-assist: error: ").expect("the message");
    assert!(
        start == 0 || stderr[..start].ends_with('\n'),
        "{what}: the message starts a line\n{stderr}"
    );
    let message = stderr[start..].to_string();
    for n in needles {
        assert!(
            message.contains(n),
            "{what}: the message says {n:?}\n{message}"
        );
    }
    // The same cause is not repeated ("is a directory: is a directory").
    let first = message.lines().next().unwrap_or_default();
    let parts: Vec<&str> = first.split(": ").collect();
    for w in parts.windows(2) {
        assert_ne!(w[0], w[1], "{what}: a repeated cause\n{message}");
    }
    eprintln!("{what}: {message}");
    message
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Every command that reads logs, with `log` as its log.
fn log_commands(s: &Scratch, log: &str) -> Vec<(&'static str, Vec<String>)> {
    let p = Scratch::s(&s.profile);
    let d = Scratch::s(&s.pdir);
    let out = Scratch::s(&s.path("pack"));
    vec![
        ("denials", args(&["denials", log])),
        ("explain", args(&["explain", log])),
        ("check", args(&["check", &p, "-d", &d, "--log", log])),
        ("tune", args(&["tune", &p, "-d", &d, "--log", log])),
        ("status", args(&["status", "exampled", "--log", log])),
        ("pack", args(&["pack", "--log", log, "--out", &out])),
        ("redact", args(&["redact", log])),
    ]
}

/// Every command that reads a profile file, with `profile` as it.
fn profile_commands(s: &Scratch, profile: &str) -> Vec<(&'static str, Vec<String>)> {
    let d = Scratch::s(&s.pdir);
    let out = Scratch::s(&s.path("pack"));
    let log = Scratch::s(&common::repo(LOG));
    vec![
        ("check", args(&["check", profile, "-d", &d, "--log", &log])),
        ("tune", args(&["tune", profile, "-d", &d, "--log", &log])),
        (
            "explain -p",
            args(&["explain", &log, "-p", profile, "-d", &d]),
        ),
        ("review", args(&["review", profile, "-d", &d])),
        (
            "pack --profile",
            args(&[
                "pack",
                "--log",
                &log,
                "--profile",
                profile,
                "-d",
                &d,
                "--out",
                &out,
            ]),
        ),
    ]
}

#[test]
fn missing_log() {
    let s = Scratch::new();
    let log = Scratch::s(&s.path("no-such.log"));
    for (what, a) in log_commands(&s, &log) {
        assert_error(what, &s.run(&a), &[&log, "no such file"]);
        s.nothing_written(what);
    }
}

#[test]
fn log_that_is_a_directory() {
    let s = Scratch::new();
    let dir = Scratch::s(&s.a_directory());
    for (what, a) in log_commands(&s, &dir) {
        assert_error(what, &s.run(&a), &[&dir, "is a directory", "log file"]);
        s.nothing_written(what);
    }
    // The default audit log given with --audit-log.
    let out = s.run(&args(&["denials", "--audit-log", &dir]));
    assert_error("denials --audit-log", &out, &[&dir, "is a directory"]);
}

/// A file this user may not read; `None` when the user can read anything (root).
fn unreadable_file(s: &Scratch, name: &str, content: &[u8]) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let p = s.path(name);
    std::fs::write(&p, content).expect("write");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    if std::fs::File::open(&p).is_ok() {
        eprintln!(
            "notice: running as root, chmod 000 is still readable; the directory case covers it"
        );
        return None;
    }
    Some(p)
}

#[test]
fn unreadable_log_when_not_root() {
    let s = Scratch::new();
    let text = std::fs::read(common::repo(LOG)).expect("log");
    let Some(log) = unreadable_file(&s, "secret.log", &text) else {
        return;
    };
    let log = Scratch::s(&log);
    for (what, a) in log_commands(&s, &log) {
        assert_error(what, &s.run(&a), &[&log, "permission denied"]);
        s.nothing_written(what);
    }
}

#[test]
fn missing_profile() {
    let s = Scratch::new();
    let p = Scratch::s(&s.path("no-such-profile"));
    for (what, a) in profile_commands(&s, &p) {
        assert_error(what, &s.run(&a), &[&p]);
        s.nothing_written(what);
    }
}

#[test]
fn profile_that_is_a_directory() {
    let s = Scratch::new();
    let dir = Scratch::s(&s.a_directory());
    let mut cases = profile_commands(&s, &dir);
    let log = Scratch::s(&common::repo(LOG));
    cases.push(("status", args(&["status", &dir, "--log", &log])));
    for (what, a) in cases {
        assert_error(
            what,
            &s.run(&a),
            &[&dir, "is a directory", "give the profile file"],
        );
        s.nothing_written(what);
    }
}

#[test]
fn unreadable_profile_when_not_root() {
    let s = Scratch::new();
    let Some(p) = unreadable_file(&s, "usr.sbin.locked", &s.original) else {
        return;
    };
    let p = Scratch::s(&p);
    for (what, a) in profile_commands(&s, &p) {
        assert_error(what, &s.run(&a), &[&p, "permission denied"]);
        s.nothing_written(what);
    }
}

#[test]
fn bad_profile() {
    let s = Scratch::new();
    let bad = s.pdir.join("usr.sbin.broken");
    std::fs::write(
        &bad,
        "profile broken /usr/sbin/broken {\n  /etc/broken.conf r,\n  /var/lib/broken/** rw\n",
    )
    .expect("write");
    let p = Scratch::s(&bad);
    let mut cases = profile_commands(&s, &p);
    let log = Scratch::s(&common::repo(LOG));
    cases.push(("status", args(&["status", &p, "--log", &log])));
    for (what, a) in cases {
        assert_error(what, &s.run(&a), &[&format!("{p}:")]);
        s.nothing_written(what);
    }
}

#[test]
fn bad_config() {
    let s = Scratch::new();
    let config = s.path("config.toml");
    std::fs::write(&config, "[llm]\nmodle = \"typo\"\n").expect("write");
    let cfg = Scratch::s(&config);
    let log = Scratch::s(&common::repo(LOG));
    let p = Scratch::s(&s.profile);
    let d = Scratch::s(&s.pdir);
    let out = Scratch::s(&s.path("pack"));
    let llm = [
        "--llm",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "m",
    ];
    let cases = vec![
        // Every command reading a profile reads the config (its profile_dir, include_dirs).
        ("check", args(&["check", &p, "-d", &d, "--log", &log])),
        ("explain", args(&["explain", &log])),
        ("status", args(&["status", "exampled", "--log", &log])),
        (
            "tune",
            args(&["tune", &p, "-d", &d, "--log", &log, "--dry-run"]),
        ),
        ("review", args(&["review", &p, "-d", &d])),
        ("pack", args(&["pack", "--log", &log, "--out", &out])),
        (
            "ingest",
            args(&["ingest", "--pack", &out, &log, "--dry-run"]),
        ),
        ("redact", args(&["redact", &log])),
        (
            "explain --llm",
            [args(&["explain", &log]), args(&llm)].concat(),
        ),
        (
            "tune --llm",
            [
                args(&["tune", &p, "-d", &d, "--log", &log, "--dry-run"]),
                args(&llm),
            ]
            .concat(),
        ),
        (
            "review --llm",
            [args(&["review", &p, "-d", &d]), args(&llm)].concat(),
        ),
    ];
    for (what, a) in cases {
        let out = Command::new(common::bin())
            .args(&a)
            .env("AA_ASSIST_CONFIG", &config)
            .env("AA_ASSIST_STATE_DIR", s.path("state"))
            .stdin(Stdio::null())
            .output()
            .expect("runs");
        assert_error(what, &out, &[&cfg, "modle"]);
        s.nothing_written(what);
    }
    // An unreadable config (a directory) is an error too, never silently ignored.
    let dir = s.a_directory();
    let out = Command::new(common::bin())
        .args(["redact", &log])
        .env("AA_ASSIST_CONFIG", &dir)
        .output()
        .expect("runs");
    assert_error("config is a directory", &out, &[&Scratch::s(&dir)]);
}

#[test]
fn bad_pack_and_bad_answers() {
    let s = Scratch::new();
    let missing = Scratch::s(&s.path("no-such-pack"));
    let dir = Scratch::s(&s.a_directory());
    let out = s.run(&args(&["ingest", "--pack", &missing, &dir]));
    assert_error(
        "ingest --pack missing",
        &out,
        &[&missing, "no such directory", "aa-assist pack"],
    );
    let out = s.run(&args(&["ingest", "--pack", &dir, &dir]));
    assert_error(
        "ingest --pack not a pack",
        &out,
        &[&dir, "manifest.json", "aa-assist pack"],
    );

    // A real pack, then answers that are missing, empty or garbage.
    let p = Scratch::s(&s.profile);
    let d = Scratch::s(&s.pdir);
    let pack = Scratch::s(&s.path("pack"));
    let log = Scratch::s(&common::repo(LOG));
    let made = s.run(&args(&[
        "pack",
        "--log",
        &log,
        "--profile",
        &p,
        "-d",
        &d,
        "--out",
        &pack,
    ]));
    assert_eq!(made.status.code(), Some(0), "{made:?}");
    let answer = Scratch::s(&s.path("B1.txt"));
    let out = s.run(&args(&[
        "ingest",
        "--pack",
        &pack,
        &answer,
        "-d",
        &d,
        "--dry-run",
    ]));
    assert_error("ingest: missing answer", &out, &[&answer]);
    let empty = s.path("answers");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let empty = Scratch::s(&empty);
    let out = s.run(&args(&[
        "ingest",
        "--pack",
        &pack,
        &empty,
        "-d",
        &d,
        "--dry-run",
    ]));
    assert_error("ingest: no answer in the directory", &out, &[&empty]);
    std::fs::write(&answer, "Sorry, I cannot help with that.\n").expect("write");
    let out = s.run(&args(&[
        "ingest",
        "--pack",
        &pack,
        &answer,
        "-d",
        &d,
        "--dry-run",
    ]));
    let code = out.status.code();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{out:?}"
    );
    // A prose answer is the model's problem, reported as data, not the user's input error:
    // it is named, and nothing is written.
    assert!(matches!(code, Some(0..=2)), "{out:?}");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("B1"), "the answer's batch is named: {all}");
    assert!(all.contains("not JSON"), "and what is wrong with it: {all}");
    assert!(
        !all.contains("already covered"),
        "uncovered groups are not called covered: {all}"
    );
    assert!(all.contains("have no proposed rule"), "{all}");
    assert_eq!(std::fs::read(&s.profile).expect("read"), s.original);
}

#[test]
fn no_terminal_when_one_is_needed() {
    let s = Scratch::new();
    let p = Scratch::s(&s.profile);
    let d = Scratch::s(&s.pdir);
    let log = Scratch::s(&common::repo(LOG));
    // Asked to review and write, with no terminal to ask in.
    let out = s.run(&args(&["tune", &p, "-d", &d, "--log", &log]));
    assert_error(
        "tune without a terminal",
        &out,
        &["no terminal", "--dry-run"],
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("── P1 "),
        "the proposals are still shown: {shown}"
    );
    s.nothing_written("tune without a terminal");
    // The preview alone is not an error.
    let out = s.run(&args(&["tune", &p, "-d", &d, "--log", &log, "--dry-run"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    s.nothing_written("tune --dry-run");
}

#[test]
fn missing_universe_file() {
    let s = Scratch::new();
    let p = Scratch::s(&s.profile);
    let d = Scratch::s(&s.pdir);
    let log = Scratch::s(&common::repo(LOG));
    let u = Scratch::s(&s.path("no-such-universe"));
    let out = s.run(&args(&[
        "tune",
        &p,
        "-d",
        &d,
        "--log",
        &log,
        "--dry-run",
        "--universe",
        &u,
    ]));
    assert_error("tune --universe", &out, &[&u]);
    s.nothing_written("tune --universe");
}

/// `ingest` with a real pack and a usable answer: its `--profile`, and its terminal.
#[test]
fn ingest_profile_and_terminal() {
    let s = Scratch::new();
    let p = Scratch::s(&s.profile);
    let d = Scratch::s(&s.pdir);
    let pack = Scratch::s(&s.path("pack"));
    let log = Scratch::s(&common::repo(LOG));
    let made = s.run(&args(&[
        "pack",
        "--log",
        &log,
        "--profile",
        &p,
        "-d",
        &d,
        "--out",
        &pack,
    ]));
    assert_eq!(made.status.code(), Some(0), "{made:?}");
    let answer = s.path("B1.txt");
    std::fs::write(
        &answer,
        "```json\n{\"proposals\": [{\"profile\": \"exampled\", \"rule\": \"/etc/exampled/exampled.conf r,\", \"evidence\": [\"G1\"], \"rationale\": \"config\", \"risk\": \"low\"}], \"explanations\": []}\n```\n",
    )
    .expect("write");
    let answer = Scratch::s(&answer);
    let ingest = |extra: &[&str]| {
        let mut a = args(&["ingest", "--pack", &pack, &answer, "-d", &d]);
        a.extend(args(extra));
        s.run(&a)
    };
    // The preview works: the answer is usable.
    let out = ingest(&["--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    let missing = Scratch::s(&s.path("no-such-profile"));
    assert_error(
        "ingest --profile missing",
        &ingest(&["--profile", &missing, "--dry-run"]),
        &[&missing],
    );
    let dir = Scratch::s(&s.a_directory());
    assert_error(
        "ingest --profile directory",
        &ingest(&["--profile", &dir, "--dry-run"]),
        &[&dir, "is a directory"],
    );
    assert_error(
        "ingest without a terminal",
        &ingest(&[]),
        &["no terminal", "--dry-run"],
    );
    // The pack itself is left alone too.
    profile_and_state_untouched(&s);
}

/// Like [`Scratch::nothing_written`], for tests that made a pack on purpose.
fn profile_and_state_untouched(s: &Scratch) {
    assert_eq!(std::fs::read(&s.profile).expect("read"), s.original);
    assert!(
        !s.path("state/decisions.json").exists() && !s.path("state/backups").exists(),
        "no state written"
    );
}

/// Runs as root here and in CI. As root, a config file or prompt-template directory that
/// another user owns or anyone can write is refused (one error naming it and the override
/// flag; nothing written): that user would choose what root reads.
#[test]
fn untrusted_config_and_prompts_dir_as_root() {
    use std::os::unix::fs::PermissionsExt;
    if !aa_assist::fsguard::Policy::current().enforced() {
        eprintln!("notice: not running as root; the refusal is tested by fsguard's unit tests");
        return;
    }
    let s = Scratch::new();
    let log = Scratch::s(&common::repo(LOG));
    let config = s.path("config.toml");
    std::fs::write(&config, "[llm]\nmodel = \"m\"\n").expect("write");
    std::os::unix::fs::chown(&config, Some(65534), Some(65534)).expect("chown");
    let run = |extra: &[&str], config: &Path| {
        Command::new(common::bin())
            .args(["redact", &log])
            .args(extra)
            .env("AA_ASSIST_CONFIG", config)
            .env("AA_ASSIST_STATE_DIR", s.path("state"))
            .stdin(Stdio::null())
            .output()
            .expect("runs")
    };
    let cfg = Scratch::s(&config);
    assert_error(
        "config owned by nobody",
        &run(&[], &config),
        &[&cfg, "owned by another user", "--allow-untrusted-paths"],
    );
    let out = run(&["--allow-untrusted-paths"], &config);
    assert_eq!(out.status.code(), Some(0), "overridden: {out:?}");

    let prompts = s.path("prompts");
    std::fs::create_dir(&prompts).expect("mkdir");
    std::fs::set_permissions(&prompts, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let none = s.path("no-config.toml");
    let p = Scratch::s(&prompts);
    assert_error(
        "world-writable prompts dir",
        &run(&["--prompts-dir", &p], &none),
        &[&p, "writable by everyone", "--allow-untrusted-paths"],
    );
    let out = Command::new(common::bin())
        .args(["pack", "--log", &log, "--out"])
        .arg(s.path("pack"))
        .args(["--prompts-dir", &p])
        .env("AA_ASSIST_CONFIG", &none)
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert_error("pack with a world-writable prompts dir", &out, &[&p]);
    s.nothing_written("untrusted prompts dir");
}
