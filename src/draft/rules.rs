//! One event to the rule upstream's utils would write for it (before merging).
//!
//! Owns the per-class shape of a first-choice rule: file (with the owner flag and merged
//! permissions), exec, capability, network (addresses and ports), unix, dbus, signal, ptrace,
//! mount/umount, pivot_root, mqueue, userns, io_uring and change_profile. It skips the events
//! the utils skip (no file name, ptrace or unix events without a denied mask, unconfined
//! change_hat). It does not merge events or offer alternatives (see [`super::Drafter`]).

use crate::log::{Event, EventClass};

use super::perms::{from_logged_mask, FilePerms};

/// What one event asks for, in a form that merges like the utils' hashlog.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Need {
    /// A file access: path (as logged), owner flag, permissions.
    File {
        /// The logged path.
        path: String,
        /// Owner rule (fsuid equals ouid, or an old `perms::` mask).
        owner: bool,
        /// Permissions (create/delete already mapped to `w`).
        perms: FilePerms,
    },
    /// An exec of `path`.
    Exec {
        /// The executed file.
        path: String,
    },
    /// Any other rule, already written (without a trailing comma).
    Other {
        /// The rule class (`capability`, `network`, …).
        class: &'static str,
        /// The rule text without its trailing `,`.
        text: String,
    },
}

fn s(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|x| !x.is_empty())
}

/// Quotes a rule word when it holds whitespace or characters that end a word. Control,
/// bidirectional and invisible characters ([`crate::display::is_hidden`]) are written as
/// AppArmor's `\xHH` escapes, byte by byte: a profile never receives one raw.
pub fn quote(word: &str) -> String {
    let hex;
    let word = if crate::display::has_hidden(word) {
        hex = hex_hidden(word);
        hex.as_str()
    } else {
        word
    };
    if word.is_empty()
        || word
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, ',' | '"' | '#' | '=' | '(' | ')'))
    {
        // Backslashes are AARE escapes inside quotes too (the parser only strips the quotes),
        // so an already-escaped word keeps them; only a bare `"` needs escaping.
        let mut out = String::with_capacity(word.len() + 2);
        out.push('"');
        let mut chars = word.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    out.push(c);
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                }
                '"' => out.push_str("\\\""),
                _ => out.push(c),
            }
        }
        out.push('"');
        out
    } else {
        word.to_string()
    }
}

/// `word` with every hidden character written as `\xHH` escapes of its UTF-8 bytes.
fn hex_hidden(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 8);
    for c in word.chars() {
        if crate::display::is_hidden(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An access list: one word bare, several as `(a, b)`, sorted; always parenthesised when
/// `paren` is set.
fn access_list(mask: &str, paren: bool) -> String {
    let mut v: Vec<&str> = mask
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    v.sort_unstable();
    v.dedup();
    if v.len() == 1 && !paren {
        v[0].to_string()
    } else {
        format!("({})", v.join(", "))
    }
}

/// The mask the utils use: the denied one, else the requested one.
fn mask(ev: &Event) -> Option<&str> {
    s(&ev.denied_mask).or(s(&ev.requested_mask))
}

/// The needs of one event; `None` when the utils would draft nothing for it.
pub fn need_of(ev: &Event) -> Option<Need> {
    let op = ev.operation.as_deref().unwrap_or("");
    match utils_class(ev)? {
        EventClass::Exec => {
            let path = s(&ev.name)?;
            Some(Need::Exec {
                path: path.to_string(),
            })
        }
        EventClass::File => {
            if op == "change_profile" || op == "change_onexec" {
                return change_profile(ev);
            }
            let path = s(&ev.name)?;
            let m = from_logged_mask(s(&ev.denied_mask)?).ok()?;
            if m.perms.is_empty() {
                return None;
            }
            let owner = m.owner || (ev.ouid.is_some() && ev.fsuid == ev.ouid);
            Some(Need::File {
                path: path.to_string(),
                owner,
                perms: m.perms,
            })
        }
        EventClass::Capability => {
            let name = s(&ev.name)?;
            Some(other("capability", format!("capability {name}")))
        }
        EventClass::Network => network(ev),
        EventClass::Unix => unix(ev),
        EventClass::Dbus => dbus(ev),
        EventClass::Signal => {
            let access = access_list(mask(ev)?, false);
            let mut t = format!("signal {access}");
            if let Some(sig) = s(&ev.signal) {
                t.push_str(&format!(" set={sig}"));
            }
            if let Some(peer) = s(&ev.peer).or(s(&ev.peer_profile)) {
                t.push_str(&format!(" peer={}", quote(peer)));
            }
            Some(other("signal", t))
        }
        EventClass::Ptrace => {
            let peer = s(&ev.peer).or(s(&ev.peer_profile))?;
            let access = access_list(s(&ev.denied_mask)?, false);
            Some(other(
                "ptrace",
                format!("ptrace {access} peer={}", quote(peer)),
            ))
        }
        EventClass::Mount => mount(ev),
        EventClass::Mqueue => {
            let access = access_list(mask(ev)?, false);
            let kind = if ev.rule_class.as_deref().unwrap_or("").starts_with("sysv")
                || op.starts_with("sysv")
            {
                "sysv"
            } else {
                "posix"
            };
            let mut t = format!("mqueue {access} type={kind}");
            if let Some(name) = s(&ev.name) {
                t.push(' ');
                t.push_str(&quote(name));
            }
            Some(other("mqueue", t))
        }
        EventClass::Userns => {
            let m = s(&ev.denied_mask)?;
            let access: Vec<&str> = m
                .split_whitespace()
                .map(|w| w.strip_prefix("userns_").unwrap_or(w))
                .collect();
            Some(other(
                "userns",
                format!("userns {}", access_list(&access.join(" "), false)),
            ))
        }
        EventClass::IoUring => {
            let access = access_list(mask(ev)?, false);
            let mut t = format!("io_uring {access}");
            if let Some(label) = s(&ev.peer_profile) {
                t.push_str(&format!(" label={}", quote(label)));
            }
            Some(other("io_uring", t))
        }
        EventClass::ChangeProfile => change_profile(ev),
        EventClass::ChangeHat | EventClass::Policy | EventClass::Other => None,
    }
}

/// The class the utils give an event: their checks run in a fixed order (an `exec` is a
/// file event whatever else the line says, a `*_mqueue` class wins over the operation, …);
/// after those, the log engine's classification stands. `None`: the utils ignore it.
pub fn utils_class(ev: &Event) -> Option<EventClass> {
    let op = ev.operation.as_deref().unwrap_or("");
    let class = ev.rule_class.as_deref().unwrap_or("");
    let denied = ev.denied_mask.as_deref().unwrap_or("");
    let requested = ev.requested_mask.as_deref().unwrap_or("");
    Some(if op == "exec" {
        EventClass::Exec
    } else if class == "namespace" {
        if denied.starts_with("userns_") || (denied.is_empty() && requested.starts_with("userns_"))
        {
            EventClass::Userns
        } else {
            return None;
        }
    } else if class.ends_with("mqueue") {
        EventClass::Mqueue
    } else if class == "io_uring" {
        EventClass::IoUring
    } else if class == "mount" || op == "mount" || op == "pivotroot" {
        EventClass::Mount
    } else if class == "net" && ev.family.as_deref() == Some("unix") {
        EventClass::Unix
    } else if op == "change_onexec" || op == "change_profile" {
        EventClass::ChangeProfile
    } else if ev.class == EventClass::Exec {
        EventClass::File
    } else {
        ev.class
    })
}

fn other(class: &'static str, text: String) -> Need {
    Need::Other { class, text }
}

fn change_profile(ev: &Event) -> Option<Need> {
    let target = s(&ev.name2).or(s(&ev.name))?;
    Some(other(
        "change_profile",
        format!("change_profile -> {}", quote(target)),
    ))
}

/// Accesses after which the utils drop the peer part of a network rule.
const NON_PEER_ACCESSES: &[&str] = &[
    "create", "bind", "listen", "shutdown", "getattr", "setattr", "getopt", "setopt",
];

fn addr(ip: Option<&str>, port: Option<i64>) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(ip) = ip.filter(|a| *a != "none") {
        v.push(format!("ip={ip}"));
    }
    if let Some(p) = port.filter(|p| *p != 0) {
        v.push(format!("port={p}"));
    }
    v
}

fn network(ev: &Event) -> Option<Need> {
    let family = s(&ev.family)?;
    let mut t = String::from("network");
    let accesses = s(&ev.requested_mask);
    if let Some(a) = accesses {
        t.push(' ');
        t.push_str(&access_list(a, true));
    }
    t.push(' ');
    t.push_str(family);
    if let Some(ty) = s(&ev.sock_type) {
        t.push(' ');
        t.push_str(ty);
    }
    for part in addr(s(&ev.local_addr), ev.local_port) {
        t.push(' ');
        t.push_str(&part);
    }
    let non_peer =
        accesses.is_some_and(|a| a.split_whitespace().any(|w| NON_PEER_ACCESSES.contains(&w)));
    if !non_peer {
        let peer = addr(s(&ev.foreign_addr), ev.foreign_port);
        if !peer.is_empty() {
            t.push_str(&format!(" peer=({})", peer.join(" ")));
        }
    }
    Some(other("network", t))
}

fn unix(ev: &Event) -> Option<Need> {
    let denied = s(&ev.denied_mask)?;
    let mut t = format!("unix {}", access_list(denied, true));
    if let Some(ty) = s(&ev.sock_type) {
        t.push_str(&format!(" type={ty}"));
    }
    if let Some(a) = s(&ev.net_addr).filter(|a| *a != "none") {
        t.push_str(&format!(" addr={}", quote(a)));
    }
    if let Some(p) = s(&ev.peer_addr).filter(|a| *a != "none") {
        t.push_str(&format!(" peer=(addr={})", quote(p)));
    }
    Some(other("unix", t))
}

fn dbus(ev: &Event) -> Option<Need> {
    let access = access_list(mask(ev)?, false);
    let mut t = format!("dbus {access}");
    if let Some(bus) = s(&ev.dbus_bus) {
        t.push_str(&format!(" bus={bus}"));
    }
    match access.as_str() {
        "bind" => {
            if let Some(name) = s(&ev.name) {
                t.push_str(&format!(" name={}", quote(name)));
            }
        }
        "eavesdrop" => {}
        _ => {
            for (k, v) in [
                ("path", s(&ev.dbus_path)),
                ("interface", s(&ev.dbus_interface)),
                ("member", s(&ev.dbus_member)),
            ] {
                if let Some(v) = v {
                    t.push_str(&format!(" {k}={}", quote(v)));
                }
            }
            if let Some(label) = s(&ev.peer_profile) {
                t.push_str(&format!(" peer=(label={})", quote(label)));
            }
        }
    }
    Some(other("dbus", t))
}

fn mount(ev: &Event) -> Option<Need> {
    let op = ev.operation.as_deref().unwrap_or("");
    if op == "pivotroot" {
        let new_root = s(&ev.name)?;
        let mut t = String::from("pivot_root");
        if let Some(old) = s(&ev.src_name) {
            t.push_str(&format!(" oldroot={}", quote(old)));
        }
        t.push(' ');
        t.push_str(&quote(new_root));
        return Some(other("pivot_root", t));
    }
    let point = s(&ev.name)?;
    if op == "umount" {
        return Some(other("mount", format!("umount {}", quote(point))));
    }
    let mut t = String::from("mount");
    if let Some(fs) = s(&ev.fs_type) {
        t.push_str(&format!(" fstype={fs}"));
    }
    if let Some(flags) = s(&ev.flags) {
        t.push_str(&format!(" options={}", access_list(flags, true)));
    }
    if let Some(src) = s(&ev.src_name) {
        t.push(' ');
        t.push_str(&quote(src));
    }
    t.push_str(&format!(" -> {}", quote(point)));
    Some(other("mount", t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_lists_sort_and_parenthesise() {
        assert_eq!(access_list("send accept", true), "(accept, send)");
        assert_eq!(access_list("receive", true), "(receive)");
        assert_eq!(access_list("send", false), "send");
        assert_eq!(access_list("rw, nosuid, bind", true), "(bind, nosuid, rw)");
    }

    #[test]
    fn quote_writes_hidden_characters_as_hex_escapes() {
        assert_eq!(quote("a\x1b]0;x\x07"), "a\\x1b]0;x\\x07");
        assert_eq!(quote("p\u{202e} q"), "\"p\\xe2\\x80\\xae q\"");
        assert!(!crate::display::has_hidden(&quote("\u{e0041}\t\u{200b}")));
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("/tmp/does not exist"), "\"/tmp/does not exist\"");
        assert_eq!(quote("/dev/shm/test(me"), "\"/dev/shm/test(me\"");
        assert_eq!(quote("/usr/bin/x"), "/usr/bin/x");
        // AARE escapes survive quoting unchanged; a bare quote is escaped once.
        assert_eq!(quote("@\\{a\\}/b=c"), "\"@\\{a\\}/b=c\"");
        assert_eq!(quote("/a b/\\\"q"), "\"/a b/\\\"q\"");
        assert_eq!(quote("/a b\"q"), "\"/a b\\\"q\"");
    }
}
