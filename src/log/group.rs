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
    let mut s = String::new();
    write_resource(ev, &mut s);
    s
}

/// [`resource`], appended to `out`; the common classes are written without allocating.
fn write_resource(ev: &Event, out: &mut String) {
    fn o(v: &Option<String>) -> Option<&str> {
        v.as_deref()
    }
    match ev.class {
        EventClass::File | EventClass::Mqueue | EventClass::Exec => {
            match (o(&ev.name), o(&ev.name2)) {
                (Some(a), Some(b)) => {
                    out.push_str(a);
                    out.push_str(" -> ");
                    out.push_str(b);
                }
                (a, b) if ev.class != EventClass::Exec => out.push_str(a.or(b).unwrap_or("")),
                (a, _) => out.push_str(a.unwrap_or("")),
            }
            return;
        }
        EventClass::Capability | EventClass::Userns | EventClass::Policy | EventClass::Other => {
            out.push_str(o(&ev.name).unwrap_or(""));
            return;
        }
        _ => {}
    }
    out.push_str(&resource_other(ev));
}

fn resource_other(ev: &Event) -> String {
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

/// Strings stored once and referred to by number (profiles, operations, masks, comms and
/// source labels repeat across thousands of groups).
#[derive(Debug, Default)]
struct Interner {
    ids: HashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = u32::try_from(self.strings.len()).unwrap_or(u32::MAX);
        self.strings.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    fn str(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }
}

/// A group as the grouper keeps it: the same facts as [`Group`] in a fraction of the memory
/// (interned strings, sorted vectors instead of trees), so that a log with tens of thousands
/// of groups stays small.
#[derive(Debug)]
struct Slot {
    mode: EventKind,
    class: EventClass,
    profile: u32,
    operation: u32,
    mask: u32,
    resource: Box<str>,
    /// The next group whose key has the same hash (`u32::MAX`: none).
    next: u32,
    count: u64,
    first_seen: Option<i64>,
    last_seen: Option<i64>,
    /// Sorted, at most [`MAX_DISTINCT`].
    pids: Vec<i64>,
    /// Interned, at most [`MAX_DISTINCT`], in no order.
    comms: Vec<u32>,
    truncated: bool,
    untrusted: u64,
    /// (interned source, line), at most [`MAX_EXAMPLES`].
    examples: Vec<(u32, u64)>,
}

/// Streaming grouper: feed events with [`Grouper::add`], then [`Grouper::finish`] (or
/// [`Grouper::finish_lazy`], which hands groups out one at a time).
///
/// Memory grows with the number of groups, never with the number of events.
#[derive(Debug, Default)]
pub struct Grouper {
    /// Key hash → the latest group with that hash (earlier ones chain through `Slot::next`).
    index: HashMap<u64, u32>,
    slots: Vec<Slot>,
    strings: Interner,
    hasher: std::hash::RandomState,
    /// Last load/replace epoch per profile name.
    loads: HashMap<String, i64>,
    resource: String,
    mask: String,
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

    /// The group of this key, if there is one.
    fn find(&self, hash: u64, key: (EventKind, &str, EventClass, &str, &str, &str)) -> Option<u32> {
        let (mode, profile, class, operation, resource, mask) = key;
        let mut at = *self.index.get(&hash)?;
        while let Some(s) = self.slots.get(at as usize) {
            if s.mode == mode
                && s.class == class
                && *s.resource == *resource
                && self.strings.str(s.profile) == profile
                && self.strings.str(s.operation) == operation
                && self.strings.str(s.mask) == mask
            {
                return Some(at);
            }
            at = s.next;
        }
        None
    }

    /// Add an event; returns its provisional group index (map it to the final group with the
    /// table [`Grouper::finish`] returns).
    pub fn add(&mut self, ev: &Event) -> usize {
        use std::fmt::Write as _;
        use std::hash::BuildHasher as _;
        let mask = if ev.kind == EventKind::Denied {
            ev.denied.as_ref().or(ev.requested.as_ref())
        } else {
            ev.requested.as_ref().or(ev.denied.as_ref())
        };
        let mut mask_buf = std::mem::take(&mut self.mask);
        mask_buf.clear();
        if let Some(m) = mask {
            // Writing to a String cannot fail.
            let _ = write!(mask_buf, "{m}");
        }
        let mut resource_buf = std::mem::take(&mut self.resource);
        resource_buf.clear();
        write_resource(ev, &mut resource_buf);
        let profile = ev.profile.as_deref().unwrap_or("");
        let operation = operation_family(ev.operation.as_deref().unwrap_or(""));
        let key = (
            ev.kind,
            profile,
            ev.class,
            operation,
            resource_buf.as_str(),
            mask_buf.as_str(),
        );
        let hash = self.hasher.hash_one(key);
        let gi = match self.find(hash, key) {
            Some(gi) => gi,
            None => {
                let gi = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                let next = self.index.insert(hash, gi).unwrap_or(u32::MAX);
                let slot = Slot {
                    mode: ev.kind,
                    class: ev.class,
                    profile: self.strings.id(profile),
                    operation: self.strings.id(operation),
                    mask: self.strings.id(&mask_buf),
                    resource: resource_buf.as_str().into(),
                    next,
                    count: 0,
                    first_seen: None,
                    last_seen: None,
                    pids: Vec::new(),
                    comms: Vec::new(),
                    truncated: false,
                    untrusted: 0,
                    examples: Vec::new(),
                };
                self.slots.push(slot);
                gi
            }
        };
        self.resource = resource_buf;
        self.mask = mask_buf;
        let comm = match &ev.comm {
            Some(c) => match self.strings.get(c) {
                Some(id) => Some(id),
                // A new string can only be a new comm of a group with room for it.
                None if self
                    .slots
                    .get(gi as usize)
                    .is_some_and(|g| g.comms.len() < MAX_DISTINCT) =>
                {
                    Some(self.strings.id(c))
                }
                None => {
                    if let Some(g) = self.slots.get_mut(gi as usize) {
                        g.truncated = true;
                    }
                    None
                }
            },
            None => None,
        };
        let example = if self
            .slots
            .get(gi as usize)
            .is_some_and(|g| g.examples.len() < MAX_EXAMPLES)
        {
            Some((self.strings.id(&ev.provenance.source), ev.provenance.line))
        } else {
            None
        };
        let Some(g) = self.slots.get_mut(gi as usize) else {
            return gi as usize;
        };
        g.count += 1;
        if let Some(t) = ev.epoch {
            g.first_seen = Some(g.first_seen.map_or(t, |f| f.min(t)));
            g.last_seen = Some(g.last_seen.map_or(t, |l| l.max(t)));
        }
        if let Some(p) = ev.pid.filter(|&p| p != 0) {
            if let Err(at) = g.pids.binary_search(&p) {
                if g.pids.len() < MAX_DISTINCT {
                    g.pids.insert(at, p);
                } else {
                    g.truncated = true;
                }
            }
        }
        if let Some(c) = comm {
            if !g.comms.contains(&c) {
                if g.comms.len() < MAX_DISTINCT {
                    g.comms.push(c);
                } else {
                    g.truncated = true;
                }
            }
        }
        if !ev.provenance.trusted {
            g.untrusted += 1;
        }
        if let Some(e) = example {
            g.examples.push(e);
        }
        gi as usize
    }

    /// How many groups there are so far.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no event has been added.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Sort into display order, assign ids and staleness. Returns the groups and, for each
    /// provisional index [`Grouper::add`] returned, the position of its group in that list.
    pub fn finish(self) -> (Vec<Group>, Vec<usize>) {
        let done = self.finish_lazy();
        let groups = done.iter().collect();
        (groups, done.position)
    }

    /// Like [`Grouper::finish`], but keep the compact form and build each [`Group`] only
    /// when asked ([`Finished::iter`]): what a caller that writes groups out one by one
    /// wants, so that tens of thousands of groups never exist in full at once.
    pub fn finish_lazy(self) -> Finished {
        let rank = |k: EventKind| match k {
            EventKind::Denied => 0,
            EventKind::Allowed => 1,
            EventKind::Audit => 2,
            _ => 3,
        };
        let slots = &self.slots;
        let st = &self.strings;
        let mut order: Vec<u32> = (0..slots.len())
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        order.sort_by(|&a, &b| {
            let (ga, gb) = (&slots[a as usize], &slots[b as usize]);
            rank(ga.mode)
                .cmp(&rank(gb.mode))
                .then_with(|| st.str(ga.profile).cmp(st.str(gb.profile)))
                .then_with(|| gb.count.cmp(&ga.count))
                // The rest of `GroupKey`'s order: mode, profile, class, operation, resource, mask.
                .then_with(|| ga.mode.cmp(&gb.mode))
                .then_with(|| ga.class.cmp(&gb.class))
                .then_with(|| st.str(ga.operation).cmp(st.str(gb.operation)))
                .then_with(|| ga.resource.cmp(&gb.resource))
                .then_with(|| st.str(ga.mask).cmp(st.str(gb.mask)))
        });
        let mut position = vec![0; slots.len()];
        for (pos, &gi) in order.iter().enumerate() {
            position[gi as usize] = pos;
        }
        Finished {
            grouper: self,
            order,
            position,
        }
    }
}

/// Groups in display order, built one at a time from the grouper's compact form (see
/// [`Grouper::finish_lazy`]).
#[derive(Debug)]
pub struct Finished {
    grouper: Grouper,
    order: Vec<u32>,
    /// For each provisional index [`Grouper::add`] returned, its group's display position.
    pub position: Vec<usize>,
}

impl Finished {
    /// How many groups.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The groups in display order (`G1` first).
    pub fn iter(&self) -> impl Iterator<Item = Group> + '_ {
        self.order
            .iter()
            .enumerate()
            .map(|(pos, &gi)| self.group(pos, gi as usize))
    }

    fn group(&self, pos: usize, gi: usize) -> Group {
        let g = &self.grouper;
        let st = &g.strings;
        let s = &g.slots[gi];
        // A load names the top-level profile; hats and children go with it. A namespaced
        // label only matches a load of the same namespaced name.
        let name = st.str(s.profile);
        let top = name.split("//").next().unwrap_or(name);
        let load = g.loads.get(name).or_else(|| g.loads.get(top));
        let stale = match (load, s.last_seen) {
            (Some(&l), Some(last)) => last < l,
            _ => false,
        };
        Group {
            id: format!("G{}", pos + 1),
            key: GroupKey {
                mode: s.mode,
                profile: name.to_string(),
                class: s.class,
                operation: st.str(s.operation).to_string(),
                resource: s.resource.to_string(),
                mask: st.str(s.mask).to_string(),
            },
            count: s.count,
            first_seen: s.first_seen,
            last_seen: s.last_seen,
            pids: s.pids.iter().copied().collect(),
            comms: s.comms.iter().map(|&c| st.str(c).to_string()).collect(),
            truncated: s.truncated,
            stale,
            untrusted: s.untrusted,
            examples: s
                .examples
                .iter()
                .map(|&(src, line)| EventRef {
                    source: st.str(src).to_string(),
                    line,
                })
                .collect(),
        }
    }
}

impl Serialize for Finished {
    /// The groups as a JSON array, written one group at a time.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
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

    /// The grouping as first written (owned keys in a map, trees for pids and comms): the
    /// compact grouper must give exactly its groups, in its order.
    fn reference(events: &[Event]) -> Vec<Group> {
        let mut index: HashMap<GroupKey, usize> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut loads: HashMap<String, i64> = HashMap::new();
        for ev in events {
            if matches!(
                ev.operation.as_deref(),
                Some("profile_load" | "profile_replace")
            ) {
                if let (Some(n), Some(t)) = (ev.name.as_deref(), ev.epoch) {
                    let e = loads.entry(n.to_string()).or_insert(t);
                    *e = (*e).max(t);
                }
                continue;
            }
            let key = key_of(ev);
            let n = groups.len();
            let gi = *index.entry(key.clone()).or_insert(n);
            if gi == n {
                groups.push(Group {
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
            let g = &mut groups[gi];
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
        }
        let rank = |k: EventKind| match k {
            EventKind::Denied => 0,
            EventKind::Allowed => 1,
            EventKind::Audit => 2,
            _ => 3,
        };
        groups.sort_by(|a, b| {
            rank(a.key.mode)
                .cmp(&rank(b.key.mode))
                .then_with(|| a.key.profile.cmp(&b.key.profile))
                .then_with(|| b.count.cmp(&a.count))
                .then_with(|| a.key.cmp(&b.key))
        });
        for (i, g) in groups.iter_mut().enumerate() {
            g.id = format!("G{}", i + 1);
            let name = g.key.profile.as_str();
            let top = name.split("//").next().unwrap_or(name);
            let load = loads.get(name).or_else(|| loads.get(top));
            g.stale = matches!((load, g.last_seen), (Some(&l), Some(last)) if last < l);
        }
        groups
    }

    proptest::proptest! {
        #[test]
        fn compact_grouper_equals_reference(
            specs in proptest::collection::vec(
                (0..4usize, 0..3usize, 0..6usize, 0..60i64, 0..40usize, 0..3usize, 0..4usize, 0..2usize),
                0..300,
            ),
        ) {
            let modes = ["DENIED", "ALLOWED", "AUDIT", "STATUS"];
            let profiles = ["/usr/sbin/a", "/usr/sbin/a//hat", ":ns:/b"];
            let names = ["/etc/x", "/etc/y", "/run/a.pid", "/var/lib/c/d", "/usr/sbin/a", "/b"];
            let masks = ["r", "w", "rw"];
            let ops = ["open", "file_perm", "mknod", "profile_replace"];
            let mut events = Vec::new();
            for (i, (m, p, n, pid, c, k, o, src)) in specs.into_iter().enumerate() {
                let line = format!(
                    "type=AVC msg=audit({}.1:{i}): apparmor=\"{}\" operation=\"{}\" profile=\"{}\" name=\"{}\" pid={pid} comm=\"c{c}\" requested_mask=\"{}\" denied_mask=\"{}\" fsuid=0 ouid=0",
                    100 + i, modes[m], ops[o], profiles[p], names[n], masks[k], masks[k]
                );
                let mut ev = parse_line(line.as_bytes()).unwrap().unwrap();
                ev.provenance.source = format!("src{src}");
                ev.provenance.line = i as u64 + 1;
                ev.provenance.trusted = src == 0;
                events.push(ev);
            }
            let mut g = Grouper::new();
            for ev in &events {
                if !g.observe_status(ev) {
                    g.add(ev);
                }
            }
            let (groups, _) = g.finish();
            proptest::prop_assert_eq!(groups, reference(&events));
        }
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
