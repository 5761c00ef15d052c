//! The OpenAI-compatible client and the parser for model answers.
//!
//! This module owns talking to a model: [`Client`] sends one chat-completion request per
//! [`crate::prompt::Batch`] to any OpenAI-compatible server (OpenAI, Ollama, llama.cpp
//! server, vLLM), with timeouts, retries honouring `Retry-After`, a response-format fallback
//! (`json_schema` → llama.cpp's `json_object`+`schema` → plain text), bounded concurrency,
//! cancellation, an on-disk answer cache and an optional JSONL transcript. [`parse_answer`]
//! turns the model's text into a typed, locally validated [`Answer`] with every problem as
//! data.
//!
//! It does not decide whether a proposed rule is justified (that is the cross-check against
//! the audit log), never writes profiles, and never prints: progress goes through a
//! caller-supplied `indicatif::ProgressBar`. The API key is read from the environment only and
//! never appears in `Debug` output, transcripts or error messages.

pub mod answer;
mod client;
mod config;

pub use answer::{
    parse_answer, Answer, Checked, Explanation, Extraction, ItemRef, ParsedAnswer, Problem,
    Proposal, Risk,
};
pub use client::{BatchReply, Client, LlmError, RunResult, Stats, Usage};
pub use config::{ApiKey, FormatPref, LlmConfig, DEFAULT_API_KEY_ENV, DEFAULT_BASE_URL};
