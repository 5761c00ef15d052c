//! Inputs the fuzz targets (`fuzz/`) found problems with, replayed through the same library
//! calls as the target that found them. Each input is kept byte for byte under
//! `tests/data/fuzz/TARGET/` with the name libFuzzer gave it; `fuzz/README.md` lists them.
//! (`log_line` inputs are raw bytes: `input_bytes`.)

use std::io::Cursor;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aa_assist::aare::{escape, pattern_contains, Pattern};
use aa_assist::log::{Event, Reader, Summary};

fn input_bytes(target: &str, name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(target)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn input(target: &str, name: &str) -> String {
    String::from_utf8(input_bytes(target, name))
        .expect("the aare_compile target only runs UTF-8 inputs")
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

/// One `type=APPARMOR_DENIED` exec record. LeakSanitizer reported 32 bytes (a thread-local
/// destructor record of a worker thread) after `log_line` fed it to `Reader::parallel(2)`: the
/// reader's drop closed the job channel but did not wait for its worker threads, so they
/// were still exiting, holding memory, after the reader was gone. The reader now joins them
/// on drop; `log::reader`'s unit test `drop_joins_the_workers` checks that no worker
/// outlives it. Here: the input through the target's reader calls, the parallel reader agreeing
/// with the sequential one.
#[test]
fn log_parallel_reader_on_the_leak_input() {
    let data = input_bytes("log_line", "leak-1a90c334aded9cd08944e6b10e3a822a7c03a7af");
    let (events, err, s) = drain(Reader::new(Cursor::new(data.clone()), "fuzz"));
    assert_eq!(events.len(), 1);
    assert_eq!(err, None);
    assert_eq!(s.events, 1);
    assert_eq!(s.lines, s.events + s.ignored + s.failed);
    for _ in 0..8 {
        let par = drain(Reader::new(Cursor::new(data.clone()), "fuzz").parallel(2));
        assert!(par.0 == events, "parallel reader: events differ");
        assert_eq!(par.1, err);
        assert_eq!(par.2, s);
    }
}

/// `/foo/**.j~gJ/oo/**` followed by 45 `?`: a `**` then many one-byte wildcards is the
/// textbook pattern whose DFA is exponential in the number of `?`. `pattern_contains` built
/// that DFA up to its size limit before giving up, which took over 10 s (libFuzzer timeout).
#[test]
fn aare_contains_gives_up_quickly_on_an_exponential_dfa() {
    let text = input(
        "aare_compile",
        "timeout-c1f0935beac45f3f86a94a86ef6ccda9e8bd1a66",
    );
    let p = Pattern::compile(&text).expect("the pattern is valid AARE");
    let quoted = Pattern::compile(&escape("/")).expect("a quoted path compiles");
    let start = Instant::now();
    // Both directions, as the fuzz target asks them.
    assert_eq!(pattern_contains(&p, &quoted), Some(false));
    let answer = pattern_contains(&quoted, &p);
    let took = start.elapsed();
    // `p` matches much more than "/": inclusion must never be claimed; giving up is allowed.
    assert_ne!(answer, Some(true));
    eprintln!("pattern_contains took {took:?}, answered {answer:?}");
    assert!(
        took < Duration::from_secs(5),
        "pattern_contains took {took:?} on a 59-byte pattern"
    );
}
