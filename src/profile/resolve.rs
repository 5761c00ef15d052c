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
use super::cst::{Node, NodeKind, ProfileFile};
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
            crate::display::Untrusted(&self.file),
            self.pos.line,
            self.pos.col,
            crate::display::Untrusted(&self.message)
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
    /// Effective rules in order. Rules are shared: a rule of an included file is one
    /// allocation, however many profiles and loads include it.
    pub rules: Vec<Arc<EffectiveRule>>,
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
    cache: HashMap<PathBuf, Result<Arc<Prepared>, ParseError>>,
    /// Resolved `<…>` includes (they do not depend on the including file).
    include_cache: HashMap<String, Option<Vec<PathBuf>>>,
    /// What walking an included file did, to replay when it is included again (see [`Walked`]).
    walked: HashMap<WalkKey, Vec<Arc<Walked>>>,
    /// Next id for a variable state (0 is the empty state every load starts from).
    next_state_id: u64,
    /// `base`, `extra`, `cwd` and `mode` when the caches were filled: they are public, and a
    /// caller that changes them gets fresh caches.
    cache_config: Option<(PathBuf, Vec<PathBuf>, Option<PathBuf>, IncludeMode)>,
}

/// Which include walks a [`Walked`] record can stand for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct WalkKey {
    file: PathBuf,
    /// `Some(state id)` for an include in the preamble, which reads and writes variables:
    /// the record is only valid for exactly that state. `None` inside a profile, where
    /// variables cannot change and are only read by `if` conditions (kept in `conditions`).
    state: Option<u64>,
    /// Nesting of the including scope (profiles, hats).
    depth: usize,
}

/// The effects of walking one included file (with everything it includes) that completed
/// without an error, without cutting an include cycle and without defining profiles: the
/// rules it added to the enclosing profile, its warnings, the files it read and the variable
/// state it left. Replaying them gives what walking the file again would, provided the `if`
/// conditions it evaluated still evaluate the same, none of its files is on the include
/// stack (a cycle would be cut), and the stack leaves room for its nesting.
#[derive(Debug)]
struct Walked {
    quals: Qualifiers,
    conditions: Vec<(String, Option<bool>)>,
    rules: Vec<Arc<EffectiveRule>>,
    warnings: Vec<Warning>,
    /// Every file walked, in order, the included file first.
    files: Vec<Arc<Path>>,
    /// How much deeper than the including file the include stack went.
    height: usize,
    /// Variable state afterwards (preamble includes only), with its id.
    state_out: Option<(u64, Arc<VarState>)>,
}

/// Set and boolean variables.
type VarState = (BTreeMap<String, Vec<String>>, BTreeMap<String, bool>);

/// A file's tree with its statements and block headers parsed once: every profile includes
/// the same tunables and abstractions, and a walk that meets such a file again reuses them.
#[derive(Debug)]
struct Prepared {
    tree: Arc<ProfileFile>,
    /// Parallel to `tree.nodes`.
    nodes: Vec<PNode>,
}

/// The parse of one node, beside the node (same index, same nesting).
#[derive(Debug)]
enum PNode {
    Statement(Result<Statement, ParseError>),
    Block(Result<BlockHeader, ParseError>, Vec<PNode>),
    Invalid,
}

impl Prepared {
    fn new(tree: Arc<ProfileFile>) -> Prepared {
        let nodes = prepare(&tree.name, &tree.nodes);
        Prepared { tree, nodes }
    }
}

/// Parse every statement and block header of `nodes`. Parsing depends only on the text, the
/// file name and the position, so the result can be reused by every walk of the file.
fn prepare(fname: &str, nodes: &[Node]) -> Vec<PNode> {
    nodes
        .iter()
        .map(|n| match &n.kind {
            NodeKind::Invalid(_) => PNode::Invalid,
            NodeKind::Statement(text) => PNode::Statement(rule::parse_statement(&Ctx {
                file: fname,
                start: n.pos,
                text,
            })),
            NodeKind::Block(b) => PNode::Block(
                parse_block_header(&Ctx {
                    file: fname,
                    start: n.pos,
                    text: &b.header,
                }),
                prepare(fname, &b.children),
            ),
        })
        .collect()
}

struct State<'l> {
    loader: &'l mut Loader,
    vars: BTreeMap<String, Vec<String>>,
    bools: BTreeMap<String, bool>,
    /// An id naming the content of `vars` and `bools` (equal ids, equal content), or `None`
    /// after a change no record names.
    state_id: Option<u64>,
    profiles: Vec<EffectiveProfile>,
    warnings: Vec<Warning>,
    files_read: Vec<PathBuf>,
    seen_files: HashSet<Arc<Path>, FastHash>,
    stack: Vec<PathBuf>,
    errors: Vec<ParseError>,
    /// For recording [`Walked`]: every file walked, every condition evaluated, how many
    /// include cycles were cut, and the deepest include stack seen at an include.
    log_files: Vec<Arc<Path>>,
    log_conditions: Vec<(String, Option<bool>)>,
    cuts: usize,
    deepest: usize,
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
            walked: HashMap::new(),
            next_state_id: 1,
            cache_config: None,
        }
    }

    /// Add an include dir searched before the base dir.
    pub fn include_dir(mut self, dir: impl Into<PathBuf>) -> Loader {
        self.extra.push(dir.into());
        self
    }

    fn parse_cached(&mut self, path: &Path) -> Result<Arc<Prepared>, ParseError> {
        if let Some(r) = self.cache.get(path) {
            return r.clone();
        }
        let name = path.display().to_string();
        let r = match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => {
                    ProfileFile::parse(&name, &text).map(|t| Arc::new(Prepared::new(Arc::new(t))))
                }
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
        self.load_tree(&file, path)
    }

    /// Load text as if it were the file `name`.
    pub fn load_str(&mut self, name: &str, text: &str) -> Result<LoadedPolicy, ParseError> {
        let file = Prepared::new(Arc::new(ProfileFile::parse(name, text)?));
        self.load_tree(&file, Path::new(name))
    }

    fn load_tree(&mut self, file: &Prepared, path: &Path) -> Result<LoadedPolicy, ParseError> {
        let lenient = self.mode == IncludeMode::Lenient;
        let config = (
            self.base.clone(),
            self.extra.clone(),
            self.cwd.clone(),
            self.mode,
        );
        if self.cache_config.as_ref() != Some(&config) {
            self.include_cache.clear();
            self.walked.clear();
            self.cache_config = Some(config);
        }
        let mut st = State {
            loader: self,
            vars: BTreeMap::new(),
            bools: BTreeMap::new(),
            state_id: Some(0),
            profiles: Vec::new(),
            warnings: Vec::new(),
            files_read: vec![path.to_path_buf()],
            seen_files: HashSet::default(),
            stack: vec![path.to_path_buf()],
            errors: Vec::new(),
            log_files: Vec::new(),
            log_conditions: Vec::new(),
            cuts: 0,
            deepest: 0,
        };
        let scope = Scope {
            profile: None,
            quals: Qualifiers::default(),
            depth: 0,
        };
        st.walk(
            &file.tree.nodes,
            &file.nodes,
            &file.tree.name,
            path,
            &scope,
            &mut Vec::new(),
        );
        if let Some(e) = st.errors.first() {
            return Err(e.clone());
        }
        if lenient {
            for (k, v) in DEFAULT_TUNABLES {
                if !st.vars.contains_key(*k) {
                    st.vars
                        .insert((*k).to_string(), v.iter().map(|s| s.to_string()).collect());
                }
            }
        }
        check::check_policy(&st.profiles, &st.vars, &st.bools)?;
        Ok(LoadedPolicy {
            file: file.tree.clone(),
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

/// Deepest include stack before an include is an error (a recursive include).
const MAX_INCLUDE_STACK: usize = 64;

/// Most [`Walked`] records kept for one include.
const MAX_RECORDS_PER_INCLUDE: usize = 8;

/// Where the logs stood when an include walk started (see [`State::record`]).
struct Mark {
    files: usize,
    conditions: usize,
    cuts: usize,
    profiles: usize,
    rules: usize,
    warnings: usize,
    state_id: Option<u64>,
    stack: usize,
    deepest: usize,
}

impl State<'_> {
    fn err(&mut self, e: ParseError) {
        self.errors.push(e);
    }

    /// Walk the included file `f`; false after an error.
    fn include_file(&mut self, f: &Path, scope: &Scope, names: &mut Vec<String>) -> bool {
        let tree = match self.loader.parse_cached(f) {
            Ok(t) => t,
            Err(e) => {
                self.err(e);
                return false;
            }
        };
        let shared: Arc<Path> = Arc::from(f);
        if self.seen_files.insert(shared.clone()) {
            self.files_read.push(f.to_path_buf());
        }
        self.log_files.push(shared);
        self.stack.push(f.to_path_buf());
        self.walk(
            &tree.tree.nodes,
            &tree.nodes,
            &tree.tree.name,
            f,
            scope,
            names,
        );
        self.stack.pop();
        true
    }

    fn mark(&mut self, scope: &Scope) -> Mark {
        let stack = self.stack.len();
        Mark {
            files: self.log_files.len(),
            conditions: self.log_conditions.len(),
            cuts: self.cuts,
            profiles: self.profiles.len(),
            rules: scope
                .profile
                .and_then(|pi| self.profiles.get(pi))
                .map_or(0, |p| p.rules.len()),
            warnings: self.warnings.len(),
            state_id: self.state_id,
            stack,
            deepest: std::mem::replace(&mut self.deepest, stack),
        }
    }

    /// Keep what the include walk since `mark` did, if it can be replayed.
    fn record(&mut self, key: WalkKey, scope: &Scope, mark: Mark) {
        let height = self.deepest.saturating_sub(mark.stack);
        self.deepest = self.deepest.max(mark.deepest);
        if !self.errors.is_empty() || self.cuts != mark.cuts || self.profiles.len() != mark.profiles
        {
            return;
        }
        let rules = match scope.profile.and_then(|pi| self.profiles.get(pi)) {
            Some(p) => p.rules[mark.rules..].to_vec(),
            None => Vec::new(),
        };
        let state_out = if key.state.is_some() && self.state_id != mark.state_id {
            let id = match self.state_id {
                Some(id) => id,
                None => {
                    let id = self.loader.next_state_id;
                    self.loader.next_state_id += 1;
                    self.state_id = Some(id);
                    id
                }
            };
            Some((id, Arc::new((self.vars.clone(), self.bools.clone()))))
        } else {
            None
        };
        // A preamble record is keyed by the exact state it started from, so it needs no
        // conditions; inside a profile variables cannot change, so every condition of the
        // walk was evaluated against the same state, the one a replay checks them against.
        let conditions = if key.state.is_some() {
            Vec::new()
        } else {
            self.log_conditions[mark.conditions..].to_vec()
        };
        let walked = Walked {
            quals: scope.quals.clone(),
            conditions,
            rules,
            warnings: self.warnings[mark.warnings..].to_vec(),
            files: self.log_files[mark.files..].to_vec(),
            height,
            state_out,
        };
        let records = self.loader.walked.entry(key).or_default();
        // a few variants per include (conditions that came out differently); beyond that
        // the include is simply walked
        if records.len() < MAX_RECORDS_PER_INCLUDE {
            records.push(Arc::new(walked));
        }
    }

    /// Replay a recorded walk of the include `key` names, if one is valid here.
    fn replay(&mut self, key: &WalkKey, scope: &Scope) -> bool {
        let Some(records) = self.loader.walked.get(key) else {
            return false;
        };
        let stack = self.stack.len();
        let found = records.iter().find(|w| {
            w.quals == scope.quals
                && stack + w.height <= MAX_INCLUDE_STACK
                && !w
                    .files
                    .iter()
                    .any(|f| self.stack.iter().any(|s| s.as_path() == &**f))
                && w.conditions.iter().all(|(c, v)| {
                    check::eval_condition(c, &self.vars, &self.bools).ok() == Some(*v)
                })
        });
        let Some(w) = found.cloned() else {
            return false;
        };
        for f in &w.files {
            if !self.seen_files.contains(f) {
                self.seen_files.insert(f.clone());
                self.files_read.push(f.to_path_buf());
            }
        }
        self.log_files.extend(w.files.iter().cloned());
        self.log_conditions.extend(w.conditions.iter().cloned());
        self.deepest = self.deepest.max(stack + w.height);
        if let Some(p) = scope.profile.and_then(|pi| self.profiles.get_mut(pi)) {
            p.rules.extend(w.rules.iter().cloned());
        }
        self.warnings.extend(w.warnings.iter().cloned());
        if let Some((id, state)) = &w.state_out {
            self.vars = state.0.clone();
            self.bools = state.1.clone();
            self.state_id = Some(*id);
        }
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        nodes: &[Node],
        parsed: &[PNode],
        fname: &str,
        fpath: &Path,
        scope: &Scope,
        names: &mut Vec<String>,
    ) {
        let mut prev_if: Option<bool> = None; // Some(taken) after an if/else-if chain
        for (n, pn) in nodes.iter().zip(parsed) {
            if !self.errors.is_empty() {
                return;
            }
            match (&n.kind, pn) {
                (NodeKind::Invalid(text), _) => {
                    self.err(ParseError {
                        file: fname.to_string(),
                        pos: n.pos,
                        message: format!("syntax error at '{}'", text.trim()),
                    });
                    return;
                }
                (NodeKind::Statement(text), PNode::Statement(parsed)) => {
                    prev_if = None;
                    let ctx = Ctx {
                        file: fname,
                        start: n.pos,
                        text,
                    };
                    match parsed {
                        Ok(s) => self.statement(s.clone(), &ctx, fpath, scope, names),
                        Err(e) => self.err(e.clone()),
                    }
                }
                (NodeKind::Block(b), PNode::Block(header, children)) => {
                    let ctx = Ctx {
                        file: fname,
                        start: n.pos,
                        text: &b.header,
                    };
                    let h = match header {
                        Ok(h) => h,
                        Err(e) => {
                            self.err(e.clone());
                            return;
                        }
                    };
                    match h {
                        BlockHeader::Profile(h) => {
                            prev_if = None;
                            if let Err(e) = check::check_profile_header(h, &ctx, scope.depth) {
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
                                header: h.clone(),
                                rules: Vec::new(),
                                file: fname.to_string(),
                                pos: n.pos,
                            });
                            let inner = Scope {
                                profile: Some(self.profiles.len() - 1),
                                quals: Qualifiers::default(),
                                depth: scope.depth + 1,
                            };
                            self.walk(&b.children, children, fname, fpath, &inner, &mut path);
                        }
                        BlockHeader::If(c) => {
                            let v = self.eval(c, &ctx);
                            self.walk_branch(
                                &b.children,
                                children,
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
                            let v = self.eval(c, &ctx);
                            self.walk_branch(
                                &b.children,
                                children,
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
                            self.walk_branch(
                                &b.children,
                                children,
                                fname,
                                fpath,
                                scope,
                                names,
                                !taken,
                            );
                            prev_if = None;
                        }
                        BlockHeader::Qualified(q) => {
                            prev_if = None;
                            if scope.profile.is_none() {
                                self.err(ctx_err(&ctx, "rule block outside a profile"));
                                return;
                            }
                            let mut inner = scope.clone();
                            inner.quals = merge_quals(&scope.quals, q);
                            self.walk(&b.children, children, fname, fpath, &inner, names);
                        }
                    }
                }
                (NodeKind::Statement(_) | NodeKind::Block(_), _) => {
                    // `prepare` builds the parsed nodes from these very nodes
                    debug_assert!(false, "parsed nodes out of step with the tree");
                    self.err(ParseError {
                        file: fname.to_string(),
                        pos: n.pos,
                        message: "internal error: parsed statement does not match the tree".into(),
                    });
                    return;
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn walk_branch(
        &mut self,
        nodes: &[Node],
        parsed: &[PNode],
        fname: &str,
        fpath: &Path,
        scope: &Scope,
        names: &mut Vec<String>,
        take: bool,
    ) {
        if take {
            self.walk(nodes, parsed, fname, fpath, scope, names);
        }
    }

    /// Evaluate an `if` condition; `None` when it cannot be decided.
    fn eval(&mut self, cond: &str, ctx: &Ctx<'_>) -> Option<bool> {
        match check::eval_condition(cond, &self.vars, &self.bools) {
            Ok(v) => {
                self.log_conditions.push((cond.to_string(), v));
                v
            }
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
                self.deepest = self.deepest.max(self.stack.len());
                if self.stack.len() > MAX_INCLUDE_STACK {
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
                                self.cuts += 1;
                                continue;
                            }
                            let key = WalkKey {
                                file: f.clone(),
                                state: match scope.profile {
                                    Some(_) => None,
                                    None => match self.state_id {
                                        Some(id) => Some(id),
                                        None => {
                                            // not a named state: walk, and record nothing
                                            if !self.include_file(&f, scope, names) {
                                                return;
                                            }
                                            continue;
                                        }
                                    },
                                },
                                depth: scope.depth,
                            };
                            if self.replay(&key, scope) {
                                continue;
                            }
                            let mark = self.mark(scope);
                            if !self.include_file(&f, scope, names) {
                                return;
                            }
                            self.record(key, scope, mark);
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
                        Some(vals) => {
                            vals.extend(v.values);
                            self.state_id = None;
                        }
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
                        self.state_id = None;
                    }
                    AssignOp::SetIfUnset if exists => {}
                    _ => {
                        self.vars.insert(v.name, v.values);
                        self.state_id = None;
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
                        self.state_id = None;
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
                    p.rules.push(Arc::new(EffectiveRule {
                        rule: r,
                        text: ctx.text.to_string(),
                        file: ctx.file.to_string(),
                        pos: ctx.start,
                    }));
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

/// A fast hasher for the short, trusted keys of per-call memos (variable names from profile
/// files): the standard SipHash showed up in profiles of the corpus benchmark.
pub(crate) type FastHash = std::hash::BuildHasherDefault<FxHasher>;

/// The multiply-rotate hash rustc uses (`FxHasher`): not resistant to chosen collisions,
/// which is fine for maps keyed by names from the policy being loaded.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// [`check_refs`] for many references against one set of variables, remembering each
/// variable whose references were verified (and how deep they nest), so that variables
/// nested in many others are walked once. Answers (and errors) are those of [`check_refs`]:
/// a variable is remembered only after all its values checked without error, which also
/// proves it is not part of a cycle; a remembered variable referenced so deep that its
/// nesting would pass the limit is walked again, giving the error the walk gives.
pub(crate) struct RefChecker<'v> {
    vars: &'v BTreeMap<String, Vec<String>>,
    local: &'v [(String, Vec<String>)],
    /// Variable name → how deep its values nest below the reference.
    memo: HashMap<&'v str, usize, FastHash>,
}

impl<'v> RefChecker<'v> {
    pub(crate) fn new(
        vars: &'v BTreeMap<String, Vec<String>>,
        local: &'v [(String, Vec<String>)],
    ) -> Self {
        RefChecker {
            vars,
            local,
            memo: HashMap::default(),
        }
    }

    /// Same as `check_refs(s, vars, local)`.
    pub(crate) fn check(&mut self, s: &str) -> Result<(), String> {
        let mut seen = Vec::new();
        self.inner(s, &mut seen, 0).map(|_| ())
    }

    /// Check `s` at nesting `depth`; the deepest nesting reached.
    fn inner(&mut self, s: &str, seen: &mut Vec<&'v str>, depth: usize) -> Result<usize, String> {
        if depth > 64 {
            return Err("variable expansion nested too deeply".into());
        }
        let mut reach = depth;
        let mut rest = s;
        while let Some(start) = rest.find("@{") {
            let Some(len) = rest[start..].find('}') else {
                return Err(format!("unterminated variable reference in '{rest}'"));
            };
            let name = &rest[start + 2..start + len];
            let found = self.vars.get_key_value(name).or_else(|| {
                self.local
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(k, v)| (k, v))
            });
            let Some((key, vals)) = found else {
                return Err(format!(
                    "Found reference to variable {name}, but is never declared"
                ));
            };
            let key = key.as_str();
            if seen.contains(&key) {
                return Err(format!("variable @{{{name}}} refers to itself"));
            }
            match self.memo.get(key) {
                Some(below) if depth + below <= 64 => reach = reach.max(depth + below),
                _ => {
                    seen.push(key);
                    let mut r_max = depth;
                    for v in vals {
                        r_max = r_max.max(self.inner(v, seen, depth + 1)?);
                    }
                    seen.pop();
                    self.memo.insert(key, r_max - depth);
                    reach = reach.max(r_max);
                }
            }
            rest = &rest[start + len + 1..];
        }
        Ok(reach)
    }
}

/// Most strings one expansion may hold.
const MAX_EXPANSION: usize = 1 << 16;
/// Most bytes all the strings of one expansion may hold together: with only the count
/// bounded, a profile line of under 1 KiB (16 references to a variable of two 500-byte
/// values) asked for half a gigabyte. Checked before anything is built.
const MAX_EXPANSION_BYTES: usize = 16 << 20;

fn too_large(s: &str) -> String {
    format!("expansion of '{s}' is too large")
}

/// The strings and bytes of `head` + each of `vals` + each of `tails`, given the number and
/// total length of `vals` and of `tails`; `None` over the limits.
fn product_size(
    head: usize,
    (nv, bv): (usize, usize),
    (nt, bt): (usize, usize),
) -> Option<(usize, usize)> {
    let count = nv.checked_mul(nt)?;
    let bytes = count
        .checked_mul(head)?
        .checked_add(nt.checked_mul(bv)?)?
        .checked_add(nv.checked_mul(bt)?)?;
    (count <= MAX_EXPANSION && bytes <= MAX_EXPANSION_BYTES).then_some((count, bytes))
}

fn bytes_of(v: &[String]) -> usize {
    v.iter().map(String::len).sum()
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
    let mut vals_bytes = 0;
    for v in vals {
        let e = expand_inner(v, vars, seen, depth + 1, build)?;
        if build {
            vals_bytes += bytes_of(&e);
            expanded_vals.extend(e);
            if expanded_vals.len() > MAX_EXPANSION || vals_bytes > MAX_EXPANSION_BYTES {
                return Err(too_large(s));
            }
        }
    }
    seen.remove(name);
    let tails = expand_inner(rest, vars, seen, depth, build)?;
    if !build {
        return Ok(Vec::new());
    }
    let head = &s[..start];
    let Some((count, _)) = product_size(
        head.len(),
        (expanded_vals.len(), vals_bytes),
        (tails.len(), bytes_of(&tails)),
    ) else {
        return Err(too_large(s));
    };
    let mut out = Vec::with_capacity(count);
    for v in &expanded_vals {
        for t in &tails {
            out.push(format!("{head}{v}{t}"));
        }
    }
    Ok(out)
}

/// [`expand_with`] for many strings against one set of variables, expanding each variable's
/// values only once. `file_rules` expands every path of a profile, and apparmor.d's
/// variables nest (`@{bin}`, `@{lib}`, `@{user_share_dirs}` … refer to other variables), so
/// without the memo the same values are expanded again for every rule.
///
/// Results (values and errors) are those of [`expand_with`]: a variable is memoized only
/// after its values expanded without error, which also proves its references have no cycle
/// (so its values cannot depend on what is being expanded around it); the memo keeps how deep
/// the expansion went, so the nesting limit is enforced as if it had been expanded again.
struct Expander<'v> {
    vars: &'v BTreeMap<String, Vec<String>>,
    local: &'v [(String, Vec<String>)],
    /// Variable name → its expanded values and the nesting depth they need below the
    /// reference.
    memo: HashMap<&'v str, (Vec<String>, usize), FastHash>,
    /// Reusable buffers for the references of one string, per nesting level.
    scratch: Vec<Vec<Ref<'v>>>,
}

impl<'v> Expander<'v> {
    fn new(vars: &'v BTreeMap<String, Vec<String>>, local: &'v [(String, Vec<String>)]) -> Self {
        Expander {
            vars,
            local,
            memo: HashMap::default(),
            scratch: Vec::new(),
        }
    }

    fn lookup(&self, n: &str) -> Option<(&'v str, &'v Vec<String>)> {
        self.vars
            .get_key_value(n)
            .map(|(k, v)| (k.as_str(), v))
            .or_else(|| {
                self.local
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(k, v)| (k.as_str(), v))
            })
    }

    fn expand(&mut self, s: &str) -> Result<Vec<String>, String> {
        let mut seen = Vec::new();
        self.inner(s, &mut seen, 0).map(|(v, _)| v)
    }

    /// The expansion of `s` at nesting `depth`, and the deepest nesting it reached.
    ///
    /// `expand_inner` splits off the first reference and recurses on the rest; this walks the
    /// references of `s` left to right instead, in the same order (for each: the lookup, the
    /// self-reference check, the expansion of its values), then applies the size limit to
    /// every suffix from the right, as the recursion does on its way back, and builds each
    /// result string once, without the intermediate products.
    fn inner(
        &mut self,
        s: &str,
        seen: &mut Vec<&'v str>,
        depth: usize,
    ) -> Result<(Vec<String>, usize), String> {
        if depth > 64 {
            return Err("variable expansion nested too deeply".into());
        }
        if !s.contains("@{") {
            return Ok((vec![s.to_string()], depth));
        }
        // one buffer per nesting level, reused: (variable, literal before it, start of its
        // suffix of `s`)
        if self.scratch.len() <= depth {
            self.scratch.resize_with(depth + 1, Vec::new);
        }
        let mut refs = std::mem::take(&mut self.scratch[depth]);
        refs.clear();
        let r = self.collect(s, seen, depth, &mut refs);
        let out = r.and_then(|reach| self.product(s, &refs).map(|out| (out, reach)));
        self.scratch[depth] = refs;
        out
    }

    /// Check and expand (into the memo) every variable `s` refers to, left to right, noting
    /// each reference in `refs`; the deepest nesting reached.
    fn collect(
        &mut self,
        s: &str,
        seen: &mut Vec<&'v str>,
        depth: usize,
        refs: &mut Vec<Ref<'v>>,
    ) -> Result<usize, String> {
        let mut reach = depth;
        let mut pos = 0;
        while let Some(start) = s[pos..].find("@{") {
            let rest = &s[pos..];
            let Some(len) = rest[start..].find('}') else {
                return Err(format!("unterminated variable reference in '{rest}'"));
            };
            let name = &rest[start + 2..start + len];
            // a remembered variable is declared: skip the lookup
            let key = match self.memo.get_key_value(name) {
                Some((k, (_, below))) if depth + below <= 64 => {
                    if seen.contains(k) {
                        return Err(format!("variable @{{{name}}} refers to itself"));
                    }
                    reach = reach.max(depth + below);
                    *k
                }
                _ => {
                    let (key, vals) = self.lookup(name).ok_or_else(|| {
                        format!("Found reference to variable {name}, but is never declared")
                    })?;
                    if seen.contains(&key) {
                        return Err(format!("variable @{{{name}}} refers to itself"));
                    }
                    seen.push(key);
                    let mut expanded = Vec::new();
                    let mut expanded_bytes = 0;
                    let mut r_max = depth;
                    for v in vals {
                        let (e, r) = self.inner(v, seen, depth + 1)?;
                        expanded_bytes += bytes_of(&e);
                        expanded.extend(e);
                        if expanded.len() > MAX_EXPANSION || expanded_bytes > MAX_EXPANSION_BYTES {
                            return Err(too_large(rest));
                        }
                        r_max = r_max.max(r);
                    }
                    seen.pop();
                    self.memo.insert(key, (expanded, r_max - depth));
                    reach = reach.max(r_max);
                    key
                }
            };
            refs.push(Ref {
                key,
                lit: (pos, pos + start),
                from: pos,
            });
            pos += start + len + 1;
        }
        refs.push(Ref {
            key: "",
            lit: (pos, s.len()),
            from: pos,
        });
        Ok(reach)
    }

    /// Every combination of the values of `refs` (the leftmost varying slowest), with the
    /// literal text between them; the last entry of `refs` is the text after the last
    /// reference.
    fn product(&self, s: &str, refs: &[Ref<'v>]) -> Result<Vec<String>, String> {
        let Some((tail, vars)) = refs.split_last() else {
            return Ok(vec![s.to_string()]);
        };
        let set = |r: &Ref<'v>| self.memo.get(r.key).map_or(&[][..], |(v, _)| v.as_slice());
        let lit = |r: &Ref<'v>| &s[r.lit.0..r.lit.1];
        // every suffix from the right, as `expand_inner` checks on its way back
        let (mut count, mut bytes) = (1usize, lit(tail).len());
        for r in vars.iter().rev() {
            let vals = set(r);
            (count, bytes) =
                product_size(lit(r).len(), (vals.len(), bytes_of(vals)), (count, bytes))
                    .ok_or_else(|| too_large(&s[r.from..]))?;
        }
        let mut out = Vec::with_capacity(count);
        if let [only] = vars {
            // the common case: one reference
            let (head, tail) = (lit(only), lit(tail));
            for v in set(only) {
                let mut x = String::with_capacity(head.len() + v.len() + tail.len());
                x.push_str(head);
                x.push_str(v);
                x.push_str(tail);
                out.push(x);
            }
            return Ok(out);
        }
        if count == 0 {
            return Ok(out);
        }
        let sets: Vec<&[String]> = vars.iter().map(set).collect();
        let lit_len: usize = refs.iter().map(|r| r.lit.1 - r.lit.0).sum();
        let mut idx = vec![0usize; sets.len()];
        loop {
            let len = lit_len
                + sets
                    .iter()
                    .zip(&idx)
                    .map(|(v, &i)| v[i].len())
                    .sum::<usize>();
            let mut x = String::with_capacity(len);
            for ((r, set), &i) in vars.iter().zip(&sets).zip(&idx) {
                x.push_str(lit(r));
                x.push_str(&set[i]);
            }
            x.push_str(lit(tail));
            out.push(x);
            let mut k = sets.len();
            loop {
                if k == 0 {
                    return Ok(out);
                }
                k -= 1;
                idx[k] += 1;
                if idx[k] < sets[k].len() {
                    break;
                }
                idx[k] = 0;
            }
        }
    }
}

/// One variable reference in a string being expanded (see [`Expander::collect`]).
#[derive(Debug, Clone, Copy)]
struct Ref<'v> {
    /// The variable (its key in the memo); empty for the text after the last reference.
    key: &'v str,
    /// Byte range of the literal text before the reference.
    lit: (usize, usize),
    /// Where the suffix of the string starting with that literal begins.
    from: usize,
}

/// `file:line` of a rule, built without the formatting machinery (`file_rules` makes one per
/// rule of every profile).
fn source_of(r: &EffectiveRule) -> String {
    let mut line = [0u8; 10];
    let mut n = r.pos.line;
    let mut i = line.len();
    loop {
        i -= 1;
        line[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let digits = std::str::from_utf8(&line[i..]).unwrap_or("0");
    let mut s = String::with_capacity(r.file.len() + 1 + digits.len());
    s.push_str(&r.file);
    s.push(':');
    s.push_str(digits);
    s
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
        let local = self.auto_vars();
        let mut ex = Expander::new(vars, &local);
        for r in &self.rules {
            let RuleKind::File(f) = &r.rule.kind else {
                continue;
            };
            let patterns = match &f.path {
                Some(p) => ex.expand(p).unwrap_or_else(|_| vec![p.clone()]),
                None => vec!["/{**,}".to_string()],
            };
            let exec_target = f.target.as_ref().map(|t| {
                ex.expand(t)
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
                source: source_of(r),
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
                source: source_of(r),
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
    fn memoized_expansion_agrees_with_expand_with() {
        let mut v = BTreeMap::new();
        let mut set = |k: &str, vals: &[&str]| {
            v.insert(k.to_string(), vals.iter().map(|s| s.to_string()).collect());
        };
        set("A", &["/x", "/y"]);
        set("B", &["@{A}/z", "@{A}"]);
        set("C", &["@{B}@{A}", "c"]);
        set("SELF", &["@{SELF}/a"]);
        set("LOOP1", &["@{LOOP2}"]);
        set("LOOP2", &["@{LOOP1}"]);
        set("UNDEF", &["@{NOPE}"]);
        set("EMPTY", &[]);
        set("OPEN", &["@{A"]);
        let big: Vec<String> = (0..300).map(|i| format!("/b{i}")).collect();
        v.insert("BIG".to_string(), big);
        // a chain of 70 variables: deeper than the nesting limit
        for i in 0..70 {
            let next = if i == 69 {
                "end".to_string()
            } else {
                format!("@{{D{}}}", i + 1)
            };
            v.insert(format!("D{i}"), vec![next]);
        }
        let local = vec![("profile_name".to_string(), vec!["p".to_string()])];
        let cases = [
            "/plain",
            "@{A}",
            "@{B}/{a,b}",
            "@{C}/@{C}/@{A}",
            "@{profile_name}@{A}",
            "@{SELF}",
            "@{LOOP1}",
            "@{UNDEF}/x",
            "@{EMPTY}/x",
            "@{OPEN}",
            "/@{A",
            "@{D10}",
            "@{D0}",
            "@{D10}",
            "@{A}@{D5}",
            "@{A}x@{B}y@{C}z",
            "/a@{A}/b@{BIG}/c",
            "@{BIG}@{BIG}",
            "/a@{A}/b@{BIG}/c@{BIG}/d",
            "@{EMPTY}@{BIG}@{BIG}",
            "@{BIG}@{EMPTY}@{BIG}",
            "@{A}@{UNDEF}@{NOPE}",
            "@{A}@{OPEN}",
        ];
        assert!(expand_with("@{BIG}@{BIG}", &v, &local).is_err());
        let mut ex = Expander::new(&v, &local);
        for c in cases {
            assert_eq!(ex.expand(c), expand_with(c, &v, &local), "{c}");
        }
        // the memo built above gives the same answers again
        for c in cases {
            assert_eq!(ex.expand(c), expand_with(c, &v, &local), "{c} (memoized)");
        }
        let mut refs = RefChecker::new(&v, &local);
        for round in 0..2 {
            for c in cases {
                assert_eq!(refs.check(c), check_refs(c, &v, &local), "{c} ({round})");
            }
        }
        assert!(refs.check("@{D0}").is_err() && refs.check("@{D10}").is_ok());
    }

    /// Loading with one loader (records replayed) gives what fresh loaders give.
    #[test]
    fn replayed_includes_match_fresh_walks() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().expect("has a parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        };
        write(
            "tunables/global",
            "@{HOME}=/home/*/ /root/\ninclude <tunables/more>\n",
        );
        write("tunables/more", "@{bin}=/{,usr/}bin\n$quiet = false\n");
        write("tunables/extra", "@{extra}=x\n");
        write(
            "abstractions/desk",
            "  if \"gnome\" in @{DE} {\n    /usr/share/gnome/** r,\n  } else {\n    /usr/share/kde/** r,\n  }\n  include <abstractions/base>\n",
        );
        write(
            "abstractions/base",
            "  /etc/ld.so.cache r,\n  include <abstractions/base>\n  include if exists <abstractions/nope>\n  include <abstractions/missing>\n",
        );
        write(
            "a",
            "@{DE}=gnome\ninclude <tunables/global>\nprofile a @{bin}/a {\n  include <abstractions/desk>\n  audit {\n    include <abstractions/desk>\n  }\n  ^hat {\n    include <abstractions/base>\n  }\n}\n",
        );
        write(
            "b",
            "@{DE}=kde\ninclude <tunables/global>\nprofile b {\n  include <abstractions/desk>\n}\n",
        );
        write(
            "c",
            "include <tunables/global>\n@{DE}=xfce\ninclude <tunables/extra>\nprofile c {\n  include <abstractions/desk>\n  owner @{HOME}/** r,\n}\n",
        );
        write(
            "d",
            "include <tunables/global>\nprofile d {\n  include <abstractions/base>\n  deny /x w,\n}\n",
        );
        let show = |r: Result<LoadedPolicy, ParseError>| match r {
            Ok(p) => format!(
                "{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
                p.profiles, p.variables, p.booleans, p.warnings, p.files_read
            ),
            Err(e) => format!("error: {e}"),
        };
        for mode in [IncludeMode::Lenient, IncludeMode::Strict] {
            let mut shared = Loader::new(root, mode);
            for round in 0..2 {
                for name in ["a", "b", "c", "d", "a", "c"] {
                    let f = root.join(name);
                    let fresh = show(Loader::new(root, mode).load_file(&f));
                    let reused = show(shared.load_file(&f));
                    assert_eq!(reused, fresh, "{name} ({mode:?}, round {round})");
                }
            }
            if mode == IncludeMode::Lenient {
                assert!(!shared.walked.is_empty(), "walks were recorded");
            }
        }
        // the recorded walk of `desk` under DE=gnome must not be replayed for DE=kde
        let mut l = Loader::new(root, IncludeMode::Lenient);
        let a = l.load_file(&root.join("a")).expect("a loads");
        let b = l.load_file(&root.join("b")).expect("b loads");
        let has = |p: &LoadedPolicy, name: &str, path: &str| {
            p.profile(&[name]).is_some_and(|prof| {
                prof.rules
                    .iter()
                    .any(|r| matches!(&r.rule.kind, RuleKind::File(f) if f.path.as_deref() == Some(path)))
            })
        };
        assert!(has(&a, "a", "/usr/share/gnome/**"));
        assert!(has(&b, "b", "/usr/share/kde/**") && !has(&b, "b", "/usr/share/gnome/**"));
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
