//! Sensitive targets a rule grants, observed or not.
//!
//! Owns the judgement of *what* a rule reaches, whatever the evidence says: a file of the
//! sensitive catalogue ([`super::sensitive`]) read or written, a container runtime socket, a
//! D-Bus method that makes a root service act for the caller (systemd's
//! `StartTransientUnit`, …), eavesdropping on a bus, signals sent to or ptrace of unconfined
//! processes. Each hit is a `sensitive-target` (warning) or a `critical-target` (error)
//! finding saying in plain words what the access would let the service do. A log line is no
//! excuse: a symlink planted where a service reads is enough to make the kernel log such a
//! path. Paths a rule opens *beyond* the evidence are [`super::Checker`]'s `sensitive-path`.

use crate::profile::rule::{CondRule, RuleKind};

use super::grant::{aare_match, normalized, Grant};
use super::sensitive::{self, Effect, Level};
use super::{Code, Finding};

/// How many targets one finding names.
const MAX_NAMED: usize = 3;

/// A D-Bus method family that makes a privileged service act for the caller.
struct DbusTarget {
    interface: &'static str,
    path: &'static str,
    dest: &'static str,
    members: &'static [&'static str],
    effect: Effect,
}

const DBUS_TARGETS: &[DbusTarget] = &[
    DbusTarget {
        interface: "org.freedesktop.systemd1.Manager",
        path: "/org/freedesktop/systemd1",
        dest: "org.freedesktop.systemd1",
        members: &[
            "StartTransientUnit",
            "StartUnit",
            "StartUnitReplace",
            "RestartUnit",
            "ReloadOrRestartUnit",
            "TryRestartUnit",
            "EnqueueUnitJob",
            "EnableUnitFiles",
            "LinkUnitFiles",
            "ReenableUnitFiles",
            "PresetUnitFiles",
            "SetUnitProperties",
            "SetEnvironment",
            "UnsetAndSetEnvironment",
            "KillUnit",
            "Reboot",
            "PowerOff",
            "Halt",
            "KExec",
            "SwitchRoot",
        ],
        effect: (
            Level::Critical,
            "ask systemd to run any command as root (StartTransientUnit), start, change or \
             kill services, or reboot the host",
        ),
    },
    DbusTarget {
        interface: "org.freedesktop.login1.Manager",
        path: "/org/freedesktop/login1",
        dest: "org.freedesktop.login1",
        members: &[
            "PowerOff",
            "Reboot",
            "Halt",
            "Suspend",
            "Hibernate",
            "KillSession",
            "KillUser",
            "TerminateSession",
            "TerminateUser",
        ],
        effect: (
            Level::Sensitive,
            "power off or reboot the host, or end users' sessions, through logind",
        ),
    },
];

/// `c` allows `value` for condition `key`: the condition is absent (any value) or one of its
/// patterns matches.
fn allows(c: &CondRule, key: &str, value: &str) -> bool {
    c.cond(key)
        .is_none_or(|vals| vals.iter().any(|p| aare_match(p, value)))
}

/// `c`'s access list (normalized) allows one of `wanted`; an empty list allows everything.
fn any_access(c: &CondRule, wanted: &[&str]) -> bool {
    c.access.is_empty() || c.access.iter().any(|a| wanted.contains(&a.as_str()))
}

/// Every catalogued target `grant` reaches, with what it would let the service do.
/// `observed` are paths seen in the evidence the rule covers (tested as well as the
/// catalogue's examples when a pattern is a glob).
pub fn targets(grant: &Grant, observed: &[&str]) -> Vec<(String, Effect)> {
    let mut out: Vec<(String, Effect)> = Vec::new();
    if grant.is_deny() {
        return out;
    }
    let mut push = |target: String, e: Effect| {
        if !out.iter().any(|(t, x)| *t == target && *x == e) {
            out.push((target, e));
        }
    };
    if let Some(f) = &grant.file {
        if f.all_paths {
            return out; // `file,`: unrestricted-rule says it all
        }
        let letters = f.perms.letters();
        let read = letters.iter().any(|c| *c == 'r' || *c == 'm');
        let write = letters.iter().any(|c| *c == 'w' || *c == 'a');
        if !read && !write {
            return out;
        }
        for c in &f.compiled {
            if let Some(lit) = c.literal() {
                if let Ok(p) = std::str::from_utf8(lit) {
                    if let Some(e) = sensitive::file_target(p, read, write) {
                        push(p.to_string(), e);
                    }
                }
                continue;
            }
            for p in sensitive::catalogue_paths()
                .map(|p| -> &str { p })
                .chain(observed.iter().copied())
            {
                if c.is_match(p) {
                    if let Some(e) = sensitive::file_target(p, read, write) {
                        push(p.to_string(), e);
                    }
                }
            }
        }
        return out;
    }
    let Some(c) = normalized(&grant.rule.kind) else {
        return out;
    };
    match &grant.rule.kind {
        RuleKind::Dbus(_) => {
            let sends = any_access(&c, &["send", "w", "rw"]);
            if sends && allows(&c, "bus", "system") {
                for t in DBUS_TARGETS {
                    let hit = t.members.iter().find(|m| allows(&c, "member", m));
                    if let Some(m) = hit.filter(|_| {
                        allows(&c, "interface", t.interface)
                            && allows(&c, "path", t.path)
                            && allows(&c, "peer.name", t.dest)
                    }) {
                        push(format!("{}.{m}", t.interface), t.effect);
                    }
                }
            }
            let eavesdrop = c.access.iter().any(|a| a == "eavesdrop")
                || (c.access.is_empty()
                    && [
                        "path",
                        "interface",
                        "member",
                        "peer.name",
                        "peer.label",
                        "name",
                    ]
                    .iter()
                    .all(|k| c.cond(k).is_none()));
            if eavesdrop {
                push(
                    format!(
                        "eavesdrop on the {} bus",
                        c.cond("bus")
                            .and_then(|b| b.first())
                            .map(String::as_str)
                            .unwrap_or("any")
                    ),
                    (
                        Level::Sensitive,
                        "read the D-Bus messages other programs exchange",
                    ),
                );
            }
        }
        RuleKind::Signal(_)
            if any_access(&c, &["send", "w", "rw"])
                && allows(&c, "peer", "unconfined")
                && !super::danger::only_exists(&c) =>
        {
            push(
                "signals to unconfined processes".into(),
                (
                    Level::Sensitive,
                    "send signals (kill, stop) to unconfined processes: most of the system",
                ),
            );
        }
        RuleKind::Ptrace(_)
            if allows(&c, "peer", "unconfined") && any_access(&c, &["trace", "w", "rw"]) =>
        {
            push(
                "ptrace of unconfined processes".into(),
                (
                    Level::Critical,
                    "read and rewrite the memory of unconfined processes: run code as them",
                ),
            );
        }
        RuleKind::Ptrace(_)
            if allows(&c, "peer", "unconfined") && any_access(&c, &["read", "r"]) =>
        {
            push(
                "ptrace read of unconfined processes".into(),
                (
                    Level::Sensitive,
                    "read the state, memory maps and environment (often holding secrets) of \
                     unconfined processes",
                ),
            );
        }
        RuleKind::Unix(_) if any_access(&c, &["connect", "send", "w", "rw"]) => {
            for k in ["addr", "peer.addr"] {
                for v in c.cond(k).unwrap_or_default() {
                    let v = v.trim_matches('"');
                    let hit = if v.contains(['*', '?', '[', '{']) {
                        sensitive::catalogue_paths()
                            .filter(|p| aare_match(v, p))
                            .find_map(|p| sensitive::file_target(p, false, true).map(|e| (p, e)))
                    } else {
                        sensitive::file_target(v, false, true).map(|e| (v, e))
                    };
                    if let Some((p, e)) = hit {
                        push(p.to_string(), e);
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// The `sensitive-target` and `critical-target` findings of `grant` (at most one of each),
/// each naming what the access would let the service do.
pub fn analyse(grant: &Grant, observed: &[&str]) -> Vec<Finding> {
    let hits = targets(grant, observed);
    let mut out = Vec::new();
    for (level, code) in [
        (Level::Critical, Code::CriticalTarget),
        (Level::Sensitive, Code::SensitiveTarget),
    ] {
        // one sentence per distinct effect, with the targets that have it
        let mut effects: Vec<(&str, Vec<&str>)> = Vec::new();
        for (t, (l, what)) in hits.iter().filter(|(_, e)| e.0 == level) {
            let _ = l;
            match effects.iter_mut().find(|(w, _)| w == what) {
                Some((_, ts)) => ts.push(t),
                None => effects.push((what, vec![t.as_str()])),
            }
        }
        if effects.is_empty() {
            continue;
        }
        let parts: Vec<String> = effects
            .iter()
            .take(MAX_NAMED)
            .map(|(what, ts)| {
                let more = match ts.len() {
                    n if n > MAX_NAMED => format!(" and {} more", n - MAX_NAMED),
                    _ => String::new(),
                };
                let named: Vec<&str> = ts.iter().take(MAX_NAMED).copied().collect();
                format!("{what} ({}{more})", named.join(", "))
            })
            .collect();
        out.push(code.finding(format!("would let the service {}", parts.join("; "))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::grant::default_vars;

    fn codes(text: &str) -> Vec<String> {
        let g = Grant::parse(text, &default_vars()).expect("compiles");
        analyse(&g, &[]).into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn sensitive_and_critical_targets() {
        let cases: &[(&str, &[&str])] = &[
            ("owner /etc/shadow r,", &["sensitive-target"]),
            ("/etc/shadow w,", &["critical-target"]),
            ("/root/.ssh/authorized_keys w,", &["critical-target"]),
            ("@{HOME}/.ssh/id_rsa r,", &["sensitive-target"]),
            ("/etc/ld.so.preload w,", &["critical-target"]),
            ("/etc/ld.so.preload r,", &[]),
            (
                "/sys/kernel/security/apparmor/.replace w,",
                &["critical-target"],
            ),
            ("@{PROC}/sys/kernel/core_pattern w,", &["critical-target"]),
            ("@{PROC}/sys/kernel/core_pattern r,", &[]),
            ("/proc/sysrq-trigger w,", &["critical-target"]),
            ("/dev/mem r,", &["critical-target"]),
            ("/dev/sda r,", &["sensitive-target"]),
            ("/etc/sudoers.d/* w,", &["critical-target"]),
            ("/etc/pam.d/* w,", &["critical-target"]),
            ("/etc/pam.d/* r,", &[]),
            (
                "/usr/lib/x86_64-linux-gnu/libfoo.so.1 w,",
                &["critical-target"],
            ),
            ("/var/run/docker.sock rw,", &["critical-target"]),
            ("/run/containerd/containerd.sock w,", &["critical-target"]),
            ("deny /etc/shadow w,", &[]),
            ("/etc/passwd r,", &[]),
            ("/dev/null rw,", &[]),
            ("@{PROC}/@{pid}/stat r,", &[]),
            ("@{HOME}/.cache/foo/** rw,", &[]),
            ("/etc/hosts r,", &[]),
            (
                "dbus send bus=system path=/org/freedesktop/systemd1 \
                 interface=org.freedesktop.systemd1.Manager member=StartTransientUnit,",
                &["critical-target"],
            ),
            (
                "dbus send bus=system interface=org.freedesktop.systemd1.Manager member=GetUnit,",
                &[],
            ),
            (
                "dbus send bus=system,",
                &["critical-target", "sensitive-target"],
            ),
            ("dbus send bus=session,", &[]),
            (
                "dbus send bus=system path=/org/freedesktop/login1/session/_32 \
                 interface=org.freedesktop.DBus.Properties member=Get peer=(label=unconfined),",
                &[],
            ),
            ("dbus eavesdrop bus=session,", &["sensitive-target"]),
            (
                "signal send set=kill peer=unconfined,",
                &["sensitive-target"],
            ),
            ("signal receive set=term peer=unconfined,", &[]),
            ("signal (receive, send) set=(\"exists\"),", &[]),
            ("signal send set=term peer=example-notifier//sound,", &[]),
            ("ptrace read peer=unconfined,", &["sensitive-target"]),
            ("ptrace trace peer=unconfined,", &["critical-target"]),
            ("ptrace readby peer=unconfined,", &[]),
            ("ptrace read peer=foo,", &[]),
            (
                "unix (connect, send, receive) type=stream peer=(addr=\"/run/docker.sock\"),",
                &["critical-target"],
            ),
            (
                "unix (connect, receive, send) type=stream peer=(addr=@/tmp/.X11-unix/X0),",
                &[],
            ),
        ];
        for (rule, want) in cases {
            assert_eq!(codes(rule), want.to_vec(), "{rule}");
        }
    }

    #[test]
    fn the_message_says_what_the_access_would_do() {
        let g = Grant::parse("owner /etc/shadow r,", &default_vars()).expect("compiles");
        let f = analyse(&g, &[]);
        assert_eq!(
            f[0].message,
            "would let the service read the password hashes of every user (/etc/shadow)"
        );
    }

    #[test]
    fn observed_paths_are_judged_too() {
        let g = Grant::parse("/srv/data/** r,", &default_vars()).expect("compiles");
        assert!(analyse(&g, &["/srv/data/x"]).is_empty());
        let g = Grant::parse("/home/*/.config/** r,", &default_vars()).expect("compiles");
        let f = analyse(&g, &["/home/al/.config/gh/hosts.yml"]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("/home/al/.config/gh/hosts.yml"),
            "{f:?}"
        );
    }
}
