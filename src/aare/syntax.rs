//! Stage 2: the parser's PCRE-like text to a regex HIR, with `libapparmor_re`'s grammar.
//!
//! After `convert_aaregex_to_pcre`, the real parser hands the text to the yacc grammar in
//! `parser/libapparmor_re/parse.y`. This module is a recursive-descent reading of that grammar:
//! `|`, `(…)`, `*`, `+`, `.`, `[…]`, `[^…]`, escapes through `strn_escseq`. Its quirks are kept
//! on purpose (they decide what real profiles mean): `[` inside a class is literal, a class may
//! not end in `-` (`[a-]` is an error), reversed ranges are swapped, and `[^…]` matches any
//! byte not listed, `/` and NUL included. It matches bytes, not characters, like the kernel.
//!
//! One documented reading: for an escape the grammar does not know (only `\,` inside a class
//! can reach this stage) the lexer yields a literal `\` and then reads the character again.

use regex_syntax::hir::{Class, ClassBytes, ClassBytesRange, Hir, Repetition};

use super::convert::escape_sequence;

/// Characters an escape stands for literally in `libapparmor_re`'s lexer.
const LEXER_LITERALS: &[u8] = b"*+.|^$-[](){}";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    /// A literal byte (plain or escaped).
    Char(u8),
    /// One of `* + . | ^ - [ ] ( )` unescaped.
    Op(u8),
}

/// A syntax error in the PCRE-like text, with its byte offset there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) offset: usize,
    pub(crate) message: &'static str,
}

fn lex(text: &[u8]) -> Vec<(Tok, usize)> {
    let mut toks = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        let start = i;
        i += 1;
        match c {
            b'*' | b'+' | b'.' | b'|' | b'^' | b'-' | b'[' | b']' | b'(' | b')' => {
                toks.push((Tok::Op(c), start));
            }
            b'\\' => {
                let e = escape_sequence(&text[i..], LEXER_LITERALS);
                match e.value {
                    Some(v) => {
                        toks.push((Tok::Char(v), start));
                        i += e.len;
                    }
                    None => toks.push((Tok::Char(b'\\'), start)),
                }
            }
            _ => toks.push((Tok::Char(c), start)),
        }
    }
    toks
}

struct Parser<'a> {
    toks: &'a [(Tok, usize)],
    pos: usize,
    end: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.pos).map(|t| t.0)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.1)
    }

    fn fail<T>(&self, message: &'static str) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            offset: self.offset(),
            message,
        })
    }

    /// `regex`: alternatives separated by `|`, each possibly empty.
    fn regex(&mut self, depth: usize) -> Result<Hir, SyntaxError> {
        if depth > 256 {
            return self.fail("nesting too deep");
        }
        let mut alts = vec![self.terms(depth)?];
        while self.peek() == Some(Tok::Op(b'|')) {
            self.pos += 1;
            alts.push(self.terms(depth)?);
        }
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or_else(Hir::empty)
        } else {
            Hir::alternation(alts)
        })
    }

    /// `terms0`: a possibly empty sequence of `qterm`s.
    fn terms(&mut self, depth: usize) -> Result<Hir, SyntaxError> {
        let mut seq = Vec::new();
        loop {
            match self.peek() {
                None | Some(Tok::Op(b'|')) | Some(Tok::Op(b')')) => break,
                Some(Tok::Op(b'*')) | Some(Tok::Op(b'+')) => {
                    return self.fail("'*' or '+' with nothing to repeat")
                }
                _ => {}
            }
            let term = self.term(depth)?;
            let term = match self.peek() {
                Some(Tok::Op(op @ (b'*' | b'+'))) => {
                    self.pos += 1;
                    Hir::repetition(Repetition {
                        min: u32::from(op == b'+'),
                        max: None,
                        greedy: true,
                        sub: Box::new(term),
                    })
                }
                _ => term,
            };
            seq.push(term);
        }
        Ok(Hir::concat(seq))
    }

    fn term(&mut self, depth: usize) -> Result<Hir, SyntaxError> {
        let Some(tok) = self.peek() else {
            return self.fail("unexpected end");
        };
        self.pos += 1;
        match tok {
            Tok::Char(c) | Tok::Op(c @ (b'^' | b'-' | b']')) => Ok(Hir::literal([c])),
            Tok::Op(b'.') => Ok(Hir::class(Class::Bytes(ClassBytes::new([
                ClassBytesRange::new(0, 255),
            ])))),
            Tok::Op(b'(') => {
                let inner = self.regex(depth + 1)?;
                if self.peek() != Some(Tok::Op(b')')) {
                    return self.fail("missing ')'");
                }
                self.pos += 1;
                Ok(inner)
            }
            Tok::Op(b'[') => self.class(),
            Tok::Op(_) => {
                self.pos -= 1;
                self.fail("unexpected operator")
            }
        }
    }

    /// After `[`: `charset ']'`, `'^' charset ']'` or `'^' '^' cset_chars ']'`.
    fn class(&mut self) -> Result<Hir, SyntaxError> {
        let mut set: Vec<ClassBytesRange> = Vec::new();
        let negated = self.peek() == Some(Tok::Op(b'^'));
        if negated {
            self.pos += 1;
        }
        if negated && self.peek() == Some(Tok::Op(b'^')) {
            self.pos += 1;
            set.push(ClassBytesRange::new(b'^', b'^'));
        } else {
            // cset_char1: any cset_char, or ']' or '-'.
            let first = match self.peek() {
                Some(Tok::Char(c)) => c,
                Some(Tok::Op(c)) if c != b'^' => c,
                _ => return self.fail("empty or unterminated character class"),
            };
            self.pos += 1;
            self.range_or_char(first, &mut set)?;
        }
        // cset_chars, then ']'.
        loop {
            match self.peek() {
                Some(Tok::Op(b']')) => {
                    self.pos += 1;
                    break;
                }
                Some(Tok::Char(c)) | Some(Tok::Op(c)) if c != b'-' || self.is_char() => {
                    self.pos += 1;
                    self.range_or_char(c, &mut set)?;
                }
                Some(_) => return self.fail("'-' must be escaped or between two characters"),
                None => return self.fail("missing ']'"),
            }
        }
        let mut class = ClassBytes::new(set);
        if negated {
            class.negate();
        }
        Ok(Hir::class(Class::Bytes(class)))
    }

    fn is_char(&self) -> bool {
        matches!(self.peek(), Some(Tok::Char(_)))
    }

    /// After a class character: an optional `- cset_charN` makes a range.
    fn range_or_char(
        &mut self,
        from: u8,
        set: &mut Vec<ClassBytesRange>,
    ) -> Result<(), SyntaxError> {
        if self.peek() == Some(Tok::Op(b'-')) {
            self.pos += 1;
            let to = match self.peek() {
                Some(Tok::Char(c)) => c,
                Some(Tok::Op(c)) if !matches!(c, b']' | b'-') => c,
                _ => return self.fail("a range needs a character after '-'"),
            };
            self.pos += 1;
            set.push(ClassBytesRange::new(from.min(to), from.max(to)));
        } else {
            set.push(ClassBytesRange::new(from, from));
        }
        Ok(())
    }
}

/// Parse PCRE-like text as `libapparmor_re` does; the result matches a whole string when
/// anchored by the caller.
pub(crate) fn parse(pcre: &str) -> Result<Hir, SyntaxError> {
    let toks = lex(pcre.as_bytes());
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        end: pcre.len(),
    };
    let hir = p.regex(0)?;
    if p.pos < toks.len() {
        return p.fail("unbalanced ')'");
    }
    Ok(hir)
}
