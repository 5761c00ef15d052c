//! The generated documentation commands: completions and the man page.

mod common;

use std::process::Command;

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Command::new(common::bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("aa-assist"), "{shell}");
        assert!(text.contains("completions"), "{shell} lists subcommands");
    }
}

#[test]
fn man_page_documents_subcommands() {
    let out = Command::new(common::bin()).arg("man").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(".ie") || text.contains(".TH aa-assist"),
        "{text}"
    );
    assert!(text.contains("aa\\-assist\\-debug") || text.contains("aa-assist-debug"));
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let out = Command::new(common::bin())
        .args(["completions", "cmd.exe"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn closed_stdout_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    let profile = common::repo("examples/webserver/profile/usr.sbin.examplehttpd");
    let dir = common::repo("examples/webserver/profile");
    let runs: [(&[&str], i32); 2] = [
        (&["man"], 0),
        // JSON goes through serde_json, whose error wraps the broken pipe.
        (&["review", "--json", "-d"], 1),
    ];
    for (args, want) in runs {
        let mut cmd = Command::new(common::bin());
        cmd.args(args);
        if args[0] == "review" {
            cmd.arg(&dir).arg(&profile);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let status = child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
        // A closed pipe ends the output, not the command's verdict.
        assert!(
            status.code().is_some_and(|c| c == 0 || c == want),
            "{args:?}: {status:?} {err}"
        );
    }
}

/// Quitting the review has its own exit status, documented where the others are.
#[test]
fn tune_help_documents_every_exit_status() {
    let out = Command::new(common::bin())
        .args(["tune", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("Exit status: 0 "), "{text}");
    for code in [", 1 ", ", 2 ", ", 3 the review was quit"] {
        assert!(text.contains(code), "{code}: {text}");
    }
}
