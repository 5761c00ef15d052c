//! Parsing and local validation of model answers. Model text is untrusted data: this code
//! never panics on it, never executes anything from it, and reports every problem as data.
//!
//! The shape (documented in `prompts/answer-schema.json`):
//! `{"proposals":[{"profile","rule","evidence":[ids],"rationale","risk":"low|medium|high"}],
//!   "explanations":[{"group","text"}]}`.
//!
//! JSON is found by, in order: the whole text; a fenced ```` ```json ```` block; the first
//! balanced `{…}` in the text. Items with the wrong shape are dropped (with a problem); items
//! of the right shape are kept with their problems attached (unknown group ids, a profile not
//! in the batch, a rule that opens a block or is obviously broad). Whether a rule is actually
//! justified is the cross-check's business, not this module's.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::prompt::BatchContext;
use crate::redact::Redactor;

/// Longest answer text we look at.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;
/// Longest rule we accept.
pub const MAX_RULE_CHARS: usize = 400;
/// Most proposals one answer may make, whatever the batch: each becomes a card a human must
/// judge, and an answer steered by text in the log could otherwise bury the reviewer
/// (approval fatigue). See [`proposal_limit`].
pub const MAX_PROPOSALS_PER_ANSWER: usize = 20;

/// How many proposals an answer to a batch with `groups` group ids may make: two a group (a
/// group may need two rules, e.g. a socket seen with and without addresses), at least
/// [`MIN_PROPOSALS_PER_ANSWER`], at most [`MAX_PROPOSALS_PER_ANSWER`]. Proposals past it are
/// set aside and reported.
pub fn proposal_limit(groups: usize) -> usize {
    groups
        .saturating_mul(2)
        .clamp(MIN_PROPOSALS_PER_ANSWER, MAX_PROPOSALS_PER_ANSWER)
}

/// The limit of [`proposal_limit`] for the smallest batches.
pub const MIN_PROPOSALS_PER_ANSWER: usize = 8;

/// How risky the model says a proposal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Narrow, obviously needed.
    Low,
    /// Plausible but worth a look.
    Medium,
    /// Broad or security-relevant.
    High,
}

/// A rule the model proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// Profile the rule belongs in.
    pub profile: String,
    /// One AppArmor rule line.
    pub rule: String,
    /// Group ids the rule resolves.
    pub evidence: Vec<String>,
    /// Why.
    pub rationale: String,
    /// The model's risk rating.
    pub risk: Risk,
}

/// An explanation of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The group id (or `P1` for the profile itself).
    pub group: String,
    /// The explanation.
    pub text: String,
}

/// A validated answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Proposed rules.
    pub proposals: Vec<Proposal>,
    /// Explanations.
    pub explanations: Vec<Explanation>,
}

/// Which item of an answer a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "list", content = "index", rename_all = "lowercase")]
pub enum ItemRef {
    /// `proposals[i]`.
    Proposal(usize),
    /// `explanations[i]`.
    Explanation(usize),
}

/// Shown numbered from 1, as the review numbers its cards ("proposal 2"); the JSON keeps the
/// 0-based `index`.
impl std::fmt::Display for ItemRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ItemRef::Proposal(i) => write!(f, "proposal {}", i.saturating_add(1)),
            ItemRef::Explanation(i) => write!(f, "explanation {}", i.saturating_add(1)),
        }
    }
}

/// Something wrong with an answer or one of its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Problem {
    /// The server produced no text at all (or only a refusal).
    #[error("the model gave no answer{}", refusal.as_ref().map(|r| format!(" (refusal: {r})")).unwrap_or_default())]
    Empty {
        /// The refusal text, if any.
        refusal: Option<String>,
    },
    /// No JSON object could be found in the text.
    #[error("the answer is not JSON: {reason}")]
    NotJson {
        /// Parser message.
        reason: String,
    },
    /// The output stopped early (token limit, or JSON ends mid-way).
    #[error("the answer was cut off ({reason})")]
    Truncated {
        /// Why we think so.
        reason: String,
    },
    /// The answer or an item does not have the documented shape.
    #[error("{}wrong shape at {path}: {reason}", item.map(|i| format!("{i}: ")).unwrap_or_default())]
    WrongShape {
        /// The item, when the problem is inside one.
        item: Option<ItemRef>,
        /// JSON path of the problem.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// An item cites a group id that is not in the batch.
    #[error("{item} cites group {id:?}, which is not in this batch")]
    UnknownGroup {
        /// The item.
        item: ItemRef,
        /// The id cited.
        id: String,
    },
    /// A proposal cites no evidence.
    #[error("{item} cites no evidence")]
    NoEvidence {
        /// The item.
        item: ItemRef,
    },
    /// A proposal targets a profile that is not in the batch.
    #[error("{item} targets profile {profile:?}, which is not in this batch")]
    WrongProfile {
        /// The item.
        item: ItemRef,
        /// The profile named.
        profile: String,
    },
    /// A proposed rule is not a single plain rule, or is obviously over-broad.
    #[error("{item}: suspicious rule: {reason}")]
    SuspiciousRule {
        /// The item.
        item: ItemRef,
        /// What is wrong.
        reason: String,
    },
    /// The answer proposes more rules than a batch of its size may; the first `limit` are
    /// kept, the others set aside (not reviewed).
    #[error(
        "the answer proposes {proposed} rules, more than the {limit} a batch of this size may: \
         proposals {first}..{proposed} (numbered from 1) were set aside, not reviewed; ask again \
         with smaller batches if they are needed"
    )]
    TooManyProposals {
        /// Proposals in the answer.
        proposed: usize,
        /// How many were kept.
        limit: usize,
        /// The first one set aside (1-based).
        first: usize,
    },
}

impl Problem {
    /// The item this problem is about, if any.
    pub fn item(&self) -> Option<ItemRef> {
        match self {
            Problem::WrongShape { item, .. } => *item,
            Problem::UnknownGroup { item, .. }
            | Problem::NoEvidence { item }
            | Problem::WrongProfile { item, .. }
            | Problem::SuspiciousRule { item, .. } => Some(*item),
            Problem::Empty { .. }
            | Problem::NotJson { .. }
            | Problem::Truncated { .. }
            | Problem::TooManyProposals { .. } => None,
        }
    }
}

/// An item together with the problems found in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked<T> {
    /// The item as the model wrote it.
    pub item: T,
    /// Its problems; empty when it passed every local check.
    pub problems: Vec<Problem>,
}

/// Where the JSON was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Extraction {
    /// The whole text was the JSON object.
    Whole,
    /// Inside a fenced code block.
    Fenced,
    /// The first balanced `{…}` in prose.
    Embedded,
    /// No JSON found.
    None,
}

/// The result of parsing one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedAnswer {
    /// Well-shaped proposals, each with its problems.
    pub proposals: Vec<Checked<Proposal>>,
    /// Well-shaped explanations, each with its problems.
    pub explanations: Vec<Checked<Explanation>>,
    /// Problems with the answer as a whole, and items dropped for their shape.
    pub problems: Vec<Problem>,
    /// How the JSON was found.
    pub extraction: Extraction,
}

impl ParsedAnswer {
    /// Only the items that passed every local check.
    pub fn clean(&self) -> Answer {
        Answer {
            proposals: self
                .proposals
                .iter()
                .filter(|c| c.problems.is_empty())
                .map(|c| c.item.clone())
                .collect(),
            explanations: self
                .explanations
                .iter()
                .filter(|c| c.problems.is_empty())
                .map(|c| c.item.clone())
                .collect(),
        }
    }

    /// Whether the answer is usable JSON at all (found, not cut off).
    pub fn is_json(&self) -> bool {
        !self.problems.iter().any(|p| {
            matches!(
                p,
                Problem::Empty { .. } | Problem::NotJson { .. } | Problem::Truncated { .. }
            )
        })
    }

    /// Every problem, item problems included.
    pub fn all_problems(&self) -> Vec<Problem> {
        let mut all = self.problems.clone();
        for p in &self.proposals {
            all.extend(p.problems.iter().cloned());
        }
        for e in &self.explanations {
            all.extend(e.problems.iter().cloned());
        }
        all
    }

    /// Map pseudonyms in every text field back to real values.
    pub fn restore(&mut self, red: &Redactor) {
        for p in &mut self.proposals {
            p.item.profile = red.restore_str(&p.item.profile);
            p.item.rule = red.restore_str(&p.item.rule);
            p.item.rationale = red.restore_str(&p.item.rationale);
        }
        for e in &mut self.explanations {
            e.item.text = red.restore_str(&e.item.text);
        }
    }

    fn failed(problem: Problem) -> Self {
        ParsedAnswer {
            proposals: Vec::new(),
            explanations: Vec::new(),
            problems: vec![problem],
            extraction: Extraction::None,
        }
    }
}

/// Parse and validate `text` against the batch it answers. `cut_off` is true when the server
/// reported that generation stopped at the token limit (`finish_reason: "length"`).
pub fn parse_answer(text: &str, cut_off: bool, ctx: &BatchContext) -> ParsedAnswer {
    if text.trim().is_empty() {
        return ParsedAnswer::failed(if cut_off {
            Problem::Truncated {
                reason: "no text before the token limit".into(),
            }
        } else {
            Problem::Empty { refusal: None }
        });
    }
    if text.len() > MAX_ANSWER_BYTES {
        return ParsedAnswer::failed(Problem::NotJson {
            reason: format!("answer longer than {MAX_ANSWER_BYTES} bytes"),
        });
    }
    let (value, extraction) = match extract_json(text) {
        Ok(found) => found,
        Err(e) => {
            let truncated = cut_off || e.is_eof();
            return ParsedAnswer::failed(if truncated {
                Problem::Truncated {
                    reason: if cut_off {
                        "the server stopped at the token limit".into()
                    } else {
                        format!("JSON ends early: {e}")
                    },
                }
            } else {
                Problem::NotJson {
                    reason: e.to_string(),
                }
            });
        }
    };
    let mut out = ParsedAnswer {
        proposals: Vec::new(),
        explanations: Vec::new(),
        problems: Vec::new(),
        extraction,
    };
    if cut_off {
        out.problems.push(Problem::Truncated {
            reason: "the server stopped at the token limit".into(),
        });
    }
    let Value::Object(top) = value else {
        out.problems
            .push(shape(None, "$", "the answer must be a JSON object"));
        return out;
    };
    for key in top.keys() {
        if key != "proposals" && key != "explanations" {
            out.problems
                .push(shape(None, &format!("$.{key}"), "unexpected member"));
        }
    }
    for (name, required) in [("proposals", true), ("explanations", true)] {
        match top.get(name) {
            None if required => {
                out.problems
                    .push(shape(None, &format!("$.{name}"), "missing list"))
            }
            Some(Value::Array(_)) | None => {}
            Some(_) => out
                .problems
                .push(shape(None, &format!("$.{name}"), "must be a list")),
        }
    }
    if let Some(Value::Array(items)) = top.get("proposals") {
        let limit = proposal_limit(ctx.group_ids.len());
        if items.len() > limit {
            out.problems.push(Problem::TooManyProposals {
                proposed: items.len(),
                limit,
                first: limit + 1,
            });
        }
        for (i, v) in items.iter().enumerate().take(limit) {
            let item = ItemRef::Proposal(i);
            match proposal_from(v, i) {
                Ok(p) => {
                    let problems = check_proposal(&p, item, ctx);
                    out.proposals.push(Checked { item: p, problems });
                }
                Err(pr) => out.problems.push(pr),
            }
        }
    }
    if let Some(Value::Array(items)) = top.get("explanations") {
        for (i, v) in items.iter().enumerate() {
            let item = ItemRef::Explanation(i);
            match explanation_from(v, i) {
                Ok(e) => {
                    let mut problems = Vec::new();
                    if !ctx.group_ids.iter().any(|g| g == &e.group) {
                        problems.push(Problem::UnknownGroup {
                            item,
                            id: e.group.clone(),
                        });
                    }
                    out.explanations.push(Checked { item: e, problems });
                }
                Err(pr) => out.problems.push(pr),
            }
        }
    }
    out
}

fn shape(item: Option<ItemRef>, path: &str, reason: &str) -> Problem {
    Problem::WrongShape {
        item,
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

fn string_field(
    obj: &Map<String, Value>,
    key: &str,
    item: ItemRef,
    path: &str,
) -> Result<String, Problem> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(shape(
            Some(item),
            &format!("{path}.{key}"),
            "must be a string",
        )),
        None => Err(shape(Some(item), &format!("{path}.{key}"), "missing")),
    }
}

fn check_members(
    obj: &Map<String, Value>,
    allowed: &[&str],
    item: ItemRef,
    path: &str,
) -> Result<(), Problem> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(shape(
            Some(item),
            &format!("{path}.{k}"),
            "unexpected member",
        )),
        None => Ok(()),
    }
}

fn proposal_from(v: &Value, i: usize) -> Result<Proposal, Problem> {
    let item = ItemRef::Proposal(i);
    let path = format!("$.proposals[{i}]");
    let Value::Object(obj) = v else {
        return Err(shape(Some(item), &path, "must be an object"));
    };
    check_members(
        obj,
        &["profile", "rule", "evidence", "rationale", "risk"],
        item,
        &path,
    )?;
    let evidence = match obj.get("evidence") {
        Some(Value::Array(ids)) => ids
            .iter()
            .enumerate()
            .map(|(j, id)| match id {
                Value::String(s) => Ok(s.clone()),
                _ => Err(shape(
                    Some(item),
                    &format!("{path}.evidence[{j}]"),
                    "must be a string",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err(shape(
                Some(item),
                &format!("{path}.evidence"),
                "must be a list",
            ))
        }
        None => return Err(shape(Some(item), &format!("{path}.evidence"), "missing")),
    };
    let risk = match string_field(obj, "risk", item, &path)?.as_str() {
        "low" => Risk::Low,
        "medium" => Risk::Medium,
        "high" => Risk::High,
        _ => {
            return Err(shape(
                Some(item),
                &format!("{path}.risk"),
                "must be low, medium or high",
            ))
        }
    };
    Ok(Proposal {
        profile: string_field(obj, "profile", item, &path)?,
        rule: string_field(obj, "rule", item, &path)?,
        evidence,
        rationale: string_field(obj, "rationale", item, &path)?,
        risk,
    })
}

fn explanation_from(v: &Value, i: usize) -> Result<Explanation, Problem> {
    let item = ItemRef::Explanation(i);
    let path = format!("$.explanations[{i}]");
    let Value::Object(obj) = v else {
        return Err(shape(Some(item), &path, "must be an object"));
    };
    check_members(obj, &["group", "text"], item, &path)?;
    Ok(Explanation {
        group: string_field(obj, "group", item, &path)?,
        text: string_field(obj, "text", item, &path)?,
    })
}

fn check_proposal(p: &Proposal, item: ItemRef, ctx: &BatchContext) -> Vec<Problem> {
    let mut problems = Vec::new();
    if !ctx.profiles.iter().any(|n| n == &p.profile) {
        problems.push(Problem::WrongProfile {
            item,
            profile: p.profile.clone(),
        });
    }
    if p.evidence.is_empty() {
        problems.push(Problem::NoEvidence { item });
    }
    for id in &p.evidence {
        if !ctx.group_ids.iter().any(|g| g == id) {
            problems.push(Problem::UnknownGroup {
                item,
                id: id.clone(),
            });
        }
    }
    if let Some(reason) = rule_suspicion(&p.rule) {
        problems.push(Problem::SuspiciousRule { item, reason });
    }
    problems
}

/// Cheap local screening of a rule's text. The real judgement (does the evidence need it?)
/// is the cross-check's.
fn rule_suspicion(rule: &str) -> Option<String> {
    let r = rule.trim();
    if r.is_empty() {
        return Some("empty rule".into());
    }
    if r.chars().count() > MAX_RULE_CHARS {
        return Some(format!("longer than {MAX_RULE_CHARS} characters"));
    }
    if crate::display::has_hidden(r) {
        return Some("contains a line break, control, bidirectional or invisible character".into());
    }
    if r.contains('{') && !r.contains("@{") || r.contains('}') && !r.contains("@{") {
        return Some("opens or closes a block".into());
    }
    if r.contains('#') {
        return Some("contains a comment or include".into());
    }
    if !r.ends_with(',') {
        return Some("does not end with a comma".into());
    }
    let words: Vec<&str> = r
        .trim_end_matches(',')
        .split_whitespace()
        .filter(|w| *w != "owner" && *w != "audit" && *w != "allow")
        .collect();
    let first = words.first().copied().unwrap_or("");
    if matches!(
        first,
        "include" | "profile" | "hat" | "^" | "abi" | "alias" | "change_profile" | "pivot_root"
    ) {
        return Some(format!("`{first}` is not a rule to draft"));
    }
    if words.iter().any(|w| {
        let w = w.trim_start_matches('"').trim_end_matches('"');
        w == "/**" || w == "/*" || w == "/" || w == "**" || w == "@{HOME}/**"
    }) {
        return Some("allows (nearly) the whole file system".into());
    }
    if words
        .last()
        .is_some_and(|perm| perm.contains("ux") || perm.contains("Ux"))
    {
        return Some("unconfined execution".into());
    }
    if first == "capability"
        && (words.len() == 1
            || words[1..].iter().any(|c| {
                matches!(
                    *c,
                    "sys_admin"
                        | "sys_module"
                        | "sys_rawio"
                        | "sys_ptrace"
                        | "mac_admin"
                        | "mac_override"
                        | "bpf"
                )
            }))
    {
        return Some("grants all or very broad capabilities".into());
    }
    if matches!(
        first,
        "unix" | "network" | "dbus" | "signal" | "ptrace" | "mount" | "umount"
    ) && words.len() == 1
    {
        return Some(format!("bare `{first}` allows everything of its class"));
    }
    None
}

enum ExtractError {
    Json(serde_json::Error),
    NoObject,
}

impl ExtractError {
    fn is_eof(&self) -> bool {
        match self {
            ExtractError::Json(e) => e.is_eof(),
            ExtractError::NoObject => false,
        }
    }
}

impl std::fmt::Display for ExtractError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExtractError::Json(e) => write!(f, "{e}"),
            ExtractError::NoObject => write!(f, "no JSON object in the text"),
        }
    }
}

fn extract_json(text: &str) -> Result<(Value, Extraction), ExtractError> {
    let trimmed = text.trim();
    let whole_err = match serde_json::from_str::<Value>(trimmed) {
        Ok(v) => return Ok((v, Extraction::Whole)),
        Err(e) => e,
    };
    if let Some(block) = fenced_block(trimmed) {
        if let Ok(v) = serde_json::from_str::<Value>(block.trim()) {
            return Ok((v, Extraction::Fenced));
        }
    }
    if let Some(start) = trimmed.find('{') {
        match balanced_object(&trimmed[start..]) {
            Some(obj) => {
                return serde_json::from_str::<Value>(obj)
                    .map(|v| (v, Extraction::Embedded))
                    .map_err(ExtractError::Json)
            }
            None => {
                // Unbalanced: report the parser's view of the tail (usually "EOF while parsing").
                return Err(ExtractError::Json(
                    serde_json::from_str::<Value>(&trimmed[start..])
                        .err()
                        .unwrap_or(whole_err),
                ));
            }
        }
    }
    if whole_err.is_eof() {
        return Err(ExtractError::Json(whole_err));
    }
    Err(ExtractError::NoObject)
}

fn fenced_block(text: &str) -> Option<&str> {
    let start = text.find("```")?;
    let after = &text[start + 3..];
    let body_start = after.find('\n')? + 1;
    let body = &after[body_start..];
    let end = body.find("```")?;
    Some(&body[..end])
}

/// The first `{…}` with balanced braces, skipping braces inside JSON strings.
fn balanced_object(text: &str) -> Option<&str> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(&text[..=i]);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> BatchContext {
        BatchContext {
            batch_id: "B1".into(),
            group_ids: vec!["G1".into(), "G2".into()],
            profiles: vec!["/usr/bin/foo".into()],
        }
    }

    const GOOD: &str = r#"{"proposals":[{"profile":"/usr/bin/foo","rule":"/etc/foo.conf r,","evidence":["G1"],"rationale":"reads its config","risk":"low"}],"explanations":[{"group":"G2","text":"x"}]}"#;

    #[test]
    fn good_answer_is_clean() {
        let p = parse_answer(GOOD, false, &ctx());
        assert_eq!(p.extraction, Extraction::Whole);
        assert!(p.all_problems().is_empty(), "{:?}", p.all_problems());
        assert_eq!(p.clean().proposals.len(), 1);
    }

    #[test]
    fn fenced_and_embedded() {
        let fenced = format!("Sure!\n```json\n{GOOD}\n```\nbye");
        assert_eq!(
            parse_answer(&fenced, false, &ctx()).extraction,
            Extraction::Fenced
        );
        let embedded = format!("Here: {GOOD} hope that helps {{");
        let p = parse_answer(&embedded, false, &ctx());
        assert_eq!(p.extraction, Extraction::Embedded);
        assert!(p.all_problems().is_empty());
    }

    #[test]
    fn truncated_and_not_json() {
        let cut = &GOOD[..GOOD.len() - 20];
        let p = parse_answer(cut, false, &ctx());
        assert!(
            matches!(p.problems[0], Problem::Truncated { .. }),
            "{:?}",
            p.problems
        );
        let p = parse_answer(GOOD, true, &ctx());
        assert!(!p.is_json());
        let p = parse_answer("I cannot help with that.", false, &ctx());
        assert!(matches!(p.problems[0], Problem::NotJson { .. }));
        let p = parse_answer("", false, &ctx());
        assert!(matches!(p.problems[0], Problem::Empty { .. }));
        let p = parse_answer("[1,2]", false, &ctx());
        assert!(matches!(p.problems[0], Problem::WrongShape { .. }));
    }

    #[test]
    fn wrong_shapes_are_dropped_with_problems() {
        let p = parse_answer(
            r#"{"proposals":[{"profile":"/usr/bin/foo","rule":"/a r,","evidence":"G1","rationale":"","risk":"low"},{"profile":1}],"explanations":[{"group":"G1","text":"t","extra":1}],"x":2}"#,
            false,
            &ctx(),
        );
        assert!(p.proposals.is_empty() && p.explanations.is_empty());
        assert_eq!(p.problems.len(), 4, "{:?}", p.problems);
    }

    #[test]
    fn unknown_evidence_wrong_profile_and_broad_rules_are_flagged() {
        let p = parse_answer(
            r#"{"proposals":[
              {"profile":"/usr/bin/foo","rule":"/** rwx,","evidence":["G1"],"rationale":"","risk":"low"},
              {"profile":"/usr/sbin/sshd","rule":"/etc/a r,","evidence":["G1"],"rationale":"","risk":"low"},
              {"profile":"/usr/bin/foo","rule":"/etc/a r,","evidence":["G9"],"rationale":"","risk":"low"},
              {"profile":"/usr/bin/foo","rule":"/etc/a r,\n}\nprofile evil {","evidence":["G1"],"rationale":"","risk":"low"},
              {"profile":"/usr/bin/foo","rule":"/usr/bin/sh ux,","evidence":["G1"],"rationale":"","risk":"low"},
              {"profile":"/usr/bin/foo","rule":"capability sys_admin,","evidence":[],"rationale":"","risk":"low"}
            ],"explanations":[{"group":"G7","text":"ignore previous instructions"}]}"#,
            false,
            &ctx(),
        );
        assert_eq!(p.proposals.len(), 6);
        assert!(p.proposals.iter().all(|c| !c.problems.is_empty()));
        assert!(p.explanations.iter().all(|c| !c.problems.is_empty()));
        assert!(p.clean().proposals.is_empty() && p.clean().explanations.is_empty());
    }

    #[test]
    fn proposals_past_the_limit_are_set_aside_and_reported() {
        let one = r#"{"profile":"/usr/bin/foo","rule":"/etc/foo.conf r,","evidence":["G1"],"rationale":"","risk":"low"}"#;
        let limit = proposal_limit(ctx().group_ids.len());
        assert_eq!(limit, MIN_PROPOSALS_PER_ANSWER);
        let many = vec![one; 50].join(",");
        let p = parse_answer(
            &format!(r#"{{"proposals":[{many}],"explanations":[]}}"#),
            false,
            &ctx(),
        );
        assert_eq!(p.proposals.len(), limit);
        assert_eq!(
            p.problems,
            vec![Problem::TooManyProposals {
                proposed: 50,
                limit,
                first: limit + 1
            }]
        );
        assert!(
            p.problems[0].to_string().contains("9..50"),
            "{}",
            p.problems[0]
        );
        assert!(p.is_json(), "the kept proposals are still used");
        assert_eq!(proposal_limit(100), MAX_PROPOSALS_PER_ANSWER);
    }

    #[test]
    fn restore_maps_tokens_back() {
        let mut red = Redactor::new(crate::redact::RedactConfig::default());
        red.redact_str("/home/erin/x");
        let mut p = parse_answer(
            r#"{"proposals":[{"profile":"/usr/bin/foo","rule":"owner @{HOME}/.cache/USER_1/** r,","evidence":["G1"],"rationale":"USER_1 cache","risk":"low"}],"explanations":[]}"#,
            false,
            &ctx(),
        );
        p.restore(&red);
        assert_eq!(p.proposals[0].item.rule, "owner @{HOME}/.cache/erin/** r,");
    }
}
