//! Packing groups into batches under a token budget, and rendering each batch's messages.
//!
//! Rules: groups of one profile stay in one batch unless that profile alone exceeds the
//! budget; a group never splits across batches; a group too large on its own is sampled
//! (fewer samples, fewer extra fields, shortened strings, `"trunc":true`, its count kept)
//! until it fits, or the plan fails with [`PromptError::BudgetTooSmall`]. Every batch's
//! rendered system + user messages are counted after rendering and never exceed the budget.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{
    escape_backticks, fence_for, neutralise, GroupData, ProfileData, PromptError, Task,
    TemplateName, Templates, TokenCounter,
};
use crate::redact::Redactor;

/// Settings for [`Planner`].
#[derive(Debug, Clone)]
pub struct PlannerOptions {
    /// The task the prompts ask for.
    pub task: Task,
    /// Maximum prompt tokens (system + user + message overhead) per batch.
    pub max_prompt_tokens: usize,
    /// Raw sample field maps to include per group (before sampling cuts them).
    pub max_samples: usize,
    /// `max_tokens` each request will ask for (used for the cost estimate).
    pub max_completion_tokens: u32,
}

impl Default for PlannerOptions {
    fn default() -> Self {
        PlannerOptions {
            task: Task::Draft,
            max_prompt_tokens: 16_000,
            max_samples: 1,
            max_completion_tokens: 4_096,
        }
    }
}

/// One request's worth of groups, rendered and redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Batch {
    /// `B1`, `B2`, ….
    pub id: String,
    /// The task.
    pub task: Task,
    /// Real names of the profiles whose groups are in this batch.
    pub profiles: Vec<String>,
    /// The same names as the model sees them (redacted).
    pub sent_profiles: Vec<String>,
    /// Group ids in this batch, in order.
    pub group_ids: Vec<String>,
    /// Ids of groups that had to be sampled to fit.
    pub sampled: Vec<String>,
    /// The rendered system message.
    pub system: String,
    /// The rendered user message.
    pub user: String,
    /// Prompt tokens of this batch (system + user + overhead).
    pub tokens: usize,
}

/// What an answer to a batch may refer to; used to validate answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchContext {
    /// The batch id.
    pub batch_id: String,
    /// Ids the model may cite (groups, and `P1` for profile tasks).
    pub group_ids: Vec<String>,
    /// Profile names as sent (redacted).
    pub profiles: Vec<String>,
}

impl Batch {
    /// The validation context for answers to this batch.
    pub fn context(&self) -> BatchContext {
        let mut ids = self.group_ids.clone();
        if self.task.needs_profile_text() {
            ids.push("P1".to_string());
        }
        BatchContext {
            batch_id: self.id.clone(),
            group_ids: ids,
            profiles: self.sent_profiles.clone(),
        }
    }
}

/// Tokens and money a plan will cost, shown before anything is sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Number of requests.
    pub batches: usize,
    /// Sum of prompt tokens.
    pub prompt_tokens: usize,
    /// Upper bound of completion tokens (`max_tokens` × batches).
    pub max_completion_tokens: u64,
    /// Upper bound in US dollars, when the model's price is known.
    pub max_cost_usd: Option<f64>,
}

impl Estimate {
    /// Estimate for `batches` given a price per million (input, output) tokens.
    pub fn new(batches: &[Batch], max_completion_tokens: u32, price: Option<(f64, f64)>) -> Self {
        let prompt_tokens: usize = batches.iter().map(|b| b.tokens).sum();
        let completion = u64::from(max_completion_tokens) * batches.len() as u64;
        Estimate {
            batches: batches.len(),
            prompt_tokens,
            max_completion_tokens: completion,
            max_cost_usd: price
                .map(|(i, o)| (prompt_tokens as f64 * i + completion as f64 * o) / 1_000_000.0),
        }
    }
}

/// The compact form of a group in the data block. Short keys, nothing empty.
#[derive(Serialize)]
struct Compact<'a> {
    id: &'a str,
    p: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    cl: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    op: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    m: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    r: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    mk: &'a str,
    n: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    c: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    o: Option<u8>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    x: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    s: Vec<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    trunc: bool,
}

/// Sample keys that the compact form already carries or that only cost tokens.
const NOISE_KEYS: &[&str] = &[
    "type",
    "msg",
    "audit",
    "timestamp",
    "time",
    "apparmor",
    "profile",
    "operation",
    "name",
    "requested_mask",
    "denied_mask",
    "requested",
    "denied",
    "comm",
    "pid",
    "ppid",
    "class",
    "info",
    "error",
    "ses",
    "auid",
    "uid",
    "node",
    "hostname",
    "capname",
    "capability",
    "_raw",
    "raw",
    "line",
    "file",
    "fsuid",
    "ouid",
];

/// Whether the process owned the object in every sample that says (fsuid = ouid): the one
/// thing the `owner` qualifier needs, in 5 tokens instead of four fields.
fn owner_flag(g: &GroupData) -> Option<u8> {
    if !(g.class.is_empty() || g.class == "file") {
        return None;
    }
    let mut seen = None;
    for m in &g.sample {
        let get = |k: &str| {
            m.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        if let (Some(f), Some(o)) = (get("fsuid"), get("ouid")) {
            if f != o {
                return Some(0);
            }
            seen = Some(1);
        }
    }
    seen
}

/// How hard a group is cut to fit: (samples, extra fields, string length, comms).
const LEVELS: [(usize, usize, usize, usize); 4] = [
    (usize::MAX, usize::MAX, 512, 3),
    (0, 6, 160, 2),
    (0, 2, 96, 1),
    (0, 0, 64, 1),
];

fn cut(s: &str, max: usize) -> (String, bool) {
    if s.chars().count() <= max {
        return (s.to_string(), false);
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    (out, true)
}

fn short_mode(mode: &str) -> String {
    match mode {
        "DENIED" => "D".to_string(),
        "ALLOWED" => "A".to_string(),
        other => other.to_string(),
    }
}

/// Redact every string of a group (the caller has already let the redactor learn them all).
fn redact_group(g: &GroupData, red: &mut Redactor) -> GroupData {
    GroupData {
        id: g.id.clone(),
        profile: red.redact_str(&g.profile),
        class: red.redact_str(&g.class),
        operation: red.redact_str(&g.operation),
        mode: red.redact_str(&g.mode),
        resource: red.redact_str(&g.resource),
        mask: red.redact_str(&g.mask),
        count: g.count,
        first: red.redact_str(&g.first),
        last: red.redact_str(&g.last),
        comms: g.comms.iter().map(|c| red.redact_str(c)).collect(),
        pids: g.pids.clone(),
        sample: g
            .sample
            .iter()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (red.redact_str(k), red.redact_field(k, v)))
                    .collect()
            })
            .collect(),
        extra: g
            .extra
            .iter()
            .map(|(k, v)| (red.redact_str(k), red.redact_field(k, v)))
            .collect(),
    }
}

/// Let the redactor learn every value of a group.
fn learn_group(g: &GroupData, red: &mut Redactor) {
    for s in [
        &g.profile,
        &g.class,
        &g.operation,
        &g.mode,
        &g.resource,
        &g.mask,
        &g.first,
        &g.last,
    ] {
        red.learn_str(s);
    }
    for c in &g.comms {
        red.learn_str(c);
    }
    for (k, v) in g.sample.iter().flatten().chain(g.extra.iter()) {
        red.learn_str(k);
        red.learn_field(k, v);
    }
}

/// Render one (already redacted) group as a compact JSON line at a sampling level.
fn compact_line(g: &GroupData, level: usize, max_samples: usize) -> String {
    let (samples, extras, len, comms) = LEVELS[level.min(LEVELS.len() - 1)];
    let mut trunc = level > 0;
    let (r, t) = cut(&g.resource, len);
    trunc |= t;
    let c: Vec<String> = g.comms.iter().take(comms).map(|c| cut(c, 32).0).collect();
    trunc |= g.comms.len() > comms && level > 0;
    let mut x = BTreeMap::new();
    for (k, v) in g.extra.iter().take(extras) {
        let (v, t) = cut(v, len);
        trunc |= t;
        x.insert(k.clone(), v);
    }
    trunc |= g.extra.len() > extras;
    let mut s = Vec::new();
    for m in g.sample.iter().take(samples.min(max_samples)) {
        let mut kept = BTreeMap::new();
        for (k, v) in m {
            if NOISE_KEYS.contains(&k.to_ascii_lowercase().as_str()) || g.extra.contains_key(k) {
                continue;
            }
            let (v, t) = cut(v, 96);
            trunc |= t;
            kept.insert(k.clone(), v);
        }
        if !kept.is_empty() {
            s.push(kept);
        }
    }
    let compact = Compact {
        id: &g.id,
        p: &g.profile,
        cl: &g.class,
        op: &g.operation,
        m: short_mode(&g.mode),
        r,
        mk: &g.mask,
        n: g.count,
        c,
        o: owner_flag(g),
        x,
        s,
        trunc: trunc && level > 0,
    };
    let json = serde_json::to_string(&compact).expect("a map of strings always serializes");
    escape_backticks(&json)
}

/// Builds batches for one task.
#[derive(Debug, Clone)]
pub struct Planner {
    templates: Templates,
    counter: TokenCounter,
    options: PlannerOptions,
}

struct Item {
    id: String,
    profile_idx: usize,
    line: String,
    tokens: usize,
    sampled: bool,
}

impl Planner {
    /// A planner using `templates`, counting tokens with `counter`.
    pub fn new(templates: Templates, counter: TokenCounter, options: PlannerOptions) -> Self {
        Planner {
            templates,
            counter,
            options,
        }
    }

    /// The token counter in use.
    pub fn counter(&self) -> &TokenCounter {
        &self.counter
    }

    /// The options in use.
    pub fn options(&self) -> &PlannerOptions {
        &self.options
    }

    /// Split `groups` into batches. `profiles` supplies profile texts for the
    /// explain-profile and review tasks (ignored otherwise). All text is redacted with `red`,
    /// which first learns every value so that pseudonyms are consistent across batches.
    pub fn plan(
        &self,
        groups: &[GroupData],
        profiles: &[ProfileData],
        red: &mut Redactor,
    ) -> Result<Vec<Batch>, PromptError> {
        let mut seen = BTreeSet::new();
        for g in groups {
            if g.id.is_empty() || !seen.insert(g.id.as_str()) || g.id == "P1" {
                return Err(PromptError::BadGroupId(g.id.clone()));
            }
        }
        // Learn first, then redact: a user name revealed by a late FSUID= is hidden everywhere.
        for g in groups {
            learn_group(g, red);
        }
        for p in profiles {
            red.learn_str(&p.name);
            red.learn_str(&p.text);
        }
        let redacted: Vec<GroupData> = groups
            .iter()
            .map(|g| redact_group(g, red).neutralised())
            .collect();

        // Profiles in order of first appearance.
        let mut names: Vec<String> = Vec::new();
        for g in groups {
            if !names.contains(&g.profile) {
                names.push(g.profile.clone());
            }
        }
        if self.options.task.needs_profile_text() {
            for p in profiles {
                if !names.contains(&p.name) {
                    names.push(p.name.clone());
                }
            }
        }
        let sent_names: Vec<String> = names
            .iter()
            .map(|n| neutralise(&red.redact_str(n)))
            .collect();
        let texts: Vec<Option<String>> = names
            .iter()
            .map(|n| {
                profiles
                    .iter()
                    .find(|p| &p.name == n)
                    .map(|p| neutralise(&red.redact_str(&p.text)))
            })
            .collect();
        if self.options.task.needs_profile_text() {
            if let Some(i) = texts.iter().position(Option::is_none) {
                return Err(PromptError::MissingProfile {
                    task: self.options.task.name(),
                    profile: names[i].clone(),
                });
            }
        }

        let budget = self.options.max_prompt_tokens;
        let mut items_by_profile: Vec<Vec<Item>> = names.iter().map(|_| Vec::new()).collect();
        let mut fixed_by_profile: BTreeMap<usize, usize> = BTreeMap::new();
        for g in &redacted {
            let pi = sent_names.iter().position(|n| n == &g.profile).unwrap_or(0);
            let fixed = match fixed_by_profile.get(&pi) {
                Some(f) => *f,
                None => {
                    let f = self.fixed_tokens(&[pi], &sent_names, &texts)?;
                    fixed_by_profile.insert(pi, f);
                    f
                }
            };
            let mut level = 0;
            loop {
                let line = compact_line(g, level, self.options.max_samples);
                let tokens = self.counter.count(&format!("{line},\n"));
                if fixed + tokens <= budget {
                    items_by_profile[pi].push(Item {
                        id: g.id.clone(),
                        profile_idx: pi,
                        line,
                        tokens,
                        sampled: level > 0,
                    });
                    break;
                }
                level += 1;
                if level >= LEVELS.len() {
                    return Err(PromptError::BudgetTooSmall {
                        what: format!("group {}", g.id),
                        needed: fixed + tokens,
                        budget,
                    });
                }
            }
        }

        // Greedy packing by profile.
        let mut plans: Vec<Vec<Item>> = Vec::new();
        let mut current: Vec<Item> = Vec::new();
        let mut current_profiles: Vec<usize> = Vec::new();
        let one_profile = self.options.task.needs_profile_text();
        for (pi, items) in items_by_profile.into_iter().enumerate() {
            if items.is_empty() && !one_profile {
                continue;
            }
            let chunk: usize = items.iter().map(|i| i.tokens).sum();
            let mut with = current_profiles.clone();
            with.push(pi);
            let cur: usize = current.iter().map(|i| i.tokens).sum();
            let fits_current = !one_profile
                && !current.is_empty()
                && self.fixed_tokens(&with, &sent_names, &texts)? + cur + chunk <= budget;
            if fits_current {
                current.extend(items);
                current_profiles.push(pi);
                continue;
            }
            if !current.is_empty() || (one_profile && !current_profiles.is_empty()) {
                plans.push(std::mem::take(&mut current));
                current_profiles.clear();
            }
            let fixed = self.fixed_tokens(&[pi], &sent_names, &texts)?;
            if one_profile && items.is_empty() {
                if fixed > budget {
                    return Err(PromptError::BudgetTooSmall {
                        what: format!("profile {}", names[pi]),
                        needed: fixed,
                        budget,
                    });
                }
                plans.push(Vec::new());
                continue;
            }
            // Fill batches for this profile, one group at a time.
            current_profiles.push(pi);
            let mut used = fixed;
            for item in items {
                if used + item.tokens > budget && !current.is_empty() {
                    plans.push(std::mem::take(&mut current));
                    used = fixed;
                }
                used += item.tokens;
                current.push(item);
            }
        }
        if !current.is_empty() {
            plans.push(current);
        }

        // Render, verify against the budget, split where the estimate was too low.
        let mut batches = Vec::new();
        let mut queue: std::collections::VecDeque<Vec<Item>> = plans.into();
        while let Some(mut items) = queue.pop_front() {
            let mut carry: Vec<Item> = Vec::new();
            loop {
                let (system, user, profile_idx) =
                    self.render(&items, &sent_names, &texts, one_profile)?;
                let tokens = self.counter.count_chat(&system, &user);
                if tokens <= budget || items.len() <= 1 {
                    if tokens > budget {
                        return Err(PromptError::BudgetTooSmall {
                            what: items
                                .first()
                                .map(|i| format!("group {}", i.id))
                                .unwrap_or_else(|| "the fixed prompt".to_string()),
                            needed: tokens,
                            budget,
                        });
                    }
                    if !carry.is_empty() {
                        carry.reverse();
                        queue.push_front(carry);
                    }
                    let id = format!("B{}", batches.len() + 1);
                    batches.push(Batch {
                        id,
                        task: self.options.task,
                        profiles: profile_idx.iter().map(|&i| names[i].clone()).collect(),
                        sent_profiles: profile_idx.iter().map(|&i| sent_names[i].clone()).collect(),
                        group_ids: items.iter().map(|i| i.id.clone()).collect(),
                        sampled: items
                            .iter()
                            .filter(|i| i.sampled)
                            .map(|i| i.id.clone())
                            .collect(),
                        system,
                        user,
                        tokens,
                    });
                    break;
                }
                // The estimate was low (tokens counted apart can merge when joined): move
                // the last profile's groups to a batch right after this one, so that a
                // profile that fits in a batch of its own is not split; a batch of one
                // profile gives up its last group.
                let last = items.last().map(|i| i.profile_idx);
                let several = items.iter().any(|i| Some(i.profile_idx) != last);
                while let Some(item) = items.pop() {
                    let next = items.last().map(|i| i.profile_idx);
                    carry.push(item);
                    if !several || next != last {
                        break;
                    }
                }
            }
        }
        Ok(batches)
    }

    /// Tokens of a batch with the given profiles and no groups.
    fn fixed_tokens(
        &self,
        profile_idx: &[usize],
        sent_names: &[String],
        texts: &[Option<String>],
    ) -> Result<usize, PromptError> {
        let (system, user) = self.render_parts(profile_idx, sent_names, texts, &[])?;
        Ok(self.counter.count_chat(&system, &user))
    }

    fn render(
        &self,
        items: &[Item],
        sent_names: &[String],
        texts: &[Option<String>],
        one_profile: bool,
    ) -> Result<(String, String, Vec<usize>), PromptError> {
        let mut idx: Vec<usize> = Vec::new();
        for i in items {
            if !idx.contains(&i.profile_idx) {
                idx.push(i.profile_idx);
            }
        }
        if idx.is_empty() && one_profile {
            // A profile task with no groups: the profile is the one without groups, in order.
            idx.push(0);
        }
        let lines: Vec<&str> = items.iter().map(|i| i.line.as_str()).collect();
        let (s, u) = self.render_parts(&idx, sent_names, texts, &lines)?;
        Ok((s, u, idx))
    }

    fn render_parts(
        &self,
        profile_idx: &[usize],
        sent_names: &[String],
        texts: &[Option<String>],
        lines: &[&str],
    ) -> Result<(String, String), PromptError> {
        let system = self
            .templates
            .render(TemplateName::System, &BTreeMap::new())?;
        let names: Vec<&String> = profile_idx
            .iter()
            .filter_map(|&i| sent_names.get(i))
            .collect();
        let mut values = BTreeMap::new();
        // Profile names come from the log: inside a fence, like all other data.
        values.insert(
            "profiles",
            format!(
                "```json\n{}\n```",
                escape_backticks(&serde_json::to_string(&names).expect("strings serialize"))
            ),
        );
        let data = if lines.is_empty() {
            "[]".to_string()
        } else {
            format!("[\n{}\n]", lines.join(",\n"))
        };
        values.insert("data", format!("```json\n{data}\n```"));
        if self.options.task.needs_profile_text() {
            let text = profile_idx
                .first()
                .and_then(|&i| texts.get(i).cloned().flatten())
                .unwrap_or_default();
            let fence = fence_for(&text);
            values.insert("profile_text", format!("{fence}apparmor\n{text}\n{fence}"));
        }
        let user = self
            .templates
            .render(self.options.task.template(), &values)?;
        Ok((system, user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::RedactConfig;

    fn group(id: &str, profile: &str, path: &str) -> GroupData {
        GroupData {
            id: id.into(),
            profile: profile.into(),
            class: "file".into(),
            operation: "open".into(),
            mode: "DENIED".into(),
            resource: path.into(),
            mask: "r".into(),
            count: 3,
            comms: vec!["svc".into()],
            ..GroupData::default()
        }
    }

    fn planner(budget: usize) -> Planner {
        Planner::new(
            Templates::default(),
            TokenCounter::for_model("gpt-4o-mini"),
            PlannerOptions {
                max_prompt_tokens: budget,
                ..PlannerOptions::default()
            },
        )
    }

    #[test]
    fn one_batch_when_it_fits() {
        let groups = vec![
            group("G1", "/usr/bin/a", "/etc/a"),
            group("G2", "/usr/bin/b", "/etc/b"),
        ];
        let mut red = Redactor::new(RedactConfig::default());
        let b = planner(4000).plan(&groups, &[], &mut red).unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].group_ids, ["G1", "G2"]);
        assert_eq!(b[0].profiles, ["/usr/bin/a", "/usr/bin/b"]);
        assert!(b[0].user.contains(r#"{"id":"G1","p":"/usr/bin/a","cl":"file","op":"open","m":"D","r":"/etc/a","mk":"r","n":3,"c":["svc"]}"#), "{}", b[0].user);
    }

    #[test]
    fn profiles_stay_together_when_possible() {
        let mut groups = Vec::new();
        for i in 0..30 {
            let p = if i % 2 == 0 {
                "/usr/bin/a"
            } else {
                "/usr/bin/b"
            };
            groups.push(group(&format!("G{}", i + 1), p, &format!("/etc/file{i}")));
        }
        let mut red = Redactor::new(RedactConfig::default());
        let p = planner(1500);
        let b = p.plan(&groups, &[], &mut red).unwrap();
        assert_eq!(b.len(), 2, "{b:#?}");
        for batch in &b {
            assert_eq!(batch.profiles.len(), 1);
            assert!(batch.tokens <= 1500);
        }
    }

    #[test]
    fn oversized_group_is_sampled() {
        let mut g = group("G1", "/usr/bin/a", &"/x".repeat(3000));
        g.extra.insert("target".into(), "/y".repeat(500));
        let mut red = Redactor::new(RedactConfig::default());
        let b = planner(900).plan(&[g], &[], &mut red).unwrap();
        assert_eq!(b[0].sampled, ["G1"]);
        assert!(b[0].user.contains(r#""n":3"#) && b[0].user.contains(r#""trunc":true"#));
        assert!(b[0].tokens <= 900);
    }

    #[test]
    fn estimate_sums_tokens_and_prices() {
        let groups = vec![group("G1", "/usr/bin/a", "/etc/a")];
        let mut red = Redactor::new(RedactConfig::default());
        let b = planner(4000).plan(&groups, &[], &mut red).unwrap();
        let e = Estimate::new(&b, 1000, Some((1.0, 2.0)));
        assert_eq!(e.batches, 1);
        assert_eq!(e.prompt_tokens, b[0].tokens);
        assert_eq!(e.max_completion_tokens, 1000);
        let want = (b[0].tokens as f64 + 2000.0) / 1e6;
        assert!((e.max_cost_usd.unwrap() - want).abs() < 1e-12);
        assert_eq!(Estimate::new(&b, 1000, None).max_cost_usd, None);
    }

    #[test]
    fn tiny_budget_is_an_error() {
        let mut red = Redactor::new(RedactConfig::default());
        let err = planner(50)
            .plan(&[group("G1", "a", "/b")], &[], &mut red)
            .unwrap_err();
        assert!(matches!(err, PromptError::BudgetTooSmall { .. }), "{err}");
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let mut red = Redactor::new(RedactConfig::default());
        let g = group("G1", "a", "/b");
        let err = planner(4000)
            .plan(&[g.clone(), g], &[], &mut red)
            .unwrap_err();
        assert!(matches!(err, PromptError::BadGroupId(_)));
    }

    #[test]
    fn review_needs_profile_text_and_carries_it() {
        let mut red = Redactor::new(RedactConfig::default());
        let p = Planner::new(
            Templates::default(),
            TokenCounter::for_model("gpt-4o"),
            PlannerOptions {
                task: Task::Review,
                ..PlannerOptions::default()
            },
        );
        let g = group("G1", "/usr/bin/a", "/etc/a");
        assert!(p.plan(std::slice::from_ref(&g), &[], &mut red).is_err());
        let prof = ProfileData {
            name: "/usr/bin/a".into(),
            text: "profile /usr/bin/a {\n  /** rwx,\n}\n".into(),
        };
        let b = p.plan(&[g], &[prof], &mut red).unwrap();
        assert_eq!(b.len(), 1);
        assert!(b[0].user.contains("```apparmor\nprofile /usr/bin/a {"));
        assert!(b[0].context().group_ids.contains(&"P1".to_string()));
    }
}
