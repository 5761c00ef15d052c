//! Small textual changes a reviewer can make to a proposed rule: toggle its `audit` or
//! `owner` qualifier, or turn it into a `deny` rule.
//!
//! Only the leading qualifier words are touched (`audit`, `allow`/`deny`, `owner`/`other`);
//! the rest of the rule is kept byte for byte and the qualifiers are written back in the
//! parser's order (`audit deny owner …`). Whether the result is valid policy and what it
//! covers is the cross-check's business, not this module's.

/// A qualifier the reviewer can toggle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggle {
    /// `audit`: log every use of the rule.
    Audit,
    /// `owner`: only files owned by the task's fsuid (file rules only).
    Owner,
    /// `deny`: refuse (and silence) the access instead of allowing it.
    Deny,
}

struct Split<'a> {
    audit: bool,
    deny: bool,
    allow: bool,
    owner: bool,
    other: bool,
    body: &'a str,
}

fn split(rule: &str) -> Split<'_> {
    let mut s = Split {
        audit: false,
        deny: false,
        allow: false,
        owner: false,
        other: false,
        body: rule.trim(),
    };
    while let Some((word, rest)) = s.body.split_once(char::is_whitespace) {
        let rest = rest.trim_start();
        match word {
            "audit" => s.audit = true,
            "deny" => s.deny = true,
            "allow" => s.allow = true,
            "owner" => s.owner = true,
            "other" => s.other = true,
            _ => break,
        }
        s.body = rest;
    }
    s
}

/// True when the rule is an `include` line, to which no qualifier applies.
pub fn is_include(rule: &str) -> bool {
    let b = split(rule).body;
    b.starts_with("include ") || b.starts_with("#include")
}

/// True when the rule looks like a file rule (so `owner` makes sense).
pub fn is_file_rule(rule: &str) -> bool {
    let b = split(rule).body;
    b.starts_with('/') || b.starts_with("@{") || b.starts_with('"') || b.starts_with("file ")
}

/// True when the rule carries the qualifier.
pub fn has(rule: &str, t: Toggle) -> bool {
    let s = split(rule);
    match t {
        Toggle::Audit => s.audit,
        Toggle::Owner => s.owner,
        Toggle::Deny => s.deny,
    }
}

/// The rule with the qualifier switched on or off.
pub fn toggle(rule: &str, t: Toggle) -> String {
    let mut s = split(rule);
    match t {
        Toggle::Audit => s.audit = !s.audit,
        Toggle::Owner => s.owner = !s.owner,
        Toggle::Deny => {
            s.deny = !s.deny;
            s.allow = false;
        }
    }
    let mut words = Vec::new();
    if s.audit {
        words.push("audit");
    }
    if s.deny {
        words.push("deny");
    } else if s.allow {
        words.push("allow");
    }
    if s.owner {
        words.push("owner");
    } else if s.other {
        words.push("other");
    }
    words.push(s.body);
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toggles_keep_order_and_body() {
        let r = "/var/lib/x/cache/*  rw,";
        assert_eq!(toggle(r, Toggle::Owner), "owner /var/lib/x/cache/*  rw,");
        assert_eq!(toggle(r, Toggle::Audit), "audit /var/lib/x/cache/*  rw,");
        let d = toggle(&toggle(r, Toggle::Owner), Toggle::Deny);
        assert_eq!(d, "deny owner /var/lib/x/cache/*  rw,");
        assert_eq!(
            toggle(&d, Toggle::Audit),
            "audit deny owner /var/lib/x/cache/*  rw,"
        );
        assert_eq!(toggle(&d, Toggle::Owner), "deny /var/lib/x/cache/*  rw,");
        assert_eq!(
            toggle("allow capability kill,", Toggle::Deny),
            "deny capability kill,"
        );
        assert!(has(&d, Toggle::Deny) && !has(&d, Toggle::Audit));
    }

    #[test]
    fn kinds() {
        assert!(is_include("include <abstractions/nameservice>"));
        assert!(is_file_rule("owner @{HOME}/x r,"));
        assert!(!is_file_rule("capability setuid,"));
        assert!(!is_include("capability setuid,"));
    }
}
