//! Old-style AppArmor text records (kernels before the 2.6.24-era `key=value` format):
//! `type=APPARMOR msg=audit(…): REJECTING r access to /bin/df (sh(7902) profile P active H)`.
//!
//! libapparmor itself returns `AA_RECORD_INVALID` for these, and so does
//! [`super::parse_record`] (the conformance view, byte for byte). This module is the second
//! view: [`parse`] turns the same record into a real [`Event`] for `denials`, grouping and
//! `tune`. It is only tried after the ordinary parse has failed, so it costs ordinary lines
//! nothing.
//!
//! The message forms, as the old kernel module wrote them (`LOGCLS` is `REJECTING`,
//! `PERMITTING` or `AUDITING`, each optionally with `-SYSLOGFIX`, where `%%` stands for `%`):
//!
//! | message | operation | fields |
//! |---|---|---|
//! | `LOGCLS MASK access to PATH TRAILER` | `exec` if MASK has `x`, `link` for `l` alone, else `open` | name, masks |
//! | `LOGCLS mkdir on PATH TRAILER` (`rmdir`) | `mkdir` / `rmdir` | name, mask `w` |
//! | `LOGCLS xattr OP on PATH TRAILER` | `xattr` | name, mask `r` (get, list) or `w` (set, remove) |
//! | `LOGCLS attribute (LIST) change to PATH TRAILER` | `setattr` | name, attribute LIST, mask `w` |
//! | `LOGCLS link access from A to B TRAILER` | `link` | name A, name2 B, mask `l` |
//! | `LOGCLS access to capability 'CAP' TRAILER` | `capable` | name CAP |
//! | `LOGCLS access to syscall 'NAME' TRAILER` | `syscall` | name NAME |
//! | `LOGPROF-HINT fork pid=N child=M [profile=P active=A]` | `clone` (HINT) | pid, task |
//! | `LOGPROF-HINT unknown_hat HAT pid=N profile=P active=A` | `change_hat` (HINT) | name HAT |
//! | `LOGPROF-HINT unknown_profile image=X pid=N profile=P active=A` (`missing_mandatory_profile`) | `exec` (HINT) | name X, info |
//! | `LOGPROF-HINT changing_profile pid=N` | `change_profile` (HINT) | pid |
//!
//! `TRAILER` is ` (COMM(PID) profile P active A)`. `REJECTING` becomes DENIED, `PERMITTING`
//! ALLOWED, `AUDITING` AUDIT. The profile is `P` when `A` is `P`, else the hat or child
//! `P//A` (how newer kernels name it). A path that ends in ` (deleted)` loses that suffix.
//!
//! Limits: the trailer is found from the end of the message, and COMM starts after the last
//! ` (` before `(PID) profile `: a command name that itself contains ` (` is cut short. Only
//! records typed `APPARMOR`, `1500` or `UNKNOWN[1500]` are read this way.

use super::{Event, EventKind};

/// Parse an old-style record (in the auditd form `type=T msg=audit(…): TEXT`). `None` when it
/// is not one.
pub(crate) fn parse(record: &[u8]) -> Option<Event> {
    let rec = std::str::from_utf8(record).ok()?;
    let rec = rec.trim_end();
    let ty = rec.strip_prefix("type=")?;
    let (ty, rest) = ty.split_once(' ')?;
    if !matches!(ty, "APPARMOR" | "1500" | "UNKNOWN[1500]") {
        return None;
    }
    let rest = rest.strip_prefix("msg=audit(")?;
    let (stamp, msg) = rest.split_once("): ")?;
    let mut ev = Event::default();
    set_stamp(&mut ev, stamp)?;
    if let Some(hint) = msg.strip_prefix("LOGPROF-HINT ") {
        hint_event(&mut ev, hint)?;
    } else {
        access_event(&mut ev, msg)?;
    }
    Some(ev)
}

/// `EPOCH.MILLIS:SERIAL`
fn set_stamp(ev: &mut Event, stamp: &str) -> Option<()> {
    let (time, serial) = stamp.split_once(':')?;
    let (secs, millis) = time.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(secs) && digits(millis) && digits(serial)) {
        return None;
    }
    ev.epoch = Some(secs.parse().ok()?);
    ev.audit_sub_id = Some(serial.parse().ok()?);
    ev.audit_id = Some(stamp.to_string());
    Some(())
}

/// `P` when the active profile is `P` itself, else `P//A`.
fn label(profile: &str, active: &str) -> String {
    if profile == active {
        profile.to_string()
    } else {
        format!("{profile}//{active}")
    }
}

/// Split ` (COMM(PID) profile P active A)` off the end of `msg`: (detail, comm, pid, label).
fn trailer(msg: &str) -> Option<(&str, &str, i64, String)> {
    let body = msg.strip_suffix(')')?;
    let (before, active) = body.rsplit_once(" active ")?;
    let (before, profile) = before.rsplit_once(" profile ")?;
    let before = before.strip_suffix(')')?;
    let (before, pid) = before.rsplit_once('(')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (detail, comm) = before.rsplit_once(" (")?;
    Some((detail, comm, pid.parse().ok()?, label(profile, active)))
}

fn strip_deleted(path: &str) -> &str {
    path.strip_suffix(" (deleted)").unwrap_or(path)
}

fn access_event(ev: &mut Event, msg: &str) -> Option<()> {
    let (cls, detail) = msg.split_once(' ')?;
    let (cls, syslogfix) = match cls.strip_suffix("-SYSLOGFIX") {
        Some(c) => (c, true),
        None => (cls, false),
    };
    ev.kind = match cls {
        "REJECTING" => EventKind::Denied,
        "PERMITTING" => EventKind::Allowed,
        "AUDITING" => EventKind::Audit,
        _ => return None,
    };
    let unfixed;
    let detail = if syslogfix {
        unfixed = detail.replace("%%", "%");
        unfixed.as_str()
    } else {
        detail
    };
    let (what, comm, pid, profile) = trailer(detail)?;
    ev.comm = Some(comm.to_string());
    ev.pid = Some(pid);
    ev.profile = Some(profile);
    let set_mask = |ev: &mut Event, mask: &str| {
        ev.requested_mask = Some(mask.to_string());
        if ev.kind != EventKind::Audit {
            ev.denied_mask = Some(mask.to_string());
        }
    };
    let op;
    if let Some(rest) = what.strip_prefix("link access from ") {
        let (from, to) = rest.split_once(" to ")?;
        ev.name = Some(from.to_string());
        ev.name2 = Some(strip_deleted(to).to_string());
        set_mask(ev, "l");
        op = "link";
    } else if let Some(rest) = what.strip_prefix("access to capability '") {
        ev.name = Some(rest.strip_suffix('\'')?.to_string());
        op = "capable";
    } else if let Some(rest) = what.strip_prefix("access to syscall '") {
        ev.name = Some(rest.strip_suffix('\'')?.to_string());
        op = "syscall";
    } else if let Some(rest) = what.strip_prefix("attribute (") {
        let (attrs, path) = rest.split_once(") change to ")?;
        ev.attribute = Some(attrs.trim_end_matches(',').to_string());
        ev.name = Some(strip_deleted(path).to_string());
        set_mask(ev, "w");
        op = "setattr";
    } else if let Some(rest) = what.strip_prefix("xattr ") {
        let (xop, path) = rest.split_once(" on ")?;
        match xop {
            "get" | "list" => set_mask(ev, "r"),
            "set" | "remove" => set_mask(ev, "w"),
            _ => {}
        }
        ev.info = Some(format!("xattr {xop}"));
        ev.name = Some(strip_deleted(path).to_string());
        op = "xattr";
    } else if let Some(path) = what.strip_prefix("mkdir on ") {
        ev.name = Some(strip_deleted(path).to_string());
        set_mask(ev, "w");
        op = "mkdir";
    } else if let Some(path) = what.strip_prefix("rmdir on ") {
        ev.name = Some(strip_deleted(path).to_string());
        set_mask(ev, "w");
        op = "rmdir";
    } else {
        let (mask, path) = what.split_once(" access to ")?;
        if mask.is_empty() || !mask.bytes().all(|b| b"mrwxl".contains(&b)) {
            return None;
        }
        ev.name = Some(strip_deleted(path).to_string());
        set_mask(ev, mask);
        op = if mask.contains('x') {
            "exec"
        } else if mask == "l" {
            "link"
        } else {
            "open"
        };
    }
    if ev.name.as_deref().is_some_and(|n| n.starts_with('/')) {
        ev.rule_class = Some("file".into());
    }
    ev.operation = Some(op.to_string());
    Some(())
}

/// `key=value` of a hint: the value runs to the next ` word=` (profile names have no spaces
/// in these records, but `active=` is last and takes the rest).
fn hint_value<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("{key}=");
    let start = s
        .match_indices(&pat)
        .find(|(i, _)| *i == 0 || s.as_bytes()[i - 1] == b' ')
        .map(|(i, _)| i + pat.len())?;
    let v = &s[start..];
    let end = [" pid=", " child=", " profile=", " active=", " image="]
        .iter()
        .filter_map(|k| v.find(k))
        .min()
        .unwrap_or(v.len());
    Some(v[..end].trim_end())
}

fn hint_event(ev: &mut Event, hint: &str) -> Option<()> {
    ev.kind = EventKind::Hint;
    let (what, args) = hint.split_once(' ').unwrap_or((hint, ""));
    let num = |k: &str| hint_value(args, k).and_then(|v| v.parse::<i64>().ok());
    ev.pid = num("pid");
    if let (Some(p), Some(a)) = (hint_value(args, "profile"), hint_value(args, "active")) {
        ev.profile = Some(label(p, a));
    }
    let op = match what {
        "fork" => {
            ev.task = num("child");
            "clone"
        }
        "unknown_hat" => {
            let hat = args.split(' ').next().filter(|h| !h.contains('='))?;
            ev.name = Some(hat.to_string());
            "change_hat"
        }
        "unknown_profile" | "missing_mandatory_profile" => {
            ev.name = Some(hint_value(args, "image")?.to_string());
            ev.info = Some(what.replace('_', " "));
            "exec"
        }
        "changing_profile" => "change_profile",
        _ => return None,
    };
    ev.pid?;
    ev.operation = Some(op.to_string());
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Event {
        parse(s.as_bytes()).unwrap_or_else(|| panic!("not parsed: {s}"))
    }

    #[test]
    fn file_access() {
        let ev = p("type=APPARMOR msg=audit(1157215966.604:46): REJECTING r access to /bin/df (sh(7902) profile /usr/sbin/httpd2-prefork active SYSINFO)");
        assert_eq!(ev.kind, EventKind::Denied);
        assert_eq!(ev.operation.as_deref(), Some("open"));
        assert_eq!(ev.name.as_deref(), Some("/bin/df"));
        assert_eq!(ev.denied_mask.as_deref(), Some("r"));
        assert_eq!(ev.comm.as_deref(), Some("sh"));
        assert_eq!(ev.pid, Some(7902));
        assert_eq!(
            ev.profile.as_deref(),
            Some("/usr/sbin/httpd2-prefork//SYSINFO")
        );
        assert_eq!(ev.epoch, Some(1157215966));
        assert_eq!(ev.audit_sub_id, Some(46));
        assert_eq!(ev.audit_id.as_deref(), Some("1157215966.604:46"));

        let ev = p("type=UNKNOWN[1500] msg=audit(1167188680.127:54): REJECTING r access to /bin/freak-aa-out (bash(23415) profile /bin/freak-aa-out active /bin/freak-aa-out)");
        assert_eq!(ev.profile.as_deref(), Some("/bin/freak-aa-out"));
        assert_eq!(ev.comm.as_deref(), Some("bash"));

        let ev = p("type=APPARMOR msg=audit(1.2:3): PERMITTING mrx access to /usr/bin/a (b) (deleted) (y(9) profile /p active /p)");
        assert_eq!(ev.kind, EventKind::Allowed);
        assert_eq!(ev.operation.as_deref(), Some("exec"));
        assert_eq!(ev.name.as_deref(), Some("/usr/bin/a (b)"));
        assert_eq!(ev.comm.as_deref(), Some("y"));

        let ev = p("type=APPARMOR msg=audit(1.2:3): AUDITING mr access to /lib/ld-2.4.so (open(7139) profile /t active open)");
        assert_eq!(ev.kind, EventKind::Audit);
        assert_eq!(ev.requested_mask.as_deref(), Some("mr"));
        assert_eq!(ev.denied_mask, None);
    }

    #[test]
    fn other_forms() {
        let t = " (bash(23415) profile /bin/f active /bin/f)";
        let r = |m: &str| p(&format!("type=APPARMOR msg=audit(1.2:3): {m}{t}"));
        let ev = r("REJECTING mkdir on /path/to/something");
        assert_eq!(
            (ev.operation.as_deref(), ev.denied_mask.as_deref()),
            (Some("mkdir"), Some("w"))
        );
        let ev = r("PERMITTING rmdir on /p");
        assert_eq!(ev.operation.as_deref(), Some("rmdir"));
        let ev = r("REJECTING xattr set on /path/to/something");
        assert_eq!(
            (ev.operation.as_deref(), ev.denied_mask.as_deref()),
            (Some("xattr"), Some("w"))
        );
        let ev = r("REJECTING xattr get on /x");
        assert_eq!(ev.denied_mask.as_deref(), Some("r"));
        let ev = r("PERMITTING attribute (mode,uid,) change to /else");
        assert_eq!(ev.operation.as_deref(), Some("setattr"));
        assert_eq!(ev.attribute.as_deref(), Some("mode,uid"));
        assert_eq!(ev.name.as_deref(), Some("/else"));
        let ev = r("PERMITTING link access from /home/jj/a to /home/jj/b");
        assert_eq!(ev.operation.as_deref(), Some("link"));
        assert_eq!(ev.name.as_deref(), Some("/home/jj/a"));
        assert_eq!(ev.name2.as_deref(), Some("/home/jj/b"));
        let ev = r("REJECTING access to capability 'net_raw'");
        assert_eq!(ev.operation.as_deref(), Some("capable"));
        assert_eq!(ev.name.as_deref(), Some("net_raw"));
        let ev = r("REJECTING access to syscall 'sysctl (write)'");
        assert_eq!(ev.operation.as_deref(), Some("syscall"));
        assert_eq!(ev.name.as_deref(), Some("sysctl (write)"));
        let ev = r("REJECTING-SYSLOGFIX w access to /tmp/100%%");
        assert_eq!(ev.name.as_deref(), Some("/tmp/100%"));
    }

    #[test]
    fn hints() {
        let ev = p("type=APPARMOR msg=audit(1168661976.062:55): LOGPROF-HINT fork pid=27764 child=38229 profile=/home/m/test_hat active=/home/m/test_hat ");
        assert_eq!(ev.kind, EventKind::Hint);
        assert_eq!(ev.operation.as_deref(), Some("clone"));
        assert_eq!((ev.pid, ev.task), (Some(27764), Some(38229)));
        assert_eq!(ev.profile.as_deref(), Some("/home/m/test_hat"));
        let ev = p("type=APPARMOR msg=audit(1.2:3): LOGPROF-HINT unknown_hat TESTHAT pid=27764 profile=/t active=/t ");
        assert_eq!(ev.operation.as_deref(), Some("change_hat"));
        assert_eq!(ev.name.as_deref(), Some("TESTHAT"));
        let ev = p(
            "type=APPARMOR msg=audit(1164007073.953:518): LOGPROF-HINT changing_profile pid=29420",
        );
        assert_eq!(ev.operation.as_deref(), Some("change_profile"));
        assert_eq!(ev.pid, Some(29420));
    }

    proptest::proptest! {
        /// Any message text: an event or `None`, never a panic.
        #[test]
        fn never_panics(cls in "(REJECTING|PERMITTING-SYSLOGFIX|AUDITING|LOGPROF-HINT) ", msg in "[ -~\\x{80}-\\x{10ffff}]{0,120}") {
            let _ = parse(format!("type=APPARMOR msg=audit(1.2:3): {cls}{msg}").as_bytes());
            let _ = parse(format!("type=1500 msg=audit(1.2:3): {cls}{msg} (a(1) profile {msg} active {msg})").as_bytes());
        }
    }

    #[test]
    fn not_old_style() {
        for s in [
            "type=AVC msg=audit(1.2:3): REJECTING r access to /x (a(1) profile /p active /p)",
            "type=APPARMOR msg=audit(1.2:3): REJECTING r access to /x",
            "type=APPARMOR msg=audit(1.2:3): REJECTING q access to /x (a(1) profile /p active /p)",
            "type=APPARMOR msg=audit(x.2:3): REJECTING r access to /x (a(1) profile /p active /p)",
            "type=APPARMOR msg=audit(1.2:3): LOGPROF-HINT something pid=1",
            "type=APPARMOR msg=audit(1.2:3): Internal error auditing event type 3 (error -12)",
        ] {
            assert!(parse(s.as_bytes()).is_none(), "{s}");
        }
    }
}
