//! Client settings and the API key wrapper.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Default OpenAI endpoint.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// Default variable holding the API key.
pub const DEFAULT_API_KEY_ENV: &str = "OPENAI_API_KEY";

/// How to ask the server for JSON, from most to least constrained. The client starts at the
/// configured level and steps down for the rest of the run when a server rejects a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FormatPref {
    /// `{"type":"json_schema","json_schema":{"strict":true,…}}` (OpenAI, vLLM).
    JsonSchema,
    /// `{"type":"json_object","schema":{…}}` (the llama.cpp extension; plain servers ignore
    /// the schema and give a JSON object).
    JsonObjectSchema,
    /// No `response_format`; the JSON is extracted from the text.
    Text,
}

impl FormatPref {
    /// The next, less constrained level.
    pub fn downgrade(self) -> Option<FormatPref> {
        match self {
            FormatPref::JsonSchema => Some(FormatPref::JsonObjectSchema),
            FormatPref::JsonObjectSchema => Some(FormatPref::Text),
            FormatPref::Text => None,
        }
    }

    pub(crate) fn to_u8(self) -> u8 {
        match self {
            FormatPref::JsonSchema => 0,
            FormatPref::JsonObjectSchema => 1,
            FormatPref::Text => 2,
        }
    }

    pub(crate) fn from_u8(v: u8) -> FormatPref {
        match v {
            0 => FormatPref::JsonSchema,
            1 => FormatPref::JsonObjectSchema,
            _ => FormatPref::Text,
        }
    }
}

/// An API key. Its `Debug` prints `***`; it has no `Display` and no `Serialize`, so it cannot
/// end up in logs, transcripts or error messages by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl ApiKey {
    /// Wrap a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// Read the key from environment variable `name`; `None` when unset or empty (local
    /// servers usually need no key).
    pub fn from_env(name: &str) -> Option<Self> {
        std::env::var(name)
            .ok()
            .filter(|k| !k.trim().is_empty())
            .map(|k| ApiKey(k.trim().to_string()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Replace every occurrence of the key in `text` with `***`.
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_string();
        }
        text.replace(&self.0, "***")
    }
}

/// Everything the client needs to know. The key itself is not here: it is read from the
/// environment variable named by `api_key_env` when the client is built.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LlmConfig {
    /// Base URL of an OpenAI-compatible API, up to and including `/v1`.
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// Environment variable holding the API key.
    pub api_key_env: String,
    /// Per-request timeout.
    #[serde(with = "secs")]
    pub timeout: Duration,
    /// Retries after the first attempt on 429, 5xx, timeouts and connection errors.
    pub max_retries: u32,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Answer cache directory; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Sampling temperature.
    pub temperature: f32,
    /// `max_tokens` for every request.
    pub max_tokens: u32,
    /// The most constrained response format to try first.
    pub response_format: FormatPref,
    /// JSONL transcript of every request and response as sent.
    pub transcript: Option<PathBuf>,
    /// First backoff delay (doubled per retry, with full jitter).
    #[serde(with = "secs")]
    pub backoff_base: Duration,
    /// Longest backoff or `Retry-After` wait we accept.
    #[serde(with = "secs")]
    pub backoff_cap: Duration,
    /// Price per million (input, output) tokens, overriding the built-in table.
    pub price_per_mtok: Option<(f64, f64)>,
    /// Send the system prompt at the top of the user message instead of as a system message,
    /// for chat formats that silently drop system messages (llama.cpp's `gemma` format does).
    pub system_in_user: bool,
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v).map_err(serde::de::Error::custom)
    }
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            base_url: DEFAULT_BASE_URL.to_string(),
            model: "gpt-4o-mini".to_string(),
            api_key_env: DEFAULT_API_KEY_ENV.to_string(),
            timeout: Duration::from_secs(120),
            max_retries: 4,
            concurrency: 4,
            cache_dir: dirs::cache_dir().map(|d| d.join("aa-assist").join("llm")),
            temperature: 0.0,
            max_tokens: 4096,
            response_format: FormatPref::JsonSchema,
            transcript: None,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(60),
            price_per_mtok: None,
            system_in_user: false,
        }
    }
}

impl LlmConfig {
    /// Defaults for `model` at `base_url`.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        LlmConfig {
            base_url: base_url.into(),
            model: model.into(),
            ..LlmConfig::default()
        }
    }

    /// The chat-completions endpoint.
    pub fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.base_url.trim_end_matches('/'))
    }

    /// Price per million tokens: the configured one, else the built-in table.
    pub fn price(&self) -> Option<(f64, f64)> {
        self.price_per_mtok
            .or_else(|| crate::prompt::price_per_mtok(&self.model))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_never_shows_in_debug() {
        let key = ApiKey::new("sk-test-very-secret-123");
        assert_eq!(format!("{key:?}"), "ApiKey(***)");
        assert_eq!(format!("{:?}", Some(key.clone())), "Some(ApiKey(***))");
        assert_eq!(
            key.scrub("bad key sk-test-very-secret-123!"),
            "bad key ***!"
        );
    }

    #[test]
    fn key_comes_from_the_named_variable() {
        let var = "AA_ASSIST_TEST_KEY_VAR_7f3a";
        std::env::set_var(var, "  sk-from-env  ");
        assert_eq!(ApiKey::from_env(var), Some(ApiKey::new("sk-from-env")));
        std::env::set_var(var, "");
        assert_eq!(ApiKey::from_env(var), None);
        std::env::remove_var(var);
        assert_eq!(ApiKey::from_env(var), None);
    }

    #[test]
    fn formats_step_down() {
        assert_eq!(
            FormatPref::JsonSchema.downgrade(),
            Some(FormatPref::JsonObjectSchema)
        );
        assert_eq!(FormatPref::Text.downgrade(), None);
        for f in [
            FormatPref::JsonSchema,
            FormatPref::JsonObjectSchema,
            FormatPref::Text,
        ] {
            assert_eq!(FormatPref::from_u8(f.to_u8()), f);
        }
    }

    #[test]
    fn endpoint_joins_cleanly() {
        assert_eq!(
            LlmConfig::new("http://127.0.0.1:8080/v1/", "m").endpoint(),
            "http://127.0.0.1:8080/v1/chat/completions"
        );
    }
}
