//! Offline prompt packs: the whole model loop for hosts that may not talk to a model.
//!
//! `pack` writes, into one directory, everything a person needs to carry prompts to a model
//! elsewhere (a chat window, or a provider's batch API) and everything the host needs to take
//! the answers back with the same guarantees as the online path:
//!
//! | file | travels? | what |
//! |---|---|---|
//! | `B1.md`, `B2.md`, … | yes | one per batch: instructions for the person, the system and user messages, the answer's JSON shape, and the one command that brings the answer back |
//! | `requests.jsonl` | yes | one OpenAI Batch API request per batch (`custom_id` = batch id), with the same body the online client sends |
//! | `manifest.json` | yes | tool version, task, model, batches with their group ids, token counts and the SHA-256 of every prompt file and request line |
//! | `redaction-map.json` | **never** | mode 0600: maps pseudonyms back to real values |
//! | `local/evidence.json` | **never** | mode 0600 (directory 0700): the audit events of the packed groups, the profile and log paths, and the SHA-256 of `manifest.json` |
//!
//! Design decision: the cross-check on the way back needs the real events. They are stored
//! at pack time in `local/evidence.json` rather than re-read from the logs at ingest time,
//! because logs rotate while prompts travel. The local file also pins the manifest's hash, so
//! a changed manifest is detected even when someone rewrote its prompt hashes to match.
//!
//! Nothing in the travelling files names a local file, the map or the evidence; everything in
//! them went through the run's [`Redactor`].
//!
//! This module writes and verifies packs and turns answers into model [`Proposal`]s
//! ([`answers`]); it does not cross-check, review or write profiles (the `ingest` command
//! hands the proposals to the same review as `tune`).

pub mod answers;
mod render;

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::draft::need_of;
use crate::log::group::Grouping;
use crate::log::Event;
use crate::prompt::{Batch, GroupData, Task};
use crate::redact::{MapError, RedactConfig, RedactionMap, Redactor};
use crate::review::Evidence;

pub use answers::{
    read_answers, AnswerError, AnswerOrigin, IngestedBatch, RawAnswer, ANSWER_PROBLEM_CODE,
};
pub use render::{render_markdown, request_line, BATCH_API_URL};

/// Identifies a pack manifest.
pub const FORMAT: &str = "aa-assist-prompt-pack";
/// The pack format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// `manifest.json`.
pub const MANIFEST_FILE: &str = "manifest.json";
/// `requests.jsonl`.
pub const REQUESTS_FILE: &str = "requests.jsonl";
/// `redaction-map.json` (secret).
pub const MAP_FILE: &str = "redaction-map.json";
/// `local/evidence.json` (local only).
pub const EVIDENCE_FILE: &str = "local/evidence.json";
/// Where the Markdown files tell people to put pasted answers.
pub const ANSWERS_DIR: &str = "answers";
/// The warning stored in the two secret files.
pub const MAP_WARNING: &str =
    "SECRET: maps pseudonyms back to real values; never send with the prompts";
/// The warning stored in the local evidence file.
pub const EVIDENCE_WARNING: &str =
    "SECRET: real audit events of this pack, for the cross-check on ingest; never send with the prompts";
/// Raw log lines kept per group for the review's evidence display.
pub const EVIDENCE_LINES: usize = 3;

/// The pack's index: what was packed, and a hash of every file that travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// The aa-assist version that wrote the pack.
    pub tool_version: String,
    /// The task the prompts ask for.
    pub task: Task,
    /// The model the requests name (and whose tokenizer counted the tokens).
    pub model: String,
    /// The tokenizer's encoding.
    pub encoding: String,
    /// Prompt-token budget per batch.
    pub max_prompt_tokens: usize,
    /// SHA-256 of the answer schema the prompts and requests carry.
    pub answer_schema_sha256: String,
    /// SHA-256 of the packed profile file, if one was packed.
    pub profile_sha256: Option<String>,
    /// SHA-256 of each log read, in command-line order.
    pub log_sha256: Vec<String>,
    /// The batches, in order.
    pub batches: Vec<BatchEntry>,
    /// SHA-256 of the whole `requests.jsonl`.
    pub requests_sha256: String,
}

/// One batch in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchEntry {
    /// `B1`, `B2`, … (the Batch API `custom_id`).
    pub id: String,
    /// The Markdown file, relative to the pack directory.
    pub prompt_file: String,
    /// SHA-256 of the Markdown file.
    pub prompt_sha256: String,
    /// SHA-256 of this batch's line in `requests.jsonl` (without the newline).
    pub request_sha256: String,
    /// Ids an answer may cite: the groups, and `P1` for profile tasks.
    pub group_ids: Vec<String>,
    /// Profiles of the batch, as the model sees them (redacted).
    pub profiles: Vec<String>,
    /// Groups that were shortened to fit the budget.
    pub sampled: Vec<String>,
    /// Prompt tokens (system + user + overhead).
    pub prompt_tokens: usize,
}

impl BatchEntry {
    /// The answer-validation context of this batch.
    pub fn context(&self) -> crate::prompt::BatchContext {
        crate::prompt::BatchContext {
            batch_id: self.id.clone(),
            group_ids: self.group_ids.clone(),
            profiles: self.profiles.clone(),
        }
    }
}

/// The local-only half of a pack (`local/evidence.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocalEvidence {
    /// [`EVIDENCE_WARNING`].
    pub warning: String,
    /// SHA-256 of `manifest.json` as written.
    pub manifest_sha256: String,
    /// The profile file packed (as given on the command line), if any.
    pub profile_path: Option<PathBuf>,
    /// The logs read (as given on the command line).
    pub logs: Vec<PathBuf>,
    /// Enough events to rebuild every group's evidence exactly: per group, the first event
    /// of each distinct need (and the group's first event).
    pub events: Vec<Event>,
    /// The grouping, its membership aligned with `events`.
    pub grouping: Grouping,
    /// What the review shows beside proposals, by group id.
    pub evidence: BTreeMap<String, Evidence>,
}

/// The secret file `redaction-map.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MapFile {
    /// [`MAP_WARNING`].
    pub warning: String,
    /// The map.
    pub map: RedactionMap,
}

/// Why a pack could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The output directory exists and is not empty.
    #[error("{0} exists and is not empty; choose a new directory (a pack is never overwritten)")]
    NotEmpty(PathBuf),
    /// A pack file is not what this version writes.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file that travelled changed after packing.
    #[error("{what} changed since packing ({file}: sha256 {found}, manifest says {expected}); re-pack, or use the pack as written")]
    Tampered {
        /// What changed, e.g. `batch B2`.
        what: String,
        /// The file.
        file: String,
        /// Hash now.
        found: String,
        /// Hash recorded.
        expected: String,
    },
    /// The redaction map is inconsistent.
    #[error("{path}: {source}")]
    Map {
        /// The file.
        path: PathBuf,
        /// The error.
        source: MapError,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PackError + '_ {
    move |source| PackError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of a file, streaming.
pub fn sha256_file(path: &Path) -> Result<String, PackError> {
    let mut f = std::fs::File::open(path).map_err(io_err(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// The prompt layer's view of each group in `ids` ([`GroupData`] from the log group), with
/// the owner-relevant fields of its first event as a sample.
pub fn group_data(events: &[Event], grouping: &Grouping, ids: &[String]) -> Vec<GroupData> {
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut first: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, m) in grouping.membership.iter().enumerate() {
        if let Some(gi) = m {
            first.entry(*gi).or_insert(i);
        }
    }
    grouping
        .groups
        .iter()
        .enumerate()
        .filter(|(_, g)| wanted.contains(g.id.as_str()))
        .map(|(gi, g)| {
            let mut d = GroupData::from(g);
            if let Some(ev) = first.get(&gi).and_then(|&i| events.get(i)) {
                d.add_sample(ev);
            }
            d
        })
        .collect()
}

/// Keep, per group in `ids`, the first event of each distinct need and the group's first
/// event: exactly what [`crate::check::group_evidence`] needs to rebuild the same evidence.
/// Groups outside `ids` are kept in the grouping (ids stay stable) but lose their events.
pub fn reduce_events(
    events: &[Event],
    grouping: &Grouping,
    ids: &[String],
) -> (Vec<Event>, Grouping) {
    let ids: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let wanted: HashSet<usize> = grouping
        .groups
        .iter()
        .enumerate()
        .filter(|(_, g)| ids.contains(g.id.as_str()))
        .map(|(i, _)| i)
        .collect();
    let mut seen_group: HashSet<usize> = HashSet::new();
    let mut seen_need = HashSet::new();
    let mut kept = Vec::new();
    let mut membership = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        let Some(gi) = grouping.membership.get(i).copied().flatten() else {
            continue;
        };
        if !wanted.contains(&gi) {
            continue;
        }
        let new_group = seen_group.insert(gi);
        let new_need = match need_of(ev) {
            Some(n) => seen_need.insert((gi, n)),
            None => false,
        };
        if new_group || new_need {
            kept.push(ev.clone());
            membership.push(Some(gi));
        }
    }
    (
        kept,
        Grouping {
            groups: grouping.groups.clone(),
            membership,
        },
    )
}

/// What [`write_pack`] needs.
#[derive(Debug)]
pub struct PackInput<'a> {
    /// The planned batches (already redacted).
    pub batches: &'a [Batch],
    /// The request body of each batch, as the online client would send it.
    pub bodies: Vec<serde_json::Value>,
    /// The task.
    pub task: Task,
    /// The model name.
    pub model: String,
    /// The tokenizer encoding.
    pub encoding: String,
    /// The per-batch budget.
    pub max_prompt_tokens: usize,
    /// The redactor of the run (its map is written as the secret file).
    pub redactor: &'a Redactor,
    /// SHA-256 of the profile file, if one was packed.
    pub profile_sha256: Option<String>,
    /// SHA-256 of each log.
    pub log_sha256: Vec<String>,
    /// Local-only evidence (its `manifest_sha256` is filled in here).
    pub local: LocalEvidence,
    /// How the Markdown files name the pack directory in the ingest command.
    pub dir_label: String,
}

/// Where [`write_pack`] put things.
#[derive(Debug, Clone)]
pub struct Written {
    /// The manifest as written.
    pub manifest: Manifest,
    /// The Markdown files.
    pub prompt_files: Vec<PathBuf>,
    /// `requests.jsonl`.
    pub requests: PathBuf,
    /// The secret map.
    pub map: PathBuf,
    /// The local evidence.
    pub evidence: PathBuf,
}

fn write_file(path: &Path, bytes: &[u8], secret: bool) -> Result<(), PackError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = opts.open(path).map_err(io_err(path))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io_err(path))
}

fn create_dir(path: &Path, private: bool) -> Result<(), PackError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    #[cfg(not(unix))]
    let _ = private;
    b.create(path).map_err(io_err(path))
}

/// Write a pack into `dir`, which must not exist or be empty.
pub fn write_pack(dir: &Path, input: PackInput<'_>) -> Result<Written, PackError> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
        if entries.next().is_some() {
            return Err(PackError::NotEmpty(dir.to_path_buf()));
        }
    }
    create_dir(dir, false)?;
    let total = input.batches.len();
    let mut entries = Vec::new();
    let mut prompt_files = Vec::new();
    let mut requests = String::new();
    for (i, (b, body)) in input.batches.iter().zip(&input.bodies).enumerate() {
        let md = render_markdown(b, i + 1, total, &input.dir_label);
        let file = format!("{}.md", b.id);
        let path = dir.join(&file);
        write_file(&path, md.as_bytes(), false)?;
        prompt_files.push(path);
        let line = request_line(&b.id, body);
        requests.push_str(&line);
        requests.push('\n');
        let ctx = b.context();
        entries.push(BatchEntry {
            id: b.id.clone(),
            prompt_file: file,
            prompt_sha256: sha256_hex(md.as_bytes()),
            request_sha256: sha256_hex(line.as_bytes()),
            group_ids: ctx.group_ids,
            profiles: ctx.profiles,
            sampled: b.sampled.clone(),
            prompt_tokens: b.tokens,
        });
    }
    let req_path = dir.join(REQUESTS_FILE);
    write_file(&req_path, requests.as_bytes(), false)?;
    let manifest = Manifest {
        format: FORMAT.to_string(),
        version: FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        task: input.task,
        model: input.model,
        encoding: input.encoding,
        max_prompt_tokens: input.max_prompt_tokens,
        answer_schema_sha256: sha256_hex(crate::prompt::ANSWER_SCHEMA.as_bytes()),
        profile_sha256: input.profile_sha256,
        log_sha256: input.log_sha256,
        batches: entries,
        requests_sha256: sha256_hex(requests.as_bytes()),
    };
    let mut mtext = serde_json::to_string_pretty(&manifest).expect("manifest serializes");
    mtext.push('\n');
    write_file(&dir.join(MANIFEST_FILE), mtext.as_bytes(), false)?;

    let map_path = dir.join(MAP_FILE);
    let map = MapFile {
        warning: MAP_WARNING.to_string(),
        map: input.redactor.map(),
    };
    let mut text = serde_json::to_string_pretty(&map).expect("map serializes");
    text.push('\n');
    write_file(&map_path, text.as_bytes(), true)?;

    let ev_path = dir.join(EVIDENCE_FILE);
    if let Some(parent) = ev_path.parent() {
        create_dir(parent, true)?;
    }
    let local = LocalEvidence {
        manifest_sha256: sha256_hex(mtext.as_bytes()),
        ..input.local
    };
    let text = serde_json::to_string(&local).expect("evidence serializes");
    write_file(&ev_path, text.as_bytes(), true)?;
    Ok(Written {
        manifest,
        prompt_files,
        requests: req_path,
        map: map_path,
        evidence: ev_path,
    })
}

/// A pack read back and verified.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The directory.
    pub dir: PathBuf,
    /// The manifest.
    pub manifest: Manifest,
    /// The local evidence.
    pub local: LocalEvidence,
    /// The redaction map.
    pub map: RedactionMap,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<(T, Vec<u8>), PackError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    let v = serde_json::from_slice(&bytes).map_err(|e| PackError::Invalid {
        path: path.to_path_buf(),
        reason: format!("not a pack file of this version: {e}"),
    })?;
    Ok((v, bytes))
}

impl Pack {
    /// Read the pack in `dir` and verify it: the manifest against the hash kept locally,
    /// every prompt file and request line against the manifest, the map's consistency.
    /// Every mismatch found is reported (the first as the error, all in its message).
    pub fn open(dir: &Path) -> Result<Pack, PackError> {
        let mpath = dir.join(MANIFEST_FILE);
        let (manifest, mbytes): (Manifest, _) = read_json(&mpath)?;
        if manifest.format != FORMAT || manifest.version != FORMAT_VERSION {
            return Err(PackError::Invalid {
                path: mpath,
                reason: format!(
                    "format {:?} version {}; this build reads {FORMAT:?} version {FORMAT_VERSION}",
                    manifest.format, manifest.version
                ),
            });
        }
        let epath = dir.join(EVIDENCE_FILE);
        let (local, _): (LocalEvidence, _) = read_json(&epath)?;
        let found = sha256_hex(&mbytes);
        if found != local.manifest_sha256 {
            return Err(PackError::Tampered {
                what: "the manifest".into(),
                file: MANIFEST_FILE.into(),
                found,
                expected: local.manifest_sha256.clone(),
            });
        }
        for b in &manifest.batches {
            let path = dir.join(&b.prompt_file);
            if b.prompt_file.contains('/') || b.prompt_file.contains('\\') {
                return Err(PackError::Invalid {
                    path: mpath,
                    reason: format!(
                        "batch {}: prompt file {:?} is not a plain file name",
                        b.id, b.prompt_file
                    ),
                });
            }
            let found = sha256_file(&path)?;
            if found != b.prompt_sha256 {
                return Err(PackError::Tampered {
                    what: format!("the prompt of batch {}", b.id),
                    file: b.prompt_file.clone(),
                    found,
                    expected: b.prompt_sha256.clone(),
                });
            }
        }
        let rpath = dir.join(REQUESTS_FILE);
        let requests = std::fs::read_to_string(&rpath).map_err(io_err(&rpath))?;
        let lines: Vec<&str> = requests.lines().collect();
        for (i, b) in manifest.batches.iter().enumerate() {
            let found = lines
                .get(i)
                .map(|l| sha256_hex(l.as_bytes()))
                .unwrap_or_default();
            if found != b.request_sha256 {
                return Err(PackError::Tampered {
                    what: format!("the request of batch {}", b.id),
                    file: format!("{REQUESTS_FILE} line {}", i + 1),
                    found,
                    expected: b.request_sha256.clone(),
                });
            }
        }
        let found = sha256_hex(requests.as_bytes());
        if found != manifest.requests_sha256 {
            return Err(PackError::Tampered {
                what: "the request file".into(),
                file: REQUESTS_FILE.into(),
                found,
                expected: manifest.requests_sha256.clone(),
            });
        }
        let map_path = dir.join(MAP_FILE);
        let (map_file, _): (MapFile, _) = read_json(&map_path)?;
        // Check the map before anyone relies on it.
        Redactor::from_map(RedactConfig::default(), &map_file.map).map_err(|source| {
            PackError::Map {
                path: map_path.clone(),
                source,
            }
        })?;
        Ok(Pack {
            dir: dir.to_path_buf(),
            manifest,
            local,
            map: map_file.map,
        })
    }

    /// A redactor that restores this pack's pseudonyms.
    pub fn redactor(&self) -> Redactor {
        Redactor::from_map(RedactConfig::default(), &self.map)
            .expect("the map was checked when the pack was opened")
    }

    /// The batch with this id.
    pub fn batch(&self, id: &str) -> Option<&BatchEntry> {
        self.manifest.batches.iter().find(|b| b.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::group::{group_events, Filter};
    use crate::log::parse_line;

    fn ev(s: &str) -> Event {
        parse_line(s.as_bytes()).expect("parses").expect("an event")
    }

    #[test]
    fn reduced_events_rebuild_the_same_evidence() {
        let lines = [
            r#"type=AVC msg=audit(100.1:1): apparmor="DENIED" operation="open" profile="/b" name="/etc/x" pid=1 comm="b" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#,
            r#"type=AVC msg=audit(101.1:2): apparmor="DENIED" operation="open" profile="/b" name="/etc/x" pid=2 comm="b" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#,
            r#"type=AVC msg=audit(102.1:3): apparmor="DENIED" operation="open" profile="/a" name="/etc/y" pid=3 comm="a" requested_mask="w" denied_mask="w" fsuid=0 ouid=0"#,
        ];
        let events: Vec<Event> = lines.iter().map(|l| ev(l)).collect();
        let grouping = group_events(&events, &Filter::default());
        let ids: Vec<String> = grouping.groups.iter().map(|g| g.id.clone()).collect();
        let (kept, reduced) = reduce_events(&events, &grouping, &ids);
        assert_eq!(kept.len(), 2, "the repeated /etc/x read is one need");
        let full = crate::check::group_evidence(&events, &grouping);
        let small = crate::check::group_evidence(&kept, &reduced);
        let needs = |v: &[crate::check::GroupEvidence]| -> Vec<(String, usize, bool)> {
            v.iter()
                .map(|g| (g.id.clone(), g.needs.len(), g.trusted))
                .collect()
        };
        assert_eq!(needs(&full), needs(&small));
        let data = group_data(&events, &grouping, &ids[..1]);
        assert_eq!(data.len(), 1);
        assert_eq!(data[0].id, "G1");
        assert_eq!(data[0].resource, "/etc/y");
        assert_eq!(data[0].mode, "DENIED");
    }
}
