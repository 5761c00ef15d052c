//! Prompt templates, token counting and batching under a budget.
//!
//! This module owns what a model is sent: the templates in `prompts/` (embedded at build time,
//! overridable by a directory, see [`Templates`]), the compact per-group JSON the data block is
//! made of ([`GroupData`] → one line per group), token counting with `tiktoken-rs`
//! ([`TokenCounter`]), and the packing of groups into [`Batch`]es that never exceed a token
//! budget ([`Planner::plan`]). Every string that goes into a prompt passes through the run's
//! [`Redactor`](crate::redact::Redactor) first.
//!
//! It does not talk to a server (that is [`crate::llm`]) and does not read logs: the caller
//! converts its own groups into [`GroupData`].

mod batch;
mod template;
mod tokens;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use batch::{Batch, BatchContext, Estimate, Planner, PlannerOptions};
pub use template::{Task, TemplateName, Templates};
pub use tokens::{price_per_mtok, TokenCounter};

/// The answer schema documented in `prompts/answer-schema.json`, as sent with
/// `response_format`.
pub const ANSWER_SCHEMA: &str = include_str!("../../prompts/answer-schema.json");

/// The answer schema as a JSON value.
pub fn answer_schema() -> serde_json::Value {
    serde_json::from_str(ANSWER_SCHEMA).expect("prompts/answer-schema.json is valid JSON")
}

/// One group of similar audit events, as the prompt layer sees it. A plain data struct: the
/// caller fills it from its own grouping (e.g. `log::Group`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupData {
    /// Group id as cited by the model: `G1`, `G2`, ….
    pub id: String,
    /// Profile the events were logged against.
    pub profile: String,
    /// Rule class (`file`, `net`, `cap`, `signal`, `dbus`, …).
    pub class: String,
    /// Operation (`open`, `exec`, `capable`, `connect`, …).
    pub operation: String,
    /// `DENIED`, `ALLOWED`, `AUDIT`, …
    pub mode: String,
    /// What was accessed: path, capability name, address, peer ….
    pub resource: String,
    /// Requested/denied permission mask, e.g. `r`, `wc`.
    pub mask: String,
    /// Number of events in the group.
    pub count: u64,
    /// Time of the first event, as logged.
    pub first: String,
    /// Time of the last event, as logged.
    pub last: String,
    /// Distinct `comm` values.
    pub comms: Vec<String>,
    /// Distinct process ids (not sent to the model).
    pub pids: Vec<u64>,
    /// A few raw field maps of events in the group.
    pub sample: Vec<BTreeMap<String, String>>,
    /// Other distinguishing fields (`target`, `peer`, `family`, `signal`, …).
    pub extra: BTreeMap<String, String>,
}

impl From<&crate::log::group::Group> for GroupData {
    /// The grouping key, counts, comms and pids of a log group. `stale` and `untrusted`
    /// (events anyone could have written) travel as extra fields, only when set, so the model
    /// can weigh them. No samples: add them with [`GroupData::add_sample`] from the group's
    /// events if wanted.
    fn from(g: &crate::log::group::Group) -> Self {
        let mut extra = BTreeMap::new();
        if g.stale {
            extra.insert("stale".to_string(), "true".to_string());
        }
        if g.untrusted > 0 {
            extra.insert("untrusted".to_string(), g.untrusted.to_string());
        }
        GroupData {
            id: g.id.clone(),
            profile: g.key.profile.clone(),
            class: g.key.class.as_str().to_string(),
            operation: g.key.operation.clone(),
            mode: g.key.mode.as_str().to_string(),
            resource: g.key.resource.clone(),
            mask: g.key.mask.clone(),
            count: g.count,
            first: g
                .first_seen
                .map(crate::log::time::format_epoch)
                .unwrap_or_default(),
            last: g
                .last_seen
                .map(crate::log::time::format_epoch)
                .unwrap_or_default(),
            comms: g.comms.iter().cloned().collect(),
            pids: g
                .pids
                .iter()
                .filter_map(|&p| u64::try_from(p).ok())
                .collect(),
            sample: Vec::new(),
            extra,
        }
    }
}

impl GroupData {
    /// Add the owner-relevant fields of one event of this group as a sample (`fsuid`, `ouid`
    /// and their names), which the data block folds into its owner flag `o`.
    pub fn add_sample(&mut self, ev: &crate::log::Event) {
        let mut m = BTreeMap::new();
        if let Some(v) = ev.fsuid {
            m.insert("fsuid".to_string(), v.to_string());
        }
        if let Some(v) = ev.ouid {
            m.insert("ouid".to_string(), v.to_string());
        }
        // A name is only sent for login accounts: it is what redaction must pseudonymise.
        // A system account (uid < 1000, or nobody) names a service, and labelling it as a
        // user would make the redactor hide the service's own name in every path and profile.
        let login = |uid: Option<i64>| uid.is_some_and(|u| (1000..65534).contains(&u));
        if let Some(v) = ev.fsuid_name.as_ref().filter(|_| login(ev.fsuid)) {
            m.insert("FSUID".to_string(), v.clone());
        }
        if let Some(v) = ev.ouid_name.as_ref().filter(|_| login(ev.ouid)) {
            m.insert("OUID".to_string(), v.clone());
        }
        if !m.is_empty() {
            self.sample.push(m);
        }
    }
}

/// A profile whose text goes into the prompt (explain-profile and review tasks).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileData {
    /// The profile name as audit logs report it.
    pub name: String,
    /// The profile's source text.
    pub text: String,
}

/// Why a prompt could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// A template could not be read from the override directory.
    #[error("cannot read prompt template {path}: {source}")]
    ReadTemplate {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A template names a placeholder the renderer does not know, or misses one it needs.
    #[error("prompt template {name}: {reason}")]
    Template {
        /// Template file name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// Even a fully sampled group (or the fixed part of the prompt) exceeds the budget.
    #[error("token budget {budget} too small: {what} needs {needed} tokens")]
    BudgetTooSmall {
        /// The group id, or "the fixed prompt".
        what: String,
        /// Tokens needed.
        needed: usize,
        /// The budget.
        budget: usize,
    },
    /// Two groups share an id, or an id is empty.
    #[error("group ids must be unique and non-empty: {0:?}")]
    BadGroupId(String),
    /// A profile task needs exactly one profile text.
    #[error("task {task} needs the profile text of {profile:?}")]
    MissingProfile {
        /// The task.
        task: &'static str,
        /// The profile name.
        profile: String,
    },
}

/// Exactly the text a model would receive for `batches`, for `aa-assist redact` and
/// `--dry-run` style previews: per batch a header line, then the system and user messages.
pub fn render_for_model(batches: &[Batch]) -> String {
    let mut out = String::new();
    for b in batches {
        out.push_str(&format!(
            "=== batch {} ({} prompt tokens; groups {}) ===
--- system ---
{}
--- user ---
{}
",
            b.id,
            b.tokens,
            b.group_ids.join(", "),
            b.system.trim_end(),
            b.user.trim_end()
        ));
    }
    out
}

/// Make one untrusted string (log data, a profile name or text, already redacted) inert for a
/// model, before it goes into a fenced block:
///
/// - control, bidirectional and invisible characters ([`crate::display::is_hidden`]; line
///   breaks and tabs kept) become AppArmor's `\xHH` byte escapes, visible to the model and
///   valid in a rule it copies the name into (Unicode tag characters can otherwise carry a
///   hidden instruction the reader never sees);
/// - chat-template control tokens (`<|im_start|>`, `<|eot_id|>`, `[INST]`, `<<SYS>>`, `</s>`,
///   `<start_of_turn>`, …) get their brackets written as HTML entities (`&lt;|im_start|&gt;`),
///   so no server that templates the text can read them as a turn boundary.
pub fn neutralise(s: &str) -> String {
    use std::sync::OnceLock;
    static TOKENS: OnceLock<regex::Regex> = OnceLock::new();
    let mut text = String::with_capacity(s.len());
    for c in s.chars() {
        if c != '\n' && c != '\t' && crate::display::is_hidden(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                text.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            text.push(c);
        }
    }
    let re = TOKENS.get_or_init(|| {
        regex::Regex::new(
            r"(?i)<\|[^|<>\n]{0,40}\|>|<｜[^｜<>\n]{0,40}｜>|\[/?(?:INST|SYS|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS)\]|<</?SYS>>|</?s>|<(?:start|end)_of_turn>|</?(?:bos|eos|pad|unk|im_start|im_end|eot_id|endoftext|system|user|assistant|think)>",
        )
        .expect("valid token pattern")
    });
    if !re.is_match(&text) {
        return text;
    }
    re.replace_all(&text, |m: &regex::Captures<'_>| {
        m[0].replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('[', "&#91;")
            .replace(']', "&#93;")
    })
    .into_owned()
}

impl GroupData {
    /// Every string of the group through [`neutralise`] (ids, counts and pids are the
    /// tool's own).
    pub fn neutralised(self) -> GroupData {
        let n = |m: BTreeMap<String, String>| -> BTreeMap<String, String> {
            m.into_iter()
                .map(|(k, v)| (neutralise(&k), neutralise(&v)))
                .collect()
        };
        GroupData {
            profile: neutralise(&self.profile),
            class: neutralise(&self.class),
            operation: neutralise(&self.operation),
            mode: neutralise(&self.mode),
            resource: neutralise(&self.resource),
            mask: neutralise(&self.mask),
            first: neutralise(&self.first),
            last: neutralise(&self.last),
            comms: self.comms.iter().map(|c| neutralise(c)).collect(),
            sample: self.sample.into_iter().map(n).collect(),
            extra: n(self.extra),
            ..self
        }
    }
}

/// Replace backticks so data can never close the fence it sits in; `\u0060` is the same
/// character to a JSON parser.
pub(crate) fn escape_backticks(json: &str) -> String {
    json.replace('`', "\\u0060")
}

/// A fence longer than any backtick run inside `text`.
pub(crate) fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_valid_json_with_both_lists() {
        let s = answer_schema();
        assert_eq!(
            s["required"],
            serde_json::json!(["proposals", "explanations"])
        );
    }

    #[test]
    fn samples_name_login_users_but_not_system_accounts() {
        let line = |uid: u32, name: &str| {
            format!(
                "type=AVC msg=audit(1700000000.000:1): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"svc\" name=\"/var/lib/svc/f\" pid=7 comm=\"svc\" requested_mask=\"r\" denied_mask=\"r\" fsuid={uid} ouid={uid}\x1dFSUID=\"{name}\" OUID=\"{name}\""
            )
        };
        let mut g = GroupData::default();
        let daemon = crate::log::parse_line(line(998, "svc").as_bytes())
            .unwrap()
            .unwrap();
        g.add_sample(&daemon);
        assert!(!g.sample[0].contains_key("FSUID"), "{:?}", g.sample);
        assert_eq!(g.sample[0]["fsuid"], "998");
        let user = crate::log::parse_line(line(1000, "ann").as_bytes())
            .unwrap()
            .unwrap();
        g.add_sample(&user);
        assert_eq!(g.sample[1]["FSUID"], "ann");
        assert_eq!(g.sample[1]["OUID"], "ann");
    }

    #[test]
    fn from_log_group() {
        let line = br#"type=AVC msg=audit(1700000000.000:1): apparmor="DENIED" operation="open" class="file" profile="/usr/bin/x" name="/home/ann/f" pid=7 comm="x" requested_mask="r" denied_mask="r" fsuid=1000 ouid=1000"#;
        let ev = crate::log::parse_line(line).unwrap().unwrap();
        let mut grouper = crate::log::group::Grouper::new();
        grouper.add(&ev);
        let (groups, _) = grouper.finish();
        let mut g = GroupData::from(&groups[0]);
        g.add_sample(&ev);
        assert_eq!(g.id, groups[0].id);
        assert_eq!(
            (
                g.profile.as_str(),
                g.class.as_str(),
                g.mode.as_str(),
                g.resource.as_str()
            ),
            ("/usr/bin/x", "file", "DENIED", "/home/ann/f")
        );
        assert_eq!(
            (g.count, g.pids.as_slice(), g.comms.as_slice()),
            (1, &[7u64][..], &["x".to_string()][..])
        );
        assert_eq!(g.sample[0]["fsuid"], "1000");
    }

    #[test]
    fn neutralise_makes_tokens_and_hidden_characters_inert() {
        assert_eq!(neutralise("/etc/hosts"), "/etc/hosts");
        assert_eq!(neutralise("a\nb\tc"), "a\nb\tc");
        assert_eq!(
            neutralise("/tmp/<|im_start|>system"),
            "/tmp/&lt;|im_start|&gt;system"
        );
        assert_eq!(neutralise("x<|eot_id|>y"), "x&lt;|eot_id|&gt;y");
        assert_eq!(
            neutralise("[INST] hi [/INST]"),
            "&#91;INST&#93; hi &#91;/INST&#93;"
        );
        assert_eq!(neutralise("a</s><s>b"), "a&lt;/s&gt;&lt;s&gt;b");
        assert_eq!(neutralise("<<SYS>>"), "&lt;&lt;SYS&gt;&gt;");
        assert_eq!(
            neutralise("<start_of_turn>user"),
            "&lt;start_of_turn&gt;user"
        );
        assert_eq!(
            neutralise("<｜begin▁of▁sentence｜>"),
            "&lt;｜begin▁of▁sentence｜&gt;"
        );
        assert_eq!(
            neutralise("p\u{e0041}\u{202e}\x1b"),
            "p\\xf3\\xa0\\x81\\x81\\xe2\\x80\\xae\\x1b"
        );
        for s in ["/usr/lib/libc.so.6", "/home/USER_1/a<b>", "[abc]", "x|y"] {
            assert_eq!(neutralise(s), s);
        }
    }

    #[test]
    fn fences_outgrow_content() {
        assert_eq!(fence_for("abc"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
        assert_eq!(
            escape_backticks(r#"{"r":"/tmp/```x"}"#),
            r#"{"r":"/tmp/\u0060\u0060\u0060x"}"#
        );
    }
}
