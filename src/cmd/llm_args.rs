//! The model flags shared by `explain`, `tune`, `review` and `redact` (one clap struct,
//! flattened into each), their resolution against the config file and environment, and the
//! one way every command asks a model: plan batches → show the estimate → send → de-redact.
//!
//! Precedence: flag, then environment (`OPENAI_BASE_URL`, `AA_ASSIST_MODEL`, applied by
//! [`Config::load_default`]), then the config file. Nothing here decides whether an answer is
//! right: answers come back as data (problems included) for the command to cross-check.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};

use aa_assist::config::Config;
use aa_assist::llm::{BatchReply, Client, LlmConfig, LlmError, DEFAULT_API_KEY_ENV};
use aa_assist::prompt::{
    Batch, Estimate, GroupData, Planner, PlannerOptions, ProfileData, Task, Templates, TokenCounter,
};
use aa_assist::redact::{RedactConfig, Redactor};

/// Above this many estimated tokens (prompt + completion bound), ask before sending when a
/// terminal is attached.
pub const CONFIRM_ABOVE_TOKENS: u64 = 50_000;

/// Model flags, flattened into every command that can ask a model.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LlmArgs {
    /// Also ask an OpenAI-compatible model (its answers are cross-checked, never trusted).
    #[arg(long)]
    pub llm: bool,
    /// Base URL of the OpenAI-compatible API, up to `/v1` [env: OPENAI_BASE_URL; config
    /// llm.base_url; with only OPENAI_API_KEY set: https://api.openai.com/v1].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Model name [env: AA_ASSIST_MODEL; config llm.model].
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Environment variable holding the API key [default: OPENAI_API_KEY].
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// Requests in flight at once [default: 4].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: Option<u32>,
    /// Prompt-token budget per request [default: 16000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(256..))]
    pub max_prompt_tokens: Option<u32>,
    /// `max_tokens` asked for each answer [default: 4096].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(16..))]
    pub max_tokens: Option<u32>,
    /// Directory with prompt templates overriding the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub prompts_dir: Option<PathBuf>,
    /// Append every request and response, as sent, to FILE (JSON lines).
    #[arg(long, value_name = "FILE")]
    pub transcript: Option<PathBuf>,
    /// Answer cache directory [default: ~/.cache/aa-assist/llm].
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,
    /// Do not read or write the answer cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Seconds before a request is abandoned [default: 120].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// Send the system prompt inside the user message (for chat formats that drop system
    /// messages, e.g. llama.cpp's `gemma`).
    #[arg(long)]
    pub system_in_user: bool,
}

/// Validated settings: what the client and the planner need.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// Client settings.
    pub client: LlmConfig,
    /// Prompt budget.
    pub max_prompt_tokens: usize,
    /// Template override directory.
    pub prompts_dir: Option<PathBuf>,
    /// Extra redaction patterns from the config file.
    pub redact_patterns: Vec<regex::Regex>,
}

impl LlmArgs {
    /// Resolve flags over environment over config file. With `require_server`, a missing
    /// base URL or model is an error (exit 2) naming every way to set it; without (e.g.
    /// `redact`, which sends nothing), defaults fill in.
    pub fn resolve(&self, require_server: bool) -> anyhow::Result<LlmSettings> {
        let config = Config::load_default()?;
        self.resolve_with(&config, require_server)
    }

    /// [`LlmArgs::resolve`] against an already loaded config.
    pub fn resolve_with(
        &self,
        config: &Config,
        require_server: bool,
    ) -> anyhow::Result<LlmSettings> {
        self.resolve_with_key(config, require_server, |name| {
            std::env::var_os(name).is_some_and(|v| !v.is_empty())
        })
    }

    /// [`LlmArgs::resolve_with`], `key_set` saying whether an environment variable holds a
    /// key. With `OPENAI_API_KEY` set (and it the key variable) and no base URL anywhere,
    /// the base URL is OpenAI's: what a user with only that key means.
    pub fn resolve_with_key(
        &self,
        config: &Config,
        require_server: bool,
        key_set: impl Fn(&str) -> bool,
    ) -> anyhow::Result<LlmSettings> {
        let file = &config.llm;
        let key_env = self
            .api_key_env
            .clone()
            .or(file.api_key_env.clone())
            .unwrap_or_else(|| DEFAULT_API_KEY_ENV.to_string());
        let openai_key = key_env == DEFAULT_API_KEY_ENV && key_set(DEFAULT_API_KEY_ENV);
        let base_url = self
            .base_url
            .clone()
            .or(file.base_url.clone())
            .or_else(|| openai_key.then(|| aa_assist::llm::DEFAULT_BASE_URL.to_string()));
        let model = self.model.clone().or(file.model.clone());
        if require_server {
            let mut missing = Vec::new();
            if base_url.is_none() {
                missing.push("a base URL (--base-url URL, env OPENAI_BASE_URL, or llm.base_url in the config file; with only OPENAI_API_KEY set, OpenAI's is used)");
            }
            if model.is_none() {
                missing.push(
                    "a model (--model NAME, env AA_ASSIST_MODEL, or llm.model in the config file)",
                );
            }
            if !missing.is_empty() {
                bail!("--llm needs {}", missing.join(" and "));
            }
        }
        let defaults = LlmConfig::default();
        let cache_dir = if self.no_cache {
            None
        } else {
            self.cache_dir.clone().or(defaults.cache_dir.clone())
        };
        // Only a run that talks to a model uses the cache (`redact` resolves without one).
        if let (true, Some(dir)) = (require_server, &cache_dir) {
            check_cache_dir(dir)?;
        }
        if self.api_key_env.is_none() {
            if let (Some(name), Some(path)) = (&file.api_key_env, Config::default_path()) {
                if name != DEFAULT_API_KEY_ENV {
                    aa_assist::config::check_private(&path, "llm.api_key_env")?;
                }
            }
        }
        let client = LlmConfig {
            base_url: base_url.unwrap_or(defaults.base_url.clone()),
            model: model.unwrap_or(defaults.model.clone()),
            api_key_env: key_env,
            timeout: self
                .timeout
                .or(file.timeout_secs)
                .map(Duration::from_secs)
                .unwrap_or(defaults.timeout),
            concurrency: self
                .concurrency
                .map(|c| c as usize)
                .or(file.concurrency)
                .unwrap_or(defaults.concurrency),
            max_tokens: self.max_tokens.unwrap_or(defaults.max_tokens),
            cache_dir,
            transcript: self.transcript.clone(),
            system_in_user: self.system_in_user,
            ..defaults
        };
        let redact_patterns = config
            .redact
            .patterns
            .iter()
            .map(|p| regex::Regex::new(p))
            .collect::<Result<Vec<_>, _>>()
            .context("redact.patterns in the config file")?;
        let prompts_dir = self.prompts_dir.clone().or(file.prompts_dir.clone());
        if let Some(dir) = &prompts_dir {
            check_prompts_dir(dir)?;
        }
        Ok(LlmSettings {
            client,
            max_prompt_tokens: self
                .max_prompt_tokens
                .map(|t| t as usize)
                .or(file.max_prompt_tokens)
                .unwrap_or(PlannerOptions::default().max_prompt_tokens),
            prompts_dir,
            redact_patterns,
        })
    }
}

/// As root, refuse a prompt-template directory (or a template in it) that another user owns
/// or others can write: that user would write root's prompts.
pub fn check_prompts_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    aa_assist::fsguard::Policy::current()
        .check_dir_and_entries(dir, aa_assist::fsguard::Usage::Read)
        .map_err(|e| anyhow::anyhow!("prompt templates: {e}"))
}

/// As root, refuse an answer cache directory that another user owns or others can write
/// (checked before any request): that user would choose the answers root replays, or plant
/// links where root writes cache entries.
pub fn check_cache_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    aa_assist::fsguard::Policy::current()
        .check_dir_and_entries(dir, aa_assist::fsguard::Usage::Write)
        .map_err(|e| anyhow::anyhow!("answer cache: {e}; nothing was sent or written"))
}

/// Batches planned for one task, with the redactor that made them (needed to restore
/// answers).
pub struct Planned {
    /// The batches, redacted.
    pub batches: Vec<Batch>,
    /// The run's redactor.
    pub redactor: Redactor,
    /// Tokens and money, before sending.
    pub estimate: Estimate,
}

impl LlmSettings {
    /// Plan `groups` (and `profiles` for profile tasks) into redacted batches.
    pub fn plan(
        &self,
        task: Task,
        groups: &[GroupData],
        profiles: &[ProfileData],
    ) -> anyhow::Result<Planned> {
        let mut redactor = Redactor::new(RedactConfig {
            patterns: self.redact_patterns.clone(),
        });
        let planner = Planner::new(
            Templates::load(self.prompts_dir.as_deref())?,
            TokenCounter::for_model(&self.client.model),
            PlannerOptions {
                task,
                max_prompt_tokens: self.max_prompt_tokens,
                max_completion_tokens: self.client.max_tokens,
                ..PlannerOptions::default()
            },
        );
        let batches = planner.plan(groups, profiles, &mut redactor)?;
        let estimate = Estimate::new(&batches, self.client.max_tokens, self.client.price());
        Ok(Planned {
            batches,
            redactor,
            estimate,
        })
    }
}

/// One batch's outcome, answers restored to real values.
pub struct ModelReply {
    /// The batch id (`B1`…).
    pub batch_id: String,
    /// Group ids of the batch.
    pub group_ids: Vec<String>,
    /// The reply, or why there is none.
    pub reply: Result<BatchReply, LlmError>,
}

impl ModelReply {
    /// Lines telling what was wrong with this answer as a whole, as data for the user
    /// (e.g. "model answer for B1 was not valid: the answer is not JSON: …").
    pub fn notes(&self) -> Vec<String> {
        match &self.reply {
            Err(e) => vec![format!("model answer for {} failed: {e}", self.batch_id)],
            Ok(r) => {
                let mut out: Vec<String> = r
                    .parsed
                    .problems
                    .iter()
                    .map(|p| format!("model answer for {} was not valid: {p}", self.batch_id))
                    .collect();
                for c in &r.parsed.explanations {
                    for p in &c.problems {
                        out.push(format!(
                            "model explanation in {} was set aside: {p}",
                            self.batch_id
                        ));
                    }
                }
                out
            }
        }
    }
}

/// The human line for an estimate (stderr, before sending).
pub fn estimate_line(est: &Estimate, model: &str) -> String {
    let cost = match est.max_cost_usd {
        Some(c) => format!("at most ${c:.4}"),
        None => format!("cost unknown (no price known for model {model:?})"),
    };
    format!(
        "model {model}: {} request(s), about {} prompt tokens + at most {} completion tokens; {cost}",
        est.batches, est.prompt_tokens, est.max_completion_tokens
    )
}

/// Show the estimate, ask when it is large and a terminal is attached, send every batch,
/// and restore the answers' pseudonyms. `Ok(None)`: the user declined.
pub fn send(
    settings: &LlmSettings,
    planned: &Planned,
    quiet: bool,
) -> anyhow::Result<Option<Vec<ModelReply>>> {
    if planned.batches.is_empty() {
        return Ok(Some(Vec::new()));
    }
    if !quiet {
        eprintln!(
            "{}",
            estimate_line(&planned.estimate, &settings.client.model)
        );
    }
    let total = planned.estimate.prompt_tokens as u64 + planned.estimate.max_completion_tokens;
    if total > CONFIRM_ABOVE_TOKENS
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal()
    {
        let go = dialoguer::Confirm::new()
            .with_prompt(format!(
                "Send about {total} tokens to {}?",
                settings.client.base_url
            ))
            .default(false)
            .interact_on_opt(&console::Term::stderr())
            .map_err(|dialoguer::Error::IO(e)| e)?;
        if go != Some(true) {
            return Ok(None);
        }
    }
    if let Some(t) = &settings.client.transcript {
        // Created here, never through a symlink and not over a file unless --force; the
        // client then appends to it.
        super::create_output(t, true)?;
    }
    let client = Client::new(settings.client.clone())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let progress = if !quiet && std::io::stderr().is_terminal() {
        let pb = indicatif::ProgressBar::new(planned.batches.len() as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template("asking the model {bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(pb)
    } else {
        None
    };
    let result = runtime.block_on(client.run_batches(&planned.batches, progress, async {
        let _ = tokio::signal::ctrl_c().await;
    }));
    if result.cancelled {
        bail!("interrupted: the model's answers were not used");
    }
    let mut out = Vec::new();
    for ((id, reply), batch) in result.replies.into_iter().zip(&planned.batches) {
        let reply = reply.map(|mut r| {
            r.parsed.restore(&planned.redactor);
            r
        });
        out.push(ModelReply {
            batch_id: id,
            group_ids: batch.group_ids.clone(),
            reply,
        });
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_config_and_missing_server_is_an_error() {
        let mut config = Config::default();
        config.llm.model = Some("file-model".into());
        config.llm.base_url = Some("http://file/v1".into());
        config.llm.concurrency = Some(3);
        let args = LlmArgs {
            llm: true,
            model: Some("flag-model".into()),
            no_cache: true,
            ..LlmArgs::default()
        };
        let s = args.resolve_with(&config, true).expect("resolves");
        assert_eq!(s.client.model, "flag-model");
        assert_eq!(s.client.base_url, "http://file/v1");
        assert_eq!(s.client.concurrency, 3);
        assert_eq!(s.client.cache_dir, None);

        let err = LlmArgs::default()
            .resolve_with(&Config::default(), true)
            .expect_err("no server configured");
        let msg = err.to_string();
        assert!(
            msg.contains("--base-url") && msg.contains("--model"),
            "{msg}"
        );
        assert!(LlmArgs::default()
            .resolve_with(&Config::default(), false)
            .is_ok());
    }

    #[test]
    fn an_openai_key_alone_means_openai() {
        let args = LlmArgs {
            llm: true,
            model: Some("gpt-4o-mini".into()),
            ..LlmArgs::default()
        };
        let key = |n: &str| n == DEFAULT_API_KEY_ENV;
        let s = args
            .resolve_with_key(&Config::default(), true, key)
            .expect("resolves");
        assert_eq!(s.client.base_url, aa_assist::llm::DEFAULT_BASE_URL);
        // A base URL given anywhere wins; without the key there is no guess.
        let mut config = Config::default();
        config.llm.base_url = Some("http://127.0.0.1:8080/v1".into());
        let s = args.resolve_with_key(&config, true, key).expect("resolves");
        assert_eq!(s.client.base_url, "http://127.0.0.1:8080/v1");
        assert!(args
            .resolve_with_key(&Config::default(), true, |_| false)
            .is_err());
        // Another key variable is another server's key: not sent to OpenAI by guess.
        let other = LlmArgs {
            api_key_env: Some("LOCAL_KEY".into()),
            ..args.clone()
        };
        assert!(other
            .resolve_with_key(&Config::default(), true, |_| true)
            .is_err());
    }

    #[test]
    fn estimate_says_when_the_price_is_unknown() {
        let est = Estimate {
            batches: 2,
            prompt_tokens: 1000,
            max_completion_tokens: 800,
            max_cost_usd: None,
        };
        let line = estimate_line(&est, "gemma3-270m");
        assert!(
            line.contains("cost unknown") && line.contains("1000"),
            "{line}"
        );
    }
}
