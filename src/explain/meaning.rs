//! The meaning table: what every rule kind, qualifier, exec mode, access word and profile
//! flag of the AppArmor language grants, in one line of plain English.
//!
//! Each meaning is written from `apparmor.d(5)` (AppArmor 3.0.8 as installed, and the 4.x
//! page for the newer rule kinds) and the kernel's behaviour (`security/apparmor/`); the
//! section is cited beside each entry. The data lives in the constant tables below
//! ([`EXEC_MODES`], [`ACCESS_WORDS`], [`FLAGS`]); [`meaning`] only assembles them. The test
//! table [`ROWS`] pins one rule of every kind and qualifier to its exact text, so a
//! change to a meaning is a deliberate change to a row.

use crate::check::grant::normalized;
use crate::profile::rule::{CondRule, ExecMode, FilePerms, Rule, RuleKind};

/// How an exec mode treats the new program: (letters, meaning). Letters are the mode as
/// written without `-> target`; lowercase and uppercase are distinct rows.
///
/// apparmor.d(5) "Access Modes" and "Access Modes Details": uppercase modes (`Px`, `Cx`,
/// `Ux`, `Pix`, `Cix`, `PUx`, `CUx`) make the kernel scrub the environment (secure exec,
/// `AT_SECURE`: ld.so drops `LD_PRELOAD`, `LD_LIBRARY_PATH` …, "similar to setuid
/// programs"); lowercase ones do not, and the man page warns that the caller "may have an
/// undue amount of influence over the callee". `ix` has no scrubbing form because the
/// confinement does not change.
pub const EXEC_MODES: &[(&str, &str)] = &[
    ("x", "execute"),
    (
        "ix",
        "execute, the program staying under this same profile (ix)",
    ),
    (
        "px",
        "execute under the program's own profile, which must exist (else the exec fails); \
         the environment is NOT scrubbed (lowercase px: LD_PRELOAD and the like pass through)",
    ),
    (
        "Px",
        "execute under the program's own profile, which must exist (else the exec fails); \
         the environment is scrubbed (secure exec)",
    ),
    (
        "pix",
        "execute under the program's own profile if one exists, else under this same \
         profile (ix); the environment is NOT scrubbed (lowercase)",
    ),
    (
        "Pix",
        "execute under the program's own profile if one exists, else under this same \
         profile (ix); the environment is scrubbed (secure exec)",
    ),
    (
        "pux",
        "execute under the program's own profile if one exists, else UNCONFINED; the \
         environment is NOT scrubbed (lowercase)",
    ),
    (
        "PUx",
        "execute under the program's own profile if one exists, else UNCONFINED; the \
         environment is scrubbed (secure exec)",
    ),
    (
        "cx",
        "execute under a child profile of this one, which must exist (else the exec \
         fails); the environment is NOT scrubbed (lowercase cx)",
    ),
    (
        "Cx",
        "execute under a child profile of this one, which must exist (else the exec \
         fails); the environment is scrubbed (secure exec)",
    ),
    (
        "cix",
        "execute under a child profile of this one if it exists, else under this same \
         profile (ix); the environment is NOT scrubbed (lowercase)",
    ),
    (
        "Cix",
        "execute under a child profile of this one if it exists, else under this same \
         profile (ix); the environment is scrubbed (secure exec)",
    ),
    (
        "cux",
        "execute under a child profile of this one if it exists, else UNCONFINED; the \
         environment is NOT scrubbed (lowercase)",
    ),
    (
        "CUx",
        "execute under a child profile of this one if it exists, else UNCONFINED; the \
         environment is scrubbed (secure exec)",
    ),
    (
        "ux",
        "execute WITHOUT ANY CONFINEMENT (ux), the environment NOT scrubbed (LD_PRELOAD and \
         the like pass through)",
    ),
    (
        "Ux",
        "execute WITHOUT ANY CONFINEMENT (Ux); the environment is scrubbed (secure exec)",
    ),
];

/// Access words of the non-file rule kinds: (kind, word, meaning). `r`/`w`/`rw` are the
/// kernel's synonyms (the kernel stores signal send and ptrace trace as `MAY_WRITE`, receive
/// and read as `MAY_READ`).
///
/// Sections of apparmor.d(5): "PTrace rules" (read/readby govern /proc, kcmp(2), futexes and
/// perf; trace/tracedby govern ptrace(2)), "Signal rules", "DBus rules" ('r'/'read' are
/// receive, 'w'/'write' send), "Unix socket rules" and "Network Rules" (socket operations),
/// the 4.x page for mqueue, userns and io_uring.
pub const ACCESS_WORDS: &[(&str, &str, &str)] = &[
    (
        "ptrace",
        "read",
        "read (inspect its /proc/PID files, kcmp, perf)",
    ),
    (
        "ptrace",
        "r",
        "read (inspect its /proc/PID files, kcmp, perf)",
    ),
    ("ptrace", "readby", "be read by"),
    (
        "ptrace",
        "trace",
        "trace (attach with ptrace(2): read and rewrite its memory)",
    ),
    (
        "ptrace",
        "w",
        "trace (attach with ptrace(2): read and rewrite its memory)",
    ),
    ("ptrace", "tracedby", "be traced by"),
    (
        "ptrace",
        "rw",
        "read and trace (attach with ptrace(2): read and rewrite its memory)",
    ),
    ("signal", "send", "send"),
    ("signal", "w", "send"),
    ("signal", "receive", "receive"),
    ("signal", "r", "receive"),
    ("signal", "rw", "send and receive"),
    ("dbus", "send", "send (call methods, emit signals)"),
    ("dbus", "w", "send (call methods, emit signals)"),
    ("dbus", "write", "send (call methods, emit signals)"),
    ("dbus", "receive", "receive"),
    ("dbus", "r", "receive"),
    ("dbus", "read", "receive"),
    ("dbus", "rw", "send and receive"),
    ("dbus", "bind", "own (bind) a bus name"),
    ("dbus", "eavesdrop", "eavesdrop on other peers' messages"),
    ("socket", "create", "create"),
    ("socket", "bind", "bind"),
    ("socket", "listen", "listen"),
    ("socket", "accept", "accept"),
    ("socket", "connect", "connect"),
    ("socket", "shutdown", "shutdown"),
    ("socket", "getattr", "getattr"),
    ("socket", "setattr", "setattr"),
    ("socket", "getopt", "getopt"),
    ("socket", "setopt", "setopt"),
    ("socket", "send", "send"),
    ("socket", "w", "send"),
    ("socket", "receive", "receive"),
    ("socket", "r", "receive"),
    ("socket", "rw", "send and receive"),
    ("mqueue", "create", "create"),
    ("mqueue", "open", "open"),
    ("mqueue", "delete", "delete"),
    ("mqueue", "read", "read"),
    ("mqueue", "r", "read"),
    ("mqueue", "write", "write"),
    ("mqueue", "w", "write"),
    ("mqueue", "rw", "read and write"),
    ("mqueue", "getattr", "getattr"),
    ("mqueue", "setattr", "setattr"),
    ("userns", "create", "create"),
    (
        "io_uring",
        "sqpoll",
        "create a kernel submission-polling thread (sqpoll)",
    ),
    (
        "io_uring",
        "override_creds",
        "run io_uring work with another task's credentials (override_creds)",
    ),
];

/// Profile flags: (flag, meaning). apparmor.d(5) "Profile Head", "Flags".
pub const FLAGS: &[(&str, &str)] = &[
    (
        "enforce",
        "enforce mode: what no rule allows is denied and logged (the default)",
    ),
    (
        "complain",
        "complain mode: what no rule allows is allowed and logged as ALLOWED; explicit deny \
         rules are still enforced (logged as DENIED)",
    ),
    (
        "kill",
        "kill mode: like enforce, and the task is also killed on a violation",
    ),
    (
        "unconfined",
        "unconfined mode: the task behaves as though unconfined; the rules do nothing",
    ),
    (
        "prompt",
        "prompt mode: what no rule allows is asked of a user-space prompt daemon",
    ),
    (
        "audit",
        "audit mode: every access, allowed or denied, is logged",
    ),
    (
        "mediate_deleted",
        "deleted files are mediated as if they still existed",
    ),
    (
        "attach_disconnected",
        "paths outside the task's mount namespace (disconnected) are mediated as if attached \
         to its root; the man page warns this can alias objects that should not be allowed",
    ),
    (
        "no_attach_disconnected",
        "disconnected paths are not attached (the default)",
    ),
    (
        "chroot_relative",
        "file names are relative to the chroot, as if it were a mount namespace",
    ),
    (
        "namespace_relative",
        "file names are relative to the mount namespace (the default)",
    ),
    (
        "complain_mode",
        "complain mode (old spelling): see complain",
    ),
    (
        "default_allow",
        "default-allow mode: accesses no rule mentions are allowed; only deny rules restrict",
    ),
    (
        "interruptible",
        "a pending prompt may be interrupted by a signal",
    ),
];

/// What a profile flag means; `None` for flags this table does not know.
pub fn flag_meaning(flag: &str) -> Option<String> {
    let f = flag.trim();
    if let Some((k, v)) = f.split_once('=') {
        return match k.trim() {
            "error" => Some(format!(
                "a denied access fails with errno {} instead of EACCES",
                v.trim()
            )),
            "attach_disconnected.path" => Some(format!(
                "disconnected paths are mediated as if attached under {}",
                v.trim()
            )),
            _ => None,
        };
    }
    FLAGS
        .iter()
        .find(|(n, _)| *n == f)
        .map(|(_, m)| m.to_string())
}

/// The letters of an exec mode as written (`Px`, `cix`, …).
pub fn exec_letters(m: ExecMode) -> String {
    let (c, scrub, i, u) = match m {
        ExecMode::X => return "x".into(),
        ExecMode::Inherit => return "ix".into(),
        ExecMode::Unconfined { scrub_env } => return if scrub_env { "Ux" } else { "ux" }.into(),
        ExecMode::Profile {
            scrub_env,
            inherit_fallback,
            unconfined_fallback,
        } => ('p', scrub_env, inherit_fallback, unconfined_fallback),
        ExecMode::Child {
            scrub_env,
            inherit_fallback,
            unconfined_fallback,
        } => ('c', scrub_env, inherit_fallback, unconfined_fallback),
    };
    let mut s = String::new();
    s.push(if scrub { c.to_ascii_uppercase() } else { c });
    if i {
        s.push('i');
    }
    if u {
        s.push(if scrub { 'U' } else { 'u' });
    }
    s.push('x');
    s
}

/// What an exec mode does (from [`EXEC_MODES`]).
pub fn exec_words(m: ExecMode) -> String {
    let letters = exec_letters(m);
    EXEC_MODES
        .iter()
        .find(|(l, _)| *l == letters)
        .map(|(_, w)| w.to_string())
        .unwrap_or_else(|| format!("execute ({letters})"))
}

/// What `-> target` adds to an exec mode. A target starting with `&` stacks: the program is
/// confined by the current profile AND the named one, each access must pass both (kernel
/// `security/apparmor/domain.c`, label stacking; apparmor.d(5) 4.x "Profile stacking").
fn exec_target_words(m: ExecMode, target: &str) -> String {
    let t = target.trim_matches('"');
    let child = matches!(m, ExecMode::Child { .. });
    if let Some(stacked) = t.strip_prefix('&') {
        let what = if child {
            format!("its child profile {stacked}")
        } else {
            format!("the profile {stacked}")
        };
        return format!(
            "; STACKED (&): the program stays confined by this profile AND by {what}, each \
             access must be allowed by both"
        );
    }
    if t == "unconfined" {
        return "; the target is `unconfined`: the program runs WITHOUT ANY CONFINEMENT".into();
    }
    if child {
        format!("; the child profile is {t}")
    } else {
        format!("; the profile is {t}")
    }
}

/// File permission letters as words (`rw` → "read, write"). apparmor.d(5) "Access Modes
/// Details".
pub fn perm_words(p: &FilePerms) -> Vec<String> {
    let mut w = Vec::new();
    if p.read {
        w.push("read".to_string());
    }
    if p.write {
        w.push("write (create, change, delete)".to_string());
    } else if p.append {
        w.push("append (write only at the end, O_APPEND)".to_string());
    }
    if p.lock {
        w.push("lock".to_string());
    }
    if p.link {
        w.push("hard-link".to_string());
    }
    if p.mmap {
        w.push("map as executable code".to_string());
    }
    if let Some(m) = p.exec {
        w.push(exec_words(m));
    }
    w
}

/// What a path pattern matches, in words. apparmor.d(5) "Globbing".
pub fn glob_words(pattern: &str) -> String {
    let has = |c: &str| pattern.contains(c);
    if !has("*") && !has("?") && !has("[") && !has("{") {
        return if pattern.ends_with('/') {
            format!("the directory {pattern} itself")
        } else {
            format!("exactly {pattern}")
        };
    }
    if let Some(dir) = pattern.strip_suffix("**") {
        if !dir.contains(['*', '?', '[', '{']) {
            return format!("everything under {dir} (any depth)");
        }
    }
    if let Some(dir) = pattern.strip_suffix('*') {
        if !dir.contains(['*', '?', '[', '{']) && dir.ends_with('/') {
            return format!("every file directly in {dir} (not below)");
        }
    }
    let mut notes = Vec::new();
    if has("**") {
        notes.push("`**` crosses directories");
    }
    if has("*") && !has("**") || pattern.replace("**", "").contains('*') {
        notes.push("`*` is any name part within one directory");
    }
    if has("?") {
        notes.push("`?` is one character");
    }
    if pattern.replace("@{", "").contains('{') {
        notes.push("`{a,b}` is either");
    }
    if has("[") {
        notes.push("`[…]` is a character class");
    }
    if has("@{") {
        notes.push("`@{VAR}` expands a variable");
    }
    format!("paths matching {pattern} ({})", notes.join("; "))
}

fn table_kind(kind: &RuleKind) -> &'static str {
    match kind {
        RuleKind::Network(_) | RuleKind::Unix(_) => "socket",
        RuleKind::Ptrace(_) => "ptrace",
        RuleKind::Signal(_) => "signal",
        RuleKind::Dbus(_) => "dbus",
        RuleKind::Mqueue(_) => "mqueue",
        RuleKind::Userns(_) => "userns",
        RuleKind::IoUring(_) => "io_uring",
        _ => "",
    }
}

/// The access words of a rule in words, or "every access" when none is written (the man
/// page: "permissions are implied when a rule does not explicitly state an access list").
fn access_phrase(kind: &RuleKind, c: &CondRule) -> String {
    if c.access.is_empty() {
        return "every access".into();
    }
    let k = table_kind(kind);
    let mut out: Vec<String> = Vec::new();
    for a in &c.access {
        let w = ACCESS_WORDS
            .iter()
            .find(|(kk, ww, _)| *kk == k && ww == a)
            .map(|(_, _, m)| m.to_string())
            .unwrap_or_else(|| a.clone());
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out.join(", ")
}

fn vals(v: &[String]) -> String {
    v.iter()
        .map(|s| s.trim_matches('"'))
        .collect::<Vec<_>>()
        .join("|")
}

/// Conditions in words: `peer=x` → "peer x", others `name=value`.
fn conds_phrase(c: &CondRule) -> Vec<String> {
    c.conds
        .iter()
        .map(|(k, v)| match k.as_str() {
            "peer" | "peer.label" => format!("peers confined by {}", vals(v)),
            "set" => format!("signals {}", vals(v)),
            _ => format!("{k}={}", vals(v)),
        })
        .collect()
}

fn with_conds(head: String, c: &CondRule) -> String {
    let conds = conds_phrase(c);
    if conds.is_empty() {
        head
    } else {
        format!("{head}; only {}", conds.join(", "))
    }
}

/// `network` rules. apparmor.d(5) "Network Rules": a coarse check on family and type;
/// `network netlink raw` is AF_NETLINK SOCK_RAW, the normal netlink socket (udev, iproute2),
/// not raw network traffic; `raw` inet sockets and the `packet` family see and forge traffic.
fn network_words(c: &CondRule) -> String {
    if c.access.is_empty() && c.words.is_empty() && c.conds.is_empty() {
        return "every kind of socket (every family and type)".into();
    }
    let mut s = if c.words.is_empty() {
        "sockets of every family".to_string()
    } else {
        format!("{} sockets", c.words.join(" "))
    };
    let netlink = c.words.iter().any(|w| w == "netlink");
    let raw = c.words.iter().any(|w| w == "raw");
    if c.words.iter().any(|w| w == "packet") {
        s.push_str(" (packet sockets see and forge every frame on the link)");
    } else if raw && netlink {
        s.push_str(" (SOCK_RAW is the usual netlink socket type: kernel events, routing)");
    } else if raw {
        s.push_str(" (raw sockets read and forge network traffic)");
    }
    if !c.access.is_empty() {
        s = format!("{s}: {}", access_phrase(&RuleKind::Network(c.clone()), c));
    }
    with_conds(s, c)
}

fn mount_words(kind: &RuleKind, c: &CondRule) -> String {
    let what = match kind {
        RuleKind::Mount(_) => "mounting filesystems",
        RuleKind::Remount(_) => "remounting filesystems",
        RuleKind::Umount(_) => "unmounting filesystems",
        _ => "pivot_root (changing the root filesystem)",
    };
    let mut parts = conds_phrase(c);
    if !c.words.is_empty() {
        let label = match kind {
            RuleKind::Mount(_) => "source",
            RuleKind::PivotRoot(_) => "new root",
            _ => "mount point",
        };
        parts.push(format!("{label} {}", c.words.join(" ")));
    }
    if let Some(t) = &c.target {
        parts.push(match kind {
            RuleKind::Mount(_) => format!("mount point {t}"),
            _ => format!("then switching to profile {t}"),
        });
    }
    if parts.is_empty() {
        format!("{what}, any of them")
    } else {
        format!("{what}: {}", parts.join(", "))
    }
}

/// `change_profile` rules. apparmor.d(5) "CHANGE_PROFILE RULE": the task may move itself
/// (aa_change_profile(2)) to the target; with an exec condition only at its next exec
/// (`change_onexec`); `unsafe` keeps the environment, `safe` (the default) scrubs it.
fn change_profile_words(c: &CondRule) -> String {
    let unsafe_mode = c.words.first().is_some_and(|w| w == "unsafe");
    let exec = c.words.iter().find(|w| *w != "safe" && *w != "unsafe");
    let to = match c.target.as_deref().map(|t| t.trim_matches('"')) {
        None => "ANY profile (or unconfined)".to_string(),
        Some("unconfined") => "UNCONFINED (leaving confinement)".to_string(),
        Some(t) if t.starts_with('&') => format!(
            "a stack of this profile AND {} (confined by both)",
            t.trim_start_matches('&')
        ),
        Some(t) => format!("the profile {t}"),
    };
    let mut s = format!("the task to switch itself to {to}");
    if let Some(e) = exec {
        s.push_str(&format!(" when it next executes {e}"));
    }
    if unsafe_mode {
        s.push_str(", without scrubbing the environment (unsafe)");
    }
    s
}

/// One line of plain English for a rule. apparmor.d(5) "Rule Qualifiers": `deny` refuses
/// without logging (explicit deny wins over any allow, in enforce and complain mode alike),
/// `audit deny` refuses and logs, `audit` logs what it allows, `owner` needs the task's
/// fsuid to own the object.
pub fn meaning(rule: &Rule) -> String {
    let q = &rule.qualifiers;
    let verb = if q.deny { "Refuses" } else { "Allows" };
    let mut tail = Vec::new();
    if q.owner {
        tail.push("only for files the process owns (its fsuid)".to_string());
    }
    if q.other {
        tail.push("only for files the process does not own".to_string());
    }
    if q.deny && q.audit {
        tail.push("even in complain mode, and logs every refusal".to_string());
    } else if q.deny {
        tail.push("even in complain mode, silently (no log entry)".to_string());
    } else if q.audit {
        tail.push("and logs every use".to_string());
    }
    if let Some(p) = q.priority {
        tail.push(format!(
            "with priority {p} (overrides lower-priority rules)"
        ));
    }
    let tail = if tail.is_empty() {
        String::new()
    } else {
        format!(", {}", tail.join(", "))
    };
    let norm = normalized(&rule.kind);
    let body = match (&rule.kind, norm.as_ref()) {
        (RuleKind::File(f), _) => match &f.path {
            None => "every file access (read, write, execute …) on every file".to_string(),
            Some(p) => {
                let words = perm_words(&f.perms);
                let target = match (f.perms.exec, &f.target) {
                    (Some(m), Some(t)) => exec_target_words(m, t),
                    (None, Some(t)) => format!(", as a link to {t}"),
                    _ => String::new(),
                };
                format!(
                    "{} on {}{target}",
                    if words.is_empty() {
                        "every file permission".to_string()
                    } else {
                        words.join(", ")
                    },
                    glob_words(p)
                )
            }
        },
        // apparmor.d(5) "Link rules"
        (
            RuleKind::Link {
                subset,
                path,
                target,
            },
            _,
        ) => format!(
            "creating hard links named {path} to files matching {target}{}",
            if *subset {
                ", only when the link would not grant more than the target's permissions (subset)"
            } else {
                ""
            }
        ),
        // apparmor.d(5) "Capabilities"
        (RuleKind::Capability(names), _) if names.is_empty() => "EVERY capability".to_string(),
        (RuleKind::Capability(names), _) => format!("capability {}", names.join(", ")),
        (RuleKind::Network(_), Some(c)) => network_words(c),
        (RuleKind::Dbus(_), Some(c)) => {
            let mut s = format!("D-Bus: {}", access_phrase(&rule.kind, c));
            if !c.words.is_empty() {
                s.push_str(&format!(" {}", c.words.join(" ")));
            }
            with_conds(s, c)
        }
        (RuleKind::Unix(_), Some(c)) => {
            let mut s = format!(
                "Unix sockets (abstract and anonymous): {}",
                access_phrase(&rule.kind, c)
            );
            if !c.words.is_empty() {
                s.push_str(&format!(" {}", c.words.join(" ")));
            }
            with_conds(s, c)
        }
        (RuleKind::Signal(_), Some(c)) => {
            let every = if c.cond("set").is_none() {
                " (every signal)"
            } else {
                ""
            };
            with_conds(
                format!("signals: {}{every}", access_phrase(&rule.kind, c)),
                c,
            )
        }
        (RuleKind::Ptrace(_), Some(c)) => {
            with_conds(format!("ptrace: {}", access_phrase(&rule.kind, c)), c)
        }
        (RuleKind::Mount(_), Some(c))
        | (RuleKind::Umount(_), Some(c))
        | (RuleKind::Remount(_), Some(c))
        | (RuleKind::PivotRoot(_), Some(c)) => mount_words(&rule.kind, c),
        (RuleKind::ChangeProfile(_), Some(c)) => change_profile_words(c),
        // apparmor.d(5) "RLIMIT RULE": lowers the hard limit when the profile is entered
        (RuleKind::Rlimit { resource, value }, _) => {
            return format!(
                "Sets the hard resource limit {resource} to at most {value} for tasks entering \
                 this profile"
            )
        }
        // 4.x apparmor.d(5) "Message Queue rules"
        (RuleKind::Mqueue(_), Some(c)) => with_conds(
            format!(
                "POSIX/System V message queues: {}{}",
                access_phrase(&rule.kind, c),
                if c.words.is_empty() {
                    String::new()
                } else {
                    format!(" on {}", c.words.join(" "))
                }
            ),
            c,
        ),
        // 4.x apparmor.d(5) "User Namespace rules": only `create` exists
        (RuleKind::Userns(_), Some(_)) => {
            "creating user namespaces (unprivileged containers; a common route to kernel \
             attack surface)"
                .to_string()
        }
        // 4.x apparmor.d(5) "io_uring rules"
        (RuleKind::IoUring(_), Some(c)) => {
            with_conds(format!("io_uring: {}", access_phrase(&rule.kind, c)), c)
        }
        (RuleKind::All, _) => "EVERYTHING (every rule class: the profile confines nothing)".into(),
        (RuleKind::Unknown { keyword }, _) => {
            return format!("A `{keyword}` rule this tool does not know: read apparmor.d(5)")
        }
        (other, None) => format!("a `{}` rule", other.name()),
    };
    format!("{verb} {body}{tail}")
}

/// One checked row of the meaning table: a rule and its exact meaning, with the section of
/// apparmor.d(5) it was written from.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The rule as written in a profile.
    pub rule: &'static str,
    /// What [`meaning`] must say for it.
    pub meaning: &'static str,
    /// apparmor.d(5) section (or kernel source) the meaning comes from.
    pub cite: &'static str,
}

macro_rules! rows {
    ($( $rule:literal => $meaning:literal, $cite:literal; )*) => {
        &[ $( Row { rule: $rule, meaning: $meaning, cite: $cite }, )* ]
    };
}

/// The meaning table: one row per rule kind, qualifier, exec mode and access word form.
/// Every row is checked by a unit test.
pub const ROWS: &[Row] = rows! {
    // --- file permissions (Access Modes / Access Modes Details)
    "/etc/a r," => "Allows read on exactly /etc/a", "Access Modes: r";
    "/var/a w," => "Allows write (create, change, delete) on exactly /var/a", "Access Modes: w";
    "/var/log/a a," => "Allows append (write only at the end, O_APPEND) on exactly /var/log/a", "Access Modes: a";
    "/run/a k," => "Allows lock on exactly /run/a", "Access Modes: k";
    "/run/a l," => "Allows hard-link on exactly /run/a", "Access Modes: l";
    "/usr/lib/a.so m," => "Allows map as executable code on exactly /usr/lib/a.so", "Access Modes: m";
    "/srv/** rw," => "Allows read, write (create, change, delete) on everything under /srv/ (any depth)", "Globbing: **";
    "/run/svc/* r," => "Allows read on every file directly in /run/svc/ (not below)", "Globbing: *";
    "/run/svc/ r," => "Allows read on the directory /run/svc/ itself", "Globbing: trailing slash";
    "r /etc/a," => "Allows read on exactly /etc/a", "leading OR trailing access permissions";
    "file /etc/a," => "Allows every file permission on exactly /etc/a", "FILE RULE";
    "file," => "Allows every file access (read, write, execute …) on every file", "FILE RULE";
    // --- exec modes, every qualifier
    "deny /usr/bin/a x," => "Refuses execute on exactly /usr/bin/a, even in complain mode, silently (no log entry)", "deny x - Deny execute";
    "/usr/bin/a ix," => "Allows execute, the program staying under this same profile (ix) on exactly /usr/bin/a", "ix - Inherit execute mode";
    "/usr/bin/a px," => "Allows execute under the program's own profile, which must exist (else the exec fails); the environment is NOT scrubbed (lowercase px: LD_PRELOAD and the like pass through) on exactly /usr/bin/a", "px - Discrete Profile execute mode";
    "/usr/bin/a Px," => "Allows execute under the program's own profile, which must exist (else the exec fails); the environment is scrubbed (secure exec) on exactly /usr/bin/a", "Px - Discrete Profile execute mode -- scrub the environment";
    "/usr/bin/a pix," => "Allows execute under the program's own profile if one exists, else under this same profile (ix); the environment is NOT scrubbed (lowercase) on exactly /usr/bin/a", "Profile transition with inheritance fallback";
    "/usr/bin/a Pix," => "Allows execute under the program's own profile if one exists, else under this same profile (ix); the environment is scrubbed (secure exec) on exactly /usr/bin/a", "Profile transition with inheritance fallback";
    "/usr/bin/a pux," => "Allows execute under the program's own profile if one exists, else UNCONFINED; the environment is NOT scrubbed (lowercase) on exactly /usr/bin/a", "Profile transition with unconfined fallback";
    "/usr/bin/a PUx," => "Allows execute under the program's own profile if one exists, else UNCONFINED; the environment is scrubbed (secure exec) on exactly /usr/bin/a", "Profile transition with unconfined fallback";
    "/usr/bin/a cx," => "Allows execute under a child profile of this one, which must exist (else the exec fails); the environment is NOT scrubbed (lowercase cx) on exactly /usr/bin/a", "cx - Transition to Subprofile execute mode";
    "/usr/bin/a Cx," => "Allows execute under a child profile of this one, which must exist (else the exec fails); the environment is scrubbed (secure exec) on exactly /usr/bin/a", "Cx - Transition to Subprofile -- scrub the environment";
    "/usr/bin/a cix," => "Allows execute under a child profile of this one if it exists, else under this same profile (ix); the environment is NOT scrubbed (lowercase) on exactly /usr/bin/a", "Profile transition with inheritance fallback";
    "/usr/bin/a Cix," => "Allows execute under a child profile of this one if it exists, else under this same profile (ix); the environment is scrubbed (secure exec) on exactly /usr/bin/a", "Profile transition with inheritance fallback";
    "/usr/bin/a cux," => "Allows execute under a child profile of this one if it exists, else UNCONFINED; the environment is NOT scrubbed (lowercase) on exactly /usr/bin/a", "Profile transition with unconfined fallback";
    "/usr/bin/a CUx," => "Allows execute under a child profile of this one if it exists, else UNCONFINED; the environment is scrubbed (secure exec) on exactly /usr/bin/a", "Profile transition with unconfined fallback";
    "/usr/bin/a ux," => "Allows execute WITHOUT ANY CONFINEMENT (ux), the environment NOT scrubbed (LD_PRELOAD and the like pass through) on exactly /usr/bin/a", "ux - Unconfined execute mode";
    "/usr/bin/a Ux," => "Allows execute WITHOUT ANY CONFINEMENT (Ux); the environment is scrubbed (secure exec) on exactly /usr/bin/a", "Ux - unconfined execute -- scrub the environment";
    "/usr/bin/a mrix," => "Allows read, map as executable code, execute, the program staying under this same profile (ix) on exactly /usr/bin/a", "Access Modes";
    "/usr/bin/a Px -> helper," => "Allows execute under the program's own profile, which must exist (else the exec fails); the environment is scrubbed (secure exec) on exactly /usr/bin/a; the profile is helper", "Directed profile transitions";
    "/usr/bin/a Cx -> helper," => "Allows execute under a child profile of this one, which must exist (else the exec fails); the environment is scrubbed (secure exec) on exactly /usr/bin/a; the child profile is helper", "Directed profile transitions";
    "/usr/bin/a px -> unconfined," => "Allows execute under the program's own profile, which must exist (else the exec fails); the environment is NOT scrubbed (lowercase px: LD_PRELOAD and the like pass through) on exactly /usr/bin/a; the target is `unconfined`: the program runs WITHOUT ANY CONFINEMENT", "Directed profile transitions";
    // --- stacking (4.x apparmor.d(5) "Profile stacking"; kernel domain.c label stacking)
    "/usr/bin/groff Cx -> &man_groff," => "Allows execute under a child profile of this one, which must exist (else the exec fails); the environment is scrubbed (secure exec) on exactly /usr/bin/groff; STACKED (&): the program stays confined by this profile AND by its child profile man_groff, each access must be allowed by both", "stacking";
    "/usr/bin/a px -> &other," => "Allows execute under the program's own profile, which must exist (else the exec fails); the environment is NOT scrubbed (lowercase px: LD_PRELOAD and the like pass through) on exactly /usr/bin/a; STACKED (&): the program stays confined by this profile AND by the profile other, each access must be allowed by both", "stacking";
    // --- qualifiers (Rule Qualifiers)
    "allow /etc/a r," => "Allows read on exactly /etc/a", "Rule Qualifiers: allow";
    "audit /etc/a r," => "Allows read on exactly /etc/a, and logs every use", "Rule Qualifiers: audit";
    "deny /etc/shadow r," => "Refuses read on exactly /etc/shadow, even in complain mode, silently (no log entry)", "Rule Qualifiers: deny";
    "audit deny /etc/shadow r," => "Refuses read on exactly /etc/shadow, even in complain mode, and logs every refusal", "Rule Qualifiers: deny (combined with audit)";
    "owner /tmp/a rw," => "Allows read, write (create, change, delete) on exactly /tmp/a, only for files the process owns (its fsuid)", "Rule Qualifiers: owner";
    "audit owner /tmp/a r," => "Allows read on exactly /tmp/a, only for files the process owns (its fsuid), and logs every use", "Rule Qualifiers";
    "deny owner /tmp/a w," => "Refuses write (create, change, delete) on exactly /tmp/a, only for files the process owns (its fsuid), even in complain mode, silently (no log entry)", "Rule Qualifiers";
    "audit deny owner /tmp/a w," => "Refuses write (create, change, delete) on exactly /tmp/a, only for files the process owns (its fsuid), even in complain mode, and logs every refusal", "Rule Qualifiers";
    "priority=10 /etc/a r," => "Allows read on exactly /etc/a, with priority 10 (overrides lower-priority rules)", "4.x Rule Qualifiers: priority";
    // --- link (Link rules)
    "link /a/l -> /b/t," => "Allows creating hard links named /a/l to files matching /b/t", "Link rules";
    "link subset /a/l* -> /**," => "Allows creating hard links named /a/l* to files matching /**, only when the link would not grant more than the target's permissions (subset)", "Link rules";
    // --- capability (Capabilities)
    "capability," => "Allows EVERY capability", "Capabilities";
    "capability net_bind_service," => "Allows capability net_bind_service", "Capabilities";
    "deny capability sys_admin," => "Refuses capability sys_admin, even in complain mode, silently (no log entry)", "Capabilities";
    // --- network (Network Rules)
    "network," => "Allows every kind of socket (every family and type)", "Network Rules";
    "network inet stream," => "Allows inet stream sockets", "Network Rules";
    "network netlink raw," => "Allows netlink raw sockets (SOCK_RAW is the usual netlink socket type: kernel events, routing)", "Network Rules: AF_NETLINK SOCK_RAW";
    "network inet raw," => "Allows inet raw sockets (raw sockets read and forge network traffic)", "Network Rules";
    "network packet," => "Allows packet sockets (packet sockets see and forge every frame on the link)", "Network Rules";
    // --- unix (Unix socket rules)
    "unix," => "Allows Unix sockets (abstract and anonymous): every access", "Unix socket rules";
    "unix connect type=stream," => "Allows Unix sockets (abstract and anonymous): connect; only type=stream", "Unix socket rules";
    "unix (send, receive) peer=(label=foo)," => "Allows Unix sockets (abstract and anonymous): send, receive; only peers confined by foo", "Unix socket rules";
    // --- dbus (DBus rules)
    "dbus," => "Allows D-Bus: every access", "DBus rules";
    "dbus send bus=system path=/org/x member=Get," => "Allows D-Bus: send (call methods, emit signals); only bus=system, path=/org/x, member=Get", "DBus rules";
    "dbus (r) bus=session," => "Allows D-Bus: receive; only bus=session", "DBus rules: 'r' is receive";
    "dbus bind bus=session name=org.x," => "Allows D-Bus: own (bind) a bus name; only bus=session, name=org.x", "DBus rules";
    "dbus eavesdrop bus=system," => "Allows D-Bus: eavesdrop on other peers' messages; only bus=system", "DBus rules";
    // --- signal (Signal rules)
    "signal," => "Allows signals: every access (every signal)", "Signal rules";
    "signal send set=term," => "Allows signals: send; only signals term", "Signal rules";
    "signal (receive) peer=unconfined," => "Allows signals: receive (every signal); only peers confined by unconfined", "Signal rules";
    "signal w set=(hup int) peer=foo," => "Allows signals: send; only signals hup|int, peers confined by foo", "Signal rules: w is send";
    // --- ptrace (PTrace rules)
    "ptrace," => "Allows ptrace: every access", "PTrace rules";
    "ptrace read peer=unconfined," => "Allows ptrace: read (inspect its /proc/PID files, kcmp, perf); only peers confined by unconfined", "PTrace rules";
    "ptrace (trace) peer=foo," => "Allows ptrace: trace (attach with ptrace(2): read and rewrite its memory); only peers confined by foo", "PTrace rules";
    "ptrace (readby, tracedby) peer=unconfined," => "Allows ptrace: be read by, be traced by; only peers confined by unconfined", "PTrace rules";
    "ptrace (r) peer=foo," => "Allows ptrace: read (inspect its /proc/PID files, kcmp, perf); only peers confined by foo", "PTrace rules: r is read";
    "ptrace (w) peer=foo," => "Allows ptrace: trace (attach with ptrace(2): read and rewrite its memory); only peers confined by foo", "PTrace rules: w is trace";
    "ptrace (rw) peer=foo," => "Allows ptrace: read and trace (attach with ptrace(2): read and rewrite its memory); only peers confined by foo", "PTrace rules";
    "signal (r) peer=foo," => "Allows signals: receive (every signal); only peers confined by foo", "Signal rules: r is receive";
    "signal (rw) set=usr1 peer=foo," => "Allows signals: send and receive; only signals usr1, peers confined by foo", "Signal rules";
    "dbus (w, write) bus=session," => "Allows D-Bus: send (call methods, emit signals); only bus=session", "DBus rules: 'w' and 'write' are send";
    "dbus (receive, read, rw) bus=session," => "Allows D-Bus: receive, send and receive; only bus=session", "DBus rules";
    "unix (create, bind, listen, accept, shutdown, getattr, setattr, getopt, setopt) type=stream," => "Allows Unix sockets (abstract and anonymous): create, bind, listen, accept, shutdown, getattr, setattr, getopt, setopt; only type=stream", "Unix socket permissions";
    "unix (r, w, rw) type=dgram," => "Allows Unix sockets (abstract and anonymous): receive, send, send and receive; only type=dgram", "Unix socket permissions";
    "mqueue (create, delete, getattr, setattr) /q," => "Allows POSIX/System V message queues: create, delete, getattr, setattr on /q", "4.x Message Queue rules";
    "mqueue (r, w, rw, write) /q," => "Allows POSIX/System V message queues: read, write, read and write on /q", "4.x Message Queue rules";
    // --- mount family (Mount Rules, Pivot Root Rules)
    "mount," => "Allows mounting filesystems, any of them", "Mount Rules";
    "mount fstype=tmpfs -> /run/x/," => "Allows mounting filesystems: fstype=tmpfs, mount point /run/x/", "Mount Rules";
    "remount /mnt/," => "Allows remounting filesystems: mount point /mnt/", "Mount Rules";
    "umount /mnt/," => "Allows unmounting filesystems: mount point /mnt/", "Mount Rules";
    "pivot_root oldroot=/mnt/old/ /mnt/ -> child," => "Allows pivot_root (changing the root filesystem): oldroot=/mnt/old/, new root /mnt/, then switching to profile child", "Pivot Root Rules";
    // --- change_profile (CHANGE_PROFILE RULE)
    "change_profile," => "Allows the task to switch itself to ANY profile (or unconfined)", "CHANGE_PROFILE RULE";
    "change_profile -> foo," => "Allows the task to switch itself to the profile foo", "CHANGE_PROFILE RULE";
    "change_profile -> unconfined," => "Allows the task to switch itself to UNCONFINED (leaving confinement)", "CHANGE_PROFILE RULE";
    "change_profile /usr/bin/a -> foo," => "Allows the task to switch itself to the profile foo when it next executes /usr/bin/a", "CHANGE_PROFILE RULE: EXEC COND";
    "change_profile unsafe /usr/bin/a -> foo," => "Allows the task to switch itself to the profile foo when it next executes /usr/bin/a, without scrubbing the environment (unsafe)", "CHANGE_PROFILE RULE: EXEC MODE";
    "change_profile -> &foo," => "Allows the task to switch itself to a stack of this profile AND foo (confined by both)", "stacking";
    // --- rlimit (RLIMIT RULE)
    "set rlimit nofile <= 1024," => "Sets the hard resource limit nofile to at most 1024 for tasks entering this profile", "RLIMIT RULE";
    // --- mqueue, userns, io_uring (4.x apparmor.d(5))
    "mqueue," => "Allows POSIX/System V message queues: every access", "4.x Message Queue rules";
    "mqueue (open, read) type=posix /q," => "Allows POSIX/System V message queues: open, read on /q; only type=posix", "4.x Message Queue rules";
    "userns," => "Allows creating user namespaces (unprivileged containers; a common route to kernel attack surface)", "4.x User Namespace rules";
    "userns create," => "Allows creating user namespaces (unprivileged containers; a common route to kernel attack surface)", "4.x User Namespace rules";
    "io_uring," => "Allows io_uring: every access", "4.x io_uring rules";
    "io_uring sqpoll," => "Allows io_uring: create a kernel submission-polling thread (sqpoll)", "4.x io_uring rules";
    "io_uring override_creds label=foo," => "Allows io_uring: run io_uring work with another task's credentials (override_creds); only label=foo", "4.x io_uring rules";
    // --- all
    "all," => "Allows EVERYTHING (every rule class: the profile confines nothing)", "4.x all rule";
};

/// What a profile block is: top level with or without attachment, child profile or hat.
/// apparmor.d(5) "Profile Head" (attachment conditionals), "SUBPROFILE", "HAT".
pub fn block_meaning(hat: bool, nested: bool, attachment: Option<&str>) -> String {
    if hat {
        return "a hat: the program enters it itself with aa_change_hat(2)".into();
    }
    match (nested, attachment) {
        (true, Some(a)) => format!(
            "a child profile, entered by a `cx` exec rule of its parent for programs matching {a}"
        ),
        (true, None) => "a child profile, entered only by a `cx -> NAME` rule or \
                         change_profile of its parent"
            .into(),
        (false, Some(a)) => format!("attaches to programs matching {a} when they are executed"),
        (false, None) => "no attachment: no program is confined by it at exec unless a rule \
                          transitions to it by name (`px -> NAME`, change_profile) or it is \
                          stacked"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::parse_one;
    use crate::profile::rule::Statement;

    fn m(text: &str) -> String {
        match parse_one(text) {
            Ok(Statement::Rule(r)) => meaning(&r),
            other => panic!("{text}: not a rule: {other:?}"),
        }
    }

    /// Every row of the meaning table, exactly.
    #[test]
    fn every_row_of_the_meaning_table() {
        let mut bad = Vec::new();
        for row in ROWS {
            let got = m(row.rule);
            if got != row.meaning {
                bad.push(format!(
                    "{} ({}):\n  want {}\n  got  {got}",
                    row.rule, row.cite, row.meaning
                ));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    /// The table covers the whole language: every rule kind, every exec mode letter form,
    /// every qualifier and every access word has at least one row.
    #[test]
    fn the_table_covers_the_whole_language() {
        let parsed: Vec<Rule> = ROWS
            .iter()
            .map(|r| match parse_one(r.rule) {
                Ok(Statement::Rule(x)) => x,
                other => panic!("{}: {other:?}", r.rule),
            })
            .collect();
        for kind in [
            "file",
            "link",
            "capability",
            "network",
            "dbus",
            "unix",
            "signal",
            "ptrace",
            "mount",
            "umount",
            "remount",
            "pivot_root",
            "change_profile",
            "rlimit",
            "mqueue",
            "userns",
            "io_uring",
            "all",
        ] {
            assert!(
                parsed.iter().any(|r| r.kind.name() == kind),
                "no row for {kind}"
            );
        }
        for (letters, _) in EXEC_MODES {
            assert!(
                parsed.iter().any(|r| matches!(&r.kind, RuleKind::File(f)
                    if f.perms.exec.map(exec_letters).as_deref() == Some(*letters))),
                "no row for exec mode {letters}"
            );
        }
        let q = |f: fn(&Rule) -> bool| parsed.iter().any(f);
        assert!(q(|r| r.qualifiers.audit && !r.qualifiers.deny));
        assert!(q(|r| r.qualifiers.audit && r.qualifiers.deny));
        assert!(q(|r| r.qualifiers.deny && !r.qualifiers.audit));
        assert!(q(|r| r.qualifiers.owner
            && r.qualifiers.deny
            && r.qualifiers.audit));
        assert!(q(|r| r.qualifiers.allow));
        assert!(q(|r| r.qualifiers.priority.is_some()));
        assert!(q(|r| matches!(&r.kind, RuleKind::File(f)
            if f.target.as_deref().is_some_and(|t| t.starts_with('&')))));
        // each access word of each kind appears, written bare or in parentheses
        let mut missing = Vec::new();
        for (kind, word, _) in ACCESS_WORDS {
            let hit = parsed.iter().any(|r| {
                table_kind(&r.kind) == *kind
                    && normalized(&r.kind).is_some_and(|c| c.access.iter().any(|a| a == word))
            });
            if !hit {
                missing.push(format!("{kind} {word}"));
            }
        }
        assert!(missing.is_empty(), "no row for {missing:?}");
        for (flag, _) in FLAGS {
            assert!(flag_meaning(flag).is_some());
        }
    }

    /// The ten statements the issue found wrong, each pinned.
    #[test]
    fn uppercase_exec_modes_scrub_lowercase_do_not() {
        for up in ["Px", "Cx", "Ux", "PUx", "Pix", "Cix", "CUx"] {
            let t = m(&format!("/usr/bin/a {up},"));
            assert!(t.contains("the environment is scrubbed"), "{up}: {t}");
            assert!(
                !t.contains("NOT scrubbed") && !t.contains("unsafe"),
                "{up}: {t}"
            );
        }
        for low in ["px", "cx", "ux", "pux", "pix", "cix", "cux"] {
            let t = m(&format!("/usr/bin/a {low},"));
            assert!(t.contains("NOT scrubbed"), "{low}: {t}");
        }
    }

    #[test]
    fn bare_access_words_are_the_access_not_any_access() {
        for r in [
            "ptrace read peer=unconfined,",
            "dbus send bus=system,",
            "signal send set=term,",
            "unix connect type=stream,",
        ] {
            let t = m(r);
            assert!(
                !t.contains("any access") && !t.contains("every access"),
                "{r}: {t}"
            );
        }
    }

    #[test]
    fn no_placeholder_meanings() {
        for r in ROWS {
            let t = m(r.rule);
            assert!(!t.ends_with(" rule"), "{}: {t}", r.rule);
            assert!(!t.contains("deny rules only"), "{}: {t}", r.rule);
        }
    }

    #[test]
    fn flags_and_blocks() {
        let c = flag_meaning("complain").expect("known");
        assert!(c.contains("deny rules are still enforced"), "{c}");
        assert!(flag_meaning("error=EPERM").is_some_and(|m| m.contains("EPERM")));
        assert!(flag_meaning("bogus").is_none());
        assert!(block_meaning(false, false, None).contains("no attachment"));
        assert!(block_meaning(true, true, None).contains("aa_change_hat"));
    }
}

/// Claims a model narrative may make that contradict the meaning table: (pattern over one
/// sentence, case-insensitive; what the table says). Checked by [`contradictions`].
pub const WRONG_CLAIMS: &[(&str, &str)] = &[
    (
        r"(?-i:\b(Px|Cx|Ux|PUx|CUx|Pix|Cix)\b).*\b(unsafe|not scrub|without scrubbing|doesn't scrub|does not scrub|no scrubbing)",
        "uppercase exec modes (Px, Cx, Ux, PUx, …) scrub the environment (secure exec); the \
         lowercase ones do not (apparmor.d(5), Access Modes)",
    ),
    (
        r"(?-i:\b(px|cx|ux)\b).*\b(scrubs?|sanitizes?|cleans?) the environment",
        "lowercase px, cx, ux do not scrub the environment; the uppercase forms do \
         (apparmor.d(5), Access Modes)",
    ),
    (
        r"complain.*\b(nothing is (denied|blocked|enforced)|never denie[sd]|denies nothing|no (access|rule) is (denied|enforced))",
        "complain mode still enforces explicit deny rules (apparmor.d(5), Profile Mode; \
         logged as DENIED)",
    ),
    (
        r"audit deny.*\b(silen|not logged|without logging|no log)",
        "`audit deny` logs every refusal; only plain `deny` is silent (apparmor.d(5), Rule \
         Qualifiers)",
    ),
    (
        r"netlink raw.*\b(forge|sniff|arbitrary (network )?traffic|raw packets)",
        "`network netlink raw` is the usual netlink socket type (kernel events, routing), \
         not raw network traffic (apparmor.d(5), Network Rules)",
    ),
    (
        r"\b(PUx|pux|CUx|cux)\b.*\b(always|unconditionally)\b.*unconfined",
        "pux/PUx run the program unconfined only when no profile exists for it",
    ),
];

/// Sentences of a model narrative that contradict the meaning table, each with what the
/// table says. The narrative is untrusted text: the caller shows these beside it, flagged.
pub fn contradictions(narrative: &str) -> Vec<(String, &'static str)> {
    use std::sync::OnceLock;
    static RES: OnceLock<Vec<regex::Regex>> = OnceLock::new();
    let res = RES.get_or_init(|| {
        WRONG_CLAIMS
            .iter()
            .filter_map(|(p, _)| {
                regex::RegexBuilder::new(p)
                    .case_insensitive(true)
                    .build()
                    .ok()
            })
            .collect()
    });
    let mut out = Vec::new();
    for sentence in narrative.split_inclusive(['.', '!', '?', '\n', ';']) {
        let s = sentence.trim();
        if s.is_empty() {
            continue;
        }
        for (re, (_, truth)) in res.iter().zip(WRONG_CLAIMS) {
            if re.is_match(s) {
                out.push((s.to_string(), *truth));
            }
        }
    }
    out
}

#[cfg(test)]
mod claim_tests {
    use super::*;

    #[test]
    fn every_claim_pattern_compiles_and_flags_what_it_should() {
        for (p, _) in WRONG_CLAIMS {
            assert!(regex::Regex::new(p).is_ok(), "{p}");
        }
        let bad = [
            "The rule uses Px, which is Unsafe because it does not scrub the environment.",
            "Here cx scrubs the environment before running the helper.",
            "The profile is in complain mode, so nothing is denied.",
            "The audit deny rule silences these accesses.",
            "It allows network netlink raw, which can forge arbitrary traffic.",
            "With PUx the program always runs unconfined.",
        ];
        for b in bad {
            assert_eq!(contradictions(b).len(), 1, "{b}");
        }
        let good = "Px runs the helper under its own profile with a scrubbed environment. \
                    In complain mode, deny rules still apply. px keeps the environment.";
        assert!(
            contradictions(good).is_empty(),
            "{:?}",
            contradictions(good)
        );
    }
}
