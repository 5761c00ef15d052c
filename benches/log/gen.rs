//! Generate a large, realistic audit log for benchmarks (`benches/log/run.sh`).
//!
//! Usage: `cargo run --release --example log-gen -- LINES [OUT]` (stdout when OUT is absent).
//! The mix follows a busy auditd host with AppArmor: about 60% AppArmor AVC records
//! (DENIED/ALLOWED/AUDIT/STATUS across file, exec, capability, network, unix, signal, ptrace,
//! mount, dbus and io_uring events, some hex-encoded names, some with the `\x1d` enrichment),
//! 5% dbus USER_AVC records, and SYSCALL, PROCTITLE, CRED_ACQ and BPF records for the rest.
//! Output is deterministic (fixed seed).

use std::io::{self, BufWriter, Write};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const PROFILES: &[&str] = &[
    "/usr/sbin/nginx",
    "/usr/sbin/cupsd",
    "/usr/bin/evince",
    "snap.firefox.firefox",
    "/usr/lib/NetworkManager/nm-dhcp-client.action",
    "/usr/sbin/mysqld",
    "/usr/sbin/apache2//HANDLING_UNTRUSTED_INPUT",
    ":lxd-c1_<var-lib-lxd>:/usr/bin/app",
    "docker-default",
    "/usr/bin/man",
];
const PATHS: &[&str] = &[
    "/etc/shadow",
    "/etc/ssl/private/server.key",
    "/proc/1/environ",
    "/var/lib/mysql/ibdata1",
    "/home/user/.ssh/id_ed25519",
    "/run/systemd/journal/socket",
    "/sys/kernel/mm/transparent_hugepage/enabled",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/tmp/.X11-unix/X0",
    "/var/log/nginx/access.log",
];
const COMMS: &[&str] = &[
    "nginx", "cupsd", "evince", "firefox", "mysqld", "apache2", "sh", "man",
];
const MASKS: &[&str] = &["r", "w", "rw", "c", "wc", "mr", "k", "l", "x", "a"];
const OPS: &[&str] = &[
    "open",
    "mknod",
    "file_perm",
    "file_mmap",
    "unlink",
    "rename_src",
    "getattr",
];
const CAPS: &[&str] = &[
    "net_admin",
    "sys_ptrace",
    "dac_override",
    "sys_admin",
    "chown",
    "setuid",
];

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

fn avc(r: &mut Rng, t: u64, serial: u64, out: &mut impl Write) -> io::Result<()> {
    let kind = r.below(20);
    let mode = match r.below(10) {
        _ if kind == 19 => "STATUS",
        0..=5 => "DENIED",
        6..=8 => "ALLOWED",
        _ => "AUDIT",
    };
    let prof = r.pick(PROFILES);
    let pid = 1000 + r.below(30000);
    let comm = r.pick(COMMS);
    write!(
        out,
        "type=AVC msg=audit({t}.{:03}:{serial}): apparmor=\"{mode}\" ",
        r.below(1000)
    )?;
    match kind {
        0..=9 => {
            let path = r.pick(PATHS);
            let name = if r.below(10) == 0 {
                hex(&format!("{path} copy"))
            } else {
                format!("\"{path}\"")
            };
            let m = r.pick(MASKS);
            write!(
                out,
                "operation=\"{}\" class=\"file\" profile=\"{prof}\" name={name} pid={pid} comm=\"{comm}\" requested_mask=\"{m}\" denied_mask=\"{m}\" fsuid={} ouid=0",
                r.pick(OPS),
                r.below(2000)
            )?;
            if r.below(4) == 0 {
                write!(out, "\x1dFSUID=\"www-data\" OUID=\"root\"")?;
            }
        }
        10 => write!(
            out,
            "operation=\"exec\" class=\"file\" info=\"no new privs\" error=-1 profile=\"{prof}\" name=\"/usr/bin/curl\" pid={pid} comm=\"sh\" requested_mask=\"x\" denied_mask=\"x\" fsuid=33 ouid=0 target=\"{prof}//null-/usr/bin/curl\""
        )?,
        11 | 12 => write!(
            out,
            "operation=\"capable\" class=\"cap\" profile=\"{prof}\" pid={pid} comm=\"{comm}\" capability={} capname=\"{}\"",
            r.below(40),
            r.pick(CAPS)
        )?,
        13 | 14 => write!(
            out,
            "operation=\"connect\" class=\"net\" profile=\"{prof}\" pid={pid} comm=\"{comm}\" family=\"inet\" sock_type=\"stream\" protocol=6 requested_mask=\"connect\" denied_mask=\"connect\" faddr=10.0.{}.{} fport={}",
            r.below(255),
            r.below(255),
            [80, 443, 5432, 3306][r.below(4) as usize]
        )?,
        15 => write!(
            out,
            "operation=\"connect\" class=\"net\" profile=\"{prof}\" pid={pid} comm=\"{comm}\" family=\"unix\" sock_type=\"stream\" protocol=0 requested_mask=\"send receive connect\" denied_mask=\"send receive connect\" addr=none peer_addr=\"@/tmp/dbus-AaKMpxzC4k\" peer=\"dbus-daemon\""
        )?,
        16 => write!(
            out,
            "operation=\"signal\" class=\"signal\" profile=\"{prof}\" pid={pid} comm=\"{comm}\" requested_mask=\"send\" denied_mask=\"send\" signal=term peer=\"unconfined\""
        )?,
        17 => write!(
            out,
            "operation=\"ptrace\" class=\"ptrace\" profile=\"{prof}\" pid={pid} comm=\"ps\" requested_mask=\"read\" denied_mask=\"read\" peer=\"unconfined\""
        )?,
        18 => write!(
            out,
            "operation=\"mount\" class=\"mount\" info=\"failed flags match\" error=-13 profile=\"{prof}\" name=\"/mnt/\" pid={pid} comm=\"mount\" fstype=\"tmpfs\" srcname=\"tmpfs\" flags=\"rw, nosuid\""
        )?,
        _ => write!(
            out,
            "operation=\"profile_replace\" profile=\"unconfined\" name=\"{prof}\" pid={pid} comm=\"apparmor_parser\""
        )?,
    }
    out.write_all(b"\n")
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let lines: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other("usage: log-gen LINES [OUT]"))?;
    let out: Box<dyn Write> = match args.next() {
        Some(p) => Box::new(std::fs::File::create(p)?),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, out);
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut t = 1_718_000_000u64;
    let mut serial = 1000u64;
    for _ in 0..lines {
        if r.below(50) == 0 {
            t += 1;
        }
        serial += 1;
        match r.below(100) {
            0..=59 => avc(&mut r, t, serial, &mut out)?,
            60..=64 => writeln!(
                out,
                "type=USER_AVC msg=audit({t}.{:03}:{serial}): pid=1648 uid=102 auid=4294967295 ses=4294967295 subj=? msg='apparmor=\"DENIED\" operation=\"dbus_method_call\"  bus=\"system\" path=\"/org/freedesktop/DBus\" interface=\"org.freedesktop.DBus\" member=\"AddMatch\" mask=\"send\" name=\"org.freedesktop.DBus\" pid={} label=\"{}\" peer_label=\"unconfined\"  exe=\"/usr/bin/dbus-daemon\" sauid=102 hostname=? addr=? terminal=?'\x1dUID=\"messagebus\" AUID=\"unset\" SAUID=\"messagebus\"",
                r.below(1000),
                1000 + r.below(30000),
                r.pick(PROFILES)
            )?,
            65..=79 => writeln!(
                out,
                "type=SYSCALL msg=audit({t}.{:03}:{serial}): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7ffd6 a2=80000 a3=0 items=1 ppid=1 pid={} auid=4294967295 uid=33 gid=33 euid=33 suid=33 fsuid=33 egid=33 sgid=33 fsgid=33 tty=(none) ses=4294967295 comm=\"{}\" exe=\"/usr/sbin/nginx\" subj={} key=(null)",
                r.below(1000),
                1000 + r.below(30000),
                r.pick(COMMS),
                r.pick(PROFILES)
            )?,
            80..=91 => writeln!(
                out,
                "type=PROCTITLE msg=audit({t}.{:03}:{serial}): proctitle=6E67696E783A20776F726B65722070726F63657373",
                r.below(1000)
            )?,
            92..=96 => writeln!(
                out,
                "type=CRED_ACQ msg=audit({t}.{:03}:{serial}): pid={} uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:setcred grantors=pam_permit acct=\"root\" exe=\"/usr/sbin/cron\" hostname=? addr=? terminal=cron res=success'",
                r.below(1000),
                1000 + r.below(30000)
            )?,
            _ => writeln!(
                out,
                "type=BPF msg=audit({t}.{:03}:{serial}): prog-id={} op=LOAD",
                r.below(1000),
                r.below(200)
            )?,
        }
    }
    out.flush()
}
