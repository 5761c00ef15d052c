//! Inputs the fuzz targets (`fuzz/`) found problems with, replayed through the same library
//! calls as the target that found them. Each input is kept byte for byte under
//! `tests/data/fuzz/TARGET/` with the name libFuzzer gave it; `fuzz/README.md` lists them.
//! (`log_line` inputs are raw bytes: `input_bytes`.)

mod common;

use std::io::Cursor;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aa_assist::aare::{escape, pattern_contains, Pattern};
use aa_assist::log::{Event, Reader, Summary};
use aa_assist::profile::resolve::{expand_vars, expand_with};
use aa_assist::profile::{IncludeMode, Loader, ProfileFile};

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

/// A quoted path with a backslash before a multi-byte character (`"/abc\߿{HOME}…"`):
/// the rule tokenizer copied an escape as its two bytes, cutting the character in half, and
/// panicked on the string slice (`profile_parse`, found on the cheap build at 3648154).
/// Every profile command reads such a file, and `check` parses a model's proposed rules
/// the same way. Replayed through the target's calls, then a minimal rule on its own.
#[test]
fn profile_escape_before_a_multibyte_character_in_quotes() {
    let text = input(
        "profile_parse",
        "crash-4fe9ab2bfef6877c1c0702beddf0066d4389aa88",
    );
    let (tree, _errors) = ProfileFile::parse_recovering("fuzz", &text);
    assert_eq!(tree.to_text(), text);
    if let Ok(strict) = ProfileFile::parse("fuzz", &text) {
        assert_eq!(strict.to_text(), text);
        let _ = strict.includes();
    }
    let mut loader = Loader::new("/nonexistent", IncludeMode::Lenient);
    if let Ok(policy) = loader.load_str("/nonexistent/fuzz", &text) {
        for profile in &policy.profiles {
            let _ = profile.file_rules(&policy.variables);
            let _ = profile.other_rules();
        }
    }
    for line in text.lines().take(16) {
        let _ = aa_assist::profile::parse_one(line);
    }
    // Two-, three- and four-byte characters after the backslash, inside and at the end.
    for rule in [
        "\"/abc\\߿def\" r,",
        "\"/abc\\€\" r,",
        "\"/abc\\😀x\" r,",
        "\"/a\\é",
    ] {
        let _ = aa_assist::profile::parse_one(rule);
    }
}

/// The same file through the real binary: `check` reads the profile and must report, not
/// panic.
#[test]
fn profile_escape_before_a_multibyte_character_through_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pdir = dir.path().join("apparmor.d");
    std::fs::create_dir_all(&pdir).expect("mkdir");
    let profile = pdir.join("usr.bin.foo");
    std::fs::write(
        &profile,
        "/usr/bin/foo {\n  \"/home/*/\\߿.config/foo\" rw,\n  /etc/foo r,\n}\n",
    )
    .expect("write");
    let out = Command::new(common::bin())
        .arg("check")
        .arg(&profile)
        .arg("-d")
        .arg(&pdir)
        .arg("--log")
        .arg(common::repo("examples/pidcache/audit.log"))
        .env("AA_ASSIST_STATE_DIR", dir.path().join("state"))
        .env("AA_ASSIST_CONFIG", dir.path().join("no-config.toml"))
        .env("AA_ASSIST_APPARMOR_PARSER", "/nonexistent/apparmor_parser")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("AA_ASSIST_MODEL")
        .env_remove("OPENAI_API_KEY")
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "check panicked:\n{stderr}");
    assert_ne!(out.status.code(), Some(101), "check panicked:\n{stderr}");
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "check: exit {:?}\n{stderr}",
        out.status.code()
    );
}

/// The variable expansion was bounded in strings (2^16) but not in bytes: two values of 500
/// bytes and a path of 16 references to them is a profile line of under 1 KiB whose expansion
/// is 2^16 strings of 8 KiB, half a gigabyte, built before anything looked at it (a
/// `profile_parse` input, kept as `rss-92b9…`, took the fuzzer from 84 to 690 MB). Both
/// expansion paths (`expand_with`, used by the policy checks, and the memoized one
/// `file_rules` uses) must refuse it as too large, and quickly.
#[test]
fn profile_variable_expansion_is_bounded_in_bytes() {
    let long = |c: char| std::iter::repeat_n(c, 500).collect::<String>();
    let vars: std::collections::BTreeMap<String, Vec<String>> =
        [("A".to_string(), vec![long('a'), long('b')])].into();
    let path = "/@{A}".repeat(16);
    let start = Instant::now();
    let err = expand_vars(&path, &vars).expect_err("2^16 strings of 8 KiB is too large");
    assert!(err.contains("too large"), "{err}");
    let text = format!(
        "@{{A}}={} {}\n/usr/bin/x {{\n  {path} r,\n}}\n",
        long('a'),
        long('b')
    );
    let mut loader = Loader::new("/nonexistent", IncludeMode::Lenient);
    if let Ok(policy) = loader.load_str("/nonexistent/bomb", &text) {
        for profile in &policy.profiles {
            for rule in profile.file_rules(&policy.variables) {
                assert!(rule.patterns.len() <= 1, "{} patterns", rule.patterns.len());
            }
        }
    }
    // Many values, each expanding to 5 MB (within the limits), are together over them.
    let vars: std::collections::BTreeMap<String, Vec<String>> = [
        ("A".to_string(), vec![long('a'), long('b')]),
        ("B".to_string(), vec!["@{A}".repeat(10); 64]),
    ]
    .into();
    assert!(expand_with("/@{B}", &vars, &[]).is_err());
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");

    // The fuzz input: through the target's calls.
    let text = input(
        "profile_parse",
        "rss-92b9ebc69257d4a630f76ecb62943543c18b0a8f",
    );
    let start = Instant::now();
    let mut loader = Loader::new("/nonexistent", IncludeMode::Lenient);
    if let Ok(policy) = loader.load_str("/nonexistent/fuzz", &text) {
        for profile in &policy.profiles {
            let _ = profile.file_rules(&policy.variables);
        }
    }
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
}
