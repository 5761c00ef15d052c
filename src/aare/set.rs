//! Many patterns matched in one pass.

use std::collections::HashMap;

use regex_automata::{meta, Input, MatchKind};

use super::{anchored, literal_of, meta_builder, AareError, ErrorKind, Pattern};

/// Many compiled AAREs, matched against a path in one pass.
///
/// Literal patterns are looked up in a hash map; the others share one automaton
/// (`regex-automata`'s meta engine: a lazy DFA built as it is used, with
/// [`MatchKind::All`] so every matching pattern is reported). Indexes are positions in the
/// input order.
#[derive(Clone, Debug)]
pub struct PatternSet {
    patterns: Vec<Pattern>,
    literals: HashMap<Box<[u8]>, Vec<usize>>,
    /// Index in `patterns` of each pattern in the automaton, by automaton pattern id.
    regex_ids: Vec<usize>,
    regex: Option<meta::Regex>,
}

impl PatternSet {
    /// Compile every pattern (default glob mode; variables must be expanded). The error
    /// names the first pattern that fails.
    pub fn new<I, S>(patterns: I) -> Result<PatternSet, AareError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let compiled = patterns
            .into_iter()
            .map(|p| Pattern::compile(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        PatternSet::from_patterns(compiled)
    }

    /// Build a set from already compiled patterns.
    pub fn from_patterns(patterns: Vec<Pattern>) -> Result<PatternSet, AareError> {
        let mut literals: HashMap<Box<[u8]>, Vec<usize>> = HashMap::new();
        let mut regex_ids = Vec::new();
        let mut hirs = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            match literal_of(p.hir()) {
                Some(lit) => literals.entry(lit).or_default().push(i),
                None => {
                    regex_ids.push(i);
                    hirs.push(anchored(p.hir().clone()));
                }
            }
        }
        let regex = if hirs.is_empty() {
            None
        } else {
            let mut b = meta_builder();
            b.configure(meta::Config::new().match_kind(MatchKind::All));
            Some(b.build_many_from_hir(&hirs).map_err(|_| {
                let first = patterns
                    .get(regex_ids.first().copied().unwrap_or(0))
                    .map_or("", |p| p.as_str());
                AareError::new(first, 0, ErrorKind::Build)
            })?)
        };
        Ok(PatternSet {
            patterns,
            literals,
            regex_ids,
            regex,
        })
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    /// True if the set has no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The compiled patterns, in input order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Does any pattern match the whole of `path`?
    pub fn is_match(&self, path: &str) -> bool {
        self.is_match_bytes(path.as_bytes())
    }

    /// Does any pattern match the whole of `path` (raw bytes)?
    pub fn is_match_bytes(&self, path: &[u8]) -> bool {
        self.literals.contains_key(path) || self.regex.as_ref().is_some_and(|r| r.is_match(path))
    }

    /// Indexes of every pattern matching the whole of `path`, ascending.
    pub fn matches(&self, path: &str) -> impl Iterator<Item = usize> {
        self.matches_bytes(path.as_bytes())
    }

    /// Indexes of every pattern matching the whole of `path` (raw bytes), ascending.
    pub fn matches_bytes(&self, path: &[u8]) -> impl Iterator<Item = usize> {
        let mut hits: Vec<usize> = self.literals.get(path).cloned().unwrap_or_default();
        if let Some(re) = &self.regex {
            let mut found = regex_automata::PatternSet::new(re.pattern_len());
            re.which_overlapping_matches(&Input::new(path), &mut found);
            hits.extend(found.iter().map(|id| self.regex_ids[id.as_usize()]));
            hits.sort_unstable();
        }
        hits.into_iter()
    }

    /// For each pattern, how many of `paths` it matches: the breadth of each rule over a
    /// universe of paths (e.g. every path seen in a log, or a file-system listing).
    pub fn count_matches<'a, I: IntoIterator<Item = &'a str>>(&self, paths: I) -> Vec<usize> {
        let mut counts = vec![0; self.patterns.len()];
        for p in paths {
            for i in self.matches(p) {
                counts[i] += 1;
            }
        }
        counts
    }
}
