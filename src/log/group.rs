//! Grouping events: one group per (mode, profile, class, operation family, resource, mask).
//!
//! Groups are numbered `G1`, `G2`, … in display order: denials before other modes, then by
//! profile, then by descending count, then by key. The same input always gives the same ids.
//! A group is *stale* when every one of its events predates the last STATUS
//! `profile_load`/`profile_replace` of its profile: the profile has changed since, so the
//! events may already be fixed.
//!
//! [`Grouper`] works in streaming (it keeps counts and a few example references, not the
//! events); [`group_events`] groups a slice and also returns, for each event, its group.
//! This module does not read logs and does not draft rules.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::{Event, EventClass, EventKind, Perms};

/// How many example event references a group keeps.
pub const MAX_EXAMPLES: usize = 5;

/// How many distinct pids and comms a group keeps (memory stays bounded on huge logs);
/// [`Group::truncated`] says when more were seen.
pub const MAX_DISTINCT: usize = 32;

/// What makes two events the same finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupKey {
    /// DENIED, ALLOWED, AUDIT, …
    pub mode: EventKind,
    /// The profile (label) as logged, or `""` when the event has none.
    pub profile: String,
    /// The event class.
    pub class: EventClass,
    /// The operation family (`open`, `rename`, `connect`, `dbus_method_call`, …).
    pub operation: String,
    /// What was accessed: a path, capability, `family sock_type protocol`, dbus
    /// `bus path interface.member`, signal and peer, mount source and target, …
    pub resource: String,
    /// The mask (denied mask for denials, else requested), normalised.
    pub mask: String,
}

/// Where one event came from (for evidence and for mapping a group back to events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRef {
    /// Source label.
    pub source: String,
    /// Line number.
    pub line: u64,
}

/// One group of events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Stable id in display order: `G1`, `G2`, …
    pub id: String,
    /// The grouping key (flattened into the group in JSON).
    #[serde(flatten)]
    pub key: GroupKey,
    /// Number of events.
    pub count: u64,
    /// Earliest audit epoch seen (seconds), if any event had one.
    pub first_seen: Option<i64>,
    /// Latest audit epoch seen.
    pub last_seen: Option<i64>,
    /// Distinct pids (at most [`MAX_DISTINCT`]).
    pub pids: BTreeSet<i64>,
    /// Distinct commands (at most [`MAX_DISTINCT`]).
    pub comms: BTreeSet<String>,
    /// More distinct pids or comms were seen than are kept.
    pub truncated: bool,
    /// Every event predates the profile's last load/replace.
    pub stale: bool,
    /// Events whose framing or channel anyone could have written (see
    /// [`super::Provenance::trusted`]).
    pub untrusted: u64,
    /// The first few events (source and line).
    pub examples: Vec<EventRef>,
}

/// The operation family an operation belongs to.
pub fn operation_family(op: &str) -> &str {
    match op {
        "rename_src" | "rename_dest" => "rename",
        "file_perm" | "file_inherit" | "file_receive" | "inode_permission" => "file_perm",
        "unlink" | "rmdir" => "delete",
        "chmod" | "chown" | "setattr" => "setattr",
        "sendmsg" | "recvmsg" => "sendrecv",
        "umount" | "mount" | "remount" => "mount",
        "change_onexec" | "change_profile" => "change_profile",
        "profile_load" | "profile_replace" | "profile_remove" => "policy",
        _ => op,
    }
}

fn join(parts: &[Option<&str>]) -> String {
    let mut s = String::new();
    for p in parts.iter().flatten() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(p);
    }
    s
}

/// The resource string of an event (see [`GroupKey::resource`]).
pub fn resource(ev: &Event) -> String {
    fn o(v: &Option<String>) -> Option<&str> {
        v.as_deref()
    }
    match ev.class {
        EventClass::File | EventClass::Mqueue => match (o(&ev.name), o(&ev.name2)) {
            (Some(a), Some(b)) => format!("{a} -> {b}"),
            (a, b) => a.or(b).unwrap_or("").to_string(),
        },
        EventClass::Exec => match (o(&ev.name), o(&ev.name2)) {
            (Some(a), Some(b)) => format!("{a} -> {b}"),
            (a, _) => a.unwrap_or("").to_string(),
        },
        EventClass::Capability => o(&ev.name).unwrap_or("").to_string(),
        EventClass::Network => {
            let port = ev
                .foreign_port
                .or(ev.local_port)
                .filter(|&p| p != 0)
                .map(|p| p.to_string());
            join(&[
                o(&ev.family),
                o(&ev.sock_type),
                o(&ev.protocol),
                port.as_deref(),
            ])
        }
        EventClass::Unix => join(&[
            o(&ev.sock_type),
            o(&ev.net_addr).map(|_| "addr=").and(o(&ev.net_addr)),
            o(&ev.peer_addr),
            o(&ev.peer_profile),
        ]),
        EventClass::Dbus => {
            let member = match (o(&ev.dbus_interface), o(&ev.dbus_member)) {
                (Some(i), Some(m)) => Some(format!("{i}.{m}")),
                (i, m) => i.or(m).map(str::to_string),
            };
            join(&[
                o(&ev.dbus_bus),
                o(&ev.dbus_path),
                member.as_deref(),
                o(&ev.name),
                o(&ev.peer_profile),
            ])
        }
        EventClass::Signal => join(&[o(&ev.signal), o(&ev.peer_profile).or(o(&ev.peer))]),
        EventClass::Ptrace | EventClass::IoUring => o(&ev.peer_profile)
            .or(o(&ev.peer))
            .unwrap_or("")
            .to_string(),
        EventClass::Mount => {
            let flags = ev.flags.as_deref().map(|f| format!("({f})"));
            join(&[
                o(&ev.fs_type),
                o(&ev.src_name),
                o(&ev.name),
                flags.as_deref(),
            ])
        }
        EventClass::ChangeProfile | EventClass::ChangeHat => {
            o(&ev.name2).or(o(&ev.name)).unwrap_or("").to_string()
        }
        EventClass::Userns => o(&ev.name).unwrap_or("").to_string(),
        EventClass::Policy | EventClass::Other => o(&ev.name).unwrap_or("").to_string(),
    }
}

/// The grouping key of an event.
pub fn key_of(ev: &Event) -> GroupKey {
    let mask = if ev.kind == EventKind::Denied {
        ev.denied.as_ref().or(ev.requested.as_ref())
    } else {
        ev.requested.as_ref().or(ev.denied.as_ref())
    };
    GroupKey {
        mode: ev.kind,
        profile: ev.profile.clone().unwrap_or_default(),
        class: ev.class,
        operation: operation_family(ev.operation.as_deref().unwrap_or("")).to_string(),
        resource: resource(ev),
        mask: mask.map(Perms::to_string).unwrap_or_default(),
    }
}

/// Which events to keep.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Keep events of this profile, its hats and children (`p` matches `p` and `p//…`), or
    /// of any profile when `None`.
    pub profile: Option<String>,
    /// Keep events at or after this epoch (events without a timestamp are kept).
    pub since: Option<i64>,
    /// Keep these modes (empty: all but STATUS).
    pub modes: Vec<EventKind>,
    /// Keep events whose operation or operation family equals this.
    pub operation: Option<String>,
}

impl Filter {
    /// Whether `ev` passes.
    pub fn matches(&self, ev: &Event) -> bool {
        if let Some(p) = &self.profile {
            let Some(name) = ev.profile_name() else {
                return false;
            };
            let ok = name == p
                || name
                    .strip_prefix(p.as_str())
                    .is_some_and(|r| r.starts_with("//"))
                || ev.profile.as_deref() == Some(p.as_str());
            if !ok {
                return false;
            }
        }
        if let (Some(since), Some(t)) = (self.since, ev.epoch) {
            if t < since {
                return false;
            }
        }
        if self.modes.is_empty() {
            if ev.kind == EventKind::Status {
                return false;
            }
        } else if !self.modes.contains(&ev.kind) {
            return false;
        }
        if let Some(op) = &self.operation {
            let evop = ev.operation.as_deref().unwrap_or("");
            if evop != op && operation_family(evop) != op {
                return false;
            }
        }
        true
    }
}

/// Streaming grouper: feed events with [`Grouper::add`], then [`Grouper::finish`].
#[derive(Debug, Default)]
pub struct Grouper {
    index: HashMap<GroupKey, usize>,
    groups: Vec<Group>,
    /// Last load/replace epoch per profile name.
    loads: HashMap<String, i64>,
}

impl Grouper {
    /// An empty grouper.
    pub fn new() -> Grouper {
        Grouper::default()
    }

    /// Note a STATUS event (profile load/replace), for staleness. Returns true if it was one.
    pub fn observe_status(&mut self, ev: &Event) -> bool {
        let op = ev.operation.as_deref().unwrap_or("");
        if !matches!(op, "profile_load" | "profile_replace") {
            return false;
        }
        if let (Some(name), Some(t)) = (ev.name.as_deref(), ev.epoch) {
            let e = self.loads.entry(name.to_string()).or_insert(t);
            *e = (*e).max(t);
        }
        true
    }

    /// Add an event; returns its provisional group index (map it to the final group with the
    /// table [`Grouper::finish`] returns).
    pub fn add(&mut self, ev: &Event) -> usize {
        let key = key_of(ev);
        let n = self.groups.len();
        let gi = *self.index.entry(key.clone()).or_insert(n);
        if gi == n {
            self.groups.push(Group {
                id: String::new(),
                key,
                count: 0,
                first_seen: None,
                last_seen: None,
                pids: BTreeSet::new(),
                comms: BTreeSet::new(),
                truncated: false,
                stale: false,
                untrusted: 0,
                examples: Vec::new(),
            });
        }
        let g = &mut self.groups[gi];
        g.count += 1;
        if let Some(t) = ev.epoch {
            g.first_seen = Some(g.first_seen.map_or(t, |f| f.min(t)));
            g.last_seen = Some(g.last_seen.map_or(t, |l| l.max(t)));
        }
        if let Some(p) = ev.pid.filter(|&p| p != 0) {
            if g.pids.len() < MAX_DISTINCT {
                g.pids.insert(p);
            } else if !g.pids.contains(&p) {
                g.truncated = true;
            }
        }
        if let Some(c) = &ev.comm {
            if !g.comms.contains(c) {
                if g.comms.len() < MAX_DISTINCT {
                    g.comms.insert(c.clone());
                } else {
                    g.truncated = true;
                }
            }
        }
        if !ev.provenance.trusted {
            g.untrusted += 1;
        }
        if g.examples.len() < MAX_EXAMPLES {
            g.examples.push(EventRef {
                source: ev.provenance.source.clone(),
                line: ev.provenance.line,
            });
        }
        gi
    }

    /// Sort into display order, assign ids and staleness. Returns the groups and, for each
    /// provisional index [`Grouper::add`] returned, the position of its group in that list.
    pub fn finish(self) -> (Vec<Group>, Vec<usize>) {
        let Grouper { groups, loads, .. } = self;
        let mut order: Vec<usize> = (0..groups.len()).collect();
        let rank = |k: EventKind| match k {
            EventKind::Denied => 0,
            EventKind::Allowed => 1,
            EventKind::Audit => 2,
            _ => 3,
        };
        order.sort_by(|&a, &b| {
            let (ga, gb) = (&groups[a], &groups[b]);
            rank(ga.key.mode)
                .cmp(&rank(gb.key.mode))
                .then_with(|| ga.key.profile.cmp(&gb.key.profile))
                .then_with(|| gb.count.cmp(&ga.count))
                .then_with(|| ga.key.cmp(&gb.key))
        });
        let mut position = vec![0; groups.len()];
        for (pos, &gi) in order.iter().enumerate() {
            position[gi] = pos;
        }
        let mut slots: Vec<Option<Group>> = groups.into_iter().map(Some).collect();
        let mut out = Vec::with_capacity(slots.len());
        for (pos, &gi) in order.iter().enumerate() {
            let Some(mut g) = slots[gi].take() else {
                continue;
            };
            g.id = format!("G{}", pos + 1);
            // A load names the top-level profile; hats and children go with it. A namespaced
            // label only matches a load of the same namespaced name.
            let name = g.key.profile.as_str();
            let top = name.split("//").next().unwrap_or(name);
            let load = loads.get(name).or_else(|| loads.get(top));
            g.stale = match (load, g.last_seen) {
                (Some(&l), Some(last)) => last < l,
                _ => false,
            };
            out.push(g);
        }
        (out, position)
    }
}

/// The result of [`group_events`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grouping {
    /// Groups in display order (`groups[0].id == "G1"`).
    pub groups: Vec<Group>,
    /// For each input event, the index in `groups` of its group, or `None` if the filter
    /// dropped it (STATUS events are never grouped).
    pub membership: Vec<Option<usize>>,
}

impl Grouping {
    /// The group with this id (`"G3"`).
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// Indices (into the input slice) of the events of group `id`.
    pub fn events_of(&self, id: &str) -> Vec<usize> {
        let Some(gi) = self.groups.iter().position(|g| g.id == id) else {
            return Vec::new();
        };
        self.membership
            .iter()
            .enumerate()
            .filter(|(_, m)| **m == Some(gi))
            .map(|(i, _)| i)
            .collect()
    }
}

/// Group a slice of events (STATUS events only feed staleness).
pub fn group_events(events: &[Event], filter: &Filter) -> Grouping {
    let mut g = Grouper::new();
    let mut provisional = Vec::with_capacity(events.len());
    for ev in events {
        if g.observe_status(ev) || !filter.matches(ev) {
            provisional.push(None);
        } else {
            provisional.push(Some(g.add(ev)));
        }
    }
    let (groups, position) = g.finish();
    Grouping {
        groups,
        membership: provisional
            .into_iter()
            .map(|p| p.map(|i| position[i]))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::parse_line;

    fn ev(s: &str) -> Event {
        parse_line(s.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn groups_and_ids() {
        let a = r#"type=AVC msg=audit(100.1:1): apparmor="DENIED" operation="open" profile="/b" name="/etc/x" pid=1 comm="b" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#;
        let b = r#"type=AVC msg=audit(101.1:2): apparmor="DENIED" operation="open" profile="/b" name="/etc/x" pid=2 comm="b" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#;
        let c = r#"type=AVC msg=audit(102.1:3): apparmor="DENIED" operation="open" profile="/a" name="/etc/y" pid=3 comm="a" requested_mask="w" denied_mask="w" fsuid=0 ouid=0"#;
        let load = r#"type=AVC msg=audit(200.1:4): apparmor="STATUS" operation="profile_replace" profile="unconfined" name="/b" pid=9 comm="apparmor_parser""#;
        let events = vec![ev(a), ev(b), ev(c), ev(load)];
        let g = group_events(&events, &Filter::default());
        assert_eq!(g.groups.len(), 2);
        assert_eq!(g.groups[0].id, "G1");
        assert_eq!(g.groups[0].key.profile, "/a");
        assert!(!g.groups[0].stale);
        assert_eq!(g.groups[1].count, 2);
        assert_eq!(g.groups[1].pids.len(), 2);
        assert!(g.groups[1].stale);
        assert_eq!(g.events_of("G2"), vec![0, 1]);
        assert_eq!(g.membership[3], None);
    }

    #[test]
    fn distinct_sets_are_bounded() {
        let mut g = Grouper::new();
        for pid in 1..=40 {
            let line = format!(
                r#"type=AVC msg=audit(1.1:{pid}): apparmor="DENIED" operation="open" profile="/b" name="/x" pid={pid} comm="c{pid}" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#
            );
            g.add(&ev(&line));
        }
        let (groups, _) = g.finish();
        assert_eq!(groups[0].count, 40);
        assert_eq!(groups[0].pids.len(), MAX_DISTINCT);
        assert_eq!(groups[0].comms.len(), MAX_DISTINCT);
        assert!(groups[0].truncated);
    }
}
