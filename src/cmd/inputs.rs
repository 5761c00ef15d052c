//! Checks on the files a command is given, made before anything reads them, so that every bad
//! input gets one message naming the file, what is wrong with it and what to do. Also the one
//! place that turns an error chain into the line `main` prints.
//!
//! Owns only the wording of these messages. It does not read logs or profiles (the library
//! does, and reports parse errors with `file:line:col` itself), and a missing log keeps the
//! log engine's own message (which suggests `--journal`).

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use aa_assist::log::SourceSpec;
use anyhow::bail;

/// What the file is for, as the message names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A profile file.
    Profile,
    /// An audit log.
    Log,
    /// Any other input file, named by its flag (e.g. `--universe`).
    Other(&'static str),
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Profile => "profile",
            Kind::Log => "log",
            Kind::Other(flag) => flag,
        }
    }

    fn example(self, dir: &Path) -> String {
        match self {
            Kind::Profile => format!(
                "give the profile file (e.g. {}) and its directory with -d",
                dir.join("usr.sbin.NAME").display()
            ),
            Kind::Log => "give the log file itself (e.g. /var/log/audit/audit.log)".to_string(),
            Kind::Other(_) => "give a file".to_string(),
        }
    }
}

/// `path` must be a readable file (not a directory). A missing file is an error too, except
/// for logs, whose missing-file message comes from the log engine.
pub fn readable_file(kind: Kind, path: &Path) -> anyhow::Result<()> {
    let what = kind.name();
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => bail!(
            "{what} {shown} is a directory, not a file; {}",
            kind.example(path)
        ),
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound && kind == Kind::Log => return Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            bail!("{what} {shown}: no such file; check the path")
        }
        Err(e) => bail!("{what} {shown} cannot be read: {}", reason(&e)),
    }
    if let Err(e) = File::open(path) {
        bail!("{what} {shown} cannot be read: {}", reason(&e));
    }
    Ok(())
}

/// The reason in an I/O error, with what to do where there is something to do.
fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::PermissionDenied => {
            "permission denied; run as a user who may read it (e.g. with sudo)".to_string()
        }
        _ => strip_os_error(&e.to_string()),
    }
}

/// "No such file or directory (os error 2)" → "No such file or directory".
fn strip_os_error(s: &str) -> String {
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s.to_string(),
    }
}

/// Log arguments as sources (`-` is stdin), each file checked with [`readable_file`].
pub fn log_specs(logs: &[PathBuf]) -> anyhow::Result<Vec<SourceSpec>> {
    logs.iter()
        .map(|p| {
            let spec = SourceSpec::from_arg(p);
            if let SourceSpec::Path(path) = &spec {
                readable_file(Kind::Log, path)?;
            }
            Ok(spec)
        })
        .collect()
}

/// The error as one line: each cause of the chain once, joined with `: `. A cause whose text
/// its parent already ends with (errors that print their source and also return it from
/// `source()`) is not repeated.
pub fn error_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_printed_by_its_parent_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("{path}: {source}")]
        struct Inner {
            path: String,
            #[source]
            source: std::io::Error,
        }
        let io = std::io::Error::other("is a directory");
        let err = anyhow::Error::new(Inner {
            path: "/x".into(),
            source: io,
        })
        .context("reading /x");
        assert_eq!(error_line(&err), "reading /x: /x: is a directory");
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_line(&plain), "outer: inner");
    }

    #[test]
    fn directories_and_missing_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = readable_file(Kind::Profile, dir.path()).expect_err("a directory");
        let msg = e.to_string();
        assert!(msg.contains("is a directory, not a file"), "{msg}");
        assert!(msg.contains("-d"), "{msg}");
        let missing = dir.path().join("nope");
        let e = readable_file(Kind::Other("--universe"), &missing).expect_err("missing");
        assert!(e.to_string().starts_with("--universe "), "{e}");
        assert!(
            e.to_string().ends_with("no such file; check the path"),
            "{e}"
        );
        assert!(
            readable_file(Kind::Log, &missing).is_ok(),
            "the log engine says it"
        );
        assert_eq!(
            strip_os_error("Is a directory (os error 21)"),
            "Is a directory"
        );
    }
}
