//! The finding catalogue: every code the cross-check can emit, with its default weight.
//!
//! Codes are stable kebab-case strings; each has an entry in `docs/findings.md` (What / Why /
//! Example / Fix safety). A test keeps the two in step. This module only names findings; the
//! analyses that raise them live in [`super::danger`] and [`super::Checker`].

use super::{Finding, Severity};

/// Every finding the cross-check can raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// The rule text does not parse as policy.
    InvalidRule,
    /// The rule covers no observed event group.
    NoEvidence,
    /// Every group the rule covers comes only from userspace-writable log sources.
    UntrustedEvidence,
    /// The proposer claimed groups the rule does not cover, or that do not exist.
    UnsupportedClaim,
    /// The rule grants permissions beyond those observed on the paths it covers.
    ExtraPerms,
    /// The rule's path pattern matches paths beyond the evidence.
    BroadPath,
    /// The rule would open a catalogued sensitive path that was never observed.
    SensitivePath,
    /// The rule grants a catalogued sensitive target, observed or not (reading secrets,
    /// signals to or ptrace of unconfined processes, eavesdropping on D-Bus, …).
    SensitiveTarget,
    /// The rule grants an access that hands over the host, the kernel or the policy
    /// (writing `/etc/ld.so.preload`, `sudoers`, PAM, AppArmor's `.replace`, `core_pattern`,
    /// a container runtime socket, systemd's `StartTransientUnit`, …), observed or not.
    CriticalTarget,
    /// Write (or append) on a recursive `/**`-style glob.
    RecursiveWriteGlob,
    /// Write and execute granted on the same path.
    WriteExec,
    /// An exec transition that leaves confinement (`ux`, `Ux`, `pux`, `cux`,
    /// `px -> unconfined`, …).
    UnconfinedExec,
    /// A `px`/`cx` transition to a named profile the loaded policy does not define.
    UnknownExecTarget,
    /// Execute permission on a globbed path.
    ExecGlob,
    /// A capability that amounts to (near) root.
    DangerousCapability,
    /// A capability worth a second look.
    SensitiveCapability,
    /// A rule granting every access of its class (`capability,`, `network,`, `file,`, …).
    UnrestrictedRule,
    /// A non-file rule that names no peer, address, D-Bus name or family: every process,
    /// service or socket of its kind.
    BroadRule,
    /// `mount`, `remount`, `umount` or `pivot_root`.
    MountRule,
    /// `ptrace` with `trace` (or all) access.
    PtraceTrace,
    /// A raw or packet socket.
    RawSocket,
    /// `change_profile` without a target, or to `unconfined`.
    ChangeProfileUnconfined,
    /// Creating user namespaces.
    UsernsCreate,
    /// The proposal came from a language model: never better than review.
    ModelProposal,
    /// An `include` that could not be resolved or judged.
    UnresolvedInclude,
    /// A `deny` rule: grants nothing, blocks the evidence for good.
    DenyRule,
    /// A name in the rule or its evidence reads like an instruction to a model.
    InstructionLikeName,
}

impl Code {
    /// Every code, in documentation order.
    pub const ALL: &'static [Code] = &[
        Code::InvalidRule,
        Code::NoEvidence,
        Code::UntrustedEvidence,
        Code::UnsupportedClaim,
        Code::ExtraPerms,
        Code::BroadPath,
        Code::SensitivePath,
        Code::SensitiveTarget,
        Code::CriticalTarget,
        Code::RecursiveWriteGlob,
        Code::WriteExec,
        Code::UnconfinedExec,
        Code::UnknownExecTarget,
        Code::ExecGlob,
        Code::DangerousCapability,
        Code::SensitiveCapability,
        Code::UnrestrictedRule,
        Code::BroadRule,
        Code::MountRule,
        Code::PtraceTrace,
        Code::RawSocket,
        Code::ChangeProfileUnconfined,
        Code::UsernsCreate,
        Code::ModelProposal,
        Code::UnresolvedInclude,
        Code::DenyRule,
        Code::InstructionLikeName,
    ];

    /// The stable kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidRule => "invalid-rule",
            Code::NoEvidence => "no-evidence",
            Code::UntrustedEvidence => "untrusted-evidence",
            Code::UnsupportedClaim => "unsupported-claim",
            Code::ExtraPerms => "extra-perms",
            Code::BroadPath => "broad-path",
            Code::SensitivePath => "sensitive-path",
            Code::SensitiveTarget => "sensitive-target",
            Code::CriticalTarget => "critical-target",
            Code::RecursiveWriteGlob => "recursive-write-glob",
            Code::WriteExec => "write-exec",
            Code::UnconfinedExec => "unconfined-exec",
            Code::UnknownExecTarget => "unknown-exec-target",
            Code::ExecGlob => "exec-glob",
            Code::DangerousCapability => "dangerous-capability",
            Code::SensitiveCapability => "sensitive-capability",
            Code::UnrestrictedRule => "unrestricted-rule",
            Code::BroadRule => "broad-rule",
            Code::MountRule => "mount-rule",
            Code::PtraceTrace => "ptrace-trace",
            Code::RawSocket => "raw-socket",
            Code::ChangeProfileUnconfined => "change-profile-unconfined",
            Code::UsernsCreate => "userns-create",
            Code::ModelProposal => "model-proposal",
            Code::UnresolvedInclude => "unresolved-include",
            Code::DenyRule => "deny-rule",
            Code::InstructionLikeName => "instruction-like-name",
        }
    }

    /// The weight a finding of this code carries for a drafter or model proposal.
    pub fn severity(self) -> Severity {
        match self {
            Code::InvalidRule
            | Code::NoEvidence
            | Code::UntrustedEvidence
            | Code::SensitivePath
            | Code::CriticalTarget
            | Code::RecursiveWriteGlob
            | Code::WriteExec
            | Code::UnconfinedExec
            | Code::UnknownExecTarget
            | Code::DangerousCapability
            | Code::UnrestrictedRule
            | Code::MountRule
            | Code::PtraceTrace
            | Code::RawSocket
            | Code::ChangeProfileUnconfined
            | Code::UnresolvedInclude => Severity::Error,
            Code::UnsupportedClaim
            | Code::ExtraPerms
            | Code::BroadPath
            | Code::SensitiveTarget
            | Code::BroadRule
            | Code::ExecGlob
            | Code::SensitiveCapability
            | Code::UsernsCreate
            | Code::ModelProposal
            | Code::InstructionLikeName => Severity::Warning,
            Code::DenyRule => Severity::Note,
        }
    }

    /// True for danger findings a human edit may accept: they block a drafter's or a
    /// model's proposal, but a human who wrote the rule on purpose gets `review` instead.
    /// Missing evidence, untrusted evidence and invalid text block whoever proposed them.
    pub fn human_may_accept(self) -> bool {
        !matches!(
            self,
            Code::InvalidRule
                | Code::NoEvidence
                | Code::UntrustedEvidence
                | Code::UnresolvedInclude
        )
    }

    /// Looks a code up by its kebab-case name.
    pub fn from_name(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == name)
    }

    /// A finding of this code with its default severity.
    pub fn finding(self, message: impl Into<String>) -> Finding {
        Finding {
            code: self.as_str().to_string(),
            severity: self.severity(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_are_unique_kebab_case_and_round_trip() {
        let mut seen = BTreeSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "{s} is not kebab-case"
            );
            assert_eq!(Code::from_name(s), Some(*c));
        }
    }

    #[test]
    fn every_code_is_documented_with_all_sections() {
        let doc = include_str!("../../docs/findings.md");
        for c in Code::ALL {
            let head = format!("## `{}`", c.as_str());
            let start = doc
                .find(&head)
                .unwrap_or_else(|| panic!("docs/findings.md lacks a section for {c}"));
            let rest = &doc[start + head.len()..];
            let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
            for part in ["**What**", "**Why**", "**Example**", "**Fix safety**"] {
                assert!(section.contains(part), "{c}: section lacks {part}");
            }
        }
        // and nothing documented that does not exist
        for line in doc.lines().filter(|l| l.starts_with("## `")) {
            let name = line.trim_start_matches("## `").trim_end_matches('`');
            assert!(
                Code::from_name(name).is_some(),
                "documented code {name} does not exist"
            );
        }
    }
}
