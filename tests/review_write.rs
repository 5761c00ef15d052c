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
            before_rename: None,
        },
    )
    .expect("write");
    assert_eq!(fs::read_to_string(&p).expect("read"), "new content\n");
    let backup = w.backup.expect("a backup");
    assert!(backup.starts_with(d.path().join("state/backups")));
    assert_eq!(fs::read_to_string(backup).expect("read"), ORIGINAL);
}
