//! The atomic write of a profile (or `local/` override) file, with a backup of the original.
//!
//! The new bytes go to a temporary file in the same directory (named `.NAME.aa-assist.*`, a
//! dot-file, which `apparmor_parser` skips when it loads a directory). It is created through
//! a descriptor of the directory with `O_CREAT|O_EXCL|O_NOFOLLOW` and mode 0600, given the
//! original's owner and permission bits through its own descriptor (`fchown`, `fchmod`; never
//! set-uid, set-gid or sticky), flushed with `fsync`, checked to still be the file created
//! (not swapped for a link or another file), then renamed over the original; finally the
//! directory is `fsync`ed so the rename itself is durable. A crash or error at any point
//! before the rename leaves the original untouched; after it, the new file is complete.
//!
//! Just before the rename the original can be compared with what the caller based the new
//! text on ([`WriteOptions::expected`]): a change made by someone else in between is never
//! silently overwritten ([`WriteError::Changed`]). With [`WriteOptions::trust`], the file,
//! its directory, each directory above and the backup directory are checked first
//! ([`crate::fsguard`]).
//!
//! The backup of the original goes to the state directory
//! (`$AA_ASSIST_STATE_DIR`/`$XDG_STATE_HOME/aa-assist/backups/NAME.UNIXTIME`), never beside
//! the profile: a copy inside `/etc/apparmor.d` would be loaded as a second definition of the
//! same profile at boot. A symlinked profile is followed: the link's target is replaced and
//! the link is kept.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rustix::fs::{AtFlags, Mode, OFlags};
use sha2::{Digest, Sha256};

use crate::fsguard::{Policy, Untrusted, Usage};

/// What went wrong writing a file; names the file and the step.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A step failed.
    #[error("{step} {}: {source}", path.display())]
    Io {
        /// Which step failed, e.g. `creating a temporary file in`.
        step: &'static str,
        /// The file the step was about.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file changed since the caller read it ([`WriteOptions::expected`]); nothing was
    /// written.
    #[error(
        "{} was changed by someone else since it was read; nothing was written",
        path.display()
    )]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// The file, a directory above it or the backup directory failed the ownership and
    /// permission check; nothing was written.
    #[error(transparent)]
    Untrusted(#[from] Untrusted),
}

impl WriteError {
    /// The step that failed, for [`WriteError::Io`].
    pub fn step(&self) -> Option<&'static str> {
        match self {
            WriteError::Io { step, .. } => Some(step),
            _ => None,
        }
    }
}

fn err<'p>(step: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> WriteError + 'p {
    move |source| WriteError::Io {
        step,
        path: path.to_path_buf(),
        source,
    }
}

/// Hook called with the temporary file's path after it is complete and synced, just before
/// the rename. Returning an error aborts the write (the temporary file is removed). Used to
/// prove that an interruption at that point leaves the original intact.
pub type BeforeRename<'a> = &'a mut dyn FnMut(&Path) -> io::Result<()>;

/// What the file held when the caller read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// It did not exist.
    Absent,
    /// Its bytes had this SHA-256.
    Sha256([u8; 32]),
}

impl Expected {
    /// The expectation for a file whose bytes were `bytes`.
    pub fn content(bytes: &[u8]) -> Expected {
        Expected::Sha256(Sha256::digest(bytes).into())
    }
}

/// Options for [`atomic_write_with`].
#[derive(Default)]
pub struct WriteOptions<'a> {
    /// Copy the original (if any) into this directory before replacing it.
    pub backup_dir: Option<PathBuf>,
    /// Failure-injection point between the fsync of the temporary file and the rename.
    pub before_rename: Option<BeforeRename<'a>>,
    /// Refuse to replace the file unless it still holds this (checked just before the rename).
    pub expected: Option<Expected>,
    /// Check the file, its directories and the backup directory with this policy first.
    pub trust: Option<Policy>,
}

/// What [`atomic_write_with`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file that now holds the new bytes (a symlink's target when the path was a link).
    pub path: PathBuf,
    /// Where the original was copied, when there was one and a backup was asked for.
    pub backup: Option<PathBuf>,
}

/// Replace `path` with `bytes` atomically, with no backup. See the module doc.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<Written, WriteError> {
    atomic_write_with(path, bytes, WriteOptions::default())
}

/// Replace `path` with `bytes` atomically, keeping its owner and permission bits (without
/// set-uid, set-gid and sticky), optionally backing up the original first. A file that does
/// not exist yet is created with mode 0644.
pub fn atomic_write_with(
    path: &Path,
    bytes: &[u8],
    opts: WriteOptions<'_>,
) -> Result<Written, WriteError> {
    if let Some(policy) = &opts.trust {
        policy.check(path, Usage::Write)?;
        if let Some(b) = &opts.backup_dir {
            policy.check(b, Usage::Write)?;
        }
    }
    let path = match fs::canonicalize(path) {
        Ok(p) => p,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(err("resolving", path)(e)),
    };
    let name = path.file_name().map(|n| n.to_os_string()).ok_or_else(|| {
        err("writing", &path)(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a file path",
        ))
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = fs::canonicalize(&dir).map_err(err("resolving", &dir))?;
    let path = dir.join(&name);
    let dir_fd: OwnedFd = rustix::fs::open(
        &dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
    )
    .map_err(|e| err("opening the directory", &dir)(e.into()))?;
    let original = match rustix::fs::statat(&dir_fd, name.as_os_str(), AtFlags::empty()) {
        Ok(st) => Some(st),
        Err(rustix::io::Errno::NOENT) => None,
        Err(e) => return Err(err("reading the metadata of", &path)(e.into())),
    };

    let backup = match (&opts.backup_dir, &original) {
        (Some(bdir), Some(_)) => Some(backup(&path, &name.to_string_lossy(), bdir)?),
        _ => None,
    };

    let (tmp_name, file) = create_temp(&dir_fd, &dir, &name.to_string_lossy())?;
    let tmp_path = dir.join(&tmp_name);
    let result = (|| {
        fill(
            &file,
            bytes,
            original
                .as_ref()
                .map(|st| (st.st_uid, st.st_gid, st.st_mode)),
            &tmp_path,
        )?;
        if let Some(hook) = opts.before_rename {
            hook(&tmp_path).map_err(err("before renaming over", &path))?;
        }
        still_ours(&dir_fd, &tmp_name, &file, &tmp_path)?;
        if let Some(expected) = &opts.expected {
            if current(&dir_fd, name.as_os_str(), &path)? != *expected {
                return Err(WriteError::Changed { path: path.clone() });
            }
        }
        rustix::fs::renameat(&dir_fd, tmp_name.as_str(), &dir_fd, name.as_os_str())
            .map_err(|e| err("renaming the temporary file over", &path)(e.into()))
    })();
    if let Err(e) = result {
        let _ = rustix::fs::unlinkat(&dir_fd, tmp_name.as_str(), AtFlags::empty());
        return Err(e);
    }
    rustix::fs::fsync(&dir_fd).map_err(|e| err("syncing the directory", &dir)(e.into()))?;
    Ok(Written { path, backup })
}

/// Create `.NAME.aa-assist.RANDOM.tmp` in the directory: exclusive, not through a link,
/// mode 0600 until it is complete.
fn create_temp(dir_fd: &OwnedFd, dir: &Path, name: &str) -> Result<(String, File), WriteError> {
    use std::hash::{BuildHasher, Hasher};
    let mut last = None;
    for _ in 0..100 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let tmp_name = format!(".{name}.aa-assist.{:016x}.tmp", h.finish());
        match rustix::fs::openat(
            dir_fd,
            tmp_name.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        ) {
            Ok(fd) => return Ok((tmp_name, File::from(fd))),
            Err(rustix::io::Errno::EXIST) => last = Some(rustix::io::Errno::EXIST),
            Err(e) => return Err(err("creating a temporary file in", dir)(e.into())),
        }
    }
    Err(err("creating a temporary file in", dir)(last.map_or_else(
        || io::Error::other("no free name"),
        io::Error::from,
    )))
}

/// Write the bytes, give the original's owner and permission bits (by descriptor, without
/// set-uid, set-gid and sticky), and sync.
fn fill(
    file: &File,
    bytes: &[u8],
    original: Option<(u32, u32, u32)>,
    tmp_path: &Path,
) -> Result<(), WriteError> {
    let mut f = file;
    f.write_all(bytes)
        .map_err(err("writing the temporary file", tmp_path))?;
    let mode = original.map_or(0o644, |(_, _, m)| m & 0o777);
    if let Some((uid, gid, _)) = original {
        let own = rustix::fs::fstat(file)
            .map_err(|e| err("reading the metadata of", tmp_path)(e.into()))?;
        if own.st_uid != uid || own.st_gid != gid {
            rustix::fs::fchown(
                file,
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
            )
            .map_err(|e| err("keeping the owner in", tmp_path)(e.into()))?;
        }
    }
    rustix::fs::fchmod(file, Mode::from_raw_mode(mode))
        .map_err(|e| err("setting the mode of", tmp_path)(e.into()))?;
    file.sync_all()
        .map_err(err("syncing the temporary file", tmp_path))
}

/// The name still refers to the file this process created (not a link or another file put
/// there by whoever can write the directory).
fn still_ours(
    dir_fd: &OwnedFd,
    tmp_name: &str,
    file: &File,
    tmp_path: &Path,
) -> Result<(), WriteError> {
    let ours = rustix::fs::fstat(file.as_fd())
        .map_err(|e| err("reading the metadata of", tmp_path)(e.into()))?;
    let there = rustix::fs::statat(dir_fd, tmp_name, AtFlags::SYMLINK_NOFOLLOW);
    match there {
        Ok(st) if st.st_dev == ours.st_dev && st.st_ino == ours.st_ino => Ok(()),
        Ok(_) | Err(_) => Err(err("checking the temporary file", tmp_path)(
            io::Error::other(
                "it was replaced by something else (does another user control this directory?)",
            ),
        )),
    }
}

/// What the file holds now, read through the directory descriptor.
fn current(dir_fd: &OwnedFd, name: &std::ffi::OsStr, path: &Path) -> Result<Expected, WriteError> {
    match rustix::fs::openat(
        dir_fd,
        name,
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => {
            let mut bytes = Vec::new();
            File::from(fd)
                .read_to_end(&mut bytes)
                .map_err(err("reading", path))?;
            Ok(Expected::content(&bytes))
        }
        Err(rustix::io::Errno::NOENT) => Ok(Expected::Absent),
        Err(e) => Err(err("reading", path)(e.into())),
    }
}

/// Copy `path` to `dir/NAME.UNIXTIME` (then `.1`, `.2`, … if taken), synced, mode 0600.
fn backup(path: &Path, name: &str, dir: &Path) -> Result<PathBuf, WriteError> {
    let bytes = fs::read(path).map_err(err("reading", path))?;
    save_aside(dir, name, &bytes)
}

/// Write `bytes` to a new file `dir/NAME.UNIXTIME` (then `.1`, `.2`, … if taken), created
/// exclusively and never through a symlink, mode 0600, synced; `dir` is created (0700) if
/// needed. For backups, and for approved rules that could not be written.
pub fn save_aside(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, WriteError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(err("creating the directory", dir))?;
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for n in 0..1000 {
        let file = if n == 0 {
            format!("{name}.{secs}")
        } else {
            format!("{name}.{secs}.{n}")
        };
        let target = dir.join(file);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(OFlags::NOFOLLOW.bits() as i32)
            .open(&target)
        {
            Ok(mut f) => {
                f.write_all(bytes)
                    .and_then(|()| f.sync_all())
                    .map_err(err("writing", &target))?;
                return Ok(target);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(err("creating", &target)(e)),
        }
    }
    Err(err("creating a file in", dir)(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "too many files this second",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_keeps_mode_and_backs_up() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("usr.sbin.x");
        fs::write(&p, "old\n").expect("write");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).expect("chmod");
        let w = atomic_write_with(
            &p,
            b"new\n",
            WriteOptions {
                backup_dir: Some(d.path().join("backups")),
                ..WriteOptions::default()
            },
        )
        .expect("write");
        assert_eq!(fs::read_to_string(&p).expect("read"), "new\n");
        assert_eq!(
            fs::metadata(&p).expect("meta").permissions().mode() & 0o7777,
            0o640
        );
        let b = w.backup.expect("backup");
        assert_eq!(fs::read_to_string(b).expect("read"), "old\n");
        let leftovers: Vec<_> = fs::read_dir(d.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn creates_a_missing_file() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("new");
        let w = atomic_write(&p, b"x").expect("write");
        assert_eq!(w.backup, None);
        assert_eq!(fs::read(&p).expect("read"), b"x");
    }

    #[test]
    fn follows_a_symlink_and_keeps_it() {
        let d = tempfile::tempdir().expect("tempdir");
        let target = d.path().join("real");
        let link = d.path().join("link");
        fs::write(&target, "old").expect("write");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        atomic_write(&link, b"new").expect("write");
        assert!(fs::symlink_metadata(&link)
            .expect("meta")
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&target).expect("read"), "new");
    }
}
