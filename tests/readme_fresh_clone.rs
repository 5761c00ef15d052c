//! The README's promise to a newcomer, on a fresh clone: its main command (extracted from
//! README.md by `scripts/readme-commands.sh`, the same extraction `.ci/run` uses) works from
//! the clone's working directory with no AppArmor, no API key and no state, and writes
//! nothing. The main command is `cargo run -- ARGS`; here ARGS go to the binary this suite
//! already built, so the suite never runs cargo (or itself) recursively. The README's test
//! command is only checked for its shape: `.ci/run` runs it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("git {args:?}: {e}"))
}

/// A fresh clone of the repository's HEAD commit, or `None` (after a notice) when this is not
/// a git checkout or git is missing; under `CI=true` either is a failure.
fn fresh_clone(into: &Path) -> Option<PathBuf> {
    let root = common::repo("");
    let have_git = Command::new("git").arg("--version").output().is_ok();
    if !root.join(".git").exists() || !have_git {
        let why = if have_git {
            "not a git checkout"
        } else {
            "git is not installed"
        };
        assert!(!common::in_ci(), "{why}: CI must run the fresh-clone test");
        eprintln!("notice: {why}; skipping the fresh-clone test");
        return None;
    }
    let head = git(&root, &["rev-parse", "HEAD"]);
    assert!(head.status.success(), "{head:?}");
    let head = String::from_utf8(head.stdout)
        .expect("utf-8")
        .trim()
        .to_string();
    let clone = into.join("clone");
    let out = Command::new("git")
        .args(["clone", "--quiet", "--no-checkout"])
        .arg(&root)
        .arg(&clone)
        .output()
        .expect("git clone");
    assert!(out.status.success(), "git clone: {out:?}");
    let out = git(
        &clone,
        &[
            "-c",
            "advice.detachedHead=false",
            "checkout",
            "--quiet",
            &head,
        ],
    );
    assert!(out.status.success(), "git checkout {head}: {out:?}");
    Some(clone)
}

/// `scripts/readme-commands.sh ARGS` run inside `clone`, its stdout trimmed.
fn readme_commands(clone: &Path, args: &[&str]) -> String {
    let out = Command::new("bash")
        .arg(clone.join("scripts/readme-commands.sh"))
        .args(args)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "readme-commands.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

#[test]
fn readme_main_command_works_on_a_fresh_clone() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(clone) = fresh_clone(tmp.path()) else {
        return;
    };
    let main = readme_commands(&clone, &["print", "main"]);
    let args = main
        .strip_prefix("cargo run -- ")
        .unwrap_or_else(|| panic!("the README's main command runs the binary: {main}"));
    assert!(
        !args.contains(['"', '\'', '$', '`', '*']),
        "plain words only, so they split on whitespace here as the shell splits them: {main}"
    );
    let args: Vec<&str> = args.split_whitespace().collect();
    let ok: Vec<i32> = readme_commands(&clone, &["ok-exit", "main"])
        .split(',')
        .map(|c| c.parse().expect("exit code"))
        .collect();

    let out = Command::new(common::bin())
        .current_dir(&clone)
        .args(&args)
        .env("AA_ASSIST_STATE_DIR", tmp.path().join("state"))
        .env("AA_ASSIST_CONFIG", tmp.path().join("no-config.toml"))
        .env("AA_ASSIST_APPARMOR_PARSER", "/nonexistent/apparmor_parser")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().expect("exit code");
    assert!(
        ok.contains(&code),
        "`{main}` in a fresh clone exited {code} (ok: {ok:?})\n{stdout}\n{stderr}"
    );
    // The bundled example has proposals: the newcomer sees them, with their evidence.
    assert!(stdout.contains("── P1 "), "{stdout}\n{stderr}");
    assert!(stdout.contains("help: add `"), "{stdout}");
    assert!(stdout.contains("evidence:"), "{stdout}");
    assert!(stdout.contains("nothing written"), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Nothing in the clone changed: no profile written, no file left behind.
    let status = git(&clone, &["status", "--porcelain", "--untracked-files=all"]);
    assert!(status.status.success(), "{status:?}");
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        "",
        "the main command wrote into the clone"
    );
}

#[test]
fn readme_test_command_is_the_locked_test_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(clone) = fresh_clone(tmp.path()) else {
        return;
    };
    let test = readme_commands(&clone, &["print", "test"]);
    assert!(test.starts_with("cargo test"), "{test}");
    assert!(
        test.contains("--locked"),
        "a fresh clone tests the committed lock file: {test}"
    );
    let names = readme_commands(&clone, &["list"]);
    assert_eq!(names.lines().collect::<Vec<_>>(), ["main", "test"]);
}
