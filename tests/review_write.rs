//! The atomic write: an interruption before the rename leaves the original intact.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;

use aa_assist::review::write::{atomic_write_with, WriteOptions};

const ORIGINAL: &str = "profile x /usr/sbin/x {\n  /etc/x r,\n}\n";

#[test]
fn interrupted_before_rename_leaves_original_intact() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("usr.sbin.x");
    fs::write(&p, ORIGINAL).expect("write");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).expect("chmod");
    let mut seen_tmp = None;
    let mut hook = |tmp: &std::path::Path| -> io::Result<()> {
        // The temporary file is complete at this point: the new bytes are all there.
        assert_eq!(fs::read_to_string(tmp)?, "new content\n");
        seen_tmp = Some(tmp.to_path_buf());
        Err(io::Error::other("simulated crash before rename"))
    };
    let err = atomic_write_with(
        &p,
        b"new content\n",
        WriteOptions {
            backup_dir: Some(d.path().join("state/backups")),
            before_rename: Some(&mut hook),
            ..WriteOptions::default()
        },
    )
    .expect_err("the hook fails the write");
    assert!(err.to_string().contains("simulated crash"), "{err}");
    assert_eq!(fs::read_to_string(&p).expect("read"), ORIGINAL);
    assert_eq!(
        fs::metadata(&p).expect("meta").permissions().mode() & 0o7777,
        0o600
    );
    let tmp = seen_tmp.expect("hook ran");
    assert!(!tmp.exists(), "temporary file is cleaned up");
    let names: Vec<String> = fs::read_dir(d.path())
        .expect("ls")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "only the profile and the state dir: {names:?}"
    );
}

#[test]
fn completed_write_replaces_and_backs_up() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("usr.sbin.x");
    fs::write(&p, ORIGINAL).expect("write");
    let w = atomic_write_with(
        &p,
        b"new content\n",
        WriteOptions {
            backup_dir: Some(d.path().join("state/backups")),
            ..WriteOptions::default()
        },
    )
    .expect("write");
    assert_eq!(fs::read_to_string(&p).expect("read"), "new content\n");
    let backup = w.backup.expect("a backup");
    assert!(backup.starts_with(d.path().join("state/backups")));
    assert_eq!(fs::read_to_string(backup).expect("read"), ORIGINAL);
}

/// The new file gets the original's permission bits, but never set-uid, set-gid or sticky:
/// a profile is data, and root copying those bits is how a file becomes `rwsrwsrwx`.
#[test]
fn special_mode_bits_are_never_copied() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("usr.sbin.x");
    fs::write(&p, ORIGINAL).expect("write");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o7755)).expect("chmod");
    atomic_write_with(&p, b"new\n", WriteOptions::default()).expect("write");
    assert_eq!(
        fs::metadata(&p).expect("meta").permissions().mode() & 0o7777,
        0o755
    );
}

/// Whoever owns the directory may swap the temporary file for a symlink between its
/// creation and the rename. The write notices, installs nothing, and leaves the link's
/// target alone (no chmod, no write through it).
#[test]
fn temporary_file_swapped_for_a_symlink_is_not_installed() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("usr.sbin.x");
    fs::write(&p, ORIGINAL).expect("write");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).expect("chmod");
    let victim = d.path().join("shadow");
    fs::write(&victim, "secret\n").expect("write");
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).expect("chmod");
    let mut swap = |tmp: &std::path::Path| -> io::Result<()> {
        fs::remove_file(tmp)?;
        std::os::unix::fs::symlink(&victim, tmp)
    };
    let err = atomic_write_with(
        &p,
        b"new content\n",
        WriteOptions {
            before_rename: Some(&mut swap),
            ..WriteOptions::default()
        },
    )
    .expect_err("a swapped temporary file is refused");
    assert!(err.to_string().contains("replaced"), "{err}");
    let meta = fs::symlink_metadata(&p).expect("meta");
    assert!(meta.file_type().is_file(), "the profile is not a link");
    assert_eq!(fs::read_to_string(&p).expect("read"), ORIGINAL);
    assert_eq!(fs::read_to_string(&victim).expect("read"), "secret\n");
    assert_eq!(
        fs::metadata(&victim).expect("meta").permissions().mode() & 0o7777,
        0o600
    );
}

/// Lost update: someone else changes the profile between the read the new text is based on
/// and the rename. Their change is kept and the write says so.
#[test]
fn a_change_made_since_the_read_is_not_overwritten() {
    use aa_assist::review::write::{Expected, WriteError};
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("usr.sbin.x");
    fs::write(&p, ORIGINAL).expect("write");
    let theirs = "profile x /usr/sbin/x {\n  /etc/x r,\n  /etc/theirs r,\n}\n";
    let mut edit = |_: &std::path::Path| fs::write(&p, theirs);
    let err = atomic_write_with(
        &p,
        b"ours\n",
        WriteOptions {
            before_rename: Some(&mut edit),
            expected: Some(Expected::content(ORIGINAL.as_bytes())),
            ..WriteOptions::default()
        },
    )
    .expect_err("changed since read");
    assert!(matches!(err, WriteError::Changed { .. }), "{err}");
    assert_eq!(fs::read_to_string(&p).expect("read"), theirs);
    // Unchanged: the write goes through; a file that appeared since is a change too.
    atomic_write_with(
        &p,
        b"ours\n",
        WriteOptions {
            expected: Some(Expected::content(theirs.as_bytes())),
            ..WriteOptions::default()
        },
    )
    .expect("unchanged");
    let fresh = d.path().join("local");
    fs::write(&fresh, "made meanwhile\n").expect("write");
    let err = atomic_write_with(
        &fresh,
        b"x\n",
        WriteOptions {
            expected: Some(Expected::Absent),
            ..WriteOptions::default()
        },
    )
    .expect_err("appeared since");
    assert!(err.to_string().contains("changed by someone else"), "{err}");
}

/// As root, a profile directory another user owns (or anyone can write) is refused before
/// anything is written, naming the directory and the override flag.
#[test]
fn untrusted_directory_is_refused_as_root() {
    let d = tempfile::tempdir().expect("tempdir");
    let dir = d.path().join("apparmor.d");
    fs::create_dir(&dir).expect("mkdir");
    let p = dir.join("usr.sbin.x");
    fs::write(&p, ORIGINAL).expect("write");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).expect("chmod");
    let root = aa_assist::fsguard::Policy {
        euid: 0,
        allow_untrusted: false,
    };
    let err = atomic_write_with(
        &p,
        b"new\n",
        WriteOptions {
            backup_dir: Some(d.path().join("backups")),
            trust: Some(root),
            ..WriteOptions::default()
        },
    )
    .expect_err("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("apparmor.d") && msg.contains("--allow-untrusted-paths"),
        "{msg}"
    );
    assert_eq!(fs::read_to_string(&p).expect("read"), ORIGINAL);
    assert!(!d.path().join("backups").exists(), "not even a backup");
}
