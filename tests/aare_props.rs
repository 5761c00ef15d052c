//! Property tests for the AARE compiler: compiling arbitrary text never panics, and matching
//! agrees with a small recursive reference matcher written from the parser's rules.

use aa_assist::aare::{escape, pattern_contains, Pattern, PatternSet};
use proptest::prelude::*;

/// One element of a generated pattern.
#[derive(Debug, Clone)]
enum El {
    Lit(u8),
    Star,
    DStar,
    Quest,
    Class { negated: bool, set: Vec<u8> },
    Alt(Vec<Vec<El>>),
}

fn star_like(e: &El) -> bool {
    matches!(e, El::Star | El::DStar)
}

fn render(els: &[El], out: &mut String) {
    for e in els {
        match e {
            El::Lit(c) => out.push(*c as char),
            El::Star => out.push('*'),
            El::DStar => out.push_str("**"),
            El::Quest => out.push('?'),
            El::Class { negated, set } => {
                out.push('[');
                if *negated {
                    out.push('^');
                }
                out.extend(set.iter().map(|&c| c as char));
                out.push(']');
            }
            El::Alt(branches) => {
                out.push('{');
                for (i, b) in branches.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    render(b, out);
                }
                out.push('}');
            }
        }
    }
}

/// Reference: does `els` (then `rest`) match exactly `s`? `prev_slash`: the text emitted just
/// before is a literal '/'; `top_next`: the source character after this sequence when it is
/// the tail of the whole pattern (None for the end).
fn matches(
    els: &[El],
    s: &[u8],
    prev_slash: bool,
    at_top: bool,
    k: &dyn Fn(&[u8]) -> bool,
) -> bool {
    let Some((first, tail)) = els.split_first() else {
        return k(s);
    };
    let next = |s: &[u8], after_slash: bool| matches(tail, s, after_slash, at_top, k);
    match first {
        El::Lit(c) => s.first() == Some(c) && next(&s[1..], *c == b'/'),
        El::Quest => s.first().is_some_and(|&b| b != b'/' && b != 0) && next(&s[1..], false),
        El::Class { negated, set } => {
            s.first().is_some_and(|b| set.contains(b) != *negated) && next(&s[1..], false)
        }
        El::Star | El::DStar => {
            let whole_component =
                prev_slash && at_top && matches!(tail.first(), None | Some(El::Lit(b'/')));
            // The parser emits `[^/\x00]` before the glob: one byte that is not '/', even for
            // `**`.
            let ok = |b: u8| b != 0 && (matches!(first, El::DStar) || b != b'/');
            let mut n = 0;
            if whole_component {
                if s.first().is_some_and(|&b| b != b'/' && b != 0) {
                    n = 1;
                } else {
                    return false;
                }
            }
            let min = n;
            loop {
                if n >= min && next(&s[n..], false) {
                    return true;
                }
                if n < s.len() && ok(s[n]) {
                    n += 1;
                } else {
                    return false;
                }
            }
        }
        El::Alt(branches) => branches.iter().any(|b| {
            // Inside a branch the emitted text before is '(' or '|', and the source text after
            // is ',' or '}', so the whole-component rule never applies there.
            matches(b, s, false, false, &|rest: &[u8]| next(rest, false))
        }),
    }
}

fn ref_match(els: &[El], s: &[u8]) -> bool {
    matches(els, s, false, true, &|rest: &[u8]| rest.is_empty())
}

fn leaf() -> impl Strategy<Value = El> {
    prop_oneof![
        4 => prop::sample::select(vec![b'a', b'b', b'/']).prop_map(El::Lit),
        1 => Just(El::Star),
        1 => Just(El::DStar),
        1 => Just(El::Quest),
        1 => (any::<bool>(), prop::collection::vec(prop::sample::select(vec![b'a', b'b', b'/']), 1..3))
            .prop_map(|(negated, set)| El::Class { negated, set }),
    ]
}

fn no_adjacent_stars(v: Vec<El>) -> Vec<El> {
    let mut out: Vec<El> = Vec::new();
    for e in v {
        if star_like(&e) && out.last().is_some_and(star_like) {
            continue;
        }
        out.push(e);
    }
    out
}

fn pattern() -> impl Strategy<Value = Vec<El>> {
    let branch = prop::collection::vec(leaf(), 0..3).prop_map(no_adjacent_stars);
    let alt = prop::collection::vec(branch, 2..4).prop_map(El::Alt);
    let el = prop_oneof![5 => leaf(), 1 => alt];
    prop::collection::vec(el, 0..6).prop_map(no_adjacent_stars)
}

fn path() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(vec![b'a', b'b', b'/', b'c']), 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn compiling_anything_never_panics(s in ".{0,40}") {
        if let Ok(p) = Pattern::compile(&s) {
            let _ = p.is_match(&s);
        }
    }

    #[test]
    fn compiling_glob_soup_never_panics(s in "[a/*?\\[\\]{},\\\\^$.+|()@x0-9-]{0,24}") {
        if let Ok(p) = Pattern::compile(&s) {
            let _ = p.is_match("/a/b");
            let _ = p.to_regex();
        }
    }

    #[test]
    fn matching_agrees_with_reference(els in pattern(), paths in prop::collection::vec(path(), 1..12)) {
        let mut text = String::new();
        render(&els, &mut text);
        let p = Pattern::compile(&text).expect("generated patterns are valid");
        for s in &paths {
            prop_assert_eq!(p.is_match_bytes(s), ref_match(&els, s),
                "pattern {:?} (pcre {:?}) path {:?}", text, p.to_regex(), String::from_utf8_lossy(s));
        }
    }

}

proptest! {
    // Each case builds several automata; fewer cases keep the debug-mode run short.
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn set_agrees_with_single_patterns(pats in prop::collection::vec(pattern(), 1..6), paths in prop::collection::vec(path(), 1..10)) {
        let texts: Vec<String> = pats.iter().map(|e| { let mut t = String::new(); render(e, &mut t); t }).collect();
        let singles: Vec<Pattern> = texts.iter().map(|t| Pattern::compile(t).unwrap()).collect();
        let set = PatternSet::new(&texts).unwrap();
        for s in &paths {
            let want: Vec<usize> = (0..singles.len()).filter(|&i| singles[i].is_match_bytes(s)).collect();
            prop_assert_eq!(set.matches_bytes(s).collect::<Vec<_>>(), want.clone());
            prop_assert_eq!(set.is_match_bytes(s), !want.is_empty());
        }
    }

    #[test]
    fn escaped_text_is_a_literal_of_itself(s in "[^\u{0}]{0,30}") {
        let p = Pattern::compile(&escape(&s)).expect("escaped text compiles");
        prop_assert_eq!(p.literal(), Some(s.as_bytes()));
    }

    #[test]
    fn contains_is_sound(g in pattern(), sp in pattern(), paths in prop::collection::vec(path(), 1..16)) {
        let (mut gt, mut st) = (String::new(), String::new());
        render(&g, &mut gt);
        render(&sp, &mut st);
        let (gp, spp) = (Pattern::compile(&gt).unwrap(), Pattern::compile(&st).unwrap());
        if pattern_contains(&gp, &spp) == Some(true) {
            for s in &paths {
                prop_assert!(!spp.is_match_bytes(s) || gp.is_match_bytes(s), "{} ⊇ {} but {:?}", gt, st, s);
            }
        }
        prop_assert_eq!(pattern_contains(&spp, &spp), Some(true));
    }
}
