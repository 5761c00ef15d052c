//! Fuzz the log line parser over arbitrary bytes, in every framing it accepts.
//!
//! The input is used three ways:
//! - as one record for [`parse_record`] (libapparmor-exact) and one line for [`parse_line`];
//! - wrapped in each framing a real log uses (auditd `node=`, `dmesg`, `dmesg -T`, syslog with
//!   classic and ISO dates, journald JSON with `MESSAGE` as text and as a byte array), so the
//!   mutator only has to find interesting records, not also the framing around them;
//! - as a whole file for the streaming [`Reader`] (line splitting, over-long lines, `ausearch`
//!   grouping, auditd context merging), whose summary must account for every line, and again
//!   with `Reader::parallel(2)` (lines parsed on two worker threads), which must hand out
//!   exactly the same events, error and summary.
//!
//! Properties: nothing panics, `lines == events + ignored + failed`, the parallel reader
//! agrees with the sequential one, and `Reader::visit` (the in-place fast path `denials`
//! runs) sees the same events as `next_event`.
//! Run: `cargo +nightly fuzz run log_line` (see `fuzz/README.md`).
#![no_main]

use std::io::Cursor;

use aa_assist::log::fields::{Fields, Origin, Visit};
use aa_assist::log::group::{key_of, GroupKey};
use aa_assist::log::{parse_line, parse_record, Event, Reader, Summary};
use libfuzzer_sys::fuzz_target;

/// Text prefixes of the line framings.
const PREFIXES: &[&[u8]] = &[
    b"node=fuzzhost ",
    b"[ 1234.567890] audit: ",
    b"[Wed Nov 25 22:00:00 2026] audit: ",
    b"Nov 25 22:00:00 fuzzhost kernel: ",
    b"2026-11-25T22:00:00.123456+00:00 fuzzhost kernel: ",
];

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_record(data);
    let _ = parse_line(data);

    // One line per framing; the framings never span lines, so use the first line only.
    let line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut wrapped = Vec::with_capacity(line.len() + 64);
    for prefix in PREFIXES {
        wrapped.clear();
        wrapped.extend_from_slice(prefix);
        wrapped.extend_from_slice(line);
        let _ = parse_line(&wrapped);
    }
    if let Ok(text) = std::str::from_utf8(line) {
        let entry = format!(
            "{{\"__REALTIME_TIMESTAMP\":\"1764108000000000\",\"_TRANSPORT\":\"kernel\",\"MESSAGE\":{}}}",
            json_string(text)
        );
        let _ = parse_line(entry.as_bytes());
    }
    let bytes: Vec<String> = line.iter().map(u8::to_string).collect();
    let entry = format!(
        "{{\"_TRANSPORT\":\"audit\",\"MESSAGE\":[{}]}}",
        bytes.join(",")
    );
    let _ = parse_line(entry.as_bytes());

    let (events, err, s) = drain(Reader::new(Cursor::new(data.to_vec()), "fuzz"));
    assert_eq!(s.events, events.len() as u64);
    assert_eq!(s.lines, s.events + s.ignored + s.failed);

    // Differential: parsing on worker threads must change nothing.
    let (p_events, p_err, p_s) = drain(Reader::new(Cursor::new(data.to_vec()), "fuzz").parallel(2));
    assert_eq!(
        events.len(),
        p_events.len(),
        "parallel reader: event count differs"
    );
    assert!(events == p_events, "parallel reader: events differ");
    assert_eq!(err, p_err, "parallel reader: error differs");
    assert_eq!(s, p_s, "parallel reader: summary differs");

    // Differential: `visit` (what `denials` runs: lines read in place in the buffer, the
    // fast path's borrowed views) must see the events `next_event` hands out, with the same
    // group key, pid, line and trust, and count the same. A small buffer makes lines straddle it.
    // `next_event` may hand a syslog-framed event out before auditd events that wait for
    // their other records: compare in line order.
    if err.is_none() {
        let input = std::io::BufReader::with_capacity(64, Cursor::new(data.to_vec()));
        let mut reader = Reader::new(input, "fuzz");
        let mut seen = Seen(Vec::new());
        if reader.visit(&mut seen).is_ok() {
            let mut want: Vec<_> = events
                .iter()
                .map(|e| (e.provenance.line, e.provenance.trusted, key_of(e), e.pid))
                .collect();
            want.sort_by_key(|w| w.0);
            assert!(seen.0 == want, "visit: events differ");
            assert_eq!(&s, reader.summary(), "visit: summary differs");
        }
    }
});

/// What `Reader::visit` hands a visitor: per event, its line, trust, group key and pid.
struct Seen(Vec<(u64, bool, GroupKey, Option<i64>)>);

impl Visit for Seen {
    fn event<F: Fields + ?Sized>(&mut self, ev: &F, origin: Origin<'_>) {
        self.0.push((origin.line, origin.trusted, key_of(ev), ev.pid()));
    }
}

/// Everything a reader hands out: its events, the error that stopped it, its summary.
fn drain(mut reader: Reader<Cursor<Vec<u8>>>) -> (Vec<Event>, Option<String>, Summary) {
    let mut events = Vec::new();
    let err = loop {
        match reader.next_event() {
            Ok(Some(ev)) => events.push(ev),
            Ok(None) => break None,
            Err(e) => break Some(e.to_string()),
        }
    };
    (events, err, reader.summary().clone())
}
