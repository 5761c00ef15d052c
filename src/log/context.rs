//! Multi-record audit events: auditd writes one event as several records with the same
//! `audit(EPOCH.MS:SERIAL)` stamp (the AVC, then `SYSCALL`, `CWD`, `PATH`, `PROCTITLE`, …).
//! This module reads the stamp of a record and the few context fields worth keeping; the
//! reader attaches them to the AppArmor events of the same stamp.

use super::AuditContext;

/// The `EPOCH.MS:SERIAL` stamp of an auditd record, if the line has one (the first
/// `audit(` followed by a digit).
pub fn audit_stamp(line: &[u8]) -> Option<&[u8]> {
    for p in super::framing::finder!(b"audit(").find_iter(line) {
        let rest = &line[p + 6..];
        if !rest.first().is_some_and(u8::is_ascii_digit) {
            continue;
        }
        let end = memchr::memchr(b')', rest)?;
        let stamp = &rest[..end];
        if stamp
            .iter()
            .all(|&b| b.is_ascii_digit() || b == b'.' || b == b':')
        {
            return Some(stamp);
        }
        return None;
    }
    None
}

/// The record type of an auditd line (`type=SYSCALL` → `SYSCALL`).
fn record_type(line: &[u8]) -> Option<&[u8]> {
    let p = memchr::memmem::find(line, b"type=")?;
    let v = &line[p + 5..];
    let n = v.iter().position(|&b| b == b' ').unwrap_or(v.len());
    Some(&v[..n])
}

fn decode(v: &[u8]) -> String {
    if let Some(q) = v.strip_prefix(b"\"") {
        let q = q.strip_suffix(b"\"").unwrap_or(q);
        return String::from_utf8_lossy(q).into_owned();
    }
    let hex = v.len() % 2 == 0
        && !v.is_empty()
        && v.iter()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b));
    if hex {
        if let Ok(bytes) = hex::decode(v) {
            let bytes: Vec<u8> = bytes
                .into_iter()
                .map(|b| if b == 0 { b' ' } else { b })
                .collect();
            return String::from_utf8_lossy(bytes.trim_ascii_end()).into_owned();
        }
    }
    String::from_utf8_lossy(v).into_owned()
}

/// `key=value` pairs after the stamp (values quoted or bare; no escapes in auditd output).
fn pairs(line: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let start = memchr::memmem::find(line, b"): ").map_or(line.len(), |p| p + 3);
    let mut rest = &line[start..];
    std::iter::from_fn(move || {
        rest = rest.trim_ascii_start();
        if rest.is_empty() {
            return None;
        }
        let eq = memchr::memchr(b'=', rest);
        let sp = memchr::memchr(b' ', rest).unwrap_or(rest.len());
        let Some(eq) = eq.filter(|&e| e < sp) else {
            rest = &rest[sp..];
            return Some((&b""[..], &b""[..]));
        };
        let key = &rest[..eq];
        let v = &rest[eq + 1..];
        let len = if v.first() == Some(&b'"') {
            memchr::memchr(b'"', &v[1..]).map_or(v.len(), |e| e + 2)
        } else {
            memchr::memchr(b' ', v).unwrap_or(v.len())
        };
        rest = &v[len..];
        Some((key, &v[..len]))
    })
}

fn int(v: &[u8]) -> Option<i64> {
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Merge a non-AppArmor record into `ctx`. Returns false when the record carries nothing we
/// keep (it is still part of the event).
pub(crate) fn merge(line: &[u8], ctx: &mut AuditContext) -> bool {
    let line = line.trim_ascii_end();
    let Some(ty) = record_type(line) else {
        return false;
    };
    let ty_s = String::from_utf8_lossy(ty).into_owned();
    let mut used = false;
    for (k, v) in pairs(line) {
        match (ty, k) {
            (b"SYSCALL", b"syscall") => ctx.syscall = Some(decode(v)),
            (b"SYSCALL", b"success") => ctx.success = Some(v == b"yes"),
            (b"SYSCALL", b"exit") => ctx.exit = int(v),
            (b"SYSCALL", b"ppid") => ctx.ppid = int(v),
            (b"SYSCALL", b"uid") => ctx.uid = int(v),
            (b"SYSCALL", b"auid") => ctx.auid = int(v),
            (b"SYSCALL", b"exe") => ctx.exe = Some(decode(v)),
            (b"PROCTITLE", b"proctitle") => ctx.proctitle = Some(decode(v)),
            (b"CWD", b"cwd") => ctx.cwd = Some(decode(v)),
            _ => continue,
        }
        used = true;
    }
    ctx.records.push(ty_s);
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_and_fields() {
        let sys = b"type=SYSCALL msg=audit(1718798455.147:63): arch=c000003e syscall=257 success=no exit=-13 ppid=1 pid=1193 auid=4294967295 uid=33 comm=\"nginx\" exe=\"/usr/sbin/nginx\" key=(null)";
        assert_eq!(audit_stamp(sys), Some(&b"1718798455.147:63"[..]));
        let mut ctx = AuditContext::default();
        assert!(merge(sys, &mut ctx));
        assert!(merge(
            b"type=PROCTITLE msg=audit(1718798455.147:63): proctitle=6E67696E78002D67",
            &mut ctx
        ));
        assert_eq!(ctx.syscall.as_deref(), Some("257"));
        assert_eq!(ctx.success, Some(false));
        assert_eq!(ctx.exit, Some(-13));
        assert_eq!(ctx.uid, Some(33));
        assert_eq!(ctx.exe.as_deref(), Some("/usr/sbin/nginx"));
        assert_eq!(ctx.proctitle.as_deref(), Some("nginx -g"));
        assert_eq!(ctx.records, ["SYSCALL", "PROCTITLE"]);
    }
}
