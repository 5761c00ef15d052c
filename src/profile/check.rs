//! Validity checks that mirror what `apparmor_parser` rejects: per rule (names, options,
//! qualifier combinations) and per policy (undefined variables, conflicting exec modes).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::resolve::{expand_with, EffectiveProfile, FastHash, RefChecker};
use super::rule::{BlockHeader, CondRule, Ctx, ExecMode, ProfileHeader, Rule, RuleKind};
use super::ParseError;

const CAPS: &[&str] = &[
    "audit_control",
    "audit_read",
    "audit_write",
    "block_suspend",
    "bpf",
    "checkpoint_restore",
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "ipc_lock",
    "ipc_owner",
    "kill",
    "lease",
    "linux_immutable",
    "mac_admin",
    "mac_override",
    "mknod",
    "net_admin",
    "net_bind_service",
    "net_broadcast",
    "net_raw",
    "perfmon",
    "setfcap",
    "setgid",
    "setpcap",
    "setuid",
    "sys_admin",
    "sys_boot",
    "sys_chroot",
    "sys_module",
    "sys_nice",
    "sys_pacct",
    "sys_ptrace",
    "sys_rawio",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "syslog",
    "wake_alarm",
];

fn err(ctx: &Ctx<'_>, msg: impl Into<String>) -> ParseError {
    ParseError {
        file: ctx.file.to_string(),
        pos: ctx.start,
        message: msg.into(),
    }
}

const AF_NAMES: &[&str] = &[
    "unspec",
    "unix",
    "inet",
    "ax25",
    "ipx",
    "appletalk",
    "netrom",
    "bridge",
    "atmpvc",
    "x25",
    "inet6",
    "rose",
    "netbeui",
    "security",
    "key",
    "netlink",
    "packet",
    "ash",
    "econet",
    "atmsvc",
    "rds",
    "sna",
    "irda",
    "pppox",
    "wanpipe",
    "llc",
    "ib",
    "mpls",
    "can",
    "tipc",
    "bluetooth",
    "iucv",
    "rxrpc",
    "isdn",
    "phonet",
    "ieee802154",
    "caif",
    "alg",
    "nfc",
    "vsock",
    "kcm",
    "qipcrtr",
    "smc",
    "xdp",
    "mctp",
    "local",
];
const SOCK_TYPES: &[&str] = &[
    "stream",
    "dgram",
    "raw",
    "rdm",
    "seqpacket",
    "dccp",
    "packet",
];
const PROTOCOLS: &[&str] = &["tcp", "udp", "icmp", "icmpv6"];
const NET_ACCESS: &[&str] = &[
    "create", "bind", "listen", "accept", "connect", "shutdown", "getattr", "setattr", "getopt",
    "setopt", "send", "receive", "r", "w", "rw", "read", "write",
];
const SIGNALS: &[&str] = &[
    "hup", "int", "quit", "ill", "trap", "abrt", "bus", "fpe", "kill", "usr1", "segv", "usr2",
    "pipe", "alrm", "term", "stkflt", "chld", "cont", "stop", "stp", "ttin", "ttou", "urg", "xcpu",
    "xfsz", "vtalrm", "prof", "winch", "io", "pwr", "sys", "emt", "exists",
];
const MOUNT_OPTS: &[&str] = &[
    "ro",
    "r",
    "read-only",
    "rw",
    "w",
    "suid",
    "nosuid",
    "dev",
    "nodev",
    "exec",
    "noexec",
    "sync",
    "async",
    "mand",
    "nomand",
    "dirsync",
    "symfollow",
    "nosymfollow",
    "atime",
    "noatime",
    "diratime",
    "nodiratime",
    "bind",
    "B",
    "move",
    "M",
    "rbind",
    "R",
    "verbose",
    "silent",
    "loud",
    "acl",
    "noacl",
    "relatime",
    "norelatime",
    "iversion",
    "noiversion",
    "strictatime",
    "nostrictatime",
    "lazytime",
    "nolazytime",
    "user",
    "nouser",
];
const MOUNT_PROPAGATION: &[&str] = &[
    "unbindable",
    "make-unbindable",
    "runbindable",
    "make-runbindable",
    "private",
    "make-private",
    "rprivate",
    "make-rprivate",
    "slave",
    "make-slave",
    "rslave",
    "make-rslave",
    "shared",
    "make-shared",
    "rshared",
    "make-rshared",
];
const MOUNT_INVERSES: &[(&str, &str)] = &[
    ("ro", "rw"),
    ("suid", "nosuid"),
    ("dev", "nodev"),
    ("exec", "noexec"),
    ("sync", "async"),
    ("mand", "nomand"),
    ("symfollow", "nosymfollow"),
    ("atime", "noatime"),
    ("diratime", "nodiratime"),
    ("silent", "loud"),
    ("acl", "noacl"),
    ("relatime", "norelatime"),
    ("iversion", "noiversion"),
    ("strictatime", "nostrictatime"),
    ("lazytime", "nolazytime"),
    ("user", "nouser"),
];

fn is_signal(s: &str) -> bool {
    if SIGNALS.contains(&s) {
        return true;
    }
    if let Some(n) = s.strip_prefix("rtmin+") {
        return n.parse::<u32>().is_ok_and(|n| n <= 32);
    }
    false
}

/// Check a profile header.
pub fn check_profile_header(
    h: &ProfileHeader,
    ctx: &Ctx<'_>,
    _depth: usize,
) -> Result<(), ParseError> {
    let _ = BlockHeader::Else;
    if h.flags.is_empty() && ctx.text.contains("flags") && ctx.text.contains("()") {
        return Err(err(ctx, "empty flags=()"));
    }
    if let Some(ns) = h.name.strip_prefix(':') {
        match ns.split_once(':') {
            Some((space, rest)) if !space.is_empty() && !rest.is_empty() => {}
            _ => {
                return Err(err(
                    ctx,
                    format!(
                        "invalid profile namespace in '{}' (expected ':ns:name')",
                        h.name
                    ),
                ))
            }
        }
    }
    let mut modes = Vec::new();
    let mut seen_ipc = false;
    for f in &h.flags {
        let ok = match f.split_once('=') {
            None => matches!(
                f.as_str(),
                "complain"
                    | "enforce"
                    | "kill"
                    | "unconfined"
                    | "prompt"
                    | "audit"
                    | "mediate_deleted"
                    | "delegate_deleted"
                    | "attach_disconnected"
                    | "no_attach_disconnected"
                    | "attach_disconnected.ipc"
                    | "chroot_relative"
                    | "namespace_relative"
                    | "chroot_attach"
                    | "chroot_no_attach"
                    | "debug"
                    | "interruptible"
                    | "default_allow"
            ),
            Some(("kill.signal", sig)) => is_signal(sig),
            Some(("error", e)) => e.starts_with('E') && e.chars().all(|c| c.is_ascii_uppercase()),
            Some(("attach_disconnected.path" | "attach_disconnected.ipc", p)) => {
                p.starts_with('/') || p.starts_with("@{")
            }
            _ => false,
        };
        if !ok {
            return Err(err(ctx, format!("Invalid profile flag: {f}")));
        }
        if matches!(
            f.as_str(),
            "complain" | "enforce" | "kill" | "unconfined" | "prompt" | "default_allow"
        ) {
            modes.push(f.as_str());
        }
        if f.starts_with("attach_disconnected.ipc") {
            if seen_ipc {
                return Err(err(ctx, "duplicate attach_disconnected.ipc flag"));
            }
            seen_ipc = true;
        }
    }
    if modes.len() > 1 {
        return Err(err(
            ctx,
            format!("conflicting profile modes: {}", modes.join(", ")),
        ));
    }
    let has = |x: &str| h.flags.iter().any(|f| f == x);
    for (a, b) in [
        ("chroot_attach", "chroot_no_attach"),
        ("chroot_relative", "namespace_relative"),
    ] {
        if has(a) && has(b) {
            return Err(err(ctx, format!("conflicting flags {a} and {b}")));
        }
    }
    if has("no_attach_disconnected") && seen_ipc {
        return Err(err(
            ctx,
            "conflicting flags attach_disconnected.ipc and no_attach_disconnected",
        ));
    }
    Ok(())
}

/// Basic AARE sanity: balanced `{}` and `[]`, no empty `[]` or `{}`, alternations have a `,`.
pub fn check_aare(p: &str) -> Result<(), String> {
    // Every character the check looks at is ASCII, so it walks bytes: a multi-byte UTF-8
    // character is a run of bytes >= 0x80 that match no arm, as the character did (skipping
    // only the first byte of an escaped one leaves bytes that match nothing).
    let b = p.as_bytes();
    let mut stack: Vec<(usize, bool)> = Vec::new(); // (start, saw_comma)
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' => {
                let mut j = i + 1;
                if b.get(j) == Some(&b'^') || b.get(j) == Some(&b'!') {
                    j += 1;
                }
                if b.get(j) == Some(&b']') {
                    return Err(format!("empty character class in '{p}'"));
                }
                while j < b.len() && b[j] != b']' {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                if j >= b.len() {
                    return Err(format!("unterminated '[' in '{p}'"));
                }
                i = j;
            }
            b']' => return Err(format!("unbalanced ']' in '{p}'")),
            b'{' if i > 0 && b[i - 1] == b'@' => {
                // variable reference: skip to '}'
                while i < b.len() && b[i] != b'}' {
                    i += 1;
                }
            }
            b'{' => stack.push((i, false)),
            b',' => {
                if let Some(top) = stack.last_mut() {
                    top.1 = true;
                }
            }
            b'}' => match stack.pop() {
                Some((start, comma)) => {
                    if i == start + 1 {
                        return Err(format!("empty alternation '{{}}' in '{p}'"));
                    }
                    if !comma {
                        return Err(format!("alternation without ',' in '{p}'"));
                    }
                }
                None => return Err(format!("unbalanced '}}' in '{p}'")),
            },
            _ => {}
        }
        i += 1;
    }
    if !stack.is_empty() {
        return Err(format!("unbalanced '{{' in '{p}'"));
    }
    Ok(())
}

fn check_ip(v: &str) -> Result<(), String> {
    if v == "none" {
        return Ok(());
    }
    let (addr, prefix) = match v.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (v, None),
    };
    let parse = |a: &str| -> Result<std::net::IpAddr, String> {
        a.parse::<std::net::IpAddr>()
            .map_err(|_| format!("invalid ip address '{a}'"))
    };
    let family_max = if let Some((a, b)) = addr.split_once('-') {
        if prefix.is_some() {
            return Err(format!("invalid ip '{v}'"));
        }
        let (x, y) = (parse(a)?, parse(b)?);
        if x.is_ipv4() != y.is_ipv4() {
            return Err(format!("ip range '{v}' mixes address families"));
        }
        if x > y {
            return Err(format!("ip range '{v}' is reversed"));
        }
        if x.is_ipv4() {
            32
        } else {
            128
        }
    } else if parse(addr)?.is_ipv4() {
        32
    } else {
        128
    };
    if let Some(p) = prefix {
        match p.parse::<u32>() {
            Ok(n) if n <= family_max => {}
            _ => return Err(format!("invalid ip prefix '{p}'")),
        }
    }
    Ok(())
}

fn check_port(v: &str) -> Result<(), String> {
    let num = |s: &str| {
        s.parse::<u32>()
            .ok()
            .filter(|n| *n <= 65535)
            .ok_or_else(|| format!("invalid port '{v}'"))
    };
    match v.split_once('-') {
        Some((a, b)) => {
            if num(a)? > num(b)? {
                return Err(format!("port range '{v}' is reversed"));
            }
        }
        None => {
            num(v)?;
        }
    }
    Ok(())
}

fn check_conds(c: &CondRule, allowed: &[&str], kind: &str) -> Result<(), String> {
    let mut seen: Vec<&str> = Vec::new();
    for (k, vals) in &c.conds {
        if !allowed.contains(&k.as_str()) {
            return Err(format!("invalid {kind} rule condition '{k}'"));
        }
        if seen.contains(&k.as_str()) && !(kind == "signal" && k == "set") && kind != "mount" {
            return Err(format!("duplicate {kind} rule condition '{k}'"));
        }
        seen.push(k);
        for v in vals {
            if v.contains('=') && !k.starts_with("peer") {
                return Err(format!("invalid value '{v}' for '{k}'"));
            }
            if v.is_empty() {
                return Err(format!("empty value for '{k}'"));
            }
        }
        if vals.is_empty() {
            return Err(format!("empty value for '{k}'"));
        }
        if !matches!(kind, "mount" | "umount" | "remount") || k.ends_with("fstype") {
            for v in vals {
                check_aare(v)?;
            }
        }
    }
    Ok(())
}

/// Access words: those in parentheses plus bare ones that are access keywords; at most one
/// bare access word is allowed. Returns the remaining (non-access) words.
fn split_access<'a>(
    c: &'a CondRule,
    access: &[&str],
    kind: &str,
) -> Result<(Vec<&'a str>, Vec<&'a str>), String> {
    let mut acc: Vec<&str> = Vec::new();
    for a in &c.access {
        for w in a
            .split(|ch: char| ch == ',' || ch.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            let rw_combo = access.contains(&"rw") && w.chars().all(|c| c == 'r' || c == 'w');
            if !(access.contains(&w) || rw_combo) {
                return Err(format!("invalid {kind} access '{w}'"));
            }
            acc.push(w);
        }
    }
    let mut rest = Vec::new();
    let mut bare = 0;
    for w in &c.words {
        let rw_combo =
            access.contains(&"rw") && !w.is_empty() && w.chars().all(|c| c == 'r' || c == 'w');
        if (access.contains(&w.as_str()) || rw_combo) && rest.is_empty() {
            bare += 1;
            acc.push(w);
        } else {
            rest.push(w.as_str());
        }
    }
    if bare > 1 {
        return Err(format!(
            "{kind}: several access permissions must be written in parentheses"
        ));
    }
    Ok((acc, rest))
}

fn check_kind(kind: &RuleKind) -> Result<(), String> {
    match kind {
        RuleKind::Capability(names) => {
            for n in names {
                if !CAPS.contains(&n.as_str()) {
                    return Err(format!("Invalid capability {n}."));
                }
            }
        }
        RuleKind::Network(c) => {
            check_conds(
                c,
                &[
                    "ip",
                    "port",
                    "peer.ip",
                    "peer.port",
                    "interface",
                    "label",
                    "peer.label",
                    "peer.label:",
                    "peer.interface",
                    "label:",
                ],
                "network",
            )?;
            let (_acc, rest) = split_access(c, NET_ACCESS, "network")?;
            let mut domain = false;
            let mut typ = false;
            for w in rest {
                if AF_NAMES.contains(&w) && !domain && !typ {
                    domain = true;
                } else if (SOCK_TYPES.contains(&w) || PROTOCOLS.contains(&w)) && !typ {
                    typ = true;
                } else {
                    return Err(format!("Invalid network entry '{w}'"));
                }
            }
            let inet_ok = !domain || c.words.iter().any(|w| w == "inet" || w == "inet6");
            let has_ipcond = c
                .conds
                .iter()
                .any(|(k, _)| matches!(k.as_str(), "ip" | "port" | "peer.ip" | "peer.port"));
            if has_ipcond && !inet_ok {
                return Err("ip= and port= conditions need the inet or inet6 domain".into());
            }
            let peer = c.conds.iter().any(|(k, _)| k.starts_with("peer."));
            if peer
                && _acc.iter().any(|a| {
                    !matches!(
                        *a,
                        "connect"
                            | "accept"
                            | "send"
                            | "receive"
                            | "r"
                            | "w"
                            | "rw"
                            | "read"
                            | "write"
                    )
                })
            {
                return Err(
                    "network peer conditions only apply to connect, accept, send and receive"
                        .into(),
                );
            }
            for (k, vals) in &c.conds {
                for v in vals {
                    match k.as_str() {
                        "ip" | "peer.ip" => check_ip(v)?,
                        "port" | "peer.port" => check_port(v)?,
                        _ => {}
                    }
                }
            }
        }
        RuleKind::Dbus(c) => {
            check_conds(
                c,
                &[
                    "bus",
                    "path",
                    "interface",
                    "member",
                    "name",
                    "peer.name",
                    "peer.label",
                ],
                "dbus",
            )?;
            let (acc, rest) = split_access(
                c,
                &[
                    "send",
                    "receive",
                    "bind",
                    "eavesdrop",
                    "r",
                    "w",
                    "rw",
                    "read",
                    "write",
                ],
                "dbus",
            )?;
            if let Some(w) = rest.first() {
                return Err(format!("invalid dbus rule word '{w}'"));
            }
            let has = |k: &str| c.cond(k).is_some();
            let msg = has("path")
                || has("interface")
                || has("member")
                || has("peer.name")
                || has("peer.label");
            if acc.contains(&"bind") && msg {
                return Err(
                    "dbus 'bind' cannot be combined with path, interface, member or peer".into(),
                );
            }
            if acc.contains(&"eavesdrop") && (msg || has("name")) {
                return Err("dbus 'eavesdrop' only accepts 'bus'".into());
            }
            if has("name") && acc.iter().any(|a| *a != "bind") {
                return Err("dbus 'name' is only valid with 'bind'".into());
            }
        }
        RuleKind::Unix(c) => {
            check_conds(
                c,
                &[
                    "type",
                    "protocol",
                    "addr",
                    "label",
                    "attr",
                    "opt",
                    "peer.label",
                    "peer.addr",
                ],
                "unix",
            )?;
            if !c.in_conds.is_empty() || !c.list_conds.is_empty() {
                return Err("unix conditions take a single value".into());
            }
            let (acc, rest) = split_access(c, NET_ACCESS, "unix")?;
            if let Some(w) = rest.first() {
                return Err(format!("invalid unix rule word '{w}'"));
            }
            let peer = c.cond("peer.label").is_some() || c.cond("peer.addr").is_some();
            if peer
                && acc.iter().any(|a| {
                    !matches!(
                        *a,
                        "connect"
                            | "accept"
                            | "send"
                            | "receive"
                            | "r"
                            | "w"
                            | "rw"
                            | "read"
                            | "write"
                    )
                })
            {
                return Err("unix peer conditions only apply to connect, send and receive".into());
            }
            if let Some(t) = c.cond("type") {
                for v in t {
                    if !SOCK_TYPES.contains(&v.as_str()) && !v.contains(['*', '{', '[', '@']) {
                        return Err(format!("invalid unix socket type '{v}'"));
                    }
                }
            }
        }
        RuleKind::Signal(c) => {
            check_conds(c, &["set", "peer"], "signal")?;
            let (_acc, rest) = split_access(
                c,
                &["send", "receive", "r", "w", "rw", "read", "write"],
                "signal",
            )?;
            if let Some(w) = rest.first() {
                return Err(format!("invalid signal rule word '{w}'"));
            }
            if let Some(set) = c.cond("set") {
                for s in set {
                    for s in s.split(',').filter(|s| !s.is_empty()) {
                        if !is_signal(s) {
                            return Err(format!("invalid signal '{s}'"));
                        }
                    }
                }
            }
            for (k, v) in &c.conds {
                if k == "set" {
                    for s in v {
                        if !is_signal(s) && !s.contains(',') {
                            return Err(format!("invalid signal '{s}'"));
                        }
                    }
                }
            }
        }
        RuleKind::Ptrace(c) => {
            check_conds(c, &["peer"], "ptrace")?;
            let (_acc, rest) = split_access(
                c,
                &[
                    "r", "w", "rw", "read", "write", "readby", "trace", "tracedby",
                ],
                "ptrace",
            )?;
            if let Some(w) = rest.first() {
                return Err(format!("invalid ptrace rule word '{w}'"));
            }
        }
        RuleKind::Mqueue(c) => {
            check_conds(c, &["type", "label"], "mqueue")?;
            let (_acc, rest) = split_access(
                c,
                &[
                    "r", "w", "rw", "read", "write", "create", "open", "delete", "getattr",
                    "setattr",
                ],
                "mqueue",
            )?;
            let sysv = match c.cond("type") {
                Some([t]) if t == "sysv" => true,
                Some([t]) if t == "posix" => false,
                Some(t) => return Err(format!("invalid mqueue type '{}'", t.join(" "))),
                None => false,
            };
            match rest.as_slice() {
                [] => {}
                [name] => {
                    let numeric = name.chars().all(|ch| ch.is_ascii_digit());
                    if sysv && !numeric {
                        return Err(format!("sysv mqueue name must be a number, not '{name}'"));
                    }
                    let posix = c.cond("type").is_some() && !sysv;
                    if !sysv
                        && (!numeric || posix)
                        && !name.starts_with('/')
                        && !name.starts_with("@{")
                    {
                        return Err(format!("invalid mqueue name '{name}'"));
                    }
                }
                [_, w, ..] => return Err(format!("invalid mqueue rule word '{w}'")),
            }
        }
        RuleKind::Userns(c) => {
            check_conds(c, &[], "userns")?;
            let (_acc, rest) = split_access(c, &["create"], "userns")?;
            if let Some(w) = rest.first() {
                return Err(format!("invalid userns rule word '{w}'"));
            }
        }
        RuleKind::IoUring(c) => {
            check_conds(c, &["label"], "io_uring")?;
            let (_acc, rest) = split_access(c, &["override_creds", "sqpoll"], "io_uring")?;
            if let Some(w) = rest.first() {
                return Err(format!("invalid io_uring rule word '{w}'"));
            }
        }
        RuleKind::Mount(c) | RuleKind::Remount(c) | RuleKind::Umount(c) => {
            let is_mount = matches!(kind, RuleKind::Mount(_));
            check_conds(c, &["options", "option", "fstype", "vfstype"], "mount")?;
            if !c.access.is_empty() {
                return Err("mount rules take no access list".into());
            }
            let mut opts: Vec<&str> = Vec::new();
            for (k, vals) in &c.conds {
                if k == "options" || k == "option" {
                    for v in vals {
                        for o in v.split(',').filter(|o| !o.is_empty()) {
                            opts.push(o);
                        }
                        if v.contains(',') && !c.list_conds.contains(k) && !c.in_conds.contains(k) {
                            return Err(format!("mount options list '{v}' must be in parentheses"));
                        }
                    }
                }
            }
            for o in &opts {
                let known = MOUNT_OPTS.contains(o)
                    || (is_mount && MOUNT_PROPAGATION.contains(o))
                    || (is_mount && *o == "remount" && c.words.is_empty());
                if !known {
                    return Err(format!("invalid mount option '{o}'"));
                }
            }
            for (k, vals) in &c.conds {
                if !(k == "options" || k == "option") || c.in_conds.contains(k) {
                    continue;
                }
                let opts: Vec<&str> = vals.iter().flat_map(|v| v.split(',')).collect();
                for (a, b) in MOUNT_INVERSES {
                    let has_a = opts.contains(a)
                        || (*a == "ro" && (opts.contains(&"r") || opts.contains(&"read-only")));
                    let has_b = opts.contains(b) || (*b == "rw" && opts.contains(&"w"));
                    if has_a && has_b {
                        return Err(format!("conflicting mount options '{a}' and '{b}'"));
                    }
                }
            }
            let prop = opts.iter().any(|o| MOUNT_PROPAGATION.contains(o));
            if prop && c.target.is_some() && !c.words.is_empty() {
                return Err("propagation mount options take only a mount point".into());
            }
            if c.words.len() > 1 {
                return Err(format!("invalid mount rule word '{}'", c.words[1]));
            }
        }
        RuleKind::PivotRoot(c) => {
            check_conds(c, &["oldroot"], "pivot_root")?;
            if let Some(w) = c.words.first() {
                if !(w.starts_with('/') || w.starts_with("@{") || w.starts_with('"')) {
                    return Err(format!(
                        "pivot_root new root must be an absolute path, not '{w}'"
                    ));
                }
            }
            if c.words.len() > 1 {
                return Err(format!("invalid pivot_root rule word '{}'", c.words[1]));
            }
        }
        RuleKind::ChangeProfile(c) => {
            check_conds(c, &[], "change_profile")?;
            let mut words = c.words.iter().map(String::as_str).peekable();
            let mut mode = None;
            if let Some(w @ ("safe" | "unsafe")) = words.peek().copied() {
                mode = Some(w);
                words.next();
            }
            let exec: Vec<&str> = words.collect();
            if exec.len() > 1 {
                return Err(format!("invalid change_profile rule word '{}'", exec[1]));
            }
            if mode.is_some() && exec.is_empty() {
                return Err("change_profile safe/unsafe needs an exec path".into());
            }
            if let Some(e) = exec.first() {
                if !(e.starts_with('/') || e.starts_with("@{") || e.starts_with('*')) {
                    return Err(format!(
                        "change_profile exec path must be absolute, not '{e}'"
                    ));
                }
            }
        }
        RuleKind::Rlimit { resource, value } => {
            check_rlimit(resource, value)?;
        }
        _ => {}
    }
    Ok(())
}

fn check_rlimit(resource: &str, value: &str) -> Result<(), String> {
    const RES: &[&str] = &[
        "ofile",
        "cpu",
        "fsize",
        "data",
        "stack",
        "core",
        "rss",
        "nproc",
        "nofile",
        "memlock",
        "as",
        "locks",
        "sigpending",
        "msgqueue",
        "nice",
        "rtprio",
        "rttime",
    ];
    if !RES.contains(&resource) {
        return Err(format!("invalid rlimit '{resource}'"));
    }
    if value == "infinity" {
        return Ok(());
    }
    let digits_end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(value.len());
    let (num, unit) = value.split_at(digits_end);
    let unit = unit.trim();
    let n: i64 = num
        .parse()
        .map_err(|_| format!("invalid rlimit value '{value}'"))?;
    let ok_unit = match resource {
        "cpu" => matches!(
            unit,
            "" | "s"
                | "sec"
                | "seconds"
                | "min"
                | "minute"
                | "minutes"
                | "h"
                | "hour"
                | "hours"
                | "d"
                | "day"
                | "days"
                | "week"
                | "weeks"
        ),
        "rttime" => matches!(
            unit,
            "" | "us"
                | "ms"
                | "s"
                | "sec"
                | "seconds"
                | "min"
                | "minute"
                | "minutes"
                | "h"
                | "hour"
                | "hours"
                | "d"
                | "day"
                | "days"
                | "week"
                | "weeks"
        ),
        "nofile" | "ofile" | "nproc" | "sigpending" | "locks" | "rtprio" => unit.is_empty(),
        "nice" => unit.is_empty() && (-20..=19).contains(&n),
        _ => matches!(unit, "" | "K" | "KB" | "M" | "MB" | "G" | "GB"),
    };
    if !ok_unit || (n < 0 && resource != "nice") {
        return Err(format!("invalid value '{value}' for rlimit {resource}"));
    }
    Ok(())
}

/// Check one rule on its own. `strict` rejects unknown rule kinds (as `apparmor_parser`
/// does); otherwise they are accepted (the caller warns).
pub fn check_rule(r: &Rule, ctx: &Ctx<'_>, strict: bool) -> Result<(), ParseError> {
    let q = &r.qualifiers;
    let is_file = matches!(r.kind, RuleKind::File(_) | RuleKind::Link { .. });
    if q.owner && !is_file {
        return Err(err(
            ctx,
            format!("'owner' is not allowed on {} rules", r.kind.name()),
        ));
    }
    if let RuleKind::Unknown { keyword } = &r.kind {
        if strict {
            return Err(err(ctx, format!("syntax error: unknown rule '{keyword}'")));
        }
        return Ok(());
    }
    if q.deny && matches!(r.kind, RuleKind::Rlimit { .. }) {
        return Err(err(ctx, "rlimit rules cannot be denied"));
    }
    check_kind(&r.kind).map_err(|m| err(ctx, m))?;
    match &r.kind {
        RuleKind::File(f) => {
            if let Some(ExecMode::X) = f.perms.exec {
                if !q.deny && f.target.is_none() {
                    return Err(err(ctx, "Invalid mode, 'x' must be preceded by exec qualifier 'i', 'p', 'c', or 'u'"));
                }
            }
            if q.deny && f.perms.exec.is_some_and(|e| e != ExecMode::X) {
                return Err(err(ctx, "Invalid mode, in deny rules 'x' must not be preceded by exec qualifier 'i', 'p', or 'u'"));
            }
            if f.perms_first && f.perms.link && f.perms.exec.is_some() && f.target.is_some() {
                return Err(err(
                    ctx,
                    "link permission with an exec transition must be written path first",
                ));
            }
            if f.target.is_some() && !f.perms.link {
                match f.perms.exec {
                    Some(ExecMode::Profile { .. }) | Some(ExecMode::Child { .. }) => {}
                    _ => {
                        return Err(err(
                            ctx,
                            "Exec target ('->') only allowed with 'px', 'cx' and their variants",
                        ))
                    }
                }
            }
        }
        RuleKind::Link { path, target, .. } => {
            check_aare(path).map_err(|m| err(ctx, m))?;
            check_aare(target).map_err(|m| err(ctx, m))?;
        }
        _ => {}
    }
    Ok(())
}

/// Check every `@{name}` in `s` is defined (through nested variables too); names already
/// verified against the global variables are remembered in `ok`, those that needed the
/// profile's own variables (`local`, fixed for one profile) in `ok_local`.
fn refs_ok(
    s: &str,
    refs: &mut RefChecker<'_>,
    local: &[(String, Vec<String>)],
    ok: &mut HashSet<String, FastHash>,
    ok_local: &mut HashSet<String, FastHash>,
) -> Result<(), String> {
    let mut rest = s;
    while let Some(start) = rest.find("@{") {
        let tail = &rest[start..];
        let Some(end) = tail.find('}') else {
            return Err(format!("unterminated variable reference in '{s}'"));
        };
        let name = &tail[2..end];
        rest = &tail[end + 1..];
        if ok.contains(name) || ok_local.contains(name) {
            continue;
        }
        refs.check(&tail[..=end])?;
        if local.iter().any(|(k, _)| k == name) {
            ok_local.insert(name.to_string());
        } else {
            ok.insert(name.to_string());
        }
    }
    Ok(())
}

/// Path, `owner`, priority: rules that must agree on their exec mode.
type ExecKey = (String, bool, Option<i64>);

/// Checks that need the whole policy: every variable used is defined, and one path does not
/// get two different exec modes in one profile.
pub fn check_policy(
    profiles: &[EffectiveProfile],
    vars: &BTreeMap<String, Vec<String>>,
    _bools: &BTreeMap<String, bool>,
) -> Result<(), ParseError> {
    let mut ok: HashSet<String, FastHash> = HashSet::default();
    for p in profiles {
        let at_header = |m: String| ParseError {
            file: p.file.clone(),
            pos: p.pos,
            message: m,
        };
        if p.header.name.contains("@{") {
            let names = expand_with(&p.header.name, vars, &[]).map_err(at_header)?;
            if !p.header.keyword && !p.header.hat && names.iter().any(|n| !n.starts_with('/')) {
                return Err(at_header(format!(
                    "profile name '{}' does not expand to an absolute path",
                    p.header.name
                )));
            }
        }
        if let Some(a) = &p.header.attachment {
            let atts = expand_with(a, vars, &[]).map_err(at_header)?;
            if atts.iter().any(|n| !n.starts_with(['/', '{', '*'])) {
                return Err(at_header(format!(
                    "attachment '{a}' is not an absolute path"
                )));
            }
        }
        for f in &p.header.flags {
            if let Some(("attach_disconnected.path" | "attach_disconnected.ipc", v)) =
                f.split_once('=')
            {
                let all = expand_with(v, vars, &[]).map_err(at_header)?;
                if all.iter().any(|x| !x.starts_with('/')) {
                    return Err(at_header(format!(
                        "Invalid profile flag: {f} (not an absolute path)"
                    )));
                }
            }
        }
        let mut cp_modes: HashMap<(String, Option<String>), bool> = HashMap::new();
        for r in &p.rules {
            if let RuleKind::ChangeProfile(c) = &r.rule.kind {
                let unsafe_mode = c.words.first().is_some_and(|w| w == "unsafe");
                let exec = c.words.iter().find(|w| *w != "safe" && *w != "unsafe");
                if let Some(e) = exec {
                    let key = (e.clone(), c.target.clone());
                    if let Some(old) = cp_modes.insert(key, unsafe_mode) {
                        if old != unsafe_mode {
                            return Err(ParseError {
                                file: r.file.clone(),
                                pos: r.pos,
                                message: format!(
                                    "conflicting safe/unsafe change_profile rules for '{e}'"
                                ),
                            });
                        }
                    }
                }
            }
        }
        let local = p.auto_vars();
        let mut refs = RefChecker::new(vars, &local);
        // names verified with this profile's own variables (`@{profile_name}` …)
        let mut ok_local: HashSet<String, FastHash> = HashSet::default();
        // rules of different priority do not conflict: the higher one wins
        let mut exec_modes: HashMap<ExecKey, (ExecMode, Option<String>), FastHash> =
            HashMap::default();
        for r in &p.rules {
            let at = |m: String| ParseError {
                file: r.file.clone(),
                pos: r.pos,
                message: m,
            };
            if !matches!(r.rule.kind, RuleKind::File(_)) {
                let mut rest = r.text.as_str();
                while let Some(start) = rest.find("@{") {
                    let tail = &rest[start..];
                    let end = tail.find('}').map_or(tail.len(), |e| e + 1);
                    let name = tail[2..end.saturating_sub(1).max(2)].to_string();
                    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if valid {
                        refs_ok(&tail[..end], &mut refs, &local, &mut ok, &mut ok_local)
                            .map_err(at)?;
                    }
                    rest = &tail[end..];
                }
            }
            if let RuleKind::File(f) = &r.rule.kind {
                if let Some(path) = &f.path {
                    refs_ok(path, &mut refs, &local, &mut ok, &mut ok_local).map_err(at)?;
                    // a variable may carry half of an alternation: only when the written
                    // pattern is unbalanced does it need checking after expansion
                    if path.contains("@{") && check_aare(path).is_err() {
                        if let Ok(all) = expand_with(path, vars, &local) {
                            for e in all.iter().take(64) {
                                check_aare(e).map_err(at)?;
                            }
                        }
                    } else {
                        check_aare(path).map_err(at)?;
                    }
                }
                if let Some(t) = &f.target {
                    refs_ok(t, &mut refs, &local, &mut ok, &mut ok_local).map_err(at)?;
                }
                if let (Some(path), Some(m)) = (&f.path, f.perms.exec) {
                    if m != ExecMode::X && !r.rule.qualifiers.deny {
                        let key = (
                            path.clone(),
                            r.rule.qualifiers.owner,
                            r.rule.qualifiers.priority,
                        );
                        if let Some((old, old_t)) = exec_modes.get(&key) {
                            if *old != m || *old_t != f.target {
                                return Err(at(format!("conflicting x modifiers for '{path}'")));
                            }
                        } else {
                            exec_modes.insert(key, (m, f.target.clone()));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Evaluate an `if` condition: `$bool`, `true`/`false`, `not …`, `defined @{v}`/`defined $b`,
/// comparisons of variables and literals (`@{v} >= 10`), `and`/`or`, parentheses.
/// `Ok(None)` when the condition cannot be decided here.
pub fn eval_condition(
    cond: &str,
    vars: &BTreeMap<String, Vec<String>>,
    bools: &BTreeMap<String, bool>,
) -> Result<Option<bool>, String> {
    let toks = cond_tokens(cond);
    let mut e = Eval {
        t: &toks,
        i: 0,
        vars,
        bools,
    };
    let v = e.or()?;
    if e.i != toks.len() {
        return Err(format!("syntax error in condition '{cond}'"));
    }
    Ok(v)
}

fn cond_tokens(cond: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() {
            out.push(std::mem::take(cur));
        }
    };
    let chars: Vec<char> = cond.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            flush(&mut cur, &mut out);
        } else if c == '(' || c == ')' {
            flush(&mut cur, &mut out);
            out.push(c.to_string());
        } else if matches!(c, '<' | '>' | '=' | '!') {
            flush(&mut cur, &mut out);
            if chars.get(i + 1) == Some(&'=') {
                out.push(format!("{c}="));
                i += 1;
            } else {
                out.push(c.to_string());
            }
        } else {
            cur.push(c);
        }
        i += 1;
    }
    flush(&mut cur, &mut out);
    out
}

struct Eval<'a> {
    t: &'a [String],
    i: usize,
    vars: &'a BTreeMap<String, Vec<String>>,
    bools: &'a BTreeMap<String, bool>,
}

fn var_name(w: &str) -> Option<&str> {
    if let Some(r) = w.strip_prefix("@{") {
        return r.strip_suffix('}');
    }
    w.strip_prefix('@')
}

impl Eval<'_> {
    fn peek(&self) -> Option<&str> {
        self.t.get(self.i).map(String::as_str)
    }

    fn or(&mut self) -> Result<Option<bool>, String> {
        let mut acc = self.and()?;
        while self.peek() == Some("or") {
            self.i += 1;
            let r = self.and()?;
            acc = match (acc, r) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            };
        }
        Ok(acc)
    }

    fn and(&mut self) -> Result<Option<bool>, String> {
        let mut acc = self.not()?;
        while self.peek() == Some("and") {
            self.i += 1;
            let r = self.not()?;
            acc = match (acc, r) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            };
        }
        Ok(acc)
    }

    fn not(&mut self) -> Result<Option<bool>, String> {
        if self.peek() == Some("not") {
            self.i += 1;
            return Ok(self.not()?.map(|x| !x));
        }
        self.atom()
    }

    fn value(&mut self) -> Result<Option<Vec<String>>, String> {
        let w = self.peek().ok_or("condition ends too early")?.to_string();
        self.i += 1;
        if let Some(n) = var_name(&w) {
            return match self.vars.get(n) {
                Some(v) => Ok(Some(v.clone())),
                None => Err(format!(
                    "Found reference to variable {n}, but is never declared"
                )),
            };
        }
        Ok(Some(vec![w.trim_matches('"').to_string()]))
    }

    fn atom(&mut self) -> Result<Option<bool>, String> {
        let Some(w) = self.peek().map(str::to_string) else {
            return Err("empty condition".into());
        };
        match w.as_str() {
            "(" => {
                self.i += 1;
                let v = self.or()?;
                if self.peek() != Some(")") {
                    return Err("missing ')' in condition".into());
                }
                self.i += 1;
                Ok(v)
            }
            "true" => {
                self.i += 1;
                Ok(Some(true))
            }
            "false" => {
                self.i += 1;
                Ok(Some(false))
            }
            "defined" => {
                self.i += 1;
                let name = self
                    .peek()
                    .ok_or("'defined' without a variable")?
                    .to_string();
                self.i += 1;
                if let Some(n) = var_name(&name) {
                    Ok(Some(self.vars.contains_key(n)))
                } else if let Some(n) = name.strip_prefix('$') {
                    let n = n.trim_start_matches('{').trim_end_matches('}');
                    Ok(Some(self.bools.contains_key(n)))
                } else {
                    Err(format!("'defined' needs a variable, not '{name}'"))
                }
            }
            w if w.starts_with('$') => {
                self.i += 1;
                let n = w
                    .trim_start_matches('$')
                    .trim_start_matches('{')
                    .trim_end_matches('}');
                match self.bools.get(n) {
                    Some(x) => Ok(Some(*x)),
                    None => Err(format!("Unknown variable {w} in condition")),
                }
            }
            _ => {
                let lhs = self.value()?;
                let op = self
                    .peek()
                    .ok_or("comparison without an operator")?
                    .to_string();
                if !matches!(op.as_str(), "==" | "!=" | "<" | "<=" | ">" | ">=" | "in") {
                    return Err(format!("syntax error in condition at '{op}'"));
                }
                self.i += 1;
                let rhs = self.value()?;
                let (Some(l), Some(r)) = (lhs, rhs) else {
                    return Ok(None);
                };
                Ok(compare(&l, &op, &r))
            }
        }
    }
}

fn compare(l: &[String], op: &str, r: &[String]) -> Option<bool> {
    if op == "in" {
        return Some(l.iter().all(|x| r.contains(x)));
    }
    if l.len() != 1 || r.len() != 1 {
        return None;
    }
    let (a, b) = (&l[0], &r[0]);
    let ord = match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    };
    use std::cmp::Ordering::*;
    Some(match op {
        "==" => ord == Equal,
        "!=" => ord != Equal,
        "<" => ord == Less,
        "<=" => ord != Greater,
        ">" => ord == Greater,
        _ => ord != Less,
    })
}
