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

use std::borrow::Cow;

use super::fields::{Fields, MaskText};
use super::grammar::ipproto_name;
use super::scan::{atol, exact_keyword, keyword_after, pack_words, packed_keyword, After, Key};
use super::{Event, EventClass, EventKind};

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x1d)
}

/// If `s` has 16 bytes and an `=` among them: the position of the first, and the bytes
/// before it [`pack_words`]ed (a word-at-a-time zero-byte test, exact for the lowest match).
fn key_within_16(s: &[u8]) -> Option<(usize, u128)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let first = |w: u64| -> Option<usize> {
        let x = w ^ (ONES * u64::from(b'='));
        let t = x.wrapping_sub(ONES) & !x & HIGHS;
        (t != 0).then(|| (t.trailing_zeros() / 8) as usize)
    };
    let lo = u64::from_le_bytes(s.get(..8)?.try_into().ok()?);
    let hi = u64::from_le_bytes(s.get(8..16)?.try_into().ok()?);
    let k = first(lo).or_else(|| Some(8 + first(hi)?))?;
    Some((k, pack_words(lo, hi, k)))
}

/// The first `"`, `\\` or newline in `s`. Most values are short: the first 16 bytes are
/// searched eight at a time in registers (a zero-byte test per wanted byte, exact for the
/// lowest match), the rest with `memchr3`, whose set-up costs more than a short value.
fn quote_end(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut i = 0;
    while i < 16 {
        let Some(chunk) = s.get(i..i + 8) else {
            break;
        };
        let w = u64::from_le_bytes(chunk.try_into().ok()?);
        let hit = zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | zero(w ^ (ONES * u64::from(b'\n')));
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    memchr::memchr3(b'"', b'\\', b'\n', s.get(i..)?).map(|n| n + i)
}

/// Bytes as text: borrowed when valid UTF-8, else lossily decoded.
fn text(s: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(s) {
        Ok(t) => Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(s),
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    /// `s` as text when it is all valid UTF-8 (nearly always): then a value is a slice of
    /// it, checked once per record rather than once per value.
    t: Option<&'a str>,
    i: usize,
    /// Inside a `USER_AVC`'s `msg='…'`: a `'` also ends a value.
    quote_ends: bool,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// `s[a..b]` as text. Values start and end at ASCII delimiters, so on a valid record
    /// the slice always falls on character boundaries (`get` makes sure).
    fn text(&self, a: usize, b: usize) -> Cow<'a, str> {
        match self.t.and_then(|t| t.get(a..b)) {
            Some(t) => Cow::Borrowed(t),
            None => text(self.s.get(a..b).unwrap_or_default()),
        }
    }

    // Inlined so that each call compares against a constant of known length in place,
    // not through `memcmp`.
    #[inline(always)]
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
        self.peek().is_none_or(|b| self.ends_value(b))
    }

    fn ends_value(&self, b: u8) -> bool {
        is_ws(b) || (self.quote_ends && b == b'\'')
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.i += 1;
        }
    }

    /// `name=` of the next pair and, when `name` is a keyword, its index (`None` if what
    /// follows is not a pair).
    fn key_name(&mut self) -> Option<(&'a [u8], Option<usize>)> {
        let rest = &self.s[self.i..];
        if !rest.first()?.is_ascii_alphabetic() {
            return None;
        }
        // Nearly every key is a keyword of at most 16 bytes: find its `=` eight bytes at a
        // time; a keyword is all identifier bytes, so nothing else needs checking.
        if let Some((k, packed)) = key_within_16(rest) {
            if let Some(kw) = packed_keyword(packed) {
                self.i += k + 1;
                return Some((&rest[..k], Some(kw)));
            }
        }
        let k = rest
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
            .unwrap_or(rest.len());
        if rest.get(k) != Some(&b'=') {
            return None;
        }
        self.i += k + 1;
        Some((&rest[..k], exact_keyword(&rest[..k])))
    }

    /// `"…"` as the scanner's quoted state reads it: `\x` is `x`, newlines are dropped.
    /// `None` unless the quote is closed.
    fn quoted(&mut self) -> Option<Cow<'a, str>> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.i + 1;
        let body = &self.s[start..];
        let end = quote_end(body)?;
        if body[end] == b'"' {
            self.i += end + 2;
            return Some(self.text(start, start + end));
        }
        // Escapes or newlines: the general scanner handles them.
        None
    }

    /// Upper-case hex pairs, decoded as the scanner does (a NUL ends the value); the run
    /// must end the value.
    fn hex(&mut self) -> Option<Cow<'a, str>> {
        let body = &self.s[self.i..];
        let n = body
            .iter()
            .position(|&b| !(b.is_ascii_digit() || (b'A'..=b'F').contains(&b)))
            .unwrap_or(body.len());
        if n == 0 || n % 2 != 0 || body.get(n).is_some_and(|&b| !self.ends_value(b)) {
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
        Some(Cow::Owned(match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }))
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
    let mut v = View::default();
    parse_view_into(record, &mut v)?;
    Some(v.into_event())
}

/// Whether `line` can be a record [`parse_view_into`] reads (a cheap test on its start).
pub(crate) fn is_candidate(line: &[u8]) -> bool {
    line.starts_with(b"type=AVC msg=audit(") || line.starts_with(b"type=USER_AVC msg=audit(")
}

/// [`parse_avc`] without copying, into a caller's fresh [`View`] (its fields borrow from
/// `record` where they can; a view is large: filling it in place avoids moving it).
/// On `None` the view holds partial fields: discard it.
pub(crate) fn parse_view_into<'a>(record: &'a [u8], ev: &mut View<'a>) -> Option<()> {
    let s = match memchr::memchr(0, record) {
        Some(n) => &record[..n],
        None => record,
    };
    let mut c = Cursor {
        s,
        // SIMD validation: a few instructions per 32 bytes on ASCII, where std's `from_utf8`
        // takes a few per 16.
        t: simdutf8::basic::from_utf8(s).ok(),
        i: 0,
        quote_ends: false,
    };
    let user = if c.eat(b"type=AVC msg=audit(") {
        false
    } else if c.eat(b"type=USER_AVC msg=audit(") {
        true
    } else {
        return None;
    };
    let open = c.i;
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
    // The stamp is `E.M:S`, all digits: ASCII (a slice of the record's checked text when
    // there is one, else checked here).
    let stamp = open..c.i - 2;
    ev.stamp = match c.t {
        Some(t) => t.get(stamp)?,
        None => std::str::from_utf8(s.get(stamp)?).ok()?,
    };
    ev.epoch = Some(atol(epoch));
    // `atoi`: the long value truncated to a C int.
    ev.audit_sub_id = Some(i64::from(atol(serial) as i32));
    if user {
        return user_avc(&mut c, ev);
    }
    let mut keys = 0;
    loop {
        c.skip_ws();
        if c.peek().is_none() {
            break;
        }
        let (name, kw) = c.key_name()?;
        keys += 1;
        match kw {
            Some(kw) => key(&mut c, ev, kw)?,
            None => unknown(&mut c, ev, name)?,
        }
    }
    (keys > 0).then_some(())
}

/// The rest of a `USER_AVC` record (dbus-daemon's AppArmor messages):
/// `pid=N uid=N auid=N ses=N [unknown=…] msg='KEY LIST'[unknown=…]`, read as the grammar's
/// user-message rule reads it: the outer numbers are checked and dropped, unknown pairs
/// around them are kept, and the closing quote may be missing at the end of the line.
fn user_avc<'a>(c: &mut Cursor<'a>, ev: &mut View<'a>) -> Option<()> {
    for want in [Key::Pid, Key::Uid, Key::Auid, Key::Ses] {
        loop {
            c.skip_ws();
            let (name, kw) = c.key_name()?;
            match kw {
                None => unknown(c, ev, name)?,
                Some(kw) if keyword_after(kw).0 == want => {
                    c.number()?;
                    break;
                }
                Some(_) => return None,
            }
        }
    }
    loop {
        c.skip_ws();
        let (name, kw) = c.key_name()?;
        match kw {
            None => unknown(c, ev, name)?,
            Some(kw) if keyword_after(kw).0 == Key::Msg => break,
            Some(_) => return None,
        }
    }
    if !c.eat(b"'") {
        return None;
    }
    c.quote_ends = true;
    let mut keys = 0;
    let closed = loop {
        c.skip_ws();
        match c.peek() {
            None => break false,
            Some(b'\'') => {
                c.i += 1;
                break true;
            }
            Some(_) => {}
        }
        let (name, kw) = c.key_name()?;
        keys += 1;
        match kw {
            Some(kw) => key(c, ev, kw)?,
            None => unknown(c, ev, name)?,
        }
    };
    if keys == 0 {
        return None;
    }
    c.quote_ends = false;
    if closed {
        loop {
            c.skip_ws();
            if c.peek().is_none() {
                break;
            }
            let (name, kw) = c.key_name()?;
            if kw.is_some() {
                return None;
            }
            unknown(c, ev, name)?;
        }
    }
    Some(())
}

/// An unknown key's value, read as the lenient scanner reads it.
/// `name` is the key just read (`name=` ends right before the cursor).
fn unknown<'a>(c: &mut Cursor<'a>, ev: &mut View<'a>, name: &'a [u8]) -> Option<()> {
    let name_start = c.i.checked_sub(name.len() + 1)?;
    let v = &c.s[c.i..];
    let (value, len) = if v.first() == Some(&b'"') {
        let body = &v[1..];
        match memchr::memchr2(b'"', b'\\', body) {
            Some(e) if body[e] == b'"' => ((c.i + 1, c.i + 1 + e), e + 2),
            _ => return None,
        }
    } else {
        let n = v
            .iter()
            .position(|&b| is_ws(b) || b == b'\'')
            .unwrap_or(v.len());
        ((c.i, c.i + n), n)
    };
    let name = c.text(name_start, name_start + name.len());
    let value = c.text(value.0, value.1);
    c.i += len;
    ev.unknown_keys.push((name, value));
    Some(())
}

/// A known key's value, with the grammar's effect on the event.
fn key<'a>(c: &mut Cursor<'a>, ev: &mut View<'a>, kw: usize) -> Option<()> {
    let (key, after) = keyword_after(kw);
    let safe = after == After::SafeString;
    // A safe-string value is quoted or hex; any other value the grammar takes here is
    // quoted or a number.
    let string = |c: &mut Cursor<'a>| -> Option<Cow<'a, str>> {
        let v = if c.peek() == Some(b'"') {
            c.quoted()?
        } else if safe {
            c.hex()?
        } else {
            return None;
        };
        c.at_value_end().then_some(v)
    };
    let quoted = |c: &mut Cursor<'a>| -> Option<Cow<'a, str>> {
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
                Cow::Owned(ipproto_name(c.number()?))
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
            let a = c.text(c.i, c.i + n);
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
            ev.signal = Some(c.text(c.i, c.i + n));
            c.i += n;
        }
        // Attributes, `type=` inside the list and the keys that end a key list: rare, and
        // subtle in the scanner; leave them to it.
        Key::Type | Key::Msg | Key::Uid | Key::Auid | Key::Ses | Key::Attribute => return None,
    }
    Some(())
}

/// An AppArmor record read by [`parse_view_into`], its text borrowed from the line.
///
/// The same fields as [`Event`] for the keys the fast path reads; [`View::into_event`] gives
/// the owned event.
#[derive(Debug, Default)]
#[allow(missing_docs)]
pub(crate) struct View<'a> {
    pub kind: EventKind,
    /// Set by [`View::finish`] (as [`Event::finish`] sets `Event::class`).
    pub class: EventClass,
    /// The audit stamp `E.M:S`.
    pub stamp: &'a str,
    pub operation: Option<Cow<'a, str>>,
    pub name: Option<Cow<'a, str>>,
    pub namespace: Option<Cow<'a, str>>,
    pub name2: Option<Cow<'a, str>>,
    pub denied_mask: Option<Cow<'a, str>>,
    pub requested_mask: Option<Cow<'a, str>>,
    pub info: Option<Cow<'a, str>>,
    pub peer_info: Option<Cow<'a, str>>,
    pub profile: Option<Cow<'a, str>>,
    pub peer_profile: Option<Cow<'a, str>>,
    pub family: Option<Cow<'a, str>>,
    pub sock_type: Option<Cow<'a, str>>,
    pub protocol: Option<Cow<'a, str>>,
    pub fsuid_name: Option<Cow<'a, str>>,
    pub ouid_name: Option<Cow<'a, str>>,
    pub comm: Option<Cow<'a, str>>,
    pub dbus_bus: Option<Cow<'a, str>>,
    pub dbus_path: Option<Cow<'a, str>>,
    pub dbus_interface: Option<Cow<'a, str>>,
    pub dbus_member: Option<Cow<'a, str>>,
    pub peer: Option<Cow<'a, str>>,
    pub fs_type: Option<Cow<'a, str>>,
    pub flags: Option<Cow<'a, str>>,
    pub src_name: Option<Cow<'a, str>>,
    pub execpath: Option<Cow<'a, str>>,
    pub rule_class: Option<Cow<'a, str>>,
    pub net_addr: Option<Cow<'a, str>>,
    pub peer_addr: Option<Cow<'a, str>>,
    pub local_addr: Option<Cow<'a, str>>,
    pub foreign_addr: Option<Cow<'a, str>>,
    pub signal: Option<Cow<'a, str>>,
    pub epoch: Option<i64>,
    pub audit_sub_id: Option<i64>,
    pub task: Option<i64>,
    pub parent: Option<i64>,
    pub magic_token: Option<i64>,
    pub pid: Option<i64>,
    pub peer_pid: Option<i64>,
    pub error_code: Option<i64>,
    pub fsuid: Option<i64>,
    pub ouid: Option<i64>,
    pub local_port: Option<i64>,
    pub foreign_port: Option<i64>,
    pub unknown_keys: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> View<'a> {
    /// The owned event (before [`Event::finish`]).
    pub fn into_event(self) -> Event {
        Event {
            kind: self.kind,
            audit_id: Some(self.stamp.to_owned()),
            operation: self.operation.map(Cow::into_owned),
            name: self.name.map(Cow::into_owned),
            namespace: self.namespace.map(Cow::into_owned),
            name2: self.name2.map(Cow::into_owned),
            denied_mask: self.denied_mask.map(Cow::into_owned),
            requested_mask: self.requested_mask.map(Cow::into_owned),
            info: self.info.map(Cow::into_owned),
            peer_info: self.peer_info.map(Cow::into_owned),
            profile: self.profile.map(Cow::into_owned),
            peer_profile: self.peer_profile.map(Cow::into_owned),
            family: self.family.map(Cow::into_owned),
            sock_type: self.sock_type.map(Cow::into_owned),
            protocol: self.protocol.map(Cow::into_owned),
            fsuid_name: self.fsuid_name.map(Cow::into_owned),
            ouid_name: self.ouid_name.map(Cow::into_owned),
            comm: self.comm.map(Cow::into_owned),
            dbus_bus: self.dbus_bus.map(Cow::into_owned),
            dbus_path: self.dbus_path.map(Cow::into_owned),
            dbus_interface: self.dbus_interface.map(Cow::into_owned),
            dbus_member: self.dbus_member.map(Cow::into_owned),
            peer: self.peer.map(Cow::into_owned),
            fs_type: self.fs_type.map(Cow::into_owned),
            flags: self.flags.map(Cow::into_owned),
            src_name: self.src_name.map(Cow::into_owned),
            execpath: self.execpath.map(Cow::into_owned),
            rule_class: self.rule_class.map(Cow::into_owned),
            net_addr: self.net_addr.map(Cow::into_owned),
            peer_addr: self.peer_addr.map(Cow::into_owned),
            local_addr: self.local_addr.map(Cow::into_owned),
            foreign_addr: self.foreign_addr.map(Cow::into_owned),
            signal: self.signal.map(Cow::into_owned),
            epoch: self.epoch,
            audit_sub_id: self.audit_sub_id,
            task: self.task,
            parent: self.parent,
            magic_token: self.magic_token,
            pid: self.pid,
            peer_pid: self.peer_pid,
            error_code: self.error_code,
            fsuid: self.fsuid,
            ouid: self.ouid,
            local_port: self.local_port,
            foreign_port: self.foreign_port,
            unknown_keys: self
                .unknown_keys
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            ..Event::default()
        }
    }

    /// What [`Event::finish`] derives, for the fields grouping reads.
    pub fn finish(&mut self) {
        self.class = EventClass::derive(&*self);
    }
}

impl Fields for View<'_> {
    fn kind(&self) -> EventKind {
        self.kind
    }
    fn class(&self) -> EventClass {
        self.class
    }
    fn requested(&self) -> Option<MaskText<'_>> {
        self.requested_mask.as_deref().map(MaskText::Raw)
    }
    fn denied(&self) -> Option<MaskText<'_>> {
        self.denied_mask.as_deref().map(MaskText::Raw)
    }
    super::fields::field_accessors!();
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

    proptest::proptest! {
        /// The register search for the end of a quoted value finds what `memchr3` finds,
        /// at every length and with the wanted bytes anywhere (also next to bytes that
        /// differ from them by one, where a carry could mislead a zero-byte test).
        #[test]
        fn quote_end_equals_memchr3(
            b in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b'"'),
                    proptest::strategy::Just(b'\\'),
                    proptest::strategy::Just(b'\n'),
                    proptest::strategy::Just(b'!'),
                    proptest::strategy::Just(b'#'),
                    proptest::strategy::Just(0u8),
                    proptest::strategy::Just(0x80u8),
                    proptest::num::u8::ANY,
                ],
                0..40,
            ),
            plain in 0..40usize,
        ) {
            let mut s = vec![b'a'; plain];
            s.extend_from_slice(&b);
            proptest::prop_assert_eq!(quote_end(&s), memchr::memchr3(b'"', b'\\', b'\n', &s));
        }

        /// The word-at-a-time `=` search finds what a byte loop finds.
        #[test]
        fn key_within_16_finds_the_first_equals(s in "[a-z=_ ]{0,24}") {
            let b = s.as_bytes();
            let want = (b.len() >= 16)
                .then(|| b[..16].iter().position(|&c| c == b'='))
                .flatten();
            let got = key_within_16(b);
            proptest::prop_assert_eq!(got.map(|(k, _)| k), want);
            if let Some((k, packed)) = got {
                let bytes = b[..k].iter().enumerate();
                proptest::prop_assert_eq!(
                    packed,
                    bytes.fold(0u128, |v, (i, &c)| v | u128::from(c) << (8 * i))
                );
            }
        }
    }

    #[test]
    fn common_records_take_the_fast_path() {
        for r in [
            &br#"type=AVC msg=audit(1279948288.415:39): apparmor="DENIED" operation="open" parent=12332 profile="/usr/sbin/cupsd" name="/home/user/.ssh/" pid=12333 comm="ls" requested_mask="r" denied_mask="r" fsuid=0 ouid=1000"#[..],
            b"type=AVC msg=audit(1.2:3): apparmor=\"ALLOWED\" operation=\"file_perm\" class=\"file\" profile=\"p\" name=2F746D70 pid=1 comm=6C73 requested_mask=\"l\" denied_mask=\"l\" fsuid=1 ouid=0\x1dFSUID=\"www-data\" OUID=\"root\"",
            br#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="connect" class="net" profile="p" pid=1 comm="x" family="inet" sock_type="stream" protocol=6 requested_mask="connect" denied_mask="connect""#,
            br#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="capable" class="cap" profile="p" pid=1 comm="x" capability=12 capname="net_admin" error=-1 x_unknown="y z" other=1"#,
            br#"type=AVC msg=audit(1.2:3): apparmor="DENIED" operation="connect" profile="p" laddr=127.0.0.1 lport=80 faddr=::1 fport=9 addr=none peer_addr=none hostname=? signal=term"#,
            br#"type=USER_AVC msg=audit(1718000001.323:1021): pid=1648 uid=102 auid=4294967295 ses=4294967295 subj=? msg='apparmor="DENIED" operation="dbus_method_call"  bus="system" path="/org/freedesktop/DBus" interface="org.freedesktop.DBus" member="AddMatch" mask="send" name="org.freedesktop.DBus" pid=29602 label="/usr/sbin/cupsd" peer_label="unconfined"  exe="/usr/bin/dbus-daemon" sauid=102 hostname=? addr=? terminal=?'UID="messagebus" AUID="unset" SAUID="messagebus""#,
            b"type=USER_AVC msg=audit(1.2:3): pid=1 uid=2 auid=3 ses=4 subj=unconfined msg='apparmor=\"ALLOWED\" operation=\"dbus_signal\" bus=\"session\" path=\"/a\" interface=\"b.c\" member=\"D\" mask=\"receive\" pid=9 label=\"p\" peer_pid=8 peer_label=\"q\" exe=\"/usr/bin/x\" sauid=2 hostname=? addr=? terminal=?'\x1dUID=\"u\" AUID=\"unset\"",
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
            br#"type=USER_AVC msg=audit(1.2:3): pid=1 uid=2 ses=4 msg='apparmor="DENIED" operation="x"'"#,
            br#"type=USER_AVC msg=audit(1.2:3): pid=1 uid=2 auid=3 ses=4 msg='apparmor="DENIED" operation="x"' pid=3"#,
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

    /// Key lists built from real keys and awkward values.
    fn pairs() -> impl proptest::strategy::Strategy<Value = Vec<(&'static str, &'static str)>> {
        proptest::collection::vec(
            (
                proptest::sample::select(vec![
                    "apparmor",
                    "operation",
                    "name",
                    "name2",
                    "profile",
                    "label",
                    "comm",
                    "exe",
                    "pid",
                    "requested_mask",
                    "denied_mask",
                    "mask",
                    "fsuid",
                    "ouid",
                    "FSUID",
                    "OUID",
                    "class",
                    "protocol",
                    "error",
                    "capname",
                    "capability",
                    "target",
                    "info",
                    "peer",
                    "flags",
                    "family",
                    "sock_type",
                    "namespace",
                    "unknown_key",
                    "x",
                    "peer_label",
                    "member",
                    "bus",
                    "lport",
                    "laddr",
                    "faddr",
                    "saddr",
                    "daddr",
                    "addr",
                    "peer_addr",
                    "hostname",
                    "terminal",
                    "signal",
                    "attribute",
                ]),
                proptest::sample::select(vec![
                    "\"DENIED\"",
                    "\"ALLOWED\"",
                    "\"/etc/x y\"",
                    "2F746D70",
                    "2f74",
                    "12",
                    "-13",
                    "\"a\\\"b\"",
                    "",
                    "abc",
                    "1.2.3.4",
                    "(null)",
                    "\"r\"",
                    "12:00:00",
                    "2024-01-01",
                    "ABC",
                    "\"\"",
                    "0",
                    "99999999999999999999",
                    "\"caf\u{e9}\"",
                    "00",
                    "4142004344",
                    "?",
                    "none",
                    "nonex",
                    "127.0.0.1",
                    "::1",
                    "fe80::1",
                    "ab",
                    "term",
                    "hup(",
                    "x!y",
                    "?z",
                ]),
            ),
            1..10,
        )
    }

    fn key_list(pairs: &[(&str, &str)], sep: &str) -> String {
        let mut line = String::new();
        for (k, v) in pairs {
            line.push_str(k);
            line.push('=');
            line.push_str(v);
            line.push_str(sep);
        }
        line
    }

    proptest::proptest! {
        /// Random key lists: wherever the fast path answers, the general parser gives the
        /// same event.
        #[test]
        fn agrees_with_the_general_parser(
            pairs in pairs(),
            sep in proptest::sample::select(vec![" ", "  ", "\t", "\x1d", " \x1d"]),
            tail in proptest::sample::select(vec!["", " ", "'", "?", " zz"]),
        ) {
            let line = format!("type=AVC msg=audit(1718000000.434:1003): {}{tail}", key_list(&pairs, sep));
            agree(line.as_bytes());
        }

        /// The same for dbus-daemon's `USER_AVC` records, with odd outer keys and endings.
        #[test]
        fn agrees_with_the_general_parser_on_user_avc(
            head in proptest::sample::select(vec![
                "pid=1 uid=2 auid=3 ses=4 msg='", "pid=1 uid=2 auid=3 ses=4 subj=? msg='",
                "pid=1 x=y uid=2 auid=3 ses=4 subj==unconfined msg='",
                "pid=1 uid=2 auid=3 ses=4 subj=\"a b\" msg='", "pid=12:00 uid=2 auid=3 ses=4 msg='",
                "pid=1 uid=2 auid=3 ses=4 msg=", "pid=1 uid=2 auid=3 ses=4 pid=5 msg='",
                "pid=1\tuid=2 auid=3  ses=4 msg='", "uid=2 pid=1 auid=3 ses=4 msg='",
            ]),
            pairs in pairs(),
            sep in proptest::sample::select(vec![" ", "  ", "\x1d"]),
            close in proptest::sample::select(vec![
                "'", "", "' ", "'UID=\"a\" AUID=\"b\"", "'\x1dUID=\"a\" SAUID=\"c\"", "' pid=3",
                "'zz", "''", "'x='", "' UID=a'b",
            ]),
        ) {
            let list = key_list(&pairs, sep);
            let line = format!("type=USER_AVC msg=audit(1718000000.434:1003): {head}{}{close}", list.trim_end());
            agree(line.as_bytes());
        }
    }
}
