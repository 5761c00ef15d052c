//! Path helpers of the AppArmor utils: glob suggestions, escaping a literal path, and the
//! parser's slash filtering.
//!
//! [`glob_path`] and [`glob_path_withext`] follow `AARE.glob_path()` /
//! `AARE.glob_path_withext()` of `utils/apparmor/aare.py` rule for rule (they are text
//! rewrites, not automaton operations), so suggestions match what `aa-logprof` offers.

use std::sync::OnceLock;

use regex::{NoExpand, Regex};

fn re(cell: &'static OnceLock<Regex>, pat: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pat).expect("fixed glob-rewrite regex is valid"))
}

macro_rules! fixed {
    ($name:ident, $pat:expr) => {
        fn $name() -> &'static Regex {
            static CELL: OnceLock<Regex> = OnceLock::new();
            re(&CELL, $pat)
        }
    };
}

fixed!(dir_component_glob, r"/[^/]+/\*{1,2}/$");
fixed!(dir_dstar_in_name, r"/[^/]+\*\*[^/]*/$");
fixed!(dir_dstar_prefix, r"/\*\*[^/]+/$");
fixed!(dir_last, r"/[^/]+/$");
fixed!(file_component_glob, r"/[^/]+/\*{1,2}$");
fixed!(file_dstar_then_more, r"/[^/]*\*\*[^/]+$");
fixed!(file_dstar_suffix, r"/[^/]+\*\*$");
fixed!(file_last, r"/[^/]+$");
fixed!(ext_glob, r"/\*{1,2}(\.[^/]+)$");
fixed!(ext_glob_replace, r"/[^/]+/\*{1,2}\.[^/]+$");
fixed!(ext_dstar_in_name, r"/[^/]+\*\*[^/]*(\.[^/]+)$");
fixed!(ext_dstar_prefix, r"/\*\*[^/]+(\.[^/]+)$");
fixed!(ext_only, r"(\.[^/]+)$");
fixed!(ext_last, r"/[^/]+(\.[^/]+)$");

/// The next broader glob for a file or directory path, as `aa-logprof`'s "Glob" button does:
/// `/usr/foo/bar` → `/usr/foo/*`, `/usr/foo/*` → `/usr/**`, `/usr/foo/bar/` → `/usr/foo/*/`.
pub fn glob_path(path: &str) -> String {
    let sub = |r: &Regex, with: &str| r.replace(path, NoExpand(with)).into_owned();
    if path.ends_with('/') {
        if path.ends_with("/**/") || path.ends_with("/*/") {
            sub(dir_component_glob(), "/**/")
        } else if dir_dstar_in_name().is_match(path) {
            sub(dir_dstar_in_name(), "/**/")
        } else if dir_dstar_prefix().is_match(path) {
            sub(dir_dstar_prefix(), "/**/")
        } else {
            sub(dir_last(), "/*/")
        }
    } else if path.ends_with("/**") || path.ends_with("/*") {
        sub(file_component_glob(), "/**")
    } else if file_dstar_then_more().is_match(path) {
        sub(file_dstar_then_more(), "/**")
    } else if file_dstar_suffix().is_match(path) {
        sub(file_dstar_suffix(), "/**")
    } else {
        sub(file_last(), "/*")
    }
}

/// The next broader glob keeping the file extension, as `aa-logprof`'s "Glob (with
/// extension)" does: `/usr/foo.bar` → `/usr/*.bar`, `/usr/*.bar` → `/**.bar`. Paths without
/// an extension, and directories, come back unchanged.
pub fn glob_path_withext(path: &str) -> String {
    let cap1 = |r: &Regex| {
        r.captures(path)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_owned())
    };
    if let Some(ext) = cap1(ext_glob()) {
        return ext_glob_replace()
            .replace(path, NoExpand(&format!("/**{ext}")))
            .into_owned();
    }
    if let Some(ext) = cap1(ext_dstar_in_name()) {
        return ext_dstar_in_name()
            .replace(path, NoExpand(&format!("/**{ext}")))
            .into_owned();
    }
    if let Some(ext) = cap1(ext_dstar_prefix()) {
        return ext_dstar_prefix()
            .replace(path, NoExpand(&format!("/**{ext}")))
            .into_owned();
    }
    if let Some(ext) = cap1(ext_only()) {
        return ext_last()
            .replace(path, NoExpand(&format!("/*{ext}")))
            .into_owned();
    }
    path.to_owned()
}

/// Quote a literal path (e.g. from an audit log) so that, as AARE, it matches only itself:
/// `\ ? * [ ] { } " !` get a backslash (the utils' `convert_expression_to_aare`), and every
/// control, bidirectional or invisible character ([`crate::display::is_hidden`], tabs too) is
/// written byte by byte as AppArmor's hex escape `\xHH`, so a profile never receives one raw.
pub fn escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    for c in path.chars() {
        if crate::display::is_hidden(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
            continue;
        }
        if matches!(c, '\\' | '?' | '*' | '[' | ']' | '{' | '}' | '"' | '!') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The parser's `filter_slashes`: collapse runs of `/` into one, except that a leading `//`
/// followed by something else (a Linux namespace) is kept. The parser applies this to file
/// rule paths before compiling them.
pub fn filter_slashes(path: &str) -> String {
    if path.len() < 2 {
        return path.to_owned();
    }
    let b = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    if b[0] == b'/' && b[1] == b'/' && b.get(2) != Some(&b'/') {
        out.push_str("//");
        rest = &path[2..];
    }
    let mut seen_slash = false;
    for c in rest.chars() {
        if c == '/' {
            if !seen_slash {
                out.push(c);
                seen_slash = true;
            }
        } else {
            seen_slash = false;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_writes_hidden_characters_as_hex_escapes_that_still_match() {
        let name = "/tmp/a\x1b]52;c;AA==\x07 b\u{202e}\u{200b}\u{e0041}\tc[1]";
        let esc = escape(name);
        assert_eq!(
            esc,
            "/tmp/a\\x1b\\]52;c;AA==\\x07 b\\xe2\\x80\\xae\\xe2\\x80\\x8b\\xf3\\xa0\\x81\\x81\\x09c\\[1\\]"
        );
        assert!(!crate::display::has_hidden(&esc));
        let p = crate::aare::Pattern::compile(&esc).expect("compiles");
        assert!(p.is_match(name), "{esc}");
        assert!(!p.is_match("/tmp/a"));
    }

    #[test]
    fn filter_slashes_keeps_namespace_prefix() {
        assert_eq!(filter_slashes("//ns/a//b"), "//ns/a/b");
        assert_eq!(filter_slashes("///a//b///"), "/a/b/");
        assert_eq!(filter_slashes("/"), "/");
        assert_eq!(filter_slashes("//"), "//");
    }

    #[test]
    fn escape_quotes_every_special() {
        assert_eq!(
            escape("/a b/[x]{y}*?!\"\\"),
            "/a b/\\[x\\]\\{y\\}\\*\\?\\!\\\"\\\\"
        );
    }
}
