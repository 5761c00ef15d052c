//! libapparmor's test-harness output format (`test_multi.c`), for conformance.
//!
//! Format: `START`, `File: NAME`, then one `Label: value` line per set field, in this order:
//! Event type, Audit ID, Operation, Mask (the requested mask), Denied Mask, fsuid, ouid,
//! Profile, Peer profile, Peer, Name, Command, Name2, Namespace, Attribute, Task, Parent,
//! Token, Info, Peer info, ErrorCode, PID, Peer PID, Active hat, Net Addr, Peer Addr,
//! Network family, Socket type, Protocol, Local addr, Foreign addr, Local port, Foreign port,
//! DBus bus, DBus path, DBus interface, DBus member, Signal, FS Type, Flags, Src name,
//! Execpath, Class, Epoch, Audit subid.
//!
//! Numeric fields that libapparmor stores with 0 meaning "unset" (Task, Parent, Token,
//! ErrorCode, PID, Peer PID, ports, Epoch, Audit subid) are not printed when 0; fsuid and
//! ouid are printed whenever present. Values are printed as decoded (hex-encoded values are
//! shown decoded, cut at a decoded NUL).

use std::fmt::Write as _;

use super::Event;

/// Render one record as `test_multi` prints it; `file` is the name on the `File:` line.
pub fn format_record(file: &str, ev: &Event) -> String {
    let mut o = String::with_capacity(512);
    o.push_str("START\n");
    let _ = writeln!(o, "File: {file}");
    let s = |o: &mut String, label: &str, v: &Option<String>| {
        if let Some(v) = v {
            let _ = writeln!(o, "{label}: {v}");
        }
    };
    let n = |o: &mut String, label: &str, v: Option<i64>| {
        if let Some(v) = v.filter(|&v| v != 0) {
            let _ = writeln!(o, "{label}: {v}");
        }
    };
    let _ = writeln!(o, "Event type: {}", ev.kind.record_name());
    s(&mut o, "Audit ID", &ev.audit_id);
    s(&mut o, "Operation", &ev.operation);
    s(&mut o, "Mask", &ev.requested_mask);
    s(&mut o, "Denied Mask", &ev.denied_mask);
    if let Some(v) = ev.fsuid {
        let _ = writeln!(o, "fsuid: {v}");
    }
    if let Some(v) = ev.ouid {
        let _ = writeln!(o, "ouid: {v}");
    }
    s(&mut o, "Profile", &ev.profile);
    s(&mut o, "Peer profile", &ev.peer_profile);
    s(&mut o, "Peer", &ev.peer);
    s(&mut o, "Name", &ev.name);
    s(&mut o, "Command", &ev.comm);
    s(&mut o, "Name2", &ev.name2);
    s(&mut o, "Namespace", &ev.namespace);
    s(&mut o, "Attribute", &ev.attribute);
    n(&mut o, "Task", ev.task);
    n(&mut o, "Parent", ev.parent);
    n(&mut o, "Token", ev.magic_token);
    s(&mut o, "Info", &ev.info);
    s(&mut o, "Peer info", &ev.peer_info);
    n(&mut o, "ErrorCode", ev.error_code);
    n(&mut o, "PID", ev.pid);
    n(&mut o, "Peer PID", ev.peer_pid);
    s(&mut o, "Net Addr", &ev.net_addr);
    s(&mut o, "Peer Addr", &ev.peer_addr);
    s(&mut o, "Network family", &ev.family);
    s(&mut o, "Socket type", &ev.sock_type);
    s(&mut o, "Protocol", &ev.protocol);
    s(&mut o, "Local addr", &ev.local_addr);
    s(&mut o, "Foreign addr", &ev.foreign_addr);
    n(&mut o, "Local port", ev.local_port);
    n(&mut o, "Foreign port", ev.foreign_port);
    s(&mut o, "DBus bus", &ev.dbus_bus);
    s(&mut o, "DBus path", &ev.dbus_path);
    s(&mut o, "DBus interface", &ev.dbus_interface);
    s(&mut o, "DBus member", &ev.dbus_member);
    s(&mut o, "Signal", &ev.signal);
    s(&mut o, "FS Type", &ev.fs_type);
    s(&mut o, "Flags", &ev.flags);
    s(&mut o, "Src name", &ev.src_name);
    s(&mut o, "Execpath", &ev.execpath);
    s(&mut o, "Class", &ev.rule_class);
    n(&mut o, "Epoch", ev.epoch);
    n(&mut o, "Audit subid", ev.audit_sub_id);
    o
}

/// Split a test input into records the way the harness sees them: each record is a line plus
/// the lines after it that start with whitespace (continuations), blank lines are dropped,
/// and each record is cut to 1023 bytes (the harness reads at most 1023 bytes).
pub fn split_records<'a>(input: &'a [u8]) -> Vec<&'a [u8]> {
    let mut out: Vec<&'a [u8]> = Vec::new();
    let mut start: Option<usize> = None;
    let mut pos = 0;
    let push = |out: &mut Vec<&'a [u8]>, s: usize, e: usize| {
        let rec: &'a [u8] = &input[s..e];
        out.push(&rec[..rec.len().min(1023)]);
    };
    while pos < input.len() {
        let end = memchr::memchr(b'\n', &input[pos..]).map_or(input.len(), |n| pos + n + 1);
        let line = &input[pos..end];
        let blank = line.iter().all(|b| b.is_ascii_whitespace());
        let cont = matches!(line.first(), Some(b' ' | b'\t')) && !blank;
        match (start, blank, cont) {
            (Some(_), _, true) => {}
            (Some(s), true, _) => {
                push(&mut out, s, pos);
                start = None;
            }
            (Some(s), false, false) => {
                push(&mut out, s, pos);
                start = Some(pos);
            }
            (None, false, _) => start = Some(pos),
            (None, true, _) => {}
        }
        pos = end;
    }
    if let Some(s) = start {
        push(&mut out, s, input.len());
    }
    out
}
