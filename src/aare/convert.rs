//! Stage 1: AARE text to the parser's PCRE-like text (`convert_aaregex_to_pcre`).
//!
//! This module reproduces, rule for rule, what `parser/parser_regex.c` emits and rejects, so
//! [`super::Pattern::to_regex`] can be compared byte for byte with the real parser. It does not
//! give the text a meaning: [`super::syntax`] does that, with the DFA grammar of
//! `libapparmor_re`, exactly as the parser does after this step.

use super::{AareError, ErrorKind, GlobMode, PatternKind};

/// Deepest `{…}` nesting the parser accepts (`MAX_ALT_DEPTH` is 50 and `ingrouping` must stay
/// below it).
const MAX_ALT_DEPTH: usize = 50;

/// Result of one escape sequence: the byte it stands for, and how many input bytes it used
/// after the backslash.
pub(crate) struct Escape {
    pub(crate) value: Option<u8>,
    pub(crate) len: usize,
}

/// `strn_escseq` of `parser/lib.c`: decode the escape starting right after a backslash.
///
/// `chrs` lists characters that stand for themselves (`\+` gives `+`). On an unknown escape
/// `value` is `None` and `len` is 0 (the character after the backslash is not consumed), except
/// for `\d`/`\x` without digits, where the parser has consumed the letter (`len` is 1).
pub(crate) fn escape_sequence(rest: &[u8], chrs: &[u8]) -> Escape {
    let Some(&c) = rest.first() else {
        return Escape {
            value: None,
            len: 0,
        };
    };
    if (b'0'..=b'7').contains(&c) {
        let (v, n) = number(rest, 8, 3);
        return Escape {
            value: Some(v),
            len: n,
        };
    }
    let simple = |v: u8| Escape {
        value: Some(v),
        len: 1,
    };
    match c {
        b'\\' => simple(b'\\'),
        b'"' => simple(b'"'),
        b'd' | b'x' => {
            let (base, max) = if c == b'd' { (10, 3) } else { (16, 2) };
            let (v, n) = number(&rest[1..], base, max);
            if n == 0 {
                Escape {
                    value: None,
                    len: 1,
                }
            } else {
                Escape {
                    value: Some(v),
                    len: 1 + n,
                }
            }
        }
        b'a' => simple(0x07),
        b'e' => simple(0x1b),
        b'f' => simple(0x0c),
        b'n' => simple(b'\n'),
        b'r' => simple(b'\r'),
        b't' => simple(b'\t'),
        _ if chrs.contains(&c) => simple(c),
        _ => Escape {
            value: None,
            len: 0,
        },
    }
}

/// `strntol`: the longest run of at most `max_digits` digits whose value stays within 255.
fn number(s: &[u8], base: u32, max_digits: usize) -> (u8, usize) {
    let mut val: u32 = 0;
    let mut n = 0;
    for &b in s.iter().take(max_digits) {
        let Some(d) = (b as char).to_digit(base) else {
            break;
        };
        let next = val * base + d;
        if next > 255 {
            break;
        }
        val = next;
        n += 1;
    }
    // `val` <= 255 by construction.
    (u8::try_from(val).unwrap_or(u8::MAX), n)
}

/// Convert AARE text to the parser's PCRE-like text, with the parser's errors.
pub(crate) fn to_pcre(aare: &str, glob: GlobMode) -> Result<(String, PatternKind), AareError> {
    to_pcre_mapped(aare, glob).map(|(p, k, _)| (p, k))
}

/// [`to_pcre`], plus for each output byte the offset of the input byte that produced it.
pub(crate) fn to_pcre_mapped(
    aare: &str,
    glob: GlobMode,
) -> Result<(String, PatternKind, Vec<usize>), AareError> {
    let src = aare.as_bytes();
    let err = |offset: usize, kind: ErrorKind| Err(AareError::new(aare, offset, kind));
    if let Some(pos) = src.iter().position(|&b| b == 0) {
        return err(pos, ErrorKind::NulByte);
    }
    let (star_default, star_null) = ("[^/\\x00]*", "[^/]*");
    let (dstar_default, dstar_null) = ("[^\\x00]*", ".*");
    let (one_default, one_null) = ("[^/\\x00]", "[^/]");
    let pick = |d: &'static str, n: &'static str| match glob {
        GlobMode::Default => d,
        GlobMode::Null => n,
    };

    let mut out: Vec<u8> = Vec::with_capacity(src.len() * 2);
    let mut kind = PatternKind::Basic;
    let mut escape = false;
    let mut grouping: usize = 0;
    let mut in_class = false;
    let mut group_items = [0usize; MAX_ALT_DEPTH];
    // Where the innermost open `{` and `[` were, for error messages.
    let mut open_braces: Vec<usize> = Vec::new();
    let mut class_open = 0usize;

    let mut origin: Vec<usize> = Vec::with_capacity(src.len() * 2);
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        let token_start = if escape { i - 1 } else { i };
        match c {
            b'\\' => {
                if escape {
                    out.extend_from_slice(b"\\\\");
                } else {
                    escape = true;
                    i += 1;
                    continue;
                }
            }
            b'*' => {
                if escape {
                    out.extend_from_slice(b"\\*");
                } else {
                    if out.last() == Some(&b'/') {
                        // `/*`, `/**` as a whole path component must match at least one
                        // character, so `/foo/*` does not match `/foo/`.
                        let mut s = i;
                        while s < src.len() && src[s] == b'*' {
                            s += 1;
                        }
                        if s == src.len() || src[s] == b'/' {
                            out.extend_from_slice(pick(one_default, one_null).as_bytes());
                        }
                    }
                    if src.get(i + 1) == Some(&b'*') {
                        kind = if i + 2 == src.len() && kind == PatternKind::Basic {
                            PatternKind::TailGlob
                        } else {
                            PatternKind::Regex
                        };
                        out.extend_from_slice(pick(dstar_default, dstar_null).as_bytes());
                        i += 1;
                    } else {
                        kind = PatternKind::Regex;
                        out.extend_from_slice(pick(star_default, star_null).as_bytes());
                    }
                }
            }
            b'?' => {
                if escape {
                    out.push(b'?');
                } else {
                    kind = PatternKind::Regex;
                    out.extend_from_slice(pick(one_default, one_null).as_bytes());
                }
            }
            b'[' => {
                if escape {
                    out.extend_from_slice(b"\\[");
                } else {
                    in_class = true;
                    class_open = i;
                    kind = PatternKind::Regex;
                    out.push(b'[');
                }
            }
            b']' => {
                if escape {
                    out.extend_from_slice(b"\\]");
                } else {
                    if !in_class {
                        return err(i, ErrorKind::UnopenedClass);
                    }
                    in_class = false;
                    out.push(b']');
                }
            }
            b'{' => {
                if escape {
                    out.extend_from_slice(b"\\{");
                } else if in_class {
                    out.push(b'{');
                } else {
                    grouping += 1;
                    if grouping >= MAX_ALT_DEPTH {
                        return err(i, ErrorKind::TooDeep);
                    }
                    group_items[grouping] = 0;
                    open_braces.push(i);
                    kind = PatternKind::Regex;
                    out.push(b'(');
                }
            }
            b'}' => {
                if escape {
                    out.extend_from_slice(b"\\}");
                } else if in_class {
                    out.push(b'}');
                } else {
                    if grouping == 0 {
                        return err(i, ErrorKind::UnopenedGroup);
                    }
                    if group_items[grouping] == 0 {
                        return err(i, ErrorKind::SingleAlternative);
                    }
                    grouping -= 1;
                    open_braces.pop();
                    out.push(b')');
                }
            }
            b',' => {
                if escape {
                    if in_class {
                        out.extend_from_slice(b"\\,");
                    } else {
                        out.push(b',');
                    }
                } else if grouping > 0 && !in_class {
                    group_items[grouping] += 1;
                    out.push(b'|');
                } else {
                    out.push(b',');
                }
            }
            b'^' | b'$' => {
                if !in_class {
                    out.push(b'\\');
                }
                out.push(c);
            }
            _ => {
                if matches!(c, b'.' | b'+' | b'|' | b'(' | b')') {
                    out.push(b'\\');
                }
                if escape {
                    let e = escape_sequence(&src[i..], b"");
                    if e.value.is_some() {
                        out.push(b'\\');
                        out.extend_from_slice(&src[i..i + e.len]);
                        i += e.len - 1;
                    } else {
                        // The parser warns that the quote was unnecessary and drops it.
                        out.push(c);
                    }
                } else {
                    out.push(c);
                }
            }
        }
        origin.resize(out.len(), token_start);
        escape = false;
        i += 1;
    }
    if in_class {
        return err(class_open, ErrorKind::UnclosedClass);
    }
    if grouping > 0 {
        return err(
            open_braces.last().copied().unwrap_or(src.len()),
            ErrorKind::UnclosedGroup,
        );
    }
    if escape {
        return err(src.len() - 1, ErrorKind::TrailingEscape);
    }
    let pcre = String::from_utf8(out)
        .expect("only ASCII is added, and input bytes are copied in order, so UTF-8 stays valid");
    Ok((pcre, kind, origin))
}
