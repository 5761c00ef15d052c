//! Answers coming back: reading them in either form, matching them to the pack's batches,
//! validating and de-redacting them, and turning them into model [`Proposal`]s.
//!
//! Accepted forms: the OpenAI Batch API output JSONL (one line per request, matched by
//! `custom_id`), or one text file per batch holding a pasted chat answer (the JSON is found
//! in prose or code fences by [`crate::llm::parse_answer`]) whose file name contains the
//! batch id as a word (`B2.txt`, `answer-B2.md`), or a directory of such files. A lone text
//! answer to a one-batch pack needs no id in its name.
//!
//! Everything in an answer is untrusted. An answer for a batch that was never packed, two
//! answers for one batch, or a file that names no batch is an error naming the file; problems
//! inside an answer (groups outside its batch, a profile not in it, a rule that is not one
//! plain rule) stay attached to the proposal, which the caller blocks (see
//! [`ANSWER_PROBLEM_CODE`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::Pack;
use crate::check::{Checked, Finding, Severity, Verdict};
use crate::draft::{Proposal, Source};
use crate::llm::{parse_answer, Explanation, ParsedAnswer, Problem};

/// The finding code the caller adds to a proposal whose answer item had problems: the
/// proposal is `blocked` (a human edit is re-checked without it).
pub const ANSWER_PROBLEM_CODE: &str = "answer-problem";

/// Where an answer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerOrigin {
    /// A line of a Batch API output file.
    BatchApi {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
    },
    /// A pasted chat answer.
    Pasted {
        /// The file.
        file: PathBuf,
    },
}

impl std::fmt::Display for AnswerOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnswerOrigin::BatchApi { file, line } => write!(f, "{}:{line}", file.display()),
            AnswerOrigin::Pasted { file } => write!(f, "{}", file.display()),
        }
    }
}

/// One answer as read, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAnswer {
    /// The batch it says it answers (`None` for a pasted file whose name names no batch).
    pub batch_id: Option<String>,
    /// The model's text, or why there is none (a Batch API error).
    pub text: Result<String, String>,
    /// The server stopped at the token limit.
    pub cut_off: bool,
    /// Where it came from.
    pub origin: AnswerOrigin,
}

/// Why answers could not be taken in.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A Batch API output line is not of the documented shape.
    #[error("{origin}: not a Batch API output line: {reason}")]
    BadLine {
        /// Where.
        origin: AnswerOrigin,
        /// What is wrong.
        reason: String,
    },
    /// An answer for a batch the manifest does not list.
    #[error(
        "{origin}: answer for batch {batch:?}, which this pack does not have (it has {known})"
    )]
    UnknownBatch {
        /// Where.
        origin: AnswerOrigin,
        /// The id claimed.
        batch: String,
        /// The pack's batch ids.
        known: String,
    },
    /// A pasted answer whose file name names no batch, in a pack of several.
    #[error("{origin}: cannot tell which batch this answers; name the file after its batch (e.g. B1.txt; this pack has {known})")]
    NoBatchId {
        /// Where.
        origin: AnswerOrigin,
        /// The pack's batch ids.
        known: String,
    },
    /// Two answers for one batch.
    #[error("batch {batch} is answered twice: {first} and {second}")]
    Duplicate {
        /// The batch.
        batch: String,
        /// The first answer.
        first: AnswerOrigin,
        /// The second.
        second: AnswerOrigin,
    },
    /// No answer files at all.
    #[error("no answers found in {0}")]
    Nothing(String),
    /// Several problems; each on its own line.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many(Vec<AnswerError>),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> AnswerError + '_ {
    move |source| AnswerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The batch id a file name carries: a word `B<digits>` (case-insensitive), e.g. `B2.txt`,
/// `answer-b2.md`, `B2_reply.txt`.
pub fn batch_id_from_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy().to_string();
    let mut found = None;
    for word in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let Some(digits) = word.strip_prefix(['B', 'b']) else {
            continue;
        };
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            if found.is_some() {
                return None;
            }
            found = Some(format!("B{}", digits.trim_start_matches('0')));
        }
    }
    found
}

/// Whether a file looks like Batch API output: its first non-blank line is a JSON object
/// with `custom_id`.
fn is_batch_output(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .is_some_and(|v| v.get("custom_id").is_some())
}

fn batch_lines(file: &Path, text: &str) -> Result<Vec<RawAnswer>, AnswerError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let origin = AnswerOrigin::BatchApi {
            file: file.to_path_buf(),
            line: i + 1,
        };
        let bad = |reason: &str| AnswerError::BadLine {
            origin: origin.clone(),
            reason: reason.to_string(),
        };
        let v: Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
        let id = v
            .get("custom_id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no custom_id"))?
            .to_string();
        let error = v.get("error").filter(|e| !e.is_null());
        let response = v.get("response").filter(|r| !r.is_null());
        let status = response
            .and_then(|r| r.get("status_code"))
            .and_then(Value::as_u64);
        let body = response.and_then(|r| r.get("body"));
        let choice = body.and_then(|b| b.get("choices")).and_then(|c| c.get(0));
        let (text, cut_off) = if let Some(e) = error {
            let msg = e
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string());
            (Err(format!("the Batch API reports an error: {msg}")), false)
        } else if status.is_some_and(|s| s != 200) {
            let msg = body
                .and_then(|b| b.get("error"))
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("no message");
            (
                Err(format!(
                    "the request failed with HTTP {}: {msg}",
                    status.unwrap_or_default()
                )),
                false,
            )
        } else if let Some(choice) = choice {
            let content = choice
                .get("message")
                .and_then(|m| m.get("content"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let cut = choice.get("finish_reason").and_then(Value::as_str) == Some("length");
            (Ok(content), cut)
        } else {
            return Err(bad("neither response.body.choices nor error"));
        };
        out.push(RawAnswer {
            batch_id: Some(id),
            text,
            cut_off,
            origin,
        });
    }
    Ok(out)
}

fn read_one(file: &Path, out: &mut Vec<RawAnswer>) -> Result<(), AnswerError> {
    let bytes = std::fs::read(file).map_err(io_err(file))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if is_batch_output(&text) {
        out.extend(batch_lines(file, &text)?);
    } else {
        out.push(RawAnswer {
            batch_id: batch_id_from_name(file),
            text: Ok(text),
            cut_off: false,
            origin: AnswerOrigin::Pasted {
                file: file.to_path_buf(),
            },
        });
    }
    Ok(())
}

/// Read answers from files and directories (a directory's regular, non-hidden files, in
/// name order).
pub fn read_answers(paths: &[PathBuf]) -> Result<Vec<RawAnswer>, AnswerError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(io_err(p))?
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|f| f.is_file())
                .filter(|f| {
                    !f.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            files.sort();
            for f in files {
                read_one(&f, &mut out)?;
            }
        } else {
            read_one(p, &mut out)?;
        }
    }
    if out.is_empty() {
        return Err(AnswerError::Nothing(
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    Ok(out)
}

/// One batch's answer, validated against the manifest and de-redacted.
#[derive(Debug, Clone)]
pub struct IngestedBatch {
    /// The batch id.
    pub batch_id: String,
    /// Where the answer came from.
    pub origin: AnswerOrigin,
    /// The parsed answer (real values restored), or why there is none.
    pub parsed: Result<ParsedAnswer, String>,
}

impl IngestedBatch {
    /// Explanations that passed the local checks.
    pub fn explanations(&self) -> Vec<Explanation> {
        match &self.parsed {
            Ok(p) => p.clean().explanations,
            Err(_) => Vec::new(),
        }
    }

    /// Problems with the answer as a whole (not JSON, cut off, dropped items).
    pub fn answer_problems(&self) -> Vec<String> {
        match &self.parsed {
            Ok(p) => p.problems.iter().map(|p| p.to_string()).collect(),
            Err(e) => vec![e.clone()],
        }
    }
}

impl Pack {
    /// Match answers to batches, then validate each against its batch and de-redact it.
    /// Unknown batches, duplicates and unnamed files are errors (all of them reported).
    pub fn ingest(&self, answers: Vec<RawAnswer>) -> Result<Vec<IngestedBatch>, AnswerError> {
        let known = self
            .manifest
            .batches
            .iter()
            .map(|b| b.id.clone())
            .collect::<Vec<_>>()
            .join(", ");
        let single =
            (self.manifest.batches.len() == 1).then(|| self.manifest.batches[0].id.clone());
        let mut errors = Vec::new();
        let mut by_batch: BTreeMap<String, RawAnswer> = BTreeMap::new();
        for a in answers {
            let id = match (&a.batch_id, &a.origin) {
                (Some(id), _) => id.clone(),
                (None, _) => match &single {
                    Some(id) => id.clone(),
                    None => {
                        errors.push(AnswerError::NoBatchId {
                            origin: a.origin.clone(),
                            known: known.clone(),
                        });
                        continue;
                    }
                },
            };
            if self.batch(&id).is_none() {
                errors.push(AnswerError::UnknownBatch {
                    origin: a.origin.clone(),
                    batch: id,
                    known: known.clone(),
                });
                continue;
            }
            if let Some(prev) = by_batch.get(&id) {
                errors.push(AnswerError::Duplicate {
                    batch: id,
                    first: prev.origin.clone(),
                    second: a.origin.clone(),
                });
                continue;
            }
            by_batch.insert(id, a);
        }
        if !errors.is_empty() {
            return Err(if errors.len() == 1 {
                errors.remove(0)
            } else {
                AnswerError::Many(errors)
            });
        }
        let red = self.redactor();
        let mut out = Vec::new();
        for b in &self.manifest.batches {
            let Some(a) = by_batch.remove(&b.id) else {
                continue;
            };
            let parsed = a.text.map(|text| {
                let mut p = parse_answer(&text, a.cut_off, &b.context());
                p.restore(&red);
                p
            });
            out.push(IngestedBatch {
                batch_id: b.id.clone(),
                origin: a.origin,
                parsed,
            });
        }
        Ok(out)
    }
}

/// The model's proposals of every batch, numbered `P1`, `P2`, … in batch order, each with
/// the problems its answer item had.
pub fn proposals(batches: &[IngestedBatch]) -> Vec<(Proposal, Vec<Problem>)> {
    let mut out = Vec::new();
    for b in batches {
        let Ok(parsed) = &b.parsed else { continue };
        for c in &parsed.proposals {
            let p = &c.item;
            out.push((
                Proposal {
                    id: format!("P{}", out.len() + 1),
                    profile: p.profile.clone(),
                    rule: p.rule.trim().to_string(),
                    source: Source::Model,
                    claimed_evidence: p.evidence.clone(),
                    alternatives: Vec::new(),
                    rationale: Some(format!("{} (model, batch {})", p.rationale, b.batch_id)),
                    exec_modes: Vec::new(),
                },
                c.problems.clone(),
            ));
        }
    }
    out
}

/// Add the answer's problems to a checked proposal as [`ANSWER_PROBLEM_CODE`] errors, which
/// block it.
pub fn block_for_problems(mut checked: Checked, problems: &[Problem]) -> Checked {
    for p in problems {
        checked.findings.push(Finding {
            code: ANSWER_PROBLEM_CODE.to_string(),
            severity: Severity::Error,
            message: format!("the model's answer: {p}"),
        });
    }
    if !problems.is_empty() {
        checked.verdict = Verdict::Blocked;
    }
    checked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ids_in_file_names() {
        let id = |s: &str| batch_id_from_name(Path::new(s));
        assert_eq!(id("B1.txt").as_deref(), Some("B1"));
        assert_eq!(id("/x/answer-b12.md").as_deref(), Some("B12"));
        assert_eq!(id("B2_reply.txt").as_deref(), Some("B2"));
        assert_eq!(id("Bx.txt"), None);
        assert_eq!(id("B1-B2.txt"), None, "ambiguous");
        assert_eq!(id("answer.txt"), None);
    }

    #[test]
    fn batch_output_lines() {
        let text = concat!(
            r#"{"id":"r1","custom_id":"B1","response":{"status_code":200,"body":{"choices":[{"index":0,"message":{"role":"assistant","content":"{}"},"finish_reason":"length"}]}},"error":null}"#,
            "\n",
            r#"{"id":"r2","custom_id":"B2","response":null,"error":{"code":"x","message":"quota"}}"#,
            "\n"
        );
        assert!(is_batch_output(text));
        let a = batch_lines(Path::new("out.jsonl"), text).expect("lines");
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].batch_id.as_deref(), Some("B1"));
        assert!(a[0].cut_off);
        assert_eq!(a[0].text.as_deref(), Ok("{}"));
        assert!(a[1].text.as_ref().is_err_and(|e| e.contains("quota")));
        let bad = batch_lines(Path::new("o"), r#"{"custom_id":"B1"}"#).unwrap_err();
        assert!(bad.to_string().contains("o:1"), "{bad}");
    }
}
