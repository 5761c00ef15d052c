//! Concrete paths a pattern matches: one instance of an AARE, chosen deterministically.
//!
//! Used to synthesise evidence from rules (the remove-a-rule benchmark, `benches/removal.rs`):
//! given `/var/cache/foo/{a,b}/*.db` it writes e.g. `/var/cache/foo/b/k7f3c9.db`. Two seeds
//! drive the choices: `alternatives` picks among `{…}` alternatives (a property of the system:
//! keep it fixed to get "the same machine, another run"), `names` fills `*`, `**`, `?` and
//! character classes (what changes between runs: file names, ids), and picks in alternations
//! that hold a glob themselves (`{,**}`, the `{[0-9],}` of a number). Variables must already be
//! expanded (`@{…}` left in the text is an error). The result is not checked here; callers
//! that need certainty match it against the compiled pattern.

/// Why a pattern has no instance here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    /// The text still holds an `@{…}` reference.
    #[error("unexpanded variable in {0}")]
    Variable(String),
    /// Unbalanced `{`/`}` or `[`/`]`, or a class with nothing to pick.
    #[error("malformed pattern {0}")]
    Malformed(String),
}

/// The seeds of one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeds {
    /// Drives `{…}` choices.
    pub alternatives: u64,
    /// Drives `*`, `**`, `?` and `[…]`.
    pub names: u64,
}

/// A small deterministic generator (SplitMix64): the same seed gives the same instance on
/// every machine and version.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator starting at `seed`.
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// Words a `*` may become, besides random hex ids.
const WORDS: &[&str] = &[
    "cache", "main", "data", "config", "state", "session", "default", "local", "user", "index",
];

/// A plausible file name for a `*`: a word with a number, or a random hex id.
fn name(rng: &mut SplitMix) -> String {
    if rng.below(2) == 0 {
        let w = WORDS[rng.below(WORDS.len())];
        format!("{w}{}", rng.below(100))
    } else {
        let len = 6 + rng.below(7);
        (0..len)
            .map(|_| char::from(b"0123456789abcdef"[rng.below(16)]))
            .collect()
    }
}

struct Walker<'a> {
    text: &'a [u8],
    at: usize,
    alt: SplitMix,
    names: SplitMix,
    whole: &'a str,
    /// A glob (`*`, `?`, `[…]`) was read since this was last cleared.
    globbed: bool,
}

impl Walker<'_> {
    fn malformed(&self) -> SampleError {
        SampleError::Malformed(self.whole.to_string())
    }

    /// Reads up to the end or to an unnested `,`/`}` (when `nested`), writing one instance.
    fn seq(&mut self, out: &mut Vec<u8>, nested: bool) -> Result<(), SampleError> {
        while let Some(&c) = self.text.get(self.at) {
            match c {
                b',' | b'}' if nested => return Ok(()),
                b'}' => return Err(self.malformed()),
                b'\\' => {
                    self.at += 1;
                    match self.text.get(self.at) {
                        Some(&e) => {
                            out.push(e);
                            self.at += 1;
                        }
                        None => out.push(b'\\'),
                    }
                }
                b'@' if self.text.get(self.at + 1) == Some(&b'{') => {
                    return Err(SampleError::Variable(self.whole.to_string()))
                }
                b'*' => {
                    self.globbed = true;
                    let double = self.text.get(self.at + 1) == Some(&b'*');
                    self.at += if double { 2 } else { 1 };
                    while self.text.get(self.at) == Some(&b'*') {
                        self.at += 1;
                    }
                    let mut s = name(&mut self.names);
                    if double && self.names.below(2) == 1 {
                        s.push('/');
                        s.push_str(&name(&mut self.names));
                    }
                    out.extend_from_slice(s.as_bytes());
                }
                b'?' => {
                    self.globbed = true;
                    self.at += 1;
                    out.push(b"abcdefghijklmnopqrstuvwxyz0123456789"[self.names.below(36)]);
                }
                b'[' => {
                    self.globbed = true;
                    self.at += 1;
                    let b = self.class()?;
                    out.push(b);
                }
                b'{' => {
                    self.at += 1;
                    let outer = std::mem::replace(&mut self.globbed, false);
                    let mut alts: Vec<Vec<u8>> = Vec::new();
                    loop {
                        let mut one = Vec::new();
                        self.seq(&mut one, true)?;
                        alts.push(one);
                        match self.text.get(self.at) {
                            Some(b',') => self.at += 1,
                            Some(b'}') => {
                                self.at += 1;
                                break;
                            }
                            _ => return Err(self.malformed()),
                        }
                    }
                    // Alternatives are drawn from their own stream, and every alternative was
                    // walked (so the name stream does not depend on which one is kept). An
                    // alternation holding a glob (`{,**}`, `{,[0-9]}`) is part of a name, not
                    // a choice of the system: it follows the names stream.
                    let inner = std::mem::replace(&mut self.globbed, outer);
                    self.globbed |= inner;
                    let pick = if inner {
                        self.names.below(alts.len())
                    } else {
                        self.alt.below(alts.len())
                    };
                    if let Some(a) = alts.get(pick) {
                        out.extend_from_slice(a);
                    }
                }
                _ => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
        if nested {
            Err(self.malformed())
        } else {
            Ok(())
        }
    }

    /// After `[`: reads the class up to `]` and returns one byte it matches.
    fn class(&mut self) -> Result<u8, SampleError> {
        let negated = matches!(self.text.get(self.at), Some(b'^') | Some(b'!'));
        if negated {
            self.at += 1;
        }
        let mut members: Vec<u8> = Vec::new();
        let mut first = true;
        loop {
            let Some(&c) = self.text.get(self.at) else {
                return Err(self.malformed());
            };
            if c == b']' && !first {
                self.at += 1;
                break;
            }
            first = false;
            let lo = if c == b'\\' {
                self.at += 1;
                let e = *self.text.get(self.at).ok_or_else(|| self.malformed())?;
                self.at += 1;
                e
            } else {
                self.at += 1;
                c
            };
            if self.text.get(self.at) == Some(&b'-')
                && self.text.get(self.at + 1).is_some_and(|n| *n != b']')
            {
                let hi = self.text[self.at + 1];
                self.at += 2;
                let (a, b) = if lo <= hi { (lo, hi) } else { (hi, lo) };
                members.extend(a..=b);
            } else {
                members.push(lo);
            }
        }
        let pool: Vec<u8> = if negated {
            b"abcdefghijklmnopqrstuvwxyz0123456789"
                .iter()
                .copied()
                .filter(|b| !members.contains(b))
                .collect()
        } else {
            members
                .into_iter()
                .filter(|b| *b != b'/' && *b != 0)
                .collect()
        };
        pool.get(self.names.below(pool.len()))
            .copied()
            .ok_or_else(|| self.malformed())
    }
}

/// One concrete string `pattern` matches, chosen by `seeds`. Runs of `/` are collapsed (the
/// parser does the same to rule paths). `*` and `**` never produce an empty string, so a
/// component glob stays a component.
pub fn instance(pattern: &str, seeds: Seeds) -> Result<String, SampleError> {
    let mut w = Walker {
        text: pattern.as_bytes(),
        at: 0,
        alt: SplitMix::new(seeds.alternatives),
        names: SplitMix::new(seeds.names),
        whole: pattern,
        globbed: false,
    };
    let mut out = Vec::with_capacity(pattern.len() + 16);
    w.seq(&mut out, false)?;
    let s = String::from_utf8_lossy(&out).into_owned();
    let mut collapsed = String::with_capacity(s.len());
    for ch in s.chars() {
        if !(ch == '/' && collapsed.ends_with('/')) {
            collapsed.push(ch);
        }
    }
    Ok(collapsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aare::Pattern;

    fn seeds(a: u64, n: u64) -> Seeds {
        Seeds {
            alternatives: a,
            names: n,
        }
    }

    #[test]
    fn instances_match_their_pattern() {
        let pats = [
            "/etc/foo/*.conf",
            "/var/lib/foo/**",
            "/usr/{bin,sbin}/foo{,-helper}",
            "/proc/[0-9]*/stat",
            "/tmp/sess_[^/]?x",
            "/srv/a\\*b/c",
            "/usr/share/{a,{b,c}/d}/*/",
            "/home/*/.cache/foo/**/",
            "/dev/tty[0-9a-f]",
        ];
        for p in pats {
            let pat = Pattern::compile_path(p).expect("compiles");
            for n in 0..20 {
                let s = instance(p, seeds(n / 3, n)).expect("instance");
                assert!(pat.is_match(&s), "{p} -> {s}");
            }
        }
    }

    #[test]
    fn literal_text_and_escapes_are_kept() {
        assert_eq!(
            instance("/etc/hosts", seeds(1, 2)).expect("literal"),
            "/etc/hosts"
        );
        assert_eq!(
            instance("/srv/a\\*b//c", seeds(1, 2)).expect("escape"),
            "/srv/a*b/c"
        );
    }

    #[test]
    fn alternatives_follow_their_own_seed() {
        let p = "/usr/{bin,sbin,libexec}/*";
        let dir = |s: &str| s.split('/').nth(2).map(str::to_string);
        // Same alternatives seed, other names seed: same branch, other name.
        let a = instance(p, seeds(7, 1)).expect("a");
        let b = instance(p, seeds(7, 2)).expect("b");
        assert_eq!(dir(&a), dir(&b));
        assert_ne!(a, b);
        // Across alternatives seeds, more than one branch is taken.
        let dirs: std::collections::BTreeSet<_> = (0..30)
            .map(|s| dir(&instance(p, seeds(s, 1)).expect("x")))
            .collect();
        assert!(dirs.len() > 1, "{dirs:?}");
        // An alternation with a glob inside follows the names seed.
        let q = "/usr/share/foo/{,**}";
        let kinds: std::collections::BTreeSet<bool> = (0..30)
            .map(|n| instance(q, seeds(7, n)).expect("q") == "/usr/share/foo/")
            .collect();
        assert_eq!(kinds.len(), 2, "{kinds:?}");
    }

    #[test]
    fn unexpanded_variables_and_malformed_patterns_are_errors() {
        assert!(matches!(
            instance("@{HOME}/x", seeds(0, 0)),
            Err(SampleError::Variable(_))
        ));
        assert!(matches!(
            instance("/a/{b,c", seeds(0, 0)),
            Err(SampleError::Malformed(_))
        ));
        assert!(matches!(
            instance("/a/[b", seeds(0, 0)),
            Err(SampleError::Malformed(_))
        ));
        assert!(matches!(
            instance("/a/b}", seeds(0, 0)),
            Err(SampleError::Malformed(_))
        ));
    }
}
