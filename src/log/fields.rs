//! Read access to an event's fields, whether the event is an owned [`Event`] or a view
//! borrowed from the line it was read from ([`super::fast::View`]).
//!
//! Classifying, filtering and grouping are written once against [`Fields`], so the fast
//! borrowed path that `denials` uses and the owned path every other command uses cannot
//! drift apart: they run the same code on the same values.

use super::{Event, EventClass, EventKind, Perms};

/// A mask for grouping: already parsed (an [`Event`]) or as logged (a view).
#[derive(Debug, Clone, Copy)]
pub enum MaskText<'a> {
    /// Parsed tokens.
    Parsed(&'a Perms),
    /// As logged; normalise with [`Perms::parse`].
    Raw(&'a str),
}

/// The fields of one event that classifying, filtering and grouping read.
pub trait Fields {
    /// ALLOWED, DENIED, …
    fn kind(&self) -> EventKind;
    /// The derived class.
    fn class(&self) -> EventClass;
    /// `operation=`
    fn operation(&self) -> Option<&str>;
    /// `profile=` / `label=`
    fn profile(&self) -> Option<&str>;
    /// `name=` (merged as in [`Event::name`]).
    fn name(&self) -> Option<&str>;
    /// `name2=` / `target=`
    fn name2(&self) -> Option<&str>;
    /// `requested_mask=` for grouping.
    fn requested(&self) -> Option<MaskText<'_>>;
    /// `denied_mask=` for grouping.
    fn denied(&self) -> Option<MaskText<'_>>;
    /// `class=` as logged.
    fn rule_class(&self) -> Option<&str>;
    /// Seconds since the epoch.
    fn epoch(&self) -> Option<i64>;
    /// `pid=`
    fn pid(&self) -> Option<i64>;
    /// `comm=` / `exe=`
    fn comm(&self) -> Option<&str>;
    /// `family=`
    fn family(&self) -> Option<&str>;
    /// `sock_type=`
    fn sock_type(&self) -> Option<&str>;
    /// `protocol=`
    fn protocol(&self) -> Option<&str>;
    /// `lport=` / `src=`
    fn local_port(&self) -> Option<i64>;
    /// `fport=` / `dest=`
    fn foreign_port(&self) -> Option<i64>;
    /// `addr=`
    fn net_addr(&self) -> Option<&str>;
    /// `peer_addr=`
    fn peer_addr(&self) -> Option<&str>;
    /// `peer_label=` / `peer_profile=` / `tcontext=`
    fn peer_profile(&self) -> Option<&str>;
    /// `peer=`
    fn peer(&self) -> Option<&str>;
    /// `bus=`
    fn dbus_bus(&self) -> Option<&str>;
    /// `path=`
    fn dbus_path(&self) -> Option<&str>;
    /// `interface=`
    fn dbus_interface(&self) -> Option<&str>;
    /// `member=` / `method=`
    fn dbus_member(&self) -> Option<&str>;
    /// `signal=`
    fn signal(&self) -> Option<&str>;
    /// `fstype=`
    fn fs_type(&self) -> Option<&str>;
    /// `flags=`
    fn flags(&self) -> Option<&str>;
    /// `srcname=`
    fn src_name(&self) -> Option<&str>;
}

/// The accessors of [`Fields`] that read a same-named `Option<String-like>` or `Option<i64>`
/// field (the owned event and the borrowed view name their fields alike).
macro_rules! field_accessors {
    () => {
        $crate::log::fields::field_accessors!(@str operation, profile, name, name2, rule_class, comm, family, sock_type, protocol, net_addr, peer_addr, peer_profile, peer, dbus_bus, dbus_path, dbus_interface, dbus_member, signal, fs_type, flags, src_name);
        $crate::log::fields::field_accessors!(@int epoch, pid, local_port, foreign_port);
    };
    (@str $($f:ident),*) => {
        $(fn $f(&self) -> Option<&str> {
            self.$f.as_deref()
        })*
    };
    (@int $($f:ident),*) => {
        $(fn $f(&self) -> Option<i64> {
            self.$f
        })*
    };
}
pub(crate) use field_accessors;

impl Fields for Event {
    fn kind(&self) -> EventKind {
        self.kind
    }
    fn class(&self) -> EventClass {
        self.class
    }
    fn requested(&self) -> Option<MaskText<'_>> {
        self.requested.as_ref().map(MaskText::Parsed)
    }
    fn denied(&self) -> Option<MaskText<'_>> {
        self.denied.as_ref().map(MaskText::Parsed)
    }
    field_accessors!();
}

/// The profile name without its namespace prefix (`:ns:/usr/bin/x` → `/usr/bin/x`).
pub(crate) fn profile_name<F: Fields + ?Sized>(f: &F) -> Option<&str> {
    f.profile().map(super::strip_namespace)
}

/// Where an event came from, for consumers of events that carry no provenance of their own
/// (see [`super::Reader::visit`]).
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The source label.
    pub source: &'a str,
    /// The line in it (1-based).
    pub line: u64,
    /// Whether only the kernel or auditd can have written it (see
    /// [`super::Provenance::trusted`]).
    pub trusted: bool,
}

/// Receives the events of [`super::Reader::visit`], in input order.
pub trait Visit {
    /// One AppArmor event.
    fn event<F: Fields + ?Sized>(&mut self, ev: &F, origin: Origin<'_>);
}
