//! The tokenizer of the libapparmor-compatible record parser.
//!
//! It reproduces the lexical behaviour of libapparmor's flex scanner (`scanner.l`): the same
//! start conditions (quoted string, safe string, audit id, audit types, …), the same
//! longest-match-then-first-rule choice, hex decoding of unquoted values, and the same
//! treatment of unmatched input (the rest of the line becomes one "message rest" token).
//! Keys are recognised by their longest known prefix, exactly as flex does.
//!
//! It owns tokenization only; [`super::grammar`] turns tokens into a record.

/// A key recognised by the scanner (each maps to one libapparmor key token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Apparmor,
    Type,
    Msg,
    Operation,
    Name,
    Name2,
    Namespace,
    Mask,
    DeniedMask,
    RequestedMask,
    Attribute,
    Task,
    Parent,
    MagicToken,
    Info,
    PeerInfo,
    Pid,
    PeerPid,
    Profile,
    PeerProfile,
    Label,
    PeerLabel,
    Family,
    SockType,
    Protocol,
    Error,
    Fsuid,
    FsuidUpper,
    Ouid,
    OuidUpper,
    Uid,
    Auid,
    Sauid,
    Ses,
    Hostname,
    Addr,
    Terminal,
    Exe,
    Comm,
    Capability,
    Capname,
    Offset,
    Target,
    Laddr,
    Faddr,
    Lport,
    Fport,
    Bus,
    Path,
    Interface,
    Member,
    Signal,
    Peer,
    Fstype,
    Flags,
    Srcname,
    UnixPeerAddr,
    Execpath,
    Class,
}

/// What the scanner does after a keyword.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    Stay,
    AuditTypes,
    SafeString,
    SubId,
    PushIpAddr,
}

/// Keywords in flex rule order (earlier wins a tie in length), with the token each yields.
const KEYWORDS: &[(&[u8], Key, After)] = &[
    (b"apparmor", Key::Apparmor, After::AuditTypes),
    (b"type", Key::Type, After::AuditTypes),
    (b"msg", Key::Msg, After::Stay),
    (b"operation", Key::Operation, After::Stay),
    (b"name", Key::Name, After::SafeString),
    (b"name2", Key::Name2, After::SafeString),
    (b"namespace", Key::Namespace, After::SafeString),
    (b"mask", Key::Mask, After::Stay),
    (b"denied_mask", Key::DeniedMask, After::Stay),
    (b"requested_mask", Key::RequestedMask, After::Stay),
    (b"denied", Key::DeniedMask, After::Stay),
    (b"requested", Key::RequestedMask, After::Stay),
    (b"attribute", Key::Attribute, After::SubId),
    (b"task", Key::Task, After::Stay),
    (b"parent", Key::Parent, After::Stay),
    (b"magic_token", Key::MagicToken, After::Stay),
    (b"info", Key::Info, After::Stay),
    (b"peer_info", Key::PeerInfo, After::Stay),
    (b"pid", Key::Pid, After::Stay),
    (b"peer_pid", Key::PeerPid, After::Stay),
    (b"profile", Key::Profile, After::SafeString),
    (b"peer_profile", Key::PeerProfile, After::SafeString),
    (b"label", Key::Label, After::SafeString),
    (b"peer_label", Key::PeerLabel, After::SafeString),
    (b"tcontext", Key::PeerLabel, After::SafeString),
    (b"family", Key::Family, After::Stay),
    (b"sock_type", Key::SockType, After::Stay),
    (b"protocol", Key::Protocol, After::Stay),
    (b"error", Key::Error, After::Stay),
    (b"fsuid", Key::Fsuid, After::Stay),
    (b"FSUID", Key::FsuidUpper, After::Stay),
    (b"ouid", Key::Ouid, After::Stay),
    (b"OUID", Key::OuidUpper, After::Stay),
    (b"uid", Key::Uid, After::Stay),
    (b"auid", Key::Auid, After::Stay),
    (b"sauid", Key::Sauid, After::Stay),
    (b"ses", Key::Ses, After::Stay),
    (b"hostname", Key::Hostname, After::Stay),
    (b"addr", Key::Addr, After::SafeString),
    (b"terminal", Key::Terminal, After::Stay),
    (b"exe", Key::Exe, After::SafeString),
    (b"comm", Key::Comm, After::SafeString),
    (b"capability", Key::Capability, After::Stay),
    (b"capname", Key::Capname, After::Stay),
    (b"offset", Key::Offset, After::Stay),
    (b"target", Key::Target, After::Stay),
    (b"laddr", Key::Laddr, After::PushIpAddr),
    (b"saddr", Key::Laddr, After::PushIpAddr),
    (b"faddr", Key::Faddr, After::PushIpAddr),
    (b"daddr", Key::Faddr, After::PushIpAddr),
    (b"lport", Key::Lport, After::Stay),
    (b"src", Key::Lport, After::Stay),
    (b"fport", Key::Fport, After::Stay),
    (b"dest", Key::Fport, After::Stay),
    (b"bus", Key::Bus, After::Stay),
    (b"path", Key::Path, After::Stay),
    (b"interface", Key::Interface, After::Stay),
    (b"member", Key::Member, After::Stay),
    (b"method", Key::Member, After::Stay),
    (b"signal", Key::Signal, After::SubId),
    (b"peer", Key::Peer, After::SafeString),
    (b"fstype", Key::Fstype, After::Stay),
    (b"flags", Key::Flags, After::SafeString),
    (b"srcname", Key::Srcname, After::SafeString),
    (b"peer_addr", Key::UnixPeerAddr, After::SafeString),
    (b"execpath", Key::Execpath, After::SafeString),
    (b"class", Key::Class, After::SafeString),
];

/// The value carried by `apparmor=`/`type=` tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AaType {
    Denied,
    Audit,
    Allowed,
    Hint,
    Status,
    Error,
}

/// One token, as libapparmor's scanner would return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Equals,
    Colon,
    Minus,
    OpenParen,
    CloseParen,
    Period,
    QuestionMark,
    SingleQuote,
    None,
    Digits(i64),
    Quoted(String),
    Hex(String),
    Id(String),
    IpAddr(String),
    AuditDigits(String),
    MsgRest(String),
    /// `"DENIED"` etc. after `apparmor=`.
    QuotedType(AaType),
    /// `APPARMOR_DENIED` etc. after `type=`.
    AaType(AaType),
    LsmAvc,
    UserAvc,
    TypeUnknown(i64),
    TypeOther(String),
    Key(Key),
    Audit,
    SocklogdKernel,
    SyslogKernel,
    SyslogUser,
    DateMonth,
    Date,
    Time,
    DmesgStamp,
    /// A `key=value` pair with a key libapparmor does not know (lenient mode only).
    UnknownKey(String, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Initial,
    Quoted,
    SubId,
    AuditId,
    Hostname,
    DmesgTimestamp,
    SafeString,
    AuditTypes,
    IpAddr,
    OtherAudit,
    UnknownMessage,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x1d)
}

fn is_id(b: u8) -> bool {
    !matches!(
        b,
        b' ' | b'\t' | b'\n' | b'(' | b')' | b'=' | b'"' | b'\'' | b'!'
    )
}

fn run(s: &[u8], pred: impl Fn(u8) -> bool) -> usize {
    s.iter().position(|&b| !pred(b)).unwrap_or(s.len())
}

fn digits(s: &[u8]) -> usize {
    run(s, |b| b.is_ascii_digit())
}

fn lit(s: &[u8], l: &[u8]) -> usize {
    if s.starts_with(l) {
        l.len()
    } else {
        0
    }
}

/// `atol`: optional sign handled by callers; saturates like glibc's strtol.
pub(crate) fn atol(s: &[u8]) -> i64 {
    let mut v: i64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    v
}

fn text(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

/// `[[:alnum:]_-]+\[[[:digit:]]+\]:`
fn syslog_user(s: &[u8]) -> usize {
    let n = run(s, |b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if n == 0 {
        return 0;
    }
    // The name part may itself end in digits that flex would backtrack over; a `[` ends it.
    if s.get(n) != Some(&b'[') {
        return 0;
    }
    let d = digits(&s[n + 1..]);
    if d == 0 || s.get(n + 1 + d) != Some(&b']') || s.get(n + 2 + d) != Some(&b':') {
        return 0;
    }
    n + d + 3
}

const MONTHS: &[&[u8]] = &[
    b"January",
    b"Jan",
    b"February",
    b"Feb",
    b"March",
    b"Mar",
    b"April",
    b"Apr",
    b"May",
    b"June",
    b"Jun",
    b"July",
    b"Jul",
    b"August",
    b"Aug",
    b"September",
    b"Sep",
    b"October",
    b"Oct",
    b"November",
    b"Nov",
    b"December",
    b"Dec",
];

fn month(s: &[u8]) -> usize {
    MONTHS.iter().map(|m| lit(s, m)).max().unwrap_or(0)
}

/// `\d{4}-\d{2}-\d{2}`
fn yyyymmdd(s: &[u8]) -> usize {
    let d = |i: usize| s.get(i).is_some_and(|b| b.is_ascii_digit());
    if (0..4).all(d)
        && s.get(4) == Some(&b'-')
        && d(5)
        && d(6)
        && s.get(7) == Some(&b'-')
        && d(8)
        && d(9)
    {
        10
    } else {
        0
    }
}

/// `hh:mm:ss(\.\d+)?([+-]hh:mm)?`
fn syslog_time(s: &[u8]) -> usize {
    let d = |i: usize| s.get(i).is_some_and(|b| b.is_ascii_digit());
    if !(d(0)
        && d(1)
        && s.get(2) == Some(&b':')
        && d(3)
        && d(4)
        && s.get(5) == Some(&b':')
        && d(6)
        && d(7))
    {
        return 0;
    }
    let mut n = 8;
    if s.get(n) == Some(&b'.') {
        let k = digits(&s[n + 1..]);
        if k > 0 {
            n += 1 + k;
        }
    }
    if matches!(s.get(n), Some(b'+' | b'-'))
        && d(n + 1)
        && d(n + 2)
        && s.get(n + 3) == Some(&b':')
        && d(n + 4)
        && d(n + 5)
    {
        n += 6;
    }
    n
}

/// `\[[[:digit:] ]{5,}\.[[:digit:]]{6,}\]`
fn dmesg_stamp(s: &[u8]) -> usize {
    if s.first() != Some(&b'[') {
        return 0;
    }
    let a = run(&s[1..], |b| b.is_ascii_digit() || b == b' ');
    if a < 5 || s.get(1 + a) != Some(&b'.') {
        return 0;
    }
    let f = digits(&s[2 + a..]);
    if f < 6 || s.get(2 + a + f) != Some(&b']') {
        return 0;
    }
    3 + a + f
}

/// `([A-F0-9][A-F0-9])+`
fn hexstring(s: &[u8]) -> usize {
    let n = run(s, |b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
    n - n % 2
}

fn hex_decode(s: &[u8]) -> String {
    let val = |b: u8| match b {
        b'0'..=b'9' => b - b'0',
        _ => b - b'A' + 10,
    };
    let bytes: Vec<u8> = s
        .chunks_exact(2)
        .map(|p| val(p[0]) << 4 | val(p[1]))
        .collect();
    // libapparmor keeps a C string: a decoded NUL ends it.
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Indexes into [`KEYWORDS`] of the keywords starting with each byte, in rule order: the
/// scanner looks at one short list instead of comparing every keyword at every token.
fn keywords_starting_with(c: u8) -> &'static [u8] {
    static TABLE: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = vec![Vec::new(); 256];
        for (k, (word, _, _)) in KEYWORDS.iter().enumerate() {
            // KEYWORDS has fewer than 256 entries (checked by a test).
            t[usize::from(word[0])].push(k as u8);
        }
        t
    });
    &table[usize::from(c)]
}

/// The token and the follow-up state of keyword `k` (an index from [`exact_keyword`]).
pub(crate) fn keyword_after(k: usize) -> (Key, After) {
    let (_, key, after) = KEYWORDS[k];
    (key, after)
}

/// Longest keyword (checked by a test): every keyword packs into one `u128`.
const KEYWORD_MAX: usize = 16;

/// `key` (at most [`KEYWORD_MAX`] bytes) as a zero-padded little-endian number. Keys are
/// identifier bytes, never NUL, so this is exact.
fn pack(key: &[u8]) -> u128 {
    key.iter()
        .enumerate()
        .fold(0, |v, (i, &b)| v | u128::from(b) << (8 * i))
}

/// [`pack`] of the first `len` (1 to 16) bytes of the 16 little-endian bytes `lo`, `hi`.
pub(crate) fn pack_words(lo: u64, hi: u64, len: usize) -> u128 {
    let keep = |w: u64, n: usize| match n {
        0 => 0,
        1..=7 => w & ((1u64 << (8 * n)) - 1),
        _ => w,
    };
    u128::from(keep(lo, len.min(8))) | u128::from(keep(hi, len.saturating_sub(8))) << 64
}

/// Open-addressing slot of a packed key in [`keyword_index`]'s table.
fn keyword_slot(packed: u128) -> usize {
    let folded = (packed as u64) ^ ((packed >> 64) as u64).rotate_left(29);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize
}

/// Packed keyword text → index into [`KEYWORDS`] (the first in rule order for a text),
/// 256 slots for fewer than 128 keywords (checked by a test), so probes stay short.
fn keyword_index() -> &'static [(u128, u8); 256] {
    static TABLE: std::sync::OnceLock<[(u128, u8); 256]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [(0u128, u8::MAX); 256];
        for (k, (word, _, _)) in KEYWORDS.iter().enumerate() {
            let packed = pack(word);
            let mut i = keyword_slot(packed);
            loop {
                match t[i] {
                    (_, u8::MAX) => {
                        t[i] = (packed, k as u8);
                        break;
                    }
                    (p, _) if p == packed => break,
                    _ => i = (i + 1) % t.len(),
                }
            }
        }
        t
    })
}

/// The keyword that is exactly `key`, if any (the first in rule order). The fast parser
/// asks this for every key of every record: one hash and, nearly always, one compare.
pub(crate) fn exact_keyword(key: &[u8]) -> Option<usize> {
    if key.is_empty() || key.len() > KEYWORD_MAX {
        return None;
    }
    packed_keyword(pack(key))
}

/// [`exact_keyword`] of a key given [`pack`]ed (a key of 1 to 16 identifier bytes).
pub(crate) fn packed_keyword(packed: u128) -> Option<usize> {
    let t = keyword_index();
    let mut i = keyword_slot(packed);
    loop {
        match t[i] {
            (_, u8::MAX) => return None,
            (p, k) if p == packed => return Some(usize::from(k)),
            _ => i = (i + 1) % t.len(),
        }
    }
}

/// `ident=value` in lenient mode: `Ok(k)` when `ident` is exactly keyword `k` (the length
/// of `ident` is the keyword's), `Err(n)` after pushing an unknown-key token of `n` bytes,
/// `None` when the text is not `ident=`.
///
/// When `ident` is exactly a keyword, flex's longest match is that keyword too: the `=` after
/// it ends every other rule that could start with a letter (`kernel:`, `Name[pid]:`, month
/// names, `audit(`) no later, and keywords come first in rule order on a tie.
fn lenient_pair(s: &[u8], out: &mut Vec<Tok>) -> Option<Result<usize, usize>> {
    let k = run(s, |b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if s.get(k) != Some(&b'=') {
        return None;
    }
    let key = &s[..k];
    if let Some(kw) = exact_keyword(key) {
        return Some(Ok(kw));
    }
    let v = &s[k + 1..];
    let (value, len) = if v.first() == Some(&b'"') {
        let mut j = 1;
        let mut val = Vec::new();
        while j < v.len() && v[j] != b'"' {
            if v[j] == b'\\' && j + 1 < v.len() {
                j += 1;
            }
            val.push(v[j]);
            j += 1;
        }
        (val, (j + 1).min(v.len()))
    } else {
        let n = run(v, |b| !is_ws(b) && b != b'\'');
        (v[..n].to_vec(), n)
    };
    out.push(Tok::UnknownKey(text(key), text(&value)));
    Some(Err(k + 1 + len))
}

/// The other flex rules of the INITIAL state, in rule order (keywords come between
/// `none` and the syslog rules).
#[derive(Clone, Copy)]
enum Rule {
    Quote,
    Equals,
    Digits,
    Colon,
    Minus,
    Open,
    Close,
    Period,
    Question,
    Single,
    None,
    Keyword(usize),
    Socklogd,
    SyslogKernel,
    SyslogUser,
    Month,
    Date,
    DateT,
    Time,
    Audit,
    Dmesg,
}

/// The INITIAL-state rule flex picks at `s` (longest match, earlier rule on a tie), with its
/// length; `None` when no rule matches (flex's catch-all `.`).
fn initial_rule(s: &[u8], c: u8) -> Option<(usize, Rule)> {
    let mut best: Option<(usize, Rule)> = None;
    let mut consider = |n: usize, r: Rule| {
        if n > 0 && best.is_none_or(|(b, _)| n > b) {
            best = Some((n, r));
        }
    };
    consider(lit(s, b"\""), Rule::Quote);
    consider(lit(s, b"="), Rule::Equals);
    consider(digits(s), Rule::Digits);
    consider(lit(s, b":"), Rule::Colon);
    consider(lit(s, b"-"), Rule::Minus);
    consider(lit(s, b"("), Rule::Open);
    consider(lit(s, b")"), Rule::Close);
    consider(lit(s, b"."), Rule::Period);
    consider(lit(s, b"?"), Rule::Question);
    consider(lit(s, b"'"), Rule::Single);
    if c == b'n' {
        consider(lit(s, b"none"), Rule::None);
    }
    if c.is_ascii_alphabetic() {
        for &k in keywords_starting_with(c) {
            let k = usize::from(k);
            consider(lit(s, KEYWORDS[k].0), Rule::Keyword(k));
        }
    }
    if c == b'k' {
        consider(lit(s, b"kern.notice:"), Rule::Socklogd);
        consider(lit(s, b"kernel:"), Rule::SyslogKernel);
    }
    consider(syslog_user(s), Rule::SyslogUser);
    if matches!(c, b'J' | b'F' | b'M' | b'A' | b'S' | b'O' | b'N' | b'D') {
        consider(month(s), Rule::Month);
    }
    let date = yyyymmdd(s);
    consider(date, Rule::Date);
    if date > 0 && s.get(10) == Some(&b'T') {
        let t = syslog_time(&s[11..]);
        if t > 0 {
            consider(11 + t, Rule::DateT);
        }
    }
    consider(syslog_time(s), Rule::Time);
    if c == b'a' {
        consider(lit(s, b"audit"), Rule::Audit);
    }
    consider(dmesg_stamp(s), Rule::Dmesg);
    best
}

/// Tokenize `input` the way libapparmor's scanner does; `out` is cleared first.
///
/// Input stops at the first NUL byte (libapparmor takes a C string).
///
/// With `lenient`, a `key=value` pair whose key is not one libapparmor knows becomes one
/// [`Tok::UnknownKey`] instead of ending the scan in a "message rest" token.
pub(crate) fn tokenize(input: &[u8], out: &mut Vec<Tok>, lenient: bool) {
    out.clear();
    let input = match memchr::memchr(0, input) {
        Some(n) => &input[..n],
        None => input,
    };
    let mut st = State::Initial;
    let mut stack: Vec<State> = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < input.len() {
        let s = &input[i..];
        let c = s[0];
        match st {
            State::Initial => {
                if is_ws(c) {
                    i += run(s, is_ws);
                    continue;
                }
                let mut known: Option<(usize, Rule)> = None;
                if lenient && c.is_ascii_alphabetic() {
                    match lenient_pair(s, out) {
                        Some(Ok(k)) => known = Some((KEYWORDS[k].0.len(), Rule::Keyword(k))),
                        Some(Err(n)) => {
                            i += n;
                            continue;
                        }
                        None => {}
                    }
                }
                let best = known.or_else(|| initial_rule(s, c));
                let Some((n, rule)) = best else {
                    // `.`: any other character starts an unknown message.
                    st = State::UnknownMessage;
                    continue;
                };
                let mut len = n;
                let tok = match rule {
                    Rule::Quote => {
                        buf.clear();
                        st = State::Quoted;
                        None
                    }
                    Rule::Equals => Some(Tok::Equals),
                    Rule::Digits => Some(Tok::Digits(atol(&s[..n]))),
                    Rule::Colon => Some(Tok::Colon),
                    Rule::Minus => Some(Tok::Minus),
                    Rule::Open => {
                        st = State::SubId;
                        Some(Tok::OpenParen)
                    }
                    Rule::Close => Some(Tok::CloseParen),
                    Rule::Period => Some(Tok::Period),
                    Rule::Question => Some(Tok::QuestionMark),
                    Rule::Single => Some(Tok::SingleQuote),
                    Rule::None => Some(Tok::None),
                    Rule::Keyword(k) => {
                        let (_, key, after) = KEYWORDS[k];
                        match after {
                            After::Stay => {}
                            After::AuditTypes => st = State::AuditTypes,
                            After::SafeString => st = State::SafeString,
                            After::SubId => st = State::SubId,
                            After::PushIpAddr => {
                                stack.push(st);
                                st = State::IpAddr;
                            }
                        }
                        Some(Tok::Key(key))
                    }
                    Rule::Socklogd => {
                        st = State::DmesgTimestamp;
                        Some(Tok::SocklogdKernel)
                    }
                    Rule::SyslogKernel => {
                        st = State::DmesgTimestamp;
                        Some(Tok::SyslogKernel)
                    }
                    Rule::SyslogUser => Some(Tok::SyslogUser),
                    Rule::Month => Some(Tok::DateMonth),
                    Rule::Date => Some(Tok::Date),
                    Rule::DateT => {
                        // Trailing context: only the date and the `T` are consumed.
                        len = 11;
                        Some(Tok::Date)
                    }
                    Rule::Time => {
                        st = State::Hostname;
                        Some(Tok::Time)
                    }
                    Rule::Audit => {
                        stack.push(st);
                        st = State::AuditId;
                        Some(Tok::Audit)
                    }
                    Rule::Dmesg => Some(Tok::DmesgStamp),
                };
                i += len;
                if let Some(t) = tok {
                    out.push(t);
                }
            }
            State::Quoted => match c {
                b'"' => {
                    st = State::Initial;
                    out.push(Tok::Quoted(text(&buf)));
                    i += 1;
                }
                b'\\' => {
                    if let Some(&next) = s.get(1) {
                        buf.push(next);
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                // flex echoes an unmatched newline and carries on.
                b'\n' => i += 1,
                _ => {
                    let n = run(s, |b| !matches!(b, b'\\' | b'\n' | b'"'));
                    buf.extend_from_slice(&s[..n]);
                    i += n;
                }
            },
            State::SubId => match c {
                b'(' => {
                    out.push(Tok::OpenParen);
                    i += 1;
                }
                b')' => {
                    st = State::Initial;
                    out.push(Tok::CloseParen);
                    i += 1;
                }
                b'"' => {
                    buf.clear();
                    st = State::Quoted;
                    i += 1;
                }
                b'=' => {
                    out.push(Tok::Equals);
                    i += 1;
                }
                _ if is_ws(c) && (!is_id(c) || run(s, is_id) == 1) => i += 1,
                b'\'' | b'!' => i += 1,
                _ => {
                    // `{ID}+` (which includes `\r` and `\x1d`) beats the single `{ws}`.
                    let n = run(s, is_id);
                    st = State::Initial;
                    out.push(Tok::Id(text(&s[..n])));
                    i += n;
                }
            },
            State::AuditId => {
                let d = digits(s);
                if d > 0 {
                    out.push(Tok::AuditDigits(text(&s[..d])));
                    i += d;
                    continue;
                }
                match c {
                    b':' => {
                        if s.get(1).is_some_and(|&b| is_ws(b)) {
                            st = stack.pop().unwrap_or(State::Initial);
                            i += 2;
                        } else {
                            i += 1;
                        }
                        out.push(Tok::Colon);
                    }
                    b'.' => {
                        out.push(Tok::Period);
                        i += 1;
                    }
                    b'(' => {
                        out.push(Tok::OpenParen);
                        i += 1;
                    }
                    b')' => {
                        st = stack.pop().unwrap_or(State::Initial);
                        out.push(Tok::CloseParen);
                        i += 1;
                    }
                    b'\n' => i += 1,
                    _ => st = State::UnknownMessage,
                }
            }
            State::Hostname => {
                if is_ws(c) {
                    i += run(s, is_ws);
                    continue;
                }
                let host = run(s, |b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
                });
                let sock = lit(s, b"kern.notice:");
                if sock > host {
                    st = State::DmesgTimestamp;
                    out.push(Tok::SocklogdKernel);
                    i += sock;
                } else if host > 0 {
                    st = State::Initial;
                    out.push(Tok::Id(text(&s[..host])));
                    i += host;
                } else {
                    i += 1;
                }
            }
            State::DmesgTimestamp => {
                if is_ws(c) {
                    i += run(s, is_ws);
                    continue;
                }
                let n = dmesg_stamp(s);
                st = State::Initial;
                if n > 0 {
                    out.push(Tok::DmesgStamp);
                    i += n;
                }
            }
            State::SafeString => match c {
                b'"' => {
                    buf.clear();
                    st = State::Quoted;
                    i += 1;
                }
                b'=' => {
                    out.push(Tok::Equals);
                    i += 1;
                }
                b'\n' => i += 1,
                _ => {
                    let n = hexstring(s);
                    st = State::Initial;
                    if n > 0 {
                        out.push(Tok::Hex(hex_decode(&s[..n])));
                        i += n;
                    }
                }
            },
            State::IpAddr => {
                let n = run(s, |b| {
                    b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'.' || b == b':'
                });
                if n >= 3 {
                    st = stack.pop().unwrap_or(State::Initial);
                    out.push(Tok::IpAddr(text(&s[..n])));
                    i += n;
                } else if c == b'=' {
                    out.push(Tok::Equals);
                    i += 1;
                } else if c == b'\n' {
                    i += 1;
                } else {
                    st = State::Initial;
                }
            }
            State::AuditTypes => {
                if c == b'=' {
                    out.push(Tok::Equals);
                    i += 1;
                    continue;
                }
                if c == b'\n' {
                    i += 1;
                    continue;
                }
                let d = digits(s);
                let other = run(s, |b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'[' | b']' | b'_' | b'-')
                });
                let mut fixed: Option<(usize, Tok)> = None;
                for (word, tok) in [
                    (&b"\"DENIED\""[..], Tok::QuotedType(AaType::Denied)),
                    (b"\"AUDIT\"", Tok::QuotedType(AaType::Audit)),
                    (b"\"ALLOWED\"", Tok::QuotedType(AaType::Allowed)),
                    (b"\"HINT\"", Tok::QuotedType(AaType::Hint)),
                    (b"\"STATUS\"", Tok::QuotedType(AaType::Status)),
                    (b"\"ERROR\"", Tok::QuotedType(AaType::Error)),
                    (b"APPARMOR_DENIED", Tok::AaType(AaType::Denied)),
                    (b"APPARMOR_AUDIT", Tok::AaType(AaType::Audit)),
                    (b"APPARMOR_ALLOWED", Tok::AaType(AaType::Allowed)),
                    (b"APPARMOR_HINT", Tok::AaType(AaType::Hint)),
                    (b"APPARMOR_STATUS", Tok::AaType(AaType::Status)),
                    (b"APPARMOR_ERROR", Tok::AaType(AaType::Error)),
                    (b"AVC", Tok::LsmAvc),
                    (b"USER_AVC", Tok::UserAvc),
                ] {
                    let n = lit(s, word);
                    if n > 0 && fixed.as_ref().is_none_or(|(b, _)| n > *b) {
                        fixed = Some((n, tok));
                    }
                }
                let unknown = if s.starts_with(b"UNKNOWN[") {
                    let k = digits(&s[8..]);
                    if k > 0 && s.get(8 + k) == Some(&b']') {
                        9 + k
                    } else {
                        0
                    }
                } else {
                    0
                };
                // Rule order: digits, the fixed words, UNKNOWN[n], other; longest wins.
                let fixed_len = fixed.as_ref().map_or(0, |(n, _)| *n);
                let best = d.max(fixed_len).max(unknown).max(other);
                if best == 0 {
                    st = State::UnknownMessage;
                    continue;
                }
                st = State::Initial;
                i += best;
                if d == best {
                    out.push(Tok::Digits(atol(&s[..d])));
                } else if fixed_len == best {
                    if let Some((_, t)) = fixed {
                        out.push(t);
                    }
                } else if unknown == best {
                    out.push(Tok::TypeUnknown(atol(&s[8..])));
                } else {
                    st = State::OtherAudit;
                    out.push(Tok::TypeOther(text(&s[..other])));
                }
            }
            State::OtherAudit => {
                if is_ws(c) {
                    i += run(s, is_ws);
                } else if s.starts_with(b"audit") {
                    stack.push(st);
                    st = State::AuditId;
                    out.push(Tok::Audit);
                    i += 5;
                } else if s.starts_with(b"msg") {
                    out.push(Tok::Key(Key::Msg));
                    i += 3;
                } else if c == b'=' {
                    out.push(Tok::Equals);
                    i += 1;
                } else if c == b':' {
                    out.push(Tok::Colon);
                    i += 1;
                } else {
                    st = State::UnknownMessage;
                }
            }
            State::UnknownMessage => {
                if c == b'\n' {
                    i += 1;
                } else {
                    let n = memchr::memchr(b'\n', s).unwrap_or(s.len());
                    out.push(Tok::MsgRest(text(&s[..n])));
                    i += n;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        let mut v = Vec::new();
        tokenize(s.as_bytes(), &mut v, false);
        v
    }

    #[test]
    fn keyword_table_fits_in_a_byte() {
        assert!(KEYWORDS.len() < 128);
        for (k, (word, _, _)) in KEYWORDS.iter().enumerate() {
            assert!(keywords_starting_with(word[0]).contains(&(k as u8)));
            assert!(!word.is_empty() && word.len() <= KEYWORD_MAX);
            assert!(!word.contains(&0));
        }
    }

    /// The packed lookup answers as a scan of the table in rule order does.
    #[test]
    fn exact_keyword_is_the_first_in_rule_order() {
        let slow = |key: &[u8]| KEYWORDS.iter().position(|(w, _, _)| *w == key);
        for (word, _, _) in KEYWORDS {
            assert_eq!(exact_keyword(word), slow(word));
            for cut in 0..word.len() {
                assert_eq!(exact_keyword(&word[..cut]), slow(&word[..cut]));
            }
            let mut longer = word.to_vec();
            longer.push(b'x');
            assert_eq!(exact_keyword(&longer), slow(&longer));
        }
        for odd in [
            &b""[..],
            b"x",
            b"APPARMOR",
            b"requested_mask_",
            b"0123456789abcdefg",
        ] {
            assert_eq!(exact_keyword(odd), slow(odd));
        }
    }

    proptest::proptest! {
        #[test]
        fn pack_words_equals_pack(bytes in proptest::collection::vec(1u8.., 16), len in 1usize..=16) {
            let lo = u64::from_le_bytes(bytes[..8].try_into().unwrap());
            let hi = u64::from_le_bytes(bytes[8..].try_into().unwrap());
            proptest::prop_assert_eq!(pack_words(lo, hi, len), pack(&bytes[..len]));
        }

        #[test]
        fn exact_keyword_agrees_with_a_scan(key in "[a-z_0-9-]{0,18}") {
            let slow = KEYWORDS.iter().position(|(w, _, _)| *w == key.as_bytes());
            proptest::prop_assert_eq!(exact_keyword(key.as_bytes()), slow);
        }
    }

    proptest::proptest! {
        /// With only keys libapparmor knows, the lenient scanner (which takes a shortcut for
        /// `key=`) must return exactly the tokens of the strict one (flex's rules).
        #[test]
        fn lenient_equals_strict_on_known_keys(
            pairs in proptest::collection::vec(
                (0..KEYWORDS.len(), proptest::sample::select(vec![
                    "\"DENIED\"", "\"/etc/x y\"", "2F746D70", "12", "-13", "\"a\\\"b\"",
                    "", "abc", "1.2.3.4", "::1", "(null)", "\"r\"", "APPARMOR_DENIED",
                ])),
                0..12,
            ),
            sep in proptest::sample::select(vec![" ", "  ", "\t", "\x1d"]),
        ) {
            let mut line = String::from("type=AVC msg=audit(1.2:3): ");
            for (k, v) in &pairs {
                line.push_str(std::str::from_utf8(KEYWORDS[*k].0).unwrap());
                line.push('=');
                line.push_str(v);
                line.push_str(sep);
            }
            let (mut a, mut b) = (Vec::new(), Vec::new());
            tokenize(line.as_bytes(), &mut a, true);
            tokenize(line.as_bytes(), &mut b, false);
            proptest::prop_assert_eq!(a, b, "{}", line);
        }
    }

    #[test]
    fn keys_match_longest_prefix() {
        assert_eq!(toks("requested_mask")[0], Tok::Key(Key::RequestedMask));
        assert_eq!(toks("name2")[0], Tok::Key(Key::Name2));
        assert_eq!(toks("peer_addr")[0], Tok::Key(Key::UnixPeerAddr));
    }

    #[test]
    fn hex_values_decode() {
        assert_eq!(
            toks("name=2F746D70"),
            vec![Tok::Key(Key::Name), Tok::Equals, Tok::Hex("/tmp".into())]
        );
    }

    #[test]
    fn unknown_text_becomes_rest() {
        assert_eq!(toks("zzz yy"), vec![Tok::MsgRest("zzz yy".into())]);
    }

    #[test]
    fn audit_id_tokens() {
        assert_eq!(
            toks("audit(1.2:3):"),
            vec![
                Tok::Audit,
                Tok::OpenParen,
                Tok::AuditDigits("1".into()),
                Tok::Period,
                Tok::AuditDigits("2".into()),
                Tok::Colon,
                Tok::AuditDigits("3".into()),
                Tok::CloseParen,
                Tok::Colon
            ]
        );
    }
}
