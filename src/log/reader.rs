//! Streaming over log sources: files (plain or gzip), stdin and the journal.
//!
//! A [`Reader`] reads one line at a time from any `BufRead` (never the whole log), parses it
//! with [`super::parse_line_with`], fills in provenance, and counts lines that are not
//! AppArmor output and AppArmor lines that could not be parsed ([`Summary`]). Lines longer
//! than [`MAX_LINE`] are skipped without being held in memory and counted as failures.
//!
//! It does not group, filter or print.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde::{Deserialize, Serialize};

use std::collections::VecDeque;

use super::context::{audit_stamp, merge};
use super::{parse_line_with, AuditContext, Event, Framing, LineError, Scratch};

/// At most this many events wait for the other records of their audit event.
const MAX_PENDING: usize = 64;

/// Where `--audit-log` reads by default.
pub const DEFAULT_AUDIT_LOG: &str = "/var/log/audit/audit.log";

/// The longest line we parse (16 MiB); longer lines are skipped and counted.
pub const MAX_LINE: usize = 16 << 20;

/// How many failures a [`Summary`] keeps in detail (all are counted).
const KEEP_FAILURES: usize = 20;

/// A source to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// A file, plain or gzip-compressed (detected by content, not by name).
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// `journalctl -k -o json --no-pager`, optionally with `--since`.
    Journal {
        /// Passed to `journalctl --since` as given.
        since: Option<String>,
    },
}

impl SourceSpec {
    /// `-` means stdin; anything else is a path.
    pub fn from_arg(arg: &Path) -> SourceSpec {
        if arg.as_os_str() == "-" {
            SourceSpec::Stdin
        } else {
            SourceSpec::Path(arg.to_path_buf())
        }
    }
}

/// Errors that stop reading a source.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file does not exist.
    #[error("{}: no such file (is auditd installed and running? try --journal)", .0.display())]
    NotFound(PathBuf),
    /// The file exists but cannot be read.
    #[error("{}: permission denied (audit logs are usually readable by root only; try sudo)", .0.display())]
    PermissionDenied(PathBuf),
    /// Any other I/O error.
    #[error("{source_name}: {err}")]
    Io {
        /// The source label.
        source_name: String,
        /// The underlying error.
        #[source]
        err: io::Error,
    },
    /// `journalctl` could not be started or failed.
    #[error("journal: {0}")]
    Journal(String),
    /// A line could not be parsed and the reader is strict.
    #[error("{0}")]
    Strict(LineFailure),
}

/// One line that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineFailure {
    /// The source label.
    pub source: String,
    /// 1-based line number.
    pub line: u64,
    /// Why it failed.
    pub reason: String,
}

impl fmt::Display for LineFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.reason)
    }
}

/// What a reader saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Lines read.
    pub lines: u64,
    /// AppArmor events returned.
    pub events: u64,
    /// Lines that are not AppArmor output (other audit records, other syslog lines, …).
    pub ignored: u64,
    /// AppArmor lines that could not be parsed (plus over-long and undecodable lines).
    pub failed: u64,
    /// The first failures in detail.
    pub failures: Vec<LineFailure>,
}

impl Summary {
    /// Add another summary's counts (and failures, up to the kept maximum).
    pub fn merge(&mut self, other: &Summary) {
        self.lines += other.lines;
        self.events += other.events;
        self.ignored += other.ignored;
        self.failed += other.failed;
        for f in &other.failures {
            if self.failures.len() < KEEP_FAILURES {
                self.failures.push(f.clone());
            }
        }
    }

    fn fail(&mut self, f: LineFailure) {
        self.failed += 1;
        if self.failures.len() < KEEP_FAILURES {
            self.failures.push(f);
        }
    }
}

/// An opened source: a label and a line reader.
pub struct Source {
    /// The label used in provenance and messages (path, `-` or `journal`).
    pub label: String,
    /// Whether the channel itself is trustworthy (a root-owned file that only root can write,
    /// or the journal); stdin and user-writable files are not.
    pub trusted_channel: bool,
    input: Box<dyn BufRead + Send>,
    child: Option<Child>,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("label", &self.label)
            .field("trusted_channel", &self.trusted_channel)
            .finish_non_exhaustive()
    }
}

impl Source {
    /// Wrap any reader (tests, embedding). The channel is untrusted.
    pub fn from_reader(label: impl Into<String>, input: impl BufRead + Send + 'static) -> Source {
        Source {
            label: label.into(),
            trusted_channel: false,
            input: Box::new(input),
            child: None,
        }
    }

    /// Turn this source into a [`Reader`].
    pub fn into_reader(self) -> Reader<Box<dyn BufRead + Send>> {
        let mut r = Reader::new(self.input, self.label);
        r.channel_trusted = self.trusted_channel;
        r.child = self.child;
        r
    }
}

fn open_path(path: &Path) -> Result<Source, ReadError> {
    let file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => ReadError::NotFound(path.to_path_buf()),
        io::ErrorKind::PermissionDenied => ReadError::PermissionDenied(path.to_path_buf()),
        _ => ReadError::Io {
            source_name: path.display().to_string(),
            err: e,
        },
    })?;
    let meta = file.metadata().map_err(|e| ReadError::Io {
        source_name: path.display().to_string(),
        err: e,
    })?;
    if meta.is_dir() {
        return Err(ReadError::Io {
            source_name: path.display().to_string(),
            err: io::Error::other("is a directory"),
        });
    }
    let trusted_channel = {
        use std::os::unix::fs::MetadataExt;
        meta.uid() == 0 && meta.mode() & 0o022 == 0
    };
    let mut buffered = BufReader::with_capacity(256 * 1024, file);
    let gz = buffered
        .fill_buf()
        .map(|b| b.starts_with(&[0x1f, 0x8b]))
        .map_err(|e| ReadError::Io {
            source_name: path.display().to_string(),
            err: e,
        })?;
    let input: Box<dyn BufRead + Send> = if gz {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::bufread::MultiGzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    };
    Ok(Source {
        label: path.display().to_string(),
        trusted_channel,
        input,
        child: None,
    })
}

fn open_journal(since: Option<&str>) -> Result<Source, ReadError> {
    let mut cmd = Command::new("journalctl");
    cmd.args(["-k", "-o", "json", "--no-pager"]);
    if let Some(s) = since {
        cmd.arg("--since").arg(s);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                ReadError::Journal("journalctl not found (is this a systemd system?)".into())
            } else {
                ReadError::Journal(format!("cannot run journalctl: {e}"))
            }
        })?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| ReadError::Journal("journalctl has no stdout".into()))?;
    Ok(Source {
        label: "journal".into(),
        trusted_channel: true,
        input: Box::new(BufReader::with_capacity(256 * 1024, stdout)),
        child: Some(child),
    })
}

/// Open every source, or fail naming the first that cannot be opened.
pub fn open_sources(specs: &[SourceSpec]) -> Result<Vec<Source>, ReadError> {
    specs
        .iter()
        .map(|s| match s {
            SourceSpec::Path(p) => open_path(p),
            SourceSpec::Stdin => Ok(Source::from_reader(
                "-",
                BufReader::with_capacity(256 * 1024, io::stdin()),
            )),
            SourceSpec::Journal { since } => open_journal(since.as_deref()),
        })
        .collect()
}

/// A streaming event reader over one source.
pub struct Reader<R> {
    input: R,
    label: String,
    line_no: u64,
    buf: Vec<u8>,
    scratch: Scratch,
    channel_trusted: bool,
    ausearch: bool,
    strict: bool,
    summary: Summary,
    child: Option<Child>,
    /// Events ready to hand out, in input order.
    ready: VecDeque<Event>,
    /// auditd events whose other records (same stamp) may still follow.
    pending: Vec<Event>,
    pending_stamp: Vec<u8>,
    pending_ctx: AuditContext,
    /// `ausearch` prints an event's other records before its AVC: they wait here.
    before: AuditContext,
    before_stamp: Vec<u8>,
}

impl<R: BufRead> Reader<R> {
    /// Read events from `input`, labelling provenance with `label`. The channel is untrusted
    /// unless [`Reader::trusted_channel`] says otherwise.
    pub fn new(input: R, label: impl Into<String>) -> Reader<R> {
        Reader {
            input,
            label: label.into(),
            line_no: 0,
            buf: Vec::with_capacity(4096),
            scratch: Scratch::default(),
            channel_trusted: false,
            ausearch: false,
            strict: false,
            summary: Summary::default(),
            child: None,
            ready: VecDeque::new(),
            pending: Vec::new(),
            pending_stamp: Vec::new(),
            pending_ctx: AuditContext::default(),
            before: AuditContext::default(),
            before_stamp: Vec::new(),
        }
    }

    /// Hand the pending events over, with the context gathered for them.
    fn flush(&mut self) {
        let ctx = std::mem::take(&mut self.pending_ctx);
        let has_ctx = !ctx.records.is_empty();
        for mut ev in self.pending.drain(..) {
            if has_ctx {
                ev.context = Some(ctx.clone());
            }
            self.ready.push_back(ev);
        }
        self.pending_stamp.clear();
    }

    /// Declare whether the channel can only carry kernel/auditd output.
    pub fn trusted_channel(mut self, trusted: bool) -> Self {
        self.channel_trusted = trusted;
        self
    }

    /// Stop at the first unparseable AppArmor line with [`ReadError::Strict`].
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// What has been read so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The source label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Read one line into `self.buf`, at most [`MAX_LINE`] bytes of it. Returns `None` at
    /// end of input, `Some(true)` for a complete line, `Some(false)` for an over-long one.
    fn read_line(&mut self) -> io::Result<Option<bool>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(any.then_some(!too_long));
            }
            any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(n) => (n + 1, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if self.buf.len() + take > MAX_LINE + 1 {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            self.input.consume(take);
            if done {
                return Ok(Some(!too_long));
            }
        }
    }

    /// The next event, skipping (and counting) everything else. `Ok(None)` at the end.
    ///
    /// auditd events are handed out once the next record with a different stamp (or the end
    /// of input) shows that their `SYSCALL`/`PROCTITLE`/… records are complete; those
    /// records' fields are attached as [`Event::context`].
    pub fn next_event(&mut self) -> Result<Option<Event>, ReadError> {
        loop {
            if let Some(ev) = self.ready.pop_front() {
                return Ok(Some(ev));
            }
            let complete = match self.read_line() {
                Ok(Some(c)) => c,
                Ok(None) => {
                    if !self.pending.is_empty() {
                        self.flush();
                        continue;
                    }
                    self.finish_child()?;
                    return Ok(None);
                }
                Err(e) => {
                    return Err(ReadError::Io {
                        source_name: self.label.clone(),
                        err: e,
                    })
                }
            };
            self.line_no += 1;
            self.summary.lines += 1;
            let result = if complete {
                let line = &self.buf;
                if line.starts_with(b"----") || line.starts_with(b"time->") {
                    self.ausearch = true;
                    self.summary.ignored += 1;
                    self.flush();
                    continue;
                }
                parse_line_with(line, &mut self.scratch)
            } else {
                Err(LineError::TooLong)
            };
            match result {
                Ok(Some(mut ev)) => {
                    let stamped = matches!(ev.provenance.framing, Framing::Auditd);
                    if self.ausearch && stamped {
                        ev.provenance.framing = Framing::Ausearch;
                    }
                    ev.provenance.trusted &= self.channel_trusted;
                    ev.provenance.source.clone_from(&self.label);
                    ev.provenance.line = self.line_no;
                    self.summary.events += 1;
                    let stamp = ev.audit_id.as_deref().map(str::as_bytes);
                    if !self.pending.is_empty()
                        && (stamp != Some(&self.pending_stamp[..])
                            || self.pending.len() >= MAX_PENDING)
                    {
                        self.flush();
                    }
                    match stamp {
                        Some(st) if stamped => {
                            if self.pending.is_empty() {
                                self.pending_stamp.extend_from_slice(st);
                                if self.before_stamp == st {
                                    self.pending_ctx = std::mem::take(&mut self.before);
                                }
                            }
                            self.pending.push(ev);
                        }
                        _ => self.ready.push_back(ev),
                    }
                }
                Ok(None) => {
                    self.summary.ignored += 1;
                    if !self.pending.is_empty() {
                        if audit_stamp(&self.buf) == Some(&self.pending_stamp[..]) {
                            merge(&self.buf, &mut self.pending_ctx);
                            continue;
                        }
                        self.flush();
                    }
                    if self.ausearch {
                        if let Some(st) = audit_stamp(&self.buf) {
                            if self.before_stamp != st {
                                self.before_stamp.clear();
                                self.before_stamp.extend_from_slice(st);
                                self.before = AuditContext::default();
                            }
                            merge(&self.buf, &mut self.before);
                        }
                    }
                }
                Err(e) => {
                    let failure = LineFailure {
                        source: self.label.clone(),
                        line: self.line_no,
                        reason: e.to_string(),
                    };
                    if self.strict {
                        self.summary.fail(failure.clone());
                        return Err(ReadError::Strict(failure));
                    }
                    self.summary.fail(failure);
                }
            }
        }
    }

    fn finish_child(&mut self) -> Result<(), ReadError> {
        if let Some(mut child) = self.child.take() {
            let status = child
                .wait()
                .map_err(|e| ReadError::Journal(format!("waiting for journalctl: {e}")))?;
            if !status.success() {
                return Err(ReadError::Journal(format!(
                    "journalctl exited with {status} (are you in the systemd-journal or adm group?)"
                )));
            }
        }
        Ok(())
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Event, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event().transpose()
    }
}
