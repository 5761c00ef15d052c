//! Reading real log sources: apparmor.d's test data, and one fixture per framing.

#![allow(clippy::unwrap_used)] // test helpers, like the tests themselves, may unwrap

mod common;

use std::collections::BTreeSet;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use aa_assist::log::{open_sources, EventClass, EventKind, Framing, Reader, SourceSpec};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/log")
        .join(name)
}

fn read(path: &Path, trusted: bool) -> (Vec<aa_assist::log::Event>, aa_assist::log::Summary) {
    let file = std::fs::File::open(path).unwrap();
    let mut r = Reader::new(
        BufReader::new(file),
        path.file_name().unwrap().to_string_lossy(),
    )
    .trusted_channel(trusted);
    let events: Vec<_> = r.by_ref().map(|e| e.unwrap()).collect();
    (events, r.summary().clone())
}

fn lines_with(path: &Path, needle: &str) -> BTreeSet<u64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i as u64 + 1)
        .collect()
}

#[test]
fn apparmor_d_audit_log_every_apparmor_line_is_an_event() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let path = corpus.join("logs/apparmor.d-testdata/logs/audit.log");
    let (events, summary) = read(&path, true);
    let got: BTreeSet<u64> = events.iter().map(|e| e.provenance.line).collect();
    assert_eq!(got, lines_with(&path, "apparmor="));
    assert!(events.iter().all(|e| e.kind != EventKind::Invalid));
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == EventKind::Status)
            .count(),
        3
    );
    // Line 52 is a record fragment without `apparmor=` or an audit stamp: counted, not lost.
    assert_eq!(summary.failed, 1);
    assert_eq!(summary.failures[0].line, 52);
    assert_eq!(
        summary.lines,
        summary.events + summary.ignored + summary.failed
    );
}

#[test]
fn apparmor_d_journal_export_every_apparmor_entry_is_an_event() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let path = corpus.join("logs/apparmor.d-testdata/logs/systemd.log");
    let (events, summary) = read(&path, true);
    let got: BTreeSet<u64> = events.iter().map(|e| e.provenance.line).collect();
    let mut want = lines_with(&path, "apparmor=");
    want.extend(lines_with(
        &path,
        "\"DBUS_BROKER_POLICY_TYPE\":\"apparmor\"",
    ));
    assert_eq!(got, want);
    assert_eq!(summary.failed, 0);
    for ev in &events {
        assert_eq!(ev.provenance.framing, Framing::JournalJson);
        // These come from dbus-daemon/dbus-broker over syslog: anyone could have sent them.
        assert!(!ev.provenance.trusted);
        assert_eq!(ev.class, EventClass::Dbus);
        assert!(
            ev.epoch.is_some(),
            "journal timestamp used when there is no audit stamp"
        );
    }
    let broker = events
        .iter()
        .find(|e| e.profile.as_deref() == Some("gnome-clocks"))
        .expect("dbus-broker entry");
    assert_eq!(broker.kind, EventKind::Denied);
    assert_eq!(broker.dbus_member.as_deref(), Some("ListActivatableNames"));
    assert_eq!(broker.peer_profile.as_deref(), Some("dbus-session"));
}

#[test]
fn auditd_fixture_fields_enrichment_and_unknown_keys() {
    let (events, summary) = read(&fixture("audit.log"), true);
    assert_eq!(events.len(), 7);
    assert_eq!(summary.failed, 1, "truncated record at line 5");
    assert_eq!(summary.failures[0].line, 5);
    let first = &events[0];
    assert_eq!(first.provenance.framing, Framing::Auditd);
    assert!(first.provenance.trusted);
    assert_eq!(first.fsuid, Some(33));
    assert_eq!(first.fsuid_name.as_deref(), Some("www-data"));
    assert_eq!(first.ouid_name.as_deref(), Some("root"));
    assert_eq!(first.denied.as_ref().unwrap().0, ["r"]);
    assert_eq!(first.context, None);
    // The SYSCALL record after the second AVC (same stamp) is merged into it.
    let ctx = events[1].context.as_ref().expect("multi-record event");
    assert_eq!(ctx.records, ["SYSCALL"]);
    assert_eq!(
        (ctx.syscall.as_deref(), ctx.success, ctx.exit),
        (Some("257"), Some(false), Some(-13))
    );
    let unknown = &events[2];
    assert_eq!(
        unknown.unknown_keys,
        [
            ("brand_new_key".to_string(), "v".to_string()),
            ("another".into(), "12".into())
        ]
    );
    let dbus = &events[3];
    assert_eq!(dbus.profile_namespace(), Some("lxd-web_<var-lib-lxd>"));
    assert_eq!(dbus.profile_name(), Some("/usr/sbin/nginx//worker"));
    assert_eq!(dbus.parent_profile(), Some("/usr/sbin/nginx"));
    assert_eq!(dbus.peer_pid, Some(1));
    let mount = &events[4];
    assert_eq!(mount.class, EventClass::Mount);
    assert_eq!(mount.fs_type.as_deref(), Some("tmpfs"));
    assert_eq!(mount.flags.as_deref(), Some("rw, nosuid"));
    assert_eq!(mount.error_code, Some(13));
    assert_eq!(events[5].class, EventClass::Userns);
    assert_eq!(events[6].class, EventClass::Ptrace);
    assert_eq!(events[6].peer.as_deref(), Some("unconfined"));
}

#[test]
fn dmesg_fixture() {
    let (events, summary) = read(&fixture("dmesg.txt"), true);
    assert_eq!(summary.ignored, 1);
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e.provenance.framing == Framing::Dmesg));
    assert!(events.iter().all(|e| e.provenance.trusted));
    let net = &events[1];
    assert_eq!(net.class, EventClass::Network);
    assert_eq!(net.protocol.as_deref(), Some("tcp"));
    assert_eq!(net.foreign_addr.as_deref(), Some("10.0.0.1"));
    assert_eq!(net.foreign_port, Some(5432));
    assert_eq!(net.kind, EventKind::Allowed);
}

#[test]
fn syslog_fixture_is_never_trusted() {
    let (events, summary) = read(&fixture("kern.log"), true);
    assert_eq!(summary.ignored, 1);
    assert_eq!(events.len(), 3);
    for ev in &events {
        assert_eq!(ev.provenance.framing, Framing::Syslog);
        assert!(
            !ev.provenance.trusted,
            "syslog text can be forged with logger"
        );
    }
    assert_eq!(events[0].class, EventClass::Capability);
    assert_eq!(events[0].name.as_deref(), Some("dac_read_search"));
    let exec = &events[1];
    assert_eq!(exec.class, EventClass::Exec);
    assert_eq!(
        exec.name2.as_deref(),
        Some("/usr/sbin/nginx//null-/usr/bin/curl")
    );
    assert_eq!(exec.info.as_deref(), Some("no new privs"));
}

#[test]
fn ausearch_fixture_hex_names_and_status() {
    let (events, summary) = read(&fixture("ausearch.txt"), true);
    assert_eq!(events.len(), 2);
    assert_eq!(summary.failed, 0);
    assert!(events
        .iter()
        .all(|e| e.provenance.framing == Framing::Ausearch));
    assert_eq!(events[0].name.as_deref(), Some("/var/log/nginx/new x.log"));
    // ausearch prints the other records first; they still belong to the event.
    let ctx = events[0].context.as_ref().expect("multi-record event");
    assert_eq!(ctx.records, ["PROCTITLE", "SYSCALL"]);
    assert_eq!(ctx.exe.as_deref(), Some("/usr/sbin/nginx"));
    assert_eq!(ctx.proctitle.as_deref(), Some("nginx"));
    assert_eq!(ctx.uid, Some(33));
    assert_eq!(events[1].context, None);
    assert_eq!(events[1].kind, EventKind::Status);
    assert_eq!(events[1].class, EventClass::Policy);
}

#[test]
fn journal_fixture_trust_follows_transport() {
    let (events, summary) = read(&fixture("journal.json"), true);
    assert_eq!(summary.ignored, 1);
    assert_eq!(events.len(), 3);
    assert!(events[0].provenance.trusted, "_TRANSPORT=kernel");
    assert!(!events[1].provenance.trusted, "_TRANSPORT=syslog");
    assert!(events[2].provenance.trusted, "_TRANSPORT=audit");
    assert_eq!(events[0].local_port, Some(80));
    // MESSAGE exported as bytes because it is not UTF-8.
    assert_eq!(events[2].signal.as_deref(), Some("kill"));
    assert!(events[2].comm.as_deref().unwrap().starts_with("nginx"));
}

#[test]
fn untrusted_channel_downgrades_every_event() {
    let (events, _) = read(&fixture("audit.log"), false);
    assert!(events.iter().all(|e| !e.provenance.trusted));
}

#[test]
fn gzip_and_several_sources() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("audit.log.1.gz");
    let plain = std::fs::read(fixture("audit.log")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&plain).unwrap();
    enc.finish().unwrap();
    let sources = open_sources(&[
        SourceSpec::Path(gz.clone()),
        SourceSpec::Path(fixture("dmesg.txt")),
    ])
    .unwrap();
    let mut counts = Vec::new();
    for s in sources {
        let label = s.label.clone();
        let mut r = s.into_reader();
        let n = r.by_ref().filter(|e| e.is_ok()).count();
        counts.push((label.ends_with(".gz"), n, r.summary().lines));
    }
    assert_eq!(counts, [(true, 7, 9), (false, 2, 3)]);
}

#[test]
fn missing_source_is_a_clear_error() {
    let err = open_sources(&[SourceSpec::Path("/nonexistent/audit.log".into())]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("/nonexistent/audit.log") && msg.contains("no such file"),
        "{msg}"
    );
}
