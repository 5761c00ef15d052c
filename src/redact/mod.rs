//! Reversible redaction of what must not leave the machine.
//!
//! A [`Redactor`] lives for one run. It replaces identifying or secret values with clearly
//! fake tokens (`USER_1`, `HOST_1`, `IP4_1`, `IP6_1`, `MAC_1`, `EMAIL_1`, `UUID_1`, `ID_1`,
//! `SECRET_1`, `NS_1`, `CUSTOM_1`) that a model copies verbatim, and keeps the bidirectional
//! map so the model's drafts map back to real values ([`Redactor::restore_str`]). The same
//! real value always gets the same token within a run; the map serializes to JSON
//! ([`Redactor::map`], [`Redactor::from_map`]) for packs (`redaction-map.json`).
//!
//! What it recognises (every pass sees the original text; earlier kinds win on overlap):
//! text that is itself shaped like a pseudonym (a literal `USER_1` in a file name gets a
//! pseudonym of its own, so every pseudonym in the output was issued by this run and restores
//! exactly); user-configured patterns; the syslog host in a line prefix; framed values
//! (`node=`, `hostname=`, `FSUID="…"`, `OUID="…"`, `AUID="…"`, `UID="…"`, credential-like keys
//! such as `password=`/`PGPASSWORD=`/`passphrase=`, `--password x`, `-pSecret`, mount sources
//! `//server/share` and `srcname="server:/export"`); URL user-info (`redis://:pass@`); e-mail
//! addresses (also `%40` and `@localhost` forms); UUIDs (also with `_`, as in cgroup pod
//! uids); MAC addresses (colon, dash, Cisco dotted, EUI-64); IPv6 (IPv4-mapped included) and
//! IPv4 addresses (leading zeros included; loopback and unspecified addresses are kept); cloud
//! host names (`ip-10-1-2-3`); JWTs (also unsigned), `sk-…`/`ghp_…`/`glpat-…`/`hf_…`/AWS
//! `AKIA…`/`ASIA…` and other prefixed keys, PEM private keys; container ids; hex runs of 32+
//! digits; base64-like runs of 32+ characters; host names ending in a well-known top-level or
//! private domain (`.com`, `.local`, `.internal`, …); AppArmor policy-namespace names, LXC and
//! Kubernetes container and pod names; home directories (`/home/<user>` becomes `@{HOME}`, the
//! variable a rule would use anyway, and teaches the user name; `/home2/<user>`,
//! `/home//<user>`, disconnected `home/<user>/` keep their form with the name replaced).
//! Finally every real value already learned is replaced wherever else it occurs as a whole
//! word, also in its D-Bus-escaped spelling (`db_2dprod`) — except home names that are common
//! path components (`/home/etc` does not turn `/etc/` into a pseudonym).
//!
//! What it does not do: recognise bare host names outside a framing (a dotted name such as a
//! D-Bus interface is indistinguishable from an FQDN unless it ends in a known domain), or
//! redact well-known system accounts (`root`, `nobody`, `systemd-*`, …), which identify
//! nothing and which rules name literally. Memory grows with the number of distinct values,
//! not with the input. //! Redaction never fails: it is a pure text transformation.

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// User-supplied redaction settings.
#[derive(Debug, Clone, Default)]
pub struct RedactConfig {
    /// Extra patterns; every match (or its first capture group, when the pattern has one) is
    /// replaced with a `CUSTOM_n` token.
    pub patterns: Vec<Regex>,
}

/// A user-configured pattern that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("redaction pattern {index} ({pattern:?}) is not a valid regular expression: {source}")]
pub struct PatternError {
    /// Position in the configured list.
    pub index: usize,
    /// The pattern text.
    pub pattern: String,
    /// The regex error.
    pub source: regex::Error,
}

impl RedactConfig {
    /// Compile user patterns (from a config file or `--redact-pattern`), naming the first bad one.
    pub fn from_patterns<S: AsRef<str>>(patterns: &[S]) -> Result<Self, PatternError> {
        let patterns = patterns
            .iter()
            .enumerate()
            .map(|(index, p)| {
                Regex::new(p.as_ref()).map_err(|source| PatternError {
                    index,
                    pattern: p.as_ref().to_string(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RedactConfig { patterns })
    }
}

/// The kind of a redacted value; decides the token prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A login name (`USER_n`).
    User,
    /// A host name (`HOST_n`).
    Host,
    /// An IPv4 address (`IP4_n`).
    Ip4,
    /// An IPv6 address (`IP6_n`).
    Ip6,
    /// A MAC address (`MAC_n`).
    Mac,
    /// An e-mail address (`EMAIL_n`).
    Email,
    /// A UUID (`UUID_n`).
    Uuid,
    /// A long hex identifier such as a machine id or hash (`ID_n`).
    Id,
    /// Anything that looks like a credential (`SECRET_n`).
    Secret,
    /// A policy-namespace, container or pod name (`NS_n`).
    Namespace,
    /// A match of a user-configured pattern (`CUSTOM_n`).
    Custom,
}

impl Kind {
    /// The token prefix for this kind.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::User => "USER",
            Kind::Host => "HOST",
            Kind::Ip4 => "IP4",
            Kind::Ip6 => "IP6",
            Kind::Mac => "MAC",
            Kind::Email => "EMAIL",
            Kind::Uuid => "UUID",
            Kind::Id => "ID",
            Kind::Secret => "SECRET",
            Kind::Namespace => "NS",
            Kind::Custom => "CUSTOM",
        }
    }
}

/// One entry of the redaction map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapEntry {
    /// The token the model sees, e.g. `USER_1`.
    pub token: String,
    /// What kind of value it stands for.
    pub kind: Kind,
    /// The real value.
    pub value: String,
}

/// The serializable redaction map of a run (`redaction-map.json` in a pack).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactionMap {
    /// Entries in the order the values were first seen.
    pub entries: Vec<MapEntry>,
}

/// Why a redaction map could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// Two entries claim the same token or the same value.
    #[error("redaction map entry {index}: duplicate {what} {text:?}")]
    Duplicate {
        /// Index of the offending entry.
        index: usize,
        /// `token` or `value`.
        what: &'static str,
        /// The duplicated text.
        text: String,
    },
    /// A token does not have the form `PREFIX_n` for its kind.
    #[error("redaction map entry {index}: token {token:?} does not match its kind {kind:?}")]
    BadToken {
        /// Index of the offending entry.
        index: usize,
        /// The token.
        token: String,
        /// Its declared kind.
        kind: Kind,
    },
}

/// One issued pseudonym.
#[derive(Debug, Clone)]
struct Entry {
    kind: Kind,
    token: String,
    value: String,
    /// Whether the value is replaced wherever it occurs as a whole word, or only where a
    /// detector finds it (a literal pseudonym in the input, a home name that is also a common
    /// path component).
    propagate: bool,
}

/// Per-run, reversible pseudonymiser. See the module documentation.
///
/// Memory grows with the number of distinct values only: the entries, two indexes into them
/// and the spellings replaced everywhere (no per-input state, no compiled alternation).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    config: RedactConfig,
    /// Issued pseudonyms in first-seen order.
    entries: Vec<Entry>,
    /// real value → entry
    by_value: HashMap<String, usize>,
    /// token → entry
    by_token: HashMap<String, usize>,
    /// Spellings replaced wherever they occur as a whole word (propagating values and their
    /// D-Bus-escaped forms) → entry.
    known: HashMap<String, usize>,
    /// Distinct byte lengths of the `known` spellings, longest first.
    known_lengths: Vec<usize>,
    counters: BTreeMap<Kind, u32>,
}

/// What a span of the input is replaced with.
#[derive(Debug, Clone, Copy)]
enum Rep {
    /// The token of this entry.
    Entry(usize),
    /// `@{HOME}`.
    Home,
}

/// Non-overlapping spans of one input string chosen for replacement; the first claim wins.
#[derive(Default)]
struct Spans {
    /// start → (end, replacement)
    taken: BTreeMap<usize, (usize, Rep)>,
}

impl Spans {
    fn free(&self, r: &Range<usize>) -> bool {
        if r.is_empty() {
            return false;
        }
        // Spans are disjoint and sorted, so the last one starting before `r.end` has the
        // largest end of all that could overlap.
        match self.taken.range(..r.end).next_back() {
            Some((_, (end, _))) => *end <= r.start,
            None => true,
        }
    }

    fn take(&mut self, r: Range<usize>, rep: Rep) {
        self.taken.insert(r.start, (r.end, rep));
    }
}

type Found = Vec<(Range<usize>, Kind)>;

enum Find {
    /// Every match of `re` (the listed capture groups; 0 = the whole match) that passes `check`.
    Re {
        re: &'static Regex,
        groups: &'static [usize],
        check: fn(&str) -> bool,
    },
    /// A hand-written finder.
    Func(fn(&str, &mut Found)),
}

struct Detector {
    kind: Kind,
    find: Find,
}

fn re(cell: &'static OnceLock<Regex>, pat: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pat).expect("built-in redaction pattern is valid"))
}

macro_rules! static_re {
    ($name:ident, $pat:expr) => {
        fn $name() -> &'static Regex {
            static CELL: OnceLock<Regex> = OnceLock::new();
            re(&CELL, $pat)
        }
    };
}

static_re!(
    syslog_host_re,
    r"(?m)^(?:<\d+>)?(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?) ([A-Za-z0-9][A-Za-z0-9._-]*) "
);
static_re!(
    host_kv_re,
    r#"\b(?:node|hostname|host|HOSTNAME|_HOSTNAME)=(?:"([^"\s]+)"|([^\s",;]+))"#
);
static_re!(
    user_kv_re,
    r#"\b(?:FSUID|OUID|AUID|UID|SUID|EUID|GID|EGID|SGID|FSGID|OGID|acct|user|USER)=(?:"([^"\s]+)"|([A-Za-z_][A-Za-z0-9._-]*[$]?))"#
);
static_re!(
    cred_kv_re,
    r#"(?i)\b(?:[A-Za-z0-9]+[_-])*(?:password|passwd|passphrase|pass|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|session[_-]?id|sessionid|cookie|authorization)(?:[_-][A-Za-z0-9]+)*\s*[=:]\s*(?:"([^"]+)"|'([^']+)'|(?:bearer\s+|basic\s+)?([^\s"',;&]+))"#
);
// Environment-variable style, where the credential word is glued to a prefix (`PGPASSWORD=`).
static_re!(
    cred_env_re,
    r#"\b[A-Z0-9_]*(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|APIKEY|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?)[A-Z0-9_]*=(?:"([^"]+)"|'([^']+)'|([^\s"',;&]+))"#
);
// Command-line flags whose value is the next word (`--password x`).
static_re!(
    cred_flag_re,
    r#"(?i)(?:^|[\s"'])--?(?:[A-Za-z0-9]+-)*(?:password|passwd|passphrase|pass|secret|token|api-?key|apikey|access-?key|auth-?token)[ \t]+(?:"([^"]+)"|'([^']+)'|([^\s"',;&]+))"#
);
// MySQL-style glued password (`-pSecret`).
static_re!(
    short_pass_re,
    r#"(?:^|[\s"'])-p([^\s"',;&|-][^\s"',;&|]{2,})"#
);
static_re!(
    cred_key_re,
    r"(?i)^(?:[A-Za-z0-9]+[_-])*(?:password|passwd|passphrase|pass|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|session[_-]?id|sessionid|cookie|authorization)(?:[_-][A-Za-z0-9]+)*$"
);
static_re!(
    cred_env_key_re,
    r"^[A-Z0-9_]*(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|APIKEY|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?)[A-Z0-9_]*$"
);
static_re!(
    bearer_re,
    r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})"
);
static_re!(url_userinfo_re, r"://([^/\s:@]*):([^/\s@]+)@");
static_re!(
    email_re,
    r"[A-Za-z0-9._%+-]+(?:@|%40)(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+|localhost\b)"
);
static_re!(
    uuid_re,
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{8}_[0-9a-fA-F]{4}_[0-9a-fA-F]{4}_[0-9a-fA-F]{4}_[0-9a-fA-F]{12}"
);
static_re!(
    mac_re,
    r"\b[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5,19}\b|\b[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\b"
);
static_re!(
    ip6_re,
    r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})(?:%[A-Za-z0-9]+)?"
);
static_re!(ip4_re, r"\b(?:\d{1,3}\.){3}\d{1,3}\b");
static_re!(
    token_re,
    r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*|\bsk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|pypi-[A-Za-z0-9_-]{50,}|[rs]k_live_[A-Za-z0-9]{16,}|-----BEGIN [A-Z ]*PRIVATE KEY-----[^-]*-----END [A-Z ]*PRIVATE KEY-----"
);
static_re!(hex_re, r"[0-9a-fA-F]{32,}");
static_re!(b64_re, r"[A-Za-z0-9+/_-]{32,}={0,2}");
static_re!(
    cloud_host_re,
    r"\bip-(?:\d{1,3}-){3}\d{1,3}(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\b"
);
static_re!(
    fqdn_re,
    r"\b[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.(com|net|org|edu|gov|mil|int|info|biz|io|uk|de|fr|nl|eu|ca|au|jp|cn|ru|ch|se|at|be|dk|fi|local|lan|internal|intranet|corp|home|localdomain|example|invalid|arpa|cloud|onion)\b"
);
// CIFS/SMB sources (`//server/share`); not a hat (`profile//hat`), which follows a name.
static_re!(cifs_re, r#"(?:^|[\s"'=(])//([A-Za-z0-9][A-Za-z0-9._-]*)/"#);
// NFS sources of a mount (`srcname="server:/export"`).
static_re!(nfs_re, r#"\bsrcname="?([A-Za-z0-9][A-Za-z0-9._-]*):/"#);
static_re!(
    container_id_re,
    r"(?:docker|libpod|crio|cri-containerd|containerd|moby|containers|k8s\.io)[-/]([0-9a-f]{12,64})\b"
);
static_re!(
    lxc_re,
    r"(?:\blxc\.(?:payload|monitor)\.|/var/lib/lxc/|/var/lib/incus/containers/|/var/snap/lxd/common/lxd/containers/|/var/lib/machines/)([A-Za-z0-9][A-Za-z0-9_-]*)"
);
static_re!(
    ns_profile_re,
    r":([A-Za-z0-9][A-Za-z0-9._<>-]*):(?:/|[A-Za-z])"
);
static_re!(ns_kv_re, r#"\bnamespace="?root//(?:&:)?([^"\s:/]+)"#);
static_re!(
    pods_re,
    r"/var/log/pods/([a-z0-9][a-z0-9-]*)_([a-z0-9][a-z0-9.-]*)_"
);
static_re!(
    containers_re,
    r"/var/log/containers/([a-z0-9][a-z0-9.-]*)_([a-z0-9][a-z0-9-]*)_"
);
static_re!(
    token_ref_re,
    r"\b(?:USER|HOST|IP4|IP6|MAC|EMAIL|UUID|ID|SECRET|NS|CUSTOM)_[0-9]+\b"
);

fn always(_: &str) -> bool {
    true
}

/// Accounts and host names that identify nothing and that rules name literally.
fn is_public_name(v: &str) -> bool {
    const PUBLIC: &[&str] = &[
        "root",
        "nobody",
        "nogroup",
        "daemon",
        "bin",
        "sys",
        "adm",
        "www-data",
        "messagebus",
        "syslog",
        "unset",
        "localhost",
        "sshd",
        "mail",
        "man",
        "lp",
        "news",
        "proxy",
        "backup",
        "list",
        "irc",
        "uuidd",
        "polkitd",
        "avahi",
        "colord",
        "dnsmasq",
        "tss",
        "shared",
        "user",
        "USER",
    ];
    v.len() < 2
        || PUBLIC.contains(&v)
        || v.starts_with("systemd-")
        || v.starts_with('_')
        || v.starts_with('@')
        || v.chars().all(|c| c.is_ascii_digit())
        || token_ref_re().is_match(v)
}

/// Names that are common path components: a home directory with such a name (`/home/etc`)
/// still becomes `@{HOME}`, but the name is not replaced anywhere else (`/etc/` stays).
fn is_path_word(v: &str) -> bool {
    const WORDS: &[&str] = &[
        "etc",
        "usr",
        "var",
        "lib",
        "lib32",
        "lib64",
        "libx32",
        "bin",
        "sbin",
        "tmp",
        "run",
        "proc",
        "sys",
        "dev",
        "opt",
        "srv",
        "home",
        "root",
        "mnt",
        "media",
        "boot",
        "snap",
        "share",
        "local",
        "cache",
        "config",
        "data",
        "include",
        "src",
        "doc",
        "docs",
        "log",
        "logs",
        "spool",
        "www",
        "html",
        "public",
        "private",
        "users",
        "guest",
        "test",
        "tests",
        "backups",
        "efi",
        "firmware",
        "modules",
        "apparmor",
        "profile",
        "profiles",
        "default",
        "system",
        "security",
        "ssl",
        "certs",
        "keys",
        "cron",
        "init",
        "lost+found",
    ];
    WORDS.contains(&v)
}

fn user_check(v: &str) -> bool {
    !is_public_name(v)
}

fn host_check(v: &str) -> bool {
    !is_public_name(v) && v != "?" && parse_ip4(v).is_none()
}

/// An IPv4 address in dotted-quad form, leading zeros allowed (`010.020.030.041`).
fn parse_ip4(v: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = v.split('.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse::<u8>().ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

fn ip4_check(v: &str) -> bool {
    match parse_ip4(v) {
        Some(ip) => !(ip.is_loopback() || ip.is_unspecified() || ip.is_broadcast()),
        None => false,
    }
}

fn ip6_check(v: &str) -> bool {
    let bare = v.split('%').next().unwrap_or(v);
    if bare.matches(':').count() < 2 {
        return false;
    }
    match bare.parse::<Ipv6Addr>() {
        Ok(ip) => !(ip.is_loopback() || ip.is_unspecified()),
        Err(_) => false,
    }
}

fn mac_check(v: &str) -> bool {
    // A Cisco-style triple of digits only is a version number, not an address.
    v.contains([':', '-']) || v.bytes().any(|b| b.is_ascii_alphabetic())
}

fn secret_value_check(v: &str) -> bool {
    // `password=?` and friends carry no secret; neither do already-redacted tokens.
    v.len() >= 3 && !token_ref_re().is_match(v) && !v.starts_with("@{")
}

fn flag_value_check(v: &str) -> bool {
    secret_value_check(v) && !v.starts_with('-')
}

fn short_pass_check(v: &str) -> bool {
    // `-pthread`, `-pie`, `-print0`, `-perm`, `-path`, `-p2222` (a port or pid) are not passwords.
    const NOT: &[&str] = &[
        "thread",
        "ie",
        "edantic",
        "edantic-errors",
        "ipe",
        "g",
        "rint",
        "rint0",
        "rune",
        "erm",
        "ath",
        "arents",
        "references",
        "reserve",
        "rofile",
        "ort",
        "id",
        "lugin",
        "ython3",
    ];
    secret_value_check(v)
        && !NOT.contains(&v)
        && !v.starts_with("rint-")
        && !v.starts_with("aram")
        && !v.bytes().all(|b| b.is_ascii_digit())
}

fn b64_check(v: &str) -> bool {
    let digits = v.chars().any(|c| c.is_ascii_digit());
    let upper = v.chars().any(|c| c.is_ascii_uppercase());
    let lower = v.chars().any(|c| c.is_ascii_lowercase());
    digits && upper && lower && !token_ref_re().is_match(v)
}

/// How often the character class (upper, lower, digit, other) changes along `v`, per byte:
/// about 0.6 for random base64, well under 0.4 for words and CamelCase path components.
fn class_changes(v: &str) -> f64 {
    let class = |b: u8| match b {
        b'A'..=b'Z' => 0,
        b'a'..=b'z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    };
    let b = v.as_bytes();
    let changes = b.windows(2).filter(|w| class(w[0]) != class(w[1])).count();
    changes as f64 / b.len().max(1) as f64
}

/// Long base64-like runs. A run holding `/` may be a path: only its random-looking middle
/// (segments with both cases, long enough and irregular enough) counts.
fn find_b64(s: &str, out: &mut Found) {
    for m in b64_re().find_iter(s) {
        let v = m.as_str();
        if !v.contains('/') {
            if b64_check(v) {
                out.push((m.range(), Kind::Secret));
            }
            continue;
        }
        let random = |seg: &str| {
            seg.len() >= 4
                && seg.bytes().any(|b| b.is_ascii_uppercase())
                && seg.bytes().any(|b| b.is_ascii_lowercase())
        };
        let mut segs: Vec<(usize, &str)> = Vec::new();
        let mut off = 0;
        for seg in v.split('/') {
            segs.push((off, seg));
            off += seg.len() + 1;
        }
        let Some(first) = segs.iter().position(|(_, g)| random(g)) else {
            continue;
        };
        let Some(last) = segs.iter().rposition(|(_, g)| random(g)) else {
            continue;
        };
        let (start, _) = segs[first];
        let (lstart, lseg) = segs[last];
        let mut end = lstart + lseg.len();
        // Keep `=` padding with the run it ends.
        if last + 1 == segs.len() {
            end = v.len();
        }
        let run = &v[start..end];
        if run.len() >= 32 && b64_check(run) && class_changes(run) >= 0.45 {
            out.push((m.start() + start..m.start() + end, Kind::Secret));
        }
    }
}

/// Host names ending in a well-known top-level or private domain. A reversed name such as a
/// D-Bus interface (`org.freedesktop.DBus`) does not end in one; a name that goes on after the
/// suffix (`com.example.App`) is not taken, nor a file name such as `hosts.local`.
fn find_fqdn(s: &str, out: &mut Found) {
    let b = s.as_bytes();
    for c in fqdn_re().captures_iter(s) {
        let (Some(m), Some(tld)) = (c.get(0), c.get(1)) else {
            continue;
        };
        let next = b.get(m.end()).copied();
        let after = b.get(m.end() + 1).copied();
        if matches!(next, Some(b'.') | Some(b'-') | Some(b'_'))
            && after.is_some_and(|a| a.is_ascii_alphanumeric())
        {
            continue;
        }
        if matches!(tld.as_str(), "local" | "home")
            && m.start() > 0
            && b[m.start() - 1] == b'/'
            && !(m.start() > 1 && b[m.start() - 2] == b'/')
        {
            continue;
        }
        if host_check(m.as_str()) {
            out.push((m.range(), Kind::Host));
        }
    }
}

fn cifs_check(v: &str) -> bool {
    host_check(v) && !v.starts_with("null-")
}

fn ns_check(v: &str) -> bool {
    !is_public_name(v) && v != "root"
}

fn detectors() -> &'static [Detector] {
    static CELL: OnceLock<Vec<Detector>> = OnceLock::new();
    fn rx(
        kind: Kind,
        re: &'static Regex,
        groups: &'static [usize],
        check: fn(&str) -> bool,
    ) -> Detector {
        Detector {
            kind,
            find: Find::Re { re, groups, check },
        }
    }
    CELL.get_or_init(|| {
        vec![
            rx(Kind::Host, syslog_host_re(), &[1], host_check),
            rx(Kind::Host, host_kv_re(), &[1, 2], host_check),
            rx(Kind::User, user_kv_re(), &[1, 2], user_check),
            rx(Kind::Secret, url_userinfo_re(), &[2], secret_value_check),
            rx(Kind::User, url_userinfo_re(), &[1], user_check),
            rx(Kind::Secret, cred_kv_re(), &[1, 2, 3], secret_value_check),
            rx(Kind::Secret, cred_env_re(), &[1, 2, 3], secret_value_check),
            rx(Kind::Secret, cred_flag_re(), &[1, 2, 3], flag_value_check),
            rx(Kind::Secret, short_pass_re(), &[1], short_pass_check),
            rx(Kind::Secret, bearer_re(), &[1], secret_value_check),
            rx(Kind::Secret, token_re(), &[0], always),
            rx(Kind::Email, email_re(), &[0], always),
            rx(Kind::Uuid, uuid_re(), &[0], always),
            rx(Kind::Mac, mac_re(), &[0], mac_check),
            rx(Kind::Ip6, ip6_re(), &[0], ip6_check),
            rx(Kind::Host, cloud_host_re(), &[0], always),
            rx(Kind::Ip4, ip4_re(), &[0], ip4_check),
            rx(Kind::Id, container_id_re(), &[1], always),
            rx(Kind::Id, hex_re(), &[0], always),
            Detector {
                kind: Kind::Secret,
                find: Find::Func(find_b64),
            },
            rx(Kind::Host, cifs_re(), &[1], cifs_check),
            rx(Kind::Host, nfs_re(), &[1], host_check),
            Detector {
                kind: Kind::Host,
                find: Find::Func(find_fqdn),
            },
            rx(Kind::Namespace, ns_profile_re(), &[1], ns_check),
            rx(Kind::Namespace, ns_kv_re(), &[1], ns_check),
            rx(Kind::Namespace, pods_re(), &[1, 2], ns_check),
            rx(Kind::Namespace, containers_re(), &[1, 2], ns_check),
            rx(Kind::Namespace, lxc_re(), &[1], ns_check),
        ]
    })
}

/// The kind whose tokens start with this prefix (`USER` → user).
fn kind_of_prefix(p: &str) -> Option<Kind> {
    Some(match p {
        "USER" => Kind::User,
        "HOST" => Kind::Host,
        "IP4" => Kind::Ip4,
        "IP6" => Kind::Ip6,
        "MAC" => Kind::Mac,
        "EMAIL" => Kind::Email,
        "UUID" => Kind::Uuid,
        "ID" => Kind::Id,
        "SECRET" => Kind::Secret,
        "NS" => Kind::Namespace,
        "CUSTOM" => Kind::Custom,
        _ => return None,
    })
}

/// How a D-Bus object path or systemd unit spells `v` (`db-prod-7` → `db_2dprod_2d7`), when it
/// differs.
fn bus_escape(v: &str) -> Option<String> {
    if !v.is_ascii() || v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let mut out = String::with_capacity(v.len() * 2);
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("_{b:02x}"));
        }
    }
    Some(out)
}

/// A home directory found in a text.
struct Home {
    /// What `@{HOME}` replaces (`/home/NAME`), for the canonical form only.
    whole: Option<Range<usize>>,
    /// The user name.
    name: Range<usize>,
}

/// Characters that end a user name in a home path.
fn ends_name(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '/' | '"'
                | '\''
                | '='
                | ','
                | ';'
                | '('
                | ')'
                | '['
                | ']'
                | '{'
                | '}'
                | '<'
                | '>'
                | '*'
                | '?'
                | '\\'
                | '|'
                | '&'
                | ':'
        )
}

/// Home directories: `/home/NAME` (canonical, becomes `@{HOME}`), and the forms a rule cannot
/// write as `@{HOME}`, of which only the name is replaced: `/home2/NAME`, `/home//NAME`,
/// `/var/home/NAME`, disconnected `home/NAME/…`. Names may hold spaces (when a `/` follows) and
/// any non-ASCII letters.
fn find_homes(s: &str) -> Vec<Home> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let outside_path =
        |i: usize| i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b"/._-~@$".contains(&b[i - 1]));
    for (i, _) in s.match_indices("home") {
        let slashed = i > 0 && b[i - 1] == b'/';
        let canonical_start = slashed && outside_path(i - 1);
        if !slashed && !outside_path(i) {
            continue;
        }
        let mut p = i + 4;
        while p < b.len() && b[p].is_ascii_digit() {
            p += 1;
        }
        let digits = p > i + 4;
        let slash_start = p;
        while p < b.len() && b[p] == b'/' {
            p += 1;
        }
        let slashes = p - slash_start;
        if slashes == 0 || (!slashed && slashes > 1) {
            continue;
        }
        // The name: up to a delimiter; a space belongs to it only if a `/` closes the name.
        let rest = &s[p..];
        let mut end = rest.len();
        for (j, c) in rest.char_indices() {
            if ends_name(c) {
                end = j;
                break;
            }
            if c.is_whitespace() {
                let tail = &rest[j..];
                let close = tail
                    .char_indices()
                    .take_while(|(k, c)| *k < 64 && (!ends_name(*c) || *c == '/'))
                    .find(|(_, c)| *c == '/');
                let spaced_ok = close.is_some_and(|(k, _)| {
                    !tail[..k].contains(['\t', '\n', '\r']) && !tail[..k].ends_with(' ')
                });
                if !spaced_ok {
                    end = j;
                    break;
                }
            }
        }
        let name = p..p + end;
        let text = &s[name.clone()];
        if text.is_empty() || text.starts_with('.') || text.starts_with('-') {
            continue;
        }
        if !slashed && b.get(name.end) != Some(&b'/') {
            continue;
        }
        let canonical = canonical_start && !digits && slashes == 1;
        out.push(Home {
            whole: canonical.then(|| i - 1..name.end),
            name,
        });
    }
    out
}

/// Whether the text before `i` ends in a D-Bus/systemd escape (`_40`), which ends a word.
fn escape_before(b: &[u8], i: usize) -> bool {
    i >= 3 && b[i - 3] == b'_' && b[i - 2].is_ascii_hexdigit() && b[i - 1].is_ascii_hexdigit()
}

impl Redactor {
    /// A fresh redactor with an empty map.
    pub fn new(config: RedactConfig) -> Self {
        Redactor {
            config,
            ..Redactor::default()
        }
    }

    /// Rebuild a redactor from a saved map (e.g. a pack's `redaction-map.json`); new values
    /// get numbers after the highest one in the map.
    pub fn from_map(config: RedactConfig, map: &RedactionMap) -> Result<Self, MapError> {
        let mut r = Redactor::new(config);
        for (index, e) in map.entries.iter().enumerate() {
            let n = e
                .token
                .strip_prefix(e.kind.prefix())
                .and_then(|rest| rest.strip_prefix('_'))
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or_else(|| MapError::BadToken {
                    index,
                    token: e.token.clone(),
                    kind: e.kind,
                })?;
            if r.by_token.contains_key(&e.token) {
                return Err(MapError::Duplicate {
                    index,
                    what: "token",
                    text: e.token.clone(),
                });
            }
            if r.by_value.contains_key(&e.value) {
                return Err(MapError::Duplicate {
                    index,
                    what: "value",
                    text: e.value.clone(),
                });
            }
            // A value that is itself pseudonym-shaped was a literal in the input: it is found
            // wherever it occurs anyway and must not be replaced as a learned word.
            let propagate = !token_ref_re().is_match(&e.value);
            r.push_entry(e.kind, e.token.clone(), e.value.clone(), propagate);
            let c = r.counters.entry(e.kind).or_insert(0);
            *c = (*c).max(n);
        }
        Ok(r)
    }

    /// The map learned so far, in first-seen order.
    pub fn map(&self) -> RedactionMap {
        RedactionMap {
            entries: self
                .entries
                .iter()
                .map(|e| MapEntry {
                    token: e.token.clone(),
                    kind: e.kind,
                    value: e.value.clone(),
                })
                .collect(),
        }
    }

    /// Number of distinct values redacted so far.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing has been redacted yet.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The token for `value`, assigning the next number of `kind` if it is new.
    pub fn token_for(&mut self, kind: Kind, value: &str) -> String {
        let i = self.issue(kind, value, true);
        self.entries[i].token.clone()
    }

    fn push_entry(&mut self, kind: Kind, token: String, value: String, propagate: bool) -> usize {
        let i = self.entries.len();
        self.by_value.insert(value.clone(), i);
        self.by_token.insert(token.clone(), i);
        self.entries.push(Entry {
            kind,
            token,
            value,
            propagate: false,
        });
        if propagate {
            self.propagate(i);
        }
        i
    }

    /// The entry for `value`, issued with the next free number of `kind` if it is new.
    fn issue(&mut self, kind: Kind, value: &str, propagate: bool) -> usize {
        if let Some(&i) = self.by_value.get(value) {
            if propagate {
                self.propagate(i);
            }
            return i;
        }
        let n = self.counters.entry(kind).or_insert(0);
        let token = loop {
            *n += 1;
            let t = format!("{}_{}", kind.prefix(), n);
            if !self.by_token.contains_key(&t) {
                break t;
            }
        };
        self.push_entry(kind, token, value.to_string(), propagate)
    }

    /// Replace the entry's value (and its D-Bus spelling) wherever it occurs as a whole word.
    fn propagate(&mut self, i: usize) {
        if self.entries[i].propagate {
            return;
        }
        self.entries[i].propagate = true;
        let value = self.entries[i].value.clone();
        if value.len() < 2 {
            return;
        }
        // Names (not addresses or secrets) also turn up escaped in D-Bus object paths.
        let escaped = match self.entries[i].kind {
            Kind::User | Kind::Host | Kind::Namespace => bus_escape(&value),
            _ => None,
        };
        for spelling in std::iter::once(value).chain(escaped) {
            let len = spelling.len();
            self.known.entry(spelling).or_insert(i);
            if let Err(at) = self.known_lengths.binary_search_by(|l| len.cmp(l)) {
                self.known_lengths.insert(at, len);
            }
        }
    }

    /// Learn the values in `s` without producing output, so that a later [`redact_str`]
    /// replaces them everywhere, even before the framing that revealed them.
    ///
    /// [`redact_str`]: Redactor::redact_str
    pub fn learn_str(&mut self, s: &str) {
        let _ = self.detect(s);
    }

    /// Redact a whole text (e.g. a log file for `aa-assist redact`) in two passes: learn every
    /// line first, so a user name revealed on line 900 is hidden on line 1 too, then redact
    /// line by line. Line endings are kept.
    pub fn redact_text(&mut self, text: &str) -> String {
        for line in text.lines() {
            self.learn_str(line);
        }
        text.split_inclusive('\n')
            .map(|line| {
                let (body, end) = match line.strip_suffix('\n') {
                    Some(b) => (b, "\n"),
                    None => (line, ""),
                };
                format!("{}{end}", self.redact_str(body))
            })
            .collect()
    }

    /// Learn every string (keys and values) in a JSON value.
    pub fn learn_json(&mut self, v: &serde_json::Value) {
        let mut copy = v.clone();
        self.redact_json(&mut copy);
    }

    /// Redact one string.
    pub fn redact_str(&mut self, s: &str) -> String {
        let mut spans = self.detect(s);
        self.scan_known(s, &mut spans);
        self.render(s, &spans)
    }

    /// Find what to replace in `s` (literal pseudonyms, custom patterns, detectors, home
    /// directories), issuing tokens; every pass sees the original text and the first claim on
    /// a span wins.
    fn detect(&mut self, s: &str) -> Spans {
        let mut spans = Spans::default();
        // Text that looks like a pseudonym is itself given one, so that every pseudonym in
        // the output was issued by this run and restores exactly.
        for m in token_ref_re().find_iter(s) {
            let prefix = m.as_str().rsplit_once('_').map_or("", |(p, _)| p);
            if let Some(kind) = kind_of_prefix(prefix) {
                if spans.free(&m.range()) {
                    let i = self.issue(kind, m.as_str(), false);
                    spans.take(m.range(), Rep::Entry(i));
                }
            }
        }
        // User-configured patterns first: the user knows best.
        let custom = std::mem::take(&mut self.config.patterns);
        for re in &custom {
            let group = usize::from(re.captures_len() > 1);
            self.claim_re(s, re, &[group], always, Kind::Custom, &mut spans);
        }
        self.config.patterns = custom;
        let mut found = Found::new();
        for d in detectors() {
            match &d.find {
                Find::Re { re, groups, check } => {
                    self.claim_re(s, re, groups, *check, d.kind, &mut spans)
                }
                Find::Func(f) => {
                    found.clear();
                    f(s, &mut found);
                    for (r, kind) in found.drain(..) {
                        if spans.free(&r) {
                            let i = self.issue(kind, &s[r.clone()], true);
                            spans.take(r, Rep::Entry(i));
                        }
                    }
                }
            }
        }
        for h in find_homes(s) {
            let name = &s[h.name.clone()];
            if !user_check(name) || !spans.free(&h.name) {
                continue;
            }
            let learn = !is_path_word(name);
            match h.whole {
                Some(whole) if spans.free(&whole) => {
                    if learn {
                        self.issue(Kind::User, name, true);
                    }
                    spans.take(whole, Rep::Home);
                }
                Some(_) => {}
                None => {
                    let i = self.issue(Kind::User, name, learn);
                    spans.take(h.name, Rep::Entry(i));
                }
            }
        }
        spans
    }

    fn claim_re(
        &mut self,
        s: &str,
        re: &Regex,
        groups: &[usize],
        check: fn(&str) -> bool,
        kind: Kind,
        spans: &mut Spans,
    ) {
        for caps in re.captures_iter(s) {
            for &group in groups {
                let Some(m) = caps.get(group) else { continue };
                if !spans.free(&m.range()) || !check(m.as_str()) {
                    continue;
                }
                let i = self.issue(kind, m.as_str(), true);
                spans.take(m.range(), Rep::Entry(i));
            }
        }
    }

    /// Claim every learned value that still occurs as a whole word (not glued to a letter or
    /// digit, except after a D-Bus escape such as `_40`), longest first.
    fn scan_known(&self, s: &str, spans: &mut Spans) {
        if self.known.is_empty() {
            return;
        }
        let b = s.as_bytes();
        // The free gaps between claimed spans.
        let mut gaps = Vec::new();
        let mut at = 0;
        for (&start, &(end, _)) in &spans.taken {
            gaps.push(at..start);
            at = end;
        }
        gaps.push(at..b.len());
        for gap in gaps {
            let mut i = gap.start;
            while i < gap.end {
                let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric() || escape_before(b, i);
                let hit = if boundary && s.is_char_boundary(i) {
                    self.known_lengths.iter().find_map(|&len| {
                        let end = i + len;
                        if end > gap.end
                            || b.get(end).is_some_and(u8::is_ascii_alphanumeric)
                            || !s.is_char_boundary(end)
                        {
                            return None;
                        }
                        self.known.get(&s[i..end]).map(|&e| (end, e))
                    })
                } else {
                    None
                };
                match hit {
                    Some((end, e)) => {
                        spans.take(i..end, Rep::Entry(e));
                        i = end;
                    }
                    None => i += 1,
                }
            }
        }
    }

    fn render(&self, s: &str, spans: &Spans) -> String {
        if spans.taken.is_empty() {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for (&start, &(end, rep)) in &spans.taken {
            out.push_str(&s[last..start]);
            match rep {
                Rep::Entry(i) => out.push_str(&self.entries[i].token),
                Rep::Home => out.push_str("@{HOME}"),
            }
            last = end;
        }
        out.push_str(&s[last..]);
        out
    }

    /// Redact the value of a named field (a parsed `key=value` pair): the key supplies the
    /// framing a raw line would have had (`node` → host, `FSUID` → user, `password` → secret).
    pub fn redact_field(&mut self, key: &str, value: &str) -> String {
        if key.eq_ignore_ascii_case("srcname") {
            // A mount source: `server:/export` names a host only in this framing.
            let framed = self.redact_str(&format!("srcname={value}"));
            return framed
                .strip_prefix("srcname=")
                .map_or(framed.clone(), str::to_string);
        }
        match self.framed_field(key, value) {
            Some(token) => token,
            None => self.redact_str(value),
        }
    }

    /// Learn the values of a named field without producing output.
    pub fn learn_field(&mut self, key: &str, value: &str) {
        if key.eq_ignore_ascii_case("srcname") {
            self.learn_str(&format!("srcname={value}"));
        } else if self.framed_field(key, value).is_none() {
            self.learn_str(value);
        }
    }

    /// The token for a field whose key frames its value, if it does.
    fn framed_field(&mut self, key: &str, value: &str) -> Option<String> {
        let lower = key.to_ascii_lowercase();
        let kind = match lower.as_str() {
            "node" | "hostname" | "host" | "_hostname" | "syslog_host" => Some(Kind::Host),
            "fsuid" | "ouid" | "auid" | "uid" | "suid" | "euid" | "acct" | "user" | "gid"
            | "egid" | "sgid" | "fsgid" | "ogid" => Some(Kind::User),
            _ if cred_key_re().is_match(key) || cred_env_key_re().is_match(key) => {
                Some(Kind::Secret)
            }
            _ => None,
        };
        let v = value.trim_matches('"');
        match kind {
            Some(Kind::Host) if ip4_check(v) => Some(self.token_for(Kind::Ip4, v)),
            Some(Kind::Host) if host_check(v) => Some(self.token_for(Kind::Host, v)),
            Some(Kind::User) if user_check(v) => Some(self.token_for(Kind::User, v)),
            Some(Kind::Secret) if secret_value_check(v) => Some(self.token_for(Kind::Secret, v)),
            _ => None,
        }
    }

    /// Redact every string in a JSON value in place, object keys included; string values of
    /// object members are redacted with their key as framing ([`Redactor::redact_field`]).
    pub fn redact_json(&mut self, v: &mut serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::String(s) => *s = self.redact_str(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.redact_json(i)),
            Value::Object(map) => {
                let old = std::mem::take(map);
                for (k, mut val) in old {
                    match &mut val {
                        Value::String(s) => *s = self.redact_field(&k, s),
                        other => self.redact_json(other),
                    }
                    map.insert(self.redact_str(&k), val);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Map tokens in model output back to real values. Only tokens this run issued are
    /// restored (a literal `USER_1` in the input was itself given a pseudonym, so it comes back
    /// as `USER_1`); others are left as they are; `@{HOME}` stays `@{HOME}` (it is what a rule
    /// should say).
    pub fn restore_str(&self, s: &str) -> String {
        token_ref_re()
            .replace_all(s, |c: &regex::Captures<'_>| {
                let t = &c[0];
                match self.by_token.get(t) {
                    Some(&i) => self.entries[i].value.clone(),
                    None => t.to_string(),
                }
            })
            .into_owned()
    }

    /// Whether `s` still contains any real value this redactor knows about (literal
    /// pseudonyms in the input excepted: they are not secrets).
    pub fn leaks(&self, s: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.propagate && e.value.len() >= 3 && s.contains(e.value.as_str()))
            .map(|e| e.value.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Redactor {
        Redactor::new(RedactConfig::default())
    }

    #[test]
    fn home_becomes_variable_and_user_is_learned() {
        let mut red = r();
        let out =
            red.redact_str(r#"name="/home/alice/.cache/alice-x/f" FSUID="alice" OUID="alice""#);
        assert_eq!(
            out,
            r#"name="@{HOME}/.cache/USER_1-x/f" FSUID="USER_1" OUID="USER_1""#
        );
        assert_eq!(
            red.restore_str("owner @{HOME}/.cache/USER_1-x/** r,"),
            "owner @{HOME}/.cache/alice-x/** r,"
        );
    }

    #[test]
    fn system_accounts_and_loopback_are_kept() {
        let mut red = r();
        let s = r#"FSUID="root" OUID="root" laddr=127.0.0.1 faddr=::1 name="/root/.x""#;
        assert_eq!(red.redact_str(s), s);
        assert!(red.is_empty());
    }

    #[test]
    fn addresses_are_pseudonymised_consistently() {
        let mut red = r();
        let a = red.redact_str("laddr=192.168.1.20 faddr=2001:db8::17 mac=52:54:00:12:34:56");
        let b = red.redact_str("peer 192.168.1.20");
        assert_eq!(a, "laddr=IP4_1 faddr=IP6_1 mac=MAC_1");
        assert_eq!(b, "peer IP4_1");
        assert_eq!(
            red.restore_str("IP4_1 IP6_1 MAC_1 IP4_9"),
            "192.168.1.20 2001:db8::17 52:54:00:12:34:56 IP4_9"
        );
    }

    #[test]
    fn hosts_from_syslog_prefix_and_node() {
        let mut red = r();
        let out = red.redact_str(
            "Nov 25 19:00:00 web-01 kernel: audit: type=1400 node=web-01.corp apparmor=\"DENIED\"",
        );
        assert_eq!(
            out,
            "Nov 25 19:00:00 HOST_1 kernel: audit: type=1400 node=HOST_2 apparmor=\"DENIED\""
        );
    }

    #[test]
    fn credentials_uuids_ids_emails() {
        let mut red = r();
        let out = red.redact_str(
            "password=hunter22 token: abc.def-ghi bob@example.org 123e4567-e89b-12d3-a456-426614174000 \
             /etc/machine-id=0123456789abcdef0123456789abcdef sk-ABCDEFGHIJKLMNOPQRSTUV",
        );
        for secret in [
            "hunter22",
            "abc.def-ghi",
            "bob@example.org",
            "123e4567",
            "0123456789abcdef0123456789abcdef",
            "sk-ABCDEF",
        ] {
            assert!(!out.contains(secret), "{secret} leaked in {out}");
        }
        assert!(out.contains("password=SECRET_1"), "{out}");
        assert!(out.contains("EMAIL_1") && out.contains("UUID_1") && out.contains("ID_1"));
    }

    #[test]
    fn namespaces_and_pods() {
        let mut red = r();
        let out = red.redact_str(
            r#"profile=":lxd-web_<var-snap-lxd-common-lxd>:/usr/bin/x" namespace="root//lxd-web_<var-snap-lxd-common-lxd>" name="/var/log/pods/shop_cart-7d9_0a/x""#,
        );
        assert!(
            !out.contains("lxd-web") && !out.contains("shop") && !out.contains("cart-7d9"),
            "{out}"
        );
        assert!(out.contains(":NS_1:/usr/bin/x"), "{out}");
    }

    #[test]
    fn custom_patterns_first() {
        let mut red = Redactor::new(RedactConfig {
            patterns: vec![Regex::new(r"project-(\w+)").unwrap()],
        });
        assert_eq!(
            red.redact_str("/srv/project-apollo/x"),
            "/srv/project-CUSTOM_1/x"
        );
    }

    #[test]
    fn pattern_errors_name_the_pattern() {
        let err = RedactConfig::from_patterns(&["ok", "(unclosed"]).unwrap_err();
        assert_eq!(err.index, 1);
        assert!(err.to_string().contains("(unclosed"));
        assert_eq!(
            RedactConfig::from_patterns(&["a+"]).unwrap().patterns.len(),
            1
        );
    }

    #[test]
    fn paths_and_dbus_names_survive() {
        let mut red = r();
        let s = "/usr/lib/x86_64-linux-gnu/libssl.so.3 org.freedesktop.DBus.Properties /sys/devices/pci0000:00/0000:00:02.0/drm";
        assert_eq!(red.redact_str(s), s);
    }

    #[test]
    fn ordinary_policy_text_is_not_over_redacted() {
        let mut red = r();
        let s = "/usr/lib/x86_64-linux-gnu/qt5/libexec/QtWebEngineProcess /etc/ssl/certs/ca-certificates.crt \
                 /etc/hosts.local com.example.App org.freedesktop.portal.Desktop gcc -pthread -pie \
                 find -perm -path x --password-file /run/secrets/db /usr/share/fonts/truetype/dejavu/DejaVuSansMono-BoldOblique.ttf \
                 version 2024.0101.1200 owner @{HOME}/.config/** r, /home/*/ /home/{,*/} profile foo//null-/usr/bin/bar";
        assert_eq!(red.redact_str(s), s);
        assert!(red.is_empty(), "{:?}", red.map());
    }

    #[test]
    fn memory_grows_with_distinct_values_only() {
        let mut red = r();
        for _ in 0..3 {
            for i in 0..200 {
                red.learn_str(&format!(
                    "FSUID=\"user{i}x\" laddr=10.0.{}.{}",
                    i / 200,
                    i % 200 + 1
                ));
            }
        }
        assert_eq!(red.len(), 400);
        assert_eq!(red.known.len(), 400);
        assert_eq!(
            red.redact_str("user7x and user199x at 10.0.0.8"),
            "USER_8 and USER_200 at IP4_8"
        );
    }

    #[test]
    fn host_fields_holding_addresses_are_addresses() {
        let mut red = r();
        assert_eq!(red.redact_field("node", "10.2.3.4"), "IP4_1");
        assert_eq!(red.redact_field("hostname", "db1"), "HOST_1");
        assert_eq!(red.redact_field("FSUID", "root"), "root");
        assert_eq!(red.redact_field("api_key", "abcdef"), "SECRET_1");
    }

    #[test]
    fn text_is_learned_before_it_is_redacted() {
        let mut red = r();
        let out = red.redact_text("first: frank was here\nFSUID=\"frank\"\n");
        assert_eq!(out, "first: USER_1 was here\nFSUID=\"USER_1\"\n");
    }

    #[test]
    fn map_round_trips() {
        let mut red = r();
        red.redact_str("FSUID=\"carol\" 10.1.2.3");
        let map = red.map();
        let json = serde_json::to_string(&map).unwrap();
        let back: RedactionMap = serde_json::from_str(&json).unwrap();
        let mut red2 = Redactor::from_map(RedactConfig::default(), &back).unwrap();
        assert_eq!(red2.restore_str("USER_1 IP4_1"), "carol 10.1.2.3");
        assert_eq!(red2.redact_str("10.9.9.9"), "IP4_2");
    }

    #[test]
    fn bad_maps_are_rejected() {
        let map = RedactionMap {
            entries: vec![MapEntry {
                token: "HOST_1".into(),
                kind: Kind::User,
                value: "x".into(),
            }],
        };
        assert!(matches!(
            Redactor::from_map(RedactConfig::default(), &map),
            Err(MapError::BadToken { .. })
        ));
    }

    #[test]
    fn json_keys_and_values() {
        let mut red = r();
        let mut v = serde_json::json!({"name": "/home/dave/x", "dave": ["10.0.0.5", 3]});
        red.learn_json(&v.clone());
        red.redact_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"name": "@{HOME}/x", "USER_1": ["IP4_1", 3]})
        );
    }
}
