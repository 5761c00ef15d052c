//! Reversible redaction of what must not leave the machine.
//!
//! A [`Redactor`] lives for one run. It replaces identifying or secret values with clearly
//! fake tokens (`USER_1`, `HOST_1`, `IP4_1`, `IP6_1`, `MAC_1`, `EMAIL_1`, `UUID_1`, `ID_1`,
//! `SECRET_1`, `NS_1`, `CUSTOM_1`) that a model copies verbatim, and keeps the bidirectional
//! map so the model's drafts map back to real values ([`Redactor::restore_str`]). The same
//! real value always gets the same token within a run; the map serializes to JSON
//! ([`Redactor::map`], [`Redactor::from_map`]) for packs (`redaction-map.json`).
//!
//! What it recognises (in this order, so earlier kinds win on overlap):
//! user-configured patterns; the syslog host in a line prefix; framed values (`node=`,
//! `hostname=`, `FSUID="…"`, `OUID="…"`, `AUID="…"`, `UID="…"`, credential-like keys such as
//! `password=`/`token=`/`api_key=`); URL user-info; e-mail addresses; UUIDs; MAC addresses;
//! IPv6 and IPv4 addresses (loopback and unspecified addresses are kept); JWTs, `sk-…`/`ghp_…`/
//! `AKIA…` keys, PEM private keys; hex runs of 32+ digits (machine ids, hashes, audit hex
//! fields); mixed-case base64-like runs of 32+ characters; AppArmor policy-namespace names
//! (`:ns:` profile prefixes, `namespace="root//ns"`), Kubernetes pod/namespace names in
//! `/var/log/pods/` and `/var/log/containers/` paths; `/home/<user>` (which becomes `@{HOME}`,
//! the variable a rule would use anyway, and teaches the user name). Finally every real value
//! already learned is replaced wherever else it occurs as a whole word.
//!
//! What it does not do: recognise bare host names outside a framing (a dotted name such as a
//! D-Bus interface is indistinguishable from an FQDN), or redact well-known system accounts
//! (`root`, `nobody`, `systemd-*`, …), which identify nothing and which rules name literally.
//! Redaction never fails: it is a pure text transformation.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
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

/// Per-run, reversible pseudonymiser. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    config: RedactConfig,
    /// real value → token
    forward: BTreeMap<String, String>,
    /// token → (kind, real value)
    reverse: BTreeMap<String, (Kind, String)>,
    order: Vec<String>,
    counters: BTreeMap<Kind, u32>,
    /// Cached alternation of learned values, rebuilt when the map grows.
    known: Option<(usize, Regex)>,
}

struct Detector {
    kind: Kind,
    re: &'static Regex,
    /// Capture group holding the value (0 = whole match).
    group: usize,
    check: fn(&str) -> bool,
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
    r#"(?i)\b(?:[A-Za-z0-9]+[_-])*(?:password|passwd|pass|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|session[_-]?id|sessionid|cookie|authorization)(?:[_-][A-Za-z0-9]+)*\s*[=:]\s*(?:"([^"]+)"|'([^']+)'|(?:bearer\s+|basic\s+)?([^\s"',;&]+))"#
);
static_re!(
    cred_key_re,
    r"(?i)^(?:[A-Za-z0-9]+[_-])*(?:password|passwd|pass|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|session[_-]?id|sessionid|cookie|authorization)(?:[_-][A-Za-z0-9]+)*$"
);
static_re!(
    bearer_re,
    r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})"
);
static_re!(url_userinfo_re, r"://([^/\s:@]+):([^/\s@]+)@");
static_re!(
    email_re,
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
);
static_re!(
    uuid_re,
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
);
static_re!(mac_re, r"\b[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5}\b");
static_re!(
    ip6_re,
    r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|\d{1,3}(?:\.\d{1,3}){3})(?:%[A-Za-z0-9]+)?"
);
static_re!(ip4_re, r"\b(?:\d{1,3}\.){3}\d{1,3}\b");
static_re!(
    token_re,
    r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|\bsk-[A-Za-z0-9_-]{16,}|\bgh[pousr]_[A-Za-z0-9]{20,}|\bxox[abpr]-[A-Za-z0-9-]{10,}|\bAKIA[0-9A-Z]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----[^-]*-----END [A-Z ]*PRIVATE KEY-----"
);
static_re!(hex_re, r"[0-9a-fA-F]{32,}");
static_re!(b64_re, r"[A-Za-z0-9+_-]{32,}={0,2}");
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
static_re!(home_re, r"/home/([A-Za-z0-9_][A-Za-z0-9._-]*[$]?)");
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

fn user_check(v: &str) -> bool {
    !is_public_name(v)
}

fn host_check(v: &str) -> bool {
    !is_public_name(v) && v != "?" && v.parse::<Ipv4Addr>().is_err()
}

fn ip4_check(v: &str) -> bool {
    match v.parse::<Ipv4Addr>() {
        Ok(ip) => !(ip.is_loopback() || ip.is_unspecified() || ip.is_broadcast()),
        Err(_) => false,
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

fn secret_value_check(v: &str) -> bool {
    // `password=?` and friends carry no secret; neither do already-redacted tokens.
    v.len() >= 3 && !token_ref_re().is_match(v) && !v.starts_with("@{")
}

fn b64_check(v: &str) -> bool {
    let digits = v.chars().any(|c| c.is_ascii_digit());
    let upper = v.chars().any(|c| c.is_ascii_uppercase());
    let lower = v.chars().any(|c| c.is_ascii_lowercase());
    digits && upper && lower && !token_ref_re().is_match(v)
}

fn ns_check(v: &str) -> bool {
    !is_public_name(v) && v != "root"
}

fn detectors() -> &'static [Detector] {
    static CELL: OnceLock<Vec<Detector>> = OnceLock::new();
    CELL.get_or_init(|| {
        vec![
            Detector {
                kind: Kind::Host,
                re: syslog_host_re(),
                group: 1,
                check: host_check,
            },
            Detector {
                kind: Kind::Host,
                re: host_kv_re(),
                group: 12,
                check: host_check,
            },
            Detector {
                kind: Kind::User,
                re: user_kv_re(),
                group: 12,
                check: user_check,
            },
            Detector {
                kind: Kind::Secret,
                re: url_userinfo_re(),
                group: 2,
                check: secret_value_check,
            },
            Detector {
                kind: Kind::User,
                re: url_userinfo_re(),
                group: 1,
                check: user_check,
            },
            Detector {
                kind: Kind::Secret,
                re: cred_kv_re(),
                group: 123,
                check: secret_value_check,
            },
            Detector {
                kind: Kind::Secret,
                re: bearer_re(),
                group: 1,
                check: secret_value_check,
            },
            Detector {
                kind: Kind::Secret,
                re: token_re(),
                group: 0,
                check: always,
            },
            Detector {
                kind: Kind::Email,
                re: email_re(),
                group: 0,
                check: always,
            },
            Detector {
                kind: Kind::Uuid,
                re: uuid_re(),
                group: 0,
                check: always,
            },
            Detector {
                kind: Kind::Mac,
                re: mac_re(),
                group: 0,
                check: always,
            },
            Detector {
                kind: Kind::Ip6,
                re: ip6_re(),
                group: 0,
                check: ip6_check,
            },
            Detector {
                kind: Kind::Ip4,
                re: ip4_re(),
                group: 0,
                check: ip4_check,
            },
            Detector {
                kind: Kind::Id,
                re: hex_re(),
                group: 0,
                check: always,
            },
            Detector {
                kind: Kind::Secret,
                re: b64_re(),
                group: 0,
                check: b64_check,
            },
            Detector {
                kind: Kind::Namespace,
                re: ns_profile_re(),
                group: 1,
                check: ns_check,
            },
            Detector {
                kind: Kind::Namespace,
                re: ns_kv_re(),
                group: 1,
                check: ns_check,
            },
            Detector {
                kind: Kind::Namespace,
                re: pods_re(),
                group: 12,
                check: ns_check,
            },
            Detector {
                kind: Kind::Namespace,
                re: containers_re(),
                group: 12,
                check: ns_check,
            },
        ]
    })
}

/// Capture groups to consider: `12` means "groups 1 and 2", `123` "1, 2 and 3".
fn groups_of(spec: usize) -> Vec<usize> {
    match spec {
        12 => vec![1, 2],
        123 => vec![1, 2, 3],
        n => vec![n],
    }
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
            if r.reverse.contains_key(&e.token) {
                return Err(MapError::Duplicate {
                    index,
                    what: "token",
                    text: e.token.clone(),
                });
            }
            if r.forward.contains_key(&e.value) {
                return Err(MapError::Duplicate {
                    index,
                    what: "value",
                    text: e.value.clone(),
                });
            }
            r.forward.insert(e.value.clone(), e.token.clone());
            r.reverse.insert(e.token.clone(), (e.kind, e.value.clone()));
            r.order.push(e.token.clone());
            let c = r.counters.entry(e.kind).or_insert(0);
            *c = (*c).max(n);
        }
        Ok(r)
    }

    /// The map learned so far, in first-seen order.
    pub fn map(&self) -> RedactionMap {
        RedactionMap {
            entries: self
                .order
                .iter()
                .filter_map(|t| {
                    self.reverse.get(t).map(|(kind, value)| MapEntry {
                        token: t.clone(),
                        kind: *kind,
                        value: value.clone(),
                    })
                })
                .collect(),
        }
    }

    /// Number of distinct values redacted so far.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether nothing has been redacted yet.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The token for `value`, assigning the next number of `kind` if it is new.
    pub fn token_for(&mut self, kind: Kind, value: &str) -> String {
        if let Some(t) = self.forward.get(value) {
            return t.clone();
        }
        let n = self.counters.entry(kind).or_insert(0);
        *n += 1;
        let token = format!("{}_{}", kind.prefix(), n);
        self.forward.insert(value.to_string(), token.clone());
        self.reverse
            .insert(token.clone(), (kind, value.to_string()));
        self.order.push(token.clone());
        token
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
        let out = self.detect(s);
        self.replace_known(&out)
    }

    /// The pattern passes (custom patterns, detectors, home directories), without the final
    /// pass over already-learned values.
    fn detect(&mut self, s: &str) -> String {
        let mut out = s.to_string();
        // User-configured patterns first: the user knows best.
        let custom = self.config.patterns.clone();
        for re in &custom {
            let group = usize::from(re.captures_len() > 1);
            out = self.replace_matches(&out, re, &[group], always, Kind::Custom);
        }
        for d in detectors() {
            out = self.replace_matches(&out, d.re, &groups_of(d.group), d.check, d.kind);
        }
        self.replace_homes(&out)
    }

    /// Redact the value of a named field (a parsed `key=value` pair): the key supplies the
    /// framing a raw line would have had (`node` → host, `FSUID` → user, `password` → secret).
    pub fn redact_field(&mut self, key: &str, value: &str) -> String {
        match self.framed_field(key, value) {
            Some(token) => token,
            None => self.redact_str(value),
        }
    }

    /// Learn the values of a named field without producing output.
    pub fn learn_field(&mut self, key: &str, value: &str) {
        if self.framed_field(key, value).is_none() {
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
            _ if cred_key_re().is_match(key) => Some(Kind::Secret),
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

    /// Map tokens in model output back to real values. Unknown tokens are left as they are;
    /// `@{HOME}` stays `@{HOME}` (it is what a rule should say).
    pub fn restore_str(&self, s: &str) -> String {
        token_ref_re()
            .replace_all(s, |c: &regex::Captures<'_>| {
                let t = &c[0];
                match self.reverse.get(t) {
                    Some((_, v)) => v.clone(),
                    None => t.to_string(),
                }
            })
            .into_owned()
    }

    /// Whether `s` still contains any real value this redactor knows about.
    pub fn leaks(&self, s: &str) -> Vec<String> {
        self.forward
            .keys()
            .filter(|v| v.len() >= 3 && s.contains(v.as_str()))
            .cloned()
            .collect()
    }

    fn replace_matches(
        &mut self,
        s: &str,
        re: &Regex,
        groups: &[usize],
        check: fn(&str) -> bool,
        kind: Kind,
    ) -> String {
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for caps in re.captures_iter(s) {
            for &group in groups {
                let Some(m) = caps.get(group) else { continue };
                if m.start() < last || m.as_str().is_empty() || !check(m.as_str()) {
                    continue;
                }
                let token = self.token_for(kind, m.as_str());
                out.push_str(&s[last..m.start()]);
                out.push_str(&token);
                last = m.end();
            }
        }
        if last == 0 {
            return s.to_string();
        }
        out.push_str(&s[last..]);
        out
    }

    fn replace_homes(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for caps in home_re().captures_iter(s) {
            let (Some(all), Some(user)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            if !user_check(user.as_str()) {
                continue;
            }
            // Learn the name so other occurrences are pseudonymised too.
            self.token_for(Kind::User, user.as_str());
            out.push_str(&s[last..all.start()]);
            out.push_str("@{HOME}");
            last = all.end();
        }
        if last == 0 {
            return s.to_string();
        }
        out.push_str(&s[last..]);
        out
    }

    /// Replace every learned value that still occurs as a whole word.
    fn replace_known(&mut self, s: &str) -> String {
        let count = self.forward.len();
        if count == 0 {
            return s.to_string();
        }
        let stale = self.known.as_ref().is_none_or(|(n, _)| *n != count);
        if stale {
            let mut values: Vec<&String> = self.forward.keys().filter(|v| v.len() >= 2).collect();
            values.sort_by_key(|v| std::cmp::Reverse(v.len()));
            let alt = values
                .iter()
                .map(|v| regex::escape(v))
                .collect::<Vec<_>>()
                .join("|");
            match Regex::new(&alt) {
                Ok(re) => self.known = Some((count, re)),
                Err(_) => return s.to_string(),
            }
        }
        let Some((_, re)) = &self.known else {
            return s.to_string();
        };
        let bytes = s.as_bytes();
        let is_word = |b: u8| b.is_ascii_alphanumeric();
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for m in re.find_iter(s) {
            let before_ok = m.start() == 0 || !is_word(bytes[m.start() - 1]);
            let after_ok = m.end() == bytes.len() || !is_word(bytes[m.end()]);
            if !(before_ok && after_ok) {
                continue;
            }
            if let Some(token) = self.forward.get(m.as_str()) {
                out.push_str(&s[last..m.start()]);
                out.push_str(token);
                last = m.end();
            }
        }
        if last == 0 {
            return s.to_string();
        }
        out.push_str(&s[last..]);
        out
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
