//! Include resolution, variables and the effective rule set of each profile and hat.
//!
//! Two modes: [`IncludeMode::Strict`] follows `apparmor_parser` (a missing `include <x>` is an
//! error, `include if exists` is not); [`IncludeMode::Lenient`] is the tool's normal loading:
//! a missing include is a [`Warning`] and the standard tunables get built-in defaults, so
//! the tool works on a machine without AppArmor installed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::check;
use super::cst::{NodeKind, ProfileFile};
use super::rule::{
    self, parse_block_header, AssignOp, BlockHeader, Ctx, ExecMode, FilePerms, ProfileHeader,
    Qualifiers, Rule, RuleKind, Statement,
};
use super::{ParseError, Pos};

/// How missing includes are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeMode {
    /// Like `apparmor_parser`: a missing non-optional include is an error.
    Strict,
    /// Missing includes are warnings; standard tunables get built-in defaults.
    Lenient,
}

/// A non-fatal finding while loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// File the warning is about.
    pub file: String,
    /// Where.
    pub pos: Pos,
    /// What.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: warning: {}",
            self.file, self.pos.line, self.pos.col, self.message
        )
    }
}

/// One rule of a profile's effective set, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveRule {
    /// The rule, with block qualifiers (`audit { … }`) merged in.
    pub rule: Rule,
    /// The rule text as written.
    pub text: String,
    /// The file it is written in.
    pub file: String,
    /// Where in that file.
    pub pos: Pos,
}

/// A profile or hat with all includes inlined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveProfile {
    /// Names from the outermost profile down (`["/usr/bin/foo", "^hat"]`).
    pub path: Vec<String>,
    /// The header.
    pub header: ProfileHeader,
    /// Effective rules in order.
    pub rules: Vec<EffectiveRule>,
    /// File and position of the header.
    pub file: String,
    /// Header position.
    pub pos: Pos,
}

/// A file rule in the form a coverage check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRuleInfo {
    /// Path patterns with variables expanded (one rule can give several).
    pub patterns: Vec<String>,
    /// Permissions.
    pub perms: FilePerms,
    /// `audit`
    pub audit: bool,
    /// `deny`
    pub deny: bool,
    /// `owner`
    pub owner: bool,
    /// Exec mode, if any.
    pub exec: Option<ExecMode>,
    /// Exec target (`-> name`), expanded.
    pub exec_target: Option<String>,
    /// `file:line` of the rule.
    pub source: String,
    /// The rule text.
    pub text: String,
}

/// A non-file rule in typed form, with its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherRuleInfo {
    /// Qualifiers.
    pub qualifiers: Qualifiers,
    /// Kind and fields (variables in fields are not expanded).
    pub kind: RuleKind,
    /// `file:line` of the rule.
    pub source: String,
    /// The rule text.
    pub text: String,
}

/// The result of loading one file with its includes.
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    /// The main file's tree.
    pub file: Arc<ProfileFile>,
    /// Every profile and hat, outermost first.
    pub profiles: Vec<EffectiveProfile>,
    /// Set variables after loading.
    pub variables: BTreeMap<String, Vec<String>>,
    /// Boolean variables.
    pub booleans: BTreeMap<String, bool>,
    /// Warnings (missing includes, unknown rule kinds …).
    pub warnings: Vec<Warning>,
    /// Every file that was read (main file first).
    pub files_read: Vec<PathBuf>,
}

/// Default values for the standard tunables, used when `tunables/` is not installed.
pub const DEFAULT_TUNABLES: &[(&str, &[&str])] = &[
    ("HOME", &["/home/*/", "/root/"]),
    ("HOMEDIRS", &["/home/"]),
    ("PROC", &["/proc/"]),
    ("sys", &["/sys/"]),
    ("run", &["/run/", "/var/run/"]),
    ("pid", &["{[1-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9],[1-4][0-9][0-9][0-9][0-9][0-9][0-9]}"]),
    ("pids", &["{[1-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9],[1-4][0-9][0-9][0-9][0-9][0-9][0-9]}"]),
    ("tid", &["{[1-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9],[1-4][0-9][0-9][0-9][0-9][0-9][0-9]}"]),
    ("uid", &["{[0-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9],[1-4][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]}"]),
    ("user_cache_dirs", &["/home/*/.cache", "/root/.cache"]),
    ("user_config_dirs", &["/home/*/.config", "/root/.config"]),
    ("user_share_dirs", &["/home/*/.local/share", "/root/.local/share"]),
    ("etc_ro", &["/etc/", "/usr/etc/"]),
    ("etc_rw", &["/etc/"]),
    ("multiarch", &["*-linux-gnu*"]),
    ("XDG_DESKTOP_DIR", &["Desktop"]),
    ("XDG_DOWNLOAD_DIR", &["Downloads"]),
    ("XDG_DOCUMENTS_DIR", &["Documents"]),
    ("XDG_MUSIC_DIR", &["Music"]),
    ("XDG_PICTURES_DIR", &["Pictures"]),
    ("XDG_VIDEOS_DIR", &["Videos"]),
    ("XDG_PUBLICSHARE_DIR", &["Public"]),
    ("XDG_TEMPLATES_DIR", &["Templates"]),
    ("apparmorfs", &["/sys/kernel/security/apparmor/"]),
    ("securityfs", &["/sys/kernel/security/"]),
    ("exec_path", &["/{,usr/}{,s}bin/*"]),
    ("libexec", &["/usr/libexec", "/usr/lib"]),
    ("system_share_dirs", &["/usr/share", "/usr/local/share", "/opt"]),
    ("flatpak_exports_root", &["/var/lib/flatpak/exports", "/home/*/.local/share/flatpak/exports"]),
    ("att", &["/"]),
];

/// Suffixes of files skipped when including a directory (package-manager leftovers).
const IGNORED_SUFFIXES: &[&str] = &[
    ".dpkg-new",
    ".dpkg-old",
    ".dpkg-dist",
    ".dpkg-bak",
    ".dpkg-remove",
    ".pacsave",
    ".pacnew",
    ".rpmnew",
    ".rpmsave",
    ".orig",
    ".rej",
    "~",
];

/// Loads files with their includes; caches parsed files across loads.
#[derive(Debug)]
pub struct Loader {
    /// Base profile directory (`-d`), searched after `extra` dirs for `<…>` includes.
    pub base: PathBuf,
    /// Extra include dirs (`-I`), searched first.
    pub extra: Vec<PathBuf>,
    /// Missing-include behaviour.
    pub mode: IncludeMode,
    /// Directory for relative `"…"` includes (default: the process working directory).
    pub cwd: Option<PathBuf>,
    cache: HashMap<PathBuf, Result<Arc<ProfileFile>, ParseError>>,
    /// Resolved `<…>` includes (they do not depend on the including file).
    include_cache: HashMap<String, Option<Vec<PathBuf>>>,
}

struct State<'l> {
    loader: &'l mut Loader,
    vars: BTreeMap<String, Vec<String>>,
    var_pos: HashMap<String, (String, Pos)>,
    bools: BTreeMap<String, bool>,
    profiles: Vec<EffectiveProfile>,
    warnings: Vec<Warning>,
    files_read: Vec<PathBuf>,
    seen_files: HashSet<PathBuf>,
    stack: Vec<PathBuf>,
    errors: Vec<ParseError>,
}

/// Where we are while walking nodes.
#[derive(Clone)]
struct Scope {
    /// Index in `profiles` of the profile we are inside.
    profile: Option<usize>,
    quals: Qualifiers,
    /// Inside a `profile` (vs the preamble).
    depth: usize,
}

impl Loader {
    /// A loader with base dir `base`.
    pub fn new(base: impl Into<PathBuf>, mode: IncludeMode) -> Loader {
        Loader {
            base: base.into(),
            extra: Vec::new(),
            mode,
            cwd: None,
            cache: HashMap::new(),
            include_cache: HashMap::new(),
        }
    }

    /// Add an include dir searched before the base dir.
    pub fn include_dir(mut self, dir: impl Into<PathBuf>) -> Loader {
        self.extra.push(dir.into());
        self
    }

    fn parse_cached(&mut self, path: &Path) -> Result<Arc<ProfileFile>, ParseError> {
        if let Some(r) = self.cache.get(path) {
            return r.clone();
        }
        let name = path.display().to_string();
        let r = match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => ProfileFile::parse(&name, &text).map(Arc::new),
                Err(_) => Err(ParseError {
                    file: name,
                    pos: Pos { line: 1, col: 1 },
                    message: "file is not valid UTF-8".into(),
                }),
            },
            Err(e) => Err(ParseError {
                file: name,
                pos: Pos { line: 1, col: 1 },
                message: format!("cannot read: {e}"),
            }),
        };
        self.cache.insert(path.to_path_buf(), r.clone());
        r
    }

    /// Load a file and everything it includes.
    pub fn load_file(&mut self, path: &Path) -> Result<LoadedPolicy, ParseError> {
        let file = self.parse_cached(path)?;
        self.load_tree(file, path)
    }

    /// Load text as if it were the file `name`.
    pub fn load_str(&mut self, name: &str, text: &str) -> Result<LoadedPolicy, ParseError> {
        let file = Arc::new(ProfileFile::parse(name, text)?);
        self.load_tree(file, Path::new(name))
    }

    fn load_tree(
        &mut self,
        file: Arc<ProfileFile>,
        path: &Path,
    ) -> Result<LoadedPolicy, ParseError> {
        let lenient = self.mode == IncludeMode::Lenient;
        let mut st = State {
            loader: self,
            vars: BTreeMap::new(),
            var_pos: HashMap::new(),
            bools: BTreeMap::new(),
            profiles: Vec::new(),
            warnings: Vec::new(),
            files_read: vec![path.to_path_buf()],
            seen_files: HashSet::new(),
            stack: vec![path.to_path_buf()],
            errors: Vec::new(),
        };
        let scope = Scope {
            profile: None,
            quals: Qualifiers::default(),
            depth: 0,
        };
        st.walk(&file.nodes, &file.name, path, &scope, &mut Vec::new());
        if let Some(e) = st.errors.first() {
            return Err(e.clone());
        }
        if lenient {
            for (k, v) in DEFAULT_TUNABLES {
                st.vars
                    .entry((*k).to_string())
                    .or_insert_with(|| v.iter().map(|s| s.to_string()).collect());
            }
        }
        check::check_policy(&st.profiles, &st.vars, &st.bools)?;
        Ok(LoadedPolicy {
            file,
            profiles: st.profiles,
            variables: st.vars,
            booleans: st.bools,
            warnings: st.warnings,
            files_read: st.files_read,
        })
    }

    /// Resolve an include to the files it names (a directory gives its files, sorted).
    pub fn resolve_include(&self, inc: &rule::Include, from: &Path) -> Option<Vec<PathBuf>> {
        let mut candidates = Vec::new();
        let p = Path::new(&inc.path);
        if p.is_absolute() {
            candidates.push(p.to_path_buf());
        } else if inc.angle {
            for d in self.extra.iter().chain(std::iter::once(&self.base)) {
                candidates.push(d.join(p));
            }
        } else {
            match &self.cwd {
                Some(c) => candidates.push(c.join(p)),
                None => candidates.push(p.to_path_buf()),
            }
            if let Some(parent) = from.parent() {
                candidates.push(parent.join(p));
            }
        }
        for c in candidates {
            if c.is_dir() {
                let mut files: Vec<PathBuf> = std::fs::read_dir(&c)
                    .ok()?
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|f| {
                        let n = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
                        f.is_file()
                            && !n.starts_with('.')
                            && !IGNORED_SUFFIXES.iter().any(|s| n.ends_with(s))
                    })
                    .collect();
                files.sort();
                return Some(files);
            }
            if c.is_file() {
                return Some(vec![c]);
            }
        }
        None
    }
}

impl State<'_> {
    fn err(&mut self, e: ParseError) {
        self.errors.push(e);
    }

    fn walk(
        &mut self,
        nodes: &[super::cst::Node],
        fname: &str,
        fpath: &Path,
        scope: &Scope,
        names: &mut Vec<String>,
    ) {
        let mut prev_if: Option<bool> = None; // Some(taken) after an if/else-if chain
        for n in nodes {
            if !self.errors.is_empty() {
                return;
            }
            match &n.kind {
                NodeKind::Invalid(text) => {
                    self.err(ParseError {
                        file: fname.to_string(),
                        pos: n.pos,
                        message: format!("syntax error at '{}'", text.trim()),
                    });
                    return;
                }
                NodeKind::Statement(text) => {
                    prev_if = None;
                    let ctx = Ctx {
                        file: fname,
                        start: n.pos,
                        text,
                    };
                    match rule::parse_statement(&ctx) {
                        Ok(s) => self.statement(s, &ctx, fpath, scope, names),
                        Err(e) => self.err(e),
                    }
                }
                NodeKind::Block(b) => {
                    let ctx = Ctx {
                        file: fname,
                        start: n.pos,
                        text: &b.header,
                    };
                    let h = match parse_block_header(&ctx) {
                        Ok(h) => h,
                        Err(e) => {
                            self.err(e);
                            return;
                        }
                    };
                    match h {
                        BlockHeader::Profile(h) => {
                            prev_if = None;
                            if let Err(e) = check::check_profile_header(&h, &ctx, scope.depth) {
                                self.err(e);
                                return;
                            }
                            let mut path = names.clone();
                            path.push(if h.hat {
                                format!("^{}", h.name)
                            } else {
                                h.name.clone()
                            });
                            if self.profiles.iter().any(|p| p.path == path) {
                                self.err(ctx_err(
                                    &ctx,
                                    &format!("profile '{}' is defined twice", path.join("//")),
                                ));
                                return;
                            }
                            self.profiles.push(EffectiveProfile {
                                path: path.clone(),
                                header: h,
                                rules: Vec::new(),
                                file: fname.to_string(),
                                pos: n.pos,
                            });
                            let inner = Scope {
                                profile: Some(self.profiles.len() - 1),
                                quals: Qualifiers::default(),
                                depth: scope.depth + 1,
                            };
                            self.walk(&b.children, fname, fpath, &inner, &mut path);
                        }
                        BlockHeader::If(c) => {
                            let v = self.eval(&c, &ctx);
                            self.walk_branch(
                                &b.children,
                                fname,
                                fpath,
                                scope,
                                names,
                                v != Some(false),
                            );
                            prev_if = Some(v == Some(true));
                        }
                        BlockHeader::ElseIf(c) => {
                            let Some(taken) = prev_if else {
                                self.err(ctx_err(&ctx, "'else' without 'if'"));
                                return;
                            };
                            let v = self.eval(&c, &ctx);
                            self.walk_branch(
                                &b.children,
                                fname,
                                fpath,
                                scope,
                                names,
                                !taken && v != Some(false),
                            );
                            prev_if = Some(taken || v == Some(true));
                        }
                        BlockHeader::Else => {
                            let Some(taken) = prev_if else {
                                self.err(ctx_err(&ctx, "'else' without 'if'"));
                                return;
                            };
                            self.walk_branch(&b.children, fname, fpath, scope, names, !taken);
                            prev_if = None;
                        }
                        BlockHeader::Qualified(q) => {
                            prev_if = None;
                            if scope.profile.is_none() {
                                self.err(ctx_err(&ctx, "rule block outside a profile"));
                                return;
                            }
                            let mut inner = scope.clone();
                            inner.quals = merge_quals(&scope.quals, &q);
                            self.walk(&b.children, fname, fpath, &inner, names);
                        }
                    }
                }
            }
        }
    }

    fn walk_branch(
        &mut self,
        nodes: &[super::cst::Node],
        fname: &str,
        fpath: &Path,
        scope: &Scope,
        names: &mut Vec<String>,
        take: bool,
    ) {
        if take {
            self.walk(nodes, fname, fpath, scope, names);
        }
    }

    /// Evaluate an `if` condition; `None` when it cannot be decided.
    fn eval(&mut self, cond: &str, ctx: &Ctx<'_>) -> Option<bool> {
        match check::eval_condition(cond, &self.vars, &self.bools) {
            Ok(v) => v,
            Err(m) => {
                self.err(ctx_err(ctx, &m));
                None
            }
        }
    }

    fn statement(
        &mut self,
        s: Statement,
        ctx: &Ctx<'_>,
        fpath: &Path,
        scope: &Scope,
        names: &mut Vec<String>,
    ) {
        match s {
            Statement::Include(inc) => {
                if self.stack.len() > 64 {
                    self.err(ctx_err(
                        ctx,
                        "includes nested too deeply (recursive include?)",
                    ));
                    return;
                }
                let resolved = if inc.angle {
                    match self.loader.include_cache.get(&inc.path) {
                        Some(r) => r.clone(),
                        None => {
                            let r = self.loader.resolve_include(&inc, fpath);
                            self.loader
                                .include_cache
                                .insert(inc.path.clone(), r.clone());
                            r
                        }
                    }
                } else {
                    self.loader.resolve_include(&inc, fpath)
                };
                match resolved {
                    Some(files) => {
                        for f in files {
                            if self.stack.contains(&f) {
                                // upstream tolerates a file including itself; the cycle is cut
                                continue;
                            }
                            let tree = match self.loader.parse_cached(&f) {
                                Ok(t) => t,
                                Err(e) => {
                                    self.err(e);
                                    return;
                                }
                            };
                            if self.seen_files.insert(f.clone()) {
                                self.files_read.push(f.clone());
                            }
                            self.stack.push(f.clone());
                            let name = tree.name.clone();
                            self.walk(&tree.nodes, &name, &f, scope, names);
                            self.stack.pop();
                        }
                    }
                    None if inc.if_exists => {}
                    None => {
                        let msg = format!("could not find include file '{}'", inc.path);
                        if self.loader.mode == IncludeMode::Strict {
                            self.err(ctx_err(ctx, &msg));
                        } else {
                            self.warnings.push(Warning {
                                file: ctx.file.to_string(),
                                pos: ctx.start,
                                message: msg,
                            });
                        }
                    }
                }
            }
            Statement::Abi(_) => {}
            Statement::Alias { .. } => {
                if scope.profile.is_some() {
                    self.err(ctx_err(
                        ctx,
                        "alias must be declared in the preamble, not inside a profile",
                    ));
                }
            }
            Statement::Var(v) => {
                if scope.profile.is_some() {
                    self.err(ctx_err(
                        ctx,
                        "variables must be declared in the preamble, not inside a profile",
                    ));
                    return;
                }
                let exists = self.vars.contains_key(&v.name);
                match v.op {
                    AssignOp::Append => match self.vars.get_mut(&v.name) {
                        Some(vals) => vals.extend(v.values),
                        None => self.err(ctx_err(
                            ctx,
                            &format!(
                                "variable @{{{}}} was not previously declared, cannot append",
                                v.name
                            ),
                        )),
                    },
                    AssignOp::Set if exists && self.loader.mode == IncludeMode::Strict => {
                        self.err(ctx_err(
                            ctx,
                            &format!("variable @{{{}}} was previously declared", v.name),
                        ))
                    }
                    AssignOp::Set if exists => {
                        self.warnings.push(Warning {
                            file: ctx.file.to_string(),
                            pos: ctx.start,
                            message: format!(
                                "variable @{{{}}} was previously declared; the new value replaces it",
                                v.name
                            ),
                        });
                        self.vars.insert(v.name, v.values);
                    }
                    AssignOp::SetIfUnset if exists => {}
                    _ => {
                        self.var_pos
                            .insert(v.name.clone(), (ctx.file.to_string(), ctx.start));
                        self.vars.insert(v.name, v.values);
                    }
                }
            }
            Statement::Bool { name, op, value } => {
                if scope.profile.is_some() {
                    self.err(ctx_err(
                        ctx,
                        "boolean variables must be declared in the preamble",
                    ));
                    return;
                }
                let exists = self.bools.contains_key(&name);
                match op {
                    AssignOp::Set if exists => self.err(ctx_err(
                        ctx,
                        &format!("boolean variable ${name} was previously declared"),
                    )),
                    AssignOp::SetIfUnset if exists => {}
                    _ => {
                        self.bools.insert(name, value);
                    }
                }
            }
            Statement::Rule(mut r) => {
                let Some(pi) = scope.profile else {
                    self.err(ctx_err(ctx, "rule outside a profile"));
                    return;
                };
                r.qualifiers = merge_quals(&scope.quals, &r.qualifiers);
                if let Err(e) = check::check_rule(&r, ctx, self.loader.mode == IncludeMode::Strict)
                {
                    self.err(e);
                    return;
                }
                if let RuleKind::Unknown { keyword } = &r.kind {
                    self.warnings.push(Warning {
                        file: ctx.file.to_string(),
                        pos: ctx.start,
                        message: format!("unknown rule kind '{keyword}' kept as written"),
                    });
                }
                let _ = names;
                if let Some(p) = self.profiles.get_mut(pi) {
                    p.rules.push(EffectiveRule {
                        rule: r,
                        text: ctx.text.to_string(),
                        file: ctx.file.to_string(),
                        pos: ctx.start,
                    });
                }
            }
        }
    }
}

fn ctx_err(ctx: &Ctx<'_>, msg: &str) -> ParseError {
    ParseError {
        file: ctx.file.to_string(),
        pos: ctx.start,
        message: msg.to_string(),
    }
}

fn merge_quals(outer: &Qualifiers, inner: &Qualifiers) -> Qualifiers {
    Qualifiers {
        audit: outer.audit || inner.audit,
        deny: outer.deny || inner.deny,
        allow: outer.allow || inner.allow,
        owner: outer.owner || inner.owner,
        other: outer.other || inner.other,
        priority: inner.priority.or(outer.priority),
    }
}

/// Expand `@{var}` references in `s` (nested, with alternations) into every string they
/// stand for. Fails on an undefined variable.
pub fn expand_vars(s: &str, vars: &BTreeMap<String, Vec<String>>) -> Result<Vec<String>, String> {
    expand_with(s, vars, &[])
}

/// [`expand_vars`] with extra per-profile variables (`@{profile_name}`, `@{exec_path}` …).
pub fn expand_with(
    s: &str,
    vars: &BTreeMap<String, Vec<String>>,
    local: &[(String, Vec<String>)],
) -> Result<Vec<String>, String> {
    let lookup = |n: &str| {
        vars.get(n)
            .or_else(|| local.iter().find(|(k, _)| k == n).map(|(_, v)| v))
    };
    let mut seen = HashSet::new();
    expand_inner(s, &lookup, &mut seen, 0, true)
}

/// Check that every variable `s` refers to (directly or through other variables) is
/// defined, without building the expansion.
pub fn check_refs(
    s: &str,
    vars: &BTreeMap<String, Vec<String>>,
    local: &[(String, Vec<String>)],
) -> Result<(), String> {
    let lookup = |n: &str| {
        vars.get(n)
            .or_else(|| local.iter().find(|(k, _)| k == n).map(|(_, v)| v))
    };
    let mut seen = HashSet::new();
    expand_inner(s, &lookup, &mut seen, 0, false).map(|_| ())
}

fn expand_inner<'v>(
    s: &str,
    vars: &dyn Fn(&str) -> Option<&'v Vec<String>>,
    seen: &mut HashSet<String>,
    depth: usize,
    build: bool,
) -> Result<Vec<String>, String> {
    if depth > 64 {
        return Err("variable expansion nested too deeply".into());
    }
    let Some(start) = s.find("@{") else {
        return Ok(vec![s.to_string()]);
    };
    let Some(len) = s[start..].find('}') else {
        return Err(format!("unterminated variable reference in '{s}'"));
    };
    let name = &s[start + 2..start + len];
    let rest = &s[start + len + 1..];
    let vals = vars(name)
        .ok_or_else(|| format!("Found reference to variable {name}, but is never declared"))?;
    if !seen.insert(name.to_string()) {
        return Err(format!("variable @{{{name}}} refers to itself"));
    }
    let mut expanded_vals = Vec::new();
    for v in vals {
        let e = expand_inner(v, vars, seen, depth + 1, build)?;
        if build {
            expanded_vals.extend(e);
        }
    }
    seen.remove(name);
    let tails = expand_inner(rest, vars, seen, depth, build)?;
    if !build {
        return Ok(Vec::new());
    }
    let head = &s[..start];
    let mut out = Vec::with_capacity(expanded_vals.len() * tails.len());
    for v in &expanded_vals {
        for t in &tails {
            out.push(format!("{head}{v}{t}"));
        }
    }
    if out.len() > 1 << 16 {
        return Err(format!("expansion of '{s}' is too large"));
    }
    Ok(out)
}

impl EffectiveProfile {
    /// The variables the parser defines per profile: `@{profile_name}` always,
    /// `@{attach_path}` and `@{exec_path}` when the profile (not a hat) has an attachment.
    pub fn auto_vars(&self) -> Vec<(String, Vec<String>)> {
        let mut v = vec![("profile_name".to_string(), vec![self.header.name.clone()])];
        let attach = self.header.attachment.clone().or_else(|| {
            (!self.header.hat && self.header.name.starts_with('/'))
                .then(|| self.header.name.clone())
        });
        if let Some(a) = attach {
            v.push(("attach_path".to_string(), vec![a.clone()]));
            v.push(("exec_path".to_string(), vec![a]));
        }
        v
    }

    /// The file rules, with path patterns and exec targets expanded.
    pub fn file_rules(&self, vars: &BTreeMap<String, Vec<String>>) -> Vec<FileRuleInfo> {
        let mut out = Vec::new();
        for r in &self.rules {
            let RuleKind::File(f) = &r.rule.kind else {
                continue;
            };
            let local = self.auto_vars();
            let patterns = match &f.path {
                Some(p) => expand_with(p, vars, &local).unwrap_or_else(|_| vec![p.clone()]),
                None => vec!["/{**,}".to_string()],
            };
            let exec_target = f.target.as_ref().map(|t| {
                expand_with(t, vars, &local)
                    .ok()
                    .and_then(|v| v.into_iter().next())
                    .unwrap_or_else(|| t.clone())
            });
            out.push(FileRuleInfo {
                patterns,
                perms: f.perms.clone(),
                audit: r.rule.qualifiers.audit,
                deny: r.rule.qualifiers.deny,
                owner: r.rule.qualifiers.owner,
                exec: f.perms.exec,
                exec_target,
                source: format!("{}:{}", r.file, r.pos.line),
                text: r.text.clone(),
            });
        }
        out
    }

    /// Every rule that is not a file rule, typed.
    pub fn other_rules(&self) -> Vec<OtherRuleInfo> {
        self.rules
            .iter()
            .filter(|r| !matches!(r.rule.kind, RuleKind::File(_)))
            .map(|r| OtherRuleInfo {
                qualifiers: r.rule.qualifiers.clone(),
                kind: r.rule.kind.clone(),
                source: format!("{}:{}", r.file, r.pos.line),
                text: r.text.clone(),
            })
            .collect()
    }
}

impl LoadedPolicy {
    /// The profile or hat with this name path.
    pub fn profile(&self, path: &[&str]) -> Option<&EffectiveProfile> {
        self.profiles
            .iter()
            .find(|p| p.path.len() == path.len() && p.path.iter().zip(path).all(|(a, b)| a == b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_nested_and_alternations() {
        let mut v = BTreeMap::new();
        v.insert("A".to_string(), vec!["/x".to_string(), "/y".to_string()]);
        v.insert("B".to_string(), vec!["@{A}/z".to_string()]);
        let e = expand_vars("@{B}/{a,b}", &v).expect("expands");
        assert_eq!(e, vec!["/x/z/{a,b}", "/y/z/{a,b}"]);
        assert!(expand_vars("@{C}", &v).is_err());
    }

    #[test]
    fn lenient_load_without_tunables() {
        let mut l = Loader::new("/nonexistent-dir", IncludeMode::Lenient);
        let p = l
            .load_str("t", "include <tunables/global>\n/usr/bin/foo {\n  owner @{HOME}/.foo rw,\n  capability chown,\n}\n")
            .expect("loads");
        assert_eq!(p.warnings.len(), 1);
        let prof = p.profile(&["/usr/bin/foo"]).expect("profile");
        let fr = prof.file_rules(&p.variables);
        assert_eq!(fr[0].patterns, vec!["/home/*//.foo", "/root//.foo"]);
        assert!(fr[0].owner);
        assert_eq!(prof.other_rules().len(), 1);
        let mut s = Loader::new("/nonexistent-dir", IncludeMode::Strict);
        assert!(s.load_str("t", "include <tunables/global>\n").is_err());
    }
}
