//! Prompt economy (recorded in BENCHMARKS.md, "LLM batching"): prompt tokens per group ≤ 80,
//! and ~400 groups (what a 1,000,000-line log typically reduces to) fit in ≤ 35k prompt
//! tokens. Groups are synthetic but shaped like real ones: every class, realistic path
//! lengths, comms, a sample field map of a real audit event.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use aa_assist::prompt::{GroupData, Planner, PlannerOptions, Task, Templates, TokenCounter};
use aa_assist::redact::{RedactConfig, Redactor};

const PROFILES: &[&str] = &[
    "/usr/sbin/nginx",
    "/usr/bin/postgres",
    "/usr/lib/snapd/snap-confine",
    "/usr/sbin/cupsd",
    "/usr/bin/redis-server",
    "/opt/app/bin/worker",
    "lsb_release",
    "/usr/sbin/sshd",
];

const DIRS: &[&str] = &[
    "/etc/ssl/certs",
    "/var/lib/postgresql/16/main/base",
    "/home/alice/.cache/worker",
    "/usr/share/nginx/html/static",
    "/run/systemd/journal",
    "/proc/@{pid}/task",
    "/sys/devices/system/cpu/cpu0/cpufreq",
    "/var/log/nginx",
];

fn synthetic(n: usize) -> Vec<GroupData> {
    (0..n)
        .map(|i| {
            let profile = PROFILES[i % PROFILES.len()].to_string();
            let comm = profile
                .rsplit('/')
                .next()
                .unwrap()
                .chars()
                .take(15)
                .collect::<String>();
            let mut sample = BTreeMap::new();
            for (k, v) in [
                ("type", "AVC"),
                ("msg", "audit(1764097201.123:456)"),
                ("apparmor", "DENIED"),
                ("pid", "4242"),
                ("fsuid", "1000"),
                ("ouid", "1000"),
                ("FSUID", "alice"),
                ("OUID", "alice"),
            ] {
                sample.insert(k.to_string(), v.to_string());
            }
            let (class, operation, resource, mask, extra) = match i % 10 {
                0..=5 => (
                    "file",
                    ["open", "mknod", "rename_src", "exec", "link", "truncate"][i % 6],
                    format!(
                        "{}/file-{i}.{}",
                        DIRS[i % DIRS.len()],
                        ["conf", "db", "sock", "log"][i % 4]
                    ),
                    ["r", "w", "rw", "wc", "x", "m"][i % 6],
                    BTreeMap::new(),
                ),
                6 => (
                    "cap",
                    "capable",
                    [
                        "net_bind_service",
                        "dac_read_search",
                        "sys_ptrace",
                        "setuid",
                    ][i % 4]
                        .to_string(),
                    "",
                    BTreeMap::new(),
                ),
                7 => (
                    "net",
                    "connect",
                    "inet stream".to_string(),
                    "send receive",
                    BTreeMap::from([(
                        "addr".to_string(),
                        format!("10.0.{}.{}:5432", i % 250, i % 200),
                    )]),
                ),
                8 => (
                    "signal",
                    "signal",
                    "unconfined".to_string(),
                    "receive",
                    BTreeMap::from([("signal".to_string(), "term".to_string())]),
                ),
                _ => (
                    "dbus",
                    "dbus_method_call",
                    "org.freedesktop.login1".to_string(),
                    "send",
                    BTreeMap::from([
                        ("path".to_string(), "/org/freedesktop/login1".to_string()),
                        ("member".to_string(), "GetSession".to_string()),
                    ]),
                ),
            };
            GroupData {
                id: format!("G{}", i + 1),
                profile,
                class: class.into(),
                operation: operation.into(),
                mode: "DENIED".into(),
                resource,
                mask: mask.into(),
                count: 2500 + (i as u64 * 37) % 5000,
                first: "2026-11-25T10:00:00Z".into(),
                last: "2026-11-25T18:59:59Z".into(),
                comms: vec![comm],
                pids: vec![4242, 4243],
                sample: vec![sample],
                extra,
            }
        })
        .collect()
}

#[test]
fn four_hundred_groups_fit_in_35k_at_80_per_group() {
    let groups = synthetic(400);
    for model in ["gpt-4o-mini", "gpt-4"] {
        let counter = TokenCounter::for_model(model);
        let planner = Planner::new(
            Templates::default(),
            counter.clone(),
            PlannerOptions {
                task: Task::Draft,
                max_prompt_tokens: 35_000,
                ..PlannerOptions::default()
            },
        );
        let mut red = Redactor::new(RedactConfig::default());
        let batches = planner.plan(&groups, &[], &mut red).unwrap();
        let total: usize = batches.iter().map(|b| b.tokens).sum();
        // Per-group cost: the data lines only.
        let mut max_line = 0;
        let mut sum_lines = 0;
        for b in &batches {
            let data = b.user.split("```json\n").nth(1).unwrap();
            for line in data.lines().filter(|l| l.starts_with("{\"id\"")) {
                let t = counter.count(&format!("{line}\n"));
                max_line = max_line.max(t);
                sum_lines += t;
            }
        }
        let fixed = batches[0].tokens - {
            let data = batches[0].user.split("```json\n").nth(1).unwrap();
            data.lines()
                .filter(|l| l.starts_with("{\"id\""))
                .map(|l| counter.count(&format!("{l}\n")))
                .sum::<usize>()
        };
        eprintln!(
            "prompt economy ({}): 400 groups -> {} batch(es), {total} prompt tokens, {:.1} tokens/group avg, {max_line} max, fixed part ~{fixed}",
            counter.encoding(),
            batches.len(),
            sum_lines as f64 / 400.0
        );
        assert_eq!(batches.len(), 1, "400 groups should fit one 35k batch");
        assert!(total <= 35_000, "{total}");
        assert!(max_line <= 80, "a group costs {max_line} tokens");
    }
}
