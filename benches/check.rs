//! Cross-check benchmark: 1,000 candidates against 1,000,000 events.
//!
//! Run: `cargo bench --bench check` (prints timings; figures go to BENCHMARKS.md, section
//! "Cross-check"). The events are synthetic but shaped like a busy service's log: 1,000,000
//! events in 5,100 distinct groups (file reads and writes over 5,000 paths, plus capability
//! and network events). Candidates: 800 exact file rules, 100 globs, 50 capability rules,
//! 50 network rules, all checked against the events and a universe of the log's paths plus
//! the built-in sensitive-path catalogue.
//!
//! Each phase is reported as wall time and as the CPU time this thread spent on it
//! (`/proc/thread-self/schedstat`, nanoseconds; absent elsewhere). On a shared, loaded
//! machine the wall time includes waiting for a core; the CPU time does not.

use std::time::{Duration, Instant};

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

/// CPU time this thread has run so far (Linux), from `/proc/thread-self/schedstat`.
fn cpu_now() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Wall and CPU time of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Option<Duration>) {
    let c = cpu_now();
    let t = Instant::now();
    let out = f();
    let wall = t.elapsed();
    let cpu = c.zip(cpu_now()).map(|(a, b)| b.saturating_sub(a));
    (out, wall, cpu)
}

fn line(label: &str, wall: Duration, cpu: Option<Duration>, what: &str) {
    let cpu = cpu.map_or("n/a".to_string(), |c| format!("{:.3} s", c.as_secs_f64()));
    println!(
        "{label:<19}{:>8.3} s wall, {cpu:>9} cpu  {what}",
        wall.as_secs_f64()
    );
}

fn main() {
    let (events, w_gen, c_gen) = timed(|| (0..EVENTS).map(event).collect::<Vec<Event>>());
    let (grouping, w_group, c_group) = timed(|| group_events(&events, &Filter::default()));
    let (checker, w_new, c_new) = timed(|| {
        Checker::new(
            &events,
            &grouping,
            Universe::builtin(),
            CheckOptions::default(),
        )
    });
    let proposals = candidates();
    let (checked, w_check, c_check) = timed(|| checker.check_all(&proposals));

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
    let sum = |a: Option<Duration>, b: Option<Duration>| a.zip(b).map(|(a, b)| a + b);
    line("generate events:", w_gen, c_gen, "(not part of the check)");
    line("group events:", w_group, c_group, "(log engine)");
    line(
        "Checker::new:",
        w_new,
        c_new,
        "(evidence: distinct needs per group)",
    );
    line(
        "check 1000:",
        w_check,
        c_check,
        "(compiled rules against the evidence)",
    );
    line(
        "new + check:",
        w_new + w_check,
        sum(c_new, c_check),
        "(the cross-check, grouping excluded)",
    );
    line(
        "group+new+check:",
        w_group + w_new + w_check,
        sum(c_group, sum(c_new, c_check)),
        "(grouping included)",
    );
}
