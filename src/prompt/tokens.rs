//! Token counting with the tokenizer of the chosen model (BPE tables ship inside
//! `tiktoken-rs`; nothing is downloaded).

use tiktoken_rs::tokenizer::Tokenizer;
use tiktoken_rs::CoreBPE;

/// Counts tokens the way the chosen model's tokenizer does: `o200k_base` for current OpenAI
/// models (gpt-4o, gpt-4.1, gpt-5, o-series), `cl100k_base` for everything else, including
/// local models whose tokenizer we cannot know (an estimate, usually within ~15%).
#[derive(Clone)]
pub struct TokenCounter {
    bpe: &'static CoreBPE,
    encoding: &'static str,
}

impl std::fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCounter")
            .field("encoding", &self.encoding)
            .finish()
    }
}

/// Tokens a chat request adds per message (role and separators), as OpenAI documents it.
pub const TOKENS_PER_MESSAGE: usize = 3;
/// Tokens that prime the assistant's reply.
pub const REPLY_PRIMING: usize = 3;

impl TokenCounter {
    /// The counter for `model`.
    pub fn for_model(model: &str) -> Self {
        let o200k = matches!(
            tiktoken_rs::tokenizer::get_tokenizer(model),
            Some(Tokenizer::O200kBase | Tokenizer::O200kHarmony)
        ) || is_o200k_family(model);
        if o200k {
            TokenCounter {
                bpe: tiktoken_rs::o200k_base_singleton(),
                encoding: "o200k_base",
            }
        } else {
            TokenCounter {
                bpe: tiktoken_rs::cl100k_base_singleton(),
                encoding: "cl100k_base",
            }
        }
    }

    /// Name of the encoding in use.
    pub fn encoding(&self) -> &'static str {
        self.encoding
    }

    /// Tokens in a piece of text (special tokens are counted as ordinary text).
    pub fn count(&self, text: &str) -> usize {
        self.bpe.encode_ordinary(text).len()
    }

    /// Tokens of a system + user chat request, including per-message overhead.
    pub fn count_chat(&self, system: &str, user: &str) -> usize {
        self.count(system) + self.count(user) + 2 * TOKENS_PER_MESSAGE + REPLY_PRIMING
    }
}

fn is_o200k_family(model: &str) -> bool {
    let m = model.rsplit('/').next().unwrap_or(model);
    [
        "gpt-4o",
        "gpt-4.1",
        "gpt-4.5",
        "gpt-5",
        "o1",
        "o3",
        "o4",
        "chatgpt-4o",
        "gpt-oss",
    ]
    .iter()
    .any(|p| m.starts_with(p))
}

/// List price in US dollars per million (input, output) tokens for well-known OpenAI models
/// (published prices as of 2025; pass your own with the configuration for anything else).
/// `None` for unknown and local models.
pub fn price_per_mtok(model: &str) -> Option<(f64, f64)> {
    let m = model.rsplit('/').next().unwrap_or(model);
    const TABLE: &[(&str, f64, f64)] = &[
        ("gpt-4o-mini", 0.15, 0.60),
        ("gpt-4o", 2.50, 10.00),
        ("gpt-4.1-nano", 0.10, 0.40),
        ("gpt-4.1-mini", 0.40, 1.60),
        ("gpt-4.1", 2.00, 8.00),
        ("gpt-5-nano", 0.05, 0.40),
        ("gpt-5-mini", 0.25, 2.00),
        ("gpt-5", 1.25, 10.00),
        ("o4-mini", 1.10, 4.40),
        ("o3-mini", 1.10, 4.40),
        ("o3", 2.00, 8.00),
    ];
    TABLE
        .iter()
        .find(|(p, _, _)| m.starts_with(p))
        .map(|(_, i, o)| (*i, *o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_encoding_by_model() {
        assert_eq!(
            TokenCounter::for_model("gpt-4o-mini").encoding(),
            "o200k_base"
        );
        assert_eq!(TokenCounter::for_model("gpt-5").encoding(), "o200k_base");
        assert_eq!(TokenCounter::for_model("o3-mini").encoding(), "o200k_base");
        assert_eq!(
            TokenCounter::for_model("gemma3-270m").encoding(),
            "cl100k_base"
        );
        assert_eq!(TokenCounter::for_model("gpt-4").encoding(), "cl100k_base");
    }

    #[test]
    fn counts_and_prices() {
        let c = TokenCounter::for_model("gpt-4o");
        assert_eq!(c.count("hello world"), 2);
        assert_eq!(c.count_chat("", ""), 9);
        assert_eq!(price_per_mtok("gpt-4o-mini"), Some((0.15, 0.60)));
        assert_eq!(price_per_mtok("llama3"), None);
    }
}
