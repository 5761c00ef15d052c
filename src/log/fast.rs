//! A fast path for the common record shape: `type=AVC msg=audit(E.M:S): key=value …`.
//!
//! Almost every line of a real log is this one shape (after [`super::framing`] rewrites the
//! other framings to it). For it, the general scanner (a replay of libapparmor's flex rules,
//! trying every rule at every token) and grammar are far more machinery than needed: this
//! module reads the key list directly into an [`Event`].
//!
//! It is only a shortcut, never a second definition of the format: whenever it meets
//! anything it is not sure it reads exactly as the scanner and grammar would (an address
//! key, an odd value, a stray character, an unterminated quote, …) it gives up and the
//! caller runs the general parser on the whole record. A property test and the corpus test
//! below check that, on every input where it does not give up, it agrees with the general
//! parser field for field.

use super::grammar::ipproto_name;
use super::scan::{atol, exact_keyword, keyword_after, After, Key};
use super::{Event, EventKind};

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x1d)
}

/// Bytes as text, valid UTF-8 without the copy-and-check of `from_utf8_lossy`'s chunks.
fn text(s: &[u8]) -> String {
    match std::str::from_utf8(s) {
        Ok(t) => t.to_owned(),
        Err(_) => String::from_utf8_lossy(s).into_owned(),
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.s[self.i..].starts_with(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn digits(&mut self) -> &'a [u8] {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    /// The value ends here: whitespace or the end of the record.
    fn at_value_end(&self) -> bool {
        self.peek().is_none_or(is_ws)
    }

    /// `"…"` as the scanner's quoted state reads it: `\x` is `x`, newlines are dropped.
    /// `None` unless the quote is closed.
    fn quoted(&mut self) -> Option<String> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let body = &self.s[self.i + 1..];
        let end = memchr::memchr3(b'"', b'\\', b'\n', body)?;
        if body[end] == b'"' {
            self.i += end + 2;
            return Some(text(&body[..end]));
        }
        // Escapes or newlines: the general scanner handles them.
        None
    }

    /// Upper-case hex pairs, decoded as the scanner does (a NUL ends the value); the run
    /// must end the value.
    fn hex(&mut self) -> Option<String> {
        let body = &self.s[self.i..];
        let n = body
            .iter()
            .position(|&b| !(b.is_ascii_digit() || (b'A'..=b'F').contains(&b)))
            .unwrap_or(body.len());
        if n == 0 || n % 2 != 0 || body.get(n).is_some_and(|&b| !is_ws(b)) {
            return None;
        }
        let val = |b: u8| match b {
            b'0'..=b'9' => b - b'0',
            _ => b - b'A' + 10,
        };
        let mut bytes: Vec<u8> = body[..n]
            .chunks_exact(2)
            .map(|p| val(p[0]) << 4 | val(p[1]))
            .collect();
        if let Some(z) = memchr::memchr(0, &bytes) {
            bytes.truncate(z);
        }
        self.i += n;
        Some(match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// A number that the scanner reads as one `DIGITS` token (no longer rule, such as a
    /// time or a date, can start here because the value ends right after the digits).
    fn number(&mut self) -> Option<i64> {
        let d = self.digits();
        (!d.is_empty() && self.at_value_end()).then(|| atol(d))
    }
}

/// Parse `record` if it has the common shape; `None` means "use the general parser".
///
/// `record` is a canonical auditd record (what [`super::framing::canonicalize`] returns);
/// the result is what the lenient general parser would produce before [`Event::finish`].
pub(crate) fn parse_avc(record: &[u8]) -> Option<Event> {
    let s = match memchr::memchr(0, record) {
        Some(n) => &record[..n],
        None => record,
    };
    let mut c = Cursor { s, i: 0 };
    if !c.eat(b"type=AVC msg=audit(") {
        return None;
    }
    let epoch = c.digits();
    if epoch.is_empty() || !c.eat(b".") {
        return None;
    }
    let millis = c.digits();
    if millis.is_empty() || !c.eat(b":") {
        return None;
    }
    let serial = c.digits();
    if serial.is_empty() || !c.eat(b"):") || !c.at_value_end() {
        return None;
    }
    let mut ev = Event::default();
    let mut stamp = String::with_capacity(epoch.len() + millis.len() + serial.len() + 2);
    stamp.push_str(std::str::from_utf8(epoch).ok()?);
    stamp.push('.');
    stamp.push_str(std::str::from_utf8(millis).ok()?);
    stamp.push(':');
    stamp.push_str(std::str::from_utf8(serial).ok()?);
    ev.audit_id = Some(stamp);
    ev.epoch = Some(atol(epoch));
    // `atoi`: the long value truncated to a C int.
    ev.audit_sub_id = Some(i64::from(atol(serial) as i32));
    let mut keys = 0;
    loop {
        while c.peek().is_some_and(is_ws) {
            c.i += 1;
        }
        let Some(first) = c.peek() else { break };
        if !first.is_ascii_alphabetic() {
            return None;
        }
        let rest = &c.s[c.i..];
        let k = rest
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
            .unwrap_or(rest.len());
        if rest.get(k) != Some(&b'=') {
            return None;
        }
        let name = &rest[..k];
        c.i += k + 1;
        keys += 1;
        match exact_keyword(name) {
            Some(kw) => key(&mut c, &mut ev, kw)?,
            None => unknown(&mut c, &mut ev, name)?,
        }
    }
    (keys > 0).then_some(ev)
}

/// An unknown key's value, read as the lenient scanner reads it.
fn unknown(c: &mut Cursor<'_>, ev: &mut Event, name: &[u8]) -> Option<()> {
    let v = &c.s[c.i..];
    let (value, len) = if v.first() == Some(&b'"') {
        let body = &v[1..];
        match memchr::memchr2(b'"', b'\\', body) {
            Some(e) if body[e] == b'"' => (&body[..e], e + 2),
            _ => return None,
        }
    } else {
        let n = v
            .iter()
            .position(|&b| is_ws(b) || b == b'\'')
            .unwrap_or(v.len());
        (&v[..n], n)
    };
    c.i += len;
    ev.unknown_keys.push((text(name), text(value)));
    Some(())
}

/// A known key's value, with the grammar's effect on the event.
fn key(c: &mut Cursor<'_>, ev: &mut Event, kw: usize) -> Option<()> {
    let (key, after) = keyword_after(kw);
    let safe = after == After::SafeString;
    // A safe-string value is quoted or hex; any other value the grammar takes here is
    // quoted or a number.
    let string = |c: &mut Cursor<'_>| -> Option<String> {
        let v = if c.peek() == Some(b'"') {
            c.quoted()?
        } else if safe {
            c.hex()?
        } else {
            return None;
        };
        c.at_value_end().then_some(v)
    };
    let quoted = |c: &mut Cursor<'_>| -> Option<String> {
        let v = c.quoted()?;
        c.at_value_end().then_some(v)
    };
    match key {
        Key::Apparmor => {
            ev.kind = if c.eat(b"\"DENIED\"") {
                EventKind::Denied
            } else if c.eat(b"\"ALLOWED\"") {
                EventKind::Allowed
            } else if c.eat(b"\"AUDIT\"") {
                EventKind::Audit
            } else if c.eat(b"\"STATUS\"") {
                EventKind::Status
            } else if c.eat(b"\"HINT\"") {
                EventKind::Hint
            } else if c.eat(b"\"ERROR\"") {
                EventKind::Error
            } else {
                return None;
            };
            if !c.at_value_end() {
                return None;
            }
        }
        Key::Operation => ev.operation = Some(quoted(c)?),
        Key::Name => ev.name = Some(string(c)?),
        Key::Namespace => ev.namespace = Some(string(c)?),
        Key::Name2 => ev.name2 = Some(string(c)?),
        Key::Mask | Key::DeniedMask => ev.denied_mask = Some(quoted(c)?),
        Key::RequestedMask => ev.requested_mask = Some(quoted(c)?),
        Key::Task => ev.task = Some(c.number()?),
        Key::Parent => ev.parent = Some(c.number()?),
        Key::MagicToken => ev.magic_token = Some(c.number()?),
        Key::Info => ev.info = Some(quoted(c)?),
        Key::PeerInfo => ev.peer_info = Some(quoted(c)?),
        Key::Pid => ev.pid = Some(c.number()?),
        Key::PeerPid => ev.peer_pid = Some(c.number()?),
        Key::Profile | Key::Label => ev.profile = Some(string(c)?),
        Key::PeerProfile | Key::PeerLabel => ev.peer_profile = Some(string(c)?),
        Key::Family => ev.family = Some(quoted(c)?),
        Key::SockType => ev.sock_type = Some(quoted(c)?),
        Key::Protocol => {
            ev.protocol = Some(if c.peek() == Some(b'"') {
                quoted(c)?
            } else {
                ipproto_name(c.number()?)
            });
        }
        Key::Error => {
            c.eat(b"-");
            // Stored in a C int, without its sign.
            ev.error_code = Some(i64::from(c.number()? as i32));
        }
        Key::Fsuid => ev.fsuid = Some(c.number()?),
        Key::Ouid => ev.ouid = Some(c.number()?),
        Key::FsuidUpper => ev.fsuid_name = Some(quoted(c)?),
        Key::OuidUpper => ev.ouid_name = Some(quoted(c)?),
        Key::Sauid | Key::Capability | Key::Offset => {
            c.number()?;
        }
        Key::Exe | Key::Comm => ev.comm = Some(string(c)?),
        Key::Capname => ev.name = Some(quoted(c)?),
        Key::Target => ev.name2 = Some(string(c)?),
        Key::Lport => ev.local_port = Some(c.number()?),
        Key::Fport => ev.foreign_port = Some(c.number()?),
        Key::Bus => ev.dbus_bus = Some(quoted(c)?),
        Key::Path => ev.dbus_path = Some(quoted(c)?),
        Key::Interface => ev.dbus_interface = Some(quoted(c)?),
        Key::Member => ev.dbus_member = Some(quoted(c)?),
        Key::Peer => ev.peer = Some(quoted(c)?),
        Key::Fstype => ev.fs_type = Some(quoted(c)?),
        Key::Flags => ev.flags = Some(quoted(c)?),
        Key::Srcname => ev.src_name = Some(quoted(c)?),
        Key::Execpath => ev.execpath = Some(quoted(c)?),
        Key::Class => ev.rule_class = Some(quoted(c)?),
        Key::Hostname | Key::Terminal => {
            // `?`, or a quoted value (a bare value is never a safe string here).
            if !c.eat(b"?") {
                quoted(c)?;
            }
            if !c.at_value_end() {
                return None;
            }
        }
        Key::Addr => {
            if c.eat(b"?") || c.eat(b"none") {
                if !c.at_value_end() {
                    return None;
                }
            } else {
                ev.net_addr = Some(string(c)?);
            }
        }
        Key::UnixPeerAddr => {
            if c.eat(b"none") {
                if !c.at_value_end() {
                    return None;
                }
            } else {
                ev.peer_addr = Some(string(c)?);
            }
        }
        Key::Laddr | Key::Faddr => {
            // The scanner's address state: `[0-9a-f.:]{3,}`.
            let rest = &c.s[c.i..];
            let n = rest
                .iter()
                .position(|&b| {
                    !(b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'.' || b == b':')
                })
                .unwrap_or(rest.len());
            if n < 3 {
                return None;
            }
            let a = text(&rest[..n]);
            c.i += n;
            if !c.at_value_end() {
                return None;
            }
            if key == Key::Laddr {
                ev.local_addr = Some(a);
            } else {
                ev.foreign_addr = Some(a);
            }
        }
        Key::Signal => {
            // The scanner's sub-id state: one identifier.
            let rest = &c.s[c.i..];
            let n = rest
                .iter()
                .position(|&b| {
                    matches!(
                        b,
                        b' ' | b'\t' | b'\n' | b'(' | b')' | b'=' | b'"' | b'\'' | b'!'
                    )
                })
                .unwrap_or(rest.len());
            if n == 0 || !matches!(rest.get(n), None | Some(b' ' | b'\t' | b'\n')) {
                return None;
            }
            ev.signal = Some(text(&rest[..n]));
            c.i += n;
        }
        // Attributes, `type=` inside the list and the keys that end a key list: rare, and
        // subtle in the scanner; leave them to it.
        Key::Type | Key::Msg | Key::Uid | Key::Auid | Key::Ses | Key::Attribute => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{grammar, scan};

    /// The general path, exactly as `parse_line_with` runs it for a canonical record.
    fn general(record: &[u8]) -> Option<Event> {
        let mut toks = Vec::new();
        let mut ev = Event::default();
        scan::tokenize(record, &mut toks, true);
        let ok = grammar::parse_tokens(&mut toks, &mut ev, true);
        (ok && ev.kind != EventKind::Invalid).then_some(ev)
    }

    fn agree(record: &[u8]) -> bool {
        let Some(fast) = parse_avc(record) else {
            return false;
        };
        let slow = general(record);
        assert_eq!(
            Some(&fast).filter(|e| e.kind != EventKind::Invalid),
            slow.as_ref(),
            "{}",
            String::from_utf8_lossy(record)
        );
        true
    }

    #[test]
    fn common_records_take_the_fast_path() {
        for r in [
            &br#"type=AVC msg=audit(1279948288.415:39): apparmor="DENIED" operation="open" parent=12332 profile="/usr/sbin/cupsd" name="/home/user/.ssh/" pid=12333 comm="ls" requested_mask="r" denied_mask="r" fsuid=0 ouid=1000"#[..],
            b"type=AVC msg=audit(1.2:3): apparmor=\"ALLOWED\" operation=\"file_perm\" class=\"file\" profile=\"p\" name=2F746D70 pid=1 comm=6C73 requested_mask=\"l\" denied_mask=\"l\" fsuid=1 ouid=0\x1dFSUID=\"www-data\" OUID=\"root\"",
            br#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="connect" class="net" profile="p" pid=1 comm="x" family="inet" sock_type="stream" protocol=6 requested_mask="connect" denied_mask="connect""#,
            br#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="capable" class="cap" profile="p" pid=1 comm="x" capability=12 capname="net_admin" error=-1 x_unknown="y z" other=1"#,
            br#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="connect" profile="p" laddr=127.0.0.1 lport=80 faddr=::1 fport=9 addr=none peer_addr=none hostname=? signal=term"#,
        ] {
            assert!(agree(r), "{}", String::from_utf8_lossy(r));
        }
    }

    #[test]
    fn unusual_records_fall_back() {
        for r in [
            &br#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="getattr" attribute="x""#[..],
            br#"type=AVC msg=audit(1.2:3): apparmor="DENIED" name="a\"b""#,
            br#"type=AVC msg=audit(1.2:3): apparmor="DENIED" name="unterminated"#,
            br#"type=AVC msg=audit(1.2:3): apparmor="DENIED" pid=12:00:00"#,
            br#"type=AVC msg=audit(1.2:3): apparmor="DENIED" name=ABC"#,
            br#"type=AVC msg=audit(1.2:3): "#,
            br#"type=APPARMOR_DENIED msg=audit(1.2:3): apparmor="DENIED""#,
        ] {
            assert!(parse_avc(r).is_none(), "{}", String::from_utf8_lossy(r));
        }
    }

    /// Every canonical AVC record of the upstream corpus and of our examples: where the fast
    /// path answers, it answers as the general parser does.
    #[test]
    fn agrees_with_the_general_parser_on_real_logs() {
        let files = crate::log::sample_log_files();
        let (mut seen, mut fast) = (0, 0);
        for f in files {
            let Ok(bytes) = std::fs::read(&f) else {
                continue;
            };
            for line in bytes.split(|&b| b == b'\n') {
                let mut buf = Vec::new();
                let Ok(Some(u)) = crate::log::framing::unwrap(line, &mut buf) else {
                    continue;
                };
                let payload: &[u8] = match u.payload {
                    crate::log::framing::Payload::Line => line,
                    crate::log::framing::Payload::Buffer => &buf,
                };
                if let crate::log::framing::Canonical::Full(rec) =
                    crate::log::framing::canonicalize(payload)
                {
                    seen += 1;
                    if agree(&rec) {
                        fast += 1;
                    }
                }
            }
        }
        assert!(seen > 100, "only {seen} records found");
        assert!(fast * 2 > seen, "fast path took only {fast} of {seen}");
    }

    proptest::proptest! {
        /// Random key lists built from real keys and awkward values: wherever the fast path
        /// answers, the general parser gives the same event.
        #[test]
        fn agrees_with_the_general_parser(
            pairs in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "apparmor", "operation", "name", "name2", "profile", "label", "comm",
                        "exe", "pid", "requested_mask", "denied_mask", "mask", "fsuid", "ouid",
                        "FSUID", "OUID", "class", "protocol", "error", "capname", "capability",
                        "target", "info", "peer", "flags", "family", "sock_type", "namespace",
                        "unknown_key", "x", "peer_label", "member", "bus", "lport",
                        "laddr", "faddr", "saddr", "daddr", "addr", "peer_addr", "hostname",
                        "terminal", "signal", "attribute",
                    ]),
                    proptest::sample::select(vec![
                        "\"DENIED\"", "\"ALLOWED\"", "\"/etc/x y\"", "2F746D70", "2f74", "12",
                        "-13", "\"a\\\"b\"", "", "abc", "1.2.3.4", "(null)", "\"r\"",
                        "12:00:00", "2024-01-01", "ABC", "\"\"", "0", "99999999999999999999",
                        "\"caf\u{e9}\"", "00", "4142004344", "?", "none", "nonex", "127.0.0.1",
                        "::1", "fe80::1", "ab", "term", "hup(", "x!y", "?z",
                    ]),
                ),
                1..10,
            ),
            sep in proptest::sample::select(vec![" ", "  ", "\t", "\x1d", " \x1d"]),
            tail in proptest::sample::select(vec!["", " ", "'", "?", " zz"]),
        ) {
            let mut line = String::from("type=AVC msg=audit(1718000000.434:1003): ");
            for (k, v) in &pairs {
                line.push_str(k);
                line.push('=');
                line.push_str(v);
                line.push_str(sep);
            }
            line.push_str(tail);
            agree(line.as_bytes());
        }
    }
}
