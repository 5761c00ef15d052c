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

pub use super::fields::Origin;
use super::fields::{profile_name, Fields, MaskText};
use super::{Event, EventClass, EventKind, Perms};

/// How many example event references a group keeps.
pub const MAX_EXAMPLES: usize = 5;

/// How many distinct pids and comms a group keeps (memory stays bounded on huge logs);
/// [`Group::truncated`] says when more were seen.
pub const MAX_DISTINCT: usize = 32;

/// Distinct pids and comms a group keeps while grouping: one more than it shows.
const KEEP: usize = MAX_DISTINCT + 1;

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

/// The resource string of an event (see [`GroupKey::resource`]).
pub fn resource<F: Fields + ?Sized>(ev: &F) -> String {
    let mut s = String::new();
    write_resource(ev, &mut s);
    s
}

/// [`resource`], appended to `out`.
fn write_resource<F: Fields + ?Sized>(ev: &F, out: &mut String) {
    // Items joined by one space, absent ones skipped (as `join` did: a space only once
    // something non-empty has been written).
    fn item(out: &mut String, start: usize, s: Option<&str>) {
        if let Some(s) = s {
            if out.len() > start {
                out.push(' ');
            }
            out.push_str(s);
        }
    }
    let first = out.len();
    match ev.class() {
        EventClass::File | EventClass::Mqueue | EventClass::Exec => match (ev.name(), ev.name2()) {
            (Some(a), Some(b)) => {
                out.push_str(a);
                out.push_str(" -> ");
                out.push_str(b);
            }
            (a, b) if ev.class() != EventClass::Exec => out.push_str(a.or(b).unwrap_or("")),
            (a, _) => out.push_str(a.unwrap_or("")),
        },
        EventClass::Capability | EventClass::Userns | EventClass::Policy | EventClass::Other => {
            out.push_str(ev.name().unwrap_or(""));
        }
        EventClass::Network => {
            let port = ev
                .foreign_port()
                .or(ev.local_port())
                .filter(|&p| p != 0)
                .map(|p| p.to_string());
            item(out, first, ev.family());
            item(out, first, ev.sock_type());
            item(out, first, ev.protocol());
            item(out, first, port.as_deref());
        }
        EventClass::Unix => {
            item(out, first, ev.sock_type());
            item(out, first, ev.net_addr());
            item(out, first, ev.peer_addr());
            item(out, first, ev.peer_profile());
        }
        EventClass::Dbus => {
            item(out, first, ev.dbus_bus());
            item(out, first, ev.dbus_path());
            match (ev.dbus_interface(), ev.dbus_member()) {
                (Some(i), Some(m)) => {
                    item(out, first, Some(i));
                    out.push('.');
                    out.push_str(m);
                }
                (i, m) => item(out, first, i.or(m)),
            }
            item(out, first, ev.name());
            item(out, first, ev.peer_profile());
        }
        EventClass::Signal => {
            item(out, first, ev.signal());
            item(out, first, ev.peer_profile().or(ev.peer()));
        }
        EventClass::Ptrace | EventClass::IoUring => {
            out.push_str(ev.peer_profile().or(ev.peer()).unwrap_or(""));
        }
        EventClass::Mount => {
            item(out, first, ev.fs_type());
            item(out, first, ev.src_name());
            item(out, first, ev.name());
            if let Some(f) = ev.flags() {
                if out.len() > first {
                    out.push(' ');
                }
                out.push('(');
                out.push_str(f);
                out.push(')');
            }
        }
        EventClass::ChangeProfile | EventClass::ChangeHat => {
            out.push_str(ev.name2().or(ev.name()).unwrap_or(""));
        }
    }
}

/// The mask an event is grouped by: the denied mask for denials, else the requested one.
fn group_mask<F: Fields + ?Sized>(ev: &F) -> Option<MaskText<'_>> {
    if ev.kind() == EventKind::Denied {
        ev.denied().or(ev.requested())
    } else {
        ev.requested().or(ev.denied())
    }
}

fn mask_string(m: Option<MaskText<'_>>) -> String {
    match m {
        Some(MaskText::Parsed(p)) => p.to_string(),
        Some(MaskText::Raw(r)) => Perms::parse(r).to_string(),
        None => String::new(),
    }
}

/// The grouping key of an event.
pub fn key_of<F: Fields + ?Sized>(ev: &F) -> GroupKey {
    GroupKey {
        mode: ev.kind(),
        profile: ev.profile().unwrap_or_default().to_string(),
        class: ev.class(),
        operation: operation_family(ev.operation().unwrap_or("")).to_string(),
        resource: resource(ev),
        mask: mask_string(group_mask(ev)),
    }
}

/// Push onto a vector that never holds more than `max`, growing it no further than `max`
/// (a doubling vector of 33 would reserve 64: tens of thousands of groups add up).
fn push_bounded<T>(v: &mut Vec<T>, x: T, max: usize) {
    if v.len() == v.capacity() {
        let want = (v.capacity() * 2).clamp(4, max.max(1));
        v.reserve_exact(want.saturating_sub(v.len()));
    }
    v.push(x);
}

/// A group's first [`KEEP`] distinct pids, in input order: four bytes each while they fit
/// (real pids always do), eight once one does not.
#[derive(Debug)]
enum Pids {
    Narrow(Vec<u32>),
    Wide(Vec<i64>),
}

impl Default for Pids {
    fn default() -> Pids {
        Pids::Narrow(Vec::new())
    }
}

impl Pids {
    fn len(&self) -> usize {
        match self {
            Pids::Narrow(v) => v.len(),
            Pids::Wide(v) => v.len(),
        }
    }

    /// Note `p` if it is new and there is room.
    fn add(&mut self, p: i64) {
        if self.len() >= KEEP {
            return;
        }
        match self {
            Pids::Narrow(v) => match u32::try_from(p) {
                Ok(n) => {
                    if !v.contains(&n) {
                        push_bounded(v, n, KEEP);
                    }
                }
                Err(_) => {
                    let mut w: Vec<i64> = Vec::with_capacity(KEEP);
                    w.extend(v.iter().map(|&n| i64::from(n)));
                    w.push(p);
                    *self = Pids::Wide(w);
                }
            },
            Pids::Wide(v) => {
                if !v.contains(&p) {
                    push_bounded(v, p, KEEP);
                }
            }
        }
    }

    /// [`Pids::add`] each of `later`'s, in order (merging groups). Both lists are short but
    /// a merge meets tens of thousands of pairs: membership goes through a small hash set
    /// rather than a scan per pid.
    fn extend(&mut self, later: &Pids) {
        if self.len() >= KEEP {
            return;
        }
        let (Pids::Narrow(mine), Pids::Narrow(theirs)) = (&mut *self, later) else {
            for p in later.iter() {
                self.add(p);
            }
            return;
        };
        // Open addressing over 128 slots (it never holds more than 2 × KEEP pids), a bit
        // per slot for "taken".
        let mut set = [0u32; 128];
        let mut taken = 0u128;
        let mut put = |p: u32| -> bool {
            let mut i = (p.wrapping_mul(0x9E37_79B1) >> 25) as usize % 128;
            loop {
                if taken & (1 << i) == 0 {
                    taken |= 1 << i;
                    if let Some(s) = set.get_mut(i) {
                        *s = p;
                    }
                    return true;
                }
                if set.get(i) == Some(&p) {
                    return false;
                }
                i = (i + 1) % 128;
            }
        };
        for &p in mine.iter() {
            put(p);
        }
        for &p in theirs {
            if mine.len() >= KEEP {
                break;
            }
            if put(p) {
                push_bounded(mine, p, KEEP);
            }
        }
    }

    /// The first pid's bits (0 if none), to touch the list.
    fn first(&self) -> u64 {
        match self {
            Pids::Narrow(v) => v.first().map_or(0, |&p| u64::from(p)),
            Pids::Wide(v) => v.first().map_or(0, |&p| p as u64),
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = i64> + '_> {
        match self {
            Pids::Narrow(v) => Box::new(v.iter().map(|&n| i64::from(n))),
            Pids::Wide(v) => Box::new(v.iter().copied()),
        }
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
    pub fn matches<F: Fields + ?Sized>(&self, ev: &F) -> bool {
        if let Some(p) = &self.profile {
            let Some(name) = profile_name(ev) else {
                return false;
            };
            let ok = name == p
                || name
                    .strip_prefix(p.as_str())
                    .is_some_and(|r| r.starts_with("//"))
                || ev.profile() == Some(p.as_str());
            if !ok {
                return false;
            }
        }
        if let (Some(since), Some(t)) = (self.since, ev.epoch()) {
            if t < since {
                return false;
            }
        }
        if self.modes.is_empty() {
            if ev.kind() == EventKind::Status {
                return false;
            }
        } else if !self.modes.contains(&ev.kind()) {
            return false;
        }
        if let Some(op) = &self.operation {
            let evop = ev.operation().unwrap_or("");
            if evop != op && operation_family(evop) != op {
                return false;
            }
        }
        true
    }
}

type Hasher = foldhash::fast::RandomState;

/// Strings stored once and referred to by number (profiles, operations, masks, comms and
/// source labels repeat across thousands of groups).
#[derive(Debug, Default)]
struct Interner {
    ids: hashbrown::HashTable<u32>,
    strings: Vec<Box<str>>,
    hasher: Hasher,
}

impl Interner {
    fn hash(&self, s: &str) -> u64 {
        use std::hash::BuildHasher as _;
        self.hasher.hash_one(s)
    }

    fn id(&mut self, s: &str) -> u32 {
        let h = self.hash(s);
        if let Some(&id) = self.ids.find(h, |&i| {
            self.strings.get(i as usize).is_some_and(|t| **t == *s)
        }) {
            return id;
        }
        let id = u32::try_from(self.strings.len()).unwrap_or(u32::MAX);
        self.strings.push(s.into());
        let (strings, hasher) = (&self.strings, &self.hasher);
        self.ids.insert_unique(h, id, |&i| {
            use std::hash::BuildHasher as _;
            hasher.hash_one(strings.get(i as usize).map_or("", |t| &**t))
        });
        id
    }

    fn str(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }
}

/// A group as the grouper keeps it: the same facts as [`Group`] in a fraction of the memory
/// (interned strings, sorted vectors instead of trees), so that a log with tens of thousands
/// of groups stays small.
///
/// Laid out by hand, three cache lines to a slot: the key and counters first, where every
/// event's lookup and count read them, then the resource, then the lists' headers.
#[derive(Debug)]
#[repr(C, align(64))]
struct Slot {
    /// Hash of the key (for the table).
    hash: u64,
    count: u64,
    untrusted: u64,
    /// Earliest and latest epoch seen, when `timed`.
    first: i64,
    last: i64,
    profile: u32,
    operation: u32,
    mask: u32,
    mode: EventKind,
    class: EventClass,
    /// Whether an event had a time (`first` and `last` hold one).
    timed: bool,
    resource: SmallStr,
    /// The first distinct pids, in input order: at most [`KEEP`], so that one more than
    /// are shown tells "truncated", and so that groupers of consecutive parts of a log merge
    /// exactly (see [`Grouper::merge`]).
    pids: Pids,
    /// The first distinct comms (interned), in input order, at most [`KEEP`].
    comms: Vec<u32>,
    /// (interned source, line), at most [`MAX_EXAMPLES`].
    examples: Vec<(u32, u64)>,
}

/// Resource bytes a slot keeps inside itself (nearly every real one fits).
const INLINE: usize = 54;

/// A string kept inside its owner when short, on the heap when long: a group's resource is
/// compared for every event, and read next to the group's other fields it costs no extra
/// cache miss behind a pointer.
#[derive(Debug)]
enum SmallStr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl SmallStr {
    fn new(s: &str) -> SmallStr {
        let mut bytes = [0; INLINE];
        match (bytes.get_mut(..s.len()), u8::try_from(s.len())) {
            (Some(b), Ok(len)) => {
                b.copy_from_slice(s.as_bytes());
                SmallStr::Inline { len, bytes }
            }
            _ => SmallStr::Heap(s.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            SmallStr::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            SmallStr::Heap(s) => s.as_bytes(),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // Always valid: the bytes of a `&str`, cut where it ends.
            SmallStr::Inline { .. } => std::str::from_utf8(self.as_bytes()).unwrap_or_default(),
            SmallStr::Heap(s) => s,
        }
    }
}

impl Slot {
    /// A group of this key with no events yet.
    fn new(hash: u64, key: &SlotKey<'_>) -> Slot {
        Slot {
            hash,
            count: 0,
            untrusted: 0,
            first: 0,
            last: 0,
            profile: key.profile,
            operation: key.operation,
            mask: key.mask,
            mode: key.mode,
            class: key.class,
            timed: false,
            resource: SmallStr::new(key.resource),
            pids: Pids::default(),
            comms: Vec::new(),
            examples: Vec::new(),
        }
    }

    fn key(&self) -> SlotKey<'_> {
        SlotKey {
            mode: self.mode,
            class: self.class,
            profile: self.profile,
            operation: self.operation,
            mask: self.mask,
            resource: self.resource.as_str(),
        }
    }

    fn first_seen(&self) -> Option<i64> {
        self.timed.then_some(self.first)
    }

    fn last_seen(&self) -> Option<i64> {
        self.timed.then_some(self.last)
    }

    /// Widen the time span to take in `first..=last`.
    fn see(&mut self, first: i64, last: i64) {
        if self.timed {
            self.first = self.first.min(first);
            self.last = self.last.max(last);
        } else {
            (self.first, self.last, self.timed) = (first, last, true);
        }
    }

    /// Note comm `c` (interned) if it is new and there is room.
    fn add_comm(&mut self, c: u32) {
        if self.comms.len() < KEEP && !self.comms.contains(&c) {
            push_bounded(&mut self.comms, c, KEEP);
        }
    }

    /// Keep example `(source, line)` if there is room.
    fn add_example(&mut self, e: (u32, u64)) {
        if self.examples.len() < MAX_EXAMPLES {
            push_bounded(&mut self.examples, e, MAX_EXAMPLES);
        }
    }
}

/// Slots in blocks of this many.
const BLOCK: usize = 1024;

/// The slots in creation order, in fixed-size blocks. One vector of tens of thousands of
/// slots grows by copying itself into one twice the size, holding both for a moment: on a
/// large log that moment was the peak memory. Blocks never move; a merge frees each block
/// of the other side as soon as it has been taken in.
#[derive(Debug, Default)]
struct Slots {
    blocks: Vec<Vec<Slot>>,
    len: usize,
}

impl Slots {
    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn get(&self, i: usize) -> Option<&Slot> {
        self.blocks.get(i / BLOCK)?.get(i % BLOCK)
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut Slot> {
        self.blocks.get_mut(i / BLOCK)?.get_mut(i % BLOCK)
    }

    fn push(&mut self, s: Slot) {
        match self.blocks.last_mut() {
            Some(b) if b.len() < BLOCK => b.push(s),
            _ => {
                let mut b = Vec::with_capacity(BLOCK);
                b.push(s);
                self.blocks.push(b);
            }
        }
        self.len += 1;
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Slot> + '_ {
        self.blocks.iter_mut().flatten()
    }

    fn into_iter(self) -> impl Iterator<Item = Slot> {
        self.blocks.into_iter().flatten()
    }
}

impl std::ops::Index<usize> for Slots {
    type Output = Slot;

    /// Indexes come from the grouper itself (its table and its display order), never from
    /// input.
    fn index(&self, i: usize) -> &Slot {
        &self.blocks[i / BLOCK][i % BLOCK]
    }
}

/// A group key with interned strings, as [`Slot`] holds it.
struct SlotKey<'a> {
    mode: EventKind,
    class: EventClass,
    profile: u32,
    operation: u32,
    mask: u32,
    resource: &'a str,
}

/// Streaming grouper: feed events with [`Grouper::add`], then [`Grouper::finish`] (or
/// [`Grouper::finish_lazy`], which hands groups out one at a time).
///
/// Memory grows with the number of groups, never with the number of events. Hashing is
/// seeded per process (log text is attacker-controlled: no fixed hash to collide with).
#[derive(Debug, Default)]
pub struct Grouper {
    table: hashbrown::HashTable<u32>,
    slots: Slots,
    strings: Interner,
    /// Raw mask as logged → interned normalised mask (views carry raw masks).
    raw_masks: hashbrown::HashTable<(Box<str>, u32)>,
    hasher: Hasher,
    /// Last load/replace epoch per profile name.
    loads: HashMap<String, i64>,
    mask: String,
    /// Events of [`Grouper::add_queued`] not yet counted.
    queue: Queue,
}

/// Events waiting to be counted, a few at a time (see [`Grouper::add_queued`]).
///
/// Each event's group is a cache miss or three (table control bytes, table entry, group)
/// on a log with tens of thousands of groups, and one event's misses cannot overlap the
/// next one's: parsing a line comes between them. Held here, the keys of a few events are
/// looked up together, first only touching what the lookups will read: loads that do not
/// depend on one another, which the processor has in flight at the same time.
#[derive(Debug, Default)]
struct Queue {
    events: Vec<Queued>,
    /// The resources and comms of the waiting events, as their ranges name them.
    text: String,
    /// The last source label interned, and its id (one source gives thousands of events).
    source: Option<(Box<str>, u32)>,
}

/// Events counted together (enough to keep the memory system busy, few enough that their
/// keys stay in the first-level cache).
const QUEUE: usize = 32;

/// An event's key and what counting it needs.
#[derive(Debug, Clone, Copy)]
struct Queued {
    hash: u64,
    mode: EventKind,
    class: EventClass,
    profile: u32,
    operation: u32,
    mask: u32,
    /// Range of the resource in [`Queue::text`].
    resource: (usize, usize),
    /// Range of the comm in [`Queue::text`].
    comm: Option<(usize, usize)>,
    pid: Option<i64>,
    epoch: Option<i64>,
    trusted: bool,
    /// Interned source label.
    source: u32,
    line: u64,
}

impl Grouper {
    /// An empty grouper.
    pub fn new() -> Grouper {
        Grouper::default()
    }

    fn hash_key(&self, key: &SlotKey<'_>) -> u64 {
        use std::hash::BuildHasher as _;
        self.hasher.hash_one((
            key.mode,
            key.class,
            key.profile,
            key.operation,
            key.mask,
            key.resource,
        ))
    }

    /// The group of `key`, whose hash is `hash`, if there is one.
    fn find_hashed(&self, hash: u64, key: &SlotKey<'_>) -> Option<u32> {
        let slots = &self.slots;
        self.table
            .find(hash, |&i| {
                slots.get(i as usize).is_some_and(|s| {
                    s.profile == key.profile
                        && s.operation == key.operation
                        && s.mask == key.mask
                        && s.mode == key.mode
                        && s.class == key.class
                        && s.resource.as_bytes() == key.resource.as_bytes()
                })
            })
            .copied()
    }

    /// Add a new group (its key not yet in the table); returns its index.
    fn insert(&mut self, slot: Slot) -> u32 {
        let gi = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        let hash = slot.hash;
        self.slots.push(slot);
        let slots = &self.slots;
        self.table
            .insert_unique(hash, gi, |&i| slots.get(i as usize).map_or(0, |s| s.hash));
        gi
    }

    /// Note a STATUS event (profile load/replace), for staleness. Returns true if it was one.
    ///
    /// Only a `trusted` load stamped no later than now counts: a load any user could have
    /// written, or one from the future, would mark genuine denials stale (hide them as
    /// "probably fixed").
    pub fn observe_status<F: Fields + ?Sized>(&mut self, ev: &F, trusted: bool) -> bool {
        let op = ev.operation().unwrap_or("");
        if !matches!(op, "profile_load" | "profile_replace") {
            return false;
        }
        if !trusted {
            return true;
        }
        if let (Some(name), Some(t)) = (ev.name(), ev.epoch().filter(|&t| t <= now())) {
            match self.loads.get_mut(name) {
                Some(e) => *e = (*e).max(t),
                None => {
                    self.loads.insert(name.to_string(), t);
                }
            }
        }
        true
    }

    fn mask_id(&mut self, m: Option<MaskText<'_>>) -> u32 {
        use std::fmt::Write as _;
        use std::hash::BuildHasher as _;
        match m {
            None => self.strings.id(""),
            Some(MaskText::Parsed(p)) => {
                let mut buf = std::mem::take(&mut self.mask);
                buf.clear();
                // Writing to a String cannot fail.
                let _ = write!(buf, "{p}");
                let id = self.strings.id(&buf);
                self.mask = buf;
                id
            }
            Some(MaskText::Raw(r)) => {
                let h = self.hasher.hash_one(r);
                if let Some(&(_, id)) = self.raw_masks.find(h, |(k, _)| **k == *r) {
                    return id;
                }
                let id = self.strings.id(&Perms::parse(r).to_string());
                let hasher = &self.hasher;
                self.raw_masks
                    .insert_unique(h, (r.into(), id), |(k, _)| hasher.hash_one(&**k));
                id
            }
        }
    }

    /// Add an event; returns its provisional group index (map it to the final group with the
    /// table [`Grouper::finish`] returns).
    pub fn add(&mut self, ev: &Event) -> usize {
        let origin = Origin {
            source: &ev.provenance.source,
            line: ev.provenance.line,
            trusted: ev.provenance.trusted,
        };
        self.add_fields(ev, origin)
    }

    /// [`Grouper::add`] for any event representation, with its origin given apart.
    pub fn add_fields<F: Fields + ?Sized>(&mut self, ev: &F, origin: Origin<'_>) -> usize {
        // Events queued earlier are counted first: groups are numbered in input order.
        self.drain();
        self.enqueue(ev, origin);
        self.drain().map_or(0, |gi| gi as usize)
    }

    /// [`Grouper::add_fields`] for a caller that does not need the group index: the event
    /// may wait in a small queue and be counted with the next few (faster on a large log).
    /// Every read of the grouper ([`Grouper::merge`], [`Grouper::finish`], …) counts what
    /// is waiting first; [`Grouper::len`] does not, call [`Grouper::settle`] before it.
    pub fn add_queued<F: Fields + ?Sized>(&mut self, ev: &F, origin: Origin<'_>) {
        self.enqueue(ev, origin);
        if self.queue.events.len() >= QUEUE {
            self.drain();
        }
    }

    /// Count the events [`Grouper::add_queued`] holds back: after this, every event added
    /// so far is in its group.
    pub fn settle(&mut self) {
        self.drain();
    }

    /// Note an event's key and what counting it needs in the queue.
    fn enqueue<F: Fields + ?Sized>(&mut self, ev: &F, origin: Origin<'_>) {
        let mode = ev.kind();
        let class = ev.class();
        let mask = self.mask_id(group_mask(ev));
        let profile = self.strings.id(ev.profile().unwrap_or(""));
        let operation = self
            .strings
            .id(operation_family(ev.operation().unwrap_or("")));
        let mut text = std::mem::take(&mut self.queue.text);
        let start = text.len();
        write_resource(ev, &mut text);
        let resource = (start, text.len());
        let comm = ev.comm().map(|c| {
            let start = text.len();
            text.push_str(c);
            (start, text.len())
        });
        let hash = self.hash_key(&SlotKey {
            mode,
            class,
            profile,
            operation,
            mask,
            resource: text.get(resource.0..resource.1).unwrap_or_default(),
        });
        self.queue.text = text;
        let source = match &self.queue.source {
            Some((s, id)) if **s == *origin.source => *id,
            _ => {
                let id = self.strings.id(origin.source);
                self.queue.source = Some((origin.source.into(), id));
                id
            }
        };
        self.queue.events.push(Queued {
            hash,
            mode,
            class,
            profile,
            operation,
            mask,
            resource,
            comm,
            pid: ev.pid(),
            epoch: ev.epoch(),
            trusted: origin.trusted,
            source,
            line: origin.line,
        });
    }

    /// Touch what looking up each of `hashes` and counting into its group will read (the
    /// table entries, the group, its lists), using nothing of it: the loads for one hash do
    /// not wait for another's, so their cache misses overlap, and the lookups that follow
    /// find it all cached.
    fn touch(&self, hashes: impl Iterator<Item = u64>) {
        let slots = &self.slots;
        let mut touched = 0u64;
        for hash in hashes {
            self.table.find(hash, |&i| {
                if let Some(g) = slots.get(i as usize) {
                    touched ^= u64::from(g.profile)
                        ^ g.count
                        ^ u64::from(g.resource.as_bytes().first().copied().unwrap_or(0))
                        ^ g.pids.first()
                        ^ u64::from(g.comms.first().copied().unwrap_or(0))
                        ^ g.examples.first().map_or(0, |e| e.1);
                }
                false
            });
        }
        std::hint::black_box(touched);
    }

    /// Count the queued events, in order; returns the group of the last one.
    fn drain(&mut self) -> Option<u32> {
        if self.queue.events.is_empty() {
            return None;
        }
        let mut events = std::mem::take(&mut self.queue.events);
        let mut text = std::mem::take(&mut self.queue.text);
        // Touched first, all of them, then counted in order. A group created by an earlier
        // event of the queue is simply not found by the touching (the count finds it).
        self.touch(events.iter().map(|q| q.hash));
        let mut last = None;
        for q in &events {
            let resource = text.get(q.resource.0..q.resource.1).unwrap_or_default();
            let comm = q.comm.and_then(|(a, b)| text.get(a..b));
            last = Some(self.count(q, resource, comm));
        }
        events.clear();
        text.clear();
        self.queue.events = events;
        self.queue.text = text;
        last
    }

    /// Count event `q` (its resource and comm given) in its group, creating the group if
    /// it is the first; returns the group.
    fn count(&mut self, q: &Queued, resource: &str, comm: Option<&str>) -> u32 {
        let key = SlotKey {
            mode: q.mode,
            class: q.class,
            profile: q.profile,
            operation: q.operation,
            mask: q.mask,
            resource,
        };
        let gi = match self.find_hashed(q.hash, &key) {
            Some(gi) => gi,
            None => self.insert(Slot::new(q.hash, &key)),
        };
        let Some(g) = self.slots.get_mut(gi as usize) else {
            return gi;
        };
        g.count += 1;
        if let Some(t) = q.epoch {
            g.see(t, t);
        }
        if !q.trusted {
            g.untrusted += 1;
        }
        if let Some(p) = q.pid.filter(|&p| p != 0) {
            g.pids.add(p);
        }
        g.add_example((q.source, q.line));
        if let Some(c) = comm {
            // Interned only when its group has room (a full group is already known to be
            // truncated): the strings stay bounded by the groups.
            if g.comms.len() < KEEP {
                let c = self.strings.id(c);
                if let Some(g) = self.slots.get_mut(gi as usize) {
                    g.add_comm(c);
                }
            }
        }
        gi
    }

    /// Take in the groups of `later`, a grouper fed the events that follow this one's in
    /// the same input (the next part of a log split for parallel reading; its line numbers
    /// count from the start of its part and are shifted by `line_offset`). The result is
    /// exactly what one grouper fed both parts in order would hold: counts and times add
    /// up, examples and the first distinct pids and comms are taken in input order (each
    /// side keeps one more of those than is shown, which is what makes the merge exact).
    pub fn merge(&mut self, mut later: Grouper, line_offset: u64) {
        self.settle();
        later.settle();
        if self.slots.is_empty() && self.loads.is_empty() {
            // Nothing to merge with: take `later` whole rather than rebuild it (a copy of
            // every group while both exist would double the peak memory).
            if line_offset > 0 {
                for s in later.slots.iter_mut() {
                    for e in &mut s.examples {
                        e.1 += line_offset;
                    }
                }
            }
            *self = later;
            return;
        }
        for (name, t) in later.loads {
            match self.loads.get_mut(&name) {
                Some(e) => *e = (*e).max(t),
                None => {
                    self.loads.insert(name, t);
                }
            }
        }
        let theirs = &later.strings;
        // Their string ids as ours, looked up once per string rather than once per use.
        let mut map = vec![u32::MAX; theirs.strings.len()];
        let mut ours = |strings: &mut Interner, id: u32| -> u32 {
            match map.get_mut(id as usize) {
                Some(m) if *m != u32::MAX => *m,
                Some(m) => {
                    *m = strings.id(theirs.str(id));
                    *m
                }
                None => strings.id(theirs.str(id)),
            }
        };
        // Their groups a few at a time, each few looked up in two passes as in
        // [`Grouper::drain`]: first only touching our group and its lists, then merging.
        let mut theirs = later.slots.into_iter().peekable();
        let mut chunk: Vec<Slot> = Vec::with_capacity(QUEUE);
        while theirs.peek().is_some() {
            chunk.clear();
            for mut s in theirs.by_ref().take(QUEUE) {
                s.profile = ours(&mut self.strings, s.profile);
                s.operation = ours(&mut self.strings, s.operation);
                s.mask = ours(&mut self.strings, s.mask);
                for c in &mut s.comms {
                    *c = ours(&mut self.strings, *c);
                }
                for (src, line) in &mut s.examples {
                    *src = ours(&mut self.strings, *src);
                    *line += line_offset;
                }
                s.hash = self.hash_key(&s.key());
                chunk.push(s);
            }
            self.touch(chunk.iter().map(|s| s.hash));
            for s in chunk.drain(..) {
                match self.find_hashed(s.hash, &s.key()) {
                    None => {
                        self.insert(s);
                    }
                    Some(gi) => {
                        let Some(g) = self.slots.get_mut(gi as usize) else {
                            continue;
                        };
                        g.count += s.count;
                        g.untrusted += s.untrusted;
                        if s.timed {
                            g.see(s.first, s.last);
                        }
                        g.pids.extend(&s.pids);
                        for c in s.comms {
                            g.add_comm(c);
                        }
                        for e in s.examples {
                            g.add_example(e);
                        }
                    }
                }
            }
        }
    }

    /// How many groups there are so far (not counting events [`Grouper::add_queued`] still
    /// holds: see [`Grouper::settle`]).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no event has been added (counted, or still queued).
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty() && self.queue.events.is_empty()
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
    pub fn finish_lazy(mut self) -> Finished {
        self.settle();
        let rank = |k: EventKind| -> u8 {
            match k {
                EventKind::Denied => 0,
                EventKind::Allowed => 1,
                EventKind::Audit => 2,
                _ => 3,
            }
        };
        let slots = &self.slots;
        let st = &self.strings;
        // Interned strings ranked by their text once, so that most comparisons are of
        // numbers held together rather than of strings behind two pointers.
        let mut by_text: Vec<u32> = (0..st.strings.len())
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        by_text.sort_unstable_by(|&a, &b| st.str(a).cmp(st.str(b)));
        let mut rank_of = vec![0u32; by_text.len()];
        for (r, &id) in by_text.iter().enumerate() {
            if let Some(x) = rank_of.get_mut(id as usize) {
                *x = u32::try_from(r).unwrap_or(u32::MAX);
            }
        }
        let text_rank = |id: u32| rank_of.get(id as usize).copied().unwrap_or(u32::MAX);
        // Display order: mode rank, profile, descending count, then the rest of
        // `GroupKey`'s order (mode, class, operation, resource, mask). Keys are unique, so
        // the order is total and an unstable sort gives the same result every time.
        let mut keyed: Vec<(OrderKey, u32)> = (0..slots.len())
            .map(|i| {
                let g = &slots[i];
                // The resource's first eight bytes as a big-endian number order as the bytes
                // do (a shorter resource padded with zeros comes first, as it should); only
                // resources that share them are compared in full, in the slot.
                let mut head = [0u8; 8];
                let r = g.resource.as_bytes();
                let n = r.len().min(8);
                head[..n].copy_from_slice(&r[..n]);
                let key = (
                    rank(g.mode),
                    text_rank(g.profile),
                    std::cmp::Reverse(g.count),
                    g.mode,
                    g.class,
                    text_rank(g.operation),
                    u64::from_be_bytes(head),
                );
                (key, u32::try_from(i).unwrap_or(u32::MAX))
            })
            .collect();
        keyed.sort_unstable_by(|(ka, a), (kb, b)| {
            ka.cmp(kb).then_with(|| {
                let (ga, gb) = (&slots[*a as usize], &slots[*b as usize]);
                ga.resource
                    .as_bytes()
                    .cmp(gb.resource.as_bytes())
                    .then_with(|| text_rank(ga.mask).cmp(&text_rank(gb.mask)))
            })
        });
        let order: Vec<u32> = keyed.into_iter().map(|(_, gi)| gi).collect();
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

/// The leading part of a group's display order (see [`Grouper::finish_lazy`]), strings
/// replaced by their rank: mode rank, profile, descending count, mode, class, operation,
/// the resource's first bytes.
type OrderKey = (
    u8,
    u32,
    std::cmp::Reverse<u64>,
    EventKind,
    EventClass,
    u32,
    u64,
);

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

    /// Whether every event of slot `s` predates the last load of its profile.
    fn stale(&self, s: &Slot) -> bool {
        let g = &self.grouper;
        // A load names the top-level profile; hats and children go with it. A namespaced
        // label only matches a load of the same namespaced name.
        let name = g.strings.str(s.profile);
        let top = name.split("//").next().unwrap_or(name);
        let load = g.loads.get(name).or_else(|| g.loads.get(top));
        match (load, s.last_seen()) {
            (Some(&l), Some(last)) => last < l,
            _ => false,
        }
    }

    fn group_out(&self, pos: usize, gi: usize) -> GroupOut<'_> {
        let g = &self.grouper;
        let st = &g.strings;
        let s = &g.slots[gi];
        let mut pids: Vec<i64> = s.pids.iter().take(MAX_DISTINCT).collect();
        pids.sort_unstable();
        let mut comms: Vec<&str> = s
            .comms
            .iter()
            .take(MAX_DISTINCT)
            .map(|&c| st.str(c))
            .collect();
        comms.sort_unstable();
        GroupOut {
            id: GroupId(pos + 1),
            mode: s.mode,
            profile: st.str(s.profile),
            class: s.class,
            operation: st.str(s.operation),
            resource: s.resource.as_str(),
            mask: st.str(s.mask),
            count: s.count,
            first_seen: s.first_seen(),
            last_seen: s.last_seen(),
            pids,
            comms,
            truncated: s.pids.len() > MAX_DISTINCT || s.comms.len() > MAX_DISTINCT,
            stale: self.stale(s),
            untrusted: s.untrusted,
            examples: s
                .examples
                .iter()
                .map(|&(src, line)| EventRefOut {
                    source: st.str(src),
                    line,
                })
                .collect(),
        }
    }

    fn group(&self, pos: usize, gi: usize) -> Group {
        let g = &self.grouper;
        let st = &g.strings;
        let s = &g.slots[gi];
        let name = st.str(s.profile);
        let stale = self.stale(s);
        Group {
            id: format!("G{}", pos + 1),
            key: GroupKey {
                mode: s.mode,
                profile: name.to_string(),
                class: s.class,
                operation: st.str(s.operation).to_string(),
                resource: s.resource.as_str().to_string(),
                mask: st.str(s.mask).to_string(),
            },
            count: s.count,
            first_seen: s.first_seen(),
            last_seen: s.last_seen(),
            pids: s.pids.iter().take(MAX_DISTINCT).collect(),
            comms: s
                .comms
                .iter()
                .take(MAX_DISTINCT)
                .map(|&c| st.str(c).to_string())
                .collect(),
            truncated: s.pids.len() > MAX_DISTINCT || s.comms.len() > MAX_DISTINCT,
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
    /// The groups as a JSON array, written one group at a time, exactly as a list of
    /// [`Group`]s serializes, but borrowed from the grouper: a large log has tens of
    /// thousands of groups, and copying each one's strings into a `Group` first was a third
    /// of the time spent writing them.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.order
                .iter()
                .enumerate()
                .map(|(pos, &gi)| self.group_out(pos, gi as usize)),
        )
    }
}

/// serde_json's pretty printer (two-space indent), started at nesting `depth`: its output
/// is serde_json's pretty output with every line after the first indented by two more
/// spaces per level (the tests hold the two equal).
pub struct PrettyAt {
    indent: usize,
    has_value: bool,
}

impl PrettyAt {
    /// A printer for a value written inside `depth` objects or arrays.
    pub fn new(depth: usize) -> PrettyAt {
        PrettyAt {
            indent: depth,
            has_value: false,
        }
    }

    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        const SPACES: &[u8] = &[b' '; 64];
        w.write_all(b"\n")?;
        let mut n = 2 * self.indent;
        while n > 0 {
            let k = n.min(SPACES.len());
            w.write_all(&SPACES[..k])?;
            n -= k;
        }
        Ok(())
    }

    fn open<W: ?Sized + std::io::Write>(&mut self, w: &mut W, b: &[u8]) -> std::io::Result<()> {
        self.indent += 1;
        self.has_value = false;
        w.write_all(b)
    }

    fn close<W: ?Sized + std::io::Write>(&mut self, w: &mut W, b: &[u8]) -> std::io::Result<()> {
        self.indent = self.indent.saturating_sub(1);
        if self.has_value {
            self.newline(w)?;
        }
        w.write_all(b)
    }

    fn item<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }
}

impl serde_json::ser::Formatter for PrettyAt {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `value` as serde_json's pretty output at nesting `depth`, appended to `out`.
pub fn write_pretty_at<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    depth: usize,
) -> serde_json::Result<()> {
    value.serialize(&mut serde_json::Serializer::with_formatter(
        out,
        PrettyAt::new(depth),
    ))
}

impl Finished {
    /// Groups per piece of work when [`Finished::write_pretty`] runs on several threads
    /// (about 150 KB of JSON: a few pieces in flight keep memory flat).
    const CHUNK: usize = 256;

    /// Pretty JSON of `groups[range]`, each group at `depth` and followed by `,\n` and the
    /// indentation of the next, except after the last group of all.
    fn write_chunk(
        &self,
        lit: &Literals,
        range: std::ops::Range<usize>,
        depth: usize,
        out: &mut Vec<u8>,
    ) {
        let mut scratch = (Vec::new(), Vec::new());
        for pos in range {
            let Some(&gi) = self.order.get(pos) else {
                break;
            };
            self.write_group(lit, pos, gi as usize, depth, out, &mut scratch);
            if pos + 1 < self.order.len() {
                out.extend_from_slice(b",\n");
                out.resize(out.len() + 2 * depth, b' ');
            }
        }
    }

    /// The pretty JSON of group `gi` (at display position `pos`) at nesting `depth`: what
    /// [`write_pretty_at`] writes for its [`GroupOut`] (the tests hold the two equal), written
    /// directly, with the interned strings' literals copied from `lit`.
    fn write_group(
        &self,
        lit: &Literals,
        pos: usize,
        gi: usize,
        depth: usize,
        out: &mut Vec<u8>,
        (pids, comms): &mut (Vec<i64>, Vec<u32>),
    ) {
        let g = &self.grouper;
        let Some(s) = g.slots.get(gi) else {
            return;
        };
        let newline = |out: &mut Vec<u8>, level: usize| {
            out.push(b'\n');
            out.resize(out.len() + 2 * level, b' ');
        };
        let key = |out: &mut Vec<u8>, name: &[u8]| {
            if name != b"id" {
                out.push(b',');
            }
            newline(out, depth + 1);
            out.push(b'"');
            out.extend_from_slice(name);
            out.extend_from_slice(b"\": ");
        };
        let int = |out: &mut Vec<u8>, n: i64| {
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        };
        let uint = |out: &mut Vec<u8>, n: u64| {
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        };
        let opt = |out: &mut Vec<u8>, n: Option<i64>| match n {
            Some(n) => int(out, n),
            None => out.extend_from_slice(b"null"),
        };
        let flag = |out: &mut Vec<u8>, b: bool| {
            out.extend_from_slice(if b { b"true" } else { b"false" });
        };
        // An array of `n` items at `depth + 1`, each written by `item` at `depth + 2`.
        let array = |out: &mut Vec<u8>, n: usize, item: &mut dyn FnMut(&mut Vec<u8>, usize)| {
            out.push(b'[');
            if n == 0 {
                out.push(b']');
                return;
            }
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, depth + 2);
                item(out, i);
            }
            newline(out, depth + 1);
            out.push(b']');
        };
        // Writing to a Vec cannot fail, and the enums always serialize.
        out.push(b'{');
        key(out, b"id");
        out.extend_from_slice(b"\"G");
        uint(out, pos as u64 + 1);
        out.push(b'"');
        key(out, b"mode");
        let _ = serde_json::to_writer(&mut *out, &s.mode);
        key(out, b"profile");
        out.extend_from_slice(lit.get(s.profile));
        key(out, b"class");
        let _ = serde_json::to_writer(&mut *out, &s.class);
        key(out, b"operation");
        out.extend_from_slice(lit.get(s.operation));
        key(out, b"resource");
        let _ = serde_json::to_writer(&mut *out, s.resource.as_str());
        key(out, b"mask");
        out.extend_from_slice(lit.get(s.mask));
        key(out, b"count");
        uint(out, s.count);
        key(out, b"first_seen");
        opt(out, s.first_seen());
        key(out, b"last_seen");
        opt(out, s.last_seen());
        key(out, b"pids");
        pids.clear();
        pids.extend(s.pids.iter().take(MAX_DISTINCT));
        pids.sort_unstable();
        array(out, pids.len(), &mut |out, i| {
            int(out, pids.get(i).copied().unwrap_or_default());
        });
        key(out, b"comms");
        comms.clear();
        comms.extend(s.comms.iter().take(MAX_DISTINCT));
        comms.sort_unstable_by(|&a, &b| g.strings.str(a).cmp(g.strings.str(b)));
        array(out, comms.len(), &mut |out, i| {
            out.extend_from_slice(lit.get(comms.get(i).copied().unwrap_or(u32::MAX)));
        });
        key(out, b"truncated");
        flag(
            out,
            s.pids.len() > MAX_DISTINCT || s.comms.len() > MAX_DISTINCT,
        );
        key(out, b"stale");
        flag(out, self.stale(s));
        key(out, b"untrusted");
        uint(out, s.untrusted);
        key(out, b"examples");
        array(out, s.examples.len(), &mut |out, i| {
            let Some(&(src, line)) = s.examples.get(i) else {
                return;
            };
            out.push(b'{');
            newline(out, depth + 3);
            out.extend_from_slice(b"\"source\": ");
            out.extend_from_slice(lit.get(src));
            out.push(b',');
            newline(out, depth + 3);
            out.extend_from_slice(b"\"line\": ");
            uint(out, line);
            newline(out, depth + 2);
            out.push(b'}');
        });
        newline(out, depth);
        out.push(b'}');
    }

    /// Write the groups as a JSON array exactly as `serde_json::to_writer_pretty` writes
    /// `self` as a value at nesting `depth` (inside `depth` objects or arrays), converting
    /// groups to JSON on up to `threads` threads while this one writes them in order.
    /// Memory stays bounded: each thread keeps at most a few chunks ahead of the writer.
    pub fn write_pretty<W: std::io::Write>(
        &self,
        out: &mut W,
        depth: usize,
        threads: usize,
    ) -> std::io::Result<()> {
        if self.order.is_empty() {
            return out.write_all(b"[]");
        }
        let mut head = b"[\n".to_vec();
        head.resize(head.len() + 2 * (depth + 1), b' ');
        out.write_all(&head)?;
        let lit = Literals::new(&self.grouper.strings);
        let lit = &lit;
        let chunks = self.order.len().div_ceil(Self::CHUNK);
        let range = |k: usize| k * Self::CHUNK..((k + 1) * Self::CHUNK).min(self.order.len());
        if threads <= 1 || chunks == 1 {
            let mut buf = Vec::new();
            for k in 0..chunks {
                buf.clear();
                self.write_chunk(lit, range(k), depth + 1, &mut buf);
                out.write_all(&buf)?;
            }
        } else {
            let threads = threads.min(chunks);
            std::thread::scope(|scope| -> std::io::Result<()> {
                // Worker `w` does chunks w, w + threads, …: reading the workers in turn
                // gives the chunks in order.
                // Written buffers go back to their worker: reused, they are neither grown
                // nor faulted in again for every chunk.
                let workers: Vec<_> = (0..threads)
                    .map(|w| {
                        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
                        let (back, free) = std::sync::mpsc::channel::<Vec<u8>>();
                        scope.spawn(move || {
                            for k in (w..chunks).step_by(threads) {
                                let mut buf = free.try_recv().unwrap_or_default();
                                buf.clear();
                                self.write_chunk(lit, range(k), depth + 1, &mut buf);
                                // The writer stopped (a write failed): so do we.
                                if tx.send(buf).is_err() {
                                    return;
                                }
                            }
                        });
                        (rx, back)
                    })
                    .collect();
                for k in 0..chunks {
                    let (rx, back) = &workers[k % threads];
                    let buf = rx
                        .recv()
                        .map_err(|_| std::io::Error::other("a JSON worker thread stopped"))?;
                    out.write_all(&buf)?;
                    // A worker that has finished no longer takes buffers back: not an error.
                    let _ = back.send(buf);
                }
                Ok(())
            })?;
        }
        let mut tail = b"\n".to_vec();
        tail.resize(tail.len() + 2 * depth, b' ');
        tail.push(b']');
        out.write_all(&tail)
    }
}

/// Every interned string as a JSON string literal (quoted, escaped), made once: the same
/// few profiles, operations, masks, comms and source labels are written for every group.
struct Literals {
    text: Vec<u8>,
    /// Where each string's literal ends in `text` (it starts where the previous one ends).
    ends: Vec<usize>,
}

impl Literals {
    fn new(strings: &Interner) -> Literals {
        let mut text = Vec::new();
        let mut ends = Vec::with_capacity(strings.strings.len());
        for s in &strings.strings {
            // Writing a string to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut text, &**s);
            ends.push(text.len());
        }
        Literals { text, ends }
    }

    /// The literal of string `id` (`""` for an id that is not one).
    fn get(&self, id: u32) -> &[u8] {
        let i = id as usize;
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(0),
            None => 0,
        };
        match self.ends.get(i) {
            Some(&end) => self.text.get(start..end).unwrap_or_default(),
            None => b"\"\"",
        }
    }
}

/// A group's id (`G` and its 1-based position), written without an intermediate string.
struct GroupId(usize);

impl Serialize for GroupId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("G{}", self.0))
    }
}

/// [`EventRef`], borrowed.
#[derive(Serialize)]
struct EventRefOut<'a> {
    source: &'a str,
    line: u64,
}

/// [`Group`], borrowed: the same fields in the same order (the key's fields where
/// `#[serde(flatten)]` puts them), so the same JSON.
#[derive(Serialize)]
struct GroupOut<'a> {
    id: GroupId,
    mode: EventKind,
    profile: &'a str,
    class: EventClass,
    operation: &'a str,
    resource: &'a str,
    mask: &'a str,
    count: u64,
    first_seen: Option<i64>,
    last_seen: Option<i64>,
    /// Sorted, as `Group`'s set is.
    pids: Vec<i64>,
    /// Sorted, as `Group`'s set is.
    comms: Vec<&'a str>,
    truncated: bool,
    stale: bool,
    untrusted: u64,
    examples: Vec<EventRefOut<'a>>,
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
        self.position(id).and_then(|gi| self.groups.get(gi))
    }

    /// The index in `groups` of the group with this id (ids are unique in a grouping).
    ///
    /// Constant time for the ids [`group_events`] gives (`groups[i].id == "G{i+1}"`), so
    /// that a caller looking up every group does not pay for a scan each time; any other
    /// id (a grouping read back from a file, an id a model made up) falls back to a scan.
    pub fn position(&self, id: &str) -> Option<usize> {
        let direct = id
            .strip_prefix('G')
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1));
        if let Some(gi) = direct {
            if self.groups.get(gi).is_some_and(|g| g.id == id) {
                return Some(gi);
            }
        }
        self.groups.iter().position(|g| g.id == id)
    }

    /// Indices (into the input slice) of the events of group `id`.
    ///
    /// Scans every event: to visit the events of many groups, use [`Grouping::events_by_group`]
    /// once instead.
    pub fn events_of(&self, id: &str) -> Vec<usize> {
        let Some(gi) = self.position(id) else {
            return Vec::new();
        };
        self.membership
            .iter()
            .enumerate()
            .filter(|(_, m)| **m == Some(gi))
            .map(|(i, _)| i)
            .collect()
    }

    /// For each group (by index in `groups`), the indices of its events in ascending order:
    /// `events_by_group()[gi] == events_of(&groups[gi].id)` for every group whose id is
    /// unique, built in one pass over the events.
    pub fn events_by_group(&self) -> Vec<Vec<usize>> {
        let mut out: Vec<Vec<usize>> = vec![Vec::new(); self.groups.len()];
        for (i, m) in self.membership.iter().enumerate() {
            if let Some(v) = m.and_then(|gi| out.get_mut(gi)) {
                v.push(i);
            }
        }
        out
    }
}

/// The current time (epoch seconds).
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Group a slice of events (STATUS events only feed staleness, trusted ones only).
pub fn group_events(events: &[Event], filter: &Filter) -> Grouping {
    let mut g = Grouper::new();
    let mut provisional = Vec::with_capacity(events.len());
    for ev in events {
        if g.observe_status(ev, ev.provenance.trusted) || !filter.matches(ev) {
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

    /// Append `json` (serde_json's pretty output of one value, written at depth 0) to `out` as
    /// that output would be at nesting `depth`: each line after the first indented by two spaces
    /// per level. serde_json escapes newlines inside strings, so every newline byte is one of
    /// the printer's own.
    pub(crate) fn push_reindented(out: &mut Vec<u8>, json: &[u8], depth: usize) {
        let mut lines = json.split(|&b| b == b'\n');
        if let Some(first) = lines.next() {
            out.extend_from_slice(first);
        }
        for line in lines {
            out.push(b'\n');
            out.resize(out.len() + 2 * depth, b' ');
            out.extend_from_slice(line);
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "[ -~\n\t\u{1d}é]{0,12}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map("[a-z\n\"]{0,6}", inner, 0..5)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// The printer started at a depth writes what serde_json's pretty printer writes,
        /// re-indented to that depth.
        #[test]
        fn pretty_at_depth_equals_reindented_serde_json(v in json_value(), depth in 0..5usize) {
            let mut got = b"x".to_vec();
            write_pretty_at(&mut got, &v, depth).unwrap();
            let mut want = b"x".to_vec();
            push_reindented(&mut want, &serde_json::to_vec_pretty(&v).unwrap(), depth);
            proptest::prop_assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want).unwrap());
        }
    }

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

    /// Only a trusted load stamped no later than now makes the denials before it stale.
    #[test]
    fn untrusted_and_future_loads_are_not_staleness() {
        let a = r#"type=AVC msg=audit(100.1:1): apparmor="DENIED" operation="open" profile="/b" name="/etc/x" pid=1 comm="b" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#;
        let load = |t: &str| {
            format!(
                r#"type=AVC msg=audit({t}:4): apparmor="STATUS" operation="profile_replace" profile="unconfined" name="/b" pid=9 comm="apparmor_parser""#
            )
        };
        let stale = |load: Event| group_events(&[ev(a), load], &Filter::default()).groups[0].stale;
        assert!(stale(ev(&load("200.1"))));
        let mut forged = ev(&load("200.1"));
        forged.provenance.trusted = false;
        assert!(!stale(forged));
        assert!(!stale(ev(&load("99999999999.1"))));
    }

    fn plain_group(id: String) -> Group {
        Group {
            id,
            key: GroupKey {
                mode: EventKind::Denied,
                profile: "p".into(),
                class: EventClass::File,
                operation: "open".into(),
                resource: "/x".into(),
                mask: "r".into(),
            },
            count: 0,
            first_seen: None,
            last_seen: None,
            pids: BTreeSet::new(),
            comms: BTreeSet::new(),
            truncated: false,
            stale: false,
            untrusted: 0,
            examples: Vec::new(),
        }
    }

    mod group_index {
        use super::*;
        use proptest::prelude::*;

        proptest::proptest! {
            /// The one-pass index and the direct id lookup answer what the scans they replace
            /// answered (`events_of` filtering the membership, `group` a linear `find`), on
            /// groupings with display ids (`G1`, `G2`, … as `group_events` gives) and on ones
            /// whose ids are unique but shuffled or odd (`G01`, `G+2`, `X3`: the scan fallback).
            #[test]
            fn group_index_equals_the_scans(
                n in 0..40usize,
                odd in proptest::collection::vec(prop_oneof![
                    Just(None),
                    (0..50usize).prop_map(|k| Some(format!("G0{k}"))),
                    (0..50usize).prop_map(|k| Some(format!("G+{k}"))),
                    (0..50usize).prop_map(|k| Some(format!("X{k}"))),
                ], 40),
                shuffle in proptest::collection::vec(0..40usize, 40),
                members in proptest::collection::vec(proptest::option::of(0..45usize), 0..200),
                probes in proptest::collection::vec(
                    "(G|X)(0|\\+)?[0-9]{1,2}|G|G-1|", 0..20),
            ) {
                let mut ids: Vec<String> = (0..n)
                    .map(|i| odd[i].clone().unwrap_or_else(|| format!("G{}", i + 1)))
                    .collect();
                for (i, &j) in shuffle.iter().enumerate().take(n / 3) {
                    if j < n {
                        ids.swap(i, j);
                    }
                }
                let mut seen = BTreeSet::new();
                ids.retain(|id| seen.insert(id.clone()));
                let g = Grouping {
                    groups: ids.iter().cloned().map(plain_group).collect(),
                    // indices past the end are kept: `membership` is a public field
                    membership: members,
                };
                let by_group = g.events_by_group();
                prop_assert_eq!(by_group.len(), g.groups.len());
                for (gi, grp) in g.groups.iter().enumerate() {
                    let scanned: Vec<usize> = g.membership.iter().enumerate()
                        .filter(|(_, m)| **m == Some(gi)).map(|(i, _)| i).collect();
                    prop_assert_eq!(&by_group[gi], &scanned);
                    prop_assert_eq!(g.events_of(&grp.id), scanned);
                    prop_assert_eq!(g.position(&grp.id), Some(gi));
                }
                for id in probes.iter().chain(&ids) {
                    let old = g.groups.iter().find(|x| &x.id == id);
                    prop_assert_eq!(g.group(id), old, "{}", id);
                }
            }
        }
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
                if let (Some(n), Some(t), true) =
                    (ev.name.as_deref(), ev.epoch, ev.provenance.trusted)
                {
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
                (0..4usize, 0..3usize, 0..9usize, 0..60i64, 0..40usize, 0..3usize, 0..4usize, 0..2usize),
                0..300,
            ),
            queued in proptest::bool::ANY,
            settle_every in 0..50usize,
        ) {
            let modes = ["DENIED", "ALLOWED", "AUDIT", "STATUS"];
            let profiles = ["/usr/sbin/a", "/usr/sbin/a//hat", ":ns:/b"];
            // Some share their first eight bytes, or are them, or end inside them (display
            // order compares those bytes first).
            let names = [
                "/etc/x", "/etc/y", "/run/a.pid", "/var/lib/c/d", "/usr/sbin/a", "/b", "/var/lib",
                "/var/li", "/var/lib/c",
            ];
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
            // Events counted at once, or held in the queue and settled now and then.
            let mut g = Grouper::new();
            for (i, ev) in events.iter().enumerate() {
                if g.observe_status(ev, ev.provenance.trusted) {
                    continue;
                }
                if queued {
                    let origin = Origin {
                        source: &ev.provenance.source,
                        line: ev.provenance.line,
                        trusted: ev.provenance.trusted,
                    };
                    g.add_queued(ev, origin);
                    if settle_every > 0 && i % settle_every == 0 {
                        g.settle();
                    }
                } else {
                    g.add(ev);
                }
            }
            let done = g.finish_lazy();
            let groups: Vec<Group> = done.iter().collect();
            // The chunked writer, on one thread or several, at any depth, gives serde_json's
            // own pretty output.
            for depth in [0, 1, 3] {
                let mut want = Vec::new();
                push_reindented(&mut want, serde_json::to_string_pretty(&done).unwrap().as_bytes(), depth);
                for threads in [1, 2, 3] {
                    let mut got = Vec::new();
                    done.write_pretty(&mut got, depth, threads).unwrap();
                    proptest::prop_assert_eq!(&got, &want, "depth {} threads {}", depth, threads);
                }
            }
            // The borrowed writer gives the JSON of the owned groups, byte for byte.
            proptest::prop_assert_eq!(
                serde_json::to_string_pretty(&done).unwrap(),
                serde_json::to_string_pretty(&groups).unwrap()
            );
            proptest::prop_assert_eq!(groups, reference(&events));
        }
    }

    proptest::proptest! {
        /// Grouping consecutive parts apart and merging them in order gives exactly what one
        /// grouper gives (what parallel reading relies on), including the first pids, comms
        /// and examples and "truncated".
        #[test]
        fn merged_parts_equal_one_grouper(
            specs in proptest::collection::vec((0..3usize, 0..40i64, 0..40usize, 0..3usize), 0..200),
            cuts in proptest::collection::vec(0..200usize, 0..4),
            queued in proptest::bool::ANY,
        ) {
            let modes = ["DENIED", "ALLOWED", "STATUS"];
            let mut events = Vec::new();
            for (i, (m, pid, c, n)) in specs.into_iter().enumerate() {
                let op = if m == 2 { "profile_load" } else { "open" };
                let line = format!(
                    "type=AVC msg=audit({}.1:{i}): apparmor=\"{}\" operation=\"{op}\" profile=\"/p\" name=\"/x{n}\" pid={pid} comm=\"c{c}\" requested_mask=\"r\" denied_mask=\"r\"",
                    100 + i, modes[m]
                );
                let mut ev = parse_line(line.as_bytes()).unwrap().unwrap();
                ev.provenance.source = "log".into();
                ev.provenance.line = i as u64 + 1;
                events.push(ev);
            }
            let feed = |g: &mut Grouper, evs: &[Event], offset: u64| {
                for ev in evs {
                    if !g.observe_status(ev, ev.provenance.trusted) {
                        let origin = Origin { source: "log", line: ev.provenance.line - offset, trusted: true };
                        if queued {
                            g.add_queued(ev, origin);
                        } else {
                            g.add_fields(ev, origin);
                        }
                    }
                }
            };
            let mut whole = Grouper::new();
            feed(&mut whole, &events, 0);
            let new = Grouper::new;
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(events.len())).collect();
            cuts.push(0);
            cuts.push(events.len());
            cuts.sort();
            let mut merged = new();
            for w in cuts.windows(2) {
                let mut part = new();
                feed(&mut part, &events[w[0]..w[1]], w[0] as u64);
                merged.merge(part, w[0] as u64);
            }
            proptest::prop_assert_eq!(merged.finish().0, whole.finish().0);
        }
    }

    /// More groups than one block of slots holds, merged across parts too: the same
    /// groups as the reference.
    #[test]
    fn many_groups_cross_slot_blocks() {
        let events: Vec<Event> = (0..3 * BLOCK + 7)
            .map(|i| {
                let line = format!(
                    "type=AVC msg=audit({}.1:{i}): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" name=\"/f/{}\" pid={i} comm=\"c\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0",
                    100 + i,
                    i % (2 * BLOCK + 3)
                );
                let mut ev = parse_line(line.as_bytes()).unwrap().unwrap();
                ev.provenance.line = i as u64 + 1;
                ev
            })
            .collect();
        let mut one = Grouper::new();
        for ev in &events {
            one.add(ev);
        }
        assert_eq!(one.len(), 2 * BLOCK + 3);
        assert_eq!(one.finish().0, reference(&events));
        let (a, b) = events.split_at(BLOCK + 1);
        let (mut first, mut second) = (Grouper::new(), Grouper::new());
        for ev in a {
            first.add(ev);
        }
        for ev in b {
            let mut ev = ev.clone();
            ev.provenance.line -= a.len() as u64;
            second.add(&ev);
        }
        first.merge(second, a.len() as u64);
        assert_eq!(first.finish().0, reference(&events));
    }

    /// Many chunks on several threads: serde_json's output, in order; a writer that fails
    /// part way gives its error (the workers stop, nothing hangs).
    #[test]
    fn parallel_json_writer_equals_serde_json() {
        let mut g = Grouper::new();
        for i in 0..2000 {
            let line = format!(
                "type=AVC msg=audit({}.1:{i}): apparmor=\"DENIED\" operation=\"open\" profile=\"p{}\" name=\"/f/{i}\" pid={} comm=\"c\\\"{}\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0",
                100 + i, i % 7, i % 50, i % 3
            );
            if let Ok(Some(ev)) = parse_line(line.as_bytes()) {
                g.add(&ev);
            }
        }
        let done = g.finish_lazy();
        assert!(done.len() > 4 * Finished::CHUNK, "{} groups", done.len());
        let mut want = Vec::new();
        push_reindented(
            &mut want,
            serde_json::to_string_pretty(&done).unwrap().as_bytes(),
            1,
        );
        for threads in [1, 2, 5] {
            let mut got = Vec::new();
            done.write_pretty(&mut got, 1, threads).unwrap();
            assert!(got == want, "{threads} threads");
        }

        struct Failing(usize);
        impl std::io::Write for Failing {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if self.0 < b.len() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::BrokenPipe,
                        "closed",
                    ));
                }
                self.0 -= b.len();
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        for threads in [1, 2] {
            let err = done
                .write_pretty(&mut Failing(100_000), 1, threads)
                .unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
        }
    }

    proptest::proptest! {
        /// The hand-written group JSON is serde_json's pretty output of the group, whatever
        /// the strings hold (quotes, backslashes, control characters, any Unicode) and with
        /// or without times, pids and comms.
        #[test]
        fn written_groups_equal_serde_json(
            specs in proptest::collection::vec(
                (
                    0..4usize,
                    "[a-c\"\\\u{1}\u{1d}é\u{10FFFF}/ ]{0,6}",
                    "[a-c\"\\\u{7f}\n/ ]{0,8}",
                    proptest::option::of("[a-c\"\t]{0,3}"),
                    proptest::option::of(-3..3i64),
                    proptest::option::of(0..5i64),
                    "[a-b\"]{0,2}",
                ),
                0..60,
            ),
            depth in 0..3usize,
        ) {
            let kinds = [EventKind::Denied, EventKind::Allowed, EventKind::Audit, EventKind::Hint];
            let mut g = Grouper::new();
            for (i, (k, profile, name, comm, epoch, pid, source)) in specs.into_iter().enumerate() {
                let mut ev = Event {
                    kind: kinds[k],
                    class: if k == 3 { EventClass::Network } else { EventClass::File },
                    operation: Some("open".into()),
                    profile: Some(profile),
                    name: Some(name),
                    comm,
                    epoch,
                    pid,
                    ..Event::default()
                };
                ev.provenance.source = source;
                ev.provenance.line = i as u64 + 1;
                g.add(&ev);
            }
            let done = g.finish_lazy();
            let mut want = Vec::new();
            push_reindented(&mut want, serde_json::to_string_pretty(&done).unwrap().as_bytes(), depth);
            for threads in [1, 2] {
                let mut got = Vec::new();
                done.write_pretty(&mut got, depth, threads).unwrap();
                proptest::prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
            }
        }
    }

    #[test]
    fn pids_beyond_32_bits_are_kept_exactly() {
        let mut g = Grouper::new();
        for pid in [5, 99_999_999_999_i64, 5, 7, 4_294_967_295, 99_999_999_999] {
            let line = format!(
                r#"type=AVC msg=audit(1.1:1): apparmor="DENIED" operation="open" profile="/b" name="/x" pid={pid} comm="c" requested_mask="r" denied_mask="r""#
            );
            g.add(&ev(&line));
        }
        let (groups, _) = g.finish();
        let pids: Vec<i64> = groups[0].pids.iter().copied().collect();
        assert_eq!(pids, [5, 7, 4_294_967_295, 99_999_999_999]);
        assert!(!groups[0].truncated);
    }

    proptest::proptest! {
        /// Pids wider than 32 bits turn a group's list wide part-way: the group still keeps
        /// the first distinct ones in input order.
        #[test]
        fn wide_and_narrow_pids_keep_input_order(
            pids in proptest::collection::vec(
                proptest::prop_oneof![1..50i64, 4_294_967_290..4_294_967_340i64],
                0..120,
            ),
        ) {
            let events: Vec<Event> = pids
                .iter()
                .map(|pid| {
                    ev(&format!(
                        r#"type=AVC msg=audit(1.1:1): apparmor="DENIED" operation="open" profile="/b" name="/x" pid={pid} comm="c{}" requested_mask="r" denied_mask="r""#,
                        pid % 40
                    ))
                })
                .collect();
            let mut g = Grouper::new();
            for e in &events {
                g.add(e);
            }
            proptest::prop_assert_eq!(g.finish().0, reference(&events));
        }
    }

    /// The slot fills exactly three cache lines (see [`Slot`]): a field added or widened
    /// shows here.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn slot_is_three_cache_lines() {
        assert_eq!(std::mem::size_of::<Slot>(), 192);
        assert_eq!(std::mem::offset_of!(Slot, resource), 56);
    }

    proptest::proptest! {
        #[test]
        fn small_str_keeps_any_string(s in "[a-z/é\u{1d}]{0,70}") {
            let k = SmallStr::new(&s);
            proptest::prop_assert_eq!(k.as_str(), s.as_str());
            proptest::prop_assert_eq!(k.as_bytes(), s.as_bytes());
            proptest::prop_assert_eq!(matches!(k, SmallStr::Inline { .. }), s.len() <= INLINE);
        }
    }

    proptest::proptest! {
        /// Merging pid lists through the hash set adds exactly what adding one by one does.
        #[test]
        fn pids_extend_equals_adding_each(
            a in proptest::collection::vec(proptest::prop_oneof![0..40u32, proptest::num::u32::ANY], 0..40),
            b in proptest::collection::vec(proptest::prop_oneof![0..40u32, proptest::num::u32::ANY], 0..40),
        ) {
            let fill = |v: &[u32]| {
                let mut p = Pids::default();
                for &x in v {
                    p.add(i64::from(x));
                }
                p
            };
            let (mut fast, slow_base, later) = (fill(&a), fill(&a), fill(&b));
            fast.extend(&later);
            let mut slow = slow_base;
            for p in later.iter() {
                slow.add(p);
            }
            proptest::prop_assert_eq!(fast.iter().collect::<Vec<_>>(), slow.iter().collect::<Vec<_>>());
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
