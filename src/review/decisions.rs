//! The memory of past review decisions, so a human is not asked the same question twice.
//!
//! Stored as JSON in `STATE/decisions.json`, where `STATE` is [`state_dir`]. A decision is
//! keyed by the profile file it was made for (its canonical path), the profile name and the
//! exact rule text (trimmed): an edited or toggled rule is a different question, and a
//! profile of the same name in another file is a different profile. Rejections are
//! remembered when a review ends (not on quit); approvals when the file holding them has
//! been written. `tune --ask-again` ignores the memory (and overwrites it with the new
//! answers).
//!
//! Only a rejection spares a question: a remembered approval is reported (`--json`) but
//! the rule is asked about again, so a decision file written by someone else can never
//! approve a rule. A decision file that is not the invoking user's own (or root's), or that
//! others could replace, is ignored with a warning ([`crate::fsguard::Policy::inspect`];
//! `--allow-untrusted-paths` reads it anyway). Records without a file (older versions) are
//! kept but spare nothing.

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
    /// Canonical path of the profile file the decision was made for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<PathBuf>,
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

type Key = (Option<PathBuf>, String, String);

/// Past decisions about one profile file, loaded from and saved to one decision file (which
/// also keeps the decisions about other files).
#[derive(Debug, Clone)]
pub struct DecisionStore {
    path: PathBuf,
    scope: PathBuf,
    records: BTreeMap<Key, Record>,
    /// The file was ignored as untrusted: it is not overwritten either.
    ignored: bool,
}

/// The path decisions about `profile_file` are bound to: its canonical path when it can be
/// resolved, else the path as given.
pub fn scope_of(profile_file: &Path) -> PathBuf {
    std::fs::canonicalize(profile_file).unwrap_or_else(|_| profile_file.to_path_buf())
}

impl DecisionStore {
    /// An empty store about `profile_file` that will be saved to `path`.
    pub fn empty(path: PathBuf, profile_file: &Path) -> DecisionStore {
        DecisionStore {
            path,
            scope: scope_of(profile_file),
            records: BTreeMap::new(),
            ignored: false,
        }
    }

    /// Load `path` for decisions about `profile_file`; a missing file is an empty store. A
    /// file that fails [`crate::fsguard::Policy::inspect`] is ignored with a warning (and
    /// not overwritten), unless the policy allows untrusted paths.
    pub fn load(path: &Path, profile_file: &Path) -> Result<DecisionStore, DecisionsError> {
        Self::load_with(path, profile_file, &crate::fsguard::Policy::current())
    }

    /// [`DecisionStore::load`] with an explicit policy.
    pub fn load_with(
        path: &Path,
        profile_file: &Path,
        policy: &crate::fsguard::Policy,
    ) -> Result<DecisionStore, DecisionsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(DecisionStore::empty(path.to_path_buf(), profile_file))
            }
            Err(source) => {
                return Err(DecisionsError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        if !policy.allow_untrusted {
            if let Err(e) = policy.inspect(path, crate::fsguard::Usage::Read) {
                tracing::warn!(
                    "ignoring the remembered decisions in {}: {e}",
                    path.display()
                );
                let mut store = DecisionStore::empty(path.to_path_buf(), profile_file);
                store.ignored = true;
                return Ok(store);
            }
        }
        let file: FileFormat =
            serde_json::from_str(&text).map_err(|source| DecisionsError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        let mut store = DecisionStore::empty(path.to_path_buf(), profile_file);
        for r in file.decisions {
            store.records.insert(
                (r.file.clone(), r.profile.clone(), r.rule.trim().to_string()),
                r,
            );
        }
        Ok(store)
    }

    fn key(&self, profile: &str, rule: &str) -> Key {
        (
            Some(self.scope.clone()),
            profile.to_string(),
            rule.trim().to_string(),
        )
    }

    /// The file this store saves to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The remembered decision for `rule` in `profile` of this store's profile file, if
    /// any. Only [`Decision::Rejected`] may spare a question (see the module doc).
    pub fn get(&self, profile: &str, rule: &str) -> Option<Decision> {
        self.records
            .get(&self.key(profile, rule))
            .map(|r| r.decision)
    }

    /// Remember `decision` for `rule` in `profile` of this store's profile file (replacing
    /// an older one).
    pub fn record(&mut self, profile: &str, rule: &str, decision: Decision) {
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let key = self.key(profile, rule);
        self.records.insert(
            key.clone(),
            Record {
                file: key.0,
                profile: key.1,
                rule: key.2,
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

    /// Save atomically (creating the directory if needed). A file ignored as untrusted is
    /// left as it is.
    pub fn save(&self) -> Result<(), DecisionsError> {
        if self.ignored {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| DecisionsError::Read {
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
        super::write::atomic_write_with(
            &self.path,
            text.as_bytes(),
            super::write::WriteOptions {
                trust: Some(crate::fsguard::Policy::current()),
                ..super::write::WriteOptions::default()
            },
        )?;
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
        let (one, two) = (d.path().join("one"), d.path().join("two"));
        let mut s = DecisionStore::load(&p, &one).expect("missing is empty");
        assert!(s.is_empty());
        s.record("x", " /etc/a r, ", Decision::Rejected);
        s.record("x", "/etc/b r,", Decision::Approved);
        s.record("x", "/etc/a r,", Decision::Approved);
        s.save().expect("save");
        let s = DecisionStore::load(&p, &one).expect("load");
        assert_eq!(s.len(), 2);
        assert_eq!(s.get("x", "/etc/a r,"), Some(Decision::Approved));
        assert_eq!(s.get("y", "/etc/a r,"), None);
        // Another file with a profile of the same name: nothing remembered, and its own
        // decisions are saved beside the first file's.
        let mut s = DecisionStore::load(&p, &two).expect("load");
        assert_eq!(s.get("x", "/etc/a r,"), None);
        s.record("x", "/etc/a r,", Decision::Rejected);
        s.save().expect("save");
        let s = DecisionStore::load(&p, &one).expect("load");
        assert_eq!(s.len(), 3);
        assert_eq!(s.get("x", "/etc/a r,"), Some(Decision::Approved));
    }

    #[test]
    fn a_file_others_can_write_is_ignored_and_kept() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("decisions.json");
        let prof = d.path().join("prof");
        let mut s = DecisionStore::load(&p, &prof).expect("empty");
        s.record("x", "/a r,", Decision::Rejected);
        s.save().expect("save");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        let user = crate::fsguard::Policy {
            euid: 1000,
            allow_untrusted: false,
        };
        let mut s = DecisionStore::load_with(&p, &prof, &user).expect("ignored, not an error");
        assert!(s.is_empty());
        s.record("x", "/b r,", Decision::Rejected);
        s.save().expect("not saved, no error");
        let allowed = crate::fsguard::Policy {
            allow_untrusted: true,
            ..user
        };
        let s = DecisionStore::load_with(&p, &prof, &allowed).expect("read anyway");
        assert_eq!(s.get("x", "/a r,"), Some(Decision::Rejected));
        assert_eq!(s.get("x", "/b r,"), None);
    }

    #[test]
    fn bad_file_names_itself() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("decisions.json");
        std::fs::write(&p, "{nope").expect("write");
        let e = DecisionStore::load(&p, &p).expect_err("bad");
        assert!(e.to_string().contains("decisions.json"), "{e}");
    }
}
