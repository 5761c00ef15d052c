//! The review loop: one card per checked proposal, one choice per card, one final
//! confirmation. See [`Session`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

use crate::check::{Checked, Severity, Verdict};
use crate::draft::{Alternative, Proposal, Source};

use super::decisions::{Decision, DecisionStore};
use super::rule_text::{self, Toggle};
use super::{apply_edits, render_diff, sanitize, Edit};

/// The terminal side of a review. The binary implements it with `dialoguer`; every text
/// handed to it is already sanitized.
pub trait Prompter {
    /// Show a block of text.
    fn show(&mut self, text: &str) -> io::Result<()>;
    /// Let the human pick one of `items`; `None` when they quit the prompt (Esc, `q`).
    fn select(
        &mut self,
        prompt: &str,
        items: &[String],
        default: usize,
    ) -> io::Result<Option<usize>>;
    /// Ask yes or no; `None` when they quit the prompt.
    fn confirm(&mut self, prompt: &str, default: bool) -> io::Result<Option<bool>>;
    /// Let the human edit `text` (in `$EDITOR`); `None` when they abandon the edit.
    fn edit(&mut self, text: &str) -> io::Result<Option<String>>;
    /// Whether diffs shown through this prompter should be coloured.
    fn color(&self) -> bool;
}

/// Re-judges a changed proposal (edited, toggled, or an alternative picked). Supplied by the
/// caller from the cross-check, so this module never second-guesses a verdict.
pub trait Recheck {
    /// The cross-check of `proposal`.
    fn recheck(&mut self, proposal: Proposal) -> Checked;
}

impl<F: FnMut(Proposal) -> Checked> Recheck for F {
    fn recheck(&mut self, proposal: Proposal) -> Checked {
        self(proposal)
    }
}

/// Places a rule into a file's text. Supplied by the caller (the profile editor for a
/// profile file, [`super::local::LocalApplier`] for a `local/` override).
pub trait Applier {
    /// The whole new text of the file with `rule` added to `profile`, or why it cannot be.
    fn apply(&self, text: &str, profile: &str, rule: &str) -> Result<String, String>;
}

/// What the log says about one event group, for display beside the proposals covering it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    /// One-line summary, e.g. `file open /var/lib/x/cache/1 (w) ×3`.
    pub summary: String,
    /// Raw log lines of the group's events (attacker-controlled; sanitized when shown).
    pub lines: Vec<String>,
}

/// How a [`Session`] behaves.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Ask about proposals even when a decision about them is remembered.
    pub ask_again: bool,
    /// The file name shown in prompts and the summary.
    pub file_label: String,
    /// At most this many log lines are shown per group.
    pub max_evidence_lines: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            ask_again: false,
            file_label: "the profile".into(),
            max_evidence_lines: 3,
        }
    }
}

/// A proposal that was not asked about, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The proposal.
    pub checked: Checked,
    /// Why it was not asked, e.g. `rejected before`.
    pub reason: String,
}

/// How a review ended. Nothing has been written: the caller validates and writes
/// `new_text` when `confirmed`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewOutcome {
    /// Approved changes, in order (each approved in this session).
    pub approved: Vec<Edit>,
    /// Proposals the human skipped in this session (as last shown).
    pub rejected: Vec<Checked>,
    /// Proposals not asked about.
    pub not_asked: Vec<Skipped>,
    /// The human quit: nothing may be written and no decision remembered.
    pub quit: bool,
    /// The human confirmed the final write.
    pub confirmed: bool,
    /// The new file text, when confirmed.
    pub new_text: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Approve,
    Alternative,
    Toggle(Toggle),
    Edit,
    Skip,
    Quit,
}

/// Drives the review of checked proposals against one file. See the module doc of
/// [`crate::review`].
pub struct Session<'a> {
    prompter: &'a mut dyn Prompter,
    recheck: &'a mut dyn Recheck,
    applier: &'a dyn Applier,
    base: &'a str,
    evidence: &'a BTreeMap<String, Evidence>,
    decisions: Option<&'a DecisionStore>,
    opts: SessionOptions,
}

impl<'a> Session<'a> {
    /// A session over the file text `base`.
    pub fn new(
        prompter: &'a mut dyn Prompter,
        recheck: &'a mut dyn Recheck,
        applier: &'a dyn Applier,
        base: &'a str,
        evidence: &'a BTreeMap<String, Evidence>,
    ) -> Session<'a> {
        Session {
            prompter,
            recheck,
            applier,
            base,
            evidence,
            decisions: None,
            opts: SessionOptions::default(),
        }
    }

    /// Use remembered decisions: remembered rejections are not asked again; approvals always
    /// are.
    pub fn with_decisions(mut self, decisions: &'a DecisionStore) -> Self {
        self.decisions = Some(decisions);
        self
    }

    /// Set the options.
    pub fn with_options(mut self, opts: SessionOptions) -> Self {
        self.opts = opts;
        self
    }

    /// Review `items` in order, then ask for one final confirmation.
    pub fn run(mut self, items: Vec<Checked>) -> io::Result<ReviewOutcome> {
        let mut out = ReviewOutcome::default();
        let total = items.len();
        for (n, item) in items.into_iter().enumerate() {
            let remembered = match (self.decisions, self.opts.ask_again) {
                (Some(d), false) => d.get(&item.proposal.profile, &item.proposal.rule),
                _ => None,
            };
            match remembered {
                Some(Decision::Rejected) => {
                    self.prompter.show(&format!(
                        "{} {}: rejected before, not asked again (--ask-again): {}\n",
                        item.proposal.id,
                        sanitize(&item.proposal.profile),
                        sanitize(&item.proposal.rule)
                    ))?;
                    out.not_asked.push(Skipped {
                        checked: item,
                        reason: "rejected before".into(),
                    });
                    continue;
                }
                // A remembered approval is asked again: only a rejection spares a question.
                Some(Decision::Approved) | None => {}
            }
            match self.review_one(item, n + 1, total)? {
                Step::Approved(c) => out.approved.push(Edit {
                    checked: c,
                    remembered: false,
                }),
                Step::Skipped(c) => out.rejected.push(c),
                Step::Quit => {
                    out.quit = true;
                    self.prompter
                        .show("Quit: nothing written, no decision remembered.\n")?;
                    return Ok(out);
                }
            }
        }
        self.finish(out)
    }

    fn finish(&mut self, mut out: ReviewOutcome) -> io::Result<ReviewOutcome> {
        let mut summary = String::from("\nSummary\n");
        for e in &out.approved {
            let _ = writeln!(
                summary,
                "  approved{} {} [{}] {}",
                if e.remembered { " (before)" } else { "" },
                e.checked.proposal.id,
                sanitize(e.profile()),
                sanitize(e.rule())
            );
        }
        for c in &out.rejected {
            let _ = writeln!(
                summary,
                "  skipped {} [{}] {}",
                c.proposal.id,
                sanitize(&c.proposal.profile),
                sanitize(&c.proposal.rule)
            );
        }
        for s in &out.not_asked {
            let _ = writeln!(
                summary,
                "  not asked ({}) {} {}",
                s.reason,
                s.checked.proposal.id,
                sanitize(&s.checked.proposal.rule)
            );
        }
        if out.approved.is_empty() {
            summary.push_str("Nothing approved: the file stays as it is.\n");
            self.prompter.show(&summary)?;
            return Ok(out);
        }
        let new_text = match apply_edits(self.applier, self.base, &out.approved) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(
                    summary,
                    "error: {}; nothing will be written.",
                    sanitize(&e.to_string())
                );
                self.prompter.show(&summary)?;
                return Ok(out);
            }
        };
        summary.push_str(&render_diff(self.base, &new_text, self.prompter.color()));
        self.prompter.show(&summary)?;
        let prompt = format!(
            "Write {} rule(s) to {}?",
            out.approved.len(),
            sanitize(&self.opts.file_label)
        );
        match self.prompter.confirm(&prompt, false)? {
            Some(true) => {
                out.confirmed = true;
                out.new_text = Some(new_text);
            }
            Some(false) => {
                self.prompter.show("Not written.\n")?;
            }
            None => {
                out.quit = true;
                self.prompter
                    .show("Quit: nothing written, no decision remembered.\n")?;
            }
        }
        Ok(out)
    }

    fn review_one(&mut self, item: Checked, n: usize, total: usize) -> io::Result<Step> {
        let mut current = item;
        loop {
            let placed =
                self.applier
                    .apply(self.base, &current.proposal.profile, &current.proposal.rule);
            let card = render_card(
                &current,
                self.base,
                placed.as_ref().map(String::as_str).map_err(String::as_str),
                self.evidence,
                (n, total),
                self.opts.max_evidence_lines,
                self.prompter.color(),
            );
            self.prompter.show(&card)?;
            let actions = menu(&current, placed.is_ok());
            let labels: Vec<String> = actions.iter().map(|a| label(*a).to_string()).collect();
            let default = default_action(&current, &actions);
            let picked = self.prompter.select(
                &format!("{}: what to do?", current.proposal.id),
                &labels,
                default,
            )?;
            let Some(action) = picked.and_then(|i| actions.get(i).copied()) else {
                return Ok(Step::Quit);
            };
            match action {
                Action::Approve => return Ok(Step::Approved(current)),
                Action::Skip => return Ok(Step::Skipped(current)),
                Action::Quit => return Ok(Step::Quit),
                Action::Alternative => {
                    let mut items: Vec<String> = current
                        .proposal
                        .alternatives
                        .iter()
                        .map(|a| format!("{}   ({})", sanitize(&a.rule), sanitize(&a.why)))
                        .collect();
                    items.push("back".into());
                    let back = items.len() - 1;
                    match self.prompter.select("Pick an alternative", &items, 0)? {
                        Some(i) if i < back => {
                            let p = with_alternative(&current.proposal, i);
                            current = self.recheck.recheck(p);
                        }
                        _ => {}
                    }
                }
                Action::Toggle(t) => {
                    let mut p = current.proposal.clone();
                    p.rule = rule_text::toggle(&p.rule, t);
                    current = self.recheck.recheck(p);
                }
                Action::Edit => {
                    let template = format!(
                        "{}\n# Edit the rule above (one rule, ending with ','). Lines starting \
                         with '#' are ignored; an empty rule abandons the edit.\n",
                        current.proposal.rule
                    );
                    let Some(edited) = self.prompter.edit(&template)? else {
                        continue;
                    };
                    let lines: Vec<&str> = edited
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .collect();
                    match lines.as_slice() {
                        [] => {}
                        [rule] => {
                            let mut p = current.proposal.clone();
                            p.rule = (*rule).to_string();
                            p.source = Source::Human;
                            current = self.recheck.recheck(p);
                        }
                        _ => self
                            .prompter
                            .show("One rule per proposal, please: the edit was not taken.\n")?,
                    }
                }
            }
        }
    }
}

/// Render one proposal as shown to the reviewer: a header with id, profile, source and
/// verdict; `help:` with the rule; the line-numbered diff of the file (`placed` is the file's
/// text with the rule added, or why it cannot be placed); the evidence (group summaries and
/// up to `max_lines` raw log lines each); unsupported claims; findings; over-grant notes.
/// Every untrusted string is [`sanitize`]d.
pub fn render_card(
    c: &Checked,
    base: &str,
    placed: Result<&str, &str>,
    evidence: &BTreeMap<String, Evidence>,
    position: (usize, usize),
    max_lines: usize,
    color: bool,
) -> String {
    let (n, total) = position;
    let p = &c.proposal;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n── {} ({n}/{total}) · profile {} · from the {} · verdict: {}",
        p.id,
        sanitize(&p.profile),
        match p.source {
            Source::Drafter => "drafter",
            Source::Model => "model",
            Source::Human => "reviewer",
        },
        match c.verdict {
            Verdict::Ok => "ok",
            Verdict::Review => "review",
            Verdict::Blocked => "BLOCKED (cannot be approved as is; edit or skip)",
        }
    );
    let _ = writeln!(s, "help: add `{}`", sanitize(&p.rule));
    match placed {
        Ok(new) => s.push_str(&render_diff(base, new, color)),
        Err(e) => {
            let _ = writeln!(s, "error: cannot place this rule: {}", sanitize(e));
        }
    }
    if c.covers.is_empty() {
        s.push_str("evidence: none — the rule covers no observed event\n");
    } else {
        s.push_str("evidence:\n");
        for g in &c.covers {
            let ev = evidence.get(g);
            let summary = ev.map_or("", |e| e.summary.as_str());
            let _ = writeln!(s, "  {g}: {}", sanitize(summary));
            if let Some(e) = ev {
                for line in e.lines.iter().take(max_lines) {
                    let _ = writeln!(s, "    | {}", sanitize(line));
                }
                if e.lines.len() > max_lines {
                    let _ = writeln!(s, "    | … {} more", e.lines.len() - max_lines);
                }
            }
        }
    }
    if !c.partial.is_empty() {
        let _ = writeln!(
            s,
            "partly covers (another rule must cover the rest): {}",
            sanitize(&c.partial.join(", "))
        );
    }
    if !c.unsupported_claims.is_empty() {
        let _ = writeln!(
            s,
            "claimed but not covered: {}",
            sanitize(&c.unsupported_claims.join(", "))
        );
    }
    for f in &c.findings {
        let sev = match f.severity {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        let _ = writeln!(s, "{sev}[{}]: {}", sanitize(&f.code), sanitize(&f.message));
    }
    if !c.extra_perms.is_empty() {
        let _ = writeln!(
            s,
            "note: grants permissions never observed: {}",
            sanitize(&c.extra_perms.join(", "))
        );
    }
    if !c.extra_paths.is_empty() {
        let _ = writeln!(
            s,
            "note: also opens {} other path(s), e.g. {}",
            c.extra_path_count,
            sanitize(
                &c.extra_paths
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        );
    }
    for a in &p.alternatives {
        let _ = writeln!(
            s,
            "alternative: `{}` ({})",
            sanitize(&a.rule),
            sanitize(&a.why)
        );
    }
    if let Some(r) = &p.rationale {
        let _ = writeln!(s, "rationale: {}", sanitize(r));
    }
    s
}

enum Step {
    Approved(Checked),
    Skipped(Checked),
    Quit,
}

/// The choices for a card. Skip and quit are always the last two, so keyboard users (and
/// tests) can reach them from the top by going up.
fn menu(c: &Checked, placeable: bool) -> Vec<Action> {
    let rule = &c.proposal.rule;
    let mut m = Vec::new();
    if c.verdict != Verdict::Blocked && placeable {
        m.push(Action::Approve);
    }
    if !c.proposal.alternatives.is_empty() {
        m.push(Action::Alternative);
    }
    if !rule_text::is_include(rule) {
        if rule_text::is_file_rule(rule) {
            m.push(Action::Toggle(Toggle::Owner));
        }
        m.push(Action::Toggle(Toggle::Audit));
        m.push(Action::Toggle(Toggle::Deny));
    }
    m.push(Action::Edit);
    m.push(Action::Skip);
    m.push(Action::Quit);
    m
}

/// The entry Enter picks: approve only for an `ok` card; a card a human must look at
/// closely (`review`) or cannot approve (`blocked`) defaults to skip, so that pressing Enter
/// through a long list (approval fatigue) approves nothing that needed a look.
fn default_action(c: &Checked, actions: &[Action]) -> usize {
    let approve = (c.verdict == Verdict::Ok)
        .then(|| actions.iter().position(|a| *a == Action::Approve))
        .flatten();
    approve
        .or_else(|| actions.iter().position(|a| *a == Action::Skip))
        .unwrap_or(0)
}

fn label(a: Action) -> &'static str {
    match a {
        Action::Approve => "approve",
        Action::Alternative => "pick an alternative",
        Action::Toggle(Toggle::Owner) => "toggle owner",
        Action::Toggle(Toggle::Audit) => "toggle audit",
        Action::Toggle(Toggle::Deny) => "toggle deny",
        Action::Edit => "edit in $EDITOR",
        Action::Skip => "skip (reject)",
        Action::Quit => "quit (write nothing)",
    }
}

/// The proposal with alternative `i` as its rule; the old rule becomes an alternative.
fn with_alternative(p: &Proposal, i: usize) -> Proposal {
    let mut q = p.clone();
    let alt = q.alternatives.remove(i);
    q.alternatives.insert(
        0,
        Alternative {
            rule: p.rule.clone(),
            why: "first choice".into(),
        },
    );
    q.rule = alt.rule;
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Finding;
    use std::collections::VecDeque;

    /// Scripted answers; records what was shown.
    #[derive(Default)]
    struct Script {
        selects: VecDeque<&'static str>,
        confirms: VecDeque<Option<bool>>,
        edits: VecDeque<Option<String>>,
        shown: String,
        menus: Vec<Vec<String>>,
    }

    impl Prompter for Script {
        fn show(&mut self, text: &str) -> io::Result<()> {
            self.shown.push_str(text);
            Ok(())
        }
        fn select(&mut self, _p: &str, items: &[String], _d: usize) -> io::Result<Option<usize>> {
            self.menus.push(items.to_vec());
            let want = self.selects.pop_front().expect("a scripted select");
            if want == "<esc>" {
                return Ok(None);
            }
            Ok(Some(
                items
                    .iter()
                    .position(|i| i.starts_with(want))
                    .unwrap_or_else(|| panic!("{want:?} not in {items:?}")),
            ))
        }
        fn confirm(&mut self, _p: &str, _d: bool) -> io::Result<Option<bool>> {
            Ok(self.confirms.pop_front().expect("a scripted confirm"))
        }
        fn edit(&mut self, _t: &str) -> io::Result<Option<String>> {
            Ok(self.edits.pop_front().expect("a scripted edit"))
        }
        fn color(&self) -> bool {
            false
        }
    }

    /// Inserts the rule before the last closing brace.
    struct BeforeBrace;
    impl Applier for BeforeBrace {
        fn apply(&self, text: &str, profile: &str, rule: &str) -> Result<String, String> {
            if profile != "x" {
                return Err(format!("no profile {profile}"));
            }
            let i = text.rfind('}').ok_or("no block")?;
            Ok(format!("{}  {}\n{}", &text[..i], rule.trim(), &text[i..]))
        }
    }

    /// Blocks rules containing `/**`, else ok.
    fn judge(p: Proposal) -> Checked {
        let blocked = p.rule.contains("/**");
        Checked {
            covers: if p.rule.starts_with("deny") {
                vec![]
            } else {
                p.claimed_evidence.clone()
            },
            partial: vec![],
            unsupported_claims: vec![],
            extra_paths: vec![],
            extra_path_count: 0,
            extra_perms: vec![],
            findings: if blocked {
                vec![Finding {
                    code: "recursive-write-glob".into(),
                    severity: Severity::Error,
                    message: "write on /**".into(),
                }]
            } else {
                vec![]
            },
            verdict: if blocked {
                Verdict::Blocked
            } else {
                Verdict::Ok
            },
            proposal: p,
        }
    }

    fn proposal(id: &str, rule: &str, alts: &[&str]) -> Checked {
        judge(Proposal {
            id: id.into(),
            profile: "x".into(),
            rule: rule.into(),
            source: Source::Drafter,
            claimed_evidence: vec!["G1".into()],
            alternatives: alts
                .iter()
                .map(|a| Alternative {
                    rule: (*a).into(),
                    why: "glob".into(),
                })
                .collect(),
            rationale: None,
            exec_modes: vec![],
        })
    }

    const BASE: &str = "profile x {\n  /a r,\n}\n";

    fn evidence() -> BTreeMap<String, Evidence> {
        BTreeMap::from([(
            "G1".to_string(),
            Evidence {
                summary: "file open /b".into(),
                lines: vec![
                    "type=AVC msg=audit(1.2:3): apparmor=\"DENIED\" name=\"/b\x1b[2J\"".into(),
                ],
            },
        )])
    }

    fn run(script: &mut Script, items: Vec<Checked>) -> ReviewOutcome {
        let ev = evidence();
        let mut re = judge;
        Session::new(script, &mut re, &BeforeBrace, BASE, &ev)
            .run(items)
            .expect("run")
    }

    #[test]
    fn approve_one_skip_other_then_confirm() {
        let mut s = Script {
            selects: ["approve", "skip"].into(),
            confirms: [Some(true)].into(),
            ..Script::default()
        };
        let out = run(
            &mut s,
            vec![proposal("P1", "/b r,", &[]), proposal("P2", "/c w,", &[])],
        );
        assert!(out.confirmed && !out.quit);
        assert_eq!(
            out.new_text.as_deref(),
            Some("profile x {\n  /a r,\n  /b r,\n}\n")
        );
        assert_eq!(out.rejected.len(), 1);
        assert!(
            s.shown.contains("name=\"/b\\x1b[2J\""),
            "evidence is shown sanitized"
        );
        assert!(!s.shown.contains('\x1b'));
    }

    #[test]
    fn quit_half_way_approves_nothing() {
        let mut s = Script {
            selects: ["approve", "quit"].into(),
            ..Script::default()
        };
        let out = run(
            &mut s,
            vec![proposal("P1", "/b r,", &[]), proposal("P2", "/c w,", &[])],
        );
        assert!(out.quit && !out.confirmed && out.new_text.is_none());
        let mut s = Script {
            selects: ["<esc>"].into(),
            ..Script::default()
        };
        assert!(run(&mut s, vec![proposal("P1", "/b r,", &[])]).quit);
    }

    #[test]
    fn blocked_cannot_be_approved_but_an_edit_is_rechecked() {
        let mut s = Script {
            selects: ["edit", "approve"].into(),
            confirms: [Some(true)].into(),
            edits: [Some("# c\n/b/* w,\n".to_string())].into(),
            ..Script::default()
        };
        let out = run(&mut s, vec![proposal("P1", "/b/** w,", &[])]);
        assert!(
            !s.menus[0].iter().any(|m| m == "approve"),
            "{:?}",
            s.menus[0]
        );
        assert_eq!(
            s.menus[0].last().map(String::as_str),
            Some("quit (write nothing)")
        );
        assert!(s.menus[1].iter().any(|m| m == "approve"));
        assert_eq!(out.approved[0].rule(), "/b/* w,");
        assert_eq!(out.approved[0].checked.proposal.source, Source::Human);
    }

    #[test]
    fn alternative_and_toggles_are_rechecked() {
        let mut s = Script {
            selects: ["pick", "/b/*", "toggle owner", "toggle deny", "approve"].into(),
            confirms: [Some(false)].into(),
            ..Script::default()
        };
        let out = run(&mut s, vec![proposal("P1", "/b/c r,", &["/b/* r,"])]);
        assert_eq!(out.approved[0].rule(), "deny owner /b/* r,");
        assert_eq!(out.approved[0].checked.covers, Vec::<String>::new());
        assert_eq!(
            out.approved[0].checked.proposal.alternatives[0].rule,
            "/b/c r,"
        );
        assert!(!out.confirmed && out.new_text.is_none());
    }

    #[test]
    fn remembered_decisions_are_not_asked() {
        let d = tempfile::tempdir().expect("tempdir");
        let mut store = DecisionStore::empty(d.path().join("d.json"), d.path());
        store.record("x", "/b r,", Decision::Rejected);
        store.record("x", "/c w,", Decision::Approved);
        let ev = evidence();
        let mut re = judge;
        let mut s = Script {
            selects: ["approve"].into(),
            confirms: [Some(true)].into(),
            ..Script::default()
        };
        let out = Session::new(&mut s, &mut re, &BeforeBrace, BASE, &ev)
            .with_decisions(&store)
            .run(vec![
                proposal("P1", "/b r,", &[]),
                proposal("P2", "/c w,", &[]),
            ])
            .expect("run");
        // The rejection spares its question; the approval is asked again.
        assert_eq!(s.menus.len(), 1);
        assert_eq!(out.not_asked.len(), 1);
        assert!(!out.approved[0].remembered);
        assert_eq!(out.approved[0].rule(), "/c w,");
        let mut s = Script {
            selects: ["skip", "skip"].into(),
            ..Script::default()
        };
        let out = Session::new(&mut s, &mut re, &BeforeBrace, BASE, &ev)
            .with_decisions(&store)
            .with_options(SessionOptions {
                ask_again: true,
                ..SessionOptions::default()
            })
            .run(vec![
                proposal("P1", "/b r,", &[]),
                proposal("P2", "/c w,", &[]),
            ])
            .expect("run");
        assert_eq!(out.rejected.len(), 2);
        assert!(s.shown.contains("Nothing approved"));
    }

    #[test]
    fn unplaceable_rule_cannot_be_approved() {
        let mut c = proposal("P1", "/b r,", &[]);
        c.proposal.profile = "y".into();
        let mut s = Script {
            selects: ["skip"].into(),
            ..Script::default()
        };
        run(&mut s, vec![c]);
        assert!(s.shown.contains("cannot place this rule: no profile y"));
        assert!(!s.menus[0].iter().any(|m| m == "approve"));
    }
}
