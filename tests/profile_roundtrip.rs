//! Every profile, abstraction, tunable and abi file of both corpus trees prints back byte for
//! byte from its tree, and every include in them resolves against the tree's root. Upstream's
//! profiles must also load completely (includes inlined, variables checked).

mod common;

use std::path::Path;

use aa_assist::profile::{IncludeMode, Loader, ProfileFile};

use common::files::files;

fn is_profile(root: &Path, f: &Path) -> bool {
    let rel = f.strip_prefix(root).unwrap_or(f);
    let first = rel
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .unwrap_or("");
    rel.components().count() == 1 && !matches!(first, "abstractions" | "tunables" | "abi")
}

/// `fallback`: a tree searched after `root` (apparmor.d installs on top of upstream's
/// `/etc/apparmor.d`, whose `tunables/global` it uses).
fn check_tree(root: &Path, fallback: Option<&Path>, full_load: bool) -> (usize, usize) {
    let mut all = Vec::new();
    files(root, &mut all);
    all.sort();
    let mut failures = Vec::new();
    let mut includes = 0;
    let mut loader = match fallback {
        Some(f) => Loader::new(f, IncludeMode::Lenient).include_dir(root),
        None => Loader::new(root, IncludeMode::Lenient),
    };
    for f in &all {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue; // binary helpers are not policy
        };
        let name = f.display().to_string();
        let (tree, _errors) = ProfileFile::parse_recovering(&name, &text);
        if tree.to_text() != text {
            failures.push(format!("{name}: roundtrip differs"));
        }
        for (pos, inc) in tree.includes() {
            includes += 1;
            if !inc.if_exists && loader.resolve_include(&inc, f).is_none() {
                failures.push(format!(
                    "{name}:{pos}: include '{}' does not resolve",
                    inc.path
                ));
            }
        }
        if full_load && is_profile(root, f) {
            if let Err(e) = loader.load_file(f) {
                failures.push(format!("load error: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems in {}:\n{}",
        failures.len(),
        root.display(),
        failures.join("\n")
    );
    (all.len(), includes)
}

#[test]
fn upstream_tree_roundtrips_and_resolves() {
    let Some(c) = common::corpus_dir() else {
        return;
    };
    let (n, i) = check_tree(&c.join("profiles/upstream"), None, true);
    eprintln!("upstream: {n} files, {i} includes");
    assert!(n > 300);
}

#[test]
fn apparmor_d_tree_roundtrips_and_resolves() {
    let Some(c) = common::corpus_dir() else {
        return;
    };
    let (n, i) = check_tree(
        &c.join("profiles/apparmor.d-collection"),
        Some(&c.join("profiles/upstream")),
        false,
    );
    eprintln!("apparmor.d: {n} files, {i} includes");
    assert!(n > 1500);
}
