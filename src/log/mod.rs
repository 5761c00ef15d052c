//! Audit events: reading every real AppArmor log source and grouping events.
//!
//! What this module owns:
//! - [`parse_line`]: one log line (any framing) to a typed [`Event`], with libapparmor's
//!   exact field semantics (see [`parse_record`] for the conformance entry point);
//! - [`Reader`] and [`open_sources`]: streaming over files, `.gz`, stdin and the journal,
//!   counting what could not be parsed;
//! - [`group`]: grouping events into stable, numbered groups (`G1`, `G2`, …).
//!
//! What it does not own: drafting rules, deciding what is safe, or printing (the library never
//! prints; the `denials` and `debug parse-log` commands render what this module returns).
//!
//! Every [`Event`] carries its [`Provenance`]: the source, the line, the framing it came in,
//! and whether that framing can only have been written by the kernel or auditd. Log lines
//! are attacker-controlled; later stages must treat untrusted events accordingly.

mod classify;
mod context;
mod fast;
pub mod fields;
mod framing;
mod grammar;
pub mod group;
mod interpreted;
mod oldstyle;
mod perms;
mod reader;
mod scan;
pub mod testfmt;
pub mod time;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use classify::EventClass;
pub use context::audit_stamp;
pub use framing::Framing;
pub use perms::Perms;
pub use reader::{
    open_sources, LineFailure, ReadError, Reader, Source, SourceSpec, Summary, DEFAULT_AUDIT_LOG,
    MAX_LINE,
};

/// The kind of an event, as libapparmor names it (`AA_RECORD_*`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventKind {
    /// The record could not be parsed (libapparmor's `AA_RECORD_INVALID`).
    #[default]
    Invalid,
    /// `AUDIT`: an access the policy allows and asks to log.
    Audit,
    /// `ALLOWED`: an access a complain-mode profile would deny.
    Allowed,
    /// `DENIED`: an access the policy denied.
    Denied,
    /// `HINT`: process tracking information.
    Hint,
    /// `STATUS`: policy changes (profile load, replace, remove, …).
    Status,
    /// `ERROR`: an internal AppArmor error.
    Error,
}

impl EventKind {
    /// The libapparmor test-harness name, e.g. `AA_RECORD_DENIED`.
    pub fn record_name(self) -> &'static str {
        match self {
            EventKind::Invalid => "AA_RECORD_INVALID",
            EventKind::Audit => "AA_RECORD_AUDIT",
            EventKind::Allowed => "AA_RECORD_ALLOWED",
            EventKind::Denied => "AA_RECORD_DENIED",
            EventKind::Hint => "AA_RECORD_HINT",
            EventKind::Status => "AA_RECORD_STATUS",
            EventKind::Error => "AA_RECORD_ERROR",
        }
    }

    /// The short name used in logs and in our output, e.g. `DENIED`.
    pub fn as_str(self) -> &'static str {
        &self.record_name()[10..]
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an event came from and how far it can be trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The source: a file path, `-` for stdin, or `journal`.
    pub source: String,
    /// 1-based line number within the source (for journald, the entry number).
    pub line: u64,
    /// The framing the line came in.
    pub framing: Framing,
    /// True when only the kernel or auditd can have written this line: an `audit.log` or
    /// `ausearch` record read from a file, a `dmesg` line, or a journald entry whose
    /// `_TRANSPORT` is `kernel` or `audit`. Syslog, `kern.log`, `journalctl` text output and
    /// stdin are never trusted: any user can put such lines there (e.g. with `logger`).
    pub trusted: bool,
}

/// One AppArmor audit event, with every field libapparmor extracts.
///
/// Field semantics follow libapparmor's `aa_log_record`: string fields keep the logged text
/// (hex-encoded values decoded), numeric fields keep the logged number (numbers saturate at
/// `i64::MAX`, as C's `atol` does). Fields libapparmor merges are merged the same way:
/// `profile` holds `profile=` or `label=`, `peer_profile` holds `peer_profile=`,
/// `peer_label=` or `tcontext=`, `comm` holds `comm=` or `exe=` (the later wins), `name2`
/// holds `name2=` or `target=`, `name` holds `name=` or `capname=`, `denied_mask` holds
/// `denied_mask=`, `denied=` or `mask=`, `local_addr` holds `laddr=`/`saddr=` (and so on for
/// `faddr`/`daddr`, `lport`/`src`, `fport`/`dest`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// ALLOWED, DENIED, AUDIT, STATUS, …
    pub kind: EventKind,
    /// The broad class of access (file, network, dbus, …), derived from `class=` and the
    /// operation.
    pub class: EventClass,
    /// `operation=` (for non-AppArmor record types: the record type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The subject: `profile=` or `label=`, e.g. `/usr/sbin/cupsd//null-/bin/ls` or
    /// `:ns:/usr/bin/x`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The object path (file events), capability name, dbus destination, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The second path: exec/change_profile target, link/rename target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name2: Option<String>,
    /// `requested_mask=`/`requested=` as logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_mask: Option<String>,
    /// `denied_mask=`/`denied=`/`mask=` as logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denied_mask: Option<String>,
    /// `requested_mask` parsed into permissions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested: Option<Perms>,
    /// `denied_mask` parsed into permissions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denied: Option<Perms>,
    /// `fsuid=`: the accessing task's filesystem uid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fsuid: Option<i64>,
    /// `ouid=`: the object's owner uid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ouid: Option<i64>,
    /// `FSUID="otis"` from auditd's enrichment (after `\x1d`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fsuid_name: Option<String>,
    /// `OUID="root"` from auditd's enrichment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ouid_name: Option<String>,
    /// `pid=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i64>,
    /// `comm=` or `exe=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comm: Option<String>,
    /// `parent=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<i64>,
    /// `task=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<i64>,
    /// `magic_token=` (change_hat)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magic_token: Option<i64>,
    /// `namespace=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `attribute=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// `info=`: the kernel's explanation (e.g. `no new privs`, `Failed name lookup`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// `peer_info=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_info: Option<String>,
    /// `error=` without its sign, e.g. 13 for `error=-13` (EACCES).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    /// The peer: `peer_label=`, `peer_profile=` or `tcontext=`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_profile: Option<String>,
    /// `peer=` (signal and ptrace peers in old kernels, unix peers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// `peer_pid=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_pid: Option<i64>,
    /// `family=` (`inet`, `unix`, …)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// `sock_type=` (`stream`, `dgram`, …)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sock_type: Option<String>,
    /// `protocol=`, numbers mapped to names (`6` → `tcp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// `laddr=`/`saddr=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_addr: Option<String>,
    /// `faddr=`/`daddr=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foreign_addr: Option<String>,
    /// `lport=`/`src=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_port: Option<i64>,
    /// `fport=`/`dest=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foreign_port: Option<i64>,
    /// `addr=` (unix socket address)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_addr: Option<String>,
    /// `peer_addr=` (unix socket peer address)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_addr: Option<String>,
    /// `bus=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dbus_bus: Option<String>,
    /// `path=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dbus_path: Option<String>,
    /// `interface=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dbus_interface: Option<String>,
    /// `member=`/`method=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dbus_member: Option<String>,
    /// `signal=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// `fstype=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fs_type: Option<String>,
    /// `flags=` (mount flags)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<String>,
    /// `srcname=` (mount source, pivot_root old root)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_name: Option<String>,
    /// `execpath=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execpath: Option<String>,
    /// `class=` as logged (`file`, `net`, `posix_mqueue`, `io_uring`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_class: Option<String>,
    /// The audit stamp `EPOCH.MILLIS:SERIAL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_id: Option<String>,
    /// Seconds since the epoch, from the audit stamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch: Option<i64>,
    /// The audit serial number, from the audit stamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_sub_id: Option<i64>,
    /// What the other records of the same audit event said (auditd writes `SYSCALL`,
    /// `PROCTITLE`, … with the same stamp after the AVC); filled by [`Reader`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<AuditContext>,
    /// Keys libapparmor does not know, kept in order (our reader skips them instead of
    /// rejecting the record).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unknown_keys: Vec<(String, String)>,
    /// Where this event came from.
    pub provenance: Provenance,
}

impl Event {
    /// The profile name without its namespace prefix (`:ns:/usr/bin/x` → `/usr/bin/x`).
    pub fn profile_name(&self) -> Option<&str> {
        self.profile.as_deref().map(strip_namespace)
    }

    /// The namespace of the profile, if the label has one (`:ns:/usr/bin/x` → `ns`).
    pub fn profile_namespace(&self) -> Option<&str> {
        let p = self.profile.as_deref()?;
        let rest = p.strip_prefix(':')?;
        let end = rest.find(':')?;
        Some(&rest[..end])
    }

    /// The top-level profile of a hat or child (`/usr/sbin/apache2//HANDLING` →
    /// `/usr/sbin/apache2`).
    pub fn parent_profile(&self) -> Option<&str> {
        let p = self.profile_name()?;
        Some(p.split("//").next().unwrap_or(p))
    }

    fn finish(&mut self) {
        self.requested = self.requested_mask.as_deref().map(Perms::parse);
        self.denied = self.denied_mask.as_deref().map(Perms::parse);
        self.class = EventClass::derive(self);
    }
}

fn strip_namespace(p: &str) -> &str {
    if let Some(rest) = p.strip_prefix(':') {
        if let Some(end) = rest.find(':') {
            return rest[end + 1..].trim_start_matches("//");
        }
    }
    p
}

/// Fields from the non-AppArmor records of the same audit event (same `audit(…)` stamp).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditContext {
    /// `SYSCALL` `syscall=` (number, or name when `ausearch -i` resolved it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syscall: Option<String>,
    /// `SYSCALL` `success=yes|no`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// `SYSCALL` `exit=` (e.g. -13).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<i64>,
    /// `SYSCALL` `ppid=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ppid: Option<i64>,
    /// `SYSCALL` `uid=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<i64>,
    /// `SYSCALL` `auid=` (login uid; 4294967295 when unset)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auid: Option<i64>,
    /// `SYSCALL` `exe=` (decoded when hex-encoded)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// `PROCTITLE` `proctitle=`: the command line, NUL separators shown as spaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proctitle: Option<String>,
    /// `CWD` `cwd=`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// The record types merged in, in order (`SYSCALL`, `PROCTITLE`, …).
    pub records: Vec<String>,
}

/// Why one line could not be turned into an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The line is AppArmor output but its record is malformed.
    #[error("malformed AppArmor record: {0}")]
    Malformed(String),
    /// A journald export line that is not valid JSON or has no usable `MESSAGE`.
    #[error("bad journald JSON entry: {0}")]
    Journal(String),
    /// The line exceeds [`MAX_LINE`] bytes.
    #[error("line longer than {MAX_LINE} bytes")]
    TooLong,
}

/// Parse a record exactly as libapparmor's `parse_record()` does: no framing detection, no
/// tolerance for unknown keys. The result always comes back, with `kind ==
/// EventKind::Invalid` when libapparmor would say `AA_RECORD_INVALID`.
///
/// This is the conformance entry point (`aa-assist debug parse-log`); for real logs use
/// [`parse_line`].
pub fn parse_record(record: &[u8]) -> Event {
    let mut toks = Vec::new();
    scan::tokenize(record, &mut toks, false);
    let mut ev = Event::default();
    grammar::parse_tokens(&mut toks, &mut ev, false);
    ev.finish();
    ev
}

/// Parse one log line of any supported framing.
///
/// Returns `Ok(None)` for lines that are not AppArmor output (other audit records, unrelated
/// syslog lines, `ausearch` separators), `Ok(Some(event))` for an AppArmor event, and an error
/// for AppArmor output that cannot be parsed. The returned event's provenance has the framing
/// and the framing's trust filled in; `source` and `line` are left for the caller
/// ([`Reader`] fills them).
///
/// Unlike [`parse_record`], unknown `key=value` pairs are skipped (and kept in
/// [`Event::unknown_keys`]) instead of invalidating the record, and framings libapparmor does
/// not know (journald JSON, `dmesg -T`, ISO syslog dates, `node=` prefixes) are accepted.
/// Records libapparmor rejects although they describe an access, `ausearch -i` output and
/// old-style `type=APPARMOR` text records, are read by a second view once the ordinary parse
/// has failed (see `docs/log-parsing.md`); [`parse_record`] still says `Invalid` for them.
pub fn parse_line(line: &[u8]) -> Result<Option<Event>, LineError> {
    let mut scratch = Scratch::default();
    parse_line_with(line, &mut scratch)
}

/// Reusable buffers for [`parse_line_with`], to avoid allocating per line.
#[derive(Debug, Default)]
pub struct Scratch {
    toks: Vec<scan::Tok>,
    buf: Vec<u8>,
}

/// [`parse_line`] with caller-owned scratch buffers (what [`Reader`] uses).
pub fn parse_line_with(line: &[u8], scratch: &mut Scratch) -> Result<Option<Event>, LineError> {
    if line.len() > MAX_LINE {
        return Err(LineError::TooLong);
    }
    let line = trim_eol(line);
    let Some(unwrapped) = framing::unwrap(line, &mut scratch.buf)? else {
        return Ok(None);
    };
    let payload: &[u8] = match &unwrapped.payload {
        framing::Payload::Line => line,
        framing::Payload::Buffer => &scratch.buf,
    };
    // A line's own text was checked by `unwrap`; only a journald message is new here.
    if matches!(unwrapped.payload, framing::Payload::Buffer) && !framing::is_apparmor(payload) {
        return Ok(None);
    }
    let mut ev = Event::default();
    let ok = match framing::canonicalize(payload) {
        framing::Canonical::Full(rec) => match fast::parse_avc(&rec) {
            Some(e) => {
                ev = e;
                true
            }
            None => {
                scan::tokenize(&rec, &mut scratch.toks, true);
                grammar::parse_tokens(&mut scratch.toks, &mut ev, true)
            }
        },
        framing::Canonical::Keys(keys) => {
            scan::tokenize(keys, &mut scratch.toks, true);
            grammar::parse_key_list(&mut scratch.toks, &mut ev)
        }
    };
    if !ok || ev.kind == EventKind::Invalid {
        if let Some(second) = second_view(payload, &mut scratch.toks) {
            let (mut ev, framing) = second?;
            ev.provenance.framing = framing.unwrap_or(unwrapped.framing);
            ev.provenance.trusted = unwrapped.trusted;
            ev.finish();
            return Ok(Some(ev));
        }
        let why = if !ok {
            format!("cannot parse `{}`", preview(payload))
        } else if let (Some(op), Some(info)) = (&ev.operation, &ev.info) {
            format!(
                "old-style or unknown record type `{}`: {}",
                preview(op.as_bytes()),
                preview(info.as_bytes())
            )
        } else {
            format!(
                "record has no apparmor=\"MODE\" (DENIED, ALLOWED, …): `{}`",
                preview(payload)
            )
        };
        return Err(LineError::Malformed(why));
    }
    if ev.epoch.is_none() {
        ev.epoch = unwrapped.epoch;
    }
    ev.provenance.framing = unwrapped.framing;
    ev.provenance.trusted = unwrapped.trusted;
    ev.finish();
    Ok(Some(ev))
}

/// Records the libapparmor grammar rejects but that still describe an access: `ausearch -i`
/// output (framing [`Framing::Ausearch`]) and old-style `type=APPARMOR` text records, each
/// with its own audit stamp. Only reached after the ordinary parse failed; [`parse_record`]
/// never looks here: it stays libapparmor's view.
fn second_view(
    payload: &[u8],
    toks: &mut Vec<scan::Tok>,
) -> Option<Result<(Event, Option<Framing>), LineError>> {
    if let Some(r) = interpreted::parse(payload, toks) {
        return Some(r.map(|ev| (ev, Some(Framing::Ausearch))));
    }
    match framing::canonicalize(payload) {
        framing::Canonical::Full(rec) => oldstyle::parse(&rec).map(|ev| Ok((ev, None))),
        framing::Canonical::Keys(_) => None,
    }
}

/// The fast path of [`parse_line_with`] for the common raw auditd AVC line, reading it into
/// `v` (a fresh [`fast::View`]) with its text borrowed: `true` exactly when
/// [`parse_line_with`] would take the fast path to an event (framing auditd, trusted), and
/// then with the same fields (`View::into_event` plus [`Event::finish`] gives that event).
/// `false` means "ask [`parse_line_with`]" (and `v` is to be discarded).
pub(crate) fn parse_line_view<'a>(line: &'a [u8], v: &mut fast::View<'a>) -> bool {
    if line.len() > MAX_LINE {
        return false;
    }
    let line = trim_eol(line);
    // What `framing::unwrap` and `canonicalize` do to such a line: nothing (auditd framing,
    // trusted, the line itself is the canonical record).
    if !fast::is_candidate(line) {
        return false;
    }
    if fast::parse_view_into(line, v).is_none() || v.kind == EventKind::Invalid {
        return false;
    }
    // The fast parser sets a kind only from an `apparmor=` key, so the line passes
    // `framing::is_apparmor` (which `framing::unwrap` requires) without searching it again.
    debug_assert!(framing::is_apparmor(line));
    v.finish();
    true
}

fn trim_eol(mut line: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\r'] = line {
        line = rest;
    }
    line
}

/// At most 80 characters of `s`, lossily decoded, for error messages.
pub(crate) fn preview(s: &[u8]) -> String {
    let t = String::from_utf8_lossy(&s[..s.len().min(200)]);
    let mut out: String = t.chars().take(80).collect();
    if t.chars().count() > 80 || s.len() > 200 {
        out.push('…');
    }
    out.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Every file under `examples/` and the corpus's `logs/` (for tests that compare two parsers
/// on real data). Without the corpus: a printed notice, or a failure when `CI=true`.
#[cfg(test)]
pub(crate) fn sample_log_files() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = std::env::var_os("AA_CORPUS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/corpus"));
    if !corpus.join("logs").is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "corpus missing at {}",
            corpus.display()
        );
        eprintln!(
            "notice: corpus not found at {}; examples only",
            corpus.display()
        );
    }
    let mut files = Vec::new();
    let mut stack = vec![root.join("examples"), corpus.join("logs")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_auditd_avc() {
        let ev = parse_line(
            br#"type=AVC msg=audit(1279948288.415:39): apparmor="DENIED" operation="open" parent=12332 profile="/usr/sbin/cupsd" name="/home/user/.ssh/" pid=12333 comm="ls" requested_mask="r" denied_mask="r" fsuid=0 ouid=1000"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(ev.kind, EventKind::Denied);
        assert_eq!(ev.class, EventClass::File);
        assert_eq!(ev.profile.as_deref(), Some("/usr/sbin/cupsd"));
        assert_eq!(ev.epoch, Some(1279948288));
        assert_eq!(ev.audit_sub_id, Some(39));
        assert_eq!(ev.provenance.framing, Framing::Auditd);
        assert!(ev.provenance.trusted);
    }

    #[test]
    fn unrelated_lines_are_none() {
        assert_eq!(
            parse_line(b"Oct 29 07:55:58 host cron[1]: hello").unwrap(),
            None
        );
        assert_eq!(
            parse_line(b"type=SYSCALL msg=audit(1.2:3): arch=c000003e syscall=2").unwrap(),
            None
        );
    }

    #[test]
    fn namespace_helpers() {
        let ev = Event {
            profile: Some(":lxd-x:/usr/bin/foo//bar".into()),
            ..Event::default()
        };
        assert_eq!(ev.profile_namespace(), Some("lxd-x"));
        assert_eq!(ev.profile_name(), Some("/usr/bin/foo//bar"));
        assert_eq!(ev.parent_profile(), Some("/usr/bin/foo"));
    }
}
