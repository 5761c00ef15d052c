//! `aa-assist denials --follow`: a file appended to while the command runs shows new groups
//! and count updates live; truncation (as by logrotate's copytruncate) and rotation (a new
//! file under the same name) are followed. The command is killed after the assertions.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn line(n: u32, path: &str) -> String {
    format!(
        "type=AVC msg=audit(17000001{n:02}.000:{n}): apparmor=\"DENIED\" operation=\"open\" profile=\"svc\" name=\"{path}\" pid=11 comm=\"svc\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n"
    )
}

fn append(path: &std::path::Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.flush().unwrap();
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn expect(rx: &mpsc::Receiver<String>, want: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while std::time::Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            if l.contains(want) {
                return;
            }
            seen.push(l);
        }
    }
    panic!("no line with {want:?}; saw {seen:#?}");
}

#[test]
fn follow_shows_new_groups_counts_truncation_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    append(&log, &line(1, "/etc/a.conf"));
    let child = Command::new(common::bin())
        .args(["denials", "--follow"])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines() {
            let Ok(l) = l else { return };
            if tx.send(l).is_err() {
                return;
            }
        }
    });
    expect(&rx, "G1  new  DENIED file open /etc/a.conf (r) [svc]");

    // Growth: a new group, and a count update for the old one.
    append(&log, &line(2, "/etc/b.conf"));
    expect(&rx, "G2  new  DENIED file open /etc/b.conf");
    append(&log, &line(3, "/etc/a.conf"));
    expect(&rx, "G1  ×2");

    // A half-written line is not read until it is complete.
    let l4 = line(4, "/etc/c.conf");
    let (head, tail) = l4.split_at(40);
    append(&log, head);
    std::thread::sleep(Duration::from_millis(600));
    append(&log, tail);
    expect(&rx, "G3  new  DENIED file open /etc/c.conf");

    // Truncation: the file starts again.
    std::fs::write(&log, line(5, "/etc/d.conf")).unwrap();
    expect(&rx, "G4  new  DENIED file open /etc/d.conf");

    // Rotation: the old file moves away, a new one takes its name.
    std::fs::rename(&log, dir.path().join("audit.log.1")).unwrap();
    append(&log, &line(6, "/etc/e.conf"));
    expect(&rx, "G5  new  DENIED file open /etc/e.conf");
    assert!(child.0.try_wait().unwrap().is_none(), "still running");
}

#[test]
fn follow_without_sources_is_an_error() {
    let out = Command::new(common::bin())
        .args(["denials", "--follow"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// What the log holds when `--follow` starts is numbered as `denials` numbers it (display
/// order, not order of first appearance), so an id means the same group in both; groups
/// first seen later are numbered on from there.
#[test]
fn follow_ids_equal_denials_ids_for_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    // First seen: a, b, c; by count (display order): c (3), b (2), a (1).
    let mut text = String::new();
    for (n, p) in [
        (1, "/etc/a.conf"),
        (2, "/etc/b.conf"),
        (3, "/etc/c.conf"),
        (4, "/etc/c.conf"),
        (5, "/etc/b.conf"),
        (6, "/etc/c.conf"),
    ] {
        text.push_str(&line(n, p));
    }
    append(&log, &text);
    let out = Command::new(common::bin())
        .args(["denials", "--json"])
        .arg(&log)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<(String, String)> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["resource"].as_str().unwrap().to_string(),
                g["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(ids.len(), 3, "{report:#}");

    let child = Command::new(common::bin())
        .args(["denials", "--follow"])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines() {
            let Ok(l) = l else { return };
            if tx.send(l).is_err() {
                return;
            }
        }
    });
    for (resource, id) in &ids {
        expect(&rx, &format!("{id}  new  DENIED file open {resource} "));
    }
    append(&log, &line(7, "/etc/d.conf"));
    expect(&rx, "G4  new  DENIED file open /etc/d.conf");
}
