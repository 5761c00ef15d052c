//! The typed view of one statement: what kind of rule it is, its qualifiers and fields.
//!
//! Parsing here is per statement and context-free; checks that need the whole policy
//! (variables defined, conflicting exec modes across rules) live in [`super::check`].

use super::{advance, ParseError, Pos};

/// A token of a rule's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A word or quoted string (quotes removed, escapes kept as written).
    Word {
        /// The text.
        text: String,
        /// Whether it was written in double quotes.
        quoted: bool,
    },
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `=`
    Eq,
    /// `+=`
    PlusEq,
    /// `->`
    Arrow,
    /// `,` inside parentheses or the final comma.
    Comma,
    /// `<=`
    Le,
}

/// A token with its byte offset inside the statement text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned {
    /// The token.
    pub tok: Tok,
    /// Byte offset in the statement text.
    pub off: usize,
}

impl Spanned {
    /// The word text, if this is a word.
    pub fn word(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word { text, .. } => Some(text),
            _ => None,
        }
    }
    fn bare(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word {
                text,
                quoted: false,
            } => Some(text),
            _ => None,
        }
    }
}

/// Split statement text into tokens. Comments (`#` after a blank) are skipped.
pub fn tokenize(text: &str) -> Result<Vec<Spanned>, (usize, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut prev_blank = true;
    let mut parens = 0u32;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            prev_blank = true;
            continue;
        }
        if c == b'#' && prev_blank {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        prev_blank = false;
        let off = i;
        match c {
            b'(' => {
                out.push(Spanned {
                    tok: Tok::LParen,
                    off,
                });
                i += 1;
                parens += 1;
                prev_blank = true;
            }
            b')' => {
                out.push(Spanned {
                    tok: Tok::RParen,
                    off,
                });
                parens = parens.saturating_sub(1);
                i += 1;
            }
            b',' => {
                out.push(Spanned {
                    tok: Tok::Comma,
                    off,
                });
                i += 1;
                prev_blank = true;
            }
            b'=' => {
                out.push(Spanned { tok: Tok::Eq, off });
                i += 1;
                prev_blank = true;
            }
            b'+' if b.get(i + 1) == Some(&b'=') => {
                out.push(Spanned {
                    tok: Tok::PlusEq,
                    off,
                });
                i += 2;
                prev_blank = true;
            }
            b'-' if b.get(i + 1) == Some(&b'>') => {
                out.push(Spanned {
                    tok: Tok::Arrow,
                    off,
                });
                i += 2;
                prev_blank = true;
            }
            b'<' if b.get(i + 1) == Some(&b'=') => {
                out.push(Spanned { tok: Tok::Le, off });
                i += 2;
                prev_blank = true;
            }
            b'"' => {
                let mut j = i + 1;
                let mut s = String::new();
                let mut closed = false;
                while j < b.len() {
                    if b[j] == b'\\' && j + 1 < b.len() {
                        // The backslash and the whole character it escapes (which may be
                        // several bytes long).
                        let esc_len = text[j + 1..].chars().next().map_or(1, char::len_utf8);
                        s.push_str(&text[j..j + 1 + esc_len]);
                        j += 1 + esc_len;
                        continue;
                    }
                    if b[j] == b'"' {
                        closed = true;
                        j += 1;
                        break;
                    }
                    let ch_len = text[j..].chars().next().map_or(1, char::len_utf8);
                    s.push_str(&text[j..j + ch_len]);
                    j += ch_len;
                }
                if !closed {
                    return Err((off, "unterminated quoted string".into()));
                }
                out.push(Spanned {
                    tok: Tok::Word {
                        text: s,
                        quoted: true,
                    },
                    off,
                });
                i = j;
            }
            _ => {
                let mut j = i;
                let mut depth = 0u32;
                let pathish = matches!(c, b'/' | b'@' | b'{' | b'*');
                while j < b.len() {
                    let c = b[j];
                    if c == b'\\' && j + 1 < b.len() {
                        j += 2;
                        continue;
                    }
                    if c.is_ascii_whitespace() || c == b'"' {
                        break;
                    }
                    if c == b'{' {
                        depth += 1;
                    } else if c == b'}' {
                        depth = depth.saturating_sub(1);
                    } else if depth == 0
                        && c == b','
                        && parens == 0
                        && j > i
                        && b.get(j + 1).is_some_and(|&n| {
                            !(n.is_ascii_whitespace()
                                || matches!(n, b',' | b'"' | b'!' | b'}' | b'#' | b'(' | b')'))
                        })
                    {
                        // `,` followed by a name character continues the word
                    } else if pathish && depth == 0 && (c == b'=' || c == b'+') {
                        // part of a path
                    } else if depth == 0
                        && (matches!(c, b'(' | b')' | b',' | b'=')
                            || (j > i
                                && (c == b'-' && b.get(j + 1) == Some(&b'>')
                                    || c == b'<' && b.get(j + 1) == Some(&b'=')
                                    || c == b'+' && b.get(j + 1) == Some(&b'='))))
                    {
                        break;
                    }
                    j += 1;
                }
                while j < b.len() && !text.is_char_boundary(j) {
                    j += 1;
                }
                out.push(Spanned {
                    tok: Tok::Word {
                        text: text[i..j].to_string(),
                        quoted: false,
                    },
                    off,
                });
                i = j;
            }
        }
    }
    Ok(out)
}

/// `audit`, `deny`/`allow`, `owner` and `priority=` in front of a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Qualifiers {
    /// `audit`
    pub audit: bool,
    /// `deny`
    pub deny: bool,
    /// `allow` written explicitly.
    pub allow: bool,
    /// `owner`
    pub owner: bool,
    /// `other` (files not owned by the task; kept for old policy)
    pub other: bool,
    /// `priority=N`
    pub priority: Option<i64>,
}

/// One rule: qualifiers plus kind-specific fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Leading qualifiers.
    pub qualifiers: Qualifiers,
    /// The rule's kind and fields.
    pub kind: RuleKind,
}

/// An exec transition mode of a file rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecMode {
    /// Plain `x` (only valid in deny rules).
    X,
    /// `ix`
    Inherit,
    /// `px`/`Px`.
    Profile {
        /// Uppercase (`Px`, `Pix`, `PUx`): the kernel scrubs the environment (secure exec,
        /// `AT_SECURE`: the loader drops `LD_PRELOAD` and friends), as apparmor.d(5) "Access
        /// Modes Details" says. Lowercase keeps the caller's environment.
        scrub_env: bool,
        /// With `i` fallback (`pix`).
        inherit_fallback: bool,
        /// With `u` fallback (`pux`).
        unconfined_fallback: bool,
    },
    /// `cx`/`Cx`
    Child {
        /// Uppercase (`Cx`, `Cix`, `CUx`): the environment is scrubbed (secure exec).
        scrub_env: bool,
        /// With `i` fallback (`cix`).
        inherit_fallback: bool,
        /// With `u` fallback (`cux`).
        unconfined_fallback: bool,
    },
    /// `ux`/`Ux`
    Unconfined {
        /// Uppercase (`Ux`): the environment is scrubbed (secure exec).
        scrub_env: bool,
    },
}

/// Parsed file permissions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilePerms {
    /// The letters as written.
    pub text: String,
    /// `r`
    pub read: bool,
    /// `w`
    pub write: bool,
    /// `a`
    pub append: bool,
    /// `l`
    pub link: bool,
    /// `k`
    pub lock: bool,
    /// `m`
    pub mmap: bool,
    /// The exec mode, if any.
    pub exec: Option<ExecMode>,
}

/// A file rule: `[file] PATH PERMS [-> TARGET],` or `PERMS PATH …` or bare `file,`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRule {
    /// The path pattern as written (quotes removed); `None` for a bare `file,`.
    pub path: Option<String>,
    /// Permissions (empty for a bare `file,`).
    pub perms: FilePerms,
    /// Exec target after `->`.
    pub target: Option<String>,
    /// Written with the `file` keyword.
    pub keyword: bool,
    /// Permissions written before the path (`r /foo,`).
    pub perms_first: bool,
}

/// Access words, `name=value` conditions and positional words of a non-file rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CondRule {
    /// Access permissions (`send`, `(read, write)` …).
    pub access: Vec<String>,
    /// Conditions in order: `bus=system` → ("bus", ["system"]); `peer=(label=x)` gives
    /// ("peer.label", ["x"]).
    pub conds: Vec<(String, Vec<String>)>,
    /// Other words in order (network domains and types, mount points, capability names).
    pub words: Vec<String>,
    /// Target after `->` (mount, pivot_root, change_profile).
    pub target: Option<String>,
    /// Names of conditions written with `in (…)`.
    pub in_conds: Vec<String>,
    /// Names of conditions given a parenthesised list.
    pub list_conds: Vec<String>,
    /// Access words written without parentheses (`send`), in order.
    pub bare_words: usize,
}

impl CondRule {
    /// Values of condition `name`.
    pub fn cond(&self, name: &str) -> Option<&[String]> {
        self.conds
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// Every rule kind of the language; unknown kinds are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleKind {
    /// A file rule.
    File(FileRule),
    /// `link [subset] SRC -> TARGET,`
    Link {
        /// `subset`
        subset: bool,
        /// Link path.
        path: String,
        /// Target path.
        target: String,
    },
    /// `capability [names],`
    Capability(Vec<String>),
    /// `network …,`
    Network(CondRule),
    /// `dbus …,`
    Dbus(CondRule),
    /// `unix …,`
    Unix(CondRule),
    /// `signal …,`
    Signal(CondRule),
    /// `ptrace …,`
    Ptrace(CondRule),
    /// `mount …,`
    Mount(CondRule),
    /// `umount …,` / `unmount …,`
    Umount(CondRule),
    /// `remount …,`
    Remount(CondRule),
    /// `pivot_root …,`
    PivotRoot(CondRule),
    /// `change_profile …,`
    ChangeProfile(CondRule),
    /// `set rlimit NAME <= VALUE,`
    Rlimit {
        /// Resource name.
        resource: String,
        /// Value as written.
        value: String,
    },
    /// `mqueue …,`
    Mqueue(CondRule),
    /// `userns …,`
    Userns(CondRule),
    /// `io_uring …,`
    IoUring(CondRule),
    /// `all,`
    All,
    /// A rule kind this parser does not know (kept verbatim, with a warning).
    Unknown {
        /// The first word.
        keyword: String,
    },
}

impl RuleKind {
    /// A short stable name for the kind (`file`, `capability`, …), used to place inserts.
    pub fn name(&self) -> &str {
        match self {
            RuleKind::File(_) => "file",
            RuleKind::Link { .. } => "link",
            RuleKind::Capability(_) => "capability",
            RuleKind::Network(_) => "network",
            RuleKind::Dbus(_) => "dbus",
            RuleKind::Unix(_) => "unix",
            RuleKind::Signal(_) => "signal",
            RuleKind::Ptrace(_) => "ptrace",
            RuleKind::Mount(_) => "mount",
            RuleKind::Umount(_) => "umount",
            RuleKind::Remount(_) => "remount",
            RuleKind::PivotRoot(_) => "pivot_root",
            RuleKind::ChangeProfile(_) => "change_profile",
            RuleKind::Rlimit { .. } => "rlimit",
            RuleKind::Mqueue(_) => "mqueue",
            RuleKind::Userns(_) => "userns",
            RuleKind::IoUring(_) => "io_uring",
            RuleKind::All => "all",
            RuleKind::Unknown { keyword } => keyword,
        }
    }
}

/// How a `include` statement was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// Written as `#include`.
    pub hash: bool,
    /// `include if exists`
    pub if_exists: bool,
    /// `<…>` (search path) rather than `"…"` or bare.
    pub angle: bool,
    /// The file name.
    pub path: String,
}

/// An assignment operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    /// `=`: define (error if already defined).
    Set,
    /// `+=`: append (error if not defined).
    Append,
    /// `?=`: define unless already defined.
    SetIfUnset,
    /// `:=`: define or override.
    Override,
}

fn split_assign_op(rest: &str) -> Option<(AssignOp, &str)> {
    let rest = rest.trim_start();
    if let Some(r) = rest.strip_prefix("+=") {
        Some((AssignOp::Append, r))
    } else if let Some(r) = rest.strip_prefix("?=") {
        Some((AssignOp::SetIfUnset, r))
    } else if let Some(r) = rest.strip_prefix(":=") {
        Some((AssignOp::Override, r))
    } else {
        rest.strip_prefix('=').map(|r| (AssignOp::Set, r))
    }
}

/// A variable assignment `@{NAME} = v…` / `+=` / `?=` / `:=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarAssign {
    /// Name without `@{}`.
    pub name: String,
    /// The operator.
    pub op: AssignOp,
    /// Values (quotes removed).
    pub values: Vec<String>,
}

/// What a statement is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// `include …`
    Include(Include),
    /// `abi <…>,`
    Abi(String),
    /// `@{X} = …`
    Var(VarAssign),
    /// `$X = true|false`
    Bool {
        /// Name without `$`.
        name: String,
        /// The operator (`+=` is rejected).
        op: AssignOp,
        /// Value.
        value: bool,
    },
    /// `alias /a -> /b,`
    Alias {
        /// Original.
        from: String,
        /// Replacement.
        to: String,
    },
    /// Any rule.
    Rule(Rule),
}

/// What a block header is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockHeader {
    /// `profile NAME …{`, `/path {`, `hat NAME {`, `^NAME {`
    Profile(ProfileHeader),
    /// `if COND {`
    If(String),
    /// `else if COND {`
    ElseIf(String),
    /// `else {`
    Else,
    /// `audit {`, `owner {` …: qualifiers applied to the rules inside.
    Qualified(Qualifiers),
}

/// A profile or hat header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileHeader {
    /// Written as a hat (`^name` or `hat name`).
    pub hat: bool,
    /// Written with the `profile` keyword.
    pub keyword: bool,
    /// The name.
    pub name: String,
    /// Attachment (exec path pattern), if given separately from the name.
    pub attachment: Option<String>,
    /// `flags=(…)` values.
    pub flags: Vec<String>,
    /// `xattrs=(…)` entries.
    pub xattrs: Vec<(String, String)>,
    /// Qualifiers before the profile keyword (`audit profile …`).
    pub qualifiers: Qualifiers,
}

fn perr(file: &str, start: Pos, text: &str, off: usize, msg: impl Into<String>) -> ParseError {
    ParseError {
        file: file.to_string(),
        pos: advance(start, text, off),
        message: msg.into(),
    }
}

/// Context for error positions while parsing one statement.
pub struct Ctx<'a> {
    /// File name.
    pub file: &'a str,
    /// Where the statement text starts.
    pub start: Pos,
    /// The statement text.
    pub text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, off: usize, msg: impl Into<String>) -> ParseError {
        perr(self.file, self.start, self.text, off, msg)
    }
}

/// Parse statement text (as stored in the tree) into its typed form.
pub fn parse_statement(ctx: &Ctx<'_>) -> Result<Statement, ParseError> {
    let t = ctx.text;
    let trimmed = t.trim_start();
    if trimmed.starts_with("#include") || trimmed.starts_with("include") {
        return parse_include(ctx).map(Statement::Include);
    }
    if trimmed.starts_with('@') && is_assignment_text(trimmed) {
        return parse_var(ctx).map(Statement::Var);
    }
    if trimmed.starts_with('$') {
        return parse_bool(ctx);
    }
    let toks = tokenize(t).map_err(|(o, m)| ctx.err(o, m))?;
    let Some(last) = toks.last() else {
        return Err(ctx.err(0, "empty statement"));
    };
    if last.tok != Tok::Comma {
        return Err(ctx.err(t.len(), "missing ','"));
    }
    let body = &toks[..toks.len() - 1];
    match body.first().and_then(Spanned::bare) {
        Some(w) if w == "abi" || w.starts_with("abi<") => {
            let start = t.len() - t.trim_start().len() + 3;
            let end = last.off;
            let inner = t[start..end].trim();
            let name = if let Some(r) = inner.strip_prefix('<') {
                match r.strip_suffix('>') {
                    Some(n) if n.contains('"') => {
                        match n.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
                            Some(q) if !q.contains('"') => q.to_string(),
                            _ => {
                                return Err(ctx
                                    .err(start, "abi: a quoted name must fill the '<…>' exactly"))
                            }
                        }
                    }
                    Some(n) => n.trim().to_string(),
                    None => return Err(ctx.err(start, "abi: missing '>'")),
                }
            } else if inner.starts_with('"') {
                match inner.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
                    Some(n) => n.to_string(),
                    None => return Err(ctx.err(start, "abi: unterminated quoted name")),
                }
            } else {
                if inner.contains(char::is_whitespace) {
                    return Err(ctx.err(start, "abi takes exactly one file name"));
                }
                inner.to_string()
            };
            if name.is_empty() {
                return Err(ctx.err(start, "abi without a file name"));
            }
            Ok(Statement::Abi(name))
        }
        Some("alias") => {
            if body.len() != 4 || body[2].tok != Tok::Arrow {
                return Err(ctx.err(body[0].off, "alias must be 'alias /from -> /to,'"));
            }
            let from = body[1].word().unwrap_or_default().to_string();
            let to = body[3].word().unwrap_or_default().to_string();
            if !from.starts_with('/') || !to.starts_with('/') {
                return Err(ctx.err(body[1].off, "alias paths must be absolute"));
            }
            Ok(Statement::Alias { from, to })
        }
        _ => parse_rule_tokens(ctx, body).map(Statement::Rule),
    }
}

fn is_assignment_text(s: &str) -> bool {
    let rest = match s.strip_prefix("@{") {
        Some(r) => match r.find('}') {
            Some(c) => &r[c + 1..],
            None => return false,
        },
        None => s[1..].trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    };
    split_assign_op(rest).is_some()
}

fn parse_include(ctx: &Ctx<'_>) -> Result<Include, ParseError> {
    let t = ctx.text.trim_start();
    let lead = ctx.text.len() - t.len();
    let (hash, rest) = match t.strip_prefix("#include") {
        Some(r) => (true, r),
        None => (false, t.strip_prefix("include").unwrap_or(t)),
    };
    let mut rest = rest.trim_start();
    let mut if_exists = false;
    if let Some(r) = rest.strip_prefix("if") {
        let r2 = r.trim_start();
        if let Some(r3) = r2.strip_prefix("exists") {
            if_exists = true;
            rest = r3.trim_start();
        } else {
            return Err(ctx.err(lead, "expected 'include if exists'"));
        }
    }
    let off = ctx.text.len() - rest.len();
    let (angle, path) = if let Some(r) = rest.strip_prefix('<') {
        let inner = r.split('>').next().unwrap_or(r);
        let inner = inner.trim();
        let inner = inner
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(inner);
        (true, inner.to_string())
    } else if let Some(r) = rest.strip_prefix('"') {
        (false, r.split('"').next().unwrap_or(r).to_string())
    } else {
        (
            false,
            rest.split(|c: char| c.is_whitespace() || c == '#')
                .next()
                .unwrap_or("")
                .to_string(),
        )
    };
    if path.is_empty() {
        return Err(ctx.err(off, "include without a file name"));
    }
    Ok(Include {
        hash,
        if_exists,
        angle,
        path: unescape(&path),
    })
}

/// Remove backslash escapes (`\ ` → ` `), keeping AARE escapes of special characters and the
/// parser's byte escapes (`\ooo` octal, `\xHH`, `\dNNN`, `\a \e \f \n \r \t`; its
/// `strn_escseq`), which [`crate::aare`] decodes: `"/tmp/a\x1b"` is the file with an ESC in
/// its name, as for `apparmor_parser`, not `/tmp/ax1b`.
pub fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.peek().copied() {
                Some(n) if "*?[]{}^,\\".contains(n) => {
                    out.push('\\');
                    out.push(n);
                    it.next();
                }
                Some(n) if is_byte_escape(n, it.clone().nth(1)) => {
                    out.push('\\');
                }
                Some(n) => {
                    out.push(n);
                    it.next();
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `\` + `n` (+ `after`) is one of the parser's byte escapes.
fn is_byte_escape(n: char, after: Option<char>) -> bool {
    matches!(n, '0'..='7' | 'a' | 'e' | 'f' | 'n' | 'r' | 't')
        || n == 'x' && after.is_some_and(|c| c.is_ascii_hexdigit())
        || n == 'd' && after.is_some_and(|c| c.is_ascii_digit())
}

fn is_var_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic())
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

fn parse_var(ctx: &Ctx<'_>) -> Result<VarAssign, ParseError> {
    let t = ctx.text;
    let lead = t.len() - t.trim_start().len();
    let s = &t[lead..];
    let (name, after) = if let Some(r) = s.strip_prefix("@{") {
        let close = r
            .find('}')
            .ok_or_else(|| ctx.err(lead, "unterminated variable name"))?;
        (&r[..close], &r[close + 1..])
    } else {
        let r = s.get(1..).unwrap_or("");
        let n = r
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(r.len());
        (&r[..n], &r[n..])
    };
    if !is_var_name(name) {
        return Err(ctx.err(lead, format!("invalid variable name '{name}'")));
    }
    let Some((op, rest)) = split_assign_op(after) else {
        return Err(ctx.err(lead, "expected '=' or '+=' after variable name"));
    };
    let base = t.len() - rest.len();
    let rest_joined = rest.replace("\\\n", " ");
    let toks = tokenize(&rest_joined).map_err(|(o, m)| ctx.err(base + o, m))?;
    let mut values = Vec::new();
    for tk in &toks {
        match &tk.tok {
            Tok::Word {
                text,
                quoted: false,
            } if text.contains('!') => {
                return Err(ctx.err(
                    base + tk.off,
                    format!("invalid character '!' in value '{text}'"),
                ))
            }
            Tok::Word { text, .. } => values.push(text.clone()),
            Tok::Comma => {
                return Err(ctx.err(
                    base + tk.off,
                    "Variable declarations do not accept trailing commas",
                ))
            }
            _ => {
                // '=' and friends inside values are literal
                values.push(rest_joined[tk.off..tk.off + 1].to_string());
            }
        }
    }
    if values.is_empty() {
        return Err(ctx.err(t.len(), "variable assignment without a value"));
    }
    Ok(VarAssign {
        name: name.to_string(),
        op,
        values,
    })
}

fn parse_bool(ctx: &Ctx<'_>) -> Result<Statement, ParseError> {
    let t = ctx.text.trim();
    let t = match t.find('#') {
        Some(h) => t[..h].trim_end(),
        None => t,
    };
    let body = t.trim_start_matches('$');
    let name_len = if body.starts_with('{') {
        body.find('}').map_or(body.len(), |c| c + 1)
    } else {
        body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len())
    };
    let lhs = &body[..name_len];
    let Some((op, rhs)) = split_assign_op(&body[name_len..]) else {
        return Err(ctx.err(0, "expected '$name = true|false'"));
    };
    if op == AssignOp::Append {
        return Err(ctx.err(0, "boolean variables cannot be appended to"));
    }
    let name = lhs.trim();
    let name = name
        .strip_prefix('{')
        .and_then(|n| n.strip_suffix('}'))
        .unwrap_or(name);
    if !is_var_name(name) {
        return Err(ctx.err(0, format!("invalid boolean variable name '{name}'")));
    }
    let value = match rhs.trim().to_ascii_lowercase().as_str() {
        "true" => true,
        "false" => false,
        other => {
            return Err(ctx.err(
                lhs.len() + 1,
                format!("boolean variable must be true or false, not '{other}'"),
            ))
        }
    };
    Ok(Statement::Bool {
        name: name.to_string(),
        op,
        value,
    })
}

/// Parse leading qualifiers; returns the index of the first non-qualifier token.
fn parse_qualifiers(ctx: &Ctx<'_>, toks: &[Spanned]) -> Result<(Qualifiers, usize), ParseError> {
    let mut q = Qualifiers::default();
    let mut i = 0;
    // upstream order: priority=, audit, allow|deny, owner
    let mut stage = 0;
    while i < toks.len() {
        let this_stage = match toks[i].bare() {
            Some("priority") => 1,
            Some("audit") => 2,
            Some("deny" | "allow") => 3,
            Some("owner" | "other") => 4,
            _ => 0,
        };
        if this_stage != 0 && this_stage < stage {
            return Err(ctx.err(
                toks[i].off,
                "qualifiers must be in the order: priority=, audit, allow/deny, owner",
            ));
        }
        stage = stage.max(this_stage);
        match toks[i].bare() {
            Some("audit") => {
                if q.audit {
                    return Err(ctx.err(toks[i].off, "duplicate 'audit'"));
                }
                q.audit = true;
            }
            Some("deny") => {
                if q.deny || q.allow {
                    return Err(ctx.err(toks[i].off, "conflicting 'deny'/'allow'"));
                }
                q.deny = true;
            }
            Some("allow") => {
                if q.deny || q.allow {
                    return Err(ctx.err(toks[i].off, "conflicting 'deny'/'allow'"));
                }
                q.allow = true;
            }
            Some("owner") => {
                if q.owner || q.other {
                    return Err(ctx.err(toks[i].off, "duplicate 'owner'"));
                }
                q.owner = true;
            }
            Some("other") => {
                if q.owner || q.other {
                    return Err(ctx.err(toks[i].off, "conflicting 'owner'/'other'"));
                }
                q.other = true;
            }
            Some("priority") if toks.get(i + 1).is_some_and(|t| t.tok == Tok::Eq) => {
                let v = toks.get(i + 2).and_then(Spanned::bare);
                let n = v
                    .and_then(|v| v.parse::<i64>().ok())
                    .filter(|n| (-1000..=1000).contains(n))
                    .ok_or_else(|| {
                        ctx.err(toks[i].off, "priority must be an integer in -1000..1000")
                    })?;
                if q.priority.is_some() {
                    return Err(ctx.err(toks[i].off, "duplicate 'priority'"));
                }
                q.priority = Some(n);
                i += 2;
            }
            _ => break,
        }
        i += 1;
    }
    Ok((q, i))
}

/// Parse a block header text (up to and including `{`).
pub fn parse_block_header(ctx: &Ctx<'_>) -> Result<BlockHeader, ParseError> {
    let t = ctx.text;
    let inner = t.trim_end().strip_suffix('{').unwrap_or(t);
    let toks = tokenize(inner).map_err(|(o, m)| ctx.err(o, m))?;
    let first = toks.first().and_then(Spanned::bare);
    match first {
        Some("if") => return Ok(BlockHeader::If(cond_text(inner, &toks, 1))),
        Some("else") => {
            if toks.len() == 1 {
                return Ok(BlockHeader::Else);
            }
            if toks.get(1).and_then(Spanned::bare) == Some("if") {
                return Ok(BlockHeader::ElseIf(cond_text(inner, &toks, 2)));
            }
            return Err(ctx.err(toks[0].off, "expected 'else {' or 'else if'"));
        }
        _ => {}
    }
    let (q, i) = parse_qualifiers(ctx, &toks)?;
    if i == toks.len() {
        if i == 0 {
            return Err(ctx.err(0, "block without a header"));
        }
        return Ok(BlockHeader::Qualified(q));
    }
    let mut h = ProfileHeader {
        qualifiers: q,
        ..Default::default()
    };
    let mut j = i;
    match toks[j].bare() {
        Some("profile") => {
            h.keyword = true;
            j += 1;
        }
        Some("hat") => {
            h.hat = true;
            j += 1;
        }
        _ => {}
    }
    let Some(name_tok) = toks.get(j) else {
        return Err(ctx.err(t.len().saturating_sub(1), "profile without a name"));
    };
    let Some(name) = name_tok.word() else {
        return Err(ctx.err(name_tok.off, "expected a profile name"));
    };
    let mut name = name.to_string();
    if !h.keyword && !h.hat {
        if let Some(n) = name.strip_prefix('^') {
            h.hat = true;
            name = n.to_string();
        } else if !(name.starts_with('/')
            || name.starts_with("@{")
            || name.starts_with(':')
            || matches!(name_tok.tok, Tok::Word { quoted: true, .. }))
        {
            return Err(ctx.err(
                name_tok.off,
                format!("unknown rule or profile name '{name}' (profile names without the 'profile' keyword must start with '/')"),
            ));
        }
    }
    if name.is_empty() {
        return Err(ctx.err(name_tok.off, "empty profile name"));
    }
    h.name = name;
    j += 1;
    while j < toks.len() {
        let tk = &toks[j];
        match tk.bare() {
            Some(k @ ("flags" | "xattrs")) if toks.get(j + 1).is_some_and(|t| t.tok == Tok::Eq) => {
                let (vals, next) = paren_list(ctx, &toks, j + 2)?;
                if k == "flags" {
                    h.flags.extend(vals);
                } else {
                    for v in vals {
                        let (a, b) = v.split_once('=').unwrap_or((v.as_str(), ""));
                        h.xattrs.push((a.to_string(), b.to_string()));
                    }
                }
                j = next;
            }
            Some("+") if toks.get(j + 1).and_then(Spanned::bare) == Some("identities") => {
                let (ids, next) = paren_list(ctx, &toks, j + 3)?;
                if ids.is_empty() {
                    return Err(ctx.err(tk.off, "empty identities=()"));
                }
                j = next;
            }
            None if tk.tok == Tok::LParen => {
                let (vals, next) = paren_list(ctx, &toks, j)?;
                h.flags.extend(vals);
                j = next;
            }
            Some(w) if h.attachment.is_none() && !h.hat && j == i + 1 + usize::from(h.keyword) => {
                h.attachment = Some(w.to_string());
                j += 1;
            }
            _ => match &tk.tok {
                Tok::Word { text, quoted: true } if h.attachment.is_none() && !h.hat => {
                    h.attachment = Some(text.clone());
                    j += 1;
                }
                _ => return Err(ctx.err(tk.off, "unexpected text in profile header")),
            },
        }
    }
    Ok(h_to(h))
}

fn h_to(h: ProfileHeader) -> BlockHeader {
    BlockHeader::Profile(h)
}

fn cond_text(inner: &str, toks: &[Spanned], from: usize) -> String {
    toks.get(from)
        .map(|t| inner[t.off..].trim().to_string())
        .unwrap_or_default()
}

/// Parse `( a b, c=d )` or a single value starting at `j`; returns values and next index.
fn paren_list(
    ctx: &Ctx<'_>,
    toks: &[Spanned],
    j: usize,
) -> Result<(Vec<String>, usize), ParseError> {
    match toks.get(j) {
        Some(Spanned {
            tok: Tok::LParen, ..
        }) => {
            let mut vals = Vec::new();
            let mut k = j + 1;
            loop {
                match toks.get(k) {
                    None => {
                        return Err(ctx.err(toks[j].off, "missing ')'"));
                    }
                    Some(Spanned {
                        tok: Tok::RParen, ..
                    }) => return Ok((vals, k + 1)),
                    Some(Spanned {
                        tok: Tok::Comma, ..
                    }) => k += 1,
                    Some(Spanned {
                        tok: Tok::Word { text, .. },
                        ..
                    }) => {
                        // name=value inside a list
                        if toks.get(k + 1).is_some_and(|t| t.tok == Tok::Eq) {
                            let v = toks.get(k + 2).and_then(Spanned::word).unwrap_or_default();
                            vals.push(format!("{text}={v}"));
                            k += 3;
                        } else {
                            vals.push(text.clone());
                            k += 1;
                        }
                    }
                    Some(t) => return Err(ctx.err(t.off, "unexpected token in list")),
                }
            }
        }
        Some(Spanned {
            tok: Tok::Word { text, .. },
            ..
        }) => Ok((vec![text.clone()], j + 1)),
        Some(t) => Err(ctx.err(t.off, "expected a value")),
        None => Err(ctx.err(ctx.text.len(), "expected a value")),
    }
}

const MODE_CHARS: &str = "rwaxlkmiupcRWXLMIUPC";

/// Is `w` a permission string (as the lexer's MODES)?
pub fn looks_like_perms(w: &str) -> bool {
    !w.is_empty() && w.chars().all(|c| MODE_CHARS.contains(c)) && parse_perms(w).is_ok()
}

/// Parse file permission letters like `rwix` or `Px`.
pub fn parse_perms(s: &str) -> Result<FilePerms, String> {
    let mut p = FilePerms {
        text: s.to_string(),
        ..Default::default()
    };
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let set_exec = |p: &mut FilePerms, m: ExecMode, txt: &str| -> Result<(), String> {
        match p.exec {
            None => {
                p.exec = Some(m);
                Ok(())
            }
            Some(old) if old == m => Ok(()),
            Some(ExecMode::X) if m != ExecMode::X => {
                p.exec = Some(m);
                Ok(())
            }
            Some(_) if m == ExecMode::X => Ok(()),
            Some(_) => Err(format!(
                "Exec qualifier '{txt}' invalid, conflicting qualifier already specified"
            )),
        }
    };
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied().map(|n| n.to_ascii_lowercase());
        let next2 = c.get(i + 2).copied().map(|n| n.to_ascii_lowercase());
        match ch {
            'K' | 'A' => return Err(format!("invalid permission '{ch}'")),
            'r' | 'R' => p.read = true,
            'w' | 'W' => {
                if p.append && !p.write {
                    return Err("Conflict 'a' and 'w' perms are mutually exclusive.".into());
                }
                p.write = true;
            }
            'a' => {
                if p.write {
                    return Err("Conflict 'a' and 'w' perms are mutually exclusive.".into());
                }
                p.append = true;
            }
            'l' | 'L' => p.link = true,
            'k' => p.lock = true,
            'm' | 'M' => p.mmap = true,
            'x' | 'X' => set_exec(&mut p, ExecMode::X, "x")?,
            'i' | 'I' => {
                if next != Some('x') {
                    return Err(format!("invalid permission '{ch}'"));
                }
                set_exec(&mut p, ExecMode::Inherit, "ix")?;
                i += 1;
            }
            'u' | 'U' => {
                if next != Some('x') {
                    return Err(format!("invalid permission '{ch}'"));
                }
                set_exec(
                    &mut p,
                    ExecMode::Unconfined {
                        scrub_env: ch == 'U',
                    },
                    "ux",
                )?;
                i += 1;
            }
            'p' | 'P' | 'c' | 'C' => {
                // uppercase scrubs the environment (apparmor.d(5), Access Modes)
                let scrub_env = ch.is_ascii_uppercase();
                let (inh, unc, skip) = match (next, next2) {
                    (Some('i'), Some('x')) => (true, false, 2),
                    (Some('u'), Some('x')) => (false, true, 2),
                    (Some('x'), _) => (false, false, 1),
                    _ => return Err(format!("invalid permission '{ch}'")),
                };
                let m = if ch.eq_ignore_ascii_case(&'p') {
                    ExecMode::Profile {
                        scrub_env,
                        inherit_fallback: inh,
                        unconfined_fallback: unc,
                    }
                } else {
                    ExecMode::Child {
                        scrub_env,
                        inherit_fallback: inh,
                        unconfined_fallback: unc,
                    }
                };
                set_exec(&mut p, m, &c[i..=i + skip].iter().collect::<String>())?;
                i += skip;
            }
            _ => return Err(format!("invalid permission '{ch}'")),
        }
        i += 1;
    }
    Ok(p)
}

fn is_pathish(t: &Spanned) -> bool {
    match &t.tok {
        Tok::Word { text, quoted } => {
            *quoted
                || text.starts_with('/')
                || text.starts_with("@{")
                || text.starts_with('{')
                || text.starts_with('*')
        }
        _ => false,
    }
}

/// Parse the tokens of a rule (without its final comma).
pub fn parse_rule_tokens(ctx: &Ctx<'_>, toks: &[Spanned]) -> Result<Rule, ParseError> {
    let (qualifiers, i) = parse_qualifiers(ctx, toks)?;
    let rest = &toks[i..];
    let Some(first) = rest.first() else {
        return Err(ctx.err(ctx.text.len().saturating_sub(1), "rule without a body"));
    };
    let kw = first.bare().unwrap_or("");
    let args = &rest[1..];
    let kind = match kw {
        "file" => file_rule(ctx, args, true, first.off)?,
        "link" => link_rule(ctx, args, first.off)?,
        "capability" => {
            let mut names = Vec::new();
            for a in args {
                match a.bare() {
                    Some(n) => names.push(n.to_string()),
                    None => return Err(ctx.err(a.off, "expected a capability name")),
                }
            }
            RuleKind::Capability(names)
        }
        "network" => RuleKind::Network(cond_rule(ctx, args)?),
        "dbus" => RuleKind::Dbus(cond_rule(ctx, args)?),
        "unix" => RuleKind::Unix(cond_rule(ctx, args)?),
        "signal" => RuleKind::Signal(cond_rule(ctx, args)?),
        "ptrace" => RuleKind::Ptrace(cond_rule(ctx, args)?),
        "mount" => RuleKind::Mount(cond_rule(ctx, args)?),
        "umount" | "unmount" => RuleKind::Umount(cond_rule(ctx, args)?),
        "remount" => RuleKind::Remount(cond_rule(ctx, args)?),
        "pivot_root" => RuleKind::PivotRoot(cond_rule(ctx, args)?),
        "change_profile" => RuleKind::ChangeProfile(cond_rule(ctx, args)?),
        "mqueue" => RuleKind::Mqueue(cond_rule(ctx, args)?),
        "userns" => RuleKind::Userns(cond_rule(ctx, args)?),
        "io_uring" => RuleKind::IoUring(cond_rule(ctx, args)?),
        "all" => {
            if let Some(a) = args.first() {
                return Err(ctx.err(a.off, "'all' takes no arguments"));
            }
            RuleKind::All
        }
        "set" => {
            // set rlimit NAME <= VALUE
            if args.first().and_then(Spanned::bare) != Some("rlimit") {
                return Err(ctx.err(first.off, "expected 'set rlimit'"));
            }
            let res = args.get(1).and_then(Spanned::bare);
            let le = args.get(2).map(|t| &t.tok);
            let val: Vec<&str> = args.iter().skip(3).filter_map(Spanned::word).collect();
            match (res, le) {
                (Some(r), Some(Tok::Le)) if !val.is_empty() && args.len() >= 4 => {
                    RuleKind::Rlimit {
                        resource: r.to_string(),
                        value: val.join(" "),
                    }
                }
                _ => return Err(ctx.err(first.off, "expected 'set rlimit NAME <= VALUE'")),
            }
        }
        _ if is_pathish(first) => file_rule(ctx, rest, false, first.off)?,
        "safe" | "unsafe"
            if rest
                .get(1)
                .and_then(Spanned::bare)
                .is_some_and(looks_like_perms)
                && rest.get(2).is_some_and(is_pathish) =>
        {
            file_rule(ctx, rest, false, first.off)?
        }
        _ if first.bare().is_some_and(looks_like_perms) && rest.get(1).is_some_and(is_pathish) => {
            file_rule(ctx, rest, false, first.off)?
        }
        _ => match first.bare() {
            Some(k) if k.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !k.is_empty() => {
                RuleKind::Unknown {
                    keyword: k.to_string(),
                }
            }
            _ => return Err(ctx.err(first.off, "syntax error: unexpected text")),
        },
    };
    Ok(Rule { qualifiers, kind })
}

fn file_rule(
    ctx: &Ctx<'_>,
    args: &[Spanned],
    keyword: bool,
    kw_off: usize,
) -> Result<RuleKind, ParseError> {
    if args.is_empty() {
        if keyword {
            return Ok(RuleKind::File(FileRule {
                path: None,
                perms: FilePerms::default(),
                target: None,
                keyword,
                perms_first: false,
            }));
        }
        return Err(ctx.err(kw_off, "file rule without a path"));
    }
    // `safe`/`unsafe` before exec permissions
    let args = match args.first().and_then(Spanned::bare) {
        Some("safe" | "unsafe") if args.len() > 1 => &args[1..],
        _ => args,
    };
    // Split off "-> target"
    let (main, target) = match args.iter().position(|t| t.tok == Tok::Arrow) {
        Some(a) => {
            let tgt = args
                .get(a + 1)
                .and_then(Spanned::word)
                .ok_or_else(|| ctx.err(args[a].off, "'->' without a target"))?;
            if args.len() > a + 2 {
                return Err(ctx.err(args[a + 2].off, "unexpected text after exec target"));
            }
            (&args[..a], Some(tgt.to_string()))
        }
        None => (args, None),
    };
    let (path_tok, perm_tok, perms_first) = match main {
        [p, m] if is_pathish(p) => (p, m, false),
        [m, p] if is_pathish(p) => (p, m, true),
        [p] if is_pathish(p) => {
            if keyword {
                // `file /path,` — all perms
                return Ok(RuleKind::File(FileRule {
                    path: p.word().map(unescape),
                    perms: FilePerms::default(),
                    target,
                    keyword,
                    perms_first: false,
                }));
            }
            return Err(ctx.err(p.off, "file rule is missing its permissions"));
        }
        [] => return Err(ctx.err(kw_off, "file rule without a path")),
        _ => return Err(ctx.err(main[0].off, "syntax error in file rule")),
    };
    let Some(ptext) = perm_tok.bare() else {
        return Err(ctx.err(perm_tok.off, "expected file permissions"));
    };
    let perms = parse_perms(ptext).map_err(|m| ctx.err(perm_tok.off, m))?;
    let path = path_tok.word().map(unescape);
    if let Some(Tok::Word { text, .. }) = Some(&path_tok.tok) {
        if let Some(rest) = text.strip_prefix("@{") {
            let after = rest.find('}').map(|c| &rest[c + 1..]).unwrap_or("");
            if after.starts_with('+') && !after.starts_with("+=") {
                return Err(ctx.err(path_tok.off, format!("syntax error at '{text}'")));
            }
        }
    }
    Ok(RuleKind::File(FileRule {
        path,
        perms,
        target,
        keyword,
        perms_first,
    }))
}

fn link_rule(ctx: &Ctx<'_>, args: &[Spanned], kw_off: usize) -> Result<RuleKind, ParseError> {
    let mut i = 0;
    let subset = args.first().and_then(Spanned::bare) == Some("subset");
    if subset {
        i = 1;
    }
    match &args[i..] {
        [p, a, t] if a.tok == Tok::Arrow && is_pathish(p) => Ok(RuleKind::Link {
            subset,
            path: p.word().map(unescape).unwrap_or_default(),
            target: t.word().map(unescape).unwrap_or_default(),
        }),
        _ => Err(ctx.err(
            kw_off,
            "link rule must be 'link [subset] /path -> /target,'",
        )),
    }
}

/// Parse access/conditions/words of a non-file rule.
fn cond_rule(ctx: &Ctx<'_>, args: &[Spanned]) -> Result<CondRule, ParseError> {
    let mut r = CondRule::default();
    let mut i = 0;
    while i < args.len() {
        let t = &args[i];
        match &t.tok {
            Tok::Arrow => {
                let tgt = args
                    .get(i + 1)
                    .and_then(Spanned::word)
                    .ok_or_else(|| ctx.err(t.off, "'->' without a target"))?;
                if r.target.is_some() {
                    return Err(ctx.err(t.off, "duplicate '->'"));
                }
                r.target = Some(tgt.to_string());
                i += 2;
            }
            Tok::LParen => {
                if let Some(Spanned {
                    tok: Tok::Word { text, .. },
                    off,
                }) = i.checked_sub(1).and_then(|p| args.get(p))
                {
                    if off + text.len() == t.off {
                        return Err(ctx.err(t.off, format!("missing '=' between '{text}' and '('")));
                    }
                }
                let (vals, next) = paren_list(ctx, args, i)?;
                if vals.iter().any(|v| v.contains('=')) {
                    for v in vals {
                        let (k, val) = v.split_once('=').unwrap_or((v.as_str(), ""));
                        r.conds.push((k.to_string(), vec![val.to_string()]));
                    }
                } else {
                    r.access.extend(vals);
                }
                i = next;
            }
            Tok::Word { text, .. } => {
                if args.get(i + 1).and_then(Spanned::bare) == Some("in")
                    && args
                        .get(i + 2)
                        .is_some_and(|n| matches!(n.tok, Tok::LParen | Tok::Word { .. }))
                {
                    let (vals, next) = paren_list(ctx, args, i + 2)?;
                    r.in_conds.push(text.clone());
                    r.conds.push((text.clone(), vals));
                    i = next;
                } else if args.get(i + 1).is_some_and(|n| n.tok == Tok::Eq) {
                    let name = text.clone();
                    if name != "peer" && args.get(i + 2).is_some_and(|t| t.tok == Tok::LParen) {
                        r.list_conds.push(name.clone());
                    }
                    let (vals, next) = paren_list(ctx, args, i + 2)?;
                    if name == "peer" && args.get(i + 2).is_some_and(|t| t.tok == Tok::LParen) {
                        for v in vals {
                            let (k, val) = v.split_once('=').unwrap_or((v.as_str(), ""));
                            r.conds.push((format!("peer.{k}"), vec![val.to_string()]));
                        }
                    } else {
                        r.conds.push((name, vals));
                    }
                    i = next;
                } else {
                    r.words.push(text.clone());
                    r.bare_words += 1;
                    i += 1;
                }
            }
            Tok::Comma => {
                return Err(ctx.err(t.off, "unexpected ','"));
            }
            _ => return Err(ctx.err(t.off, "unexpected token")),
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(t: &str) -> Rule {
        let ctx = Ctx {
            file: "t",
            start: Pos { line: 1, col: 1 },
            text: t,
        };
        match parse_statement(&ctx).expect("parses") {
            Statement::Rule(r) => r,
            other => panic!("not a rule: {other:?}"),
        }
    }

    #[test]
    fn file_rules() {
        let r = rule("audit owner /a/{b,c} rw,");
        assert!(r.qualifiers.audit && r.qualifiers.owner);
        let RuleKind::File(f) = r.kind else { panic!() };
        assert_eq!(f.path.as_deref(), Some("/a/{b,c}"));
        assert!(f.perms.read && f.perms.write);
        let RuleKind::File(f) = rule("/bin/x Px -> foo,").kind else {
            panic!()
        };
        assert_eq!(f.target.as_deref(), Some("foo"));
        assert!(parse_perms("rwa").is_err());
        assert!(parse_perms("pxux").is_err());
    }

    #[test]
    fn cond_rules() {
        let RuleKind::Dbus(d) = rule("dbus send bus=session peer=(name=org.x),").kind else {
            panic!()
        };
        assert_eq!(d.cond("bus"), Some(&["session".to_string()][..]));
        assert_eq!(d.cond("peer.name"), Some(&["org.x".to_string()][..]));
    }
}
