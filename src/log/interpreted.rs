//! `ausearch -i` (interpreted) output: `type=AVC msg=audit(06/19/2024 12:00:55.123:1234) :
//! apparmor=DENIED operation=open … fsuid=www-data ouid=root`.
//!
//! What ausearch changes (`src/ausearch-report.c` and `auparse/interpret.c` in
//! linux-audit/audit-userspace), and what [`parse`] does about it:
//!
//! - The stamp is local time printed with `strftime("%x %T")` plus `.MILLIS:SERIAL`, and it
//!   is followed by ` : ` instead of `: `. We convert it back to seconds since the epoch (see
//!   *Dates* below), so `audit_id`, `epoch` and `audit_sub_id` come out as for raw output.
//! - Values of the fields auparse knows are rewritten: quotes removed and hex decoded
//!   (`name`, `comm`, `exe`, `path`, and, when audit was built with AppArmor support,
//!   `apparmor`, `operation`, `profile`, `info`, `requested_mask`, `denied_mask`), control
//!   bytes written as `\ooo`, uids as user names (`fsuid=www-data`, `unknown(1234)`, `unset`).
//!   Other fields are printed as the kernel wrote them (`class="file"`, hex-encoded
//!   `target=…`). We accept both: a quoted value loses its quotes, an unquoted all-hex value
//!   of a key the kernel may hex-encode (`name`, `profile`, `label`, `comm`, `target`, …) that
//!   is not all decimal digits is decoded only if the decoded text is UTF-8 and holds a byte the kernel would have
//!   hex-encoded (a space, `"`, a control byte or a byte over 0x7e), `\ooo` below `\040` is
//!   unescaped. (So a kernel-hex name that is not UTF-8 stays hex.)
//! - uids given as names cannot become numbers: they go to `fsuid_name`/`ouid_name`;
//!   `unknown(N)` becomes N.
//! - A decoded value may contain spaces, so field boundaries are ambiguous. For the fields
//!   whose decoded values can hold spaces (`name`, `comm`, `exe`, `path`, `info`, `profile`,
//!   `operation`, `subj`, `cwd`) the value runs to the next ` KEY=` where KEY is a key the
//!   kernel writes in AppArmor records; every other value ends at the first space. A name
//!   that itself contains ` pid=` (or another known key) is therefore cut there, and a key
//!   newer than our list right after such a value is swallowed into it.
//! - Two AppArmor fields are mangled by auparse's field tables: `capability=10` becomes the
//!   capability's name (we drop it; `capname=` has the name), and `family="inet6"` is read as
//!   a netfilter protocol number and printed as `family=unspecified`. The family is put back
//!   as `unix` when the record has `addr=`/`peer_addr=`, as `inet6`/`inet` from the form of
//!   `laddr=`/`faddr=`, and otherwise left out: a `create` or `bind` event read from
//!   `ausearch -i` says only `stream tcp`, not `inet6 stream tcp`. Mount `flags="…"` are
//!   read as mmap flags too; an unquoted `flags=` is therefore dropped.
//! - `USER_AVC` records (dbus-daemon) keep the AppArmor fields inside `msg='…'`; those are
//!   read, the sender's `sauid`/`hostname`/`addr`/`terminal` trailer is dropped.
//!
//! The record is then rewritten to the raw kernel form and parsed by the same grammar as
//! every other framing, so field merging and normalisation are identical.
//!
//! # Dates
//!
//! `%x` depends on the locale ausearch ran in. Read: `MM/DD/YY` and `MM/DD/YYYY` (the C and
//! `en_US` locales), `DD/MM/YYYY` when the first number is over 12, `YYYY/MM/DD`,
//! `YYYY-MM-DD`, `DD-MM-YYYY` and `DD.MM.YYYY` (two-digit years too). A two-digit year YY is
//! 20YY (`06/19/24` is 2024-06-19): audit records did not exist before 2000. A day-first
//! `/` date with a day of 12 or less (`en_GB`'s `05/06/2024`) cannot be told from a
//! month-first one and is read month-first; run ausearch with `LC_TIME=C` (or use raw
//! output) when in doubt.
//!
//! The time is local time of the machine ausearch ran on. We read it as UTC, unless the `TZ`
//! environment variable (read once) names UTC or a fixed offset in POSIX form (`UTC0`,
//! `EST5`, `JST-9`, `<+0530>-5:30`). A zone with daylight-saving rules or a zone-file name
//! (`Europe/Berlin`, `:/etc/localtime`) is not understood and UTC is used: times are then
//! off by the zone's offset. Run `TZ=UTC ausearch -i …` to avoid the question.
//!
//! Multi-record context (`SYSCALL`/`PROCTITLE` of the same event) is not attached to
//! interpreted events: those records are ignored like other non-AppArmor lines.
//!
//! This module is only reached after the ordinary parse of a line has failed, and only for
//! lines whose stamp is followed by ` : `.

use std::sync::LazyLock;

use super::scan::Tok;
use super::{grammar, scan, Event, EventKind, LineError};

/// Keys the kernel (and libaudit's USER_AVC wrapper) writes in AppArmor records: a space
/// followed by one of these and `=` ends a value that may contain spaces.
const KNOWN_KEYS: &[&str] = &[
    "apparmor",
    "operation",
    "class",
    "info",
    "error",
    "profile",
    "label",
    "name",
    "name2",
    "target",
    "namespace",
    "pid",
    "comm",
    "exe",
    "requested_mask",
    "denied_mask",
    "requested",
    "denied",
    "mask",
    "fsuid",
    "ouid",
    "parent",
    "task",
    "magic_token",
    "attribute",
    "peer_info",
    "peer_pid",
    "peer_profile",
    "peer_label",
    "tcontext",
    "peer",
    "family",
    "sock_type",
    "protocol",
    "capability",
    "capname",
    "laddr",
    "faddr",
    "saddr",
    "daddr",
    "lport",
    "fport",
    "src",
    "dest",
    "addr",
    "peer_addr",
    "bus",
    "path",
    "interface",
    "member",
    "method",
    "signal",
    "fstype",
    "flags",
    "srcname",
    "execpath",
    "offset",
    "uid",
    "auid",
    "ses",
    "subj",
    "sauid",
    "hostname",
    "terminal",
    "msg",
];

/// Fields whose value, once ausearch decoded it, may contain spaces.
const SPACEY: &[&str] = &[
    "name",
    "comm",
    "exe",
    "path",
    "info",
    "profile",
    "operation",
    "subj",
    "cwd",
];

/// Keys the kernel writes as untrusted strings (quoted, or hex when they need escaping) and
/// the grammar reads either way: written back as hex. (`target=` is such a string too, but
/// the grammar reads it quoted only.)
const SAFE_STRING: &[&str] = &[
    "name",
    "name2",
    "namespace",
    "profile",
    "peer_profile",
    "label",
    "peer_label",
    "tcontext",
    "addr",
    "peer_addr",
    "exe",
    "comm",
];

/// Keys written bare (IP addresses; `signal=` is a bare word too).
const BARE: &[&str] = &["laddr", "saddr", "faddr", "daddr"];

/// The wrapper fields libaudit appends to a USER_AVC message.
const USER_TRAILER: &[&str] = &["sauid", "hostname", "terminal"];

/// Cheap test: does this line carry an interpreted stamp (`msg=audit(… … ) : `)?
pub(crate) fn looks_interpreted(line: &[u8]) -> bool {
    let Some(p) = memchr::memmem::find(line, b"msg=audit(") else {
        return false;
    };
    let rest = &line[p + 10..];
    let Some(close) = memchr::memchr(b')', rest) else {
        return false;
    };
    rest[close..].starts_with(b") : ") && rest[..close].contains(&b' ')
}

/// Parse an `ausearch -i` AppArmor record. `None` when the line is not in that form; an error
/// when it is but cannot be read (an unknown date format, a record the grammar rejects).
pub(crate) fn parse(line: &[u8], toks: &mut Vec<Tok>) -> Option<Result<Event, LineError>> {
    if !looks_interpreted(line) {
        return None;
    }
    let mut s = line.trim_ascii();
    if s.starts_with(b"node=") {
        let sp = memchr::memchr(b' ', s)?;
        s = &s[sp + 1..];
    }
    let ty_end = memchr::memmem::find(s, b" msg=audit(")?;
    let ty = s.strip_prefix(b"type=").map(|t| &t[..ty_end - 5])?;
    let rest = &s[ty_end + 11..];
    let close = memchr::memmem::find(rest, b") : ")?;
    let stamp = &rest[..close];
    let mut body = &rest[close + 4..];
    let Some((epoch, millis, serial)) = std::str::from_utf8(stamp)
        .ok()
        .and_then(parse_stamp)
        .map(|(t, ms, n)| (t + *LOCAL_OFFSET, ms, n))
    else {
        return Some(Err(LineError::Malformed(format!(
            "`ausearch -i` date `{}` not understood (use raw ausearch output, or run it with LC_TIME=C)",
            super::preview(stamp)
        ))));
    };
    let user = ty == b"USER_AVC";
    if user {
        let Some(p) = memchr::memmem::find(body, b"msg='") else {
            return Some(Err(LineError::Malformed(
                "`ausearch -i` USER_AVC record without msg='…'".into(),
            )));
        };
        body = &body[p + 5..];
        body = body.trim_ascii_end();
        body = body.strip_suffix(b"'").unwrap_or(body);
    }
    let ty: &[u8] = if user { b"AVC" } else { ty };
    let mut rec = Vec::with_capacity(line.len() + 64);
    rec.extend_from_slice(b"type=");
    rec.extend_from_slice(ty);
    rec.extend_from_slice(format!(" msg=audit({epoch}.{millis:03}:{serial}):").as_bytes());
    let (mut fsuid_name, mut ouid_name) = (None, None);
    let fields = fields(body.trim_ascii_end());
    let family = lost_family(&fields);
    for (key, value, quoted) in &fields {
        let Ok(key) = std::str::from_utf8(key) else {
            continue;
        };
        let value: &[u8] = match key {
            // auparse reads the quoted AppArmor family as a netfilter protocol number and
            // prints `unspecified`: put back what the addresses tell, else leave it out.
            "family" if value == b"unspecified" => match family {
                Some(f) => f.as_bytes(),
                None => continue,
            },
            // auparse prints the capability's name; `capname=` carries it already.
            "capability" if !is_number(value) => continue,
            // The kernel quotes mount flags; unquoted, they are auparse's mmap-flag reading.
            "flags" if !quoted => continue,
            _ => value,
        };
        if (user && (USER_TRAILER.contains(&key) || (key == "addr" && value == b"?")))
            || matches!(key, "msg" | "uid" | "auid" | "ses")
        {
            continue;
        }
        if matches!(key, "fsuid" | "ouid") {
            let num = uid_number(value);
            if num.is_none() {
                let name = String::from_utf8_lossy(value).into_owned();
                if key == "fsuid" {
                    fsuid_name = Some(name);
                } else {
                    ouid_name = Some(name);
                }
                continue;
            }
            rec.extend_from_slice(format!(" {key}={}", num.unwrap_or_default()).as_bytes());
            continue;
        }
        write_field(&mut rec, key, value);
    }
    scan::tokenize(&rec, toks, true);
    let mut ev = Event::default();
    let ok = grammar::parse_tokens(toks, &mut ev, true);
    if !ok || ev.kind == EventKind::Invalid {
        return Some(Err(LineError::Malformed(format!(
            "cannot parse `ausearch -i` record `{}`",
            super::preview(line)
        ))));
    }
    if fsuid_name.is_some() {
        ev.fsuid_name = fsuid_name;
    }
    if ouid_name.is_some() {
        ev.ouid_name = ouid_name;
    }
    Some(Ok(ev))
}

/// The socket family the other fields imply, for a record whose `family=` auparse destroyed:
/// `unix` when it has a unix address, `inet6`/`inet` from the form of an IP address.
fn lost_family(fields: &[Field<'_>]) -> Option<&'static str> {
    for (k, v, _) in fields {
        match *k {
            b"addr" | b"peer_addr" => return Some("unix"),
            b"laddr" | b"faddr" | b"saddr" | b"daddr" if v.contains(&b':') => return Some("inet6"),
            b"laddr" | b"faddr" | b"saddr" | b"daddr" if v.contains(&b'.') => return Some("inet"),
            _ => {}
        }
    }
    None
}

/// `1234` or `unknown(1234)` (auparse's answer for a uid without a name).
fn uid_number(v: &[u8]) -> Option<i64> {
    let v = v
        .strip_prefix(b"unknown(")
        .and_then(|r| r.strip_suffix(b")"))
        .unwrap_or(v);
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

fn is_number(v: &[u8]) -> bool {
    let d = v.strip_prefix(b"-").unwrap_or(v);
    !d.is_empty() && d.len() < 19 && d.iter().all(u8::is_ascii_digit)
}

/// Append ` key=value` in the kernel's raw form, for the grammar.
fn write_field(rec: &mut Vec<u8>, key: &str, value: &[u8]) {
    rec.push(b' ');
    rec.extend_from_slice(key.as_bytes());
    rec.push(b'=');
    let bare_word = matches!(value, b"none" | b"?") && matches!(key, "addr" | "peer_addr");
    if SAFE_STRING.contains(&key) && !value.is_empty() && !bare_word {
        rec.extend_from_slice(hex::encode_upper(value).as_bytes());
    } else if is_number(value) || bare_word || BARE.contains(&key) || key == "signal" {
        rec.extend_from_slice(value);
    } else {
        rec.push(b'"');
        for &b in value {
            if matches!(b, b'"' | b'\\') {
                rec.push(b'\\');
            }
            rec.push(b);
        }
        rec.push(b'"');
    }
}

/// Whether ` KEY=` with a known KEY starts at `s` (which starts with the space).
fn known_key_at(s: &[u8]) -> bool {
    let s = &s[1..];
    let n = s
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or(s.len());
    s.get(n) == Some(&b'=') && std::str::from_utf8(&s[..n]).is_ok_and(|k| KNOWN_KEYS.contains(&k))
}

/// A key, its decoded value, and whether the value was quoted.
type Field<'a> = (&'a [u8], Vec<u8>, bool);

/// Split the interpreted key list into fields.
fn fields(mut s: &[u8]) -> Vec<Field<'_>> {
    let mut out = Vec::new();
    loop {
        s = s.trim_ascii_start();
        if s.is_empty() {
            return out;
        }
        let sp = memchr::memchr(b' ', s).unwrap_or(s.len());
        let Some(eq) = memchr::memchr(b'=', &s[..sp]) else {
            // A word without `=` (e.g. the rest of `exit=EACCES(Permission denied)`).
            s = &s[sp..];
            continue;
        };
        let key = &s[..eq];
        let v = &s[eq + 1..];
        if let Some(q) = v.strip_prefix(b"\"") {
            let end = memchr::memchr(b'"', q).unwrap_or(q.len());
            out.push((key, q[..end].to_vec(), true));
            s = q.get(end + 1..).unwrap_or_default();
            continue;
        }
        let spacey = std::str::from_utf8(key).is_ok_and(|k| SPACEY.contains(&k));
        let end = if spacey {
            memchr::memchr_iter(b' ', v)
                .find(|&i| known_key_at(&v[i..]))
                .unwrap_or(v.len())
        } else {
            memchr::memchr(b' ', v).unwrap_or(v.len())
        };
        let k = std::str::from_utf8(key).unwrap_or("");
        let may_be_hex = k == "target" || SAFE_STRING.contains(&k);
        out.push((key, decode(v[..end].trim_ascii_end(), may_be_hex), false));
        s = &v[end..];
    }
}

/// Undo what is left of the kernel's and ausearch's encodings on an unquoted value.
/// `may_be_hex`: the kernel writes this key as an untrusted string (quoted or hex).
fn decode(v: &[u8], may_be_hex: bool) -> Vec<u8> {
    let hexy = may_be_hex
        && v.len() >= 2
        && !v.iter().all(u8::is_ascii_digit)
        && v.len() % 2 == 0
        && v.iter()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b));
    if hexy {
        if let Ok(bytes) = hex::decode(v) {
            // The kernel hex-encodes only strings it cannot print quoted; text that decodes
            // to something else (or to invalid UTF-8, like `CAFE`) was meant literally.
            if bytes
                .iter()
                .any(|&b| b == b'"' || !(0x21..=0x7e).contains(&b))
                && std::str::from_utf8(&bytes).is_ok()
            {
                return bytes;
            }
        }
    }
    // auparse's TTY escaping: bytes below 0x20 as `\ooo`.
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if let [b'\\', b'0', a @ b'0'..=b'3', b @ b'0'..=b'7', ..] = v[i..] {
            out.push((a - b'0') * 8 + (b - b'0'));
            i += 4;
            continue;
        }
        out.push(v[i]);
        i += 1;
    }
    out
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn year(s: &str) -> Option<i64> {
    let y = num(s)?;
    match s.len() {
        2 => Some(2000 + y),
        4 => Some(y),
        _ => None,
    }
}

/// A `%x` date in the forms the module doc lists: (year, month, day).
fn parse_date(d: &str) -> Option<(i64, i64, i64)> {
    let d = d.strip_suffix('.').unwrap_or(d);
    let sep = ['/', '-', '.'].into_iter().find(|&c| d.contains(c))?;
    let mut it = d.split(sep);
    let (a, b, c) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let (y, m, day) = if a.len() == 4 {
        (year(a)?, num(b)?, num(c)?)
    } else if sep == '/' && num(a)? <= 12 {
        (year(c)?, num(a)?, num(b)?)
    } else {
        (year(c)?, num(b)?, num(a)?)
    };
    ((1..=12).contains(&m) && (1..=31).contains(&day)).then_some((y, m, day))
}

/// `DATE HH:MM:SS.MILLIS:SERIAL` → (seconds since the epoch as if the time were UTC,
/// milliseconds, serial).
fn parse_stamp(stamp: &str) -> Option<(i64, u32, i64)> {
    let (date, rest) = stamp.rsplit_once(' ')?;
    let (y, m, d) = parse_date(date.trim())?;
    let (time, serial) = rest.rsplit_once(':')?;
    let (hms, millis) = time.split_once('.')?;
    let mut t = hms.split(':');
    let (h, mi, se) = (num(t.next()?)?, num(t.next()?)?, num(t.next()?)?);
    if t.next().is_some() || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let serial = (!serial.is_empty() && serial.bytes().all(|b| b.is_ascii_digit()))
        .then(|| serial.parse().ok())??;
    let millis = (millis.len() == 3).then(|| num(millis))??;
    let days = super::time::days_from_civil(y, m, d);
    Some((
        days * 86_400 + h * 3600 + mi * 60 + se,
        u32::try_from(millis).ok()?,
        serial,
    ))
}

/// Seconds to add to a local time to get UTC, from `$TZ` (see the module doc).
static LOCAL_OFFSET: LazyLock<i64> = LazyLock::new(|| {
    std::env::var("TZ")
        .ok()
        .and_then(|tz| tz_offset(&tz))
        .unwrap_or(0)
});

/// The UTC offset a POSIX `TZ` value without daylight-saving rules describes, as seconds to
/// add to local time. `None` for anything else.
pub(crate) fn tz_offset(tz: &str) -> Option<i64> {
    let tz = tz.strip_prefix(':').unwrap_or(tz).trim();
    if tz.is_empty()
        || matches!(
            tz,
            "UTC" | "UCT" | "GMT" | "Zulu" | "Universal" | "Etc/UTC" | "Etc/GMT" | "Etc/UCT"
        )
    {
        return Some(0);
    }
    let rest = if let Some(q) = tz.strip_prefix('<') {
        &q[q.find('>')? + 1..]
    } else {
        let n = tz.bytes().take_while(u8::is_ascii_alphabetic).count();
        if n < 3 {
            return None;
        }
        &tz[n..]
    };
    let (sign, digits) = match rest.as_bytes().first()? {
        b'-' => (-1, &rest[1..]),
        b'+' => (1, &rest[1..]),
        _ => (1, rest),
    };
    let mut parts = digits.split(':');
    let h = num(parts.next()?)?;
    let m = parts.next().map_or(Some(0), num)?;
    let s = parts.next().map_or(Some(0), num)?;
    if parts.next().is_some() || h > 24 || m > 59 || s > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Event, LineError> {
        parse(s.as_bytes(), &mut Vec::new()).expect("interpreted form")
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("06/19/2024"), Some((2024, 6, 19)));
        assert_eq!(parse_date("06/19/24"), Some((2024, 6, 19)));
        assert_eq!(parse_date("19/06/2024"), Some((2024, 6, 19)));
        assert_eq!(parse_date("2024/06/19"), Some((2024, 6, 19)));
        assert_eq!(parse_date("2024-06-19"), Some((2024, 6, 19)));
        assert_eq!(parse_date("19-06-24"), Some((2024, 6, 19)));
        assert_eq!(parse_date("19.06.2024"), Some((2024, 6, 19)));
        assert_eq!(parse_date("05/06/2024"), Some((2024, 5, 6)), "month first");
        assert_eq!(parse_date("13/13/2024"), None);
        assert_eq!(parse_date("2024年06月19日"), None);
        assert_eq!(parse_date("06/19/024"), None);
        assert_eq!(
            parse_stamp("06/19/2024 12:00:55.123:1234"),
            Some((1718798455, 123, 1234))
        );
        assert_eq!(parse_stamp("06/19/2024 12:00:55:1234"), None);
        assert_eq!(parse_stamp("06/19/2024 25:00:55.123:1234"), None);
    }

    #[test]
    fn time_zones() {
        assert_eq!(tz_offset("UTC"), Some(0));
        assert_eq!(tz_offset(":UTC"), Some(0));
        assert_eq!(tz_offset("UTC0"), Some(0));
        assert_eq!(tz_offset("EST5"), Some(5 * 3600));
        assert_eq!(tz_offset("JST-9"), Some(-9 * 3600));
        assert_eq!(tz_offset("<+0530>-5:30"), Some(-(5 * 3600 + 1800)));
        assert_eq!(tz_offset("CET-1CEST,M3.5.0,M10.5.0/3"), None);
        assert_eq!(tz_offset("Europe/Berlin"), None);
        assert_eq!(tz_offset(":/etc/localtime"), None);
    }

    #[test]
    fn avc_with_names_and_spaces() {
        let ev = p("type=AVC msg=audit(06/19/2024 12:00:55.123:1234) : apparmor=DENIED operation=open class=\"file\" profile=/usr/sbin/nginx name=/srv/www/my file.html pid=1234 comm=nginx requested_mask=r denied_mask=r fsuid=www-data ouid=root ").unwrap();
        assert_eq!(ev.kind, EventKind::Denied);
        assert_eq!(ev.operation.as_deref(), Some("open"));
        assert_eq!(ev.rule_class.as_deref(), Some("file"));
        assert_eq!(ev.profile.as_deref(), Some("/usr/sbin/nginx"));
        assert_eq!(ev.name.as_deref(), Some("/srv/www/my file.html"));
        assert_eq!(ev.pid, Some(1234));
        assert_eq!(ev.comm.as_deref(), Some("nginx"));
        assert_eq!(ev.denied_mask.as_deref(), Some("r"));
        assert_eq!(ev.fsuid, None);
        assert_eq!(ev.fsuid_name.as_deref(), Some("www-data"));
        assert_eq!(ev.ouid_name.as_deref(), Some("root"));
        assert_eq!(ev.audit_id.as_deref(), Some("1718798455.123:1234"));
        assert_eq!(ev.audit_sub_id, Some(1234));
        // TZ is not set for the test binary in CI; the offset only shifts the epoch.
        assert_eq!(ev.epoch, Some(1718798455 + *LOCAL_OFFSET));
    }

    #[test]
    fn raw_fields_and_uids() {
        // Audit built without AppArmor support prints the AppArmor fields raw.
        let ev = p("node=web1 type=AVC msg=audit(11/19/26 10:00:02.500:7) : apparmor=\"DENIED\" operation=\"exec\" info=\"no new privs\" error=-1 profile=\"a b\" name=/usr/bin/id pid=5 comm=sh requested_mask=\"x\" denied_mask=\"x\" fsuid=unknown(1234) ouid=root target=\"a b//null-/usr/bin/id\"").unwrap();
        assert_eq!(ev.kind, EventKind::Denied);
        assert_eq!(ev.info.as_deref(), Some("no new privs"));
        assert_eq!(ev.error_code, Some(1));
        assert_eq!(ev.profile.as_deref(), Some("a b"));
        assert_eq!(ev.fsuid, Some(1234));
        assert_eq!(ev.name2.as_deref(), Some("a b//null-/usr/bin/id"));
        // A hex value the kernel wrote (profile with a space) is decoded; hex-looking text
        // that the kernel would not have encoded is kept.
        let ev = p("type=AVC msg=audit(11/19/26 10:00:02.500:7) : apparmor=DENIED operation=open profile=6120622F78 name=CAFE pid=5 comm=ABBA requested_mask=r denied_mask=r").unwrap();
        assert_eq!(ev.profile.as_deref(), Some("a b/x"));
        assert_eq!(ev.name.as_deref(), Some("CAFE"));
        assert_eq!(ev.comm.as_deref(), Some("ABBA"));
        // Control bytes come as \ooo.
        let ev = p("type=AVC msg=audit(11/19/26 10:00:02.500:7) : apparmor=DENIED operation=open profile=p name=/tmp/a\\012b pid=5 comm=x requested_mask=r denied_mask=r").unwrap();
        assert_eq!(ev.name.as_deref(), Some("/tmp/a\nb"));
        // Mount flags: kept when quoted, dropped when auparse rewrote them.
        let mount = |flags: &str| {
            p(&format!("type=AVC msg=audit(11/19/26 10:00:02.500:7) : apparmor=DENIED operation=mount info=failed flags match error=-13 profile=p name=/mnt/ pid=5 comm=mount fstype=\"ext4\" srcname=\"/dev/sdb1\" flags={flags}")).unwrap()
        };
        assert_eq!(mount("\"rw, nosuid\"").flags.as_deref(), Some("rw, nosuid"));
        let ev = mount("PROT_READ");
        assert_eq!(ev.flags, None);
        assert_eq!(ev.info.as_deref(), Some("failed flags match"));
        assert_eq!(ev.src_name.as_deref(), Some("/dev/sdb1"));
    }

    #[test]
    fn capability_network_and_user_avc() {
        let ev = p("type=AVC msg=audit(11/19/2026 10:00:01.121:4103) : apparmor=ALLOWED operation=capable class=\"cap\" profile=examplehttpd pid=2210 comm=examplehttpd capability=10  capname=\"net_bind_service\" ").unwrap();
        assert_eq!(ev.kind, EventKind::Allowed);
        assert_eq!(ev.name.as_deref(), Some("net_bind_service"));
        let ev = p("type=AVC msg=audit(11/19/2026 10:00:01.121:4104) : apparmor=ALLOWED operation=bind class=\"net\" profile=examplehttpd pid=2210 comm=examplehttpd family=\"inet6\" sock_type=\"stream\" protocol=6 requested=\"bind\" denied=\"bind\" src=443 ").unwrap();
        assert_eq!(ev.family.as_deref(), Some("inet6"));
        assert_eq!(ev.protocol.as_deref(), Some("tcp"));
        assert_eq!(ev.local_port, Some(443));
        let ev = p("type=USER_AVC msg=audit(11/19/2026 10:00:03.000:9) : pid=812 uid=messagebus auid=unset ses=unset subj=unconfined msg='apparmor=DENIED operation=dbus_method_call  bus=\"system\" path=/org/freedesktop/hostname1 interface=\"org.freedesktop.hostname1\" member=\"SetHostname\" mask=\"send\" name=\"org.freedesktop.hostname1\" pid=1402 label=\"example-notifier\" peer_pid=640 peer_label=\"unconfined\"  exe=/usr/bin/dbus-daemon sauid=messagebus hostname=? addr=? terminal=?'").unwrap();
        assert_eq!(ev.kind, EventKind::Denied);
        assert_eq!(ev.operation.as_deref(), Some("dbus_method_call"));
        assert_eq!(ev.dbus_path.as_deref(), Some("/org/freedesktop/hostname1"));
        assert_eq!(ev.dbus_member.as_deref(), Some("SetHostname"));
        assert_eq!(ev.profile.as_deref(), Some("example-notifier"));
        assert_eq!(ev.peer_pid, Some(640));
        assert_eq!(ev.net_addr, None);
    }

    proptest::proptest! {
        /// Any text after an interpreted stamp: an event or an error, never a panic.
        #[test]
        fn never_panics(body in "[ -~\\x{80}-\\x{10ffff}]{0,120}", user in proptest::bool::ANY) {
            let ty = if user { "USER_AVC" } else { "AVC" };
            let line = format!("type={ty} msg=audit(06/19/24 12:00:55.123:1) : apparmor=DENIED {body}");
            let _ = parse(line.as_bytes(), &mut Vec::new());
            let line = format!("type={ty} msg=audit({body}) : x");
            let _ = parse(line.as_bytes(), &mut Vec::new());
        }

        /// A decoded path with spaces (and no `KEY=` inside) comes back whole.
        #[test]
        fn paths_with_spaces_round_trip(path in "/[a-zA-Z0-9/ ._()'\"-]{0,40}[a-z]") {
            let line = format!("type=AVC msg=audit(06/19/24 12:00:55.123:1) : apparmor=DENIED operation=open class=\"file\" profile=/usr/bin/x y name={path} pid=5 comm=x y requested_mask=r denied_mask=r fsuid=root ouid=root ");
            let ev = p(&line).unwrap();
            proptest::prop_assert_eq!(ev.name.as_deref(), Some(path.as_str()));
            proptest::prop_assert_eq!(ev.profile.as_deref(), Some("/usr/bin/x y"));
            proptest::prop_assert_eq!(ev.comm.as_deref(), Some("x y"));
        }
    }

    #[test]
    fn not_interpreted_or_bad() {
        assert!(parse(
            b"type=AVC msg=audit(1718798455.123:1234): apparmor=\"DENIED\"",
            &mut Vec::new()
        )
        .is_none());
        let e = p(
            "type=AVC msg=audit(2024年06月19日 12:00:55.123:1) : apparmor=DENIED operation=open",
        )
        .unwrap_err();
        assert!(e.to_string().contains("LC_TIME=C"), "{e}");
        assert!(p("type=AVC msg=audit(06/19/2024 12:00:55.123:1) : operation=open").is_err());
    }
}
