//! The `[globs]` rewrites of the utils' `logprof.conf` (e.g. `/proc/1234/` → `/proc/*/`).
//!
//! Owns reading that section (`REGEX = REPLACEMENT` lines, `#` comments) and applying it to
//! an observed path. It does not decide whether a rewrite is wise: a rewrite is only ever
//! offered as an alternative, and the cross-check measures how much it opens.

use std::path::Path;

/// A failure to read a `logprof.conf`.
#[derive(Debug, thiserror::Error)]
pub enum GlobsError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A `[globs]` line is not `REGEX = REPLACEMENT`, or its regex is invalid.
    #[error("{path}:{line}: {reason}")]
    Line {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// One rewrite: where `regex` matches an observed path, replace the match with `replacement`.
#[derive(Debug, Clone)]
pub struct GlobRewrite {
    /// The regular expression as written.
    pub pattern: String,
    regex: regex::Regex,
    /// The replacement text (literal: no `$` expansion).
    pub replacement: String,
}

/// The `[globs]` section, in file order.
#[derive(Debug, Clone, Default)]
pub struct Globs {
    rewrites: Vec<GlobRewrite>,
}

/// Where the utils install `logprof.conf`.
pub const DEFAULT_LOGPROF_CONF: &str = "/etc/apparmor/logprof.conf";

impl Globs {
    /// Reads the `[globs]` section of a `logprof.conf`.
    pub fn load(path: &Path) -> Result<Globs, GlobsError> {
        let text = std::fs::read_to_string(path).map_err(|source| GlobsError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Globs::parse(&path.display().to_string(), &text)
    }

    /// Reads `/etc/apparmor/logprof.conf` when present; an empty set otherwise.
    pub fn system() -> Globs {
        Globs::load(Path::new(DEFAULT_LOGPROF_CONF)).unwrap_or_default()
    }

    /// Parses the `[globs]` section of `text` (`name` is used in errors).
    pub fn parse(name: &str, text: &str) -> Result<Globs, GlobsError> {
        let mut in_globs = false;
        let mut rewrites = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') {
                in_globs = line == "[globs]";
                continue;
            }
            if !in_globs {
                continue;
            }
            let err = |reason: String| GlobsError::Line {
                path: name.to_string(),
                line: i + 1,
                reason,
            };
            // The regex may itself hold `=`; the utils split at the last ` = `-style `=`.
            let (pat, rep) = line
                .rsplit_once('=')
                .ok_or_else(|| err("expected `REGEX = REPLACEMENT`".to_string()))?;
            let (pat, rep) = (pat.trim(), rep.trim());
            if pat.is_empty() || rep.is_empty() {
                return Err(err("expected `REGEX = REPLACEMENT`".to_string()));
            }
            let regex = regex::Regex::new(pat).map_err(|e| err(format!("bad regex: {e}")))?;
            rewrites.push(GlobRewrite {
                pattern: pat.to_string(),
                regex,
                replacement: rep.to_string(),
            });
        }
        Ok(Globs { rewrites })
    }

    /// Number of rewrites.
    pub fn len(&self) -> usize {
        self.rewrites.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.rewrites.is_empty()
    }

    /// Every distinct rewrite of `path` (one per matching rewrite, in file order), never the
    /// path itself.
    pub fn rewrite(&self, path: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.rewrites {
            if r.regex.is_match(path) {
                let new = r
                    .regex
                    .replace(path, regex::NoExpand(&r.replacement))
                    .into_owned();
                if new != path && !out.contains(&new) {
                    out.push(new);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = r"
[settings]
  foo = bar
[globs]
  # comment
  /lib/lib[^\/]+so[^\/]*$           = /lib/lib*so*
  ^/proc/\d+/                       = /proc/*/
  ^/home/[^\/]+                     = /home/*
  ^/usr/share/locale/.+$            = /usr/share/locale/**
[qualifiers]
  /bin/bash = icnu
";

    #[test]
    fn parses_only_the_globs_section_and_rewrites() {
        let g = Globs::parse("t", CONF).expect("parses");
        assert_eq!(g.len(), 4);
        assert_eq!(g.rewrite("/proc/1234/status"), vec!["/proc/*/status"]);
        assert_eq!(g.rewrite("/home/alice/.bashrc"), vec!["/home/*/.bashrc"]);
        assert_eq!(g.rewrite("/usr/lib/libfoo.so.1"), vec!["/usr/lib/lib*so*"]);
        assert_eq!(
            g.rewrite("/usr/share/locale/de/LC_MESSAGES/x.mo"),
            vec!["/usr/share/locale/**"]
        );
        assert!(g.rewrite("/etc/hosts").is_empty());
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let e = Globs::parse("conf", "[globs]\n  ^/proc/(\\d+/ = x\n").expect_err("bad regex");
        assert!(e.to_string().starts_with("conf:2: bad regex"), "{e}");
        let e = Globs::parse("conf", "[globs]\nnoequals\n").expect_err("no =");
        assert!(e.to_string().starts_with("conf:2:"), "{e}");
    }
}
