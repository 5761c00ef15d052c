//! Deterministic explanations: why each event group happened ([`causes`], audit2why-style
//! cause classes with stable names) and what each rule of a profile means ([`profile`]).
//!
//! Owns the cause classes and the plain-English reading of rules. It does not talk to a
//! model (a model's narrative is put beside these by the commands), does not read files and
//! never prints. Coverage comes from [`crate::check::coverage`], rule dangers from
//! [`crate::check::danger`]: one implementation of each.

pub mod meaning;
pub mod profile;

use std::collections::HashMap;

use serde::Serialize;

use crate::check::coverage::{GroupStatus, Status};
use crate::log::group::Grouping;
use crate::log::{Event, EventClass, EventKind};

/// A cause class. The kebab-case names are stable (scripts match on them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseClass {
    /// The profile on disk already allows it: the kernel has an older profile loaded.
    StaleProfile,
    /// An explicit `deny` rule matches.
    ExplicitDeny,
    /// An exec needs a transition rule (`ix`, `px`, `cx`, …) or its target profile is missing.
    ExecTransition,
    /// A capability for which a narrower one often suffices (e.g. `dac_read_search`).
    NarrowerCapability,
    /// The kernel could not resolve the path (disconnected path, name lookup failure).
    PathResolution,
    /// A transition refused because the task has `no_new_privs` set.
    NoNewPrivs,
    /// Logged in complain mode: allowed now, would be denied once enforced.
    ComplainMode,
    /// The kernel reported an error other than a policy decision.
    KernelError,
    /// No rule allows it.
    MissingRule,
}

impl CauseClass {
    /// Every class, for documentation and the uniqueness test.
    pub const ALL: [CauseClass; 9] = [
        CauseClass::StaleProfile,
        CauseClass::ExplicitDeny,
        CauseClass::ExecTransition,
        CauseClass::NarrowerCapability,
        CauseClass::PathResolution,
        CauseClass::NoNewPrivs,
        CauseClass::ComplainMode,
        CauseClass::KernelError,
        CauseClass::MissingRule,
    ];

    /// The stable name (`stale-profile`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CauseClass::StaleProfile => "stale-profile",
            CauseClass::ExplicitDeny => "explicit-deny",
            CauseClass::ExecTransition => "exec-transition",
            CauseClass::NarrowerCapability => "narrower-capability",
            CauseClass::PathResolution => "path-resolution",
            CauseClass::NoNewPrivs => "no-new-privs",
            CauseClass::ComplainMode => "complain-mode",
            CauseClass::KernelError => "kernel-error",
            CauseClass::MissingRule => "missing-rule",
        }
    }
}

/// One cause of a group, with a sentence for humans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cause {
    /// The class.
    pub class: CauseClass,
    /// Why, in one or two sentences (may quote log values: sanitize before printing).
    pub message: String,
}

/// The causes of one group, most specific first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupCauses {
    /// `G1`, ….
    pub group: String,
    /// Profile the events were logged against.
    pub profile: String,
    /// `DENIED`, `ALLOWED`, ….
    pub mode: String,
    /// Rule class (`file`, `capability`, …).
    pub class: String,
    /// Operation.
    pub operation: String,
    /// What was accessed.
    pub resource: String,
    /// Requested/denied mask.
    pub mask: String,
    /// Number of events.
    pub count: u64,
    /// The causes.
    pub causes: Vec<Cause>,
}

/// Capabilities for which a narrower one often suffices: (asked, narrower, when).
///
/// `dac_override` is not here: for a read-only access (read, directory search) the kernel
/// asks for `CAP_DAC_READ_SEARCH` first and `CAP_DAC_OVERRIDE` only after it is refused
/// (fs/namei.c `generic_permission`), so a logged `dac_override` means a write or execute,
/// which `dac_read_search` does not allow. See [`DAC_OVERRIDE_CAUSE`].
pub const NARROWER_CAPABILITIES: &[(&str, &str, &str)] = &[
    (
        "sys_admin",
        "a specific capability (e.g. sys_resource, net_admin, sys_ptrace) or a mount rule",
        "sys_admin is a catch-all; find the operation that needs it (strace -f) first",
    ),
    (
        "fowner",
        "chown or fsetid",
        "when the program only changes ownership or keeps set-id bits",
    ),
    (
        "sys_ptrace",
        "a `ptrace read` rule",
        "when the program only reads /proc/PID of other processes",
    ),
];

/// What a logged `dac_override` means and what to do instead.
pub const DAC_OVERRIDE_CAUSE: &str = "capability dac_override was asked for: the kernel asks \
     for dac_read_search first when the access only reads a file or searches a directory, so \
     dac_override means the program writes (or executes) a file whose owner and mode do not let \
     its user do that; dac_read_search will not help with a write. Narrower than the \
     capability: give the service's user write access to that file (owner, group, ACL). Only \
     if dac_read_search was refused just before for the same access may the access be a read: \
     then allow only dac_read_search and watch for a new denial";

/// Explain every group of `grouping`. With `statuses` (from
/// [`crate::check::coverage::statuses`] for a given profile), groups the profile already
/// allows or explicitly denies get `stale-profile` / `explicit-deny`.
pub fn causes(
    events: &[Event],
    grouping: &Grouping,
    statuses: Option<&[GroupStatus]>,
) -> Vec<GroupCauses> {
    // built once: the events of every group, and each group's (first) status
    let by_group = grouping.events_by_group();
    let mut by_id: HashMap<&str, &GroupStatus> = HashMap::new();
    for s in statuses.unwrap_or_default() {
        by_id.entry(s.group.as_str()).or_insert(s);
    }
    grouping
        .groups
        .iter()
        .zip(&by_group)
        .map(|(g, evs)| {
            let evs: Vec<&Event> = evs.iter().filter_map(|&i| events.get(i)).collect();
            let status = by_id.get(g.id.as_str()).copied();
            let k = &g.key;
            GroupCauses {
                group: g.id.clone(),
                profile: k.profile.clone(),
                mode: k.mode.as_str().to_string(),
                class: k.class.as_str().to_string(),
                operation: k.operation.clone(),
                resource: k.resource.clone(),
                mask: k.mask.clone(),
                count: g.count,
                causes: group_causes(k.mode, k.class, &k.operation, &k.resource, &evs, status),
            }
        })
        .collect()
}

fn infos<'a>(evs: &'a [&'a Event]) -> Vec<&'a str> {
    let mut out: Vec<&str> = evs.iter().filter_map(|e| e.info.as_deref()).collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn group_causes(
    mode: EventKind,
    class: EventClass,
    operation: &str,
    resource: &str,
    evs: &[&Event],
    status: Option<&GroupStatus>,
) -> Vec<Cause> {
    let mut out = Vec::new();
    let infos = infos(evs);
    let info_has = |needle: &str| {
        infos
            .iter()
            .find(|i| i.to_ascii_lowercase().contains(needle))
            .copied()
    };
    let mut policy_said = false;
    match status.map(|s| &s.status) {
        Some(Status::Allowed { rules }) => {
            policy_said = true;
            let by: Vec<String> = rules
                .iter()
                .map(|r| format!("`{}` ({})", r.rule, r.source))
                .collect();
            out.push(Cause {
                class: CauseClass::StaleProfile,
                message: format!(
                    "the profile on disk already allows this ({}), yet it was logged: the kernel \
                     has an older version loaded; reload it with `apparmor_parser -r`",
                    by.join(", ")
                ),
            });
        }
        Some(Status::Denied { rule }) => {
            policy_said = true;
            out.push(Cause {
                class: CauseClass::ExplicitDeny,
                message: format!(
                    "an explicit deny rule matches: `{}` ({}); adding an allow rule will not \
                     help while it is there",
                    rule.rule, rule.source
                ),
            });
        }
        _ => {}
    }
    if let Some(i) = info_has("disconnected path").or_else(|| info_has("name lookup")) {
        out.push(Cause {
            class: CauseClass::PathResolution,
            message: format!(
                "the kernel could not resolve the path ({i:?}): typically a file reached \
                 through a different mount namespace or a deleted/unlinked path; the \
                 `attach_disconnected` flag (or a rule for the disconnected path) is the \
                 usual fix, not a broader file rule"
            ),
        });
    }
    if let Some(i) = info_has("no new privs") {
        out.push(Cause {
            class: CauseClass::NoNewPrivs,
            message: format!(
                "the transition was refused because the task runs with no_new_privs ({i:?}, \
                 e.g. systemd NoNewPrivileges= or a container runtime); under no_new_privs \
                 the kernel only allows a transition that keeps the current confinement \
                 (security/apparmor/domain.c): use `ix` (stay in this profile) or stack the \
                 target (`px -> &NAME`, `cx -> &NAME`, confined by both); a plain `px` or \
                 `cx` to a child profile is refused the same way"
            ),
        });
    }
    let exec_op = operation == "exec" || class == EventClass::Exec;
    if exec_op || operation == "change_profile" || operation == "change_onexec" {
        let missing_target = info_has("profile not found")
            .or_else(|| info_has("transition"))
            .map(|i| format!(" (kernel says {i:?})"))
            .unwrap_or_default();
        let target = evs
            .iter()
            .find_map(|e| e.name2.as_deref())
            .filter(|t| !resource.contains(*t))
            .map(|t| format!(" to `{t}`"))
            .unwrap_or_default();
        out.push(Cause {
            class: CauseClass::ExecTransition,
            message: format!(
                "running `{resource}` needs an exec rule that says which profile the new \
                 program runs under{target}: `ix` (inherit this one), `px` (its own \
                 profile, which must exist), `cx` (a child profile) — avoid `ux`{missing_target}"
            ),
        });
    }
    if class == EventClass::Capability {
        if resource == "dac_override" || operation == "dac_override" {
            out.push(Cause {
                class: CauseClass::NarrowerCapability,
                message: DAC_OVERRIDE_CAUSE.into(),
            });
        }
        for (cap, narrower, when) in NARROWER_CAPABILITIES {
            if resource == *cap || operation == *cap {
                out.push(Cause {
                    class: CauseClass::NarrowerCapability,
                    message: format!(
                        "capability {cap} was asked for; {narrower} is often enough ({when}); \
                         the kernel asks for the broad one first, so try the narrower one and \
                         watch for a new denial"
                    ),
                });
            }
        }
    }
    if mode == EventKind::Error
        || evs
            .iter()
            .any(|e| e.error_code.is_some_and(|c| c != 0 && c != 13 && c != 1))
    {
        let code = evs.iter().find_map(|e| e.error_code).unwrap_or_default();
        out.push(Cause {
            class: CauseClass::KernelError,
            message: format!(
                "the kernel reported error {code}{}: not only a policy decision; check the \
                 info field and the kernel log around it",
                infos
                    .first()
                    .map(|i| format!(" ({i:?})"))
                    .unwrap_or_default()
            ),
        });
    }
    if mode == EventKind::Allowed {
        out.push(Cause {
            class: CauseClass::ComplainMode,
            message: "logged in complain mode: allowed now, denied once the profile is \
                      enforced unless a rule allows it"
                .into(),
        });
    }
    let explained = out.iter().any(|c| {
        matches!(
            c.class,
            CauseClass::PathResolution | CauseClass::NoNewPrivs | CauseClass::KernelError
        )
    });
    if !policy_said && !explained && matches!(mode, EventKind::Denied | EventKind::Allowed) {
        out.push(Cause {
            class: CauseClass::MissingRule,
            message: match status.map(|s| &s.status) {
                Some(Status::Missing) => "no rule of the profile allows it".to_string(),
                _ => "no rule of the loaded profile allows it (give the profile with -p to \
                      check the file on disk)"
                    .to_string(),
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::group::{group_events, Filter};
    use crate::log::parse_line;

    fn explain(lines: &[&str]) -> Vec<GroupCauses> {
        let events: Vec<Event> = lines
            .iter()
            .filter_map(|l| parse_line(l.as_bytes()).expect("parses"))
            .collect();
        let grouping = group_events(&events, &Filter::default());
        causes(&events, &grouping, None)
    }

    fn classes(g: &GroupCauses) -> Vec<&'static str> {
        g.causes.iter().map(|c| c.class.as_str()).collect()
    }

    #[test]
    fn names_are_unique_and_kebab_case() {
        let mut names: Vec<&str> = CauseClass::ALL.iter().map(|c| c.as_str()).collect();
        for n in &names {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{n}");
            let json = serde_json::to_string(
                &CauseClass::ALL[names.iter().position(|x| x == n).expect("present")],
            )
            .expect("json");
            assert_eq!(json, format!("\"{n}\""));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CauseClass::ALL.len());
    }

    #[test]
    fn disconnected_path_is_path_resolution_not_missing_rule() {
        let g = explain(&[
            r#"type=AVC msg=audit(1700000000.000:1): apparmor="DENIED" operation="open" info="Failed name lookup - disconnected path" error=-13 profile="/usr/bin/svc" name="run/x.sock" pid=1 comm="svc" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#,
        ]);
        assert_eq!(classes(&g[0]), vec!["path-resolution"]);
    }

    #[test]
    fn capability_with_narrower_alternative() {
        let g = explain(&[
            r#"type=AVC msg=audit(1700000000.000:2): apparmor="DENIED" operation="capable" profile="/usr/bin/svc" pid=1 comm="svc" capability=1  capname="dac_override""#,
        ]);
        assert_eq!(classes(&g[0]), vec!["narrower-capability", "missing-rule"]);
        let m = &g[0].causes[0].message;
        assert!(
            m.contains("dac_read_search will not help with a write"),
            "{m}"
        );
    }

    #[test]
    fn exec_and_complain_mode() {
        let g = explain(&[
            r#"type=AVC msg=audit(1700000000.000:3): apparmor="ALLOWED" operation="exec" profile="/usr/bin/svc" name="/usr/bin/helper" pid=1 comm="svc" requested_mask="x" denied_mask="x" fsuid=0 ouid=0 target="/usr/bin/svc//null-/usr/bin/helper""#,
        ]);
        assert_eq!(
            classes(&g[0]),
            vec!["exec-transition", "complain-mode", "missing-rule"]
        );
    }

    #[test]
    fn no_new_privs() {
        let g = explain(&[
            r#"type=AVC msg=audit(1700000000.000:4): apparmor="DENIED" operation="exec" info="no new privs" error=-1 profile="/usr/bin/svc" name="/usr/bin/helper" pid=1 comm="svc" requested_mask="x" denied_mask="x" fsuid=0 ouid=0 target="helper""#,
        ]);
        let c = classes(&g[0]);
        assert!(
            c.contains(&"no-new-privs") && !c.contains(&"missing-rule"),
            "{c:?}"
        );
    }
}
