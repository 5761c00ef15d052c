//! The broad class of an event (file, network, dbus, …), derived from `class=` when the
//! kernel logs it and from the operation otherwise. Used for grouping and by drafting to pick
//! the rule kind; it does not interpret masks.

use serde::{Deserialize, Serialize};

use super::fields::Fields;

/// What kind of access an event is about.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EventClass {
    /// File access (open, mknod, link, rename, …).
    File,
    /// Executing a program (`operation="exec"`).
    Exec,
    /// A capability check.
    Capability,
    /// An inet/other socket operation.
    Network,
    /// A unix-domain socket operation.
    Unix,
    /// A D-Bus message or name binding.
    Dbus,
    /// Sending or receiving a signal.
    Signal,
    /// ptrace or reading another task's state.
    Ptrace,
    /// mount, umount, remount, pivot_root.
    Mount,
    /// POSIX message queues.
    Mqueue,
    /// Creating a user namespace.
    Userns,
    /// io_uring operations.
    IoUring,
    /// change_profile / change_onexec.
    ChangeProfile,
    /// change_hat.
    ChangeHat,
    /// Policy load, replace, remove and other STATUS records.
    Policy,
    /// Anything else (including operations we do not know yet).
    #[default]
    Other,
}

impl EventClass {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            EventClass::File => "file",
            EventClass::Exec => "exec",
            EventClass::Capability => "capability",
            EventClass::Network => "network",
            EventClass::Unix => "unix",
            EventClass::Dbus => "dbus",
            EventClass::Signal => "signal",
            EventClass::Ptrace => "ptrace",
            EventClass::Mount => "mount",
            EventClass::Mqueue => "mqueue",
            EventClass::Userns => "userns",
            EventClass::IoUring => "io_uring",
            EventClass::ChangeProfile => "change_profile",
            EventClass::ChangeHat => "change_hat",
            EventClass::Policy => "policy",
            EventClass::Other => "other",
        }
    }

    pub(crate) fn derive<F: Fields + ?Sized>(ev: &F) -> EventClass {
        let op = ev.operation().unwrap_or("");
        if ev.kind() == super::EventKind::Status
            || matches!(op, "profile_load" | "profile_replace" | "profile_remove")
        {
            return EventClass::Policy;
        }
        match ev.rule_class() {
            Some("file") => {
                return if op == "exec" {
                    EventClass::Exec
                } else {
                    EventClass::File
                };
            }
            Some("net") | Some("network") => {
                return if ev.family() == Some("unix") {
                    EventClass::Unix
                } else {
                    EventClass::Network
                };
            }
            Some("unix") => return EventClass::Unix,
            Some("dbus") => return EventClass::Dbus,
            Some("signal") => return EventClass::Signal,
            Some("ptrace") => return EventClass::Ptrace,
            Some("mount") => return EventClass::Mount,
            Some("posix_mqueue") | Some("mqueue") => return EventClass::Mqueue,
            Some("namespace") => return EventClass::Userns,
            Some("io_uring") => return EventClass::IoUring,
            Some("cap") | Some("capability") => return EventClass::Capability,
            _ => {}
        }
        if ev.family().is_some() || ev.sock_type().is_some() {
            return if ev.family() == Some("unix") {
                EventClass::Unix
            } else {
                EventClass::Network
            };
        }
        match op {
            "exec" => EventClass::Exec,
            "capable" => EventClass::Capability,
            "signal" => EventClass::Signal,
            "ptrace" => EventClass::Ptrace,
            "mount" | "umount" | "pivotroot" | "remount" => EventClass::Mount,
            "change_profile" | "change_onexec" => EventClass::ChangeProfile,
            "change_hat" => EventClass::ChangeHat,
            "userns_create" => EventClass::Userns,
            _ if op.starts_with("dbus_") => EventClass::Dbus,
            _ if op.starts_with("uring_") => EventClass::IoUring,
            "open" | "mknod" | "link" | "rename_src" | "rename_dest" | "unlink" | "mkdir"
            | "rmdir" | "chmod" | "chown" | "truncate" | "getattr" | "setattr" | "file_perm"
            | "file_lock" | "file_mmap" | "file_inherit" | "file_receive" | "inode_permission"
            | "xattr" | "symlink" | "sysctl" | "create" | "readlink" => EventClass::File,
            _ if ev.name().is_some_and(|n| n.starts_with('/')) && ev.denied().is_some() => {
                EventClass::File
            }
            _ => EventClass::Other,
        }
    }
}
