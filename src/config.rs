//! User configuration: the TOML file in the XDG config dir, then environment variables, then
//! flags, each overriding the one before.
//!
//! Owns the file's location, its documented keys and their validation. It does not read
//! secrets: API keys come only from the environment variable the config *names*.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Errors reading or validating the config file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys or wrong types.
    #[error("bad config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column where TOML gives them.
        message: String,
    },
    /// Running as root, the file or a directory above it is another user's or writable by
    /// others ([`crate::fsguard`]).
    #[error(transparent)]
    Untrusted(#[from] crate::fsguard::Untrusted),
}

/// The `[llm]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSection {
    /// OpenAI-compatible base URL, e.g. `http://127.0.0.1:11434/v1` (env `OPENAI_BASE_URL`).
    pub base_url: Option<String>,
    /// Model name (env `AA_ASSIST_MODEL`).
    pub model: Option<String>,
    /// Name of the environment variable holding the API key (default `OPENAI_API_KEY`).
    pub api_key_env: Option<String>,
    /// Batches in flight at once.
    pub concurrency: Option<usize>,
    /// Token budget per prompt batch.
    pub max_prompt_tokens: Option<usize>,
    /// Seconds before a request is abandoned.
    pub timeout_secs: Option<u64>,
    /// Directory with prompt templates overriding the built-in ones.
    pub prompts_dir: Option<PathBuf>,
}

/// The `[redact]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactSection {
    /// Extra regular expressions whose matches are pseudonymised before sending.
    #[serde(default)]
    pub patterns: Vec<String>,
}

/// The whole file. Every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Profile directory (default `/etc/apparmor.d`).
    pub profile_dir: Option<PathBuf>,
    /// Extra include search directories.
    #[serde(default)]
    pub include_dirs: Vec<PathBuf>,
    /// Model settings.
    #[serde(default)]
    pub llm: LlmSection,
    /// Redaction settings.
    #[serde(default)]
    pub redact: RedactSection,
}

impl Config {
    /// Where the file is looked for: `$AA_ASSIST_CONFIG`, else
    /// `$XDG_CONFIG_HOME/aa-assist/config.toml` (usually `~/.config/aa-assist/config.toml`).
    pub fn default_path() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os("AA_ASSIST_CONFIG") {
            return Some(PathBuf::from(p));
        }
        dirs::config_dir().map(|d| d.join("aa-assist").join("config.toml"))
    }

    /// Parse config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    /// Load the file at `path`; a missing file is an empty config, an unreadable or invalid
    /// one is an error (never silently ignored).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// [`Config::load`], refusing a file that fails `policy` (checked after reading, so
    /// what was read is what was checked: a directory that passes cannot have been another
    /// user's a moment before). A missing file is an empty config.
    pub fn load_trusted(path: &Path, policy: &crate::fsguard::Policy) -> Result<Self, ConfigError> {
        let cfg = Self::load(path)?;
        if path.exists() {
            policy.check(path, crate::fsguard::Usage::Read)?;
        }
        Ok(cfg)
    }

    /// Load from [`Config::default_path`], then apply environment overrides. As root, a
    /// file that another user owns or could replace is refused
    /// ([`crate::fsguard::Policy::current`]).
    pub fn load_default() -> Result<Self, ConfigError> {
        let mut cfg = match Self::default_path() {
            Some(p) => Self::load_trusted(&p, &crate::fsguard::Policy::current())?,
            None => Self::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok());
        Ok(cfg)
    }

    /// Environment overrides: `OPENAI_BASE_URL`, `AA_ASSIST_MODEL`, `AA_ASSIST_PROFILE_DIR`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        if let Some(v) = get("OPENAI_BASE_URL").filter(|v| !v.is_empty()) {
            self.llm.base_url = Some(v);
        }
        if let Some(v) = get("AA_ASSIST_MODEL").filter(|v| !v.is_empty()) {
            self.llm.model = Some(v);
        }
        if let Some(v) = get("AA_ASSIST_PROFILE_DIR").filter(|v| !v.is_empty()) {
            self.profile_dir = Some(PathBuf::from(v));
        }
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        };
        if self.llm.concurrency == Some(0) {
            return Err(bad("llm.concurrency must be at least 1".into()));
        }
        if self.llm.max_prompt_tokens.is_some_and(|t| t < 256) {
            return Err(bad("llm.max_prompt_tokens must be at least 256".into()));
        }
        for p in &self.redact.patterns {
            regex::Regex::new(p)
                .map_err(|e| bad(format!("redact.patterns: invalid regex {p:?}: {e}")))?;
        }
        Ok(())
    }
}

/// The one owner check of the config file, for settings that choose where a secret comes
/// from (`llm.api_key_env`): `path` must be owned by the invoking user (effective uid) or by
/// root, and not writable by group or others. Otherwise anyone who can write the file could
/// have any variable of the caller's environment (`AWS_SECRET_ACCESS_KEY`, …) sent to a server
/// as the bearer token. The error names the file, the setting and what is wrong.
pub fn check_private(path: &Path, setting: &str) -> Result<(), ConfigError> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let me = rustix::process::geteuid().as_raw();
    let mut wrong = Vec::new();
    if meta.uid() != me && meta.uid() != 0 {
        wrong.push(format!(
            "it is owned by uid {}, not by you (uid {me})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        wrong.push(format!(
            "it is writable by {} (mode {:o}; chmod go-w)",
            if meta.mode() & 0o002 != 0 {
                "others"
            } else {
                "its group"
            },
            meta.mode() & 0o7777
        ));
    }
    if wrong.is_empty() {
        return Ok(());
    }
    Err(ConfigError::Parse {
        path: path.to_path_buf(),
        message: format!(
            "{setting} may only be set in a config file that is yours and not writable by \
             others: {}",
            wrong.join(" and ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_source_needs_a_private_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "").unwrap();
        for (mode, ok) in [(0o600, true), (0o644, true), (0o664, false), (0o646, false)] {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            let r = check_private(&f, "llm.api_key_env");
            assert_eq!(r.is_ok(), ok, "{mode:o}: {r:?}");
            if let Err(e) = r {
                let m = e.to_string();
                assert!(m.contains("c.toml") && m.contains("llm.api_key_env"), "{m}");
            }
        }
    }

    #[test]
    fn parses_documented_keys() {
        let cfg = Config::parse(
            "profile_dir = \"/etc/apparmor.d\"\n[llm]\nbase_url = \"http://127.0.0.1:11434/v1\"\nmodel = \"llama3\"\nconcurrency = 2\n[redact]\npatterns = [\"acme-[0-9]+\"]\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(cfg.llm.model.as_deref(), Some("llama3"));
        assert_eq!(cfg.llm.concurrency, Some(2));
        assert_eq!(cfg.redact.patterns, vec!["acme-[0-9]+".to_string()]);
    }

    #[test]
    fn unknown_key_is_an_error_naming_the_file() {
        let err = Config::parse("[llm]\nmodle = \"x\"\n", Path::new("/x/config.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/x/config.toml"), "{msg}");
        assert!(msg.contains("modle"), "{msg}");
    }

    #[test]
    fn bad_values_are_rejected() {
        assert!(Config::parse("[llm]\nconcurrency = 0\n", Path::new("c")).is_err());
        assert!(Config::parse("[redact]\npatterns = [\"(\"]\n", Path::new("c")).is_err());
    }

    #[test]
    fn env_overrides_file() {
        let mut cfg = Config::parse("[llm]\nmodel = \"a\"\n", Path::new("c")).unwrap();
        cfg.apply_env(|k| (k == "AA_ASSIST_MODEL").then(|| "b".to_string()));
        assert_eq!(cfg.llm.model.as_deref(), Some("b"));
    }

    #[test]
    fn missing_file_is_empty_config() {
        let cfg = Config::load(Path::new("/nonexistent/aa-assist/config.toml")).unwrap();
        assert_eq!(cfg, Config::default());
    }
}
