//! `aa-assist status PROFILE --log LOG… [--quiet-period 24h]`: is the profile ready to
//! enforce? The last step of the complain-mode workflow: exercise the service, tune, and
//! enforce once no new denial has shown up for a quiet period.
//!
//! Denials are DENIED and ALLOWED (complain-mode) events of the profile and its hats. The
//! quiet period ends at the newest timestamp in the logs (or at `--now`). Exit 0 ready,
//! 1 not ready, 2 error.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use aa_assist::log::group::{group_events, Filter};
use aa_assist::log::{time, Event, EventKind};

use super::{GlobalArgs, Outcome};

const EXAMPLE: &str = "\
Examples:
  # Ready to enforce after a day without new denials (ending at the newest log line)?
  aa-assist status exampled --log /var/log/audit/audit.log --quiet-period 24h

  # The profile file names the profile (and its hats); judge at the current time:
  aa-assist status /etc/apparmor.d/usr.sbin.exampled --log audit.log --now now

Exit status: 0 ready to enforce, 1 not ready, 2 error.";

/// Flags of `aa-assist status`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLE)]
pub struct Args {
    /// Profile name as logs spell it, or a profile file (all profiles and hats it defines).
    pub profile: String,
    /// Logs to read (`-` is stdin). Repeatable.
    #[arg(long = "log", value_name = "LOG", required = true)]
    pub logs: Vec<PathBuf>,
    /// How long without new denials before enforcing: 30m, 24h, 7d, ….
    #[arg(long, value_name = "AGE", default_value = "24h")]
    pub quiet_period: String,
    /// End the quiet period at this time (`now`, @EPOCH, YYYY-MM-DD HH:MM) instead of the
    /// newest log timestamp.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Where profiles and includes are found.
    #[command(flatten)]
    pub dirs: super::profile_args::ProfileDirArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The `status --json` document.
#[derive(Debug, Serialize)]
struct Report {
    schema_version: u32,
    profiles: Vec<String>,
    quiet_period_secs: i64,
    /// End of the quiet period (epoch).
    until: Option<i64>,
    last_denial: Option<i64>,
    last_load: Option<i64>,
    denials: u64,
    groups: usize,
    new_groups_since_load: usize,
    denials_in_quiet_period: u64,
    logs_start: Option<i64>,
    ready: bool,
    reason: String,
}

fn parse_period(s: &str) -> anyhow::Result<i64> {
    let t = s.trim();
    if t.starts_with('@') || !t.ends_with(|c: char| "smhdw".contains(c)) {
        anyhow::bail!("--quiet-period {s:?}: use an age like 30m, 24h or 7d");
    }
    let secs = -time::parse_since(t, 0).map_err(|e| anyhow::anyhow!("--quiet-period: {e}"))?;
    if secs <= 0 {
        anyhow::bail!("--quiet-period {s:?} must be longer than zero");
    }
    Ok(secs)
}

/// The profile names to judge: those a profile file defines, else the argument itself (a name
/// as logs spell it, which may be a path such as `/usr/sbin/exampled`: an executable file is
/// the program, never its profile).
fn names_of(
    profile: &str,
    dirs: &super::profile_args::ProfileDirArgs,
) -> anyhow::Result<BTreeSet<String>> {
    use std::os::unix::fs::PermissionsExt;
    let p = Path::new(profile);
    let program = std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
    if p.is_dir() {
        super::inputs::readable_file(super::inputs::Kind::Profile, p)?;
    }
    if p.is_file() && !program {
        let policy = super::explain::load_policy(p, dirs.dir(), &dirs.include)?;
        let names = super::tune::pipeline::profile_names(&policy);
        if names.is_empty() {
            anyhow::bail!("{profile} defines no profile");
        }
        return Ok(names);
    }
    let mut names = BTreeSet::from([profile.to_string()]);
    // A program path (`aa-complain` style): the profile in the profile dir attaching to it,
    // by the names the logs give it.
    if program || (profile.starts_with('/') && !p.exists()) {
        if let Ok(file) = super::tune::resolve_profile(profile, dirs.dir()) {
            let policy = super::explain::load_policy(&file, dirs.dir(), &dirs.include)?;
            names.extend(super::tune::pipeline::profile_names(&policy));
        }
    }
    Ok(names)
}

fn ours(name: &str, names: &BTreeSet<String>) -> bool {
    names.contains(name)
        || names.iter().any(|n| {
            name.strip_prefix(n.as_str())
                .is_some_and(|r| r.starts_with("//"))
        })
}

fn is_denial(ev: &Event) -> bool {
    matches!(ev.kind, EventKind::Denied | EventKind::Allowed)
}

pub fn run(mut args: Args, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    args.dirs.resolve()?;
    let period = parse_period(&args.quiet_period)?;
    let names = names_of(&args.profile, &args.dirs)?;
    let events = super::explain::read_logs(&args.logs, global.quiet)?;
    let now_real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // The span the logs cover, and the last load, come from trusted lines stamped no later
    // than now: a line any user could have written (or one from the future) must not end
    // the quiet period early, stretch its start back, or stand for a reload. Denials count
    // whatever their source: a claimed denial can only keep a profile from being ready.
    let vouched = || {
        events
            .iter()
            .filter(|e| e.provenance.trusted)
            .filter_map(|e| e.epoch)
            .filter(|&t| t <= now_real)
    };
    let newest = vouched().max();
    let logs_start = vouched().min();
    let untrusted_only = newest.is_none() && events.iter().any(|e| e.epoch.is_some());
    let until = match &args.now {
        Some(t) => Some(time::parse_since(t, now_real).map_err(|e| anyhow::anyhow!("--now: {e}"))?),
        None => newest,
    };
    let last_load = events
        .iter()
        .filter(|e| e.kind == EventKind::Status && e.provenance.trusted)
        .filter(|e| {
            matches!(
                e.operation.as_deref(),
                Some("profile_load" | "profile_replace")
            )
        })
        .filter(|e| e.name.as_deref().is_some_and(|n| ours(n, &names)))
        .filter_map(|e| e.epoch)
        .filter(|&t| t <= now_real)
        .max();
    // Whether the logs show the profile at all (any event of it, or its load), and else
    // which profiles they do show: a profile the logs never mention is not "quiet".
    let seen = events.iter().any(|e| {
        e.profile_name().is_some_and(|p| ours(p, &names))
            || (e.kind == EventKind::Status && e.name.as_deref().is_some_and(|n| ours(n, &names)))
    });
    let others: BTreeSet<&str> = if seen {
        BTreeSet::new()
    } else {
        events
            .iter()
            .filter_map(Event::profile_name)
            .filter(|p| *p != "unconfined")
            .collect()
    };
    let unseen = (!seen).then(|| {
        let shown: Vec<&str> = others.iter().take(10).copied().collect();
        let more = if others.len() > shown.len() {
            format!(" and {} more", others.len() - shown.len())
        } else {
            String::new()
        };
        let has = if shown.is_empty() {
            "they have no event of any profile".to_string()
        } else {
            format!("they have profile(s) {}{more}", shown.join(", "))
        };
        format!(
            "the logs have no event of profile {} at all (no denial, no load), so nothing \
             shows it ran; {has}. Give the logs of the time it was exercised, or check the \
             profile name",
            names.iter().cloned().collect::<Vec<_>>().join(", ")
        )
    });
    let mine: Vec<Event> = events
        .into_iter()
        .filter(|e| is_denial(e) && e.profile_name().is_some_and(|p| ours(p, &names)))
        .collect();
    let last_denial = mine.iter().filter_map(|e| e.epoch).max();
    let grouping = group_events(&mine, &Filter::default());
    let new_groups = match last_load {
        Some(l) => grouping
            .groups
            .iter()
            .filter(|g| g.first_seen.is_some_and(|f| f >= l))
            .count(),
        None => grouping.groups.len(),
    };
    let in_period = match until {
        Some(u) => mine
            .iter()
            .filter(|e| e.epoch.is_some_and(|t| t > u - period && t <= u))
            .count() as u64,
        None => mine.len() as u64,
    };
    let (ready, reason) = match (until, logs_start) {
        (_, None) if untrusted_only => (
            false,
            "every timestamp in the logs is on a line any user could have written (syslog, \
             journal text, stdin), so no quiet period can be measured; give the audit log \
             itself (e.g. /var/log/audit/audit.log, as root) or `journalctl -k -o json` output"
                .to_string(),
        ),
        (_, _) if unseen.is_some() => (false, unseen.clone().unwrap_or_default()),
        (None, _) | (_, None) => (
            false,
            "the logs have no timestamps, so no quiet period can be measured".to_string(),
        ),
        (_, _) if in_period > 0 => (
            false,
            format!(
                "{in_period} denial(s) within the quiet period of {}",
                args.quiet_period
            ),
        ),
        (Some(u), Some(_)) if newest.is_some_and(|n| n < u - period) => (
            false,
            format!(
                "the logs end at {}, before the quiet period of {} ending {} begins, so they \
                 say nothing about it; give logs that reach it, or leave out --now to end the \
                 period at the newest log line",
                newest.map(time::format_epoch).unwrap_or_default(),
                args.quiet_period,
                time::format_epoch(u)
            ),
        ),
        (Some(u), Some(start)) if start > u - period => (
            false,
            format!(
                "the logs cover only {} of the quiet period of {} (from {})",
                human_secs(u - start),
                args.quiet_period,
                time::format_epoch(start)
            ),
        ),
        _ => (
            true,
            format!(
                "no denials in the {} ending {}{}",
                args.quiet_period,
                until.map(time::format_epoch).unwrap_or_default(),
                match (newest, until) {
                    (Some(n), Some(u)) if n < u => format!(
                        " (the logs end at {}; nothing after that is known)",
                        time::format_epoch(n)
                    ),
                    _ => String::new(),
                }
            ),
        ),
    };
    let report = Report {
        schema_version: 1,
        profiles: names.iter().cloned().collect(),
        quiet_period_secs: period,
        until,
        last_denial,
        last_load,
        denials: mine.len() as u64,
        groups: grouping.groups.len(),
        new_groups_since_load: new_groups,
        denials_in_quiet_period: in_period,
        logs_start,
        ready,
        reason,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        print_text(&mut out, &report)?;
    }
    Ok(if ready {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

fn human_secs(s: i64) -> String {
    match s {
        s if s >= 86_400 => format!("{:.1}d", s as f64 / 86_400.0),
        s if s >= 3600 => format!("{:.1}h", s as f64 / 3600.0),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn print_text(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    let when = |t: Option<i64>| t.map_or("never (in these logs)".to_string(), time::format_epoch);
    writeln!(
        out,
        "profile:       {}",
        aa_assist::review::sanitize(&r.profiles.join(", "))
    )?;
    writeln!(out, "last denial:   {}", when(r.last_denial))?;
    writeln!(out, "last load:     {}", when(r.last_load))?;
    writeln!(
        out,
        "groups:        {} ({} denial event(s)); {} new since the last load/replace",
        r.groups, r.denials, r.new_groups_since_load
    )?;
    if r.ready {
        writeln!(
            out,
            "READY to enforce: {}",
            aa_assist::review::sanitize(&r.reason)
        )?;
        writeln!(
            out,
            "  next: sudo aa-enforce {}",
            aa_assist::review::sanitize(r.profiles.first().map(String::as_str).unwrap_or(""))
        )?;
    } else {
        writeln!(
            out,
            "NOT ready to enforce: {}",
            aa_assist::review::sanitize(&r.reason)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert_eq!(parse_period("24h").expect("ok"), 86_400);
        assert_eq!(parse_period("30m").expect("ok"), 1800);
        assert!(parse_period("@5").is_err());
        assert!(parse_period("soon").is_err());
    }

    #[test]
    fn hats_belong_to_their_profile() {
        let names = BTreeSet::from(["svc".to_string()]);
        assert!(ours("svc", &names));
        assert!(ours("svc//hat", &names));
        assert!(!ours("svcd", &names));
    }
}
