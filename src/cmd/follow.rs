//! `aa-assist denials --follow`: tail the given log files (polling for growth, reopening on
//! rotation or truncation) or the kernel journal (`journalctl -k -o json -f`), and print each
//! new event group as it first appears, then count updates. Runs until interrupted (Ctrl-C).
//!
//! Parsing and grouping are the log engine's ([`Reader`], [`Grouper`]); this file only feeds
//! them growing input and prints as groups appear.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context;

use aa_assist::log::group::{key_of, Filter, Grouper};
use aa_assist::log::{Event, Reader, Source};

use super::{GlobalArgs, Outcome};

/// How often a quiet file is checked for growth, rotation and truncation.
const POLL: Duration = Duration::from_millis(200);

/// A file that keeps growing: reads return complete lines only, `Ok(0)` means "nothing new
/// yet" (not the end). A file replaced under the same name (rotation) or shortened
/// (truncation) is read again from its start.
struct TailFile {
    path: PathBuf,
    file: Option<File>,
    ino: u64,
    pos: u64,
    /// Bytes read but not yet handed out (an unfinished last line).
    partial: Vec<u8>,
    /// Complete lines ready to hand out.
    out: Vec<u8>,
    out_at: usize,
}

impl TailFile {
    fn open(path: &Path) -> io::Result<TailFile> {
        let file = File::open(path)?;
        let ino = file.metadata()?.ino();
        Ok(TailFile {
            path: path.to_path_buf(),
            file: Some(file),
            ino,
            pos: 0,
            partial: Vec::new(),
            out: Vec::new(),
            out_at: 0,
        })
    }

    /// Reopen when the name now points at another file, or rewind when it shrank.
    fn check_rotation(&mut self) -> io::Result<()> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()), // mid-rotation
            Err(e) => return Err(e),
        };
        if meta.ino() != self.ino {
            self.file = Some(File::open(&self.path)?);
            self.ino = meta.ino();
            self.pos = 0;
            self.partial.clear();
        } else if meta.len() < self.pos {
            if let Some(f) = &mut self.file {
                f.seek(SeekFrom::Start(0))?;
            }
            self.pos = 0;
            self.partial.clear();
        }
        Ok(())
    }

    fn fill(&mut self) -> io::Result<()> {
        self.check_rotation()?;
        let Some(f) = &mut self.file else {
            return Ok(());
        };
        let mut buf = [0u8; 64 * 1024];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            self.pos += n as u64;
            self.partial.extend_from_slice(&buf[..n]);
            if self.partial.len() > 4 << 20 {
                break;
            }
        }
        if let Some(last_nl) = self.partial.iter().rposition(|&b| b == b'\n') {
            let rest = self.partial.split_off(last_nl + 1);
            self.out = std::mem::replace(&mut self.partial, rest);
            self.out_at = 0;
        }
        Ok(())
    }
}

impl Read for TailFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for TailFile {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.out_at >= self.out.len() {
            self.out.clear();
            self.out_at = 0;
            self.fill()?;
        }
        Ok(&self.out[self.out_at..])
    }

    fn consume(&mut self, amt: usize) {
        self.out_at = (self.out_at + amt).min(self.out.len());
    }
}

/// A root-owned file nobody else can write is as trustworthy as the kernel's own channel.
fn trusted(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.uid() == 0 && m.mode() & 0o022 == 0)
}

enum Msg {
    Event(Box<Event>),
    /// A tailed file has been read to its end once: what it held at the start is in.
    CaughtUp,
    Failed(String),
}

fn pump(mut reader: Reader<Box<dyn BufRead + Send>>, tx: mpsc::Sender<Msg>, poll: bool) {
    let mut caught_up = false;
    loop {
        match reader.next_event() {
            Ok(Some(ev)) => {
                if tx.send(Msg::Event(Box::new(ev))).is_err() {
                    return;
                }
            }
            Ok(None) if poll => {
                if !caught_up {
                    caught_up = true;
                    if tx.send(Msg::CaughtUp).is_err() {
                        return;
                    }
                }
                std::thread::sleep(POLL)
            }
            Ok(None) => {
                let _ = tx.send(Msg::Failed(format!("{}: input ended", reader.label())));
                return;
            }
            Err(e) => {
                let _ = tx.send(Msg::Failed(e.to_string()));
                return;
            }
        }
    }
}

struct Shown {
    id: String,
    count: u64,
    printed: u64,
}

/// Follow `logs` (and the journal with `journal`), printing groups as they appear.
pub fn run(
    logs: &[PathBuf],
    journal: bool,
    since: Option<&str>,
    filter: &Filter,
    json: bool,
    global: &GlobalArgs,
) -> anyhow::Result<Outcome> {
    if logs.is_empty() && !journal {
        anyhow::bail!("--follow needs log files to tail, or --journal");
    }
    let (tx, rx) = mpsc::channel();
    for path in logs {
        if path.as_os_str() == "-" {
            let src = Source::from_reader("-", BufReader::new(io::stdin()));
            let tx = tx.clone();
            std::thread::spawn(move || pump(src.into_reader(), tx, false));
            continue;
        }
        let tail = TailFile::open(path).with_context(|| format!("opening {}", path.display()))?;
        let label = path.display().to_string();
        let reader = Source::from_reader(label, tail)
            .into_reader()
            .trusted_channel(trusted(path));
        let tx = tx.clone();
        std::thread::spawn(move || pump(reader, tx, true));
    }
    if journal {
        let mut cmd = std::process::Command::new("journalctl");
        cmd.args(["-k", "-o", "json", "-f", "--no-pager"]);
        if let Some(s) = since {
            cmd.arg(format!("--since={s}"));
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("running journalctl -k -o json -f (is systemd-journald available?)")?;
        let stdout = child.stdout.take().context("journalctl has no stdout")?;
        let reader = Source::from_reader("journal", BufReader::new(stdout))
            .into_reader()
            .trusted_channel(true);
        let tx = tx.clone();
        std::thread::spawn(move || {
            pump(reader, tx, false);
            let _ = child.wait();
        });
    }
    drop(tx);
    if !global.quiet {
        eprintln!("following; new groups appear as they are logged (Ctrl-C to stop)");
    }

    let mut grouper = Grouper::new();
    let mut shown: BTreeMap<usize, Shown> = BTreeMap::new();
    let mut out = io::stdout().lock();
    let mut ended = 0usize;
    let sources = logs.len() + usize::from(journal);
    // What the files hold at the start is grouped as `denials` groups it and numbered in its
    // display order (so G1 is the same group in both); groups first seen later are numbered
    // on from there. The journal's backlog has no end to wait for: with it, groups are
    // numbered as they appear; so with stdin, which may never end.
    let stdin = logs.iter().any(|p| p.as_os_str() == "-");
    let mut initial = (!journal && !stdin && !logs.is_empty()).then(Grouper::new);
    let mut pending = logs.len();
    // Block for the first message, then drain what else is there, then print.
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(m) = rx.try_recv() {
            batch.push(m);
        }
        let mut changed: Vec<usize> = Vec::new();
        for m in batch {
            match m {
                Msg::CaughtUp => pending = pending.saturating_sub(1),
                Msg::Failed(why) => {
                    ended += 1;
                    pending = pending.saturating_sub(1);
                    if !global.quiet {
                        eprintln!("aa-assist: {}", aa_assist::review::sanitize(&why));
                    }
                }
                Msg::Event(ev) => {
                    if let Some(first) = initial.as_mut() {
                        // The same calls as the main grouper: the same provisional indices.
                        if !first.observe_status(&*ev, ev.provenance.trusted)
                            && filter.matches(&*ev)
                        {
                            first.add(&ev);
                        }
                    }
                    if grouper.observe_status(&*ev, ev.provenance.trusted) || !filter.matches(&*ev)
                    {
                        continue;
                    }
                    let gi = grouper.add(&ev);
                    if initial.is_some() {
                        continue;
                    }
                    let n = shown.len();
                    let s = shown.entry(gi).or_insert_with(|| Shown {
                        id: format!("G{}", n + 1),
                        count: 0,
                        printed: 0,
                    });
                    s.count += 1;
                    if s.printed == 0 && s.count == 1 {
                        print_new(&mut out, &s.id, &ev, json)?;
                        s.printed = 1;
                    } else if !changed.contains(&gi) {
                        changed.push(gi);
                    }
                }
            }
        }
        if pending == 0 {
            if let Some(first) = initial.take() {
                print_initial(&mut out, first.finish_lazy(), &mut shown, json)?;
            }
        }
        for gi in changed {
            if let Some(s) = shown.get_mut(&gi) {
                if s.count != s.printed {
                    print_count(&mut out, &s.id, s.count, json)?;
                    s.printed = s.count;
                }
            }
        }
        out.flush()?;
        if ended >= sources {
            break;
        }
    }
    Ok(if shown.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

/// The groups the files held at the start, in `denials` order and with its ids.
fn print_initial(
    out: &mut impl Write,
    done: aa_assist::log::group::Finished,
    shown: &mut BTreeMap<usize, Shown>,
    json: bool,
) -> io::Result<()> {
    // one pass over the groups (each is built when asked for)
    let mut counts = Vec::with_capacity(done.len());
    for (pos, g) in done.iter().enumerate() {
        let id = format!("G{}", pos + 1);
        let comm = g.comms.iter().next().cloned();
        print_group(out, &id, &g.key, comm.as_deref(), g.count, json)?;
        if g.count > 1 && !json {
            print_count(out, &id, g.count, json)?;
        }
        counts.push(g.count);
    }
    for (gi, &pos) in done.position.iter().enumerate() {
        let count = counts.get(pos).copied().unwrap_or(0);
        shown.insert(
            gi,
            Shown {
                id: format!("G{}", pos + 1),
                count,
                printed: count,
            },
        );
    }
    Ok(())
}

fn print_new(out: &mut impl Write, id: &str, ev: &Event, json: bool) -> io::Result<()> {
    print_group(out, id, &key_of(ev), ev.comm.as_deref(), 1, json)
}

fn print_group(
    out: &mut impl Write,
    id: &str,
    k: &aa_assist::log::group::GroupKey,
    comm: Option<&str>,
    count: u64,
    json: bool,
) -> io::Result<()> {
    if json {
        let v = serde_json::json!({
            "event": "new-group", "id": id, "mode": k.mode.as_str(), "profile": k.profile,
            "class": k.class.as_str(), "operation": k.operation, "resource": k.resource,
            "mask": k.mask, "count": count, "comm": comm,
        });
        return writeln!(out, "{v}");
    }
    let clean = aa_assist::review::sanitize;
    let mask = if k.mask.is_empty() {
        String::new()
    } else {
        format!(" ({})", k.mask)
    };
    writeln!(
        out,
        "{id}  new  {} {} {} {}{} [{}] comm={}",
        k.mode.as_str(),
        k.class.as_str(),
        clean(&k.operation),
        clean(&k.resource),
        clean(&mask),
        clean(&k.profile),
        clean(comm.unwrap_or("-"))
    )
}

fn print_count(out: &mut impl Write, id: &str, count: u64, json: bool) -> io::Result<()> {
    if json {
        let v = serde_json::json!({"event": "count", "id": id, "count": count});
        return writeln!(out, "{v}");
    }
    writeln!(out, "{id}  ×{count}")
}
