//! The atomic write of a profile (or `local/` override) file, with a backup of the original.
//!
//! The new bytes go to a temporary file in the same directory (named `.NAME.aa-assist.*`, a
//! dot-file, which `apparmor_parser` skips when it loads a directory), which is given the
//! original's mode and owner, flushed with `fsync`, then renamed over the original; finally
//! the directory is `fsync`ed so the rename itself is durable. A crash or error at any point
//! before the rename leaves the original untouched; after it, the new file is complete.
//!
//! The backup of the original goes to the state directory
//! (`$AA_ASSIST_STATE_DIR`/`$XDG_STATE_HOME/aa-assist/backups/NAME.UNIXTIME`), never beside
//! the profile: a copy inside `/etc/apparmor.d` would be loaded as a second definition of the
//! same profile at boot. A symlinked profile is followed: the link's target is replaced and
//! the link is kept.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// What went wrong writing a file; names the file and the step.
#[derive(Debug, thiserror::Error)]
#[error("{step} {}: {source}", path.display())]
pub struct WriteError {
    /// Which step failed, e.g. `creating a temporary file beside`.
    pub step: &'static str,
    /// The file the step was about.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: io::Error,
}

fn err<'p>(step: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> WriteError + 'p {
    move |source| WriteError {
        step,
        path: path.to_path_buf(),
        source,
    }
}

/// Hook called with the temporary file's path after it is complete and synced, just before
/// the rename. Returning an error aborts the write (the temporary file is removed). Used to
/// prove that an interruption at that point leaves the original intact.
pub type BeforeRename<'a> = &'a mut dyn FnMut(&Path) -> io::Result<()>;

/// Options for [`atomic_write_with`].
#[derive(Default)]
pub struct WriteOptions<'a> {
    /// Copy the original (if any) into this directory before replacing it.
    pub backup_dir: Option<PathBuf>,
    /// Failure-injection point between the fsync of the temporary file and the rename.
    pub before_rename: Option<BeforeRename<'a>>,
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

/// Replace `path` with `bytes` atomically, keeping its mode and owner, optionally backing up
/// the original first. A file that does not exist yet is created with mode 0644.
pub fn atomic_write_with(
    path: &Path,
    bytes: &[u8],
    opts: WriteOptions<'_>,
) -> Result<Written, WriteError> {
    let path = match fs::canonicalize(path) {
        Ok(p) => p,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(err("resolving", path)(e)),
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            err("writing", &path)(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a file path",
            ))
        })?;
    let original = match fs::metadata(&path) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(err("reading the metadata of", &path)(e)),
    };

    let backup = match (&opts.backup_dir, &original) {
        (Some(bdir), Some(_)) => Some(backup(&path, &name, bdir)?),
        _ => None,
    };

    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.aa-assist."))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(err("creating a temporary file in", &dir))?;
    let tmp_path = tmp.path().to_path_buf();
    tmp.write_all(bytes)
        .map_err(err("writing the temporary file", &tmp_path))?;
    let mode = original.as_ref().map_or(0o644, |m| m.mode() & 0o7777);
    fs::set_permissions(&tmp_path, fs::Permissions::from_mode(mode))
        .map_err(err("setting the mode of", &tmp_path))?;
    if let Some(m) = &original {
        let own = tmp
            .as_file()
            .metadata()
            .map_err(err("reading the metadata of", &tmp_path))?;
        if own.uid() != m.uid() || own.gid() != m.gid() {
            std::os::unix::fs::fchown(tmp.as_file(), Some(m.uid()), Some(m.gid()))
                .map_err(err("keeping the owner of", &path))?;
        }
    }
    tmp.as_file()
        .sync_all()
        .map_err(err("syncing the temporary file", &tmp_path))?;
    if let Some(hook) = opts.before_rename {
        hook(&tmp_path).map_err(err("before renaming over", &path))?;
    }
    tmp.persist(&path)
        .map_err(|e| err("renaming the temporary file over", &path)(e.error))?;
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(err("syncing the directory", &dir))?;
    Ok(Written { path, backup })
}

/// Copy `path` to `dir/NAME.UNIXTIME` (then `.1`, `.2`, … if taken), synced, mode 0600.
fn backup(path: &Path, name: &str, dir: &Path) -> Result<PathBuf, WriteError> {
    fs::create_dir_all(dir).map_err(err("creating the backup directory", dir))?;
    let bytes = fs::read(path).map_err(err("reading", path))?;
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
            .open(&target)
        {
            Ok(mut f) => {
                f.write_all(&bytes)
                    .and_then(|()| f.sync_all())
                    .map_err(err("writing the backup", &target))?;
                return Ok(target);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(err("creating the backup", &target)(e)),
        }
    }
    Err(err("creating a backup in", dir)(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "too many backups this second",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

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
                before_rename: None,
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
