//! AppArmor regular expressions (AARE) compiled to automata, with the real parser's semantics.
//!
//! # What this module owns
//! - Compiling AARE text (`*`, `**`, `?`, `[…]`, `[^…]`, `{a,b}` nested, backslash escapes)
//!   to a matcher, in two stages that mirror `apparmor_parser`: `convert_aaregex_to_pcre`
//!   (`parser/parser_regex.c`, see [`Pattern::to_regex`]) and the DFA grammar of
//!   `libapparmor_re` (`parse.y`), then a [`regex_automata`] automaton. No backtracking.
//! - Rejecting what the parser rejects, with a column and a hint ([`AareError`]).
//! - Matching many patterns in one pass ([`PatternSet`]); literal patterns skip the automaton.
//! - Expanding `@{VAR}` references into alternations before compiling ([`expand_variables`]),
//!   as the parser's `expand_by_alternation` does.
//! - The utils' path helpers: [`glob_path`], [`glob_path_withext`], [`escape`], plus
//!   [`is_literal`], [`filter_slashes`] and a sound inclusion test [`pattern_contains`].
//!
//! # What it does not own
//! Reading profiles or rules (see `profile`), choosing variable values (callers pass a resolver
//! or a map), and deciding whether a pattern is too broad (callers measure breadth with
//! [`PatternSet::count_matches`] or [`Pattern::count_matches`] over their own list of paths).
//!
//! # Semantics, briefly
//! Matching is on bytes and always whole-string (the parser anchors every rule). `*` is
//! `[^/\x00]*`, `**` is `[^\x00]*`, `?` is `[^/\x00]`; a `*` or `**` that is a whole path
//! component after `/` must match at least one byte (`/foo/*` does not match `/foo/`).
//! `{a,b}` needs at least two alternatives (`{a}` is an error, `{a,}` is fine). Where the
//! Python utils disagree (they match characters, accept stray `}`, and treat `[^…]` like the
//! parser only by luck), the parser wins.
//!
//! ```
//! use aa_assist::aare::{Pattern, PatternSet};
//! let p = Pattern::compile("/home/*/.config/{foo,bar}/**")?;
//! assert!(p.is_match("/home/alice/.config/foo/x/y"));
//! assert!(!p.is_match("/home/alice/.config/foo/"));
//! let set = PatternSet::new(["/etc/passwd", "/etc/**", "/usr/lib/*.so"])?;
//! assert_eq!(set.matches("/etc/passwd").collect::<Vec<_>>(), vec![0, 1]);
//! # Ok::<(), aa_assist::aare::AareError>(())
//! ```

pub mod budget;
mod contains;
mod convert;
mod glob;
pub mod sample;
mod set;
mod syntax;
mod vars;

use std::fmt;

use regex_automata::meta;
use regex_syntax::hir::{Hir, HirKind, Look};

pub use budget::over_budget;
pub use contains::pattern_contains;
pub use glob::{escape, filter_slashes, glob_path, glob_path_withext};
pub use set::PatternSet;
pub use vars::{expand_variables, expand_variables_with};

/// How the parser renders globs in [`to_pcre`]: its `glob_default` or `glob_null` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GlobMode {
    /// `*` is `[^/\x00]*`: globs never match a NUL byte (file rules).
    #[default]
    Default,
    /// `*` is `[^/]*`, `**` is `.*` (rules whose strings may hold NUL, e.g. some unix
    /// addresses).
    Null,
}

/// The parser's classification of a pattern (`pattern_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind {
    /// No globbing at all: matches exactly one string.
    Basic,
    /// A literal prefix followed by a trailing `**` and nothing else.
    TailGlob,
    /// Anything else.
    Regex,
}

/// Why a pattern was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A NUL byte in the pattern text.
    NulByte,
    /// A `]` with no `[` before it.
    UnopenedClass,
    /// A `[` with no `]` after it.
    UnclosedClass,
    /// A `}` with no `{` before it.
    UnopenedGroup,
    /// A `{` with no `}` after it.
    UnclosedGroup,
    /// `{a}` or `{}`: fewer than two alternatives.
    SingleAlternative,
    /// `{` nested 50 deep or more.
    TooDeep,
    /// A `\` at the very end.
    TrailingEscape,
    /// An `@{VAR}` left in the pattern; expand variables first.
    UnexpandedVariable,
    /// A variable the resolver does not know.
    UnknownVariable,
    /// A variable whose values refer back to itself.
    VariableCycle,
    /// A variable name the parser rejects.
    BadVariableName,
    /// The DFA grammar rejects the converted text (e.g. `[]`, `[a-]`, `[^]`).
    Grammar(&'static str),
    /// The automaton could not be built (size limits).
    Build,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ErrorKind::NulByte => "NUL byte in pattern",
            ErrorKind::UnopenedClass => "unopened ']' (maybe escape it as '\\]'?)",
            ErrorKind::UnclosedClass => "missing ']' (maybe escape '[' as '\\['?)",
            ErrorKind::UnopenedGroup => "unopened '}' (maybe escape it as '\\}'?)",
            ErrorKind::UnclosedGroup => "missing '}' (maybe escape '{' as '\\{'?)",
            ErrorKind::SingleAlternative => {
                "'{…}' needs at least two alternatives separated by ',' (write '{a,}' for optional)"
            }
            ErrorKind::TooDeep => "'{' nested too deep (the parser allows 49 levels)",
            ErrorKind::TrailingEscape => "trailing '\\' (write '\\\\' for a backslash)",
            ErrorKind::UnexpandedVariable => {
                "unexpanded variable '@{…}' (expand variables first; escape '@' as '\\@' if literal)"
            }
            ErrorKind::UnknownVariable => "unknown variable",
            ErrorKind::VariableCycle => "variable refers to itself",
            ErrorKind::BadVariableName => {
                "invalid variable name (must start with a letter, then letters, digits or '_')"
            }
            ErrorKind::Grammar(m) => m,
            ErrorKind::Build => "pattern too large to compile",
        };
        f.write_str(s)
    }
}

/// A rejected pattern: what is wrong and where (1-based column, in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid AppArmor pattern '{pattern}' at column {column}: {kind}")]
pub struct AareError {
    /// The pattern as given.
    pub pattern: String,
    /// Byte offset of the problem in `pattern`.
    pub offset: usize,
    /// 1-based column (characters) of the problem in `pattern`.
    pub column: usize,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl AareError {
    pub(crate) fn new(pattern: &str, offset: usize, kind: ErrorKind) -> Self {
        let offset = offset.min(pattern.len());
        let column = pattern
            .char_indices()
            .take_while(|(i, _)| *i < offset)
            .count()
            + 1;
        AareError {
            pattern: pattern.to_owned(),
            offset,
            column,
            kind,
        }
    }
}

/// How a compiled pattern is matched.
#[derive(Clone, Debug)]
enum Matcher {
    /// Exactly this byte string (fast path, no automaton).
    Literal(Box<[u8]>),
    /// A lazy DFA / NFA via `regex-automata`'s meta engine; the HIR is anchored.
    Automaton(meta::Regex),
}

/// A compiled AARE.
///
/// Equality compares the pattern text (like the utils' `AARE.__eq__`), not the language.
#[derive(Clone, Debug)]
pub struct Pattern {
    source: String,
    pcre: String,
    kind: PatternKind,
    hir: Hir,
    matcher: Matcher,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}
impl Eq for Pattern {}

/// Convert AARE text to the parser's PCRE-like text in the given glob mode, with its kind.
///
/// This is `convert_aaregex_to_pcre` (unanchored); errors are the parser's.
pub fn to_pcre(aare: &str, glob: GlobMode) -> Result<(String, PatternKind), AareError> {
    check_no_variables(aare)?;
    convert::to_pcre(aare, glob)
}

/// True if `pattern` is valid and matches exactly one string (the parser's `Basic` kind).
pub fn is_literal(pattern: &str) -> bool {
    matches!(
        to_pcre(pattern, GlobMode::Default),
        Ok((_, PatternKind::Basic))
    )
}

/// Reject an unescaped `@{` outside a class: the parser would expand it, not match it.
fn check_no_variables(aare: &str) -> Result<(), AareError> {
    if let Some(off) = vars::find_variable(aare) {
        return Err(AareError::new(aare, off, ErrorKind::UnexpandedVariable));
    }
    Ok(())
}

pub(crate) fn anchored(hir: Hir) -> Hir {
    Hir::concat(vec![Hir::look(Look::Start), hir, Hir::look(Look::End)])
}

pub(crate) fn literal_of(hir: &Hir) -> Option<Box<[u8]>> {
    match hir.kind() {
        HirKind::Empty => Some(Box::from(&b""[..])),
        HirKind::Literal(lit) => Some(lit.0.clone()),
        _ => None,
    }
}

pub(crate) fn meta_builder() -> meta::Builder {
    let mut b = meta::Builder::new();
    b.configure(
        meta::Config::new()
            .utf8_empty(false)
            .nfa_size_limit(Some(64 << 20))
            .hybrid_cache_capacity(8 << 20),
    );
    b
}

impl Pattern {
    /// Compile AARE text with the parser's default glob mode.
    ///
    /// The text must already have its variables expanded (see [`expand_variables`]).
    /// Slashes are not collapsed; use [`Pattern::compile_path`] for file-rule paths.
    pub fn compile(aare: &str) -> Result<Pattern, AareError> {
        Pattern::compile_with(aare, GlobMode::Default)
    }

    /// Compile a file-rule path as the parser does: collapse repeated `/` first
    /// ([`filter_slashes`]), then compile.
    pub fn compile_path(aare: &str) -> Result<Pattern, AareError> {
        let filtered = filter_slashes(aare);
        let mut p = Pattern::compile(&filtered).map_err(|mut e| {
            // Report against what the caller wrote when nothing was collapsed.
            if filtered == aare {
                e.pattern = aare.to_owned();
            }
            e
        })?;
        p.source = aare.to_owned();
        Ok(p)
    }

    /// Compile AARE text with the given glob mode.
    pub fn compile_with(aare: &str, glob: GlobMode) -> Result<Pattern, AareError> {
        check_no_variables(aare)?;
        let (pcre, kind, origin) = convert::to_pcre_mapped(aare, glob)?;
        let hir = syntax::parse(&pcre).map_err(|e| {
            let off = origin.get(e.offset).copied().unwrap_or(aare.len());
            AareError::new(aare, off, ErrorKind::Grammar(e.message))
        })?;
        let matcher = match literal_of(&hir) {
            Some(lit) => Matcher::Literal(lit),
            None => Matcher::Automaton(
                meta_builder()
                    .build_from_hir(&anchored(hir.clone()))
                    .map_err(|_| AareError::new(aare, 0, ErrorKind::Build))?,
            ),
        };
        Ok(Pattern {
            source: aare.to_owned(),
            pcre,
            kind,
            hir,
            matcher,
        })
    }

    /// Compile after expanding `@{VAR}` references with `vars` (name → values).
    pub fn compile_with_vars<S: AsRef<str>>(
        aare: &str,
        vars: &std::collections::HashMap<String, Vec<S>>,
    ) -> Result<Pattern, AareError> {
        let expanded = expand_variables(aare, vars)?;
        let mut p = Pattern::compile(&expanded)?;
        p.source = aare.to_owned();
        Ok(p)
    }

    /// Compile after expanding `@{VAR}` references, asking `resolve` for each variable's
    /// values (`None`: unknown variable).
    pub fn compile_with_resolver(
        aare: &str,
        resolve: &dyn Fn(&str) -> Option<Vec<String>>,
    ) -> Result<Pattern, AareError> {
        let expanded = expand_variables_with(aare, resolve)?;
        let mut p = Pattern::compile(&expanded)?;
        p.source = aare.to_owned();
        Ok(p)
    }

    /// Does the whole of `path` match?
    pub fn is_match(&self, path: &str) -> bool {
        self.is_match_bytes(path.as_bytes())
    }

    /// Does the whole of `path` (raw bytes, e.g. a non-UTF-8 file name) match?
    pub fn is_match_bytes(&self, path: &[u8]) -> bool {
        match &self.matcher {
            Matcher::Literal(lit) => **lit == *path,
            Matcher::Automaton(re) => re.is_match(path),
        }
    }

    /// How many of `paths` match: a simple measure of a pattern's breadth.
    pub fn count_matches<'a, I: IntoIterator<Item = &'a str>>(&self, paths: I) -> usize {
        paths.into_iter().filter(|p| self.is_match(p)).count()
    }

    /// The parser's PCRE-like rendering (`convert_aaregex_to_pcre`, default glob mode).
    pub fn to_regex(&self) -> &str {
        &self.pcre
    }

    /// The pattern text as given to the constructor.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The parser's classification.
    pub fn kind(&self) -> PatternKind {
        self.kind
    }

    /// The one string this pattern matches, if it is a literal.
    pub fn literal(&self) -> Option<&[u8]> {
        match &self.matcher {
            Matcher::Literal(l) => Some(l),
            Matcher::Automaton(_) => None,
        }
    }

    pub(crate) fn hir(&self) -> &Hir {
        &self.hir
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_point_at_the_problem_and_suggest_a_fix() {
        let e = Pattern::compile("/a/{b,c").unwrap_err();
        assert_eq!((e.kind, e.column), (ErrorKind::UnclosedGroup, 4));
        assert!(e.to_string().contains("missing '}'"), "{e}");
        let e = Pattern::compile("/a]").unwrap_err();
        assert_eq!((e.kind, e.column), (ErrorKind::UnopenedClass, 3));
        let e = Pattern::compile("/x/{a}").unwrap_err();
        assert_eq!(e.kind, ErrorKind::SingleAlternative);
        let e = Pattern::compile("@{HOME}/x").unwrap_err();
        assert_eq!((e.kind, e.column), (ErrorKind::UnexpandedVariable, 1));
        // Rejected by libapparmor_re's grammar, after conversion (checked with apparmor_parser).
        for bad in ["/[]", "/[a-]", "/[^]"] {
            assert!(
                matches!(
                    Pattern::compile(bad).unwrap_err().kind,
                    ErrorKind::Grammar(_)
                ),
                "{bad}"
            );
        }
        let e = Pattern::compile("/é/[b-]").unwrap_err();
        assert_eq!((e.column, e.offset), (7, 7), "{e}");
    }

    #[test]
    fn parser_quirks_are_kept() {
        // `*` inside a class is converted anyway: `[a*]` -> `[a[^/\x00]*]`, which the DFA
        // grammar reads as `([a[^/\x00])*` then a literal `]` (apparmor_parser 3.0.8 agrees).
        let p = Pattern::compile("/x/[a*]y").unwrap();
        assert_eq!(p.to_regex(), "/x/[a[^/\\x00]*]y");
        assert!(p.is_match("/x/]y") && p.is_match("/x/a/^a]y") && !p.is_match("/x/ay"));
        // `\,` inside a class also matches a backslash.
        let p = Pattern::compile("/z/b[\\{a\\,b\\}]t").unwrap();
        assert!(p.is_match("/z/b\\t") && p.is_match("/z/b,t") && p.is_match("/z/b{t"));
        // `[^…]` matches '/' too; `?` does not.
        assert!(Pattern::compile("/a[^b]c").unwrap().is_match("/a/c"));
        assert!(!Pattern::compile("/a?c").unwrap().is_match("/a/c"));
        // Bytes, not characters: `?` is one byte.
        assert!(!Pattern::compile("/?").unwrap().is_match("/é"));
        assert!(Pattern::compile("/??").unwrap().is_match("/é"));
        // Escapes of the parser: octal, hex, decimal.
        assert!(Pattern::compile("/\\101\\x42\\d067")
            .unwrap()
            .is_match("/ABC"));
    }

    #[test]
    fn literal_fast_path_and_kinds() {
        let p = Pattern::compile("/etc/\\*weird\\*").unwrap();
        assert_eq!(p.literal(), Some(&b"/etc/*weird*"[..]));
        assert_eq!(p.kind(), PatternKind::Basic);
        assert!(is_literal("/etc/passwd") && !is_literal("/etc/*") && !is_literal("/etc/{"));
        assert_eq!(
            Pattern::compile("/a/**").unwrap().kind(),
            PatternKind::TailGlob
        );
    }

    #[test]
    fn compile_path_collapses_slashes() {
        let p = Pattern::compile_path("/a//b///*").unwrap();
        assert_eq!(p.to_regex(), "/a/b/[^/\\x00][^/\\x00]*");
        assert_eq!(p.as_str(), "/a//b///*");
    }

    #[test]
    fn contains_on_automata() {
        let c = |g: &str, s: &str| {
            pattern_contains(&Pattern::compile(g).unwrap(), &Pattern::compile(s).unwrap())
        };
        assert_eq!(c("/etc/**", "/etc/ssl/*.pem"), Some(true));
        assert_eq!(c("/etc/*", "/etc/ssl/*.pem"), Some(false));
        assert_eq!(c("/{a,b}/*", "/a/x"), Some(true));
        assert_eq!(c("/**", "/"), Some(false));
        assert_eq!(c("/{,**}", "/"), Some(true));
    }

    #[test]
    fn set_reports_every_match_in_order() {
        let set =
            PatternSet::new(["/etc/passwd", "/etc/*", "/nope", "/etc/passwd", "/**"]).unwrap();
        assert_eq!(
            set.matches("/etc/passwd").collect::<Vec<_>>(),
            vec![0, 1, 3, 4]
        );
        assert!(!set.is_match("/"));
        assert_eq!(
            set.count_matches(["/etc/passwd", "/etc/group", "/x"]),
            vec![1, 2, 0, 1, 3]
        );
    }

    #[test]
    fn set_matches_into_reuses_the_callers_buffer() {
        let set =
            PatternSet::new(["/etc/{passwd,group}", "/etc/*", "/etc/passwd", "/x/**"]).unwrap();
        let mut out = vec![99];
        set.matches_into("/etc/passwd", &mut out);
        assert_eq!(out, vec![0, 1, 2]);
        set.matches_into("/x/y/z", &mut out);
        assert_eq!(out, vec![3]);
        set.matches_into("/etc/", &mut out);
        assert!(out.is_empty());
        set.matches_into("/nowhere", &mut out);
        assert!(out.is_empty());
    }
}
