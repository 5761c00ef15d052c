//! Where the time of `denials` goes, one phase at a time, on one thread.
//!
//!     cargo run --release --example log_phases -- FILE            # CPU seconds per phase
//!     valgrind --tool=cachegrind ./target/release/examples/log_phases FILE parse
//!     valgrind --tool=cachegrind ./target/release/examples/log_phases FILE group
//!
//! The phases: read and parse every line (events handed to a visitor that only counts),
//! read, parse and group, then sort the groups and write the JSON. With a phase name it runs
//! that phase once, for `valgrind` (instruction and cache-miss counts do not move with the
//! load of a shared machine, where seconds do).

use aa_assist::log::fields::{Fields, Origin, Visit};
use aa_assist::log::group::Grouper;
use aa_assist::log::{open_sources, SourceSpec};

/// Seconds this process has run on a CPU (from the scheduler, not the wall clock).
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}

struct Count(u64);

impl Visit for Count {
    fn event<F: Fields + ?Sized>(&mut self, ev: &F, _: Origin<'_>) {
        self.0 += u64::from(ev.pid().is_some());
    }
}

struct Group(Grouper);

impl Visit for Group {
    fn event<F: Fields + ?Sized>(&mut self, ev: &F, origin: Origin<'_>) {
        self.0.add_fields(ev, origin);
    }
}

fn parse(spec: &[SourceSpec]) -> anyhow::Result<u64> {
    let mut c = Count(0);
    for s in open_sources(spec)? {
        s.into_reader().visit(&mut c)?;
    }
    Ok(c.0)
}

fn group(spec: &[SourceSpec]) -> anyhow::Result<Grouper> {
    let mut g = Group(Grouper::new());
    for s in open_sources(spec)? {
        s.into_reader().visit(&mut g)?;
    }
    Ok(g.0)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: log_phases FILE [parse|group]"))?;
    let spec = [SourceSpec::Path(path.into())];
    match args.next().as_deref() {
        Some("parse") => println!("{} events with a pid", parse(&spec)?),
        Some("group") => println!("{} groups", group(&spec)?.len()),
        Some(other) => anyhow::bail!("unknown phase {other:?} (parse or group)"),
        None => {
            for _ in 0..2 {
                let t = cpu_seconds();
                let n = parse(&spec)?;
                println!(
                    "read + parse:         {:6.3} s CPU ({n} events with a pid)",
                    cpu_seconds() - t
                );
                let t = cpu_seconds();
                let g = group(&spec)?;
                let n = g.len();
                println!(
                    "read + parse + group: {:6.3} s CPU ({n} groups)",
                    cpu_seconds() - t
                );
                let t = cpu_seconds();
                let json = serde_json::to_vec_pretty(&g.finish_lazy())?;
                println!(
                    "sort + JSON:          {:6.3} s CPU ({} bytes)",
                    cpu_seconds() - t,
                    json.len()
                );
            }
        }
    }
    Ok(())
}
