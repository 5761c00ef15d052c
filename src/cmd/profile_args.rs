//! The profile-directory flags shared by every command that reads a profile (`explain`,
//! `check`, `tune`, `ingest`, `review`, `status`, `pack`): one clap struct, flattened into
//! each, and its resolution against the config file and environment.
//!
//! Precedence for the profile directory: `-d DIR`, then `AA_ASSIST_PROFILE_DIR`, then
//! `profile_dir` in the config file, then `/etc/apparmor.d`. Include directories: the config
//! file's `include_dirs`, then every `-I DIR`. Loading the config here means a bad config file
//! is an error for every such command, never silently ignored.

use std::path::{Path, PathBuf};

use aa_assist::config::Config;

/// The profile directory when neither flag, environment nor config names one.
pub const DEFAULT_PROFILE_DIR: &str = "/etc/apparmor.d";

/// `-d DIR` and `-I DIR`, flattened into every command that reads a profile.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ProfileDirArgs {
    /// Profile directory: where profile names are looked up and `include <…>` is resolved
    /// [env: AA_ASSIST_PROFILE_DIR; config profile_dir; default: /etc/apparmor.d].
    #[arg(short = 'd', long = "profile-dir", value_name = "DIR")]
    pub profile_dir: Option<PathBuf>,
    /// Extra include directory, searched before the profile directory (repeatable; added to
    /// config include_dirs).
    #[arg(
        short = 'I',
        long = "include",
        visible_alias = "include-dir",
        value_name = "DIR"
    )]
    pub include: Vec<PathBuf>,
}

impl ProfileDirArgs {
    /// Fill in what the flags left open from the environment and the config file.
    pub fn resolve(&mut self) -> anyhow::Result<()> {
        let config = Config::load_default()?;
        self.resolve_with(&config);
        Ok(())
    }

    /// [`ProfileDirArgs::resolve`] against an already loaded config (environment applied).
    pub fn resolve_with(&mut self, config: &Config) {
        if self.profile_dir.is_none() {
            self.profile_dir = Some(
                config
                    .profile_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_PROFILE_DIR)),
            );
        }
        let mut include = config.include_dirs.clone();
        include.extend(std::mem::take(&mut self.include));
        self.include = include;
    }

    /// The profile directory (the default until [`ProfileDirArgs::resolve`] has run).
    pub fn dir(&self) -> &Path {
        self.profile_dir
            .as_deref()
            .unwrap_or(Path::new(DEFAULT_PROFILE_DIR))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_config_and_config_beats_default() {
        let mut config = Config::default();
        let mut none = ProfileDirArgs::default();
        none.resolve_with(&config);
        assert_eq!(none.dir(), Path::new(DEFAULT_PROFILE_DIR));

        config.profile_dir = Some(PathBuf::from("/srv/policy"));
        config.include_dirs = vec![PathBuf::from("/srv/abstractions")];
        let mut from_config = ProfileDirArgs::default();
        from_config.resolve_with(&config);
        assert_eq!(from_config.dir(), Path::new("/srv/policy"));

        let mut flag = ProfileDirArgs {
            profile_dir: Some(PathBuf::from("./here")),
            include: vec![PathBuf::from("./inc")],
        };
        flag.resolve_with(&config);
        assert_eq!(flag.dir(), Path::new("./here"));
        assert_eq!(
            flag.include,
            [PathBuf::from("/srv/abstractions"), PathBuf::from("./inc")]
        );
    }
}
