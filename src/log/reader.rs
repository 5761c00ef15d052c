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
use super::fields::{Origin, Visit};
use super::framing::{line_class, LineClass};
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
    /// The file itself when it is a plain (not compressed) regular file: it can then be
    /// read in parts on several threads ([`Source::visit_parallel`]).
    plain: Option<File>,
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
            plain: None,
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

/// One part of a file split for [`Source::visit_parallel`]: what its visitor saw, and how
/// many lines of the file come before the part (line numbers the visitor was given count from
/// the start of the part: add this to get the file's).
#[derive(Debug)]
pub struct Part<V> {
    /// The part's visitor.
    pub visitor: V,
    /// Lines before this part.
    pub line_offset: u64,
}

/// The whole of `reader` read into `visitor`, as the one part of a [`Source::visit_parallel`]
/// that did not split (one thread, a source that cannot be split, or a mixed log read again).
fn one_part<R: BufRead, V: Visit>(
    mut reader: Reader<R>,
    mut visitor: V,
) -> Result<(Vec<Part<V>>, Summary), ReadError> {
    reader.visit(&mut visitor)?;
    let summary = reader.summary().clone();
    Ok((
        vec![Part {
            visitor,
            line_offset: 0,
        }],
        summary,
    ))
}

/// Positional reads of a range of a file (parts share one descriptor without seeking).
struct At<'f> {
    file: &'f File,
    pos: u64,
}

impl io::Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// A reader that ends at the first line start at or after `limit` bytes.
struct Limited<R> {
    inner: R,
    consumed: u64,
    limit: u64,
    at_line_start: bool,
}

impl<R: BufRead> io::Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = {
            let chunk = self.fill_buf()?;
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Limited<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed >= self.limit && self.at_line_start {
            return Ok(&[]);
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if amt > 0 {
            if let Ok(chunk) = self.inner.fill_buf() {
                self.at_line_start = chunk.get(amt - 1) == Some(&b'\n');
            }
        }
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

/// The offset of the first line that starts at or after `at` (or the file's end).
fn line_start_after(file: &File, at: u64, len: u64) -> io::Result<u64> {
    use std::os::unix::fs::FileExt;
    if at == 0 {
        return Ok(0);
    }
    // A line starts at `at` if the byte before it ends a line.
    let mut pos = at - 1;
    let mut buf = vec![0u8; 64 * 1024];
    while pos < len {
        let n = file.read_at(&mut buf, pos)?;
        if n == 0 {
            break;
        }
        if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
            return Ok(pos + i as u64 + 1);
        }
        pos += n as u64;
    }
    Ok(len)
}

impl Source {
    /// Whether [`Source::visit_parallel`] can split this source: a plain, uncompressed
    /// regular file.
    pub fn splittable(&self) -> bool {
        self.plain.is_some()
    }

    /// [`Reader::visit`] on `threads` threads: the file is cut into that many parts at line
    /// starts, each read by its own [`Reader`] into its own visitor from `make`. Returns the
    /// visitors in file order (merge them in that order) and the summary of the whole file,
    /// the same as one reader's. With `strict`, the error is the one a single reader would
    /// have stopped at (the first bad line of the file).
    ///
    /// A source that is not [`Source::splittable`], or one thread, is read by one reader on
    /// this thread. The context of multi-record events is not gathered (as with `visit`).
    pub fn visit_parallel<V, M>(
        self,
        threads: usize,
        strict: bool,
        make: M,
    ) -> Result<(Vec<Part<V>>, Summary), ReadError>
    where
        V: Visit + Send,
        M: Fn() -> V + Sync,
    {
        let label = self.label.clone();
        let io_err = |err: io::Error| ReadError::Io {
            source_name: label.clone(),
            err,
        };
        let (Some(file), true) = (&self.plain, threads > 1) else {
            return one_part(self.into_reader().strict(strict), make());
        };
        let len = file.metadata().map_err(io_err)?.len();
        let mut starts = Vec::with_capacity(threads + 1);
        for k in 0..threads as u64 {
            starts.push(line_start_after(file, len * k / threads as u64, len).map_err(io_err)?);
        }
        starts.push(len);
        let (trusted, label) = (self.trusted_channel, self.label.as_str());
        // Each part is read as if every line before it were of the kind the file's first
        // line sets; if one turns out not to be, the parts after it were read with too much
        // trust, and the file is read again on one thread (below).
        let first = LogKind {
            kind: first_class(file, len).map_err(io_err)?,
            mixed: false,
        };
        let results: Vec<(V, Summary, Option<ReadError>, LogKind)> = std::thread::scope(|scope| {
            let workers: Vec<_> = starts
                .windows(2)
                .map(|w| {
                    let (start, end) = (w[0], w[1]);
                    let make = &make;
                    scope.spawn(move || {
                        let input = Limited {
                            inner: BufReader::with_capacity(256 * 1024, At { file, pos: start }),
                            consumed: 0,
                            limit: end - start,
                            at_line_start: true,
                        };
                        let mut reader = Reader::new(input, label)
                            .trusted_channel(trusted)
                            .strict(strict);
                        reader.kind = first;
                        let mut v = make();
                        let err = reader.visit(&mut v).err();
                        (v, reader.summary().clone(), err, reader.kind)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut parts = Vec::with_capacity(results.len());
        let mut summary = Summary::default();
        let mut offset = 0;
        let mut reread = false;
        let last = results.len().saturating_sub(1);
        for (i, (visitor, mut part, err, kind)) in results.into_iter().enumerate() {
            reread |= i < last && kind.mixed;
            for f in &mut part.failures {
                f.line += offset;
            }
            match err {
                Some(ReadError::Strict(mut f)) => {
                    f.line += offset;
                    return Err(ReadError::Strict(f));
                }
                Some(e) => return Err(e),
                None => {}
            }
            summary.merge(&part);
            parts.push(Part {
                visitor,
                line_offset: offset,
            });
            offset += part.lines;
        }
        if reread {
            let input = BufReader::with_capacity(256 * 1024, At { file, pos: 0 });
            let reader = Reader::new(input, label)
                .trusted_channel(trusted)
                .strict(strict);
            return one_part(reader, make());
        }
        Ok((parts, summary))
    }
}

/// The class of the first line of `file` that is not blank or indented (what sets the
/// kind of log it is), or `None` if there is none.
fn first_class(file: &File, len: u64) -> io::Result<Option<LineClass>> {
    let mut input = Limited {
        inner: BufReader::with_capacity(64 * 1024, At { file, pos: 0 }),
        consumed: 0,
        limit: len,
        at_line_start: true,
    };
    let mut line = Vec::new();
    loop {
        line.clear();
        let Some(complete) = read_line_into(&mut input, &mut line)? else {
            return Ok(None);
        };
        match line_class(&line, complete) {
            LineClass::Neutral => {}
            class => return Ok(Some(class)),
        }
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
    let plain = if meta.is_file() {
        file.try_clone().ok()
    } else {
        None
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
        plain: if gz { None } else { plain },
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
        plain: None,
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
    /// What kind of log this is, from its lines so far.
    kind: LogKind,
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
    /// Parsing on worker threads (see [`Reader::parallel`]).
    pool: Option<Pool>,
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
            kind: LogKind::default(),
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
            pool: None,
        }
    }

    /// Parse lines on `threads` worker threads (when more than one). Events, counts and
    /// failures come out exactly as without it, in the same order: only the line parser,
    /// which needs no state, runs in parallel; everything that depends on earlier lines
    /// (multi-record context, `ausearch` mode, strictness) stays on the calling thread.
    ///
    /// Lines are handed over in batches, so an event reaches the caller only once its batch
    /// is full or the input ends: do not use this to follow a growing log.
    pub fn parallel(mut self, threads: usize) -> Self {
        self.pool = (threads > 1).then(|| Pool::new(threads, BATCH_LINES));
        self
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
        read_line_into(&mut self.input, &mut self.buf)
    }

    /// The next line and what the parser made of it, from the worker pool or parsed here.
    /// The line's text is left in `self.buf`.
    fn next_parsed(&mut self) -> Result<Option<Parsed>, ReadError> {
        let Some(pool) = self.pool.as_mut() else {
            let complete = match self.read_line() {
                Ok(Some(c)) => c,
                Ok(None) => return Ok(None),
                Err(e) => {
                    return Err(ReadError::Io {
                        source_name: self.label.clone(),
                        err: e,
                    })
                }
            };
            return Ok(Some(parse_one(&self.buf, complete, &mut self.scratch)));
        };
        match pool.next(&mut self.input, &mut self.buf) {
            Ok(p) => Ok(p),
            Err(e) => Err(ReadError::Io {
                source_name: self.label.clone(),
                err: e,
            }),
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
            let parsed = match self.next_parsed()? {
                Some(p) => p,
                None => {
                    if !self.pending.is_empty() {
                        self.flush();
                        continue;
                    }
                    self.finish_child()?;
                    return Ok(None);
                }
            };
            self.line_no += 1;
            self.summary.lines += 1;
            let (result, may_trust) = match parsed {
                Parsed::Separator => {
                    self.kind.note(LineClass::Audit);
                    self.ausearch = true;
                    self.summary.ignored += 1;
                    self.flush();
                    continue;
                }
                Parsed::Line(class, r) => (r, self.kind.note(class)),
            };
            match result {
                Ok(Some(ev)) => {
                    let mut ev = *ev;
                    let stamped = matches!(ev.provenance.framing, Framing::Auditd);
                    if self.ausearch && stamped {
                        ev.provenance.framing = Framing::Ausearch;
                    }
                    ev.provenance.trusted &= self.channel_trusted && may_trust;
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

    /// Read to the end, handing every event to `v` in input order: the same events, counts
    /// and failures as [`Reader::next_event`], without the multi-record context (use
    /// `next_event` when you need [`Event::context`]).
    ///
    /// This is the fast way through a large log: the common auditd AVC line is read in
    /// place (its fields borrowed from the line) and never becomes an owned [`Event`].
    /// Do not mix it with `next_event` on the same reader.
    pub fn visit<V: Visit>(&mut self, v: &mut V) -> Result<(), ReadError> {
        if self.pool.is_some() {
            while let Some(ev) = self.next_event()? {
                let origin = Origin {
                    source: &ev.provenance.source,
                    line: ev.provenance.line,
                    trusted: ev.provenance.trusted,
                };
                v.event(&ev, origin);
            }
            return Ok(());
        }
        let mut sink = LineSink {
            line_no: &mut self.line_no,
            summary: &mut self.summary,
            label: &self.label,
            channel_trusted: self.channel_trusted,
            kind: &mut self.kind,
            strict: self.strict,
            ausearch: &mut self.ausearch,
            scratch: &mut self.scratch,
        };
        let io_error = |err: io::Error| ReadError::Io {
            source_name: self.label.clone(),
            err,
        };
        loop {
            // A line wholly inside the input's buffer (nearly every line) is read where it
            // lies; one that straddles the buffer's end, or is over-long, is copied out.
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e)),
            };
            if let Some(n) = memchr::memchr(b'\n', chunk).filter(|&n| n < MAX_LINE) {
                let done = sink.visit(&chunk[..=n], true, v);
                self.input.consume(n + 1);
                done?;
                continue;
            }
            self.buf.clear();
            let complete = match read_line_into(&mut self.input, &mut self.buf) {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => return Err(io_error(e)),
            };
            sink.visit(&self.buf, complete, v)?;
        }
        self.finish_child()
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

/// The reader's state that [`Reader::visit`] updates per line, borrowed apart from its
/// input (so that a line can be read in place, inside the input's buffer).
struct LineSink<'r> {
    line_no: &'r mut u64,
    summary: &'r mut Summary,
    label: &'r str,
    channel_trusted: bool,
    kind: &'r mut LogKind,
    strict: bool,
    ausearch: &'r mut bool,
    scratch: &'r mut Scratch,
}

impl LineSink<'_> {
    /// Count and parse one line (with its end of line; `complete` is false for an over-long
    /// one) and hand its event, if any, to `v`.
    fn visit<V: Visit>(&mut self, line: &[u8], complete: bool, v: &mut V) -> Result<(), ReadError> {
        *self.line_no += 1;
        self.summary.lines += 1;
        if complete && super::fast::is_candidate(line) {
            let mut view = super::fast::View::default();
            if super::parse_line_view(line, &mut view) {
                self.summary.events += 1;
                let origin = Origin {
                    source: self.label,
                    line: *self.line_no,
                    // A candidate starts with `type=`: an auditd line.
                    trusted: self.channel_trusted && self.kind.note(LineClass::Audit),
                };
                v.event(&view, origin);
                return Ok(());
            }
        }
        match parse_one(line, complete, self.scratch) {
            Parsed::Separator => {
                self.kind.note(LineClass::Audit);
                *self.ausearch = true;
                self.summary.ignored += 1;
            }
            Parsed::Line(class, Ok(Some(ev))) => {
                let may_trust = self.kind.note(class);
                self.summary.events += 1;
                let origin = Origin {
                    source: self.label,
                    line: *self.line_no,
                    trusted: ev.provenance.trusted && self.channel_trusted && may_trust,
                };
                v.event(&*ev, origin);
            }
            Parsed::Line(class, Ok(None)) => {
                self.kind.note(class);
                self.summary.ignored += 1;
            }
            Parsed::Line(class, Err(e)) => {
                self.kind.note(class);
                let failure = LineFailure {
                    source: self.label.to_string(),
                    line: *self.line_no,
                    reason: e.to_string(),
                };
                self.summary.fail(failure.clone());
                if self.strict {
                    return Err(ReadError::Strict(failure));
                }
            }
        }
        Ok(())
    }
}

/// What the line parser made of one line.
enum Parsed {
    /// An `ausearch` separator (`----`, `time->…`).
    Separator,
    /// The line's class (for the kind of log) and the parse result (an over-long line is
    /// an error). Boxed: an event is large, and results wait in queues.
    Line(LineClass, Result<Option<Box<Event>>, LineError>),
}

/// What kind of log a reader is in, from the lines so far ([`LineClass`]): the first line
/// that is not blank or indented sets it; a later line of another class shows that the log
/// mixes writers (a text export in which a user's message can start a line), and nothing
/// from there on is trusted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LogKind {
    kind: Option<LineClass>,
    mixed: bool,
}

impl LogKind {
    /// Note a line; returns whether an event on it may be trusted: only in a log whose every
    /// line so far is of one kind that only the kernel, auditd or journald writes.
    fn note(&mut self, class: LineClass) -> bool {
        if class == LineClass::Neutral {
            return false;
        }
        match self.kind {
            None => self.kind = Some(class),
            Some(k) if k != class => self.mixed = true,
            Some(_) => {}
        }
        !self.mixed && self.kind != Some(LineClass::Other)
    }
}

/// Parse one line as the reader does, without any state from earlier lines.
fn parse_one(line: &[u8], complete: bool, scratch: &mut Scratch) -> Parsed {
    let class = line_class(line, complete);
    if !complete {
        return Parsed::Line(class, Err(LineError::TooLong));
    }
    if line.starts_with(b"----") || line.starts_with(b"time->") {
        return Parsed::Separator;
    }
    Parsed::Line(
        class,
        parse_line_with(line, scratch).map(|e| e.map(Box::new)),
    )
}

/// Append one line of `input` to `out`, at most [`MAX_LINE`] bytes of it. Returns `None` at
/// end of input, `Some(true)` for a complete line, `Some(false)` for an over-long one (then
/// nothing is appended).
fn read_line_into(input: &mut impl BufRead, out: &mut Vec<u8>) -> io::Result<Option<bool>> {
    let start = out.len();
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = match input.fill_buf() {
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
            if out.len() - start + take > MAX_LINE + 1 {
                too_long = true;
                out.truncate(start);
            } else {
                out.extend_from_slice(&chunk[..take]);
            }
        }
        input.consume(take);
        if done {
            return Ok(Some(!too_long));
        }
    }
}

/// Lines per batch handed to a worker, and the bytes after which a batch is sent early.
const BATCH_LINES: usize = 2048;
const BATCH_BYTES: usize = 1 << 20;

/// A batch of lines and, once a worker is done with it, their parse results.
struct Batch {
    seq: u64,
    data: Vec<u8>,
    /// End offset in `data` and completeness of each line.
    lines: Vec<(usize, bool)>,
    results: VecDeque<Parsed>,
}

/// Worker threads that parse batches of lines; batches come back in input order.
struct Pool {
    jobs: Option<std::sync::mpsc::SyncSender<Batch>>,
    done: std::sync::mpsc::Receiver<Batch>,
    /// Batches back from the workers ahead of their turn.
    early: std::collections::BTreeMap<u64, Batch>,
    in_flight: usize,
    max_in_flight: usize,
    next_send: u64,
    next_take: u64,
    /// The batch being handed out, and the next line in it.
    current: Option<Batch>,
    line: usize,
    start: usize,
    /// Input ended (or failed: the error waits until the lines before it are handed out).
    eof: bool,
    error: Option<io::Error>,
    /// Spare buffers, so that batches do not allocate once running.
    spare: Vec<Batch>,
    batch_lines: usize,
    /// The worker threads, joined on drop so that none outlives the reader.
    workers: Vec<std::thread::JoinHandle<()>>,
    /// Set on drop: workers skip the batches still queued instead of parsing them.
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Pool {
    fn new(threads: usize, batch_lines: usize) -> Pool {
        let max_in_flight = threads * 2;
        let (job_tx, job_rx) = std::sync::mpsc::sync_channel::<Batch>(max_in_flight);
        let (done_tx, done_rx) = std::sync::mpsc::channel::<Batch>();
        let job_rx = std::sync::Arc::new(std::sync::Mutex::new(job_rx));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut workers = Vec::with_capacity(threads);
        for _ in 0..threads {
            let rx = std::sync::Arc::clone(&job_rx);
            let tx = done_tx.clone();
            let stop = std::sync::Arc::clone(&stop);
            workers.push(std::thread::spawn(move || {
                let mut scratch = Scratch::default();
                loop {
                    // A poisoned lock means another worker panicked: stop too.
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(mut batch) = job else { return };
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        return;
                    }
                    let mut start = 0;
                    for &(end, complete) in &batch.lines {
                        let line = &batch.data[start..end];
                        // A panic here would lose the batch and stall the reader: turn it
                        // into a failed line instead (the parser is fuzzed; this is a net).
                        let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            parse_one(line, complete, &mut scratch)
                        }))
                        .unwrap_or_else(|_| {
                            scratch = Scratch::default();
                            Parsed::Line(
                                line_class(line, complete),
                                Err(LineError::Malformed(
                                    "internal error: the parser panicked on this line".into(),
                                )),
                            )
                        });
                        batch.results.push_back(parsed);
                        start = end;
                    }
                    if tx.send(batch).is_err() {
                        return;
                    }
                }
            }));
        }
        Pool {
            jobs: Some(job_tx),
            done: done_rx,
            early: std::collections::BTreeMap::new(),
            in_flight: 0,
            max_in_flight,
            next_send: 0,
            next_take: 0,
            current: None,
            line: 0,
            start: 0,
            eof: false,
            error: None,
            spare: Vec::new(),
            batch_lines,
            workers,
            stop,
        }
    }

    /// Read one batch of lines from `input` and hand it to the workers.
    fn send_batch(&mut self, input: &mut impl BufRead) {
        let mut batch = self.spare.pop().unwrap_or_else(|| Batch {
            seq: 0,
            data: Vec::with_capacity(BATCH_BYTES + 4096),
            lines: Vec::with_capacity(BATCH_LINES),
            results: VecDeque::with_capacity(BATCH_LINES),
        });
        batch.seq = self.next_send;
        batch.data.clear();
        batch.lines.clear();
        batch.results.clear();
        while batch.lines.len() < self.batch_lines && batch.data.len() < BATCH_BYTES {
            match read_line_into(input, &mut batch.data) {
                Ok(Some(complete)) => batch.lines.push((batch.data.len(), complete)),
                Ok(None) => {
                    self.eof = true;
                    break;
                }
                Err(e) => {
                    self.error = Some(e);
                    self.eof = true;
                    break;
                }
            }
        }
        if batch.lines.is_empty() {
            self.spare.push(batch);
            return;
        }
        let Some(jobs) = &self.jobs else { return };
        if jobs.send(batch).is_ok() {
            self.next_send += 1;
            self.in_flight += 1;
        } else {
            // The workers are gone (a panic): nothing more can be parsed.
            self.eof = true;
            self.error = Some(io::Error::other("log parser threads stopped"));
        }
    }

    /// The next line (copied into `buf`) and its parse result, in input order.
    fn next(&mut self, input: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<Option<Parsed>> {
        loop {
            if let Some(batch) = self.current.as_mut() {
                if let Some(parsed) = batch.results.pop_front() {
                    let (end, _) = batch.lines[self.line];
                    // Only a line that is not an event is looked at again (for its stamp).
                    if matches!(parsed, Parsed::Line(_, Ok(None))) {
                        buf.clear();
                        buf.extend_from_slice(&batch.data[self.start..end]);
                    }
                    self.start = end;
                    self.line += 1;
                    return Ok(Some(parsed));
                }
                if let Some(b) = self.current.take() {
                    self.spare.push(b);
                }
            }
            while !self.eof && self.in_flight < self.max_in_flight {
                self.send_batch(input);
            }
            if let Some(b) = self.early.remove(&self.next_take) {
                self.next_take += 1;
                self.current = Some(b);
                self.line = 0;
                self.start = 0;
                continue;
            }
            if self.in_flight == 0 {
                return match self.error.take() {
                    Some(e) => Err(e),
                    None => Ok(None),
                };
            }
            let Ok(b) = self.done.recv() else {
                self.in_flight = 0;
                self.eof = true;
                self.error = Some(io::Error::other("log parser threads stopped"));
                continue;
            };
            self.in_flight -= 1;
            self.early.insert(b.seq, b);
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing the job channel ends the workers; the ones busy with a batch finish it
        // (at most BATCH_BYTES each), and batches still queued are skipped. Joining them means
        // no thread (and none of its memory) outlives the reader.
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.jobs.take();
        for w in self.workers.drain(..) {
            // A worker that panicked outside the parser has nothing left to clean up.
            let _ = w.join();
        }
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Event, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything a reader hands out: events, then the error that stopped it, then counts.
    fn drain<R: BufRead>(mut r: Reader<R>) -> (Vec<Event>, Option<String>, Summary) {
        let mut events = Vec::new();
        let err = loop {
            match r.next_event() {
                Ok(Some(ev)) => events.push(ev),
                Ok(None) => break None,
                Err(e) => break Some(e.to_string()),
            }
        };
        (events, err, r.summary().clone())
    }

    /// What a visitor saw: per event, its line, trust and grouping key.
    #[derive(Debug, Default)]
    struct Seen(Vec<(u64, bool, crate::log::group::GroupKey, Option<i64>)>);

    impl Visit for Seen {
        fn event<F: crate::log::fields::Fields + ?Sized>(&mut self, ev: &F, origin: Origin<'_>) {
            self.0.push((
                origin.line,
                origin.trusted,
                crate::log::group::key_of(ev),
                ev.pid(),
            ));
        }
    }

    /// `visit` on one thread and `visit_parallel` on several see the same events with the
    /// same lines and trust, and count the same, on every example and corpus log run
    /// together with junk (a mixed log: read again on one thread once a part finds it
    /// mixed) and on a pure audit log (read in parts); `next_event` sees the same events too.
    #[test]
    fn parallel_parts_equal_one_reader() {
        let mut data = Vec::new();
        let mut pure = Vec::new();
        for f in crate::log::sample_log_files() {
            if let Ok(b) = std::fs::read(&f) {
                if !b.starts_with(&[0x1f, 0x8b]) {
                    data.extend_from_slice(&b);
                    data.push(b'\n');
                    // Only logs that are pure auditd text make the pure log: some corpus
                    // `audit.log` files mix in syslog lines (and are mixed logs themselves).
                    let auditd_only = b
                        .split(|&c| c == b'\n')
                        .all(|l| l.is_empty() || l.starts_with(b"type="));
                    if f.ends_with("audit.log") && auditd_only {
                        pure.extend_from_slice(&b);
                        pure.push(b'\n');
                    }
                }
            }
        }
        data.extend_from_slice(b"type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" name=\x00\xff\n\n\n");
        data.extend_from_slice(
            b"\xff\xfe junk apparmor=\"DENIED\" (\nlast line without newline apparmor=\"ALLOWED\"",
        );
        let pure = &mut pure.repeat(4);
        // The pure log turns mixed in its last part only: no part is read twice.
        pure.extend_from_slice(b"Jun 19 12:00:55 web kernel: audit: type=1400 audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\"\n");
        for (what, data, min_trusted) in [("mixed", &data, 0), ("pure", &*pure, 100)] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("all.log");
            std::fs::write(&path, data).unwrap();

            let open = || {
                let mut s = open_sources(&[SourceSpec::Path(path.clone())])
                    .unwrap()
                    .remove(0);
                s.trusted_channel = true;
                s
            };
            let mut one = open().into_reader();
            let mut seen = Seen::default();
            one.visit(&mut seen).unwrap();
            let (mut events, _, summary) = drain(open().into_reader());
            // `next_event` may hand a syslog-framed event out before auditd events still
            // waiting for their other records (the corpus repeats one stamp across files):
            // compare in line order.
            events.sort_by_key(|e| e.provenance.line);
            assert_eq!(events.len(), seen.0.len());
            for (ev, s) in events.iter().zip(&seen.0) {
                assert_eq!(
                    (
                        ev.provenance.line,
                        ev.provenance.trusted,
                        crate::log::group::key_of(ev),
                        ev.pid
                    ),
                    (s.0, s.1, s.2.clone(), s.3)
                );
            }
            assert_eq!(&summary, one.summary());
            assert!(seen.0.len() > 100, "{what}: only {} events", seen.0.len());
            let trusted = seen.0.iter().filter(|s| s.1).count();
            assert!(trusted >= min_trusted, "{what}: {trusted} trusted");
            assert!(trusted < seen.0.len(), "{what}: all trusted");
            for threads in [2, 3, 8] {
                let src = open();
                assert!(src.splittable());
                let (parts, sum) = src.visit_parallel(threads, false, Seen::default).unwrap();
                assert_eq!(parts.len(), if what == "pure" { threads } else { 1 });
                let mut all = Vec::new();
                for p in parts {
                    all.extend(p.visitor.0.into_iter().map(|mut e| {
                        e.0 += p.line_offset;
                        e
                    }));
                }
                assert_eq!(all, seen.0, "{what}: {threads} threads");
                assert_eq!(&sum, one.summary(), "{what}: {threads} threads");
            }
        }
    }

    /// Lines read in place (inside the input's buffer) and lines copied out (straddling
    /// the buffer's end, or over-long) give the same events, lines and counts: small
    /// buffers make nearly every line straddle.
    #[test]
    fn visit_in_place_equals_copied_lines() {
        let avc = b"type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n";
        let mut data = avc.to_vec();
        // Lines (with their newline) of MAX_LINE bytes (parsed), one more (the parser's
        // limit) and two more (the reader's limit), around the in-place path's bound.
        for len in [MAX_LINE - 1, MAX_LINE, MAX_LINE + 1] {
            let mut long = avc[..avc.len() - 1].to_vec();
            long.resize(len, b'x');
            long.push(b'\n');
            data.extend_from_slice(&long);
            data.extend_from_slice(avc);
        }
        for f in crate::log::sample_log_files().into_iter().take(40) {
            if let Ok(b) = std::fs::read(&f) {
                if !b.starts_with(&[0x1f, 0x8b]) {
                    data.extend_from_slice(&b);
                    data.push(b'\n');
                }
            }
        }
        data.extend_from_slice(b"no newline at the end apparmor=\"DENIED\"");
        let run = |capacity: usize| {
            let input = io::BufReader::with_capacity(capacity, &data[..]);
            let mut r = Reader::new(input, "t");
            let mut seen = Seen::default();
            r.visit(&mut seen).unwrap();
            (seen.0, r.summary().clone())
        };
        let (events, summary) = run(2 * MAX_LINE);
        assert!(events.len() > 50, "only {} events", events.len());
        let too_long = summary
            .failures
            .iter()
            .filter(|f| f.reason.contains("longer than"));
        assert_eq!(too_long.count(), 2, "{:?}", summary.failures);
        for capacity in [7, 64, 4096] {
            let (e, s) = run(capacity);
            assert_eq!(e, events, "capacity {capacity}");
            assert_eq!(s, summary, "capacity {capacity}");
        }
    }

    proptest::proptest! {
        /// Logs made of lines of every framing, genuine and faked (blank, indented, syslog,
        /// short-monotonic, foreign lines in a pure log): `visit` (the fast path) gives
        /// every event the trust `next_event` gives it, and parsing on worker threads
        /// changes nothing.
        #[test]
        fn visit_and_next_event_agree_on_trust(
            picks in proptest::collection::vec(0usize..12, 0..24),
            capacity in 1usize..200,
        ) {
            let rec = "apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0";
            let lines = [
                format!("type=AVC msg=audit(1.2:3): {rec}"),
                format!("node=h type=AVC msg=audit(1.2:4): {rec}"),
                format!("[ 12.345678] audit: type=1400 audit(1.2:5): {rec}"),
                format!("[ 12.345678] host kernel: audit: type=1400 audit(1.2:6): {rec}"),
                format!("Jun 19 12:00:55 host kernel: audit: type=1400 audit(1.2:7): {rec}"),
                "{\"_TRANSPORT\":\"kernel\",\"MESSAGE\":\"audit: type=1400 audit(1.2:8): apparmor=\\\"DENIED\\\" operation=\\\"open\\\" profile=\\\"p\\\" name=\\\"/x\\\"\"}".to_string(),
                format!("    type=AVC msg=audit(1.2:9): {rec}"),
                String::new(),
                "----".to_string(),
                "Jun 19 12:00:56 host sshd[1]: hello".to_string(),
                "[ 12.400000] usb 1-1: new device".to_string(),
                "type=SYSCALL msg=audit(1.2:3): arch=c000003e syscall=2".to_string(),
            ];
            let mut text = String::new();
            for &i in &picks {
                text.push_str(&lines[i]);
                text.push('\n');
            }
            let (events, _, summary) =
                drain(Reader::new(io::Cursor::new(text.clone().into_bytes()), "t").trusted_channel(true));
            let mut want: Vec<(u64, bool)> = events
                .iter()
                .map(|e| (e.provenance.line, e.provenance.trusted))
                .collect();
            want.sort_unstable();
            let mut seen = Seen::default();
            let input = io::BufReader::with_capacity(capacity, text.as_bytes());
            let mut r = Reader::new(input, "t").trusted_channel(true);
            r.visit(&mut seen).unwrap();
            let got: Vec<(u64, bool)> = seen.0.iter().map(|s| (s.0, s.1)).collect();
            proptest::prop_assert_eq!(got, want);
            proptest::prop_assert_eq!(r.summary(), &summary);
            let mut par = Reader::new(io::Cursor::new(text.into_bytes()), "t").trusted_channel(true);
            par.pool = Some(Pool::new(2, 3));
            let (p_events, _, _) = drain(par);
            proptest::prop_assert!(p_events == events);
        }
    }

    /// With `--strict`, parallel reading stops with the error one reader stops with.
    #[test]
    fn parallel_strict_names_the_first_bad_line() {
        let mut data = Vec::new();
        for i in 0..3000 {
            data.extend_from_slice(format!("type=AVC msg=audit(1.2:{i}): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x\" pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\"\n").as_bytes());
            if i == 1700 || i == 2500 {
                data.extend_from_slice(b"type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" name=\"unterminated\n");
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.log");
        std::fs::write(&path, &data).unwrap();
        let mut one = Reader::new(&data[..], path.display().to_string()).strict(true);
        let want = one.visit(&mut Seen::default()).unwrap_err().to_string();
        assert!(want.contains(":1702"), "{want}");
        for threads in [2, 4] {
            let src = open_sources(&[SourceSpec::Path(path.clone())])
                .unwrap()
                .remove(0);
            let got = src
                .visit_parallel(threads, true, Seen::default)
                .unwrap_err()
                .to_string();
            assert_eq!(got, want);
        }
    }

    fn both(input: &[u8], strict: bool) {
        let seq = drain(Reader::new(io::Cursor::new(input.to_vec()), "t").strict(strict));
        for (threads, batch) in [(2, 1), (2, 3), (3, 7), (4, BATCH_LINES)] {
            let mut par = Reader::new(io::Cursor::new(input.to_vec()), "t").strict(strict);
            par.pool = Some(Pool::new(threads, batch));
            let par = drain(par);
            assert_eq!(seq.0.len(), par.0.len(), "threads {threads}, batch {batch}");
            assert!(
                seq.0 == par.0,
                "events differ: threads {threads}, batch {batch}"
            );
            assert_eq!(seq.1, par.1);
            assert_eq!(seq.2, par.2);
        }
    }

    /// Parallel parsing changes nothing: same events (with their context), same order,
    /// same counts and failures, on every bundled example log and the upstream log corpus.
    #[test]
    fn parallel_reader_equals_sequential() {
        let mut all = Vec::new();
        let mut files = 0;
        for p in crate::log::sample_log_files() {
            if let Ok(bytes) = std::fs::read(&p) {
                files += 1;
                both(&bytes, false);
                all.extend_from_slice(&bytes);
            }
        }
        assert!(files > 10, "only {files} log files found");
        both(&all, false);
        both(&all, true);
    }

    /// Multi-record context, `ausearch` separators, failures and an over-long line across
    /// batch boundaries.
    #[test]
    fn parallel_reader_keeps_context_and_failures() {
        let mut log = Vec::new();
        for i in 0..50 {
            log.extend_from_slice(format!(
                "type=AVC msg=audit(1.{i}:{i}): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/x{i}\" pid={i} comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n\
                 type=SYSCALL msg=audit(1.{i}:{i}): arch=c000003e syscall=2 success=no exit=-13 ppid=1 pid={i} uid=0 exe=\"/bin/c\"\n"
            ).as_bytes());
            if i % 7 == 0 {
                log.extend_from_slice(b"----\ntime->Mon Jan  1 00:00:00 2024\n");
            }
            if i % 11 == 0 {
                log.extend_from_slice(
                    b"type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\n",
                );
            }
        }
        log.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        log.push(b'\n');
        log.extend_from_slice(b"type=AVC msg=audit(9.9:9): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/end\" requested_mask=\"r\" denied_mask=\"r\"\n");
        // The input really has what the comparison is about.
        let (events, err, summary) = drain(Reader::new(io::Cursor::new(log.clone()), "t"));
        assert_eq!((events.len(), err), (51, None));
        assert!(events[..50].iter().all(|e| e.context.is_some()));
        assert_eq!(summary.failed, 5 + 1);
        both(&log, false);
        both(&log, true);
    }

    /// Dropping a reader, even mid-input with batches still queued, ends and joins its
    /// workers: each holds the stop flag, so once it is unique no worker is left.
    #[test]
    fn drop_joins_the_workers() {
        let line = b"type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" profile=\"/p\" name=\"/f\" pid=1 comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n";
        for take in [0, 1, 50] {
            let input = line.repeat(200);
            let mut r = Reader::new(io::Cursor::new(input), "t");
            r.pool = Some(Pool::new(3, 2));
            for _ in 0..take {
                assert!(matches!(r.next_event(), Ok(Some(_))));
            }
            let stop = r.pool.as_ref().map(|p| std::sync::Arc::downgrade(&p.stop));
            drop(r);
            assert!(
                stop.is_some_and(|s| s.upgrade().is_none()),
                "a worker outlived the reader (after {take} events)"
            );
        }
    }
}
