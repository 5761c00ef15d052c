//! Cross-check benchmark: 1,000 candidates against 1,000,000 events.
//!
//! Run: `cargo bench --bench check` (prints timings; figures go to BENCHMARKS.md, section
//! "Cross-check"). The events are synthetic but shaped like a busy service's log: 1,000,000
//! events in 5,200 distinct groups (file reads and writes over 5,000 paths, plus capability
//! and network events). Candidates: 800 exact file rules, 100 globs, 50 capability rules,
//! 50 network rules, all checked against the events and a universe of the log's paths plus
//! the built-in sensitive-path catalogue.

use std::time::Instant;

use aa_assist::check::{CheckOptions, Checker, Universe, Verdict};
use aa_assist::draft::{Proposal, Source};
use aa_assist::log::group::{group_events, Filter};
use aa_assist::log::{Event, EventClass, EventKind};

const EVENTS: usize = 1_000_000;
const PATHS: usize = 5_000;

fn event(i: usize) -> Event {
    let mut ev = Event {
        kind: EventKind::Denied,
        profile: Some("bench".into()),
        pid: Some(1000 + (i % 50) as i64),
        comm: Some("bench".into()),
        epoch: Some(1_700_000_000 + i as i64 / 1000),
        ..Event::default()
    };
    ev.provenance.trusted = true;
    match i % 100 {
        0 => {
            ev.class = EventClass::Capability;
            ev.operation = Some("capable".into());
            ev.name = Some(["net_bind_service", "setuid", "chown", "kill"][i / 100 % 4].into());
        }
        1 => {
            ev.class = EventClass::Network;
            ev.operation = Some("connect".into());
            ev.family = Some("inet".into());
            ev.sock_type = Some("stream".into());
            ev.protocol = Some("6".into());
            ev.foreign_port = Some(8000 + (i / 100 % 196) as i64);
        }
        _ => {
            let p = i % PATHS;
            ev.class = EventClass::File;
            ev.operation = Some("open".into());
            ev.name = Some(format!("/srv/app/data/d{}/file{p}.dat", p % 100));
            let m = if p % 3 == 0 { "rw" } else { "r" };
            ev.requested_mask = Some(m.into());
            ev.denied_mask = Some(m.into());
            ev.fsuid = Some(1000);
            ev.ouid = Some(if p % 2 == 0 { 1000 } else { 0 });
        }
    }
    ev
}

fn candidates() -> Vec<Proposal> {
    let mut rules = Vec::new();
    for p in 0..800 {
        let owner = if p % 2 == 0 { "owner " } else { "" };
        let m = if p % 3 == 0 { "rw" } else { "r" };
        rules.push(format!(
            "{owner}/srv/app/data/d{}/file{p}.dat {m},",
            p % 100
        ));
    }
    for d in 0..100 {
        rules.push(format!("/srv/app/data/d{d}/*.dat rw,"));
    }
    for c in 0..50 {
        rules.push(format!(
            "capability {},",
            ["net_bind_service", "setuid", "chown", "kill", "sys_admin"][c % 5]
        ));
    }
    for n in 0..50 {
        rules.push(format!("network inet stream peer=(port={}),", 8000 + n));
    }
    rules
        .into_iter()
        .enumerate()
        .map(|(i, rule)| Proposal {
            id: format!("P{}", i + 1),
            profile: "bench".into(),
            rule,
            source: Source::Drafter,
            claimed_evidence: Vec::new(),
            alternatives: Vec::new(),
            rationale: None,
            exec_modes: Vec::new(),
        })
        .collect()
}

fn main() {
    let t = Instant::now();
    let events: Vec<Event> = (0..EVENTS).map(event).collect();
    let t_gen = t.elapsed();

    let t = Instant::now();
    let grouping = group_events(&events, &Filter::default());
    let t_group = t.elapsed();

    let t = Instant::now();
    let checker = Checker::new(
        &events,
        &grouping,
        Universe::builtin(),
        CheckOptions::default(),
    );
    let t_new = t.elapsed();

    let proposals = candidates();
    let t = Instant::now();
    let checked = checker.check_all(&proposals);
    let t_check = t.elapsed();

    let count = |v: Verdict| checked.iter().filter(|c| c.verdict == v).count();
    println!("events:            {}", events.len());
    println!("groups:            {}", grouping.groups.len());
    println!("candidates:        {}", proposals.len());
    println!(
        "verdicts:          ok {}, review {}, blocked {}",
        count(Verdict::Ok),
        count(Verdict::Review),
        count(Verdict::Blocked)
    );
    println!(
        "generate events:   {:>8.3} s (not part of the check)",
        t_gen.as_secs_f64()
    );
    println!(
        "group events:      {:>8.3} s (log engine)",
        t_group.as_secs_f64()
    );
    println!(
        "Checker::new:      {:>8.3} s (evidence: distinct needs per group)",
        t_new.as_secs_f64()
    );
    println!(
        "check 1000:        {:>8.3} s (compiled rules against the evidence)",
        t_check.as_secs_f64()
    );
    println!(
        "new + check:       {:>8.3} s",
        (t_new + t_check).as_secs_f64()
    );
}
