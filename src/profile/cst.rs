//! The lossless concrete syntax tree: every byte of the input belongs to exactly one node's
//! `prefix` (whitespace and comments before it), its text, or the file's trailing trivia, so
//! [`ProfileFile::to_text`] gives the input back byte for byte by construction.
//!
//! This layer only splits text into statements and blocks; it does not interpret rules (see
//! [`super::rule`]).

use std::fmt;

use super::{ParseError, Pos};

/// One parsed file: a list of top-level nodes plus the trivia after the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFile {
    /// Name used in error messages (usually the path).
    pub name: String,
    /// Top-level nodes in source order.
    pub nodes: Vec<Node>,
    /// Whitespace and comments after the last node.
    pub trailing: String,
}

/// A statement or a block with the trivia that precedes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Whitespace and comments before the node, exactly as written.
    pub prefix: String,
    /// Where the node's own text starts in the source (1-based line and column).
    pub pos: Pos,
    /// The node itself.
    pub kind: NodeKind,
}

/// What a node is, syntactically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A single statement: a rule (with its trailing `,`), an include line, a variable
    /// assignment, `abi …,` or `alias …,`.
    Statement(String),
    /// A block: a profile, hat, `if`/`else` or qualifier block.
    Block(Block),
    /// Text that does not parse, kept verbatim (only from
    /// [`ProfileFile::parse_recovering`]).
    Invalid(String),
}

/// A `header { children }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Text from the start of the header up to and including the opening `{`.
    pub header: String,
    /// Nodes inside the braces.
    pub children: Vec<Node>,
    /// Trivia between the last child and the closing `}`.
    pub close_prefix: String,
    /// Position of the closing `}`.
    pub close_pos: Pos,
    /// `false` only in a tree from [`ProfileFile::parse_recovering`] whose block ran to the
    /// end of the file without its `}` (nothing is printed for the missing brace).
    pub closed: bool,
}

impl Node {
    /// The node's text without its prefix (for a block: the whole block).
    pub fn text(&self) -> String {
        let mut s = String::new();
        self.kind.write_to(&mut s);
        s
    }
}

impl NodeKind {
    fn write_to(&self, out: &mut String) {
        match self {
            NodeKind::Statement(t) | NodeKind::Invalid(t) => out.push_str(t),
            NodeKind::Block(b) => {
                out.push_str(&b.header);
                for c in &b.children {
                    c.write_to(out);
                }
                out.push_str(&b.close_prefix);
                if b.closed {
                    out.push('}');
                }
            }
        }
    }
}

impl Node {
    fn write_to(&self, out: &mut String) {
        out.push_str(&self.prefix);
        self.kind.write_to(out);
    }
}

impl ProfileFile {
    /// Parse `src` into a lossless tree. `name` is used in error positions.
    pub fn parse(name: &str, src: &str) -> Result<ProfileFile, ParseError> {
        let mut p = Splitter {
            src,
            b: src.as_bytes(),
            i: 0,
            line: 1,
            line_start: 0,
            name,
            recover: false,
            errors: Vec::new(),
        };
        let (nodes, trailing) = p.items(false)?;
        Ok(ProfileFile {
            name: name.to_string(),
            nodes,
            trailing,
        })
    }

    /// Parse without giving up: text that does not parse becomes a
    /// [`NodeKind::Invalid`] node and its error is returned alongside. Printing the tree still
    /// gives the input back byte for byte. Used for files that are not (yet) valid policy:
    /// sources with build-time markers, kernel feature ABI files.
    pub fn parse_recovering(name: &str, src: &str) -> (ProfileFile, Vec<ParseError>) {
        let mut p = Splitter {
            src,
            b: src.as_bytes(),
            i: 0,
            line: 1,
            line_start: 0,
            name,
            recover: true,
            errors: Vec::new(),
        };
        match p.items(false) {
            Ok((nodes, trailing)) => (
                ProfileFile {
                    name: name.to_string(),
                    nodes,
                    trailing,
                },
                p.errors,
            ),
            Err(e) => {
                // cannot happen in recovering mode; keep everything verbatim anyway
                let mut errors = p.errors;
                errors.push(e);
                (
                    ProfileFile {
                        name: name.to_string(),
                        nodes: vec![Node {
                            prefix: String::new(),
                            pos: Pos { line: 1, col: 1 },
                            kind: NodeKind::Invalid(src.to_string()),
                        }],
                        trailing: String::new(),
                    },
                    errors,
                )
            }
        }
    }

    /// Print the tree back to text (identical to the input when unedited).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for n in &self.nodes {
            n.write_to(&mut s);
        }
        s.push_str(&self.trailing);
        s
    }
}

impl ProfileFile {
    /// Every include statement in the file (at any depth), with its position.
    pub fn includes(&self) -> Vec<(Pos, super::rule::Include)> {
        fn walk(nodes: &[Node], name: &str, out: &mut Vec<(Pos, super::rule::Include)>) {
            for n in nodes {
                match &n.kind {
                    NodeKind::Statement(t) => {
                        let ctx = super::rule::Ctx {
                            file: name,
                            start: n.pos,
                            text: t,
                        };
                        if let Ok(super::rule::Statement::Include(i)) =
                            super::rule::parse_statement(&ctx)
                        {
                            out.push((n.pos, i));
                        }
                    }
                    NodeKind::Block(b) => walk(&b.children, name, out),
                    NodeKind::Invalid(_) => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.nodes, &self.name, &mut out);
        out
    }
}

impl fmt::Display for ProfileFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

struct Splitter<'a> {
    src: &'a str,
    b: &'a [u8],
    i: usize,
    line: u32,
    line_start: usize,
    name: &'a str,
    recover: bool,
    errors: Vec<ParseError>,
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\x0b' | b'\x0c')
}

impl<'a> Splitter<'a> {
    fn pos(&self) -> Pos {
        let col = self.src[self.line_start..self.i].chars().count() as u32 + 1;
        Pos {
            line: self.line,
            col,
        }
    }

    fn err(&self, pos: Pos, msg: impl Into<String>) -> ParseError {
        ParseError {
            file: self.name.to_string(),
            pos,
            message: msg.into(),
        }
    }

    fn bump(&mut self) {
        if self.b[self.i] == b'\n' {
            self.line += 1;
            self.line_start = self.i + 1;
        }
        self.i += 1;
        // stay on a char boundary
        while self.i < self.b.len() && !self.src.is_char_boundary(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn starts_with_word(&self, w: &str) -> bool {
        let rest = &self.b[self.i..];
        rest.starts_with(w.as_bytes())
            && rest
                .get(w.len())
                .is_none_or(|&c| is_ws(c) || c == b'<' || c == b'"')
    }

    /// `#include` style directives are statements, not comments.
    fn at_hash_include(&self) -> bool {
        self.b[self.i..].starts_with(b"#include")
            && self
                .b
                .get(self.i + 8)
                .is_some_and(|&c| is_ws(c) || c == b'<' || c == b'"')
    }

    /// Skip whitespace and comments; returns the skipped text.
    fn trivia(&mut self) -> String {
        let start = self.i;
        while let Some(c) = self.peek() {
            if is_ws(c) {
                self.bump();
            } else if c == b'#' && !self.at_hash_include() {
                while let Some(c) = self.peek() {
                    if c == b'\n' {
                        break;
                    }
                    self.bump();
                }
            } else {
                break;
            }
        }
        self.src[start..self.i].to_string()
    }

    fn items(&mut self, in_block: bool) -> Result<(Vec<Node>, String), ParseError> {
        let mut nodes = Vec::new();
        loop {
            let prefix = self.trivia();
            let Some(c) = self.peek() else {
                if in_block {
                    let e = self.err(self.pos(), "unexpected end of file: missing '}'");
                    if !self.recover {
                        return Err(e);
                    }
                    self.errors.push(e);
                }
                return Ok((nodes, prefix));
            };
            let pos = self.pos();
            let start = self.i;
            if c == b'}' {
                if in_block {
                    return Ok((nodes, prefix));
                }
                let e = self.err(self.pos(), "unexpected '}'");
                if !self.recover {
                    return Err(e);
                }
                self.errors.push(e);
                self.bump();
                nodes.push(Node {
                    prefix,
                    pos,
                    kind: NodeKind::Invalid("}".to_string()),
                });
                continue;
            }
            let kind = match self.node(c, pos, start) {
                Ok(k) => k,
                Err(e) if self.recover => {
                    self.errors.push(e);
                    if self.i == start {
                        self.bump();
                    }
                    NodeKind::Invalid(self.src[start..self.i].to_string())
                }
                Err(e) => return Err(e),
            };
            nodes.push(Node { prefix, pos, kind });
        }
    }

    fn node(&mut self, c: u8, pos: Pos, start: usize) -> Result<NodeKind, ParseError> {
        Ok(
            if self.at_hash_include()
                || (self.starts_with_word("include") && !self.looks_like_rule_after_include())
            {
                self.include_line()?;
                NodeKind::Statement(self.src[start..self.i].to_string())
            } else if c == b'$' || (c == b'@' && self.is_assignment()) {
                self.assignment_line();
                NodeKind::Statement(self.src[start..self.i].to_string())
            } else {
                match self.statement(pos)? {
                    true => {
                        let header = self.src[start..self.i].to_string();
                        let (children, close_prefix) = self.items(true)?;
                        let close_pos = self.pos();
                        let closed = self.peek() == Some(b'}');
                        if closed {
                            self.bump();
                        }
                        NodeKind::Block(Block {
                            header,
                            children,
                            close_prefix,
                            close_pos,
                            closed,
                        })
                    }
                    false => NodeKind::Statement(self.src[start..self.i].to_string()),
                }
            },
        )
    }

    /// `include` could in theory start a path-less rule; it never does in practice, so every
    /// `include` word starts a directive.
    fn looks_like_rule_after_include(&self) -> bool {
        false
    }

    fn include_line(&mut self) -> Result<(), ParseError> {
        // keyword
        while let Some(c) = self.peek() {
            if is_ws(c) || c == b'<' || c == b'"' {
                break;
            }
            self.bump();
        }
        self.skip_inline_ws();
        if self.b[self.i..].starts_with(b"if") && self.b.get(self.i + 2).is_some_and(|&c| is_ws(c))
        {
            self.bump();
            self.bump();
            self.skip_inline_ws();
            if self.b[self.i..].starts_with(b"exists") {
                for _ in 0..6 {
                    self.bump();
                }
                self.skip_inline_ws();
            }
        }
        let pos = self.pos();
        match self.peek() {
            Some(b'<') => {
                while let Some(c) = self.peek() {
                    self.bump();
                    if c == b'>' {
                        return Ok(());
                    }
                    if c == b'\n' {
                        break;
                    }
                }
                Err(self.err(pos, "unterminated include: missing '>'"))
            }
            Some(b'"') => {
                self.bump();
                while let Some(c) = self.peek() {
                    self.bump();
                    if c == b'"' {
                        return Ok(());
                    }
                    if c == b'\n' {
                        break;
                    }
                }
                Err(self.err(pos, "unterminated include: missing '\"'"))
            }
            Some(c) if !is_ws(c) => {
                while let Some(c) = self.peek() {
                    if is_ws(c) {
                        break;
                    }
                    self.bump();
                }
                Ok(())
            }
            _ => Err(self.err(pos, "include without a file name")),
        }
    }

    fn skip_inline_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == b' ' || c == b'\t' {
                self.bump();
            } else {
                break;
            }
        }
    }

    /// Like the upstream lexer, a `,` directly followed by a name character continues the
    /// word (`/foo,bar`, `fstype=ext3,ext4`) instead of ending the rule.
    fn comma_in_word(&self, prev_ws: bool, in_alt: bool) -> bool {
        if prev_ws {
            return false;
        }
        match self.b.get(self.i + 1) {
            Some(b'}') => in_alt,
            Some(&c) => !(is_ws(c) || matches!(c, b',' | b'"' | b'!' | b'#')),
            None => false,
        }
    }

    /// At a `{` that follows a blank: is it an alternation like `{a,/b}` (closed on the same
    /// line, no blanks inside, a `,` inside) rather than a block?
    fn alternation_ahead(&self) -> bool {
        let rest = &self.b[self.i + 1..];
        let mut depth = 1;
        let mut comma = false;
        for &c in rest {
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return comma;
                    }
                }
                b',' => comma = true,
                c if is_ws(c) => return false,
                _ => {}
            }
        }
        false
    }

    fn is_assignment(&self) -> bool {
        // @{name} or @name followed by optional ws and '=' or '+='
        let rest = &self.b[self.i..];
        let end = if rest.starts_with(b"@{") {
            match rest.iter().position(|&c| c == b'}') {
                Some(close) => close + 1,
                None => return false,
            }
        } else {
            1 + rest[1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count()
        };
        if end <= 1 {
            return false;
        }
        let mut j = end;
        while j < rest.len() && (rest[j] == b' ' || rest[j] == b'\t') {
            j += 1;
        }
        rest[j..].starts_with(b"=")
            || rest[j..].starts_with(b"+=")
            || rest[j..].starts_with(b"?=")
            || rest[j..].starts_with(b":=")
    }

    /// Variable and boolean assignments run to the end of the line (`\` continues it); a
    /// trailing comment and trailing blanks are left to the next node's prefix.
    fn assignment_line(&mut self) {
        let mut last_non_ws = self.i;
        let mut in_quote = false;
        while let Some(c) = self.peek() {
            if in_quote {
                if c == b'\\' {
                    self.bump();
                    if self.peek().is_some() {
                        self.bump();
                    }
                    last_non_ws = self.i;
                    continue;
                }
                if c == b'"' {
                    in_quote = false;
                }
                self.bump();
                last_non_ws = self.i;
                continue;
            }
            match c {
                b'\n' => break,
                b'\\' => {
                    // an escaped character, or a line continuation
                    self.bump();
                    if self.peek().is_some() {
                        self.bump();
                    }
                    last_non_ws = self.i;
                }
                b'#' if self.i > 0 && is_ws(self.b[self.i - 1]) => break,
                b'"' => {
                    in_quote = true;
                    self.bump();
                    last_non_ws = self.i;
                }
                c if is_ws(c) => self.bump(),
                _ => {
                    self.bump();
                    last_non_ws = self.i;
                }
            }
        }
        // rewind to just after the last non-blank byte
        self.rewind_to(last_non_ws);
    }

    fn rewind_to(&mut self, target: usize) {
        if target >= self.i {
            return;
        }
        // only the newlines between `target` and here need undoing
        let undone = self.b[target..self.i]
            .iter()
            .filter(|&&c| c == b'\n')
            .count() as u32;
        self.i = target;
        if undone > 0 {
            self.line -= undone;
            self.line_start = self.b[..self.i]
                .iter()
                .rposition(|&c| c == b'\n')
                .map(|p| p + 1)
                .unwrap_or(0);
        }
    }

    /// Scan one statement. Returns `true` when it turned out to be a block header (the
    /// opening `{` consumed), `false` for a statement ended by `,` (consumed).
    fn statement(&mut self, start: Pos) -> Result<bool, ParseError> {
        let mut paren = 0u32;
        let mut alt = 0u32;
        let mut prev_ws = true;
        let mut prev_sep = true;
        let mut paren_pos = start;
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    let qpos = self.pos();
                    self.bump();
                    let mut closed = false;
                    while let Some(c) = self.peek() {
                        if c == b'\\' {
                            self.bump();
                            if self.peek().is_some() {
                                self.bump();
                            }
                            continue;
                        }
                        self.bump();
                        if c == b'"' {
                            closed = true;
                            break;
                        }
                    }
                    if !closed {
                        return Err(self.err(qpos, "unterminated quoted string"));
                    }
                    prev_ws = false;
                    prev_sep = false;
                    continue;
                }
                b'#' if prev_ws => {
                    // comment inside a statement: to end of line
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.bump();
                    }
                    continue;
                }
                b'(' => {
                    if paren == 0 {
                        paren_pos = self.pos();
                    }
                    paren += 1;
                }
                b')' => {
                    if paren == 0 {
                        return Err(self.err(self.pos(), "unbalanced ')'"));
                    }
                    paren -= 1;
                }
                b'{' => {
                    if prev_sep && paren == 0 && alt == 0 && !self.alternation_ahead() {
                        self.bump();
                        return Ok(true);
                    }
                    alt += 1;
                }
                b'}' => {
                    if !prev_sep || paren > 0 || alt > 0 {
                        alt = alt.saturating_sub(1);
                    } else {
                        return Err(self.err(
                            self.pos(),
                            "unexpected '}': missing ',' at the end of the previous rule",
                        ));
                    }
                }
                b',' if paren == 0 && !self.comma_in_word(prev_ws, alt > 0) => {
                    self.bump();
                    return Ok(false);
                }
                b'\\' => {
                    self.bump();
                    if self.peek().is_some() {
                        self.bump();
                    }
                    prev_ws = false;
                    prev_sep = false;
                    continue;
                }
                _ => {}
            }
            prev_ws = is_ws(c) || c == b',' || c == b'(' || c == b')';
            prev_sep = is_ws(c) || c == b')';
            self.bump();
        }
        if paren > 0 {
            return Err(self.err(paren_pos, "unterminated '(': missing ')'"));
        }
        Err(self.err(
            start,
            "unexpected end of file: statement is missing its ','",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_simple() {
        let src = "# c\n#include <tunables/global>\n@{X}=a b # c\n/usr/bin/foo flags=(complain) {\n  /a/{b,c} r, # x\n  ^hat { /x w, }\n  if $b { /y r, } else { /z r, }\n}\n";
        let f = ProfileFile::parse("t", src).expect("parses");
        assert_eq!(f.to_text(), src);
        assert_eq!(f.nodes.len(), 3);
    }

    #[test]
    fn errors_have_positions() {
        let e = ProfileFile::parse("t", "/a {\n  /b r\n}\n").expect_err("must fail");
        assert_eq!(e.pos.line, 3);
    }
}
