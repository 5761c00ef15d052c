//! Danger analysis of one parsed rule, whatever the evidence.
//!
//! Owns the findings that follow from the rule text alone: unconfined exec transitions,
//! write on recursive globs, write plus exec, dangerous capabilities, mount, ptrace trace,
//! raw/packet sockets, change_profile to anything or unconfined, user namespaces, and rules
//! that grant a whole class. Coverage, breadth and evidence are [`super::Checker`]'s job.

use crate::profile::rule::{CondRule, ExecMode, Rule, RuleKind};

use super::{Code, Finding};

/// Capabilities that amount to root or to control of the kernel.
pub const DANGEROUS_CAPABILITIES: &[&str] = &[
    "sys_admin",
    "sys_module",
    "sys_ptrace",
    "sys_rawio",
    "dac_override",
    "dac_read_search",
    "mac_admin",
    "mac_override",
    "bpf",
    "perfmon",
    "sys_boot",
    "setfcap",
];

/// Why a dangerous capability is blocked and how to go on, for those a log often asks for.
/// Capabilities never widen the file rules: they bypass the file's owner and mode (DAC) on
/// paths the profile already allows (apparmor.d(5) "Capabilities").
pub const CAPABILITY_WHY: &[(&str, &str)] = &[
    (
        "dac_read_search",
        "bypasses file owner and mode for reading and directory search on every path the \
         profile allows, and opens files by handle (open_by_handle_at, a known container \
         escape); better give the service's user read access to those files (group, ACL); if \
         it is really needed, edit the rule to accept it yourself",
    ),
    (
        "dac_override",
        "bypasses file owner and mode for writing (and reading) every path the profile \
         allows; the kernel asks for it after dac_read_search, so it means a write or \
         execute; better give the service's user write access to those files (owner, group, \
         ACL); if it is really needed, edit the rule to accept it yourself",
    ),
];

/// Capabilities worth a second look.
pub const SENSITIVE_CAPABILITIES: &[&str] = &[
    "setuid",
    "setgid",
    "chown",
    "fowner",
    "fsetid",
    "kill",
    "net_admin",
    "net_raw",
    "sys_chroot",
    "syslog",
    "linux_immutable",
    "audit_control",
    "sys_resource",
    "sys_time",
];

fn is_globbed(p: &str) -> bool {
    p.contains(['*', '?', '[', '{'])
}

/// Every name a rule carries (paths, targets, condition values, words), with its field.
fn names(rule: &Rule) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    match &rule.kind {
        RuleKind::File(f) => {
            out.extend(f.path.as_deref().map(|p| ("path", p)));
            out.extend(f.target.as_deref().map(|t| ("exec target", t)));
        }
        RuleKind::Link { path, target, .. } => {
            out.push(("path", path.as_str()));
            out.push(("link target", target.as_str()));
        }
        RuleKind::Capability(names) => out.extend(names.iter().map(|n| ("capability", n.as_str()))),
        RuleKind::Rlimit { resource, value } => {
            out.push(("rlimit", resource.as_str()));
            out.push(("rlimit value", value.as_str()));
        }
        RuleKind::Unknown { keyword } => out.push(("keyword", keyword.as_str())),
        RuleKind::All => {}
        RuleKind::Network(c)
        | RuleKind::Dbus(c)
        | RuleKind::Unix(c)
        | RuleKind::Signal(c)
        | RuleKind::Ptrace(c)
        | RuleKind::Mount(c)
        | RuleKind::Umount(c)
        | RuleKind::Remount(c)
        | RuleKind::PivotRoot(c)
        | RuleKind::ChangeProfile(c)
        | RuleKind::Mqueue(c)
        | RuleKind::Userns(c)
        | RuleKind::IoUring(c) => {
            for (k, vals) in &c.conds {
                out.extend(vals.iter().map(|v| (k.as_str(), v.as_str())));
            }
            out.extend(c.words.iter().map(|w| ("word", w.as_str())));
            out.extend(c.target.as_deref().map(|t| ("target", t)));
        }
    }
    out
}

/// `instruction-like-name` when a name in the rule reads like an instruction to a model
/// (see [`super::injection`]).
pub fn instruction_like_names(rule: &Rule) -> Option<Finding> {
    let flags: Vec<_> = names(rule)
        .into_iter()
        .filter_map(|(field, v)| super::injection::flag(field, v.trim_matches('"')))
        .collect();
    let first = flags.first()?;
    Some(Code::InstructionLikeName.finding(format!(
        "the rule's {first}; it is data, not an instruction: check what the rule grants"
    )))
}

fn unrestricted(c: &CondRule) -> bool {
    c.access.is_empty() && c.conds.is_empty() && c.words.is_empty() && c.target.is_none()
}

/// Socket types and protocols: the `network` words that are not an address family.
const NETWORK_NON_FAMILIES: &[&str] = &[
    "stream",
    "dgram",
    "seqpacket",
    "rdm",
    "raw",
    "tcp",
    "udp",
    "icmp",
];

/// True for a signal rule whose set is only `exists` (signal 0: "is it alive?").
pub(crate) fn only_exists(c: &CondRule) -> bool {
    c.cond("set")
        .is_some_and(|v| !v.is_empty() && v.iter().all(|s| s.trim_matches('"') == "exists"))
}

/// `broad-rule` when a non-file rule names no one it talks to (no peer, address, D-Bus name
/// or family), so that it reaches every process, service or socket of its kind. A rule with
/// no condition at all is `unrestricted-rule` instead.
fn broad(rule: &Rule) -> Option<Finding> {
    let c = super::grant::normalized(&rule.kind)?;
    let has = |keys: &[&str]| {
        c.conds.iter().any(|(k, _)| {
            keys.iter()
                .any(|w| k == w || k.starts_with(&format!("{w}.")))
        })
    };
    let access = |wanted: &[&str]| {
        c.access.is_empty() || c.access.iter().any(|a| wanted.contains(&a.as_str()))
    };
    if unrestricted(&c) && !matches!(rule.kind, RuleKind::Ptrace(_)) {
        return None;
    }
    let kind = rule.kind.name();
    let why = match &rule.kind {
        RuleKind::Dbus(_) => {
            let bind_only = !c.access.is_empty() && c.access.iter().all(|a| a == "bind");
            if bind_only {
                (!has(&["name"])).then_some("names no bus name: it may own any name on the bus")
            } else if c.access.iter().all(|a| a == "eavesdrop") && !c.access.is_empty() {
                None
            } else {
                (!has(&["path", "interface", "member", "peer"])).then_some(
                    "names no path, interface, member or peer: it reaches every service on \
                     the bus",
                )
            }
        }
        // `set=exists` (signal 0) only asks whether a process is alive
        RuleKind::Signal(_) if access(&["send", "w", "rw"]) && !only_exists(&c) => {
            (!has(&["peer"]))
                .then_some("names no peer: it may signal every process, unconfined ones included")
        }
        RuleKind::Unix(_) if access(&["connect", "send", "w", "rw"]) => (!has(&["peer", "addr"]))
            .then_some("names no peer and no address: it reaches every Unix socket"),
        RuleKind::Ptrace(_) if access(&["read", "trace", "r", "w", "rw"]) => (!has(&["peer"]))
            .then_some("names no peer: it reaches every process, unconfined ones included"),
        RuleKind::Network(_) => {
            let family = c
                .words
                .iter()
                .any(|w| !NETWORK_NON_FAMILIES.contains(&w.as_str()));
            (!family).then_some("names no address family: it allows sockets of every family")
        }
        _ => None,
    }?;
    Some(Code::BroadRule.finding(format!("this `{kind}` rule {why}")))
}

/// The danger findings of `rule` (empty for a `deny` rule, which grants nothing: it gets a
/// `deny-rule` note instead).
pub fn analyse(rule: &Rule) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(f) = instruction_like_names(rule) {
        out.push(f);
    }
    if rule.qualifiers.deny {
        // apparmor.d(5) "Rule Qualifiers": deny refuses without logging; `audit deny` logs
        out.push(Code::DenyRule.finding(if rule.qualifiers.audit {
            "an `audit deny` rule grants nothing; every refused access is still logged"
        } else {
            "a deny rule grants nothing and silences the evidence for good (refusals are not \
             logged, in complain mode too)"
        }));
        return out;
    }
    if let Some(f) = broad(rule) {
        out.push(f);
    }
    match &rule.kind {
        RuleKind::File(f) => {
            let writes = f.perms.write || f.perms.append;
            match &f.path {
                None => {
                    out.push(Code::UnrestrictedRule.finding("`file,` allows every file access"))
                }
                Some(p) => {
                    if writes && p.contains("**") {
                        out.push(
                            Code::RecursiveWriteGlob
                                .finding(format!("write on the recursive glob {p}")),
                        );
                    }
                    if f.perms.exec.is_some() && is_globbed(p) {
                        out.push(Code::ExecGlob.finding(format!("execute on the glob {p}")));
                    }
                }
            }
            if let Some(mode) = f.perms.exec {
                if writes {
                    out.push(Code::WriteExec.finding("write and execute on the same path"));
                }
                let to_unconfined = f
                    .target
                    .as_deref()
                    .is_some_and(|t| t.trim_matches('"') == "unconfined");
                let unconfined = match mode {
                    ExecMode::Unconfined { .. } => true,
                    // the kernel runs `px -> unconfined` unconfined, like `ux`
                    ExecMode::Profile { .. } | ExecMode::Child { .. } if to_unconfined => true,
                    ExecMode::Profile {
                        unconfined_fallback,
                        ..
                    }
                    | ExecMode::Child {
                        unconfined_fallback,
                        ..
                    } => unconfined_fallback,
                    _ => false,
                };
                if unconfined {
                    let arrow = if to_unconfined { " -> unconfined" } else { "" };
                    // `pux`/`PUx`/`cux`/`CUx` fall back to unconfined only when no profile
                    // matches (apparmor.d(5) "unconfined fallback execute mode")
                    let when = if !to_unconfined && !matches!(mode, ExecMode::Unconfined { .. }) {
                        " when no profile exists for it"
                    } else {
                        ""
                    };
                    out.push(Code::UnconfinedExec.finding(format!(
                        "`{}{arrow}` runs the program without confinement{when}",
                        f.perms.text
                    )));
                }
            }
        }
        RuleKind::Capability(names) => {
            if names.is_empty() {
                out.push(Code::UnrestrictedRule.finding("`capability,` grants every capability"));
            }
            for n in names {
                if DANGEROUS_CAPABILITIES.contains(&n.as_str()) {
                    let why = CAPABILITY_WHY
                        .iter()
                        .find(|(c, _)| c == n)
                        .map(|(_, w)| format!(": {w}"))
                        .unwrap_or_default();
                    out.push(Code::DangerousCapability.finding(format!("capability {n}{why}")));
                } else if SENSITIVE_CAPABILITIES.contains(&n.as_str()) {
                    out.push(Code::SensitiveCapability.finding(format!("capability {n}")));
                }
            }
        }
        RuleKind::Network(c) => {
            if unrestricted(c) {
                out.push(Code::UnrestrictedRule.finding("`network,` allows every socket"));
            }
            // SOCK_RAW is the normal netlink type (apparmor.d(5) "Network Rules": netlink
            // rules may only say dgram or raw); raw inet sockets and `packet` see and forge
            // traffic
            let netlink_only = c.words.iter().any(|w| w == "netlink")
                && c.words
                    .iter()
                    .all(|w| NETWORK_NON_FAMILIES.contains(&w.as_str()) || w == "netlink");
            if c.words.iter().any(|w| w == "packet") {
                out.push(Code::RawSocket.finding("packet socket: sees and forges every frame"));
            } else if c.words.iter().any(|w| w == "raw") && !netlink_only {
                out.push(Code::RawSocket.finding("raw socket: reads and forges network traffic"));
            }
        }
        RuleKind::Mount(_)
        | RuleKind::Umount(_)
        | RuleKind::Remount(_)
        | RuleKind::PivotRoot(_) => {
            out.push(
                Code::MountRule.finding(format!("`{}` changes the mount table", rule.kind.name())),
            );
        }
        RuleKind::Ptrace(_) => {
            let c = super::grant::normalized(&rule.kind).unwrap_or_default();
            if c.access.is_empty()
                || c.access
                    .iter()
                    .any(|a| a == "trace" || a == "w" || a == "rw")
            {
                out.push(
                    Code::PtraceTrace
                        .finding("ptrace with trace access reads and rewrites another process"),
                );
            }
        }
        RuleKind::ChangeProfile(c) => match c.target.as_deref() {
            None => {
                out.push(Code::ChangeProfileUnconfined.finding("change_profile to any profile"))
            }
            Some(t) if t == "unconfined" || t.trim_matches('"') == "**" || t == "*" => {
                out.push(Code::ChangeProfileUnconfined.finding(format!("change_profile -> {t}")))
            }
            _ => {}
        },
        RuleKind::Userns(_) => out.push(Code::UsernsCreate.finding("creates user namespaces")),
        RuleKind::Dbus(c)
        | RuleKind::Unix(c)
        | RuleKind::Signal(c)
        | RuleKind::Mqueue(c)
        | RuleKind::IoUring(c) => {
            if unrestricted(c) {
                out.push(Code::UnrestrictedRule.finding(format!(
                    "`{},` allows every {} access",
                    rule.kind.name(),
                    rule.kind.name()
                )));
            }
        }
        RuleKind::All => out.push(Code::UnrestrictedRule.finding("`all,` allows everything")),
        RuleKind::Link { .. } | RuleKind::Rlimit { .. } | RuleKind::Unknown { .. } => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::grant::parse_one;
    use crate::profile::rule::Statement;

    fn codes(text: &str) -> Vec<String> {
        let Statement::Rule(r) = parse_one(text).expect("parses") else {
            panic!("not a rule: {text}");
        };
        analyse(&r).into_iter().map(|f| f.code).collect()
    }

    fn message(text: &str) -> String {
        let Statement::Rule(r) = parse_one(text).expect("parses") else {
            panic!("not a rule: {text}");
        };
        analyse(&r).into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn deny_and_fallback_messages_say_what_the_kernel_does() {
        assert!(message("audit deny /etc/shadow r,").contains("still logged"));
        assert!(message("deny /etc/shadow r,").contains("silences"));
        assert!(message("/usr/bin/a PUx,").ends_with("when no profile exists for it"));
        assert!(message("/usr/bin/a ux,").ends_with("without confinement"));
    }

    #[test]
    fn flags_dangerous_rules() {
        let cases: &[(&str, &[&str])] = &[
            ("/usr/bin/sh ux,", &["unconfined-exec"]),
            ("/usr/bin/sh Pux,", &["unconfined-exec"]),
            ("/usr/bin/sh px,", &[]),
            ("/var/lib/** rw,", &["recursive-write-glob"]),
            ("/var/lib/** r,", &[]),
            ("/tmp/helper rwix,", &["write-exec"]),
            ("/usr/bin/* ix,", &["exec-glob"]),
            ("capability sys_admin,", &["dangerous-capability"]),
            ("capability setuid,", &["sensitive-capability"]),
            ("capability sys_nice,", &[]),
            ("capability,", &["unrestricted-rule"]),
            ("network,", &["unrestricted-rule"]),
            ("network packet raw,", &["raw-socket"]),
            ("network inet stream,", &[]),
            ("mount fstype=ext4 /dev/sdb1 -> /mnt/,", &["mount-rule"]),
            ("umount /mnt/a/,", &["mount-rule"]),
            ("pivot_root oldroot=/a/ /b/,", &["mount-rule"]),
            ("ptrace trace peer=unconfined,", &["ptrace-trace"]),
            ("ptrace read peer=foo,", &[]),
            (
                "change_profile -> unconfined,",
                &["change-profile-unconfined"],
            ),
            ("change_profile,", &["change-profile-unconfined"]),
            ("change_profile -> foo,", &[]),
            ("userns create,", &["userns-create"]),
            ("dbus,", &["unrestricted-rule"]),
            ("file,", &["unrestricted-rule"]),
            ("deny /etc/shadow r,", &["deny-rule"]),
            ("/usr/bin/sh px -> unconfined,", &["unconfined-exec"]),
            ("/usr/bin/sh Px -> unconfined,", &["unconfined-exec"]),
            ("/usr/bin/sh cx -> unconfined,", &["unconfined-exec"]),
            ("/usr/bin/sh px -> helper,", &[]),
            ("dbus send bus=system,", &["broad-rule"]),
            ("dbus (send, receive) bus=session,", &["broad-rule"]),
            (
                "dbus send bus=system path=/org/freedesktop/DBus interface=org.freedesktop.DBus \
                 member=Hello peer=(name=org.freedesktop.DBus),",
                &[],
            ),
            ("dbus bind bus=session,", &["broad-rule"]),
            ("dbus bind bus=session name=org.example.Foo,", &[]),
            ("signal send,", &["broad-rule"]),
            ("signal send peer=foo,", &[]),
            ("signal (receive, send) set=(\"exists\"),", &[]),
            ("signal send set=term peer=foo,", &[]),
            ("signal receive,", &[]),
            ("signal receive peer=unconfined,", &[]),
            ("unix (connect, send, receive),", &["broad-rule"]),
            (
                "unix (connect, receive, send) type=stream peer=(addr=@/tmp/.X11-unix/X0),",
                &[],
            ),
            ("unix (bind, listen) type=stream addr=@foo,", &[]),
            ("unix (create, getattr),", &[]),
            ("unix (receive) type=dgram,", &[]),
            ("ptrace read,", &["broad-rule"]),
            ("ptrace,", &["broad-rule", "ptrace-trace"]),
            ("ptrace (readby),", &[]),
            ("network stream,", &["broad-rule"]),
            ("network inet stream,", &[]),
            // SOCK_RAW is the usual netlink type: no warning; raw inet sockets keep it
            ("network netlink raw,", &[]),
            ("network netlink dgram,", &[]),
            ("network inet raw,", &["raw-socket"]),
            ("network inet6 raw,", &["raw-socket"]),
            ("network raw,", &["broad-rule", "raw-socket"]),
            ("network packet,", &["raw-socket"]),
        ];
        for (rule, want) in cases {
            assert_eq!(codes(rule), want.to_vec(), "{rule}");
        }
    }
}
