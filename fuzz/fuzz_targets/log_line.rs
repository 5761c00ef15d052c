//! Fuzz the log line parser over arbitrary bytes, in every framing it accepts.
//!
//! The input is used three ways:
//! - as one record for [`parse_record`] (libapparmor-exact) and one line for [`parse_line`];
//! - its first line wrapped in each framing a real log uses (auditd `node=`, `dmesg`,
//!   `dmesg -T`, syslog with classic and ISO dates, journald JSON with `MESSAGE` as text and as
//!   a byte array), so the mutator only has to find interesting records, not also the framing
//!   around them;
//! - as a whole file for the streaming [`Reader`] (line splitting, over-long lines, `ausearch`
//!   grouping, auditd context merging), whose summary must account for every line.
//!
//! Properties: nothing panics, `lines == events + ignored + failed`, `Reader::visit` (the
//! in-place fast path `denials` runs) sees the same events as `next_event`, and reading the
//! input as a file in two parts ([`Source::visit_parallel`], what `denials` does with a plain
//! file) sees the same events, trust and summary as one reader.
//!
//! Cheap per input (see `fuzz/README.md`): the framings wrap at most [`FRAME_MAX`] bytes of
//! the line ([`BYTES_MAX`] as a byte array, where each byte is a JSON number); no worker
//! pool: `Reader::parallel` (a pool of threads and a 1 MiB batch buffer per reader; no
//! command uses it) is left to its unit tests in `src/log/reader.rs`; the split check starts
//! two short-lived threads and only runs on inputs of at most [`SPLIT_MAX`] bytes with more
//! than one line, the ones it can split.
//! Run: `cargo +nightly fuzz run log_line` (see `fuzz/README.md`).
#![no_main]

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::LazyLock;

use aa_assist::log::fields::{Fields, Origin, Visit};
use aa_assist::log::group::{key_of, GroupKey};
use aa_assist::log::{open_sources, parse_line, parse_record, Event, Reader, SourceSpec, Summary};
use libfuzzer_sys::fuzz_target;

/// Longest head of the first line wrapped in the text framings and journald's `MESSAGE` text.
const FRAME_MAX: usize = 1024;
/// Longest head of the first line sent as journald's `MESSAGE` byte array.
const BYTES_MAX: usize = 256;
/// Largest input also read as a file in two parts.
const SPLIT_MAX: usize = 1024;

/// The file the split check writes each input to, rewritten per input, in a directory of
/// its own (mode 0700, so nobody can plant a symlink there) under `$AA_FUZZ_SCRATCH`
/// (`scripts/fuzz.sh` makes one per run and removes it), else `/dev/shm` or the temporary
/// directory.
static SPLIT_FILE: LazyLock<PathBuf> = LazyLock::new(|| {
    use std::os::unix::fs::DirBuilderExt;
    let base = std::env::var_os("AA_FUZZ_SCRATCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let shm = std::path::Path::new("/dev/shm");
            if shm.is_dir() {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            }
        });
    // A new directory: never one that already exists (a stale one, or someone else's).
    for n in 0u32.. {
        let dir = base.join(format!(
            "aa-assist-fuzz-log_line-{}-{n}",
            std::process::id()
        ));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return dir.join("input.log"),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => panic!("cannot create {}: {e}", dir.display()),
        }
    }
    unreachable!("a free directory name")
});

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

    // One line per framing; the framings never span lines, so use the first line only, and
    // at most FRAME_MAX bytes of it (the raw parses above and the reader below take it whole).
    let line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = &line[..line.len().min(FRAME_MAX)];
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
    // As a byte array each byte is a JSON number: only the head of the line.
    let head = &line[..line.len().min(BYTES_MAX)];
    let bytes: Vec<String> = head.iter().map(u8::to_string).collect();
    let entry = format!(
        "{{\"_TRANSPORT\":\"audit\",\"MESSAGE\":[{}]}}",
        bytes.join(",")
    );
    let _ = parse_line(entry.as_bytes());

    // The whole input as one log, its channel taken as trusted so that the trust of each
    // event (a log of one writer's kind only) is compared too.
    // The label is the split-check file's, which names the source in failures.
    let label = SPLIT_FILE.display().to_string();
    let (events, err, s) = drain(Reader::new(Cursor::new(data), &*label).trusted_channel(true));
    assert_eq!(s.events, events.len() as u64);
    assert_eq!(s.lines, s.events + s.ignored + s.failed);
    if err.is_some() {
        return;
    }

    // Differential: `visit` (what `denials` runs: lines read in place in the buffer, the
    // fast path's borrowed views) must see the events `next_event` hands out, with the same
    // group key, pid, line and trust, and count the same. A small buffer makes lines straddle it.
    // `next_event` may hand a syslog-framed event out before auditd events that wait for
    // their other records: compare in line order.
    let input = std::io::BufReader::with_capacity(64, Cursor::new(data));
    let mut reader = Reader::new(input, label).trusted_channel(true);
    let mut seen = Seen(Vec::new());
    if reader.visit(&mut seen).is_err() {
        return;
    }
    let mut want: Vec<_> = events
        .iter()
        .map(|e| (e.provenance.line, e.provenance.trusted, key_of(e), e.pid))
        .collect();
    want.sort_by_key(|w| w.0);
    assert!(seen.0 == want, "visit: events differ");
    assert_eq!(&s, reader.summary(), "visit: summary differs");

    // Differential: a plain file read in two parts, each by its own reader on its own thread
    // (`denials` on a file), sees what one reader sees: same events, lines, trust, summary.
    let inner_newline = data
        .iter()
        .position(|&b| b == b'\n')
        .is_some_and(|i| i + 1 < data.len());
    // (A gzip file is not split, and decompressing is not what this target fuzzes.)
    let gzip = data.starts_with(&[0x1f, 0x8b]);
    if data.len() <= SPLIT_MAX && inner_newline && !gzip {
        split_check(data, &seen, &s);
    }
});

/// Write `data` to [`SPLIT_FILE`] and read it with `visit_parallel` on two parts: the parts
/// together must see what one reader saw (`seen`, `summary`) on a trusted channel.
fn split_check(data: &[u8], seen: &Seen, summary: &Summary) {
    let path = &*SPLIT_FILE;
    std::fs::write(path, data).expect("write the split-check file");
    let mut src = open_sources(&[SourceSpec::Path(path.clone())])
        .expect("open the split-check file")
        .remove(0);
    src.trusted_channel = true;
    assert!(src.splittable(), "split: a plain file is splittable");
    let (parts, split_summary) = src
        .visit_parallel(2, false, || Seen(Vec::new()))
        .expect("split: one reader did not fail, the parts did");
    let mut all = Vec::new();
    for p in parts {
        all.extend(p.visitor.0.into_iter().map(|mut e| {
            e.0 += p.line_offset;
            e
        }));
    }
    assert!(all == seen.0, "split: events differ");
    assert_eq!(&split_summary, summary, "split: summary differs");
}

/// What `Reader::visit` hands a visitor: per event, its line, trust, group key and pid.
struct Seen(Vec<(u64, bool, GroupKey, Option<i64>)>);

impl Visit for Seen {
    fn event<F: Fields + ?Sized>(&mut self, ev: &F, origin: Origin<'_>) {
        self.0
            .push((origin.line, origin.trusted, key_of(ev), ev.pid()));
    }
}

/// Everything a reader hands out: its events, the error that stopped it, its summary.
fn drain(mut reader: Reader<Cursor<&[u8]>>) -> (Vec<Event>, Option<String>, Summary) {
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
