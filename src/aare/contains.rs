//! A sound inclusion test between two patterns, on automata.

use std::collections::{HashSet, VecDeque};

use regex_automata::{
    dfa::{dense, Automaton, StartKind},
    nfa::thompson,
    util::{primitives::StateID, start},
    Anchored, MatchKind,
};
use regex_syntax::hir::Hir;

use super::{anchored, Pattern};

/// Largest number of state pairs explored before giving up.
const MAX_PAIRS: usize = 200_000;
/// Byte budget for each DFA. The size limits count bytes, not states: with the few byte
/// classes a glob pattern has, 16 MiB allowed up to about a million states, and building them
/// took seconds (a `**` followed by many `?` has a DFA exponential in the number of `?`; found
/// by the `aare_compile` fuzz target: about 7 s, now 0.4 s, in a test build). Over budget the
/// answer is `None`, which callers already treat as "not proven".
const MAX_DFA_BYTES: usize = 2 << 20;

fn dfa(hir: &Hir) -> Option<dense::DFA<Vec<u32>>> {
    let nfa = thompson::Compiler::new()
        .configure(thompson::Config::new().utf8(false))
        .build_from_hir(&anchored(hir.clone()))
        .ok()?;
    dense::Builder::new()
        .configure(
            dense::Config::new()
                .match_kind(MatchKind::All)
                .start_kind(StartKind::Anchored)
                .dfa_size_limit(Some(MAX_DFA_BYTES))
                .determinize_size_limit(Some(MAX_DFA_BYTES)),
        )
        .build_from_nfa(&nfa)
        .ok()
}

/// Does `general` match every string `specific` matches (is `specific` redundant next to
/// `general`)?
///
/// Exact, by walking the product of two DFAs: `Some(true)` means proven, `Some(false)` means
/// some string matches `specific` but not `general`. `None` when an automaton would be too big
/// to build or walk (then the caller must not assume inclusion).
pub fn pattern_contains(general: &Pattern, specific: &Pattern) -> Option<bool> {
    if let (Some(g), Some(s)) = (general.literal(), specific.literal()) {
        return Some(g == s);
    }
    if let Some(s) = specific.literal() {
        return Some(general.is_match_bytes(s));
    }
    let g = dfa(general.hir())?;
    let s = dfa(specific.hir())?;
    let cfg = start::Config::new().anchored(Anchored::Yes);
    let gs = g.start_state(&cfg).ok()?;
    let ss = s.start_state(&cfg).ok()?;
    let mut seen: HashSet<(StateID, StateID)> = HashSet::new();
    let mut queue = VecDeque::new();
    seen.insert((ss, gs));
    queue.push_back((ss, gs));
    while let Some((sp, ge)) = queue.pop_front() {
        if s.is_match_state(s.next_eoi_state(sp)) && !g.is_match_state(g.next_eoi_state(ge)) {
            return Some(false);
        }
        for b in 0..=255u8 {
            let ns = s.next_state(sp, b);
            if s.is_dead_state(ns) {
                continue;
            }
            let ng = g.next_state(ge, b);
            if seen.insert((ns, ng)) {
                if seen.len() > MAX_PAIRS {
                    return None;
                }
                queue.push_back((ns, ng));
            }
        }
    }
    Some(true)
}
