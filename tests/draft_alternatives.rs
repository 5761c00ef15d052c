//! Alternatives beside the first choice: globs, climbing, variables, logprof.conf [globs]
//! and real abstractions from the corpus (never one marked `LOGPROF-SUGGEST: no`).

mod common;

use std::io::Cursor;

use aa_assist::draft::{Abstraction, Drafter, Globs};
use aa_assist::log::group::{group_events, Filter};
use aa_assist::log::Reader;

const LOG: &str = "type=AVC msg=audit(1700000000.001:1): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"demo\" name=\"/etc/hosts\" pid=1 comm=\"demo\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=1\n\
type=AVC msg=audit(1700000000.002:2): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"demo\" name=\"/home/al/.cache/demo/x.json\" pid=1 comm=\"demo\" requested_mask=\"r\" denied_mask=\"r\" fsuid=1000 ouid=1000\n\
type=AVC msg=audit(1700000000.003:3): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"demo\" name=\"/proc/4242/status\" pid=1 comm=\"demo\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n";

#[test]
fn alternatives_are_offered_beside_never_instead() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let mut r =
        Reader::new(Cursor::new(LOG.as_bytes().to_vec()), "audit.log").trusted_channel(true);
    let mut events = Vec::new();
    while let Some(ev) = r.next_event().expect("read") {
        events.push(ev);
    }
    let grouping = group_events(&events, &Filter::default());
    let globs = Globs::load(&corpus.join("logprof/logprof.conf")).expect("logprof.conf loads");
    let profiles = corpus.join("profiles/upstream");
    let (abstractions, _failed) = Abstraction::load_dir(&profiles, &[]).expect("abstractions load");
    assert!(abstractions.len() > 50);
    assert!(
        !abstractions.iter().any(|a| a.name == "abstractions/frr"),
        "LOGPROF-SUGGEST: no must be left out"
    );
    let drafter = Drafter::new()
        .with_globs(globs)
        .with_abstractions(abstractions);
    let props = drafter.draft(&events, &grouping, None);
    let find = |rule: &str| {
        props
            .iter()
            .find(|p| p.rule == rule)
            .unwrap_or_else(|| panic!("no first choice {rule} in {props:#?}"))
    };
    let hosts = find("/etc/hosts r,");
    let alt =
        |p: &aa_assist::draft::Proposal, rule: &str| p.alternatives.iter().any(|a| a.rule == rule);
    assert!(alt(hosts, "/etc/* r,"), "{:?}", hosts.alternatives);
    assert!(
        alt(hosts, "include <abstractions/nameservice>"),
        "{:?}",
        hosts.alternatives
    );
    // without a profile no tunables are defined: the user name becomes the narrowest glob;
    // the literal rule is the first alternative, the others follow
    let cache = find("owner /home/*/.cache/demo/x.json r,");
    assert_eq!(
        cache.alternatives[0].rule, "owner /home/al/.cache/demo/x.json r,",
        "literal first"
    );
    assert!(
        alt(cache, "owner /home/al/.cache/demo/*.json r,"),
        "{:?}",
        cache.alternatives
    );
    assert!(alt(cache, "owner @{HOME}/.cache/demo/x.json r,"));
    assert!(alt(cache, "owner /home/al/.cache/demo/** r,"), "climb");
    let proc_ = find("owner /proc/[0-9]*/status r,");
    assert_eq!(proc_.alternatives[0].rule, "owner /proc/4242/status r,");
    assert!(alt(proc_, "owner @{PROC}/@{pid}/status r,"));
    assert!(alt(proc_, "owner /proc/*/status r,"));
    // with the profile's tunables the variables are the first choice
    let tunables = Drafter::new()
        .with_variables(aa_assist::check::default_vars())
        .draft(&events, &grouping, None);
    let rules: Vec<&str> = tunables.iter().map(|p| p.rule.as_str()).collect();
    assert!(
        rules.contains(&"owner @{HOME}/.cache/demo/x.json r,"),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"owner @{PROC}/@{pid}/status r,"),
        "{rules:?}"
    );
    for p in &props {
        assert!(
            p.alternatives.iter().all(|a| a.rule != p.rule),
            "an alternative repeats the first choice"
        );
    }
}
