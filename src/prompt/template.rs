//! The prompt templates: embedded defaults, a directory override, and a `{{name}}` renderer.

use std::collections::BTreeMap;
use std::path::Path;

use super::PromptError;

/// What the model is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Explain denials (`explain`).
    Explain,
    /// Draft minimal rules (`tune --llm`).
    Draft,
    /// Explain a profile (`explain --profile`).
    ExplainProfile,
    /// Review a profile for over-broad rules (`review --llm`).
    Review,
}

use serde::{Deserialize, Serialize};

impl Task {
    /// The template file holding this task's user message.
    pub fn template(self) -> TemplateName {
        match self {
            Task::Explain => TemplateName::Explain,
            Task::Draft => TemplateName::Draft,
            Task::ExplainProfile => TemplateName::ExplainProfile,
            Task::Review => TemplateName::Review,
        }
    }

    /// Whether the prompt carries a profile's text (then each batch holds one profile).
    pub fn needs_profile_text(self) -> bool {
        matches!(self, Task::ExplainProfile | Task::Review)
    }

    /// Stable name, as used in file names and caches.
    pub fn name(self) -> &'static str {
        match self {
            Task::Explain => "explain",
            Task::Draft => "draft",
            Task::ExplainProfile => "explain-profile",
            Task::Review => "review",
        }
    }
}

/// One template file in `prompts/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TemplateName {
    /// `system.md`: the system prompt shared by all tasks.
    System,
    /// `explain.md`.
    Explain,
    /// `draft.md`.
    Draft,
    /// `explain-profile.md`.
    ExplainProfile,
    /// `review.md`.
    Review,
}

impl TemplateName {
    /// All templates.
    pub const ALL: [TemplateName; 5] = [
        TemplateName::System,
        TemplateName::Explain,
        TemplateName::Draft,
        TemplateName::ExplainProfile,
        TemplateName::Review,
    ];

    /// File name inside `prompts/`.
    pub fn file_name(self) -> &'static str {
        match self {
            TemplateName::System => "system.md",
            TemplateName::Explain => "explain.md",
            TemplateName::Draft => "draft.md",
            TemplateName::ExplainProfile => "explain-profile.md",
            TemplateName::Review => "review.md",
        }
    }

    fn embedded(self) -> &'static str {
        match self {
            TemplateName::System => include_str!("../../prompts/system.md"),
            TemplateName::Explain => include_str!("../../prompts/explain.md"),
            TemplateName::Draft => include_str!("../../prompts/draft.md"),
            TemplateName::ExplainProfile => include_str!("../../prompts/explain-profile.md"),
            TemplateName::Review => include_str!("../../prompts/review.md"),
        }
    }

    /// Placeholders this template must contain (and the only ones it may contain).
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            TemplateName::System => &[],
            TemplateName::Explain | TemplateName::Draft => &["profiles", "data"],
            TemplateName::ExplainProfile | TemplateName::Review => {
                &["profiles", "profile_text", "data"]
            }
        }
    }
}

/// The set of templates in use: embedded defaults, each optionally replaced by a file of the
/// same name in an override directory (`--prompts-dir`).
#[derive(Debug, Clone)]
pub struct Templates {
    texts: BTreeMap<TemplateName, String>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            texts: TemplateName::ALL
                .iter()
                .map(|t| (*t, t.embedded().to_string()))
                .collect(),
        }
    }
}

impl Templates {
    /// The embedded templates, with files from `dir` (if given) taking precedence. Each
    /// template is checked: every `{{placeholder}}` must be known and every required one
    /// present.
    pub fn load(dir: Option<&Path>) -> Result<Self, PromptError> {
        let mut t = Templates::default();
        if let Some(dir) = dir {
            for name in TemplateName::ALL {
                let path = dir.join(name.file_name());
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        t.texts.insert(name, text);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => return Err(PromptError::ReadTemplate { path, source }),
                }
            }
        }
        for name in TemplateName::ALL {
            t.check(name)?;
        }
        Ok(t)
    }

    /// The raw text of a template.
    pub fn text(&self, name: TemplateName) -> &str {
        self.texts
            .get(&name)
            .map(String::as_str)
            .unwrap_or_else(|| name.embedded())
    }

    fn check(&self, name: TemplateName) -> Result<(), PromptError> {
        let text = self.text(name);
        let found = placeholders_in(text);
        let want = name.placeholders();
        for p in &found {
            if !want.contains(&p.as_str()) {
                return Err(PromptError::Template {
                    name: name.file_name().to_string(),
                    reason: format!("unknown placeholder {{{{{p}}}}} (known: {want:?})"),
                });
            }
        }
        for w in want {
            if !found.iter().any(|p| p == w) {
                return Err(PromptError::Template {
                    name: name.file_name().to_string(),
                    reason: format!("missing placeholder {{{{{w}}}}}"),
                });
            }
        }
        Ok(())
    }

    /// Render a template: each `{{name}}` is replaced by its value in one pass, so text inside
    /// a value is never itself expanded.
    pub fn render(
        &self,
        name: TemplateName,
        values: &BTreeMap<&str, String>,
    ) -> Result<String, PromptError> {
        render(self.text(name), values).map_err(|reason| PromptError::Template {
            name: name.file_name().to_string(),
            reason,
        })
    }
}

fn placeholders_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                out.push(after[..end].trim().to_string());
                rest = &after[end + 2..];
            }
            None => break,
        }
    }
    out
}

/// Single-pass `{{name}}` substitution.
pub(crate) fn render(text: &str, values: &BTreeMap<&str, String>) -> Result<String, String> {
    let mut out =
        String::with_capacity(text.len() + values.values().map(String::len).sum::<usize>());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("unterminated {{ placeholder".to_string());
        };
        let key = after[..end].trim();
        match values.get(key) {
            Some(v) => out.push_str(v),
            None => return Err(format!("no value for placeholder {{{{{key}}}}}")),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_templates_are_consistent() {
        Templates::load(None).unwrap();
    }

    #[test]
    fn values_are_not_re_expanded() {
        let mut v = BTreeMap::new();
        v.insert("data", "{{profiles}}".to_string());
        v.insert("profiles", "X".to_string());
        assert_eq!(
            render("a {{data}} b {{profiles}}", &v).unwrap(),
            "a {{profiles}} b X"
        );
        assert!(render("{{nope}}", &v).is_err());
        assert!(render("{{data", &v).is_err());
    }

    #[test]
    fn override_dir_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("explain.md"), "only {{data}} and {{bogus}}").unwrap();
        let err = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("bogus"), "{err}");
        std::fs::write(dir.path().join("explain.md"), "P={{profiles}}\n{{data}}").unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(t.text(TemplateName::Explain), "P={{profiles}}\n{{data}}");
        assert_eq!(t.text(TemplateName::Draft), TemplateName::Draft.embedded());
    }
}
