//! Fuzz the log line parser: libapparmor-exact records, every framing, and the streaming
//! reader's line counting. Run: `cargo +nightly fuzz run log_line`.
#![no_main]

use std::io::Cursor;

use aa_assist::log::{parse_line, parse_record, Reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_record(data);
    let _ = parse_line(data);
    let mut reader = Reader::new(Cursor::new(data.to_vec()), "fuzz");
    let events = reader.by_ref().filter(|e| e.is_ok()).count() as u64;
    let s = reader.summary();
    assert_eq!(s.events, events);
    assert_eq!(s.lines, s.events + s.ignored + s.failed);
});
