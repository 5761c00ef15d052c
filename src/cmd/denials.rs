//! `aa-assist denials [LOG…]`: read audit events from every source given, group them, and
//! show the groups as a table or as versioned JSON (`docs/json-schema.md`, "denials --json").

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use console::style;

use crate::cmd::{GlobalArgs, Outcome};
use aa_assist::log::fields::{Fields, Origin, Visit};
use aa_assist::log::group::{write_pretty_at, Filter, Finished, Group, Grouper};
use aa_assist::log::{
    open_sources, time, EventKind, ReadError, SourceSpec, Summary, DEFAULT_AUDIT_LOG,
};

/// The `denials --json` schema version (bump on any incompatible change).
pub const SCHEMA_VERSION: u32 = 1;

/// The `--json` document (what [`write_report`] writes; a test holds the two equal).
#[cfg(test)]
#[derive(serde::Serialize)]
struct Report<'a> {
    schema_version: u32,
    summary: &'a Summary,
    groups: &'a Finished,
}

/// Write the `--json` document, `{schema_version, summary, groups}`, exactly as
/// `serde_json::to_writer_pretty` writes it, with the groups (tens of thousands in a large
/// log) turned into JSON on `threads` threads, a chunk at a time.
fn write_report(
    out: &mut impl Write,
    summary: &Summary,
    groups: &Finished,
    threads: usize,
) -> std::io::Result<()> {
    let mut head =
        format!("{{\n  \"schema_version\": {SCHEMA_VERSION},\n  \"summary\": ").into_bytes();
    write_pretty_at(&mut head, summary, 1)?;
    head.extend_from_slice(b",\n  \"groups\": ");
    out.write_all(&head)?;
    groups.write_pretty(out, 1, threads)?;
    out.write_all(b"\n}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// DENIED events only.
    Denied,
    /// ALLOWED events only (complain mode).
    Allowed,
    /// DENIED, ALLOWED, AUDIT, HINT and ERROR events (not STATUS).
    All,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
sudo aa-assist denials                           # /var/log/audit/audit.log\n  \
aa-assist denials /var/log/kern.log old.log.gz --profile /usr/sbin/nginx\n  \
aa-assist denials --journal --since 2h --mode denied --json\n  \
journalctl -k -o json | aa-assist denials -\n  \
aa-assist denials --follow /var/log/audit/audit.log   # live, while the service runs\n\n\
Exit status: 0 no groups, 1 groups found, 2 error.")]
pub struct Args {
    /// Log files (plain or .gz; auditd, ausearch, dmesg, syslog, journal JSON); `-` is stdin.
    #[arg(value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Also read the kernel log from the journal (`journalctl -k -o json`).
    #[arg(long)]
    pub journal: bool,
    /// Also read an auditd log [default path: /var/log/audit/audit.log].
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = DEFAULT_AUDIT_LOG)]
    pub audit_log: Option<PathBuf>,
    /// Only events at or after this time: @EPOCH, YYYY-MM-DD[ HH:MM[:SS]] (UTC, or with an ISO
    /// zone such as Z or +02:00), or an age such as 30m, 2h or 7d. Read here (the instant is
    /// stated in UTC) and passed to journalctl as @EPOCH.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only this profile (and its hats and children).
    #[arg(long)]
    pub profile: Option<String>,
    /// Which events to group.
    #[arg(long, value_enum, default_value_t = Mode::All)]
    pub mode: Mode,
    /// Only this operation (e.g. open, exec, connect) or operation family (e.g. rename).
    #[arg(long)]
    pub operation: Option<String>,
    /// Print JSON (schema in docs/json-schema.md, "denials --json").
    #[arg(long)]
    pub json: bool,
    /// Fail on the first AppArmor line that cannot be parsed, naming file:line and reason.
    #[arg(long)]
    pub strict: bool,
    /// Keep reading: tail the files (rotation and truncation handled) or the journal, and
    /// print each new group as it first appears, then count updates. What the files hold at
    /// the start comes first, with the ids `denials` gives it. Ctrl-C stops.
    #[arg(short = 'f', long)]
    pub follow: bool,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn specs(args: &Args, since: Option<i64>) -> anyhow::Result<Vec<SourceSpec>> {
    let mut specs = super::inputs::log_specs(&args.logs)?;
    if let Some(p) = &args.audit_log {
        super::inputs::readable_file(super::inputs::Kind::Log, p)?;
        specs.push(SourceSpec::Path(p.clone()));
    }
    if args.journal {
        specs.push(SourceSpec::Journal {
            since: since.map(|e| format!("@{e}")),
        });
    }
    if specs.is_empty() {
        let default = Path::new(DEFAULT_AUDIT_LOG);
        if !default.exists() {
            anyhow::bail!(
                "no log given and {DEFAULT_AUDIT_LOG} does not exist (is auditd installed?); \
                 pass log files, `-` for stdin, or --journal"
            );
        }
        specs.push(SourceSpec::Path(default.to_path_buf()));
    }
    Ok(specs)
}

/// Untrusted log text for the table: [`aa_assist::display::escape`] (controls, bidi and
/// invisible characters shown as escapes).
fn clean(s: &str) -> String {
    aa_assist::display::escape(s)
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn when(t: Option<i64>) -> String {
    t.map_or_else(|| "-".to_string(), time::format_epoch)
}

fn print_table(out: &mut impl Write, groups: &[Group]) -> std::io::Result<()> {
    let header = [
        "ID",
        "MODE",
        "PROFILE",
        "CLASS",
        "OPERATION",
        "RESOURCE",
        "MASK",
        "COUNT",
        "FIRST",
        "LAST",
        "PIDS",
        "COMMS",
        "NOTE",
    ];
    let rows: Vec<[String; 13]> = groups
        .iter()
        .map(|g| {
            let mut note = Vec::new();
            if g.stale {
                note.push("stale".to_string());
            }
            if g.untrusted > 0 {
                note.push(format!("untrusted:{}", g.untrusted));
            }
            let comms: Vec<&str> = g.comms.iter().map(String::as_str).collect();
            [
                g.id.clone(),
                g.key.mode.as_str().to_string(),
                cut(&clean(&g.key.profile), 40),
                g.key.class.as_str().to_string(),
                cut(&clean(&g.key.operation), 20),
                cut(&clean(&g.key.resource), 60),
                cut(&clean(&g.key.mask), 20),
                g.count.to_string(),
                when(g.first_seen),
                when(g.last_seen),
                format!("{}{}", g.pids.len(), if g.truncated { "+" } else { "" }),
                cut(&clean(&comms.join(",")), 30),
                note.join(","),
            ]
        })
        .collect();
    let mut width = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String; 13]| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let pad = width[i] - c.chars().count();
                s.push_str(c);
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", style(line(&header.map(str::to_string))).bold())?;
    for (g, r) in groups.iter().zip(rows.iter()) {
        let text = line(r);
        let styled = match g.key.mode {
            _ if g.stale => style(text).dim(),
            EventKind::Denied => style(text).red(),
            EventKind::Allowed => style(text).yellow(),
            _ => style(text),
        };
        writeln!(out, "{styled}")?;
    }
    Ok(())
}

fn report_summary(summary: &Summary, groups: usize, global: &GlobalArgs) {
    if global.quiet {
        return;
    }
    eprintln!(
        "read {} lines: {} AppArmor events in {} groups, {} other lines, {} unparseable",
        summary.lines, summary.events, groups, summary.ignored, summary.failed
    );
    for f in &summary.failures {
        eprintln!("  skipped {}", clean(&f.to_string()));
    }
    if summary.failed > summary.failures.len() as u64 {
        eprintln!(
            "  … and {} more (use --strict to stop at the first)",
            summary.failed - summary.failures.len() as u64
        );
    }
}

/// Threads for reading a plain log file: `AA_ASSIST_THREADS` if set, else the number of
/// CPUs up to two.
///
/// Each thread reads its own part of the file into its own groups, merged at the end: on the
/// 2-core benchmark machine two threads take a 1 GiB log from about 5.5 to about 3 s of wall
/// time and its peak memory from about 31 to about 51 MiB (budget 64 MB); each further thread
/// adds a copy of the groups, so more are asked for, not assumed (BENCHMARKS.md, Log
/// parsing). Compressed files, stdin and the journal are read on one.
fn parse_threads() -> anyhow::Result<usize> {
    match std::env::var_os("AA_ASSIST_THREADS") {
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get().min(2))),
        Some(v) => v
            .to_str()
            .and_then(|t| t.trim().parse::<usize>().ok())
            .filter(|n| (1..=64).contains(n))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "AA_ASSIST_THREADS must be a whole number from 1 to 64, got `{}`",
                    clean(&v.to_string_lossy())
                )
            }),
    }
}

/// Feeds the reader's events to a grouper.
struct Sink<'a> {
    grouper: Grouper,
    filter: &'a Filter,
}

impl Visit for Sink<'_> {
    fn event<F: Fields + ?Sized>(&mut self, ev: &F, origin: Origin<'_>) {
        if !self.grouper.observe_status(ev, origin.trusted) && self.filter.matches(ev) {
            self.grouper.add_queued(ev, origin);
        }
    }
}

pub fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        console::set_colors_enabled(false);
    }
    let now = now();
    let since = args
        .since
        .as_deref()
        .map(|s| time::parse_since(s, now))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--since: {e}"))?;
    // Read here, not by journalctl (whose grammar differs): say which instant that is.
    if let (Some(given), Some(at)) = (&args.since, since) {
        if !global.quiet {
            eprintln!(
                "note: --since {}: events at or after {} UTC",
                aa_assist::display::escape(given),
                time::format_epoch(at)
            );
        }
    }
    let since_arg = since.map(|e| format!("@{e}"));
    let filter = Filter {
        profile: args.profile.clone(),
        since,
        modes: match args.mode {
            Mode::Denied => vec![EventKind::Denied],
            Mode::Allowed => vec![EventKind::Allowed],
            Mode::All => vec![
                EventKind::Denied,
                EventKind::Allowed,
                EventKind::Audit,
                EventKind::Hint,
                EventKind::Error,
            ],
        },
        operation: args.operation.clone(),
    };
    if args.follow {
        return super::follow::run(
            &args.logs,
            args.journal,
            since_arg.as_deref(),
            &filter,
            args.json,
            global,
        );
    }
    let threads = parse_threads()?;
    let started = std::time::Instant::now();
    let sources = open_sources(&specs(&args, since)?)?;
    let mut grouper = Grouper::new();
    let mut summary = Summary::default();
    for source in sources {
        let result = if source.splittable() && threads > 1 {
            source.visit_parallel(threads, args.strict, || Sink {
                grouper: Grouper::new(),
                filter: &filter,
            })
        } else {
            let mut reader = source.into_reader().strict(args.strict);
            let mut sink = Sink {
                grouper: std::mem::take(&mut grouper),
                filter: &filter,
            };
            let done = reader.visit(&mut sink);
            grouper = sink.grouper;
            grouper.settle();
            done.map(|()| (Vec::new(), reader.summary().clone()))
        };
        match result {
            Ok((parts, read)) => {
                tracing::debug!(elapsed = ?started.elapsed(), parts = parts.len(), "read and grouped");
                for part in parts {
                    grouper.merge(part.visitor.grouper, part.line_offset);
                }
                tracing::debug!(elapsed = ?started.elapsed(), groups = grouper.len(), "merged");
                summary.merge(&read);
            }
            Err(ReadError::Strict(f)) => {
                anyhow::bail!("{} (--strict)", clean(&f.to_string()));
            }
            Err(e) => return Err(e).context("reading logs"),
        }
    }
    let groups = grouper.finish_lazy();
    tracing::debug!(elapsed = ?started.elapsed(), "sorted");
    let stdout = std::io::stdout();
    // Stdout is line-buffered: pretty JSON would cost a write call per line.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    if args.json {
        write_report(&mut out, &summary, &groups, threads)?;
        writeln!(out)?;
    } else {
        let groups: Vec<Group> = groups.iter().collect();
        if !groups.is_empty() {
            print_table(&mut out, &groups)?;
        }
        // The summary goes to stderr: keep it after the table on a shared terminal.
        out.flush()?;
        report_summary(&summary, groups.len(), global);
    }
    out.flush()?;
    tracing::debug!(elapsed = ?started.elapsed(), "written");
    let outcome = if groups.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    };
    // The process ends when this returns: freeing tens of thousands of groups one by one
    // first would only delay the exit (about 8 ms on the 1M-line benchmark).
    std::mem::forget(groups);
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-assembled document is serde_json's pretty output of [`Report`], byte for
    /// byte, with and without groups, on one thread or several.
    #[test]
    fn report_is_serde_jsons_pretty_output() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for log in [
            "examples/pidcache/audit.log",
            "examples/webserver/ausearch-interpreted.txt",
        ] {
            for mode in [Mode::All, Mode::Denied] {
                let sources = open_sources(&[SourceSpec::Path(root.join(log))]).unwrap();
                let filter = Filter {
                    modes: match mode {
                        Mode::Denied => vec![EventKind::Denied],
                        _ => vec![EventKind::Denied, EventKind::Allowed],
                    },
                    ..Filter::default()
                };
                let mut sink = Sink {
                    grouper: Grouper::new(),
                    filter: &filter,
                };
                let mut summary = Summary::default();
                for s in sources {
                    let mut r = s.into_reader();
                    r.visit(&mut sink).unwrap();
                    summary.merge(r.summary());
                }
                let groups = sink.grouper.finish_lazy();
                let want = serde_json::to_vec_pretty(&Report {
                    schema_version: SCHEMA_VERSION,
                    summary: &summary,
                    groups: &groups,
                })
                .unwrap();
                for threads in [1, 2] {
                    let mut got = Vec::new();
                    write_report(&mut got, &summary, &groups, threads).unwrap();
                    assert_eq!(
                        String::from_utf8_lossy(&got),
                        String::from_utf8_lossy(&want)
                    );
                }
            }
        }
        let empty = Grouper::new().finish_lazy();
        let summary = Summary::default();
        let mut got = Vec::new();
        write_report(&mut got, &summary, &empty, 2).unwrap();
        let want = serde_json::to_vec_pretty(&Report {
            schema_version: SCHEMA_VERSION,
            summary: &summary,
            groups: &empty,
        })
        .unwrap();
        assert_eq!(got, want);
    }
}
