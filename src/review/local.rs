//! The `local/` override target (`tune --local`): approved rules go into
//! `PROFILE_DIR/local/PROFILE_FILE_NAME`, which the profile pulls in with
//! `include if exists <local/PROFILE_FILE_NAME>`, and the packaged profile stays untouched.
//!
//! Rules are appended one per line at the end of the override file (created with a comment
//! header when absent); existing lines are kept byte for byte. The override is included in a
//! top-level profile's body, so only rules for the file's top-level profiles may go there: a
//! rule for a hat or child profile (`name//hat`) is refused rather than granted to its
//! parent.

use std::path::{Path, PathBuf};

use super::Applier;

/// `DIR/local/NAME` for the profile file `DIR/NAME`.
pub fn local_path(profile_path: &Path) -> Option<PathBuf> {
    let name = profile_path.file_name()?;
    let dir = profile_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Some(dir.join("local").join(name))
}

/// True when a non-comment line of `profile_text` includes `local/NAME` (any include form:
/// `include`, `#include`, `include if exists`, `<…>` or `"…"`).
pub fn includes_local(profile_text: &str, name: &str) -> bool {
    let target = format!("local/{name}");
    profile_text.lines().any(|line| {
        let l = line.trim_start();
        let l = l.strip_prefix('#').unwrap_or(l);
        let Some(rest) = l.strip_prefix("include") else {
            return false;
        };
        let rest = rest.trim_start();
        let rest = rest
            .strip_prefix("if exists")
            .map(str::trim_start)
            .unwrap_or(rest);
        let inner = rest
            .strip_prefix('<')
            .and_then(|r| r.split_once('>'))
            .or_else(|| rest.strip_prefix('"').and_then(|r| r.split_once('"')))
            .map(|(inner, _)| inner.trim());
        inner == Some(target.as_str())
    })
}

/// The comment header of a new override file.
pub fn header(name: &str) -> String {
    format!(
        "# Site-specific additions and overrides for '{name}'.\n\
         # Rules below were approved with `aa-assist tune --local`.\n"
    )
}

/// Appends rules to an override file's text; see the module doc.
#[derive(Debug, Clone)]
pub struct LocalApplier {
    /// The profile file name, used in the header of a new file.
    pub name: String,
    /// Names of the top-level profiles the profile file defines.
    pub profiles: std::collections::BTreeSet<String>,
}

impl Applier for LocalApplier {
    fn apply(&self, text: &str, profile: &str, rule: &str) -> Result<String, String> {
        if !self.profiles.contains(profile) {
            return Err(format!(
                "local/{} is included by the top-level profile(s) {}; a rule for {profile:?} \
                 cannot go there (run without --local)",
                self.name,
                self.profiles
                    .iter()
                    .map(|p| format!("{p:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let rule = rule.trim();
        if rule.is_empty() || rule.contains('\n') {
            return Err("a local override takes exactly one rule line".into());
        }
        if crate::display::has_hidden(rule) {
            return Err(
                "the rule holds a raw control, bidirectional or invisible character".into(),
            );
        }
        let mut out = if text.is_empty() {
            header(&self.name)
        } else {
            text.to_string()
        };
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(rule);
        out.push('\n');
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_include_in_any_form() {
        let n = "usr.sbin.x";
        assert!(includes_local(
            "  include if exists <local/usr.sbin.x>\n",
            n
        ));
        assert!(includes_local("  #include <local/usr.sbin.x>\n", n));
        assert!(includes_local("include \"local/usr.sbin.x\"\n", n));
        assert!(!includes_local(
            "  # include <local/usr.sbin.x> was removed\n",
            n
        ));
        assert!(!includes_local("  include <local/usr.sbin.xy>\n", n));
    }

    #[test]
    fn appends_and_creates_with_header() {
        let a = LocalApplier {
            name: "usr.sbin.x".into(),
            profiles: ["x".to_string()].into(),
        };
        let t = a.apply("", "x", "/etc/a r,").expect("apply");
        assert!(t.starts_with("# Site-specific"));
        assert!(t.ends_with("\n/etc/a r,\n"));
        assert_eq!(
            a.apply("# mine", "x", " /b w, ").expect("apply"),
            "# mine\n/b w,\n"
        );
        assert!(a.apply("", "x", "a,\nb,").is_err());
        let e = a.apply("", "x//hat", "/c r,").expect_err("hat refused");
        assert!(e.contains("cannot go there"), "{e}");
        assert_eq!(
            local_path(Path::new("/etc/apparmor.d/usr.sbin.x")),
            Some(PathBuf::from("/etc/apparmor.d/local/usr.sbin.x"))
        );
    }
}
