//! The OpenAI-compatible client and the parser for model answers.
