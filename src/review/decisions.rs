//! The memory of past review decisions, so a human is not asked the same question twice.
//!
//! Stored as JSON in `STATE/decisions.json`, where `STATE` is [`state_dir`]. A decision is
//! keyed by the profile name and the exact rule text (trimmed): an edited or toggled rule is
//! a different question. Rejections are remembered when a review ends (not on quit);
//! approvals when the file holding them has been written. `tune --ask-again` ignores the
//! memory (and overwrites it with the new answers).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Environment variable overriding the state directory (tests use it to stay hermetic).
pub const STATE_DIR_ENV: &str = "AA_ASSIST_STATE_DIR";

/// The state directory: `$AA_ASSIST_STATE_DIR`, else `$XDG_STATE_HOME/aa-assist`, else
/// `~/.local/state/aa-assist`. `None` when no home directory is known.
pub fn state_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(STATE_DIR_ENV) {
        return Some(PathBuf::from(d));
    }
    dirs::state_dir().map(|d| d.join("aa-assist"))
}

/// A remembered answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The rule was approved and written.
    Approved,
    /// The rule was skipped.
    Rejected,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    profile: String,
    rule: String,
    decision: Decision,
    /// Unix time of the decision.
    at: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct FileFormat {
    version: u32,
    decisions: Vec<Record>,
}

/// Why the decision file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum DecisionsError {
    /// Reading failed.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The decision file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file is not the JSON this module writes.
    #[error("{}: not a decision file: {source}", path.display())]
    Parse {
        /// The decision file.
        path: PathBuf,
        /// The JSON error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// Writing failed.
    #[error(transparent)]
    Write(#[from] super::write::WriteError),
}

/// Past decisions, loaded from and saved to one file.
#[derive(Debug, Clone)]
pub struct DecisionStore {
    path: PathBuf,
    records: BTreeMap<(String, String), Record>,
}

impl DecisionStore {
    /// An empty store that will be saved to `path`.
    pub fn empty(path: PathBuf) -> DecisionStore {
        DecisionStore {
            path,
            records: BTreeMap::new(),
        }
    }

    /// Load `path`; a missing file is an empty store.
    pub fn load(path: &Path) -> Result<DecisionStore, DecisionsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(DecisionStore::empty(path.to_path_buf()))
            }
            Err(source) => {
                return Err(DecisionsError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let file: FileFormat =
            serde_json::from_str(&text).map_err(|source| DecisionsError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        let mut store = DecisionStore::empty(path.to_path_buf());
        for r in file.decisions {
            store
                .records
                .insert((r.profile.clone(), r.rule.trim().to_string()), r);
        }
        Ok(store)
    }

    /// The file this store saves to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The remembered decision for `rule` in `profile`, if any.
    pub fn get(&self, profile: &str, rule: &str) -> Option<Decision> {
        self.records
            .get(&(profile.to_string(), rule.trim().to_string()))
            .map(|r| r.decision)
    }

    /// Remember `decision` for `rule` in `profile` (replacing an older one).
    pub fn record(&mut self, profile: &str, rule: &str, decision: Decision) {
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let key = (profile.to_string(), rule.trim().to_string());
        self.records.insert(
            key.clone(),
            Record {
                profile: key.0,
                rule: key.1,
                decision,
                at,
            },
        );
    }

    /// Number of remembered decisions.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Save atomically (creating the directory if needed).
    pub fn save(&self) -> Result<(), DecisionsError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| DecisionsError::Read {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let file = FileFormat {
            version: 1,
            decisions: self.records.values().cloned().collect(),
        };
        let mut text =
            serde_json::to_string_pretty(&file).expect("a list of plain records always serializes");
        text.push('\n');
        super::write::atomic_write(&self.path, text.as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_replaces() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("sub/decisions.json");
        let mut s = DecisionStore::load(&p).expect("missing is empty");
        assert!(s.is_empty());
        s.record("x", " /etc/a r, ", Decision::Rejected);
        s.record("x", "/etc/b r,", Decision::Approved);
        s.record("x", "/etc/a r,", Decision::Approved);
        s.save().expect("save");
        let s = DecisionStore::load(&p).expect("load");
        assert_eq!(s.len(), 2);
        assert_eq!(s.get("x", "/etc/a r,"), Some(Decision::Approved));
        assert_eq!(s.get("y", "/etc/a r,"), None);
    }

    #[test]
    fn bad_file_names_itself() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("decisions.json");
        std::fs::write(&p, "{nope").expect("write");
        let e = DecisionStore::load(&p).expect_err("bad");
        assert!(e.to_string().contains("decisions.json"), "{e}");
    }
}
