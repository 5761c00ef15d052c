//! `-d DIR` / `-I DIR` are one set of flags for every command that reads a profile, and the
//! profile directory follows the documented precedence: flag, then `AA_ASSIST_PROFILE_DIR`,
//! then `profile_dir` in the config file, then `/etc/apparmor.d`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

const LOG: &str = "examples/pidcache/audit.log";

fn run(config: &Path, env_dir: Option<&Path>, args: &[&str]) -> Output {
    let state = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(common::bin());
    cmd.current_dir(common::repo(""))
        .args(args)
        .env("AA_ASSIST_CONFIG", config)
        .env("AA_ASSIST_STATE_DIR", state.path())
        .env_remove("AA_ASSIST_PROFILE_DIR")
        .stdin(std::process::Stdio::null());
    if let Some(d) = env_dir {
        cmd.env("AA_ASSIST_PROFILE_DIR", d);
    }
    cmd.output().expect("binary runs")
}

#[test]
fn flag_beats_environment_beats_config() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let examples = common::repo("examples/pidcache/profile");
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let config = tmp.path().join("config.toml");
    std::fs::write(
        &config,
        format!("profile_dir = {:?}\n", examples.to_str().expect("utf-8")),
    )
    .expect("write");

    // The config's profile_dir finds the profile by name, for every command reading one.
    let by_name: [&[&str]; 4] = [
        &["tune", "exampled", "--log", LOG, "--dry-run"],
        &["review", "usr.sbin.exampled"],
        &["pack", "--log", LOG, "--profile", "exampled", "--out"],
        &["status", "exampled", "--log", LOG],
    ];
    for args in by_name {
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if args[0] == "pack" {
            args.push(tmp.path().join("pack").to_string_lossy().into_owned());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&config, None, &args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?} with profile_dir from the config: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // The environment beats the config: the profile is not in the empty directory.
    let out = run(
        &config,
        Some(&empty),
        &["tune", "exampled", "--log", LOG, "--dry-run"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(empty.to_str().expect("utf-8")), "{err}");

    // The flag beats both.
    let out = run(
        &config,
        Some(&empty),
        &[
            "tune",
            "exampled",
            "--log",
            LOG,
            "--dry-run",
            "-d",
            "examples/pidcache/profile",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn include_dir_is_one_flag_everywhere() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = tmp.path().join("none.toml");
    let d = "tests/data/check";
    let p = "tests/data/check/usr.bin.demo";
    let log = "tests/data/check/audit.log";
    // `--include-dir` (check's old spelling) and `--include` both work for every command.
    for flag in ["--include", "--include-dir", "-I"] {
        let runs: [&[&str]; 4] = [
            &["check", p, "-d", d, flag, d, "--log", log],
            &["explain", log, "-p", p, "-d", d, flag, d],
            &["review", p, "-d", d, flag, d],
            &["tune", p, "-d", d, flag, d, "--log", log, "--json"],
        ];
        for args in runs {
            let out = run(&config, None, args);
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
