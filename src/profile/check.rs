//! Validity checks that mirror what `apparmor_parser` rejects: per rule (names, options,
//! qualifier combinations) and per policy (undefined variables, conflicting exec modes).

use std::collections::{BTreeMap, HashMap};

use super::resolve::{expand_vars, EffectiveProfile};
use super::rule::{BlockHeader, Ctx, ExecMode, ProfileHeader, Rule, RuleKind};
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

/// Check a profile header.
pub fn check_profile_header(
    h: &ProfileHeader,
    ctx: &Ctx<'_>,
    _depth: usize,
) -> Result<(), ParseError> {
    let _ = BlockHeader::Else;
    for f in &h.flags {
        let ok = matches!(
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
                | "chroot_relative"
                | "namespace_relative"
                | "chroot_attach"
                | "chroot_no_attach"
                | "debug"
                | "interruptible"
                | "kill.signal"
                | "default_allow"
                | "error"
        ) || f.starts_with("attach_disconnected.path=")
            || f.starts_with("kill.signal=")
            || f.starts_with("error=");
        if !ok {
            return Err(err(ctx, format!("Invalid profile flag: {f}")));
        }
    }
    Ok(())
}

/// Check one rule on its own.
pub fn check_rule(r: &Rule, ctx: &Ctx<'_>) -> Result<(), ParseError> {
    let q = &r.qualifiers;
    let is_file = matches!(r.kind, RuleKind::File(_) | RuleKind::Link { .. });
    if q.owner && !is_file {
        return Err(err(
            ctx,
            format!("'owner' is not allowed on {} rules", r.kind.name()),
        ));
    }
    match &r.kind {
        RuleKind::Capability(names) => {
            for n in names {
                if !CAPS.contains(&n.as_str()) {
                    return Err(err(ctx, format!("Invalid capability {n}.")));
                }
            }
        }
        RuleKind::File(f) => {
            if let Some(ExecMode::X) = f.perms.exec {
                if !q.deny && f.target.is_none() {
                    return Err(err(ctx, "Invalid mode, 'x' must be preceded by exec qualifier 'i', 'p', 'c', or 'u'"));
                }
            }
            if q.deny && f.perms.exec.is_some_and(|e| e != ExecMode::X) {
                return Err(err(ctx, "Invalid mode, in deny rules 'x' must not be preceded by exec qualifier 'i', 'p', or 'u'"));
            }
            if f.target.is_some() {
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
        _ => {}
    }
    Ok(())
}

/// Checks that need the whole policy: every variable used is defined, and one path does not
/// get two different exec modes in one profile.
pub fn check_policy(
    profiles: &[EffectiveProfile],
    vars: &BTreeMap<String, Vec<String>>,
    _bools: &BTreeMap<String, bool>,
) -> Result<(), ParseError> {
    for p in profiles {
        let mut exec_modes: HashMap<(String, bool), (ExecMode, Option<String>)> = HashMap::new();
        for r in &p.rules {
            let at = |m: String| ParseError {
                file: r.file.clone(),
                pos: r.pos,
                message: m,
            };
            if let RuleKind::File(f) = &r.rule.kind {
                if let Some(path) = &f.path {
                    expand_vars(path, vars).map_err(at)?;
                }
                if let Some(t) = &f.target {
                    expand_vars(t, vars).map_err(at)?;
                }
                if let (Some(path), Some(m)) = (&f.path, f.perms.exec) {
                    if m != ExecMode::X && !r.rule.qualifiers.deny {
                        let key = (path.clone(), r.rule.qualifiers.owner);
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

/// Evaluate an `if` condition: `$bool`, `not …`, `defined @{v}`, `defined $b`, `and`/`or`.
/// `Ok(None)` when the condition cannot be decided here.
pub fn eval_condition(
    cond: &str,
    vars: &BTreeMap<String, Vec<String>>,
    bools: &BTreeMap<String, bool>,
) -> Result<Option<bool>, String> {
    let toks: Vec<&str> = cond.split_whitespace().collect();
    let mut i = 0;
    let v = eval_or(&toks, &mut i, vars, bools)?;
    if i != toks.len() {
        return Err(format!("syntax error in condition '{cond}'"));
    }
    Ok(v)
}

fn eval_or(
    t: &[&str],
    i: &mut usize,
    v: &BTreeMap<String, Vec<String>>,
    b: &BTreeMap<String, bool>,
) -> Result<Option<bool>, String> {
    let mut acc = eval_and(t, i, v, b)?;
    while t.get(*i) == Some(&"or") {
        *i += 1;
        let r = eval_and(t, i, v, b)?;
        acc = match (acc, r) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        };
    }
    Ok(acc)
}

fn eval_and(
    t: &[&str],
    i: &mut usize,
    v: &BTreeMap<String, Vec<String>>,
    b: &BTreeMap<String, bool>,
) -> Result<Option<bool>, String> {
    let mut acc = eval_not(t, i, v, b)?;
    while t.get(*i) == Some(&"and") {
        *i += 1;
        let r = eval_not(t, i, v, b)?;
        acc = match (acc, r) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        };
    }
    Ok(acc)
}

fn eval_not(
    t: &[&str],
    i: &mut usize,
    v: &BTreeMap<String, Vec<String>>,
    b: &BTreeMap<String, bool>,
) -> Result<Option<bool>, String> {
    match t.get(*i).copied() {
        Some("not") => {
            *i += 1;
            Ok(eval_not(t, i, v, b)?.map(|x| !x))
        }
        Some("defined") => {
            *i += 1;
            let name = t.get(*i).ok_or("'defined' without a variable")?;
            *i += 1;
            if let Some(n) = name.strip_prefix("@{").and_then(|n| n.strip_suffix('}')) {
                Ok(Some(v.contains_key(n)))
            } else if let Some(n) = name.strip_prefix('$') {
                let n = n.trim_start_matches('{').trim_end_matches('}');
                Ok(Some(b.contains_key(n)))
            } else {
                Err(format!("'defined' needs a variable, not '{name}'"))
            }
        }
        Some(w) if w.starts_with('$') => {
            *i += 1;
            let n = w
                .trim_start_matches('$')
                .trim_start_matches('{')
                .trim_end_matches('}');
            match b.get(n) {
                Some(x) => Ok(Some(*x)),
                None => Err(format!("Unknown variable {w} in condition")),
            }
        }
        Some(w) if w.starts_with('(') => Err(format!("unsupported condition syntax '{w}'")),
        Some(w) => Err(format!("syntax error in condition at '{w}'")),
        None => Err("empty condition".into()),
    }
}
