//! The HTTP side: one chat-completion request per batch, with retries, response-format
//! fallback, a cache, a transcript, bounded concurrency and cancellation.
//!
//! Request and response bodies are `async-openai`'s types (`CreateChatCompletionRequest`,
//! `CreateChatCompletionResponse`). The transport is `reqwest` directly rather than
//! `async_openai::Client`, because that client's built-in retry layer (0.43: three retries on
//! 429/5xx, not configurable without the `middleware` feature) hides the response headers:
//! its errors carry no `Retry-After`, so we could neither honour it nor bound the retries
//! ourselves. It also could not express the llama.cpp `json_object`+`schema` format, and a
//! transcript must hold the exact bytes sent.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage, CreateChatCompletionRequest, CreateChatCompletionResponse,
    FinishReason, ResponseFormat, ResponseFormatJsonSchema,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::answer::{parse_answer, ParsedAnswer};
use super::config::{ApiKey, FormatPref, LlmConfig};
use crate::prompt::{answer_schema, Batch};

/// Why a batch got no answer.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The server answered with an error status we do not retry (or retries ran out).
    #[error("server answered HTTP {status} after {attempts} attempt(s): {message}")]
    Http {
        /// HTTP status.
        status: u16,
        /// Start of the server's message (key scrubbed).
        message: String,
        /// Requests made.
        attempts: u32,
    },
    /// Every attempt timed out.
    #[error("request timed out after {attempts} attempt(s) of {timeout:?} each")]
    Timeout {
        /// Requests made.
        attempts: u32,
        /// Per-request timeout.
        timeout: Duration,
    },
    /// The server could not be reached.
    #[error("cannot reach {url} after {attempts} attempt(s): {message}")]
    Connect {
        /// Endpoint.
        url: String,
        /// Transport message.
        message: String,
        /// Requests made.
        attempts: u32,
    },
    /// The body of a 200 answer is not a chat completion.
    #[error("the server's answer is not a chat completion: {0}")]
    BadResponse(String),
    /// The run was cancelled before this batch finished.
    #[error("cancelled")]
    Cancelled,
    /// Building the HTTP client failed.
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    /// The transcript could not be written.
    #[error("cannot write transcript {path}: {source}")]
    Transcript {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Token usage reported by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
}

/// The answer to one batch.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReply {
    /// The batch answered.
    pub batch_id: String,
    /// The parsed, locally validated answer (still redacted: call
    /// [`ParsedAnswer::restore`] to map pseudonyms back).
    pub parsed: ParsedAnswer,
    /// The model's text as received.
    pub content: String,
    /// Usage, when the server reported it.
    pub usage: Option<Usage>,
    /// Whether the answer came from the cache (nothing was sent).
    pub from_cache: bool,
    /// HTTP requests made for this batch.
    pub attempts: u32,
    /// The response format that produced the answer.
    pub format: FormatPref,
}

/// Counters over the client's lifetime.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicUsize,
    cache_hits: AtomicUsize,
    retries: AtomicUsize,
}

impl Stats {
    /// HTTP requests sent.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
    /// Batches answered from the cache.
    pub fn cache_hits(&self) -> usize {
        self.cache_hits.load(Ordering::Relaxed)
    }
    /// Retries after 429, 5xx, timeouts and connection errors.
    pub fn retries(&self) -> usize {
        self.retries.load(Ordering::Relaxed)
    }
}

/// The outcome of [`Client::run_batches`].
#[derive(Debug)]
pub struct RunResult {
    /// One entry per batch that finished (or failed), in batch order.
    pub replies: Vec<(String, Result<BatchReply, LlmError>)>,
    /// Whether the run was cancelled; unfinished batches then carry [`LlmError::Cancelled`].
    pub cancelled: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheEntry {
    content: String,
    cut_off: bool,
    format: FormatPref,
    usage: Option<Usage>,
}

struct Inner {
    http: reqwest::Client,
    config: LlmConfig,
    key: Option<ApiKey>,
    format: AtomicU8,
    stats: Stats,
    transcript: Option<Mutex<std::fs::File>>,
}

/// `O_NOFOLLOW`: the transcript is never opened through a symlink planted at its name.
fn nofollow() -> i32 {
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}

/// An OpenAI-compatible chat-completion client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("key", &self.inner.key)
            .finish_non_exhaustive()
    }
}

enum Attempt {
    Done(Box<BatchReply>),
    Retry {
        err: LlmError,
        wait: Option<Duration>,
    },
    Downgrade,
    Fatal(LlmError),
}

impl Client {
    /// A client for `config`, reading the key from `config.api_key_env`.
    pub fn new(config: LlmConfig) -> Result<Self, LlmError> {
        let key = ApiKey::from_env(&config.api_key_env);
        Self::with_key(config, key)
    }

    /// A client with an explicit key (or none, for local servers).
    pub fn with_key(config: LlmConfig, key: Option<ApiKey>) -> Result<Self, LlmError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| LlmError::Setup(e.to_string()))?;
        let transcript = match &config.transcript {
            Some(path) => Some(Mutex::new(
                std::os::unix::fs::OpenOptionsExt::custom_flags(
                    std::fs::OpenOptions::new().create(true).append(true),
                    nofollow(),
                )
                .open(path)
                .map_err(|source| LlmError::Transcript {
                    path: path.clone(),
                    source,
                })?,
            )),
            None => None,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                format: AtomicU8::new(config.response_format.to_u8()),
                config,
                key,
                stats: Stats::default(),
                transcript,
            }),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &LlmConfig {
        &self.inner.config
    }

    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// The response format currently in use (after any downgrade).
    pub fn format(&self) -> FormatPref {
        FormatPref::from_u8(self.inner.format.load(Ordering::Relaxed))
    }

    /// The request body for `batch` at format level `format`, as it will be sent.
    pub fn request_body(&self, batch: &Batch, format: FormatPref) -> Value {
        let c = &self.inner.config;
        let reasoning = is_reasoning_model(&c.model);
        // `max_tokens` is deprecated by OpenAI in favour of `max_completion_tokens`, which
        // reasoning models require; local servers (llama.cpp, Ollama) only know `max_tokens`.
        #[allow(deprecated)]
        let request = CreateChatCompletionRequest {
            model: c.model.clone(),
            messages: if c.system_in_user {
                vec![ChatCompletionRequestMessage::User(
                    ChatCompletionRequestUserMessage {
                        content: format!("{}\n\n{}", batch.system.trim_end(), batch.user).into(),
                        name: None,
                    },
                )]
            } else {
                vec![
                    ChatCompletionRequestMessage::System(ChatCompletionRequestSystemMessage {
                        content: batch.system.clone().into(),
                        name: None,
                    }),
                    ChatCompletionRequestMessage::User(ChatCompletionRequestUserMessage {
                        content: batch.user.clone().into(),
                        name: None,
                    }),
                ]
            },
            temperature: (!reasoning).then_some(c.temperature),
            max_tokens: (!reasoning).then_some(c.max_tokens),
            max_completion_tokens: reasoning.then_some(c.max_tokens),
            response_format: match format {
                FormatPref::JsonSchema => Some(ResponseFormat::JsonSchema {
                    json_schema: ResponseFormatJsonSchema {
                        description: None,
                        name: "aa_assist_answer".to_string(),
                        schema: answer_schema(),
                        strict: Some(true),
                    },
                }),
                FormatPref::JsonObjectSchema | FormatPref::Text => None,
            },
            ..CreateChatCompletionRequest::default()
        };
        let mut body = serde_json::to_value(&request).expect("request types serialize");
        if format == FormatPref::JsonObjectSchema {
            body["response_format"] = json!({"type": "json_object", "schema": answer_schema()});
        }
        body
    }

    /// Cache key: server (base URL), model, messages and sampling parameters (not the
    /// transport-level response format, so a rerun after a format downgrade still hits). The
    /// base URL is part of it, so one server's answers are never replayed as another's.
    pub fn cache_key(&self, batch: &Batch) -> String {
        let c = &self.inner.config;
        let material = json!({
            "v": 2,
            "base_url": c.base_url.trim_end_matches('/'),
            "model": c.model,
            "system": batch.system,
            "user": batch.user,
            "temperature": c.temperature,
            "max_tokens": c.max_tokens,
            "system_in_user": c.system_in_user,
            "schema": crate::prompt::ANSWER_SCHEMA,
        });
        hex::encode(Sha256::digest(material.to_string().as_bytes()))
    }

    fn cache_path(&self, batch: &Batch) -> Option<PathBuf> {
        self.inner
            .config
            .cache_dir
            .as_ref()
            .map(|d| d.join(format!("{}.json", self.cache_key(batch))))
    }

    fn cache_get(&self, batch: &Batch) -> Option<CacheEntry> {
        let path = self.cache_path(batch)?;
        // Never through a link planted at an entry's name.
        let mut file = std::os::unix::fs::OpenOptionsExt::custom_flags(
            std::fs::OpenOptions::new().read(true),
            nofollow(),
        )
        .open(path)
        .ok()?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn cache_put(&self, batch: &Batch, entry: &CacheEntry) {
        let Some(path) = self.cache_path(batch) else {
            return;
        };
        let Some(dir) = path.parent() else { return };
        // A cache that cannot be written only costs a resend next time. Created private; an
        // entry is written to a new temporary file (created exclusively, so never through a
        // link) and renamed over its name (which replaces a link there, never follows it).
        let created = std::os::unix::fs::DirBuilderExt::mode(
            std::fs::DirBuilder::new().recursive(true),
            0o700,
        )
        .create(dir);
        if created.is_err() {
            tracing::warn!("cannot create cache directory {}", dir.display());
            return;
        }
        let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else {
            return;
        };
        let ok = serde_json::to_writer(&mut tmp, entry).is_ok() && tmp.persist(&path).is_ok();
        if !ok {
            tracing::warn!("cannot write cache entry {}", path.display());
        }
    }

    fn record(&self, entry: &Value) -> Result<(), LlmError> {
        let Some(file) = &self.inner.transcript else {
            return Ok(());
        };
        let path = self.inner.config.transcript.clone().unwrap_or_default();
        let mut line = entry.to_string();
        if let Some(key) = &self.inner.key {
            line = key.scrub(&line);
        }
        line.push('\n');
        let mut f = file
            .lock()
            .map_err(|_| LlmError::Setup("transcript lock poisoned".into()))?;
        f.write_all(line.as_bytes())
            .and_then(|()| f.flush())
            .map_err(|source| LlmError::Transcript { path, source })
    }

    /// Answer one batch: from the cache if possible, else over HTTP with retries and format
    /// fallback.
    pub async fn complete(&self, batch: &Batch) -> Result<BatchReply, LlmError> {
        let ctx = batch.context();
        if let Some(mut hit) = self.cache_get(batch) {
            self.inner.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
            if let Some(k) = &self.inner.key {
                // entries written before answers were scrubbed
                hit.content = k.scrub(&hit.content);
            }
            return Ok(BatchReply {
                batch_id: batch.id.clone(),
                parsed: parse_answer(&hit.content, hit.cut_off, &ctx),
                content: hit.content,
                usage: hit.usage,
                from_cache: true,
                attempts: 0,
                format: hit.format,
            });
        }
        let cfg = &self.inner.config;
        let mut attempts = 0u32;
        let mut retries = 0u32;
        loop {
            let format = self.format();
            attempts += 1;
            match self.attempt(batch, format, attempts).await? {
                Attempt::Done(reply) => {
                    if reply.parsed.is_json() {
                        self.cache_put(
                            batch,
                            &CacheEntry {
                                content: reply.content.clone(),
                                cut_off: false,
                                format,
                                usage: reply.usage,
                            },
                        );
                    }
                    return Ok(*reply);
                }
                Attempt::Downgrade => {
                    if let Some(next) = format.downgrade() {
                        // Only the first batch to see the rejection steps down; the others
                        // just retry at the new level.
                        let _ = self.inner.format.compare_exchange(
                            format.to_u8(),
                            next.to_u8(),
                            Ordering::Relaxed,
                            Ordering::Relaxed,
                        );
                        tracing::info!(
                            "server rejected response format {format:?}; using {next:?}"
                        );
                    }
                }
                Attempt::Fatal(e) => return Err(e),
                Attempt::Retry { err, wait } => {
                    if retries >= cfg.max_retries {
                        return Err(err);
                    }
                    retries += 1;
                    self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
                    let delay = wait
                        .unwrap_or_else(|| backoff(cfg.backoff_base, retries, &batch.id))
                        .min(cfg.backoff_cap);
                    tracing::info!("batch {}: {err}; retrying in {delay:?}", batch.id);
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        batch: &Batch,
        format: FormatPref,
        attempts: u32,
    ) -> Result<Attempt, LlmError> {
        let cfg = &self.inner.config;
        let body = self.request_body(batch, format);
        let bytes = serde_json::to_vec(&body).expect("JSON values serialize");
        let url = cfg.endpoint();
        let mut req = self
            .inner
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes);
        if let Some(key) = &self.inner.key {
            req = req.bearer_auth(key.expose());
        }
        self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let scrub = |s: String| match &self.inner.key {
            Some(k) => k.scrub(&s),
            None => s,
        };
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                let err = if e.is_timeout() {
                    LlmError::Timeout {
                        attempts,
                        timeout: cfg.timeout,
                    }
                } else {
                    LlmError::Connect {
                        url: url.clone(),
                        message: scrub(e.to_string()),
                        attempts,
                    }
                };
                self.record(&json!({"batch": batch.id, "attempt": attempts, "request": body, "error": err.to_string()}))?;
                return Ok(if e.is_timeout() || e.is_connect() || e.is_request() {
                    Attempt::Retry { err, wait: None }
                } else {
                    Attempt::Fatal(err)
                });
            }
        };
        let status = resp.status().as_u16();
        let wait = retry_after(resp.headers());
        let text = match resp.text().await {
            // A server may echo the key: scrubbed before anything is parsed, recorded,
            // cached or shown.
            Ok(t) => scrub(printable_escapes_decoded(&t)),
            Err(e) => {
                let err = if e.is_timeout() {
                    LlmError::Timeout {
                        attempts,
                        timeout: cfg.timeout,
                    }
                } else {
                    LlmError::Connect {
                        url,
                        message: scrub(e.to_string()),
                        attempts,
                    }
                };
                self.record(&json!({"batch": batch.id, "attempt": attempts, "request": body, "status": status, "error": err.to_string()}))?;
                return Ok(Attempt::Retry { err, wait: None });
            }
        };
        let response_value: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        self.record(&json!({
            "batch": batch.id,
            "attempt": attempts,
            "format": format,
            "request": body,
            "status": status,
            "elapsed_ms": started.elapsed().as_millis() as u64,
            "response": response_value,
        }))?;
        if (200..300).contains(&status) {
            let (content, cut_off, usage) = read_completion(&text)?;
            // … and again once JSON escapes (`\u0073k-…`) are decoded, here and inside the
            // answer's own JSON.
            let content = scrub(printable_escapes_decoded(&content));
            let parsed = parse_answer(&content, cut_off, &batch.context());
            return Ok(Attempt::Done(Box::new(BatchReply {
                batch_id: batch.id.clone(),
                parsed,
                content,
                usage,
                from_cache: false,
                attempts,
                format,
            })));
        }
        let message = scrub(text.chars().take(300).collect());
        if format != FormatPref::Text
            && matches!(status, 400 | 422 | 500 | 501)
            && mentions_format(&text)
        {
            return Ok(Attempt::Downgrade);
        }
        let err = LlmError::Http {
            status,
            message,
            attempts,
        };
        Ok(if status == 429 || status == 408 || status >= 500 {
            Attempt::Retry { err, wait }
        } else {
            Attempt::Fatal(err)
        })
    }

    /// Answer `batches` with at most `config.concurrency` requests in flight. Stops early,
    /// aborting requests in flight, when `cancel` completes (pass `tokio::signal::ctrl_c()`
    /// mapped to `()` from the binary). `progress`, if given, advances once per batch.
    pub async fn run_batches<F>(
        &self,
        batches: &[Batch],
        progress: Option<indicatif::ProgressBar>,
        cancel: F,
    ) -> RunResult
    where
        F: Future<Output = ()>,
    {
        let limit = Arc::new(tokio::sync::Semaphore::new(
            self.inner.config.concurrency.max(1),
        ));
        let mut set = tokio::task::JoinSet::new();
        for (i, batch) in batches.iter().enumerate() {
            let client = self.clone();
            let batch = batch.clone();
            let limit = limit.clone();
            set.spawn(async move {
                let _permit = limit.acquire_owned().await;
                (i, client.complete(&batch).await)
            });
        }
        let mut done: BTreeMap<usize, Result<BatchReply, LlmError>> = BTreeMap::new();
        let mut cancelled = false;
        tokio::pin!(cancel);
        while !set.is_empty() {
            tokio::select! {
                () = &mut cancel, if !cancelled => {
                    cancelled = true;
                    set.abort_all();
                }
                joined = set.join_next() => {
                    match joined {
                        Some(Ok((i, result))) => {
                            if let Some(pb) = &progress {
                                pb.inc(1);
                                if let Some(b) = batches.get(i) {
                                    pb.set_message(b.id.clone());
                                }
                            }
                            done.insert(i, result);
                        }
                        Some(Err(_aborted)) => {}
                        None => break,
                    }
                }
            }
        }
        if let Some(pb) = &progress {
            pb.finish_and_clear();
        }
        let replies = batches
            .iter()
            .enumerate()
            .map(|(i, b)| {
                (
                    b.id.clone(),
                    done.remove(&i).unwrap_or(Err(LlmError::Cancelled)),
                )
            })
            .collect();
        RunResult { replies, cancelled }
    }
}

fn is_reasoning_model(model: &str) -> bool {
    let m = model.rsplit('/').next().unwrap_or(model);
    m.starts_with("o1") || m.starts_with("o3") || m.starts_with("o4") || m.starts_with("gpt-5")
}

fn mentions_format(body: &str) -> bool {
    let b = body.to_ascii_lowercase();
    b.contains("response_format")
        || b.contains("json_schema")
        || b.contains("json_object")
        || b.contains("'text' or")
        || b.contains("structured output")
}

/// Seconds from `Retry-After` (delta-seconds form) or OpenAI's `retry-after-ms`.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    get("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
}

/// Exponential backoff with full jitter: uniform in [base·2^(n-1)/2, base·2^(n-1)].
fn backoff(base: Duration, retry: u32, salt: &str) -> Duration {
    let full = base.saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut x = u64::from(nanos) ^ (u64::from(retry) << 32);
    for b in salt.bytes() {
        x = x.wrapping_mul(0x100_0000_01b3) ^ u64::from(b);
    }
    // xorshift64*
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    let r = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
    let frac = (r >> 11) as f64 / (1u64 << 53) as f64;
    full.mul_f64(0.5 + 0.5 * frac)
}

/// Content, cut-off flag and usage from a chat-completion body. Uses `async-openai`'s type;
/// servers that omit fields it requires are read leniently from the same JSON.
/// `text` with every JSON escape `\uXXXX` of a printable ASCII character other than `"` and
/// `\` written as the character itself: the same JSON, in which a key spelled with escapes
/// becomes visible to [`ApiKey::scrub`]. Other text is unchanged.
fn printable_escapes_decoded(text: &str) -> String {
    if !text.contains("\\u") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("\\u") {
        // an escaped backslash before it (`\\u…`) is not an escape
        let backslashes = rest[..i].chars().rev().take_while(|c| *c == '\\').count();
        let hex = rest.get(i + 2..i + 6);
        let decoded = hex
            .filter(|_| backslashes % 2 == 0)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
            .filter(|c| (' '..='~').contains(c) && *c != '"' && *c != '\\');
        match decoded {
            Some(c) => {
                out.push_str(&rest[..i]);
                out.push(c);
                rest = &rest[i + 6..];
            }
            None => {
                out.push_str(&rest[..i + 2]);
                rest = &rest[i + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn read_completion(text: &str) -> Result<(String, bool, Option<Usage>), LlmError> {
    if let Ok(r) = serde_json::from_str::<CreateChatCompletionResponse>(text) {
        let usage = r.usage.as_ref().map(|u| Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
        });
        let Some(choice) = r.choices.into_iter().next() else {
            return Err(LlmError::BadResponse("no choices".into()));
        };
        let cut_off = choice.finish_reason == Some(FinishReason::Length);
        let content = choice
            .message
            .content
            .or(choice.message.refusal)
            .unwrap_or_default();
        return Ok((content, cut_off, usage));
    }
    let v: Value = serde_json::from_str(text).map_err(|e| {
        LlmError::BadResponse(format!(
            "{e}; body starts {:?}",
            text.chars().take(120).collect::<String>()
        ))
    })?;
    let choice = v
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or_else(|| LlmError::BadResponse("no choices".into()))?;
    let content = choice
        .get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .or_else(|| choice.get("text").and_then(Value::as_str))
        .ok_or_else(|| LlmError::BadResponse("no message content".into()))?
        .to_string();
    let cut_off = choice.get("finish_reason").and_then(Value::as_str) == Some("length");
    let usage = v.get("usage").map(|u| Usage {
        prompt_tokens: u
            .get("prompt_tokens")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        completion_tokens: u
            .get("completion_tokens")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
    });
    Ok((content, cut_off, usage))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_are_decoded_and_json_stays_the_same() {
        let t = r#"{"a":"\u0073k-1 \u0022q\u0022 \\u0073 \u00e9 \u001b"}"#;
        let d = printable_escapes_decoded(t);
        assert_eq!(d, r#"{"a":"sk-1 \u0022q\u0022 \\u0073 \u00e9 \u001b"}"#);
        let a: serde_json::Value = serde_json::from_str(t).unwrap();
        let b: serde_json::Value = serde_json::from_str(&d).unwrap();
        assert_eq!(a, b);
        assert_eq!(printable_escapes_decoded("no escapes"), "no escapes");
        assert_eq!(printable_escapes_decoded("\\u12"), "\\u12");
    }

    #[test]
    fn backoff_is_jittered_and_bounded() {
        let base = Duration::from_millis(100);
        for n in 1..6 {
            let d = backoff(base, n, "B1");
            let full = base * 2u32.pow(n - 1);
            assert!(d >= full / 2 && d <= full, "{d:?} vs {full:?}");
        }
    }

    #[test]
    fn retry_after_forms() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "250".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn lenient_completion_reading() {
        let (c, cut, u) = read_completion(
            r#"{"choices":[{"message":{"content":"hi"},"finish_reason":"length"}]}"#,
        )
        .unwrap();
        assert_eq!((c.as_str(), cut, u), ("hi", true, None));
        assert!(read_completion("<html>").is_err());
        assert!(read_completion(r#"{"choices":[]}"#).is_err());
    }
}
