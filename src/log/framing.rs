//! Framings: how a log line wraps the kernel's AppArmor record, and how far each can be
//! trusted.
//!
//! Recognised: auditd `audit.log` (optionally `node=HOST ` prefixed), `ausearch` raw output,
//! `dmesg` (with or without `-T`), syslog / `kern.log` / `journalctl` short output (classic
//! and ISO dates), journald JSON export (`journalctl -o json`), and bare `msg=audit(…)`
//! dispatcher lines. The record inside is rewritten to the auditd form
//! (`type=T msg=audit(…): …`) so one grammar parses them all.
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
    /// `ausearch` raw output (`----` separators, `time->` lines, then auditd records).
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
}

#[derive(Deserialize)]
struct JournalEntry {
    #[serde(rename = "MESSAGE")]
    message: Option<serde_json::Value>,
    #[serde(rename = "_TRANSPORT")]
    transport: Option<String>,
}

/// Quick test: can this text hold an AppArmor record at all?
pub(crate) fn is_apparmor(s: &[u8]) -> bool {
    memchr::memmem::find(s, b"apparmor=").is_some()
        || memchr::memmem::find(s, b"APPARMOR").is_some()
        || memchr::memmem::find(s, b"type=150").is_some()
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
    if t.first() == Some(&b'{') {
        // Messages with non-UTF-8 bytes are exported as byte arrays; only those need a parse
        // to find out.
        if !is_apparmor(t) && memchr::memmem::find(t, b"\"MESSAGE\":[").is_none() {
            return Ok(None);
        }
        let entry: JournalEntry =
            serde_json::from_slice(t).map_err(|e| LineError::Journal(e.to_string()))?;
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
        let trusted = matches!(entry.transport.as_deref(), Some("kernel" | "audit"));
        return Ok(Some(Unwrapped {
            framing: Framing::JournalJson,
            trusted,
            payload: Payload::Buffer,
        }));
    }
    if !is_apparmor(t) {
        return Ok(None);
    }
    let (framing, trusted) =
        if t.starts_with(b"type=") || t.starts_with(b"node=") || t.starts_with(b"msg=audit(") {
            (Framing::Auditd, true)
        } else if t.first() == Some(&b'[') {
            (Framing::Dmesg, true)
        } else if starts_with_month(t) || t.first().is_some_and(u8::is_ascii_digit) {
            (Framing::Syslog, false)
        } else {
            (Framing::Unknown, false)
        };
    Ok(Some(Unwrapped {
        framing,
        trusted,
        payload: Payload::Line,
    }))
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
/// Records without an audit stamp (e.g. dbus-daemon's syslog lines) are returned unchanged.
pub(crate) fn canonicalize(payload: &[u8]) -> Cow<'_, [u8]> {
    let finder = memchr::memmem::Finder::new(b"audit(");
    let Some(p) = finder
        .find_iter(payload)
        .find(|&p| payload.get(p + 6).is_some_and(u8::is_ascii_digit))
    else {
        return Cow::Borrowed(payload);
    };
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
        String::from_utf8(canonicalize(s.as_bytes()).into_owned()).unwrap()
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
            Cow::Borrowed(_)
        ));
    }
}
