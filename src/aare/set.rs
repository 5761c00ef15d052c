//! Many patterns matched in one pass.

use std::collections::HashMap;

use std::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};

use regex_automata::{
    hybrid::dfa::{Cache, DFA},
    nfa::thompson,
    util::pool::Pool,
    Anchored, Input, MatchKind,
};

use super::{anchored, literal_of, AareError, ErrorKind, Pattern};

type CacheFn = Box<dyn Fn() -> Cache + Send + Sync + UnwindSafe + RefUnwindSafe>;

/// The shared automaton: a lazy DFA (states built on first use, kept in a per-thread cache).
/// It never gives up and falls back to a slower engine: the cache is cleared and reused.
struct Automaton {
    dfa: DFA,
    pool: Pool<Cache, CacheFn>,
}

impl Automaton {
    fn new(dfa: DFA) -> Automaton {
        let for_pool = dfa.clone();
        let create: CacheFn = Box::new(move || Cache::new(&for_pool));
        Automaton {
            dfa,
            pool: Pool::new(create),
        }
    }
}

impl Clone for Automaton {
    fn clone(&self) -> Automaton {
        Automaton::new(self.dfa.clone())
    }
}

impl fmt::Debug for Automaton {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Automaton")
            .field("patterns", &self.dfa.pattern_len())
            .finish_non_exhaustive()
    }
}

const EXPECT_SEARCH: &str =
    "no quit bytes, no Unicode look-around and no cache give-up: a lazy DFA search cannot fail";

/// Many compiled AAREs, matched against a path in one pass.
///
/// Literal patterns are looked up in a hash map; the others share one automaton
/// (`regex-automata`'s lazy DFA, built as it is used, with [`MatchKind::All`] so every
/// matching pattern is reported in the same single pass). Indexes are positions in the input
/// order.
#[derive(Clone, Debug)]
pub struct PatternSet {
    patterns: Vec<Pattern>,
    literals: HashMap<Box<[u8]>, Vec<usize>>,
    /// Index in `patterns` of each pattern in the automaton, by automaton pattern id.
    regex_ids: Vec<usize>,
    regex: Option<Automaton>,
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
            let build_err = || {
                let first = patterns
                    .get(regex_ids.first().copied().unwrap_or(0))
                    .map_or("", |p| p.as_str());
                AareError::new(first, 0, ErrorKind::Build)
            };
            let nfa = thompson::Compiler::new()
                .configure(
                    thompson::Config::new()
                        .utf8(false)
                        .nfa_size_limit(Some(256 << 20)),
                )
                .build_many_from_hir(&hirs)
                .map_err(|_| build_err())?;
            let dfa = DFA::builder()
                .configure(
                    DFA::config()
                        .match_kind(MatchKind::All)
                        .cache_capacity(64 << 20)
                        .skip_cache_capacity_check(true)
                        .minimum_cache_clear_count(None),
                )
                .build_from_nfa(nfa)
                .map_err(|_| build_err())?;
            Some(Automaton::new(dfa))
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
        if self.literals.contains_key(path) {
            return true;
        }
        let Some(a) = &self.regex else {
            return false;
        };
        let mut cache = a.pool.get();
        let input = Input::new(path).anchored(Anchored::Yes).earliest(true);
        a.dfa
            .try_search_fwd(&mut cache, &input)
            .expect(EXPECT_SEARCH)
            .is_some()
    }

    /// Indexes of every pattern matching the whole of `path`, ascending.
    pub fn matches(&self, path: &str) -> impl Iterator<Item = usize> {
        self.matches_bytes(path.as_bytes())
    }

    /// Indexes of every pattern matching the whole of `path` (raw bytes), ascending.
    pub fn matches_bytes(&self, path: &[u8]) -> impl Iterator<Item = usize> {
        let mut hits = Vec::new();
        self.matches_bytes_into(path, &mut hits);
        hits.into_iter()
    }

    /// [`matches`](PatternSet::matches) into a buffer the caller keeps: `out` is cleared, then
    /// filled with the indexes of every pattern matching the whole of `path`, ascending. A
    /// caller checking many paths reuses one buffer and allocates nothing per path.
    pub fn matches_into(&self, path: &str, out: &mut Vec<usize>) {
        self.matches_bytes_into(path.as_bytes(), out);
    }

    /// [`matches_into`](PatternSet::matches_into) for raw bytes.
    pub fn matches_bytes_into(&self, path: &[u8], out: &mut Vec<usize>) {
        out.clear();
        if let Some(lits) = self.literals.get(path) {
            out.extend_from_slice(lits);
        }
        let Some(a) = &self.regex else {
            return;
        };
        let before = out.len();
        // One walk of the lazy DFA over the path; the state after the end-of-input
        // transition carries the id of every pattern that matches the whole path
        // (`MatchKind::All` keeps them all), so no per-pattern work is needed.
        let mut cache = a.pool.get();
        let dfa = &a.dfa;
        let input = Input::new(path).anchored(Anchored::Yes);
        let mut sid = dfa
            .start_state_forward(&mut cache, &input)
            .expect(EXPECT_SEARCH);
        for &b in path {
            sid = dfa.next_state(&mut cache, sid, b).expect(EXPECT_SEARCH);
            if sid.is_tagged() && sid.is_dead() {
                return;
            }
        }
        sid = dfa.next_eoi_state(&mut cache, sid).expect(EXPECT_SEARCH);
        if !sid.is_match() {
            return;
        }
        let n = dfa.match_len(&cache, sid);
        out.extend((0..n).map(|i| self.regex_ids[dfa.match_pattern(&cache, sid, i).as_usize()]));
        // pattern ids in a match state follow the automaton's construction order
        if before > 0 || n > 1 {
            out.sort_unstable();
            out.dedup();
        }
    }

    /// For each pattern, how many of `paths` it matches: the breadth of each rule over a
    /// universe of paths (e.g. every path seen in a log, or a file-system listing).
    pub fn count_matches<'a, I: IntoIterator<Item = &'a str>>(&self, paths: I) -> Vec<usize> {
        let mut counts = vec![0; self.patterns.len()];
        let mut hits = Vec::new();
        for p in paths {
            self.matches_into(p, &mut hits);
            for &i in &hits {
                counts[i] += 1;
            }
        }
        counts
    }
}
