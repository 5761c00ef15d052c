//! Validation of a whole new profile with the real `apparmor_parser -QK` (Debian's
//! `apparmor` package), before anything is written.
//!
//! The text is fed on standard input, with the profile's directory as working directory and
//! first on the include path (`-I`), then any extra include directories; the parser's own
//! base (`/etc/apparmor.d`) stays last. Files that will change alongside the profile (a
//! `local/` override) are laid out in a temporary overlay directory searched before
//! everything else, so the parser sees them as they will be. `-Q` skips loading into the
//! kernel and `-K` the cache: nothing on the system changes. The parser of AppArmor 3 does
//! not know AppArmor 4 syntax; its rejection is reported as is.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Environment variable naming the parser binary to use instead of searching `PATH`,
/// `/usr/sbin` and `/sbin` (tests use it to simulate a machine without AppArmor).
pub const PARSER_ENV: &str = "AA_ASSIST_APPARMOR_PARSER";

/// Why validation did not pass.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// No `apparmor_parser` on this machine.
    #[error(
        "apparmor_parser was not found (install Debian's `apparmor` package), so the new \
         profile cannot be validated; pass --no-parser-check to write it unvalidated"
    )]
    ParserMissing,
    /// The parser could not be run.
    #[error("running {}: {source}", parser.display())]
    Run {
        /// The parser binary.
        parser: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The parser rejected the policy.
    #[error("apparmor_parser rejected the new profile:\n{message}")]
    Rejected {
        /// The parser's own messages (cache notices removed).
        message: String,
    },
}

/// Find `apparmor_parser`: `$AA_ASSIST_APPARMOR_PARSER`, else `PATH`, `/usr/sbin`, `/sbin`.
pub fn find_parser() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(PARSER_ENV) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join("apparmor_parser"))
        .find(|p| p.is_file())
}

/// A file to present to the parser in place of (or beside) the one on disk.
#[derive(Debug, Clone)]
pub struct Overlay {
    /// Path relative to an include directory, e.g. `local/usr.sbin.foo`.
    pub relative: PathBuf,
    /// Its content as it will be written.
    pub content: String,
}

/// Validate `text`, the new content of the profile file at `profile_path`.
pub fn validate(
    parser: &Path,
    profile_path: &Path,
    text: &str,
    include_dirs: &[PathBuf],
    overlays: &[Overlay],
) -> Result<(), ValidateError> {
    let profile_dir = profile_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let overlay_dir = tempfile::tempdir().map_err(|source| ValidateError::Run {
        parser: parser.to_path_buf(),
        source,
    })?;
    for o in overlays {
        let p = overlay_dir.path().join(&o.relative);
        let written = match p.parent() {
            Some(parent) => std::fs::create_dir_all(parent),
            None => Ok(()),
        }
        .and_then(|()| std::fs::write(&p, &o.content));
        written.map_err(|source| ValidateError::Run {
            parser: parser.to_path_buf(),
            source,
        })?;
    }
    let mut cmd = Command::new(parser);
    cmd.arg("-QK");
    if !overlays.is_empty() {
        cmd.arg("-I").arg(overlay_dir.path());
    }
    cmd.arg("-I").arg(profile_dir);
    for d in include_dirs {
        cmd.arg("-I").arg(d);
    }
    cmd.current_dir(profile_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let run = |source| ValidateError::Run {
        parser: parser.to_path_buf(),
        source,
    };
    let mut child = cmd.spawn().map_err(run)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A parser that stops reading early reports its error on stderr; a broken pipe here
        // adds nothing to that.
        let _ = stdin.write_all(text.as_bytes());
    }
    let out = child.wait_with_output().map_err(run)?;
    if out.status.success() {
        return Ok(());
    }
    let mut message: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .chain(String::from_utf8_lossy(&out.stdout).lines())
        .filter(|l| !l.starts_with("Cache read/write disabled") && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    if message.is_empty() {
        message.push(format!("exited with {}", out.status));
    }
    Err(ValidateError::Rejected {
        message: message.join("\n"),
    })
}

/// Where Debian's `apparmor` package installs the ABI files its parser ships.
pub const ABI_DIR: &str = "/etc/apparmor.d/abi";

/// What to do about a rejection the parser gave, when it is a known case: an `abi <abi/X>,`
/// line naming an ABI the installed parser does not ship (`Could not open 'abi/4.0'`).
/// `abi_dir` is where the shipped ABI files are listed from ([`ABI_DIR`]).
pub fn hint(message: &str, abi_dir: &Path) -> Option<String> {
    let abi = message.split("Could not open '").skip(1).find_map(|rest| {
        let name = rest.split('\'').next()?;
        name.starts_with("abi/").then_some(name)
    })?;
    let mut shipped: Vec<String> = std::fs::read_dir(abi_dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().is_file())
                .map(|e| format!("abi/{}", e.file_name().to_string_lossy()))
                .collect()
        })
        .unwrap_or_default();
    shipped.sort();
    let instead = match shipped.first() {
        Some(_) => format!(
            "change the profile's `abi <{abi}>,` line to one this parser ships ({} in {})",
            shipped.join(", "),
            abi_dir.display()
        ),
        None => format!(
            "remove or change the profile's `abi <{abi}>,` line (no ABI file found in {})",
            abi_dir.display()
        ),
    };
    Some(format!(
        "hint: the installed apparmor_parser does not ship {abi}. Either pass -I DIR, where \
         DIR/{abi} exists (for example from the AppArmor release that has it), or {instead}."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_good_and_rejects_bad_policy() {
        let Some(parser) = find_parser() else {
            eprintln!("notice: apparmor_parser not installed; skipping");
            return;
        };
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("usr.sbin.x");
        let good =
            "profile x /usr/sbin/x {\n  /etc/x r,\n  include if exists <local/usr.sbin.x>\n}\n";
        validate(&parser, &p, good, &[], &[]).expect("valid");
        let bad = "profile x /usr/sbin/x {\n  /etc/x rz,\n}\n";
        let e = validate(&parser, &p, bad, &[], &[]).expect_err("invalid");
        assert!(e.to_string().contains("line 2"), "{e}");
        let overlay = Overlay {
            relative: PathBuf::from("local/usr.sbin.x"),
            content: "/etc/y rz,\n".into(),
        };
        let e = validate(&parser, &p, good, &[], &[overlay]).expect_err("overlay is seen");
        assert!(matches!(e, ValidateError::Rejected { .. }), "{e}");
    }

    #[test]
    fn a_missing_abi_gets_a_hint_naming_the_shipped_ones() {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::write(d.path().join("3.0"), "").expect("write");
        std::fs::write(d.path().join("kernel-5.4-vanilla"), "").expect("write");
        let msg =
            "AppArmor parser error at line 6: Could not open 'abi/4.0': No such file or directory";
        let h = hint(msg, d.path()).expect("a hint");
        assert!(h.contains("does not ship abi/4.0"), "{h}");
        assert!(h.contains("-I DIR"), "{h}");
        assert!(h.contains("abi/3.0, abi/kernel-5.4-vanilla"), "{h}");
        assert!(h.contains("`abi <abi/4.0>,`"), "{h}");
        let other = "AppArmor parser error at line 2: Could not open 'tunables/global'";
        assert_eq!(hint(other, d.path()), None);
        assert_eq!(hint("syntax error", d.path()), None);
    }
}
