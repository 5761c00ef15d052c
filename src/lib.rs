//! aa-assist: confine services with AppArmor, with a human approving every rule.
//!
//! The library owns all behaviour; `src/main.rs` only parses flags, calls into it and maps
//! errors to exit codes. Each module owns one concern:
//!
//! - [`log`]: reading audit events from every real source and grouping them.
//! - [`profile`]: the lossless profile-language parser, editor and include resolver.
//! - [`aare`]: AppArmor regular expressions compiled to automata.
//! - [`draft`]: proposals and the deterministic minimal-rule drafter.
//! - [`check`]: the cross-check of every proposal against the evidence, and verdicts.
//! - [`explain`]: deterministic causes of denials and plain-English readings of rules.
//! - [`config`]: the user's config file, environment and flag precedence.
//! - [`review`]: the human review of proposals and the safe write of what was approved.
//! - [`redact`]: reversible pseudonymisation of what must not leave the machine.
//! - [`prompt`]: prompt templates, token counting and batching.
//! - [`llm`]: the OpenAI-compatible client and the model-answer parser.
//! - [`pack`]: offline prompt packs (carry prompts to a model elsewhere, ingest the answers).
//! - [`fsguard`]: ownership and permission checks on the paths root writes into or reads
//!   state from.
#![warn(missing_docs)]

pub mod aare;
pub mod check;
pub mod config;
pub mod display;
pub mod draft;
pub mod explain;
pub mod fsguard;
pub mod llm;
pub mod log;
pub mod pack;
pub mod profile;
pub mod prompt;
pub mod redact;
pub mod review;
