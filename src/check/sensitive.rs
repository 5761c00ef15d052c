//! The built-in catalogue of sensitive paths: what a broad rule would open, and what a read
//! or a write of each would let a service do.
//!
//! Owns the catalogue (credentials, kernel memory, container sockets, boot files, …): a
//! concrete example path of each kind joins the path universe, [`sensitivity`] scores any
//! path, and [`file_target`] says in plain words what reading or writing it would let the
//! service do, and how bad that is. It does not match rule patterns (the cross-check does
//! that with [`crate::aare`], see [`super::target`]). `docs/findings.md` lists the catalogue.

/// How sensitive a path is; higher is worse.
pub type Score = u8;

/// How bad an access to a catalogued target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Worth a human's look (`sensitive-target`, a warning).
    Sensitive,
    /// Hands the service the host, the kernel or the policy (`critical-target`, an error).
    Critical,
}

/// What an access to a target lets the service do: its level and the words after "would
/// let the service".
pub type Effect = (Level, &'static str);

const S: Level = Level::Sensitive;
const C: Level = Level::Critical;

struct Entry {
    score: Score,
    why: &'static str,
    examples: &'static [&'static str],
    test: fn(&str) -> bool,
    /// What reading (or mapping) a matching path lets the service do, when that matters.
    read: Option<Effect>,
    /// What writing (or appending to) a matching path lets the service do.
    write: Option<Effect>,
}

const LIB_DIRS: &[&str] = &[
    "/lib/",
    "/lib32/",
    "/lib64/",
    "/usr/lib/",
    "/usr/lib32/",
    "/usr/lib64/",
    "/usr/local/lib/",
];

fn is_shared_library(p: &str) -> bool {
    LIB_DIRS.iter().any(|d| p.starts_with(d))
        && p.rsplit('/')
            .next()
            .is_some_and(|f| f.ends_with(".so") || f.contains(".so."))
}

const SHELL_STARTUP: &[&str] = &[
    ".bashrc",
    ".profile",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".zshrc",
    ".zprofile",
    ".zshenv",
];

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
                "/etc/shadow"
                    | "/etc/gshadow"
                    | "/etc/shadow-"
                    | "/etc/gshadow-"
                    | "/etc/security/opasswd"
                    | "/var/lib/extrausers/shadow"
            )
        },
        read: Some((S, "read the password hashes of every user")),
        write: Some((C, "change any user's password, root's included")),
    },
    Entry {
        score: 10,
        why: "kernel or process memory",
        examples: &["/dev/mem", "/dev/kmem", "/proc/kcore", "/proc/1/mem"],
        test: |p| matches!(p, "/dev/mem" | "/dev/kmem" | "/dev/port" | "/proc/kcore"),
        read: Some((
            C,
            "read kernel memory, and with it every secret on the host",
        )),
        write: Some((C, "rewrite kernel memory: full control of the host")),
    },
    Entry {
        score: 10,
        why: "kernel or process memory",
        examples: &["/proc/1/mem", "/proc/1/environ"],
        test: |p| proc_pid_rel(p).is_some_and(|r| r == "mem" || r == "environ"),
        // a process's own (`self`) is harmless; any other pid is another process's
        read: Some((
            S,
            "read the memory or the environment (often holding secrets) of other processes",
        )),
        write: Some((C, "rewrite the memory of other processes: run code as them")),
    },
    Entry {
        score: 10,
        why: "kernel or process memory",
        examples: &["/proc/kallsyms"],
        test: |p| p == "/proc/kallsyms",
        read: Some((
            S,
            "read the kernel's symbol addresses, which help exploit it",
        )),
        write: None,
    },
    Entry {
        score: 10,
        why: "container runtime socket (root on the host)",
        examples: &["/var/run/docker.sock", "/run/containerd/containerd.sock"],
        test: |p| {
            p.ends_with("/docker.sock")
                || p.ends_with("/containerd.sock")
                || p.ends_with("/podman.sock")
                || p.ends_with("/crio.sock")
        },
        read: None,
        write: Some((
            C,
            "command the container runtime: start a privileged container, which is root on \
             the host",
        )),
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
        read: Some((
            S,
            "read SSH private keys, and who may log in with which key",
        )),
        write: Some((
            C,
            "add its own key to authorized_keys (or replace SSH keys) and log in as that user",
        )),
    },
    Entry {
        score: 9,
        why: "privilege configuration",
        examples: &["/etc/sudoers", "/etc/sudoers.d/admins"],
        test: |p| p == "/etc/sudoers" || p.starts_with("/etc/sudoers.d/"),
        read: Some((S, "read who may become root through sudo, and how")),
        write: Some((C, "give any user, itself included, root through sudo")),
    },
    Entry {
        score: 9,
        why: "privilege configuration",
        examples: &[
            "/etc/pam.d/common-auth",
            "/etc/security/access.conf",
            "/etc/ssh/sshd_config",
            "/etc/polkit-1/rules.d/50-default.rules",
        ],
        test: |p| {
            p.starts_with("/etc/pam.d/")
                || p.starts_with("/etc/security/")
                || p == "/etc/ssh/sshd_config"
                || p.starts_with("/etc/ssh/sshd_config.d/")
                || p.starts_with("/etc/polkit-1/")
                || p.starts_with("/usr/share/polkit-1/rules.d/")
                || p == "/etc/login.defs"
        },
        read: None,
        write: Some((
            C,
            "change how users log in and what they may do (PAM, sshd, polkit): e.g. accept \
             any password",
        )),
    },
    Entry {
        score: 9,
        why: "AppArmor policy itself",
        examples: &[
            "/etc/apparmor.d/usr.sbin.sshd",
            "/sys/kernel/security/apparmor/policy/.load",
            "/sys/kernel/security/apparmor/.replace",
        ],
        test: |p| {
            p.starts_with("/etc/apparmor.d/")
                || p.starts_with("/etc/apparmor/")
                || p.starts_with("/sys/kernel/security/")
                || p.starts_with("/var/cache/apparmor/")
                || p.starts_with("/var/lib/apparmor/")
        },
        read: None,
        write: Some((
            C,
            "load, replace or remove AppArmor policy (or the kernel's other security \
             modules' settings), its own confinement included",
        )),
    },
    Entry {
        score: 8,
        why: "root's home",
        examples: &["/root/.bashrc", "/root/.profile"],
        test: |p| p.starts_with("/root/"),
        // `@{HOME}` includes `/root/`: judge root's files by kind (SSH, shell start-up, …)
        read: None,
        write: None,
    },
    Entry {
        score: 8,
        why: "boot files and kernel images",
        examples: &["/boot/vmlinuz", "/boot/grub/grub.cfg"],
        test: |p| p.starts_with("/boot/") || p.starts_with("/efi/"),
        read: None,
        write: Some((
            C,
            "replace the kernel or the boot loader's configuration, which run at the next boot",
        )),
    },
    Entry {
        score: 8,
        why: "raw block devices",
        examples: &["/dev/sda", "/dev/nvme0n1"],
        test: |p| {
            p.starts_with("/dev/sd")
                || p.starts_with("/dev/nvme")
                || p.starts_with("/dev/vd")
                || p.starts_with("/dev/xvd")
                || p.starts_with("/dev/mmcblk")
                || p.starts_with("/dev/dm-")
                || p.starts_with("/dev/mapper/")
        },
        read: Some((
            S,
            "read a whole disk, past every file permission (password hashes and keys included)",
        )),
        write: Some((
            C,
            "write a whole disk, past every file permission and AppArmor rule",
        )),
    },
    Entry {
        score: 8,
        why: "dynamic loader configuration",
        examples: &["/etc/ld.so.preload", "/etc/ld.so.conf.d/libc.conf"],
        test: |p| {
            matches!(
                p,
                "/etc/ld.so.preload" | "/etc/ld.so.conf" | "/etc/ld.so.cache"
            ) || p.starts_with("/etc/ld.so.conf.d/")
        },
        read: None,
        write: Some((
            C,
            "load its own library into every program started on the host, setuid-root ones \
             included",
        )),
    },
    Entry {
        score: 8,
        why: "kernel modules",
        examples: &[
            "/lib/modules/6.8.0/kernel/fs/ext4/ext4.ko",
            "/etc/modprobe.d/blacklist.conf",
        ],
        test: |p| {
            p.starts_with("/lib/modules/")
                || p.starts_with("/usr/lib/modules/")
                || p.starts_with("/etc/modprobe.d/")
                || p.starts_with("/usr/lib/modprobe.d/")
                || p.starts_with("/etc/modules-load.d/")
                || p == "/etc/modules"
        },
        read: None,
        write: Some((
            C,
            "install or configure kernel modules: code that runs inside the kernel",
        )),
    },
    Entry {
        score: 8,
        why: "kernel helpers run as root",
        examples: &[
            "/proc/sys/kernel/core_pattern",
            "/proc/sys/kernel/modprobe",
            "/sys/kernel/uevent_helper",
            "/proc/sys/fs/binfmt_misc/register",
        ],
        test: |p| {
            matches!(
                p,
                "/proc/sys/kernel/core_pattern"
                    | "/proc/sys/kernel/modprobe"
                    | "/proc/sys/kernel/hotplug"
                    | "/sys/kernel/uevent_helper"
            ) || p.starts_with("/proc/sys/fs/binfmt_misc/")
        },
        read: None,
        write: Some((
            C,
            "make the kernel run a program of its choosing as root (core dump, module or \
             hotplug helper, binfmt handler)",
        )),
    },
    Entry {
        score: 8,
        why: "kernel tunables",
        examples: &["/proc/sysrq-trigger"],
        test: |p| p == "/proc/sysrq-trigger",
        read: None,
        write: Some((C, "reboot, crash or freeze the machine at once (SysRq)")),
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
        read: Some((
            S,
            "read users' credentials (GnuPG, cloud, Kubernetes, Docker, GitHub, netrc, \
             PostgreSQL)",
        )),
        write: Some((S, "change users' credentials or credential helpers")),
    },
    Entry {
        score: 7,
        why: "TLS private keys",
        examples: &["/etc/ssl/private/ssl-cert-snakeoil.key"],
        test: |p| p.starts_with("/etc/ssl/private/") || p.starts_with("/etc/letsencrypt/"),
        read: Some((S, "read TLS private keys")),
        write: Some((S, "replace TLS private keys or certificates")),
    },
    Entry {
        score: 7,
        why: "kernel debugging interfaces",
        examples: &["/sys/kernel/debug/tracing/trace"],
        test: |p| p.starts_with("/sys/kernel/debug/") || p.starts_with("/sys/kernel/tracing/"),
        read: Some((
            S,
            "read kernel debugging data (traces of other processes, memory maps)",
        )),
        write: Some((
            C,
            "change the running kernel through its debugging interfaces (tracing, fault \
             injection)",
        )),
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
            matches!(p, "/etc/profile" | "/etc/environment" | "/etc/bash.bashrc")
                || p.starts_with("/etc/profile.d/")
        },
        read: None,
        write: Some((
            C,
            "run its own code in every user's login shell, root's included",
        )),
    },
    Entry {
        score: 6,
        why: "shell start-up files (code run at login)",
        examples: &["/home/user/.bashrc", "/home/user/.profile"],
        test: |p| {
            p.starts_with("/home/") && home_rel(p).is_some_and(|r| SHELL_STARTUP.contains(&r))
        },
        read: None,
        write: Some((S, "run its own code in that user's shells")),
    },
    Entry {
        score: 6,
        why: "shell start-up files (code run at login)",
        examples: &["/root/.bashrc", "/root/.profile"],
        test: |p| {
            p.strip_prefix("/root/")
                .is_some_and(|r| SHELL_STARTUP.contains(&r))
        },
        read: None,
        write: Some((C, "run its own code in root's shells")),
    },
    Entry {
        score: 6,
        why: "scheduled jobs and service definitions",
        examples: &[
            "/etc/crontab",
            "/etc/cron.d/job",
            "/etc/systemd/system/evil.service",
            "/usr/lib/systemd/system/ssh.service",
            "/etc/udev/rules.d/99-local.rules",
        ],
        test: |p| {
            p == "/etc/crontab"
                || p.starts_with("/etc/cron")
                || p.starts_with("/var/spool/cron/")
                || p.starts_with("/etc/systemd/")
                || p.starts_with("/usr/lib/systemd/system/")
                || p.starts_with("/lib/systemd/system/")
                || p.starts_with("/etc/init.d/")
                || p == "/etc/rc.local"
                || p.starts_with("/etc/udev/rules.d/")
                || p.starts_with("/usr/lib/udev/rules.d/")
        },
        read: None,
        write: Some((C, "schedule commands, or define services, that run as root")),
    },
    Entry {
        score: 5,
        why: "account databases",
        examples: &["/etc/passwd", "/etc/group"],
        test: |p| {
            matches!(
                p,
                "/etc/passwd" | "/etc/group" | "/etc/subuid" | "/etc/subgid"
            )
        },
        read: None,
        write: Some((
            C,
            "create accounts or change user ids: e.g. add a second root",
        )),
    },
    Entry {
        score: 5,
        why: "kernel tunables",
        examples: &["/proc/sys/kernel/core_pattern"],
        test: |p| p.starts_with("/proc/sys/"),
        read: None,
        write: Some((S, "change kernel settings")),
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
                || p.starts_with("/usr/local/bin/")
                || p.starts_with("/usr/local/sbin/")
                || p.starts_with("/usr/libexec/")
        },
        read: None,
        write: Some((C, "replace programs that other users and root run")),
    },
    Entry {
        score: 4,
        why: "shared libraries",
        examples: &[
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
            "/lib/x86_64-linux-gnu/libpam.so.0",
        ],
        test: is_shared_library,
        read: None,
        write: Some((
            C,
            "replace libraries that other programs, root's included, load",
        )),
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

/// What reading (`read`, mapping included) or writing (`write`, appending included) `path`
/// would let a service do, the worst of every catalogue entry it falls under; `None` when
/// that access to it is ordinary. A directory (`…/`) is never a target: its listing or its
/// creation gives nothing away.
pub fn file_target(path: &str, read: bool, write: bool) -> Option<Effect> {
    if path.ends_with('/') {
        return None;
    }
    // a process's own memory and environment
    if proc_pid_rel(path).is_some()
        && (path.starts_with("/proc/self/") || path.starts_with("/proc/thread-self/"))
    {
        return None;
    }
    CATALOGUE
        .iter()
        .filter(|e| (e.test)(path))
        .flat_map(|e| {
            let r = e.read.filter(|_| read);
            let w = e.write.filter(|_| write);
            r.into_iter().chain(w)
        })
        .max_by_key(|(level, _)| *level)
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
    fn targets_by_access() {
        let level = |p: &str, r: bool, w: bool| file_target(p, r, w).map(|e| e.0);
        assert_eq!(level("/etc/shadow", true, false), Some(Level::Sensitive));
        assert_eq!(level("/etc/shadow", false, true), Some(Level::Critical));
        assert_eq!(level("/etc/ld.so.preload", true, false), None);
        assert_eq!(
            level("/etc/ld.so.preload", false, true),
            Some(Level::Critical)
        );
        assert_eq!(level("/etc/passwd", true, false), None);
        assert_eq!(level("/etc/passwd", true, true), Some(Level::Critical));
        assert_eq!(level("/etc/pam.d/common-auth", true, false), None);
        assert_eq!(
            level("/etc/pam.d/common-auth", false, true),
            Some(Level::Critical)
        );
        assert_eq!(level("/proc/sys/kernel/core_pattern", true, false), None);
        assert_eq!(
            level("/proc/sys/kernel/core_pattern", false, true),
            Some(Level::Critical)
        );
        assert_eq!(
            level("/proc/sys/net/ipv4/ip_forward", false, true),
            Some(Level::Sensitive)
        );
        assert_eq!(
            level("/proc/sysrq-trigger", false, true),
            Some(Level::Critical)
        );
        assert_eq!(level("/dev/mem", true, false), Some(Level::Critical));
        assert_eq!(level("/dev/sda", true, false), Some(Level::Sensitive));
        assert_eq!(
            level("/proc/1234/environ", true, false),
            Some(Level::Sensitive)
        );
        assert_eq!(level("/proc/self/environ", true, false), None);
        assert_eq!(
            level("/usr/lib/x86_64-linux-gnu/libc.so.6", true, false),
            None
        );
        assert_eq!(
            level("/usr/lib/x86_64-linux-gnu/libc.so.6", false, true),
            Some(Level::Critical)
        );
        assert_eq!(level("/root/.cache/x", false, true), None);
        assert_eq!(level("/root/.bashrc", false, true), Some(Level::Critical));
        assert_eq!(
            level("/home/al/.bashrc", false, true),
            Some(Level::Sensitive)
        );
        assert_eq!(level("/home/al/.ssh/", true, true), None);
        assert_eq!(level("/dev/null", true, true), None);
        assert_eq!(
            level("/var/run/docker.sock", false, true),
            Some(Level::Critical)
        );
        assert_eq!(
            level("/sys/kernel/security/apparmor/.replace", false, true),
            Some(Level::Critical)
        );
    }

    #[test]
    fn every_example_is_sensitive() {
        for p in catalogue_paths() {
            assert!(sensitivity(p).is_some(), "{p}");
        }
    }
}
