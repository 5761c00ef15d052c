//! The grammar of libapparmor's record parser (`grammar.y`), replayed over our tokens.
//!
//! Semantics that matter for conformance, all reproduced here:
//! - fields are filled as each `key=value` completes, left to right; a later key overwrites an
//!   earlier one (`exe=` and `comm=` share one field, as do `label`/`profile`, `tcontext` /
//!   `peer_label` / `peer_profile`, `target`/`name2`, `capname`/`name`);
//! - a syntax error anywhere makes the record `INVALID` but keeps the fields already set;
//! - `type=APPARMOR_*`/`UNKNOWN[n]` set the event type after the keys (overriding
//!   `apparmor=`), `type=AVC` leaves it to `apparmor=`, a numeric `type=` maps 1501–1506;
//! - any other record type (`SYSCALL`, `APPARMOR`, `CRED_ACQ`, …) becomes `INVALID` with the
//!   type as operation and the rest of the message as info.
//!
//! It owns no I/O and knows nothing of framings beyond what libapparmor's grammar knows.

use super::scan::{AaType, Key, Tok};
use super::{Event, EventKind};

type Res = Result<(), ()>;

fn aa_kind(t: AaType) -> EventKind {
    match t {
        AaType::Denied => EventKind::Denied,
        AaType::Audit => EventKind::Audit,
        AaType::Allowed => EventKind::Allowed,
        AaType::Hint => EventKind::Hint,
        AaType::Status => EventKind::Status,
        AaType::Error => EventKind::Error,
    }
}

/// The audit record type numbers AppArmor uses (1501–1506); anything else is `INVALID`.
pub(crate) fn lookup_type(n: i64) -> EventKind {
    match n {
        1501 => EventKind::Audit,
        1502 => EventKind::Allowed,
        1503 => EventKind::Denied,
        1504 => EventKind::Hint,
        1505 => EventKind::Status,
        1506 => EventKind::Error,
        _ => EventKind::Invalid,
    }
}

/// IP protocol numbers as glibc's `<netinet/in.h>` names them (first name wins).
pub(crate) fn ipproto_name(n: i64) -> String {
    let name = match n {
        0 => "ip",
        1 => "icmp",
        2 => "igmp",
        4 => "ipip",
        6 => "tcp",
        8 => "egp",
        12 => "pup",
        17 => "udp",
        22 => "idp",
        29 => "tp",
        33 => "dccp",
        41 => "ipv6",
        46 => "rsvp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        92 => "mtp",
        94 => "beetph",
        98 => "encap",
        103 => "pim",
        108 => "comp",
        132 => "sctp",
        136 => "udplite",
        137 => "mpls",
        143 => "ethernet",
        255 => "raw",
        262 => "mptcp",
        43 => "routing",
        44 => "fragment",
        58 => "icmpv6",
        59 => "none",
        60 => "dstopts",
        135 => "mh",
        // libapparmor prints the number as an unsigned int.
        _ => return format!("unknown({})", n as u32),
    };
    name.to_string()
}

struct P<'t, 'e> {
    /// Values are moved out of the tokens as they are used (each token is used once).
    toks: &'t mut [Tok],
    pos: usize,
    ev: &'e mut Event,
    /// Our reader's mode: unknown keys may appear between the fixed fields of a user message
    /// and after it (auditd's enrichment).
    lenient: bool,
}

impl P<'_, '_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.pos + k)
    }
    fn next(&mut self) -> Option<&mut Tok> {
        let t = self.toks.get_mut(self.pos);
        self.pos += 1;
        t
    }
    fn expect(&mut self, want: &Tok) -> Res {
        match self.next() {
            Some(t) if *t == *want => Ok(()),
            _ => Err(()),
        }
    }
    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }
    fn expect_end(&self) -> Res {
        if self.at_end() {
            Ok(())
        } else {
            Err(())
        }
    }
    fn quoted(&mut self) -> Result<String, ()> {
        match self.next() {
            Some(Tok::Quoted(s)) => Ok(std::mem::take(s)),
            _ => Err(()),
        }
    }
    fn safe(&mut self) -> Result<String, ()> {
        match self.next() {
            Some(Tok::Quoted(s) | Tok::Hex(s)) => Ok(std::mem::take(s)),
            _ => Err(()),
        }
    }
    fn digits(&mut self) -> Result<i64, ()> {
        match self.next() {
            Some(Tok::Digits(n)) => Ok(*n),
            _ => Err(()),
        }
    }
    fn key_eq(&mut self, k: Key) -> Res {
        self.expect(&Tok::Key(k))?;
        self.expect(&Tok::Equals)
    }

    /// `log_message`
    fn log_message(&mut self) -> Res {
        match self.peek() {
            Some(Tok::Key(Key::Type)) => self.audit_type(),
            Some(Tok::DmesgStamp) => self.dmesg_type(),
            Some(Tok::DateMonth | Tok::Date) => self.syslog_type(),
            Some(Tok::Key(Key::Msg)) => {
                self.audit_msg()?;
                self.key_list()
            }
            _ => Err(()),
        }?;
        self.expect_end()
    }

    fn audit_type(&mut self) -> Res {
        self.key_eq(Key::Type)?;
        let t = self.next().cloned().ok_or(())?;
        match t {
            Tok::AaType(a) => {
                self.audit_msg()?;
                self.key_list()?;
                self.expect_end()?;
                self.ev.kind = aa_kind(a);
            }
            Tok::TypeUnknown(n) => {
                self.audit_msg()?;
                self.key_list()?;
                self.expect_end()?;
                self.ev.kind = lookup_type(n);
            }
            Tok::LsmAvc => {
                self.audit_msg()?;
                self.key_list()?;
            }
            Tok::UserAvc => {
                self.key_eq(Key::Msg)?;
                self.audit_id()?;
                self.user_msg_partial_tail()?;
                if !(self.lenient && self.at_end()) {
                    self.expect(&Tok::SingleQuote)?;
                }
                self.skip_unknown();
            }
            Tok::TypeOther(name) => {
                self.audit_msg()?;
                let Some(Tok::MsgRest(rest)) = self.next().cloned() else {
                    return Err(());
                };
                self.ev.operation = Some(name);
                self.ev.kind = EventKind::Invalid;
                self.ev.info = Some(rest);
            }
            _ => return Err(()),
        }
        Ok(())
    }

    fn dmesg_type(&mut self) -> Res {
        self.expect(&Tok::DmesgStamp)?;
        self.expect(&Tok::Audit)?;
        self.expect(&Tok::Colon)?;
        self.key_type()?;
        self.audit_id()?;
        self.key_list()
    }

    fn syslog_type(&mut self) -> Res {
        // syslog_date
        match self.next() {
            Some(Tok::DateMonth) => {
                self.digits()?;
                self.expect(&Tok::Time)?;
            }
            Some(Tok::Date) => self.expect(&Tok::Time)?,
            _ => return Err(()),
        }
        // syslog_id, or the user-daemon form
        match self.next() {
            Some(Tok::SocklogdKernel) => {}
            Some(Tok::Id(_)) => match self.next() {
                Some(Tok::SyslogKernel) => {}
                Some(Tok::SyslogUser) => return self.key_list(),
                _ => return Err(()),
            },
            _ => return Err(()),
        }
        match self.peek() {
            Some(Tok::Audit) => {
                if self.peek_at(1) == Some(&Tok::Colon) {
                    self.pos += 2;
                    self.key_type()?;
                }
                self.audit_id()?;
                self.key_list()
            }
            Some(Tok::Key(Key::Type)) => {
                self.key_type()?;
                self.audit_id()?;
                self.key_list()
            }
            Some(Tok::DmesgStamp) => {
                self.pos += 1;
                match self.peek() {
                    Some(Tok::Key(Key::Type)) => {
                        self.key_type()?;
                        self.audit_id()?;
                        self.key_list()
                    }
                    Some(Tok::Audit) if self.peek_at(1) == Some(&Tok::Colon) => {
                        self.pos += 2;
                        self.key_type()?;
                        self.audit_id()?;
                        let user_tail = self.peek() == Some(&Tok::Key(Key::Pid))
                            && self.peek_at(1) == Some(&Tok::Equals)
                            && matches!(self.peek_at(2), Some(Tok::Digits(_)))
                            && self.peek_at(3) == Some(&Tok::Key(Key::Uid));
                        if user_tail {
                            self.user_msg_partial_tail()?;
                            if self.peek() == Some(&Tok::SingleQuote) {
                                self.pos += 1;
                            }
                            Ok(())
                        } else {
                            self.key_list()
                        }
                    }
                    _ => {
                        self.audit_id()?;
                        self.key_list()
                    }
                }
            }
            _ => Err(()),
        }
    }

    fn skip_unknown(&mut self) {
        while self.lenient {
            let Some(Tok::UnknownKey(k, v)) = self.peek().cloned() else {
                break;
            };
            self.ev.unknown_keys.push((k, v));
            self.pos += 1;
        }
    }

    fn user_msg_partial_tail(&mut self) -> Res {
        for k in [Key::Pid, Key::Uid, Key::Auid, Key::Ses] {
            self.skip_unknown();
            self.key_eq(k)?;
            self.digits()?;
        }
        self.skip_unknown();
        self.key_eq(Key::Msg)?;
        self.expect(&Tok::SingleQuote)?;
        self.key_list()
    }

    fn audit_msg(&mut self) -> Res {
        self.key_eq(Key::Msg)?;
        self.audit_id()
    }

    fn audit_id(&mut self) -> Res {
        self.expect(&Tok::Audit)?;
        self.expect(&Tok::OpenParen)?;
        let Some(Tok::AuditDigits(a)) = self.next().cloned() else {
            return Err(());
        };
        self.expect(&Tok::Period)?;
        let Some(Tok::AuditDigits(b)) = self.next().cloned() else {
            return Err(());
        };
        self.expect(&Tok::Colon)?;
        let Some(Tok::AuditDigits(c)) = self.next().cloned() else {
            return Err(());
        };
        self.expect(&Tok::CloseParen)?;
        self.expect(&Tok::Colon)?;
        let epoch = super::scan::atol(a.as_bytes());
        // `atoi`: the long value truncated to a C int.
        let sub = super::scan::atol(c.as_bytes()) as i32;
        self.ev.audit_id = Some(format!("{a}.{b}:{c}"));
        self.ev.epoch = Some(epoch);
        self.ev.audit_sub_id = Some(i64::from(sub));
        Ok(())
    }

    fn key_type(&mut self) -> Res {
        self.key_eq(Key::Type)?;
        let n = self.digits()?;
        self.ev.kind = lookup_type(n);
        Ok(())
    }

    fn starts_key(t: &Tok) -> bool {
        match t {
            Tok::MsgRest(_) | Tok::UnknownKey(..) => true,
            Tok::Key(k) => !matches!(k, Key::Msg | Key::Uid | Key::Auid | Key::Ses),
            _ => false,
        }
    }

    fn key_list(&mut self) -> Res {
        match self.peek() {
            Some(t) if Self::starts_key(t) => {}
            _ => return Err(()),
        }
        while let Some(t) = self.peek() {
            if !Self::starts_key(t) {
                break;
            }
            self.key()?;
        }
        Ok(())
    }

    fn key(&mut self) -> Res {
        let t = self
            .next()
            .map(|t| std::mem::replace(t, Tok::Equals))
            .ok_or(())?;
        let k = match t {
            Tok::MsgRest(rest) => {
                self.ev.kind = EventKind::Invalid;
                self.ev.info = Some(rest);
                return Ok(());
            }
            Tok::Key(k) => k,
            Tok::UnknownKey(k, v) => {
                self.ev.unknown_keys.push((k, v));
                return Ok(());
            }
            _ => return Err(()),
        };
        self.expect(&Tok::Equals)?;
        match k {
            Key::Operation => self.ev.operation = Some(self.quoted()?),
            Key::Name => self.ev.name = Some(self.safe()?),
            Key::Namespace => self.ev.namespace = Some(self.safe()?),
            Key::Name2 => self.ev.name2 = Some(self.safe()?),
            Key::Mask | Key::DeniedMask => self.ev.denied_mask = Some(self.quoted()?),
            Key::RequestedMask => self.ev.requested_mask = Some(self.quoted()?),
            Key::Attribute => self.ev.attribute = Some(self.quoted()?),
            Key::Task => self.ev.task = Some(self.digits()?),
            Key::Parent => self.ev.parent = Some(self.digits()?),
            Key::MagicToken => self.ev.magic_token = Some(self.digits()?),
            Key::Info => self.ev.info = Some(self.quoted()?),
            Key::PeerInfo => self.ev.peer_info = Some(self.quoted()?),
            Key::Peer => self.ev.peer = Some(self.quoted()?),
            Key::Pid => self.ev.pid = Some(self.digits()?),
            Key::PeerPid => self.ev.peer_pid = Some(self.digits()?),
            Key::Profile | Key::Label => self.ev.profile = Some(self.safe()?),
            Key::PeerProfile | Key::PeerLabel => self.ev.peer_profile = Some(self.safe()?),
            Key::Family => self.ev.family = Some(self.quoted()?),
            Key::SockType => self.ev.sock_type = Some(self.quoted()?),
            Key::Protocol => {
                let v = match self.next() {
                    Some(Tok::Quoted(s)) => std::mem::take(s),
                    Some(Tok::Digits(n)) => ipproto_name(*n),
                    _ => return Err(()),
                };
                self.ev.protocol = Some(v);
            }
            Key::Type => {
                let n = self.digits()?;
                self.ev.kind = lookup_type(n);
            }
            Key::Error => {
                if self.peek() == Some(&Tok::Minus) {
                    self.pos += 1;
                }
                // Stored in a C int, without its sign.
                let n = self.digits()? as i32;
                self.ev.error_code = Some(i64::from(n));
            }
            Key::Fsuid => self.ev.fsuid = Some(self.digits()?),
            Key::Ouid => self.ev.ouid = Some(self.digits()?),
            Key::Addr => match self.peek() {
                Some(Tok::QuestionMark | Tok::None) => self.pos += 1,
                _ => self.ev.net_addr = Some(self.safe()?),
            },
            Key::UnixPeerAddr => match self.peek() {
                Some(Tok::None) => self.pos += 1,
                _ => self.ev.peer_addr = Some(self.safe()?),
            },
            Key::FsuidUpper => self.ev.fsuid_name = Some(self.quoted()?),
            Key::OuidUpper => self.ev.ouid_name = Some(self.quoted()?),
            Key::Sauid | Key::Capability | Key::Offset => {
                self.digits()?;
            }
            Key::Hostname | Key::Terminal => match self.peek() {
                Some(Tok::QuestionMark) => self.pos += 1,
                _ => {
                    self.safe()?;
                }
            },
            Key::Exe | Key::Comm => self.ev.comm = Some(self.safe()?),
            Key::Apparmor => match self.next() {
                Some(Tok::QuotedType(a)) => self.ev.kind = aa_kind(*a),
                _ => return Err(()),
            },
            Key::Capname => self.ev.name = Some(self.quoted()?),
            Key::Target => self.ev.name2 = Some(self.safe()?),
            Key::Laddr | Key::Faddr => {
                let Some(Tok::IpAddr(a)) = self.next().cloned() else {
                    return Err(());
                };
                if k == Key::Laddr {
                    self.ev.local_addr = Some(a);
                } else {
                    self.ev.foreign_addr = Some(a);
                }
            }
            Key::Lport => self.ev.local_port = Some(self.digits()?),
            Key::Fport => self.ev.foreign_port = Some(self.digits()?),
            Key::Bus => self.ev.dbus_bus = Some(self.quoted()?),
            Key::Path => self.ev.dbus_path = Some(self.quoted()?),
            Key::Interface => self.ev.dbus_interface = Some(self.quoted()?),
            Key::Member => self.ev.dbus_member = Some(self.quoted()?),
            Key::Signal => match self.next() {
                Some(Tok::Id(s)) => self.ev.signal = Some(std::mem::take(s)),
                _ => return Err(()),
            },
            Key::Fstype => self.ev.fs_type = Some(self.quoted()?),
            Key::Flags => self.ev.flags = Some(self.quoted()?),
            Key::Srcname => self.ev.src_name = Some(self.quoted()?),
            Key::Execpath => self.ev.execpath = Some(self.quoted()?),
            Key::Class => self.ev.rule_class = Some(self.quoted()?),
            Key::Msg | Key::Uid | Key::Auid | Key::Ses => return Err(()),
        }
        Ok(())
    }
}

/// Parse a token stream into `ev` with libapparmor's semantics. Returns whether the grammar
/// accepted the input (on `false`, `ev.kind` is [`EventKind::Invalid`] and the fields set
/// before the error are kept).
pub(crate) fn parse_tokens(toks: &mut [Tok], ev: &mut Event, lenient: bool) -> bool {
    let mut p = P {
        toks,
        pos: 0,
        ev,
        lenient,
    };
    match p.log_message() {
        Ok(()) => true,
        Err(()) => {
            p.ev.kind = EventKind::Invalid;
            false
        }
    }
}

/// Parse a bare key list (a record whose framing has no audit stamp). Returns whether it
/// parsed; the event kind comes from `apparmor=` alone.
pub(crate) fn parse_key_list(toks: &mut [Tok], ev: &mut Event) -> bool {
    let mut p = P {
        toks,
        pos: 0,
        ev,
        lenient: true,
    };
    match p.key_list().and_then(|()| p.expect_end()) {
        Ok(()) => true,
        Err(()) => {
            p.ev.kind = EventKind::Invalid;
            false
        }
    }
}
