//! Prompt templates, token counting and batching under a budget.
