//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod files;

/// The conformance corpus: `$AA_CORPUS_DIR`, else `../shared/corpus` beside the repository.
///
/// Returns `None` (after printing a notice) when the corpus is absent, so a developer without
/// it can still run the suite; under `CI=true` a missing corpus is a failure, never a skip.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("AA_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "conformance corpus not found at {} (set AA_CORPUS_DIR); CI must not skip it",
            dir.display()
        );
    }
    eprintln!(
        "notice: conformance corpus not found at {}; skipping (set AA_CORPUS_DIR)",
        dir.display()
    );
    None
}

/// Path of the built `aa-assist` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_aa-assist"))
}

/// A path inside the repository (the examples, fixtures, scripts).
pub fn repo(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Whether the suite runs under CI (`CI=true`), where a skip is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A checked drafter proposal for `exampled` that covers `covers` with `verdict`, no
/// alternatives and no findings: the base of the hand-made `--proposals` files of the review
/// tests (each adds what it needs).
pub fn checked(
    id: &str,
    rule: &str,
    covers: &[&str],
    verdict: aa_assist::check::Verdict,
) -> aa_assist::check::Checked {
    let ids = || covers.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    aa_assist::check::Checked {
        proposal: aa_assist::draft::Proposal {
            id: id.into(),
            profile: "exampled".into(),
            rule: rule.into(),
            source: aa_assist::draft::Source::Drafter,
            claimed_evidence: ids(),
            alternatives: vec![],
            rationale: None,
            exec_modes: vec![],
        },
        covers: ids(),
        partial: vec![],
        unsupported_claims: vec![],
        extra_paths: vec![],
        extra_path_count: 0,
        extra_perms: vec![],
        findings: vec![],
        verdict,
    }
}

/// An OpenAI chat-completion response body whose one choice says `content`.
pub fn completion(content: &str, finish: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    })
}

/// A mock OpenAI-compatible server on 127.0.0.1 whose `/v1/chat/completions` always answers
/// `content` (finish reason `stop`).
pub async fn server_answering(content: String) -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(completion(&content, "stop")),
        )
        .mount(&server)
        .await;
    server
}

/// Text that must never reach a terminal raw (issue: what reaches a terminal): an OSC 52
/// clipboard write, an OSC 8 link, a CSI sequence, a right-to-left override, a zero-width
/// space and a Unicode tag character.
pub const HOSTILE: &[&str] = &[
    "\x1b]52;c;ZWNobyBwd25lZA==\x07",
    "\x1b]8;;http://evil.example/\x1b\\",
    "\x1b[2J",
    "\u{202e}",
    "\u{200b}",
    "\u{e0041}",
];

/// A name carrying every [`HOSTILE`] piece, e.g. `/tmp/x<OSC52>…<tag>.txt`.
pub fn hostile_name(prefix: &str) -> String {
    let mut s = prefix.to_string();
    for h in HOSTILE {
        s.push_str(h);
        s.push('z');
    }
    s
}

/// The kernel's hex encoding of an audit field value.
pub fn audit_hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

/// Panics when `out` (stdout or stderr of the binary) holds a raw ESC, C1 CSI, BEL, the
/// override, the zero-width space or a tag character.
pub fn assert_no_raw_hostile(what: &str, out: &[u8]) {
    let text = String::from_utf8_lossy(out);
    for bad in [
        '\x1b',
        '\x07',
        '\u{9b}',
        '\u{202e}',
        '\u{200b}',
        '\u{e0041}',
    ] {
        assert!(
            !text.contains(bad),
            "{what}: raw {:?} reached the output:\n{text:?}",
            bad
        );
    }
}
