//! `@{VAR}` expansion into alternations, as the parser's `expand_by_alternation` does.
//!
//! A variable with one value is replaced by it; with several, by `{v1,v2,…}` (values sorted
//! and de-duplicated, as the parser keeps them in a set). Values may themselves use variables
//! (expanded first; a cycle is an error). When the text before the variable ends in `/`, the
//! values lose their leading slashes; when the text after starts with `/`, their trailing ones,
//! so `/@{HOME}/x` with `HOME=/home/*/` gives `/{home/*}/x`-style text without `//`.
//! `@{a,b}` (a comma in the name) is the deprecated alternation and is left alone.

use std::collections::{BTreeSet, HashMap};

use super::{AareError, ErrorKind};

/// Deepest chain of variables referring to variables.
const MAX_DEPTH: usize = 32;

/// Byte offset of the first unescaped `@{` that starts a variable reference (not the
/// deprecated `@{a,b}` alternation), if any.
pub(crate) fn find_variable(text: &str) -> Option<usize> {
    next_var(text).map(|(start, _, _)| start)
}

/// Find the first variable reference: (start of `@`, end after `}`, name).
fn next_var(text: &str) -> Option<(usize, usize, &str)> {
    let b = text.as_bytes();
    let mut escape = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => escape = !escape,
            b'@' if !escape && b.get(i + 1) == Some(&b'{') => {
                let close = text[i + 2..].find('}')? + i + 2;
                let name = &text[i + 2..close];
                if !name.contains(',') {
                    return Some((i, close + 1, name));
                }
                i = close;
            }
            _ => escape = false,
        }
        i += 1;
    }
    None
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Expand every `@{VAR}` in `pattern` from a map of name (without `@{}`) to values.
pub fn expand_variables<S: AsRef<str>>(
    pattern: &str,
    vars: &HashMap<String, Vec<S>>,
) -> Result<String, AareError> {
    expand_variables_with(pattern, &|name: &str| {
        vars.get(name)
            .map(|v| v.iter().map(|s| s.as_ref().to_owned()).collect())
    })
}

/// Expand every `@{VAR}` in `pattern`, asking `resolve` for each variable's values (`None`:
/// unknown variable, an error). Values may refer to other variables.
pub fn expand_variables_with(
    pattern: &str,
    resolve: &dyn Fn(&str) -> Option<Vec<String>>,
) -> Result<String, AareError> {
    let mut stack = Vec::new();
    expand(pattern, pattern, resolve, &mut stack)
}

fn expand(
    original: &str,
    text: &str,
    resolve: &dyn Fn(&str) -> Option<Vec<String>>,
    stack: &mut Vec<String>,
) -> Result<String, AareError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut consumed = 0usize;
    while let Some((start, end, name)) = next_var(rest) {
        let err_at = |kind| {
            // Offsets are exact for the top-level pattern; inside a value, point at its use.
            let off = if stack.is_empty() {
                consumed + start
            } else {
                0
            };
            AareError::new(original, off, kind)
        };
        if !valid_name(name) {
            return Err(err_at(ErrorKind::BadVariableName));
        }
        if stack.iter().any(|s| s == name) || stack.len() >= MAX_DEPTH {
            return Err(err_at(ErrorKind::VariableCycle));
        }
        let Some(raw) = resolve(name) else {
            return Err(err_at(ErrorKind::UnknownVariable));
        };
        if raw.is_empty() {
            return Err(err_at(ErrorKind::UnknownVariable));
        }
        stack.push(name.to_owned());
        let mut values = BTreeSet::new();
        for v in &raw {
            values.insert(expand(original, v, resolve, stack)?);
        }
        stack.pop();

        let prefix = &rest[..start];
        out.push_str(prefix);
        let full_prefix_ends_slash = out.ends_with('/') && !out.trim_start_matches('/').is_empty();
        let suffix_starts_slash = rest[end..].starts_with('/');
        let mut trimmed: Vec<&str> = values
            .iter()
            .map(|v| {
                let mut v = v.as_str();
                if full_prefix_ends_slash {
                    v = v.trim_start_matches('/');
                }
                if suffix_starts_slash {
                    v = v.trim_end_matches('/');
                }
                v
            })
            .collect();
        if trimmed.len() > 1 {
            out.push('{');
            out.push_str(&trimmed.join(","));
            out.push('}');
        } else {
            out.push_str(trimmed.pop().unwrap_or_default());
        }
        consumed += end;
        rest = &rest[end..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn single_multiple_nested_and_slashes() {
        let vars = map(&[
            ("HOME", &["/home/*/", "/root/"]),
            ("PROC", &["/proc/"]),
            ("X", &["@{PROC}sys"]),
        ]);
        assert_eq!(expand_variables("@{PROC}", &vars).unwrap(), "/proc/");
        assert_eq!(
            expand_variables("@{HOME}/.x", &vars).unwrap(),
            "{/home/*,/root}/.x"
        );
        assert_eq!(expand_variables("/a/@{X}", &vars).unwrap(), "/a/proc/sys");
        assert_eq!(expand_variables("\\@{HOME}", &vars).unwrap(), "\\@{HOME}");
        assert_eq!(expand_variables("@{a,b}", &vars).unwrap(), "@{a,b}");
    }

    #[test]
    fn errors_name_the_problem() {
        let vars = map(&[("A", &["@{B}"]), ("B", &["@{A}"])]);
        assert_eq!(
            expand_variables("/x/@{A}", &vars).unwrap_err().kind,
            ErrorKind::VariableCycle
        );
        let e = expand_variables("/x/@{NOPE}", &vars).unwrap_err();
        assert_eq!((e.kind, e.column), (ErrorKind::UnknownVariable, 4));
        assert_eq!(
            expand_variables("/x/@{1a}", &vars).unwrap_err().kind,
            ErrorKind::BadVariableName
        );
    }
}
