//! Ownership and permission checks on the files and directories the tool writes into, or
//! reads state (decisions, configuration, prompt templates) from.
//!
//! Root writing into a directory another user controls can be made to write, chmod or
//! replace any file on the system (the other user swaps a file the tool is about to touch
//! for a symlink), and root reading state from such a place reads what that user chose. So
//! when the effective uid is 0, every path the tool relies on, and each directory above it,
//! must be owned by root and not writable by group or others, unless the run was started
//! with [`OVERRIDE_FLAG`]. One exception keeps `/tmp`-like places usable above the
//! directory that is actually used: a root-owned directory with the sticky bit (others may
//! add entries to it, but cannot rename or remove root's).
//!
//! [`Policy::check`] applies the rule only as root; [`Policy::inspect`] applies it always
//! (with "owned by root or by the invoking user"), for state that must be the user's own,
//! such as the decision memory.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The command-line flag that turns the checks off.
pub const OVERRIDE_FLAG: &str = "--allow-untrusted-paths";

static ALLOW_UNTRUSTED: AtomicBool = AtomicBool::new(false);

/// Turn the checks off (or on again) for the rest of the process: what [`Policy::current`]
/// reports. The binary sets it once from [`OVERRIDE_FLAG`].
pub fn set_allow_untrusted(allow: bool) {
    ALLOW_UNTRUSTED.store(allow, Ordering::Relaxed);
}

/// What the path is used for; named in the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// The tool writes the file, or writes files into the directory.
    Write,
    /// The tool reads state or settings from it.
    Read,
}

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Usage::Write => "write",
            Usage::Read => "read",
        })
    }
}

/// Why a path is not trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Owned by a user other than root and the invoking user.
    Owner,
    /// Writable by its group.
    GroupWritable,
    /// Writable by everyone.
    WorldWritable,
    /// Its owner and mode could not be read.
    Unreadable(String),
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Owner => f.write_str("is owned by another user"),
            Reason::GroupWritable => f.write_str("is writable by its group"),
            Reason::WorldWritable => f.write_str("is writable by everyone"),
            Reason::Unreadable(e) => write!(f, "cannot be inspected ({e})"),
        }
    }
}

/// A path the tool refuses to rely on: names the path asked about, the file or directory at
/// fault (the path itself or one of its ancestors), its owner and mode, the reason, and the
/// flag that overrides the check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refusing to {usage} {}: {} {reason} (owner uid {uid}, mode {mode:04o}), so another user \
     could replace what is read or written there; make it root's and not group- or \
     world-writable, or pass {OVERRIDE_FLAG}",
    path.display(),
    at_fault(path, offending)
)]
pub struct Untrusted {
    /// The path the tool was about to use.
    pub path: PathBuf,
    /// The file or directory that failed the check.
    pub offending: PathBuf,
    /// What the path was to be used for.
    pub usage: Usage,
    /// Owner of `offending`.
    pub uid: u32,
    /// Permission bits of `offending` (with set-uid, set-gid and sticky).
    pub mode: u32,
    /// What is wrong with it.
    pub reason: Reason,
}

fn at_fault(path: &Path, offending: &Path) -> String {
    if path == offending {
        "it".to_string()
    } else {
        offending.display().to_string()
    }
}

/// Who runs, and whether the checks were turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The effective uid of the process.
    pub euid: u32,
    /// [`OVERRIDE_FLAG`] was given.
    pub allow_untrusted: bool,
}

impl Policy {
    /// This process: its effective uid and the setting of [`set_allow_untrusted`].
    pub fn current() -> Policy {
        Policy {
            euid: rustix::process::geteuid().as_raw(),
            allow_untrusted: ALLOW_UNTRUSTED.load(Ordering::Relaxed),
        }
    }

    /// True when [`Policy::check`] checks anything: running as root, not overridden.
    pub fn enforced(&self) -> bool {
        self.euid == 0 && !self.allow_untrusted
    }

    /// As root (and unless overridden), refuse `path` when it, or any directory above it, is
    /// owned by another user or writable by group or others. A path that does not exist yet
    /// is judged by the nearest existing directory above it, where it would be created.
    pub fn check(&self, path: &Path, usage: Usage) -> Result<(), Untrusted> {
        if !self.enforced() {
            return Ok(());
        }
        self.inspect(path, usage)
    }

    /// [`Policy::check`] for a directory and every entry directly in it (prompt templates).
    pub fn check_dir_and_entries(&self, dir: &Path, usage: Usage) -> Result<(), Untrusted> {
        if !self.enforced() {
            return Ok(());
        }
        self.inspect(dir, usage)?;
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                self.inspect(&e.path(), usage)?;
            }
        }
        Ok(())
    }

    /// The check of [`Policy::check`], whoever runs: owned by root or by `euid`. Ignores
    /// `allow_untrusted`; callers decide what the flag does.
    pub fn inspect(&self, path: &Path, usage: Usage) -> Result<(), Untrusted> {
        let fail = |offending: &Path, uid: u32, mode: u32, reason: Reason| Untrusted {
            path: path.to_path_buf(),
            offending: offending.to_path_buf(),
            usage,
            uid,
            mode,
            reason,
        };
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| fail(path, 0, 0, Reason::Unreadable(e.to_string())))?
                .join(path)
        };
        // The nearest part of the path that exists.
        let mut existing = abs.as_path();
        let exists = loop {
            match std::fs::symlink_metadata(existing) {
                Ok(_) => break existing == abs.as_path(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => match existing.parent() {
                    Some(p) => existing = p,
                    None => return Ok(()),
                },
                Err(e) => return Err(fail(existing, 0, 0, Reason::Unreadable(e.to_string()))),
            }
        };
        // The directory entry itself lives in its parent: when the path is a symlink, the
        // directory holding the link matters as much as the link's target.
        let mut chains = Vec::new();
        if exists {
            if let Some(parent) = existing.parent() {
                chains.push((canonical(parent).map_err(|e| fail(parent, 0, 0, e))?, 1));
            }
        }
        chains.push((
            canonical(existing).map_err(|e| fail(existing, 0, 0, e))?,
            if exists { 2 } else { 1 },
        ));
        for (canon, strict) in chains {
            for (depth, p) in canon.ancestors().enumerate() {
                let m = std::fs::metadata(p)
                    .map_err(|e| fail(p, 0, 0, Reason::Unreadable(e.to_string())))?;
                let (uid, mode) = (m.uid(), m.mode() & 0o7777);
                if let Some(reason) = self.judge(uid, mode, depth >= strict) {
                    return Err(fail(p, uid, mode, reason));
                }
            }
        }
        Ok(())
    }

    /// The rule for one file or directory. `above` is true for directories above the ones
    /// actually used, where a root-owned sticky directory is accepted.
    fn judge(&self, uid: u32, mode: u32, above: bool) -> Option<Reason> {
        if uid != 0 && uid != self.euid {
            return Some(Reason::Owner);
        }
        let sticky_root = above && uid == 0 && mode & 0o1000 != 0;
        if mode & 0o002 != 0 && !sticky_root {
            return Some(Reason::WorldWritable);
        }
        if mode & 0o020 != 0 && !sticky_root {
            return Some(Reason::GroupWritable);
        }
        None
    }
}

fn canonical(p: &Path) -> Result<PathBuf, Reason> {
    std::fs::canonicalize(p).map_err(|e| Reason::Unreadable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn root() -> Policy {
        Policy {
            euid: 0,
            allow_untrusted: false,
        }
    }

    #[test]
    fn the_rule_for_one_entry() {
        let p = root();
        assert_eq!(p.judge(0, 0o755, false), None);
        assert_eq!(p.judge(1000, 0o755, false), Some(Reason::Owner));
        assert_eq!(p.judge(0, 0o775, false), Some(Reason::GroupWritable));
        assert_eq!(p.judge(0, 0o777, false), Some(Reason::WorldWritable));
        // /tmp: fine above the directory used, never as the directory used.
        assert_eq!(p.judge(0, 0o1777, true), None);
        assert_eq!(p.judge(0, 0o1777, false), Some(Reason::WorldWritable));
        assert_eq!(p.judge(1000, 0o1777, true), Some(Reason::Owner));
        let user = Policy {
            euid: 1000,
            allow_untrusted: false,
        };
        assert!(!user.enforced());
        assert_eq!(user.judge(1000, 0o700, false), None);
        assert_eq!(user.judge(0, 0o755, false), None);
        assert_eq!(user.judge(1001, 0o700, false), Some(Reason::Owner));
    }

    #[test]
    fn names_the_ancestor_at_fault_and_the_flag() {
        let d = tempfile::tempdir().expect("tempdir");
        let open = d.path().join("open");
        std::fs::create_dir(&open).expect("mkdir");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let target = open.join("sub/decisions.json");
        let e = root()
            .inspect(&target, Usage::Write)
            .expect_err("untrusted");
        assert_eq!(e.reason, Reason::WorldWritable);
        assert_eq!(e.offending, open.canonicalize().expect("canon"));
        let msg = e.to_string();
        assert!(
            msg.contains("decisions.json") && msg.contains(OVERRIDE_FLAG),
            "{msg}"
        );
        assert!(msg.contains("mode 0777"), "{msg}");
        // A private directory under the sticky /tmp is fine.
        let fine = d.path().join("file");
        std::fs::write(&fine, "x").expect("write");
        root().inspect(&fine, Usage::Read).expect("trusted");
        let overridden = Policy {
            allow_untrusted: true,
            ..root()
        };
        overridden.check(&target, Usage::Write).expect("overridden");
    }

    #[test]
    fn a_symlink_is_judged_by_its_directory_and_its_target() {
        let d = tempfile::tempdir().expect("tempdir");
        let open = d.path().join("open");
        std::fs::create_dir(&open).expect("mkdir");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let target = d.path().join("real");
        std::fs::write(&target, "x").expect("write");
        let link = open.join("link");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let e = root()
            .inspect(&link, Usage::Write)
            .expect_err("link in an open dir");
        assert_eq!(e.reason, Reason::WorldWritable);
        let link2 = d.path().join("link2");
        let victim = open.join("victim");
        std::fs::write(&victim, "x").expect("write");
        std::os::unix::fs::symlink(&victim, &link2).expect("symlink");
        let e = root()
            .inspect(&link2, Usage::Write)
            .expect_err("target in an open dir");
        assert_eq!(e.offending, open.canonicalize().expect("canon"));
    }
}
