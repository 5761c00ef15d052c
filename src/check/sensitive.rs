//! The built-in catalogue of sensitive paths, used to rank what a broad rule would open.
//!
//! Owns the catalogue (credentials, kernel memory, container sockets, boot files, …): a
//! concrete example path of each kind joins the path universe, and [`sensitivity`] scores any
//! path. It does not match rule patterns (the cross-check does that with [`crate::aare`]).

/// How sensitive a path is; higher is worse.
pub type Score = u8;

struct Entry {
    score: Score,
    why: &'static str,
    examples: &'static [&'static str],
    test: fn(&str) -> bool,
}

fn home_rel(p: &str) -> Option<&str> {
    if let Some(rest) = p.strip_prefix("/root/") {
        return Some(rest);
    }
    let rest = p.strip_prefix("/home/")?;
    rest.split_once('/').map(|(_, r)| r)
}

fn proc_pid_rel(p: &str) -> Option<&str> {
    let rest = p.strip_prefix("/proc/")?;
    let (pid, r) = rest.split_once('/')?;
    (pid == "self"
        || pid == "thread-self"
        || (!pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())))
    .then_some(r)
}

const CATALOGUE: &[Entry] = &[
    Entry {
        score: 10,
        why: "password hashes",
        examples: &["/etc/shadow", "/etc/gshadow", "/etc/shadow-"],
        test: |p| {
            matches!(
                p,
                "/etc/shadow" | "/etc/gshadow" | "/etc/shadow-" | "/etc/gshadow-"
            )
        },
    },
    Entry {
        score: 10,
        why: "kernel or process memory",
        examples: &["/dev/mem", "/dev/kmem", "/proc/kcore", "/proc/1/mem"],
        test: |p| {
            matches!(
                p,
                "/dev/mem" | "/dev/kmem" | "/dev/port" | "/proc/kcore" | "/proc/kallsyms"
            ) || proc_pid_rel(p).is_some_and(|r| r == "mem" || r == "environ")
        },
    },
    Entry {
        score: 10,
        why: "container runtime socket (root on the host)",
        examples: &["/var/run/docker.sock", "/run/containerd/containerd.sock"],
        test: |p| {
            p.ends_with("/docker.sock")
                || p.ends_with("/containerd.sock")
                || p.ends_with("/podman.sock")
        },
    },
    Entry {
        score: 9,
        why: "SSH keys and authorized keys",
        examples: &[
            "/root/.ssh/id_rsa",
            "/root/.ssh/authorized_keys",
            "/home/user/.ssh/id_ed25519",
            "/home/user/.ssh/authorized_keys",
            "/etc/ssh/ssh_host_ed25519_key",
        ],
        test: |p| {
            home_rel(p).is_some_and(|r| r.starts_with(".ssh/"))
                || (p.starts_with("/etc/ssh/ssh_host_") && p.ends_with("_key"))
        },
    },
    Entry {
        score: 9,
        why: "privilege configuration",
        examples: &[
            "/etc/sudoers",
            "/etc/sudoers.d/admins",
            "/etc/pam.d/common-auth",
        ],
        test: |p| {
            p == "/etc/sudoers" || p.starts_with("/etc/sudoers.d/") || p.starts_with("/etc/pam.d/")
        },
    },
    Entry {
        score: 9,
        why: "AppArmor policy itself",
        examples: &[
            "/etc/apparmor.d/usr.sbin.sshd",
            "/sys/kernel/security/apparmor/policy/.load",
        ],
        test: |p| p.starts_with("/etc/apparmor.d/") || p.starts_with("/sys/kernel/security/"),
    },
    Entry {
        score: 8,
        why: "root's home",
        examples: &["/root/.bashrc", "/root/.profile"],
        test: |p| p.starts_with("/root/"),
    },
    Entry {
        score: 8,
        why: "boot files and kernel images",
        examples: &["/boot/vmlinuz", "/boot/grub/grub.cfg"],
        test: |p| p.starts_with("/boot/"),
    },
    Entry {
        score: 8,
        why: "raw block devices",
        examples: &["/dev/sda", "/dev/nvme0n1"],
        test: |p| {
            p.starts_with("/dev/sd") || p.starts_with("/dev/nvme") || p.starts_with("/dev/vd")
        },
    },
    Entry {
        score: 7,
        why: "user credentials and secrets",
        examples: &[
            "/home/user/.gnupg/private-keys-v1.d/key.key",
            "/home/user/.aws/credentials",
            "/home/user/.config/gh/hosts.yml",
            "/home/user/.netrc",
        ],
        test: |p| {
            home_rel(p).is_some_and(|r| {
                r.starts_with(".gnupg/")
                    || r.starts_with(".aws/")
                    || r.starts_with(".kube/")
                    || r.starts_with(".docker/")
                    || r.starts_with(".config/gh/")
                    || r == ".netrc"
                    || r == ".pgpass"
            })
        },
    },
    Entry {
        score: 7,
        why: "TLS private keys",
        examples: &["/etc/ssl/private/ssl-cert-snakeoil.key"],
        test: |p| p.starts_with("/etc/ssl/private/") || p.starts_with("/etc/letsencrypt/"),
    },
    Entry {
        score: 6,
        why: "shell start-up files (code run at login)",
        examples: &[
            "/home/user/.bashrc",
            "/home/user/.profile",
            "/etc/profile",
            "/etc/environment",
        ],
        test: |p| {
            matches!(
                p,
                "/etc/profile" | "/etc/environment" | "/etc/bash.bashrc" | "/etc/ld.so.preload"
            ) || p.starts_with("/etc/profile.d/")
                || home_rel(p).is_some_and(|r| {
                    matches!(
                        r,
                        ".bashrc" | ".profile" | ".bash_profile" | ".zshrc" | ".bash_history"
                    )
                })
        },
    },
    Entry {
        score: 6,
        why: "scheduled jobs and service definitions",
        examples: &[
            "/etc/crontab",
            "/etc/cron.d/job",
            "/etc/systemd/system/evil.service",
        ],
        test: |p| {
            p == "/etc/crontab"
                || p.starts_with("/etc/cron")
                || p.starts_with("/var/spool/cron/")
                || p.starts_with("/etc/systemd/")
        },
    },
    Entry {
        score: 5,
        why: "account databases",
        examples: &["/etc/passwd", "/etc/group"],
        test: |p| matches!(p, "/etc/passwd" | "/etc/group"),
    },
    Entry {
        score: 5,
        why: "kernel tunables",
        examples: &[
            "/proc/sys/kernel/core_pattern",
            "/sys/kernel/debug/tracing/trace",
        ],
        test: |p| {
            p.starts_with("/proc/sys/")
                || p.starts_with("/sys/kernel/debug/")
                || p == "/proc/sysrq-trigger"
        },
    },
    Entry {
        score: 4,
        why: "system binaries",
        examples: &["/usr/bin/sudo", "/usr/sbin/sshd", "/bin/sh"],
        test: |p| {
            p.starts_with("/usr/bin/")
                || p.starts_with("/usr/sbin/")
                || p.starts_with("/bin/")
                || p.starts_with("/sbin/")
        },
    },
];

/// The most sensitive catalogue entry `path` falls under: its score and why.
pub fn sensitivity(path: &str) -> Option<(Score, &'static str)> {
    CATALOGUE
        .iter()
        .filter(|e| (e.test)(path))
        .map(|e| (e.score, e.why))
        .max_by_key(|(s, _)| *s)
}

/// Concrete example paths of every catalogue entry: the built-in part of the path universe.
pub fn catalogue_paths() -> impl Iterator<Item = &'static str> {
    CATALOGUE.iter().flat_map(|e| e.examples.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_known_paths() {
        assert_eq!(sensitivity("/etc/shadow").map(|s| s.0), Some(10));
        assert_eq!(sensitivity("/proc/4242/mem").map(|s| s.0), Some(10));
        assert_eq!(sensitivity("/home/bob/.ssh/id_rsa").map(|s| s.0), Some(9));
        assert_eq!(sensitivity("/root/.ssh/id_rsa").map(|s| s.0), Some(9));
        assert_eq!(sensitivity("/root/notes").map(|s| s.0), Some(8));
        assert_eq!(sensitivity("/var/run/docker.sock").map(|s| s.0), Some(10));
        assert_eq!(sensitivity("/boot/grub/grub.cfg").map(|s| s.0), Some(8));
        assert_eq!(sensitivity("/var/lib/foo/state"), None);
        assert_eq!(sensitivity("/proc/self/status"), None);
    }

    #[test]
    fn every_example_is_sensitive() {
        for p in catalogue_paths() {
            assert!(sensitivity(p).is_some(), "{p}");
        }
    }
}
