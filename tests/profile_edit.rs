//! Edits touch only what they name: on every upstream profile, inserting a rule into each
//! profile and hat changes nothing but one added line, and removing it gives the original
//! back byte for byte. Random input never panics and always round-trips.

mod common;

use aa_assist::profile::{IncludeMode, Loader, ProfileFile};
use proptest::prelude::*;

#[test]
fn insert_then_remove_is_identity_on_corpus() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let root = corpus.join("profiles/upstream");
    let mut edited = 0;
    for entry in std::fs::read_dir(&root).expect("dir").flatten() {
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(tree) = ProfileFile::parse(&path.display().to_string(), &text) else {
            continue;
        };
        let mut loader = Loader::new(&root, IncludeMode::Lenient);
        let Ok(policy) = loader.load_str(&path.display().to_string(), &text) else {
            continue;
        };
        for p in &policy.profiles {
            let names: Vec<&str> = p.path.iter().map(String::as_str).collect();
            let mut t = tree.clone();
            let rule = "/tmp/aa-assist-edit-test r,";
            let Ok(out) = t.insert_rule(&names, rule) else {
                continue; // profiles defined inside included files are not in this tree
            };
            edited += 1;
            // exactly one line added
            let added: Vec<&str> = out
                .lines()
                .filter(|l| !text.lines().any(|o| o == *l))
                .collect();
            assert_eq!(added.len(), 1, "{}: {:?}", path.display(), added);
            assert_eq!(added[0].trim(), rule);
            assert_eq!(out.lines().count(), text.lines().count() + 1);
            // the result is still valid and the rule is in the right profile
            let mut l2 = Loader::new(&root, IncludeMode::Lenient);
            let after = l2.load_str("edited", &out).expect("edited profile loads");
            let prof = after.profile(&names).expect("profile still there");
            assert!(prof.rules.iter().any(|r| r.text == rule));
            // and removing it restores every byte
            let back = t.remove_rule(&names, rule).expect("removes");
            assert_eq!(back, text, "{}", path.display());
        }
    }
    assert!(edited > 150, "only {edited} profiles edited");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_text_never_panics_and_roundtrips(s in "[ -~\t\n{}(),#@$=<>\"^]{0,200}") {
        let (tree, _errors) = ProfileFile::parse_recovering("fuzz", &s);
        prop_assert_eq!(tree.to_text(), s.clone());
        if let Ok(t) = ProfileFile::parse("fuzz", &s) {
            prop_assert_eq!(t.to_text(), s.clone());
        }
        let mut l = Loader::new("/nonexistent", IncludeMode::Lenient);
        let _ = l.load_str("fuzz", &s);
    }

    #[test]
    fn rule_like_text_never_panics(
        q in "(audit |deny |owner |priority=[0-9-]{1,5} ){0,3}",
        body in "(file|network|dbus|unix|signal|ptrace|mount|capability|change_profile|/[a-z{},*]{0,12}) [a-z=(),/@{} ]{0,40}",
    ) {
        let text = format!("profile p {{\n  {q}{body},\n}}\n");
        let mut l = Loader::new("/nonexistent", IncludeMode::Strict);
        let _ = l.load_str("fuzz", &text);
        let _ = aa_assist::profile::parse_one(&format!("{q}{body},"));
    }
}
