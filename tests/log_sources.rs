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

/// A kernel AppArmor record as the kernel prints it (dmesg, syslog, journal `MESSAGE`).
const KREC: &str = "audit: type=1400 audit(1718798455.147:63): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"/usr/sbin/nginx\" name=\"/etc/shadow\" pid=1193 comm=\"nginx\" requested_mask=\"r\" denied_mask=\"r\" fsuid=33 ouid=0";
/// The same record as auditd writes it to audit.log.
const AREC: &str = "type=AVC msg=audit(1718798455.147:63): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"/usr/sbin/nginx\" name=\"/etc/shadow\" pid=1193 comm=\"nginx\" requested_mask=\"r\" denied_mask=\"r\" fsuid=33 ouid=0";

fn json_line(transport: &str) -> String {
    format!(
        "{{\"__REALTIME_TIMESTAMP\":\"1718798455147000\",\"_TRANSPORT\":\"{transport}\",\"MESSAGE\":{}}}",
        serde_json::to_string(KREC).unwrap()
    )
}

/// The trust of each event of `text` read from a channel only root can write, by
/// `next_event` and by `visit` (the fast path `denials` uses), which must agree.
fn trust_of(text: &str) -> Vec<bool> {
    use aa_assist::log::fields::{Fields, Origin, Visit};
    struct Seen(Vec<bool>);
    impl Visit for Seen {
        fn event<F: Fields + ?Sized>(&mut self, _ev: &F, origin: Origin<'_>) {
            self.0.push(origin.trusted);
        }
    }
    let mut r =
        Reader::new(std::io::Cursor::new(text.as_bytes().to_vec()), "t").trusted_channel(true);
    let slow: Vec<bool> = r
        .by_ref()
        .map(|e| e.unwrap())
        .map(|e| (e.provenance.line, e.provenance.trusted))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_values()
        .collect();
    let mut fast = Seen(Vec::new());
    let input = BufReader::with_capacity(16, std::io::Cursor::new(text.as_bytes().to_vec()));
    Reader::new(input, "t")
        .trusted_channel(true)
        .visit(&mut fast)
        .unwrap();
    assert_eq!(slow, fast.0, "next_event and visit disagree on {text:?}");
    slow
}

/// Every framing, read from a root-owned file: what the kernel or auditd wrote is trusted;
/// every way a user has to put the same record in front of us (`logger`, `logger -t kernel`,
/// multi-line messages whose continuation lines `journalctl` indents, `journalctl -o
/// short-monotonic`, text exports where a message starts a line, a foreign line in a pure
/// log) is not.
#[test]
fn every_framing_and_every_way_to_fake_it() {
    let cont = " ".repeat(36);
    let genuine: Vec<(&str, String, Vec<bool>)> = vec![
        ("audit.log", format!("{AREC}\n{AREC}\n"), vec![true, true]),
        ("audit.log after blank lines", format!("\n\n{AREC}\n"), vec![true]),
        (
            "audit.log with node=",
            format!("node=web {AREC}\ntype=SYSCALL msg=audit(1.2:3): x=1\n"),
            vec![true],
        ),
        (
            "ausearch",
            format!("----\ntime->Wed Jun 19 12:00:55 2024\n{AREC}\n"),
            vec![true],
        ),
        (
            "dmesg",
            format!("[ 4584.491076] {KREC}\n[ 4585.000001] usb 1-1: new device\n[Wed Jun 19 12:00:55 2024] {KREC}\n"),
            vec![true, true],
        ),
        ("journal json, kernel transport", json_line("kernel") + "\n", vec![true]),
        ("journal json, audit transport", json_line("audit") + "\n", vec![true]),
    ];
    for (what, text, want) in &genuine {
        assert_eq!(&trust_of(text), want, "{what}");
    }
    let fakes: Vec<(&str, String, usize)> = vec![
        // logger -t kernel in syslog, kern.log and journalctl short output (every date form).
        (
            "syslog, logger -t kernel",
            format!("Jun 19 12:00:55 web kernel: {KREC}\n"),
            1,
        ),
        (
            "syslog with the kernel timestamp",
            format!("Jun 19 12:00:55 web kernel: [ 4584.491076] {KREC}\n"),
            1,
        ),
        (
            "journalctl -o short-iso",
            format!("2024-06-19T12:00:55+0000 web kernel: {KREC}\n"),
            1,
        ),
        // journalctl -o short-monotonic: every line starts with `[`, user messages included.
        (
            "short-monotonic, logger -t kernel",
            format!("[ 4584.491076] web kernel: {KREC}\n"),
            1,
        ),
        (
            "short-monotonic, any tag",
            format!("[ 4584.491076] web logger[999]: {KREC}\n"),
            1,
        ),
        // Continuation lines of a multi-line message, indented by journalctl.
        (
            "continuation looking like dmesg",
            format!("Jun 19 12:00:55 web logger[9]: x\n{cont}[ 4584.491076] {KREC}\n"),
            1,
        ),
        (
            "continuation looking like auditd",
            format!("Jun 19 12:00:55 web logger[9]: x\n{cont}{AREC}\n"),
            1,
        ),
        (
            "continuation looking like journal json",
            format!(
                "Jun 19 12:00:55 web logger[9]: x\n{cont}{}\n",
                json_line("kernel")
            ),
            1,
        ),
        (
            "continuation in short-monotonic output",
            format!("[ 4584.491076] web logger[9]: x\n{cont}[ 4584.491076] {KREC}\n"),
            1,
        ),
        ("indented auditd line", format!("  {AREC}\n"), 1),
        (
            "indented dmesg line",
            format!("\t[ 4584.491076] {KREC}\n"),
            1,
        ),
        // A text export that mixes user and kernel messages, where a message can start a
        // line (syslog daemons that do not escape newlines, `journalctl -o cat`): a line
        // in any framing after a line of another.
        (
            "syslog, then an auditd line",
            format!("Jun 19 12:00:55 web sshd[1]: hello\n{AREC}\n"),
            1,
        ),
        (
            "syslog, then a dmesg line",
            format!("Jun 19 12:00:55 web sshd[1]: hello\n[ 4584.491076] {KREC}\n"),
            1,
        ),
        (
            "syslog, then a journal json line",
            format!(
                "Jun 19 12:00:55 web sshd[1]: hello\n{}\n",
                json_line("kernel")
            ),
            1,
        ),
        (
            "journalctl -o cat",
            format!(
                "Started session 4 of user bob.\n{AREC}\n{}\n",
                json_line("audit")
            ),
            2,
        ),
        (
            "short-monotonic, then a dmesg-like line",
            format!("[ 4584.491076] web kernel: {KREC}\n[ 4584.491076] {KREC}\n"),
            2,
        ),
        (
            "short-monotonic --no-hostname, then a dmesg-like line",
            format!("[ 4584.491076] kernel: {KREC}\n[ 4584.491076] {KREC}\n"),
            2,
        ),
        (
            "journal json, user transports",
            ["syslog", "journal", "stdout", "driver", ""]
                .iter()
                .map(|t| json_line(t) + "\n")
                .collect(),
            5,
        ),
    ];
    for (what, text, n) in &fakes {
        assert_eq!(trust_of(text), vec![false; *n], "{what}");
    }
    // A pure log followed by a line of another framing: nothing after it is trusted.
    let after: Vec<(&str, String)> = vec![
        (
            "audit.log, a syslog line",
            format!("{AREC}\nJun 19 12:00:55 web sshd[1]: hi\n{AREC}\n"),
        ),
        (
            "dmesg, an auditd line",
            format!("[ 4584.491076] {KREC}\n{AREC}\n"),
        ),
        (
            "audit.log, a dmesg line",
            format!("{AREC}\n[ 4584.491076] {KREC}\n"),
        ),
        (
            "journal json, an auditd line",
            format!("{}\n{AREC}\n", json_line("kernel")),
        ),
        (
            "audit.log, a journal json line",
            format!("{AREC}\n{}\n", json_line("kernel")),
        ),
        (
            "audit.log, an unrelated line, then auditd",
            format!("{AREC}\nhello\n{AREC}\n"),
        ),
    ];
    for (what, text) in &after {
        assert_eq!(trust_of(text), vec![true, false], "{what}");
    }
}

/// Through the binary: `denials --json` on a root-owned journal text export counts a
/// `logger`-written record as untrusted, whether it came as a `short-monotonic` line or as
/// the indented continuation of a multi-line message; the same record from `dmesg` is not.
#[test]
fn denials_json_counts_faked_kernel_lines_as_untrusted() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("journal-short-monotonic.txt");
    let cont = " ".repeat(36);
    std::fs::write(
        &export,
        format!(
            "[ 4584.000000] web sshd[1]: hello\n[ 4584.491076] web kernel: {KREC}\n\
             [ 4584.500000] web logger[9]: x\n{cont}[ 4584.491076] {KREC}\n"
        ),
    )
    .unwrap();
    let dmesg = dir.path().join("dmesg.txt");
    std::fs::write(&dmesg, format!("[ 4584.491076] {KREC}\n")).unwrap();
    let group = |path: &Path| {
        let out = std::process::Command::new(common::bin())
            .args(["denials", "--json"])
            .arg(path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let groups = v["groups"].as_array().unwrap().clone();
        assert_eq!(groups.len(), 1, "{groups:?}");
        (groups[0]["count"].clone(), groups[0]["untrusted"].clone())
    };
    assert_eq!(group(&export), (2.into(), 2.into()));
    // Only a root-owned file can hold trusted lines at all.
    if std::fs::metadata(&dmesg).unwrap().uid() == 0 {
        assert_eq!(group(&dmesg), (1.into(), 0.into()));
    }
}

/// Through the binary: a `profile_replace` any user could have written (`logger -t
/// kernel`), or one stamped in the future, does not mark the denials before it stale.
#[test]
fn untrusted_or_future_loads_do_not_make_denials_stale() {
    let dir = tempfile::tempdir().unwrap();
    let load = |stamp: &str| {
        format!("audit: type=1400 audit({stamp}:99): apparmor=\"STATUS\" operation=\"profile_replace\" profile=\"unconfined\" name=\"/usr/sbin/nginx\" pid=10 comm=\"apparmor_parser\"")
    };
    let cases = [
        (
            "genuine",
            format!(
                "{AREC}\n{}\n",
                load("1718798500.000")
                    .replacen("audit: type=1400", "type=AVC msg=", 1)
                    .replacen("msg= audit(", "msg=audit(", 1)
            ),
            true,
        ),
        (
            "logger -t kernel",
            format!(
                "{AREC}\nJun 19 12:01:40 web kernel: {}\n",
                load("1718798500.000")
            ),
            false,
        ),
        (
            "future",
            format!(
                "{AREC}\n{}\n",
                load("4000000000.000")
                    .replacen("audit: type=1400", "type=AVC msg=", 1)
                    .replacen("msg= audit(", "msg=audit(", 1)
            ),
            false,
        ),
    ];
    for (what, text, stale) in cases {
        use std::os::unix::fs::MetadataExt;
        let path = dir.path().join("audit.log");
        std::fs::write(&path, text).unwrap();
        // Only a root-owned file can hold trusted lines at all.
        let stale = stale && std::fs::metadata(&path).unwrap().uid() == 0;
        let out = std::process::Command::new(common::bin())
            .args(["denials", "--json"])
            .arg(&path)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let groups = v["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 1, "{what}: {groups:?}");
        assert_eq!(groups[0]["stale"], stale, "{what}");
    }
}
