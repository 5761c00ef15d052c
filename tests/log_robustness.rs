//! Hostile input: random bytes, invalid UTF-8, truncated records, a 10 MB line, binary junk.
//! Nothing may panic, and every line must be counted exactly once.

#![allow(clippy::unwrap_used)] // test helpers, like the tests themselves, may unwrap

use std::io::Cursor;

use aa_assist::log::{parse_line, parse_record, Reader, MAX_LINE};
use proptest::prelude::*;

const GOOD: &str = r#"type=AVC msg=audit(1661734785.992:270): apparmor="ALLOWED" operation="open" profile="/usr/bin/dolphin" name="/home/otis/.config/kdedefaults/kdeglobals" pid=3483 comm="dolphin" requested_mask="r" denied_mask="r" fsuid=1000 ouid=0"#;
const USER: &str = r#"type=USER_AVC msg=audit(1375323372.644:157): pid=363 uid=102 auid=4294967295 ses=4294967295 msg='apparmor="DENIED" operation="dbus_method_call"  bus="system" path="/org/freedesktop/DBus" interface="org.freedesktop.DBus" member="Hello" mask="send" name="org.freedesktop.DBus" pid=2833 label="/tmp/apparmor-2.8.0/tests/regression/apparmor/dbus_service" peer_label="unconfined"  exe="/bin/dbus-daemon" sauid=102 hostname=? addr=? terminal=?'"#;

fn count(input: Vec<u8>) -> (u64, aa_assist::log::Summary) {
    let mut r = Reader::new(Cursor::new(input), "test");
    let n = r.by_ref().filter(|e| e.is_ok()).count() as u64;
    (n, r.summary().clone())
}

#[test]
fn every_truncation_of_a_record_is_handled() {
    for rec in [GOOD, USER] {
        for cut in 0..=rec.len() {
            let part = &rec.as_bytes()[..cut];
            let _ = parse_record(part);
            let _ = parse_line(part);
        }
    }
}

#[test]
fn ten_megabyte_line_and_binary_junk_are_counted() {
    let mut input = Vec::new();
    input.extend_from_slice(GOOD.as_bytes());
    input.push(b'\n');
    // A 10 MB record: a huge name inside an otherwise valid event.
    input.extend_from_slice(
        br#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="open" profile="/p" name=""#,
    );
    input.extend(std::iter::repeat_n(b'a', 10 << 20));
    input.extend_from_slice(
        b"\" pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n",
    );
    // Binary junk that mentions apparmor, and invalid UTF-8 inside a record.
    input.extend_from_slice(b"\x00\xff\xfeapparmor=\x01\x02\n");
    input.extend_from_slice(b"type=AVC msg=audit(1.2:4): apparmor=\"DENIED\" operation=\"open\" profile=\"/p\" name=\"/\xff\xfe\" pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n");
    // Unknown class and key: still an event.
    input.extend_from_slice(b"type=AVC msg=audit(1.2:5): apparmor=\"DENIED\" operation=\"frobnicate\" class=\"quantum\" profile=\"/p\" zork=\"1\" pid=1 comm=\"c\"\n");
    // A line with no newline at the end of input.
    input.extend_from_slice(b"type=AVC msg=audit(1.2:6): apparmor=\"DENIED\" operation=\"open\" profile=\"/p\" name=\"/last\"");
    let (events, summary) = count(input);
    assert_eq!(summary.lines, 6);
    assert_eq!(events, 5);
    assert_eq!(summary.failed, 1);
    assert_eq!(summary.failures[0].line, 3);
    assert_eq!(
        summary.lines,
        summary.events + summary.ignored + summary.failed
    );
}

#[test]
fn over_long_lines_are_skipped_not_buffered() {
    let mut input = vec![b'x'; MAX_LINE + 10];
    input.push(b'\n');
    input.extend_from_slice(GOOD.as_bytes());
    let (events, summary) = count(input);
    assert_eq!(events, 1);
    assert_eq!(summary.failed, 1);
    assert!(summary.failures[0].reason.contains("longer than"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_record(&bytes);
        let _ = parse_line(&bytes);
    }

    #[test]
    fn mutated_records_never_panic(
        pos in 0usize..GOOD.len(),
        byte in any::<u8>(),
        insert in any::<bool>(),
    ) {
        let mut v = GOOD.as_bytes().to_vec();
        if insert { v.insert(pos, byte) } else { v[pos] = byte }
        let _ = parse_record(&v);
        let _ = parse_line(&v);
        let mut framed = b"{\"_TRANSPORT\":\"kernel\",\"MESSAGE\":\"".to_vec();
        framed.extend_from_slice(&v);
        let _ = parse_line(&framed);
    }

    #[test]
    fn every_line_is_counted_once(lines in proptest::collection::vec(
        prop_oneof![
            Just(GOOD.to_string()),
            Just(USER.to_string()),
            Just("random text".to_string()),
            Just("apparmor=\"DENIED\" (((".to_string()),
            "[ -~]{0,80}",
        ],
        0..30,
    )) {
        let input = lines.join("\n").into_bytes();
        let (events, summary) = count(input);
        prop_assert_eq!(summary.lines, lines.len() as u64 - u64::from(lines.last().is_some_and(|l| l.is_empty())));
        prop_assert_eq!(summary.events, events);
        prop_assert_eq!(summary.lines, summary.events + summary.ignored + summary.failed);
    }
}
