//! Validity checks that mirror what `apparmor_parser` rejects: per rule (names, options,
//! qualifier combinations) and per policy (undefined variables, conflicting exec modes).

use std::collections::{BTreeMap, HashMap};

use super::resolve::{check_refs, EffectiveProfile};
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
            || f.starts_with("attach_disconnected.ipc")
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
        let local = p.auto_vars();
        let mut exec_modes: HashMap<(String, bool), (ExecMode, Option<String>)> = HashMap::new();
        for r in &p.rules {
            let at = |m: String| ParseError {
                file: r.file.clone(),
                pos: r.pos,
                message: m,
            };
            if let RuleKind::File(f) = &r.rule.kind {
                if let Some(path) = &f.path {
                    check_refs(path, vars, &local).map_err(at)?;
                }
                if let Some(t) = &f.target {
                    check_refs(t, vars, &local).map_err(at)?;
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
