//! Finding a profile in a profile directory: by its name, or by the program it attaches to
//! (`aa-complain /usr/sbin/foo` style). The directory's files are loaded with the
//! [`Loader`] (so variables in attachments are expanded) and attachments are matched with
//! the [`crate::aare`] matcher (so globs such as `/usr/{s,}bin/foo` match as the kernel would).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::resolve::{expand_vars, EffectiveProfile, Loader};

/// What to look for.
#[derive(Debug, Clone, Copy)]
pub enum Query<'a> {
    /// A top-level profile of this name.
    Name(&'a str),
    /// A top-level profile whose attachment matches this program path.
    Program(&'a str),
}

/// One profile found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The file that defines it.
    pub file: PathBuf,
    /// The profile's name.
    pub profile: String,
}

/// The attachment of a top-level profile: its attachment, or its name when that is a path.
pub fn attachment(p: &EffectiveProfile) -> Option<&str> {
    if p.path.len() != 1 || p.header.hat {
        return None;
    }
    p.header.attachment.as_deref().or_else(|| {
        p.header
            .name
            .starts_with('/')
            .then_some(p.header.name.as_str())
    })
}

/// Whether `p` (a top-level profile) attaches to `program`, its attachment's variables
/// expanded with `vars`. An attachment that cannot be expanded or compiled matches nothing.
pub fn attaches_to(
    p: &EffectiveProfile,
    vars: &BTreeMap<String, Vec<String>>,
    program: &str,
) -> bool {
    let Some(a) = attachment(p) else {
        return false;
    };
    let Ok(patterns) = expand_vars(a, vars) else {
        return false;
    };
    patterns.iter().any(|pat| {
        crate::aare::Pattern::compile_path(pat).is_ok_and(|compiled| compiled.is_match(program))
    })
}

/// Every profile in the regular files directly in `dir` that answers `query`, in file-name
/// order. Files that cannot be read or parsed are skipped (they define nothing usable).
pub fn find_in_dir(loader: &mut Loader, dir: &Path, query: Query<'_>) -> Vec<Found> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut found = Vec::new();
    for file in files {
        // A cheap look first: a file that does not even mention the name cannot define it.
        if let Query::Name(name) = query {
            match std::fs::read(&file) {
                Ok(bytes) if contains(&bytes, name.as_bytes()) => {}
                _ => continue,
            }
        }
        let Ok(policy) = loader.load_file(&file) else {
            continue;
        };
        for p in policy.profiles.iter().filter(|p| p.path.len() == 1) {
            let hit = match query {
                Query::Name(name) => p.header.name == name,
                Query::Program(program) => attaches_to(p, &policy.variables, program),
            };
            if hit {
                found.push(Found {
                    file: file.clone(),
                    profile: p.header.name.clone(),
                });
            }
        }
    }
    found
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::IncludeMode;

    #[test]
    fn finds_by_name_and_by_attachment_glob_and_variable() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("a"),
            "@{BIN}=/usr/bin /bin\nprofile alpha @{BIN}/al{p,f}ha {\n}\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("b"), "/usr/sbin/beta {\n}\n").expect("write");
        std::fs::write(dir.path().join("junk"), b"\xff\xfe not a profile {").expect("write");
        let mut loader = Loader::new(dir.path(), IncludeMode::Lenient);
        let file = |f: Vec<Found>| {
            f.into_iter()
                .map(|f| (f.file.file_name().map(|n| n.to_owned()), f.profile))
                .collect::<Vec<_>>()
        };
        let a = Some(std::ffi::OsString::from("a"));
        let b = Some(std::ffi::OsString::from("b"));
        assert_eq!(
            file(find_in_dir(&mut loader, dir.path(), Query::Name("alpha"))),
            [(a.clone(), "alpha".to_string())]
        );
        assert_eq!(
            file(find_in_dir(
                &mut loader,
                dir.path(),
                Query::Program("/bin/alfha")
            )),
            [(a, "alpha".to_string())]
        );
        assert_eq!(
            file(find_in_dir(
                &mut loader,
                dir.path(),
                Query::Program("/usr/sbin/beta")
            )),
            [(b, "/usr/sbin/beta".to_string())]
        );
        assert!(find_in_dir(&mut loader, dir.path(), Query::Program("/usr/bin/gamma")).is_empty());
    }
}
