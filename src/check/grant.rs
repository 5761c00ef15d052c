//! A rule, parsed with the profile engine and compiled for matching against what events need.
//!
//! Owns turning rule text into a [`Grant`] (file patterns compiled with [`crate::aare`],
//! variables expanded, permissions as the drafter writes them; other rule kinds in the profile
//! engine's typed form) and deciding whether a grant satisfies one [`Need`]. It does not
//! judge danger ([`super::danger`]) or count breadth ([`super::Checker`]).

use std::collections::BTreeMap;

use crate::aare;
use crate::draft::{FilePerms, Need};
use crate::profile::rule::{CondRule, ExecMode, Rule, RuleKind, Statement};
use crate::profile::{ParseError, Pos};

/// The standard tunables (`@{HOME}`, `@{PROC}`, `@{pid}`, …) with their usual values.
pub fn default_vars() -> BTreeMap<String, Vec<String>> {
    crate::profile::resolve::DEFAULT_TUNABLES
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect()
}

/// Parses one statement (a rule, or an include) as the profile engine does, with its
/// validity checks.
pub fn parse_one(text: &str) -> Result<Statement, ParseError> {
    let text = text.trim();
    // A file rule may start with a variable (`@{HOME}/x r,`); the statement parser reads a
    // leading `@{` as an assignment, so say `file` explicitly (same rule).
    let owned;
    let text = if text.starts_with("@{") && !text.contains('=') {
        owned = format!("file {text}");
        owned.as_str()
    } else {
        text
    };
    // the profile engine's own single-statement entry point: one parser in the product
    crate::profile::parse_one(text)
}

/// A compiled file rule.
#[derive(Debug, Clone)]
pub struct FileGrant {
    /// Patterns as written after variable expansion.
    pub patterns: Vec<String>,
    /// Compiled patterns.
    pub compiled: Vec<aare::Pattern>,
    /// For each pattern, the literal text every path it matches starts with
    /// ([`literal_prefix`]): a cheap test before the automaton, and a key for range lookups.
    pub prefixes: Vec<String>,
    /// Plain permissions.
    pub perms: FilePerms,
    /// Exec mode, if any.
    pub exec: Option<ExecMode>,
    /// `owner` qualifier.
    pub owner: bool,
    /// Bare `file,` (every path).
    pub all_paths: bool,
}

impl FileGrant {
    /// Does any pattern match `path`?
    pub fn matches(&self, path: &str) -> bool {
        self.all_paths
            || self
                .compiled
                .iter()
                .zip(&self.prefixes)
                .any(|(p, pre)| path.starts_with(pre.as_str()) && p.is_match(path))
    }
}

/// The literal start of a (variable-expanded) path pattern: every path it matches begins
/// with it. Stops before the first character with a meaning in AARE (`*?[]{}\,^@"`) and
/// before a doubled `/` (which the parser collapses), so it never says more than the
/// pattern does.
pub fn literal_prefix(pattern: &str) -> &str {
    let mut end = pattern.len();
    for (i, c) in pattern.char_indices() {
        if "*?[]{}\\,^@\"".contains(c) || (c == '/' && pattern[i + 1..].starts_with('/')) {
            end = i;
            break;
        }
    }
    &pattern[..end]
}

/// Most patterns one proposed path may expand to through its variables (`@{HOME}` has two
/// values: sixteen of them in a row would be 65,536 automata to compile).
pub const MAX_EXPANSIONS: u64 = 64;

/// How many patterns [`crate::profile::resolve::expand_vars`] would make of `s`, counted
/// without building them (saturating; an unknown or self-referring variable counts 1: the
/// expansion reports it).
pub fn expansion_count(s: &str, vars: &BTreeMap<String, Vec<String>>) -> u64 {
    fn count<'a>(
        s: &'a str,
        vars: &'a BTreeMap<String, Vec<String>>,
        memo: &mut std::collections::HashMap<&'a str, Option<u64>>,
    ) -> u64 {
        let mut total = 1u64;
        let mut rest = s;
        while let Some(start) = rest.find("@{") {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            let name = &rest[start + 2..start + len];
            rest = &rest[start + len + 1..];
            let n = match memo.get(name) {
                Some(Some(n)) => *n,
                Some(None) => 1,
                None => match vars.get(name) {
                    None => 1,
                    Some(values) => {
                        memo.insert(name, None);
                        let n = values
                            .iter()
                            .fold(0u64, |acc, v| acc.saturating_add(count(v, vars, memo)));
                        memo.insert(name, Some(n));
                        n
                    }
                },
            };
            total = total.saturating_mul(n);
        }
        total
    }
    count(s, vars, &mut std::collections::HashMap::new())
}

/// Whether a proposed rule is cheap enough to compile and match: its path expands to at most
/// [`MAX_EXPANSIONS`] patterns and each is within [`aare::budget`]; for other rules the text
/// itself is. Checked on the text, before any automaton is built; the error says why the
/// rule is too complex.
pub fn within_budget(
    rule: &Rule,
    text: &str,
    vars: &BTreeMap<String, Vec<String>>,
) -> Result<(), String> {
    let RuleKind::File(f) = &rule.kind else {
        return aare::over_budget(text).map_or(Ok(()), Err);
    };
    let Some(path) = &f.path else {
        return Ok(());
    };
    if let Some(why) = aare::over_budget(path) {
        return Err(why);
    }
    let n = expansion_count(path, vars);
    if n > MAX_EXPANSIONS {
        return Err(format!(
            "pattern too complex: its variables expand to {n} patterns (at most {MAX_EXPANSIONS})"
        ));
    }
    // bounded now: the expansion itself is cheap
    for e in crate::profile::resolve::expand_vars(path, vars).unwrap_or_default() {
        if let Some(why) = aare::over_budget(&e) {
            return Err(why);
        }
    }
    Ok(())
}

/// A rule compiled for coverage.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The parsed rule.
    pub rule: Rule,
    /// For file rules: the compiled form.
    pub file: Option<FileGrant>,
}

/// Why a rule could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// It does not parse.
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// A path pattern is not a valid AARE, or uses an unknown variable.
    #[error("bad path pattern {pattern:?}: {reason}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// Why.
        reason: String,
    },
}

fn perms_of(p: &crate::profile::rule::FilePerms) -> FilePerms {
    let mut s = String::new();
    for (on, c) in [
        (p.mmap, 'm'),
        (p.read, 'r'),
        (p.write, 'w'),
        (p.append, 'a'),
        (p.link, 'l'),
        (p.lock, 'k'),
    ] {
        if on {
            s.push(c);
        }
    }
    FilePerms::parse_letters(&s).unwrap_or_default()
}

impl Grant {
    /// Compiles a parsed rule with variables `vars`.
    pub fn compile(rule: Rule, vars: &BTreeMap<String, Vec<String>>) -> Result<Grant, GrantError> {
        let file = match &rule.kind {
            RuleKind::File(f) => {
                let mut patterns = Vec::new();
                let mut compiled = Vec::new();
                let mut prefixes = Vec::new();
                if let Some(path) = &f.path {
                    let expanded =
                        crate::profile::resolve::expand_vars(path, vars).map_err(|reason| {
                            GrantError::Pattern {
                                pattern: path.clone(),
                                reason,
                            }
                        })?;
                    for e in expanded {
                        let c =
                            aare::Pattern::compile_path(&e).map_err(|err| GrantError::Pattern {
                                pattern: e.clone(),
                                reason: err.to_string(),
                            })?;
                        prefixes.push(literal_prefix(&e).to_string());
                        patterns.push(e);
                        compiled.push(c);
                    }
                }
                Some(FileGrant {
                    patterns,
                    compiled,
                    prefixes,
                    perms: perms_of(&f.perms),
                    exec: f.perms.exec,
                    owner: rule.qualifiers.owner,
                    all_paths: f.path.is_none(),
                })
            }
            _ => None,
        };
        Ok(Grant { rule, file })
    }

    /// Parses and compiles rule text.
    pub fn parse(text: &str, vars: &BTreeMap<String, Vec<String>>) -> Result<Grant, GrantError> {
        match parse_one(text)? {
            Statement::Rule(r) => Grant::compile(r, vars),
            _ => Err(GrantError::Parse(ParseError {
                file: "<proposal>".into(),
                pos: Pos { line: 1, col: 1 },
                message: "not a rule".into(),
            })),
        }
    }

    /// True for a `deny` rule.
    pub fn is_deny(&self) -> bool {
        self.rule.qualifiers.deny
    }

    /// Does this grant (ignoring `deny`) match what `need` asks for?
    pub fn satisfies(&self, need: &Need, parsed_need: Option<&Rule>) -> bool {
        match (need, &self.file) {
            (Need::File { path, owner, perms }, Some(f)) => {
                (!f.owner || *owner) && effective(f.perms).contains(*perms) && f.matches(path)
            }
            (Need::Exec { path }, Some(f)) => {
                f.exec.is_some_and(|e| e != ExecMode::X || self.is_deny()) && f.matches(path)
            }
            (Need::Other { .. }, None) => {
                parsed_need.is_some_and(|n| other_covers(&self.rule.kind, &n.kind))
            }
            (Need::Other { .. }, Some(f)) => {
                // a bare `file,` or `all,`-like grant covers nothing but files
                let _ = f;
                false
            }
            (_, None) => matches!(self.rule.kind, RuleKind::All),
        }
    }
}

/// `w` implies `a`.
pub fn effective(p: FilePerms) -> FilePerms {
    if p.contains(FilePerms::parse_letters("w").unwrap_or_default()) {
        p.union(FilePerms::parse_letters("a").unwrap_or_default())
    } else {
        p
    }
}

/// Does the condition value pattern `pattern` (AARE, maybe quoted) match `value`?
pub(crate) fn aare_match(pattern: &str, value: &str) -> bool {
    if pattern == value {
        return true;
    }
    let p = pattern.trim_matches('"');
    if !p.contains(['*', '?', '[', '{', '\\', '@']) {
        // no glob: a plain comparison (compiling an automaton per comparison is the slow path)
        return p == value.trim_matches('"');
    }
    // One rule is matched against the needs of every candidate group, whose number the log
    // chooses: compile each pattern once (per thread), not once per comparison; a pattern
    // over the budget matches nothing (the checker refuses such a rule before this).
    thread_local! {
        static COMPILED: std::cell::RefCell<std::collections::HashMap<String, Option<aare::Pattern>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    /// Patterns kept; the cache starts over when full.
    const KEPT: usize = 256;
    let value = value.trim_matches('"');
    COMPILED.with(|cell| {
        let mut cache = cell.borrow_mut();
        if !cache.contains_key(p) {
            if cache.len() >= KEPT {
                cache.clear();
            }
            let compiled = match aare::over_budget(p) {
                Some(_) => None,
                None => aare::Pattern::compile(p).ok(),
            };
            cache.insert(p.to_string(), compiled);
        }
        cache
            .get(p)
            .is_some_and(|c| c.as_ref().is_some_and(|c| c.is_match(value)))
    })
}

fn access_covers(rule: &[String], need: &[String]) -> bool {
    rule.is_empty()
        || rule.iter().any(|r| r == "rw")
        || need.iter().all(|a| rule.iter().any(|r| r == a))
}

/// Access keywords each class may write bare (`signal send`, `ptrace read`, `dbus bind`).
fn access_words(kind: &RuleKind) -> &'static [&'static str] {
    const SOCKET: &[&str] = &[
        "create", "bind", "listen", "accept", "connect", "shutdown", "getattr", "setattr",
        "getopt", "setopt", "send", "receive", "r", "w", "rw",
    ];
    match kind {
        RuleKind::Signal(_) => &["send", "receive", "r", "w", "rw"],
        RuleKind::Ptrace(_) => &["read", "trace", "readby", "tracedby", "r", "w", "rw"],
        RuleKind::Dbus(_) => &["send", "receive", "bind", "eavesdrop", "r", "w", "rw"],
        RuleKind::Unix(_) | RuleKind::Network(_) => SOCKET,
        RuleKind::Mqueue(_) => &[
            "r", "w", "rw", "read", "write", "create", "open", "delete", "getattr", "setattr",
        ],
        RuleKind::IoUring(_) => &["sqpoll", "override_creds"],
        RuleKind::Userns(_) => &["create"],
        _ => &[],
    }
}

/// The rule's conditional part with bare access words moved from `words` to `access`.
pub fn normalized(kind: &RuleKind) -> Option<CondRule> {
    use RuleKind as K;
    let c = match kind {
        K::Network(c)
        | K::Dbus(c)
        | K::Unix(c)
        | K::Signal(c)
        | K::Ptrace(c)
        | K::Mount(c)
        | K::Umount(c)
        | K::Remount(c)
        | K::PivotRoot(c)
        | K::ChangeProfile(c)
        | K::Mqueue(c)
        | K::Userns(c)
        | K::IoUring(c) => c,
        _ => return None,
    };
    let words = access_words(kind);
    let mut out = c.clone();
    let (acc, rest): (Vec<String>, Vec<String>) = c
        .words
        .iter()
        .cloned()
        .partition(|w| words.contains(&w.as_str()));
    out.access.extend(acc);
    out.words = rest;
    Some(out)
}

fn cond_covers(rule: &CondRule, need: &CondRule) -> bool {
    if !access_covers(&rule.access, &need.access) {
        return false;
    }
    for (k, vals) in &rule.conds {
        let Some(nv) = need.cond(k) else {
            return false;
        };
        if !nv.iter().all(|v| vals.iter().any(|p| aare_match(p, v))) {
            return false;
        }
    }
    for w in &rule.words {
        if !need.words.iter().any(|nw| aare_match(w, nw)) {
            return false;
        }
    }
    match (&rule.target, &need.target) {
        (Some(t), Some(n)) => aare_match(t, n),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// Does a non-file rule kind cover what another (drafted from an event) asks for?
pub fn other_covers(rule: &RuleKind, need: &RuleKind) -> bool {
    use RuleKind as K;
    match (rule, need) {
        (K::All, _) => true,
        (K::Capability(have), K::Capability(want)) => {
            have.is_empty() || want.iter().all(|w| have.contains(w))
        }
        (K::Remount(_), K::Mount(_)) => match (normalized(rule), normalized(need)) {
            // `mount options=(remount, …)` is what the utils draft for a remount
            (Some(r), Some(n)) => cond_covers(&r, &n),
            _ => false,
        },
        _ if std::mem::discriminant(rule) == std::mem::discriminant(need) => {
            match (normalized(rule), normalized(need)) {
                (Some(r), Some(n)) => cond_covers(&r, &n),
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_count_is_the_expansions_length_without_building_them() {
        let mut vars = default_vars();
        vars.insert(
            "both".into(),
            vec!["@{HOME}x".into(), "@{run}y".into(), "z".into()],
        );
        vars.insert("loop".into(), vec!["@{loop}".into()]);
        for s in [
            "/etc/passwd",
            "@{HOME}/.config/**",
            "@{HOME}@{run}@{both}",
            "@{both}/@{both}/@{pid}",
            "@{PROC}/@{pid}/task/@{tid}/stat",
        ] {
            let built = crate::profile::resolve::expand_vars(s, &vars).map(|v| v.len() as u64);
            assert_eq!(Ok(expansion_count(s, &vars)), built, "{s}");
        }
        assert_eq!(expansion_count(&"@{HOME}".repeat(16), &vars), 1 << 16);
        assert_eq!(expansion_count(&"@{both}".repeat(60), &vars), u64::MAX);
        assert_eq!(expansion_count("@{loop}@{nope}", &vars), 1);
    }

    fn need_rule(t: &str) -> Rule {
        match parse_one(t).expect("need parses") {
            Statement::Rule(r) => r,
            _ => panic!("not a rule"),
        }
    }

    fn covers(rule: &str, need: Need) -> bool {
        let g = Grant::parse(rule, &default_vars()).expect("rule compiles");
        let parsed = match &need {
            Need::Other { text, .. } => Some(need_rule(&format!("{text},"))),
            _ => None,
        };
        g.satisfies(&need, parsed.as_ref())
    }

    fn file(path: &str, perms: &str, owner: bool) -> Need {
        Need::File {
            path: path.into(),
            owner,
            perms: FilePerms::parse_letters(perms).expect("perms"),
        }
    }

    fn other(class: &'static str, text: &str) -> Need {
        Need::Other {
            class,
            text: text.into(),
        }
    }

    #[test]
    fn file_rules_match_paths_perms_and_owner() {
        assert!(covers("/etc/hosts r,", file("/etc/hosts", "r", false)));
        assert!(!covers("/etc/hosts r,", file("/etc/hosts", "w", false)));
        assert!(covers("/etc/* rw,", file("/etc/hosts", "a", false)));
        assert!(!covers("owner /tmp/x w,", file("/tmp/x", "w", false)));
        assert!(covers("owner /tmp/x w,", file("/tmp/x", "w", true)));
        assert!(covers(
            "@{HOME}/.cache/** rw,",
            file("/home/al/.cache/a/b", "r", true)
        ));
        assert!(covers(
            "@{PROC}/@{pid}/status r,",
            file("/proc/1234/status", "r", false)
        ));
        assert!(covers(
            "/usr/bin/rm mrix,",
            Need::Exec {
                path: "/usr/bin/rm".into()
            }
        ));
        assert!(!covers(
            "/usr/bin/rm r,",
            Need::Exec {
                path: "/usr/bin/rm".into()
            }
        ));
    }

    #[test]
    fn other_rules_match_by_kind_access_and_conditions() {
        assert!(covers(
            "capability,",
            other("capability", "capability setuid")
        ));
        assert!(covers(
            "capability setuid,",
            other("capability", "capability setuid")
        ));
        assert!(!covers(
            "capability chown,",
            other("capability", "capability setuid")
        ));
        assert!(covers(
            "network inet stream,",
            other("network", "network inet stream port=80")
        ));
        assert!(!covers(
            "network inet6 stream,",
            other("network", "network inet stream port=80")
        ));
        assert!(covers(
            "dbus send bus=system path=/org/freedesktop/** ,",
            other(
                "dbus",
                "dbus send bus=system path=/org/freedesktop/DBus member=Hello"
            )
        ));
        assert!(!covers(
            "dbus receive bus=system,",
            other("dbus", "dbus send bus=system path=/org/freedesktop/DBus")
        ));
        assert!(covers(
            "signal (send) set=(term, kill),",
            other("signal", "signal send set=term peer=x")
        ));
        assert!(covers(
            "change_profile -> php-fpm//*,",
            other("change_profile", "change_profile -> php-fpm//webapp")
        ));
    }

    #[test]
    fn literal_prefixes_stop_at_the_first_special_character() {
        assert_eq!(literal_prefix("/etc/hosts"), "/etc/hosts");
        assert_eq!(literal_prefix("/srv/d1/*.dat"), "/srv/d1/");
        assert_eq!(literal_prefix("/srv/{a,b}/x"), "/srv/");
        assert_eq!(literal_prefix("/srv/a\\*b"), "/srv/a");
        assert_eq!(literal_prefix("/srv//a/*"), "/srv");
        assert_eq!(literal_prefix("/tmp/f[0-9]"), "/tmp/f");
        assert_eq!(literal_prefix("**"), "");
        // the prefix never rules out a path the pattern matches
        for (pat, path) in [
            ("/srv//a/*", "/srv/a/x"),
            ("/srv/a\\*b", "/srv/a*b"),
            ("/srv/{a,b}/x", "/srv/b/x"),
        ] {
            let g = Grant::parse(&format!("{pat} r,"), &default_vars()).expect("compiles");
            assert!(g.satisfies(&file(path, "r", false), None), "{pat} {path}");
        }
    }

    #[test]
    fn byte_escapes_in_rule_paths_match_the_bytes_they_stand_for() {
        for (rule, path) in [
            ("owner \"/t/a\\x1bb\" r,", "/t/a\x1bb"),
            ("/t/a\\x1bb r,", "/t/a\x1bb"),
            ("\"/t/a\\033b\" r,", "/t/a\x1bb"),
            ("\"/t/a\\xe2\\x80\\xaeb\" r,", "/t/a\u{202e}b"),
            ("\"/t/a\\]b\" r,", "/t/a]b"),
            ("\"/t/a\\\\b\" r,", "/t/a\\b"),
        ] {
            let g = Grant::parse(rule, &default_vars()).expect("compiles");
            assert!(g.satisfies(&file(path, "r", true), None), "{rule} {path:?}");
            assert!(!g.satisfies(&file("/t/ax1bb", "r", true), None), "{rule}");
        }
    }

    #[test]
    fn invalid_text_is_an_error() {
        assert!(Grant::parse("/etc/hosts rz,", &default_vars()).is_err());
        assert!(Grant::parse("/etc/hosts r", &default_vars()).is_err());
        assert!(Grant::parse("frobnicate all the things,", &default_vars()).is_err());
        assert!(Grant::parse("/etc/{hosts r,", &default_vars()).is_err());
    }
}
