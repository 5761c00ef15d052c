//! Framings: how a log line wraps the kernel's AppArmor record, and how far each can be
//! trusted.
//!
//! Recognised: auditd `audit.log` (optionally `node=HOST ` prefixed), `ausearch` raw output
//! (`ausearch -i` output is read by `interpreted` once the ordinary parse has failed),
//! `dmesg` (with or without `-T`), syslog / `kern.log` / `journalctl` short output (classic
//! and ISO dates), journald JSON export (`journalctl -o json`), and bare `msg=audit(…)`
//! dispatcher lines. The record inside is rewritten to the auditd form
//! (`type=T msg=audit(…): …`) so one grammar parses them all.
//!
//! # Trust
//!
//! A line is trusted only when its framing is one a user cannot produce in the log it is
//! in. What a line can prove by itself:
//!
//! - syslog, `kern.log` and every `journalctl` text output (`short`, `short-iso`,
//!   `short-monotonic`, …): nothing. `logger -t kernel 'audit: type=1400 …'` gives exactly
//!   the line the kernel's record gives (`host kernel: audit: …`); a message sent with the
//!   kern facility is filed in `kern.log` like the kernel's. So these are never trusted.
//! - `journalctl -o short-monotonic` starts every line, any user's included, with a `dmesg`
//!   stamp (`[ 1234.567890] host tag[pid]: …`): a line is read as `dmesg` only when the
//!   kernel's record comes right after the stamp (`[ 1234.5] audit: type=1400 …`), where
//!   the journal puts the host name and the sender's tag.
//! - An indented line is the continuation of a multi-line message (`journalctl` indents them
//!   under the first line's text): whoever sent the message wrote it. Never trusted.
//! - journald JSON: `_TRANSPORT` is set by journald, not by the sender (fields starting
//!   with `_` cannot be sent), so `kernel` and `audit` prove the kernel wrote the message.
//! - auditd lines (`type=…`) and `dmesg` lines: only as good as the log they are in. In
//!   `audit.log` (auditd writes it, only root can) and in `dmesg` output nobody else writes
//!   lines. In a text export where a message can start a line (a syslog daemon that does not
//!   escape newlines, `journalctl -o cat`/`-o export`), any user can write one.
//!
//! So trust is (kind of log × framing): the reader ([`super::reader`]) takes the kind of
//! log from its lines ([`line_class`]: the first line that is not blank or indented sets
//! it, a later line of another class makes it mixed, and nothing from there on is
//! trusted) and from the channel (a root-owned file only root can write, or `journalctl`;
//! never stdin or a file a user can write). Known limit: an export whose first lines are a
//! user's (`journalctl -o cat` starting with a user's message, `journalctl -o
//! short-monotonic --no-hostname` where a user's tag is the kernel's record) looks like a
//! pure log until its first line of another kind.
//!
//! This module does not read files (see `reader`) and does not parse the record.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::LineError;

/// The framing a line came in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Framing {
    /// auditd's `audit.log` (`type=AVC msg=audit(…): …`).
    Auditd,
    /// `ausearch` output: raw (`----` separators, `time->` lines, then auditd records) or
    /// interpreted (`ausearch -i`: `audit(06/19/2024 12:00:55.123:1234) : …`).
    Ausearch,
    /// The kernel ring buffer as `dmesg` prints it (`[ 1234.567890] audit: …`).
    Dmesg,
    /// syslog, `kern.log` or `journalctl` short output (`Jun 19 12:00:55 host kernel: …`).
    Syslog,
    /// `journalctl -o json` export lines.
    JournalJson,
    /// Anything else that still carried an AppArmor record.
    #[default]
    Unknown,
}

impl Framing {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Framing::Auditd => "auditd",
            Framing::Ausearch => "ausearch",
            Framing::Dmesg => "dmesg",
            Framing::Syslog => "syslog",
            Framing::JournalJson => "journal_json",
            Framing::Unknown => "unknown",
        }
    }
}

pub(crate) enum Payload {
    /// The record is the line itself.
    Line,
    /// The record was copied out of the framing into the scratch buffer.
    Buffer,
}

pub(crate) struct Unwrapped {
    pub framing: Framing,
    pub trusted: bool,
    pub payload: Payload,
    /// A timestamp from the framing (journald `__REALTIME_TIMESTAMP`), for records without
    /// an audit stamp.
    pub epoch: Option<i64>,
}

#[derive(Deserialize)]
struct JournalEntry {
    #[serde(rename = "MESSAGE")]
    message: Option<serde_json::Value>,
    #[serde(rename = "_TRANSPORT")]
    transport: Option<String>,
    #[serde(rename = "__REALTIME_TIMESTAMP")]
    realtime: Option<String>,
    #[serde(rename = "DBUS_BROKER_POLICY_TYPE")]
    broker_policy: Option<String>,
    #[serde(rename = "DBUS_BROKER_TRANSMIT_ACTION")]
    broker_action: Option<String>,
    #[serde(rename = "DBUS_BROKER_SENDER_SECURITY_LABEL")]
    broker_sender: Option<String>,
    #[serde(rename = "DBUS_BROKER_RECEIVER_SECURITY_LABEL")]
    broker_receiver: Option<String>,
    #[serde(rename = "DBUS_BROKER_MESSAGE_TYPE")]
    broker_type: Option<String>,
    #[serde(rename = "DBUS_BROKER_MESSAGE_DESTINATION")]
    broker_dest: Option<String>,
    #[serde(rename = "DBUS_BROKER_MESSAGE_PATH")]
    broker_path: Option<String>,
    #[serde(rename = "DBUS_BROKER_MESSAGE_INTERFACE")]
    broker_interface: Option<String>,
    #[serde(rename = "DBUS_BROKER_MESSAGE_MEMBER")]
    broker_member: Option<String>,
}

/// Split `label (mode)` as dbus-broker logs security labels.
fn broker_label(l: &str) -> (&str, Option<&str>) {
    match l.rsplit_once(" (") {
        Some((name, mode)) if mode.ends_with(')') => (name, Some(&mode[..mode.len() - 1])),
        _ => (l, None),
    }
}

fn push_kv(buf: &mut Vec<u8>, key: &str, value: Option<&str>) {
    let Some(v) = value else { return };
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b"=\"");
    for &b in v.as_bytes() {
        if b == b'"' || b == b'\\' {
            buf.push(b'\\');
        }
        buf.push(b);
    }
    buf.extend_from_slice(b"\" ");
}

/// dbus-broker logs AppArmor mediation as structured journal fields, not as a kernel-style
/// record: rebuild the record from them.
fn broker_record(e: &JournalEntry, buf: &mut Vec<u8>) {
    let (sender, mode) = broker_label(e.broker_sender.as_deref().unwrap_or(""));
    let (receiver, _) = broker_label(e.broker_receiver.as_deref().unwrap_or(""));
    let kind = if mode == Some("complain") {
        "ALLOWED"
    } else {
        "DENIED"
    };
    let op = match e.broker_type.as_deref() {
        Some("signal") => "dbus_signal",
        Some("method_call") | None => "dbus_method_call",
        Some(_) => "dbus_method_call",
    };
    buf.clear();
    push_kv(buf, "apparmor", Some(kind));
    push_kv(buf, "operation", Some(op));
    push_kv(buf, "mask", e.broker_action.as_deref());
    push_kv(buf, "name", e.broker_dest.as_deref());
    push_kv(buf, "path", e.broker_path.as_deref());
    push_kv(buf, "interface", e.broker_interface.as_deref());
    push_kv(buf, "member", e.broker_member.as_deref());
    push_kv(buf, "label", Some(sender).filter(|s| !s.is_empty()));
    push_kv(buf, "peer_label", Some(receiver).filter(|s| !s.is_empty()));
}

/// A substring searcher built once: building one costs more than a search of a short line.
macro_rules! finder {
    ($needle:expr) => {{
        static F: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($needle));
        &*F
    }};
}
pub(crate) use finder;

/// Quick test: can this text hold an AppArmor record at all?
pub(crate) fn is_apparmor(s: &[u8]) -> bool {
    // One pass for any of the words the test below needs one of (most lines of an audit
    // log have none: a search per word read each of them five times).
    static ANY: std::sync::LazyLock<Option<aho_corasick::packed::Searcher>> =
        std::sync::LazyLock::new(|| {
            aho_corasick::packed::Searcher::new([
                &b"apparmor="[..],
                b"APPARMOR",
                b"type=150",
                b"operation=\"",
                b"DBUS_BROKER_POLICY_TYPE\":\"apparmor",
            ])
        });
    if ANY.as_ref().is_some_and(|a| a.find(s).is_none()) {
        return false;
    }
    finder!(b"apparmor=").find(s).is_some()
        || finder!(b"APPARMOR").find(s).is_some()
        || finder!(b"type=150").find(s).is_some()
        || (finder!(b"operation=\"").find(s).is_some()
            && (finder!(b"profile=").find(s).is_some() || finder!(b"label=").find(s).is_some()))
        || finder!(b"DBUS_BROKER_POLICY_TYPE\":\"apparmor")
            .find(s)
            .is_some()
}

/// A record ready for the grammar.
pub(crate) enum Canonical<'a> {
    /// A full record in auditd form (`type=T msg=audit(…): …`).
    Full(Cow<'a, [u8]>),
    /// Only `key=value` pairs: the framing carried no audit stamp (dbus-daemon via syslog or
    /// the journal, dbus-broker).
    Keys(&'a [u8]),
}

fn starts_with_month(s: &[u8]) -> bool {
    const M: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    M.iter().any(|m| s.starts_with(m))
}

/// Classify the framing and, for journald JSON, copy `MESSAGE` into `buf`. `Ok(None)` means
/// the line cannot be AppArmor output.
pub(crate) fn unwrap(line: &[u8], buf: &mut Vec<u8>) -> Result<Option<Unwrapped>, LineError> {
    let t = line.trim_ascii_start();
    let indented = t.len() != line.len();
    if t.first() == Some(&b'{') {
        // Messages with non-UTF-8 bytes are exported as byte arrays; only those need a parse
        // to find out.
        if !is_apparmor(t) && finder!(b"\"MESSAGE\":[").find(t).is_none() {
            return Ok(None);
        }
        let entry: JournalEntry =
            serde_json::from_slice(t).map_err(|e| LineError::Journal(e.to_string()))?;
        let epoch = entry
            .realtime
            .as_deref()
            .and_then(|t| t.parse::<i64>().ok())
            .map(|us| us / 1_000_000);
        // journald sets `_TRANSPORT` itself (fields starting with `_` cannot be sent);
        // an indented line is part of some other message.
        let trusted = !indented && matches!(entry.transport.as_deref(), Some("kernel" | "audit"));
        if entry.broker_policy.as_deref() == Some("apparmor") {
            broker_record(&entry, buf);
            return Ok(Some(Unwrapped {
                framing: Framing::JournalJson,
                trusted,
                payload: Payload::Buffer,
                epoch,
            }));
        }
        buf.clear();
        match entry.message {
            Some(serde_json::Value::String(s)) => buf.extend_from_slice(s.as_bytes()),
            Some(serde_json::Value::Array(a)) => {
                buf.extend(a.iter().filter_map(|v| v.as_u64()).map(|v| v as u8));
            }
            Some(_) => {
                return Err(LineError::Journal(
                    "MESSAGE is neither text nor bytes".into(),
                ))
            }
            None => return Ok(None),
        }
        return Ok(Some(Unwrapped {
            framing: Framing::JournalJson,
            trusted,
            payload: Payload::Buffer,
            epoch,
        }));
    }
    if !is_apparmor(t) {
        return Ok(None);
    }
    let (framing, trusted) = if starts_auditd(t) {
        (Framing::Auditd, true)
    } else if let Some(rest) = after_dmesg_stamp(t) {
        if kernel_record_first(rest) {
            (Framing::Dmesg, true)
        } else {
            // `journalctl -o short-monotonic`: `[ 1234.567890] host ident[pid]: message`,
            // any user's message included.
            (Framing::Syslog, false)
        }
    } else if starts_with_month(t) || t.first().is_some_and(u8::is_ascii_digit) {
        (Framing::Syslog, false)
    } else {
        (Framing::Unknown, false)
    };
    Ok(Some(Unwrapped {
        framing,
        // An indented line is the continuation of a multi-line message (journalctl indents
        // them under the first line's text): whoever sent the message wrote all of it.
        trusted: trusted && !indented,
        payload: Payload::Line,
        epoch: None,
    }))
}

/// Whether a line (already without its indentation) starts the way auditd writes records
/// (`type=…`, `node=HOST type=…`, a dispatcher's bare `msg=audit(…)`).
fn starts_auditd(t: &[u8]) -> bool {
    t.starts_with(b"type=") || t.starts_with(b"node=") || t.starts_with(b"msg=audit(")
}

/// The text after a `dmesg` timestamp (`[ 1234.567890] `, `dmesg -T`'s `[Wed Jun 19
/// 12:00:55 2024] `, `--time-format reltime`'s `[Jun19 12:00] `, `-d`'s `[ 1.2 < 0.3>] `), or
/// `None` when the line does not start with one. `journalctl -o short-monotonic` starts its
/// lines the same way.
pub(crate) fn after_dmesg_stamp(t: &[u8]) -> Option<&[u8]> {
    let inner = t.strip_prefix(b"[")?;
    let close = inner.iter().take(48).position(|&b| b == b']')?;
    let stamp = &inner[..close];
    if stamp.is_empty()
        || !stamp.iter().any(u8::is_ascii_digit)
        || !stamp
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b" .:+-<>,".contains(&b))
    {
        return None;
    }
    inner[close + 1..].strip_prefix(b" ")
}

/// Whether the message after a `dmesg` timestamp is the kernel's audit record itself
/// (`audit: type=1400 audit(…)`, or `type=1400 audit(…)` on old kernels), as the kernel
/// ring buffer holds it; in a journal export a host name and a sender's tag come first.
fn kernel_record_first(rest: &[u8]) -> bool {
    rest.starts_with(b"audit: type=") || rest.starts_with(b"type=")
}

/// What a line says about the log it is in, by how it starts. A log is read as one kind
/// (see `reader`): the first line that is not [`LineClass::Neutral`] sets it, and any later
/// line of another class shows the log mixes writers, so nothing after it is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineClass {
    /// A blank line, or an indented one (a continuation of the line before): says nothing.
    Neutral,
    /// What auditd or `ausearch` write: `type=`, `node=`, `msg=audit(`, `----`, `time->`,
    /// `<no matches>`.
    Audit,
    /// The kernel ring buffer as `dmesg` prints it: a timestamp, then the kernel's message;
    /// an AppArmor record right after the timestamp.
    Dmesg,
    /// One journald entry as JSON (`journalctl -o json`).
    Json,
    /// Anything else: syslog and journal text exports (any user's messages among the
    /// kernel's), and lines no known log writer starts with.
    Other,
}

/// The [`LineClass`] of a line (`complete` false: an over-long line, whose text was not
/// kept, is [`LineClass::Other`]).
pub(crate) fn line_class(line: &[u8], complete: bool) -> LineClass {
    if !complete {
        return LineClass::Other;
    }
    match line.first() {
        None => return LineClass::Neutral,
        Some(b) if b.is_ascii_whitespace() => return LineClass::Neutral,
        Some(b'{') => return LineClass::Json,
        _ => {}
    }
    if starts_auditd(line)
        || line.starts_with(b"----")
        || line.starts_with(b"time->")
        || line.starts_with(b"<no matches>")
    {
        return LineClass::Audit;
    }
    match after_dmesg_stamp(line) {
        // A dmesg line that is not AppArmor output cannot be told from a journal export's
        // `[stamp] host tag: …`; one that is tells them apart: the kernel's record comes
        // right after the stamp only in dmesg.
        Some(rest) if kernel_record_first(rest) || !is_apparmor(line) => LineClass::Dmesg,
        _ => LineClass::Other,
    }
}

/// The record type name to use for a `type=` value.
fn type_name(v: &[u8]) -> Cow<'static, [u8]> {
    if !v.is_empty() && v.iter().all(u8::is_ascii_digit) {
        let n = super::scan::atol(v);
        let name: &'static [u8] = match n {
            1400 => b"AVC",
            1107 => b"USER_AVC",
            1501 => b"APPARMOR_AUDIT",
            1502 => b"APPARMOR_ALLOWED",
            1503 => b"APPARMOR_DENIED",
            1504 => b"APPARMOR_HINT",
            1505 => b"APPARMOR_STATUS",
            1506 => b"APPARMOR_ERROR",
            _ => return Cow::Owned(format!("UNKNOWN[{n}]").into_bytes()),
        };
        Cow::Borrowed(name)
    } else {
        Cow::Owned(v.to_vec())
    }
}

/// Rewrite any framing of a kernel record to the auditd form `type=T msg=audit(…): …`.
/// Records without an audit stamp (e.g. dbus-daemon's syslog lines) become their key list.
pub(crate) fn canonicalize(payload: &[u8]) -> Canonical<'_> {
    let Some(p) = finder!(b"audit(")
        .find_iter(payload)
        .find(|&p| payload.get(p + 6).is_some_and(u8::is_ascii_digit))
    else {
        let start = [&b"apparmor="[..], b"operation=", b"profile=", b"label="]
            .iter()
            .filter_map(|k| memchr::memmem::find(payload, k))
            .min()
            .unwrap_or(0);
        return Canonical::Keys(&payload[start..]);
    };
    Canonical::Full(canonical_stamped(payload, p))
}

fn canonical_stamped(payload: &[u8], p: usize) -> Cow<'_, [u8]> {
    let head = &payload[..p];
    // The already-canonical auditd form needs no copy.
    if head.len() >= 10 && head.starts_with(b"type=") && head.ends_with(b" msg=") {
        let t = &head[5..head.len() - 5];
        if !t.contains(&b' ') && !t.iter().all(u8::is_ascii_digit) {
            return Cow::Borrowed(payload);
        }
    }
    let ty: Cow<'static, [u8]> = match memchr::memmem::rfind(head, b"type=") {
        Some(tp) => {
            let v = &head[tp + 5..];
            let n = v
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'[' | b']')))
                .unwrap_or(v.len());
            type_name(&v[..n])
        }
        None => Cow::Borrowed(b"AVC"),
    };
    let body = &payload[p..];
    let mut out = Vec::with_capacity(body.len() + 32);
    out.extend_from_slice(b"type=");
    out.extend_from_slice(&ty);
    out.extend_from_slice(b" msg=");
    out.extend_from_slice(body);
    if &*ty == b"USER_AVC" {
        let trimmed = out.trim_ascii_end().len();
        out.truncate(trimmed);
        if out.last() != Some(&b'\'') {
            out.push(b'\'');
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        match canonicalize(s.as_bytes()) {
            Canonical::Full(c) => String::from_utf8(c.into_owned()).unwrap(),
            Canonical::Keys(k) => format!("KEYS {}", String::from_utf8_lossy(k)),
        }
    }

    #[test]
    fn dmesg_and_syslog_become_auditd() {
        assert_eq!(
            canon("[ 1.000000] audit: type=1400 audit(1.2:3): apparmor=\"DENIED\""),
            "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\""
        );
        assert_eq!(
            canon("Jun 19 12:00:55 h kernel: audit: type=1107 audit(1.2:3): pid=1 uid=2 auid=3 ses=4 msg='x=1"),
            "type=USER_AVC msg=audit(1.2:3): pid=1 uid=2 auid=3 ses=4 msg='x=1'"
        );
    }

    #[test]
    fn auditd_is_borrowed() {
        assert!(matches!(
            canonicalize(b"type=AVC msg=audit(1.2:3): apparmor=\"DENIED\""),
            Canonical::Full(Cow::Borrowed(_))
        ));
        assert_eq!(
            canon("Aug 14 21:27:54 h dbus-daemon[2134]: apparmor=\"ALLOWED\" x=1"),
            "KEYS apparmor=\"ALLOWED\" x=1"
        );
    }

    proptest::proptest! {
        /// The one-pass pre-test never turns away a line the word-by-word test takes.
        #[test]
        fn is_apparmor_equals_searching_each_word(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "apparmor=", "apparmor", "APPARMOR", "APPARMO", "type=150", "type=15",
                    "operation=\"", "operation=", "profile=", "label=",
                    "DBUS_BROKER_POLICY_TYPE\":\"apparmor", "DBUS_BROKER_POLICY_TYPE",
                    " ", "x", "=", "\"", "é",
                ]),
                0..8,
            ),
        ) {
            let s = parts.concat();
            let b = s.as_bytes();
            let slow = finder!(b"apparmor=").find(b).is_some()
                || finder!(b"APPARMOR").find(b).is_some()
                || finder!(b"type=150").find(b).is_some()
                || (finder!(b"operation=\"").find(b).is_some()
                    && (finder!(b"profile=").find(b).is_some() || finder!(b"label=").find(b).is_some()))
                || finder!(b"DBUS_BROKER_POLICY_TYPE\":\"apparmor").find(b).is_some();
            proptest::prop_assert_eq!(is_apparmor(b), slow, "{:?}", s);
        }
    }
}
