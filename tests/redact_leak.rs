//! Leak test: secrets seeded across every framing we support never appear in any request body
//! the test server on 127.0.0.1 captures, and the model's pseudonyms map back to them.
//!
//! Framings covered here without the log parser: parsed field maps (samples and extra fields,
//! as `log::Group` will supply them), resource paths, profile names with policy namespaces,
//! comms, and raw lines of each log source (syslog/kern.log, auditd, dmesg, journald JSON
//! export) carried as fields. Once the log parser is merged, the lead should add the same
//! assertion over groups parsed from the corpus.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use aa_assist::llm::{ApiKey, Client, LlmConfig};
use aa_assist::prompt::{GroupData, Planner, PlannerOptions, Task, Templates, TokenCounter};
use aa_assist::redact::{RedactConfig, Redactor};
use regex::Regex;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Every value that must not leave the machine.
const SECRETS: &[&str] = &[
    "alice42",
    "db-prod-7",
    "db-prod-7.corp.example",
    "203.0.113.77",
    "198.51.100.23",
    "2001:db8:85a3::8a2e:370:7334",
    "de:ad:be:ef:00:42",
    "alice@corp.example",
    "3f2a9c1e-7b4d-4e2a-9f0c-1234567890ab",
    "4c4c4544003510548053b4c04f4e4d32",
    "Sup3rS3cret!",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    "lxd-webshop",
    "shop-prod",
    "cart-7d9f",
    "ACME-123456",
    "hunter2hunter2",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    // Credentials in `key=value` and `--flag value` form.
    "pgS3cretPass",
    "batteryStaple9",
    "dbFlagPass77",
    "MyS3cretPw",
    "r3disPass",
    // Well-known token prefixes, next to `_` or letters; JWT with an empty signature; a long
    // standard base64 run (with `/`).
    "AKIAJ4ABCDEFGHIJKLMN",
    "ASIAY34FZKBOKMUTVV7A",
    "glpat-xY7zK9mN2pQ4rS6tU8vW",
    "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
    "eyJzdWIiOiJuaW5hIn0",
    "vN4pL9wK3zT6yH1bF5cD0gA",
    // Fully-qualified, `.local` and cloud host names; CIFS and NFS sources.
    "build-07",
    "acme-corp",
    "nina-laptop",
    "ip-10-20-30-42",
    "10-20-30-42",
    "fileserv9",
    "nfsbox3",
    // Host and user names inside abstract sockets and (escaped) D-Bus names.
    "db_2dprod_2d7",
    "_40alice42",
    // Disconnected paths, homes with spaces, /home2, `//`, full-width names.
    "paula",
    "Nina Marie",
    "Marie",
    "quentin",
    "rosalind",
    "\u{ff53}\u{ff4f}\u{ff50}\u{ff48}\u{ff49}\u{ff45}",
    // E-mail in `%40` and `@localhost` form.
    "tara%40",
    "victor",
    // Leading-zero IPv4, IPv4-mapped IPv6, MAC addresses in other notations.
    "010.020.030.041",
    "20.30.41",
    "5254.00ab.cdef",
    "fe:11:00:02",
    // Container ids, LXC container names and cgroup pod uids.
    "9f8e7d6c5b4a",
    "webshop-ct",
    "3f1c2d4e_5a6b_4c7d_8e9f_0a1b2c3d4e5f",
];

fn raw_lines() -> Vec<(&'static str, String)> {
    vec![
        (
            "syslog",
            r#"Nov 25 19:00:01 db-prod-7 kernel: [ 1234.567890] audit: type=1400 audit(1764097201.123:456): apparmor="DENIED" operation="open" class="file" profile="/usr/bin/webshop" name="/home/alice42/.ssh/id_ed25519" pid=4242 comm="webshop" requested_mask="r" denied_mask="r" fsuid=1000 ouid=1000 FSUID="alice42" OUID="alice42""#.to_string(),
        ),
        (
            "auditd",
            r#"type=AVC msg=audit(1764097201.123:457): apparmor="DENIED" operation="connect" profile=":lxd-webshop_<var-snap-lxd-common-lxd>:/usr/sbin/nginx" pid=77 comm="nginx" laddr=203.0.113.77 lport=443 faddr=2001:db8:85a3::8a2e:370:7334 fport=5432 family="inet6" sock_type="stream" protocol=6 requested_mask="send" denied_mask="send" node=db-prod-7.corp.example AUID="alice42""#.to_string(),
        ),
        (
            "dmesg",
            r#"[ 99.000001] audit: type=1400 audit(1764097202.000:458): apparmor="DENIED" operation="exec" profile="/usr/bin/webshop" name="/usr/bin/curl" info="curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U' https://198.51.100.23/" pid=1 comm="webshop""#.to_string(),
        ),
        (
            "journald",
            json!({
                "_HOSTNAME": "db-prod-7",
                "_MACHINE_ID": "4c4c4544003510548053b4c04f4e4d32",
                "MESSAGE": "audit: type=1400 apparmor=\"DENIED\" operation=\"open\" profile=\"/usr/bin/webshop\" name=\"/var/log/pods/shop-prod_cart-7d9f_3f2a9c1e-7b4d-4e2a-9f0c-1234567890ab/app/0.log\" comm=\"cart\"",
            })
            .to_string(),
        ),
        (
            "cmdline",
            "mysql --user=alice42 --password=Sup3rS3cret! -h db-prod-7.corp.example; mail alice@corp.example; AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_string(),
        ),
        (
            "cmdline-credentials",
            "PGPASSWORD=pgS3cretPass psql; gpg --batch passphrase=batteryStaple9; pg_dump --password dbFlagPass77 shop; mysql -uroot -pMyS3cretPw shop; redis-cli -u redis://:r3disPass@cache.svc:6379".to_string(),
        ),
        (
            "token-prefixes",
            r#"type=AVC msg=audit(1764097203.000:459): apparmor="DENIED" operation="open" profile="/usr/bin/webshop" name="/srv/keys/key_AKIAJ4ABCDEFGHIJKLMN" info="ASIAY34FZKBOKMUTVV7Asession glpat-xY7zK9mN2pQ4rS6tU8vW hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567 eyJhbGciOiJub25lIn0.eyJzdWIiOiJuaW5hIn0. material q8Jx2mR7/vN4pL9wK3zT6yH1bF5cD0gA/sE8uI2oM4nQ7=" comm="webshop""#.to_string(),
        ),
        (
            "host-names",
            r#"type=AVC msg=audit(1764097204.000:460): apparmor="DENIED" operation="mount" info="failed flags match" profile="/usr/bin/webshop" name="/mnt/finance/" comm="mount" fstype="cifs" srcname="//fileserv9/finance" flags="rw" peer="build-07.eng.acme-corp.com" target="nina-laptop.local" cloud="ip-10-20-30-42.ec2.internal" via ip-10-20-30-42"#.to_string(),
        ),
        (
            "nfs-source",
            r#"type=AVC msg=audit(1764097204.500:461): apparmor="DENIED" operation="mount" profile="/usr/bin/webshop" name="/mnt/projects/" comm="mount" fstype="nfs4" srcname="nfsbox3:/export/projects" flags="ro""#.to_string(),
        ),
        (
            "sockets-and-dbus",
            r#"type=USER_AVC msg=audit(1764097205.000:462): pid=1 uid=103 auid=4294967295 msg='apparmor="DENIED" operation="dbus_method_call" bus="system" path="/org/freedesktop/systemd1/unit/user_40alice42_2eservice" interface="org.freedesktop.DBus.Properties" member="Get" name="org.example.Host.db_2dprod_2d7" mask="send" label="/usr/bin/webshop" peer_addr="@nina-laptop.local:ssh-agent"'"#.to_string(),
        ),
        (
            "home-forms",
            "type=AVC msg=audit(1764097206.000:463): apparmor=\"DENIED\" operation=\"open\" info=\"Failed name lookup - disconnected path\" profile=\"/usr/bin/webshop\" name=\"home/paula/.ssh/config\" comm=\"webshop\" other=\"/home/Nina Marie/Documents/cv.pdf\" alt=\"/home2/quentin/x\" dbl=\"/home//rosalind/y\" wide=\"/home/\u{ff53}\u{ff4f}\u{ff50}\u{ff48}\u{ff49}\u{ff45}/z\"".to_string(),
        ),
        (
            "mail-and-addresses",
            r#"type=AVC msg=audit(1764097207.000:464): apparmor="DENIED" operation="connect" profile="/usr/bin/webshop" comm="webshop" info="mailto:tara%40corp.example victor@localhost" laddr=010.020.030.041 faddr=::ffff:10.20.30.41 hw="5254.00ab.cdef" eui="02:42:ac:ff:fe:11:00:02""#.to_string(),
        ),
        (
            "containers",
            r#"type=AVC msg=audit(1764097208.000:465): apparmor="DENIED" operation="open" profile="docker-default" name="/sys/fs/cgroup/docker/9f8e7d6c5b4a/memory.max" comm="sh" other="/sys/fs/cgroup/lxc.payload.webshop-ct/cgroup.procs" pod="/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod3f1c2d4e_5a6b_4c7d_8e9f_0a1b2c3d4e5f.slice/cpu.max""#.to_string(),
        ),
    ]
}

fn groups() -> Vec<GroupData> {
    let mut sample = BTreeMap::new();
    sample.insert("FSUID".to_string(), "alice42".to_string());
    sample.insert("OUID".to_string(), "alice42".to_string());
    sample.insert("node".to_string(), "db-prod-7.corp.example".to_string());
    sample.insert("hwaddr".to_string(), "de:ad:be:ef:00:42".to_string());
    sample.insert("password".to_string(), "hunter2hunter2".to_string());
    sample.insert("ticket".to_string(), "ACME-123456".to_string());
    let mut extra = BTreeMap::new();
    extra.insert("peer_addr".to_string(), "198.51.100.23".to_string());
    extra.insert("token".to_string(), "AKIAIOSFODNN7EXAMPLE".to_string());
    extra.insert(
        "gh".to_string(),
        "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789".to_string(),
    );
    let mut out = vec![
        GroupData {
            id: "G1".into(),
            profile: "/usr/bin/webshop".into(),
            class: "file".into(),
            operation: "open".into(),
            mode: "DENIED".into(),
            resource: "/home/alice42/.config/webshop/alice@corp.example.json".into(),
            mask: "r".into(),
            count: 7,
            comms: vec!["webshop".into(), "alice42-sync".into()],
            sample: vec![sample],
            extra,
            ..GroupData::default()
        },
        GroupData {
            id: "G2".into(),
            profile: ":lxd-webshop_<var-snap-lxd-common-lxd>:/usr/sbin/nginx".into(),
            class: "net".into(),
            operation: "connect".into(),
            mode: "DENIED".into(),
            resource: "203.0.113.77 -> [2001:db8:85a3::8a2e:370:7334]:5432".into(),
            mask: "send".into(),
            count: 3,
            ..GroupData::default()
        },
        GroupData {
            id: "G3".into(),
            profile: "/usr/bin/webshop".into(),
            class: "file".into(),
            operation: "open".into(),
            mode: "DENIED".into(),
            resource: "/var/log/journal/4c4c4544003510548053b4c04f4e4d32/system.journal".into(),
            mask: "r".into(),
            count: 1,
            ..GroupData::default()
        },
    ];
    for (i, (framing, line)) in raw_lines().into_iter().enumerate() {
        let mut extra = BTreeMap::new();
        extra.insert(format!("{framing}_line"), line);
        out.push(GroupData {
            id: format!("G{}", i + 4),
            profile: "/usr/bin/webshop".into(),
            class: "file".into(),
            operation: "open".into(),
            mode: "DENIED".into(),
            resource: "/var/log/pods/shop-prod_cart-7d9f_3f2a9c1e-7b4d-4e2a-9f0c-1234567890ab/x"
                .into(),
            mask: "r".into(),
            count: 1,
            extra,
            ..GroupData::default()
        });
    }
    out
}

fn redact_config() -> RedactConfig {
    RedactConfig {
        patterns: vec![Regex::new(r"ACME-[0-9]{6}").unwrap()],
    }
}

fn assert_clean(what: &str, text: &str) {
    let leaked: Vec<&str> = SECRETS
        .iter()
        .copied()
        .filter(|s| text.contains(s))
        .collect();
    assert!(leaked.is_empty(), "{what} leaks {leaked:?}:\n{text}");
}

#[test]
fn raw_lines_of_every_framing_are_clean() {
    let mut red = Redactor::new(redact_config());
    for (_, line) in raw_lines() {
        red.learn_str(&line);
    }
    for (framing, line) in raw_lines() {
        let out = red.redact_str(&line);
        assert_clean(framing, &out);
        // The structure survives: audit keys are still there for a model to read.
        assert!(
            out.contains("apparmor=") || framing.starts_with("cmdline"),
            "{out}"
        );
    }
}

#[tokio::test]
async fn no_seeded_secret_reaches_the_server() {
    let server = MockServer::start().await;
    let answer = json!({
        "proposals": [{"profile": "/usr/bin/webshop", "rule": "owner @{HOME}/.config/webshop/EMAIL_1 r,", "evidence": ["G1"], "rationale": "USER_1 config", "risk": "low"}],
        "explanations": [{"group": "G2", "text": "nginx in NS_1 connects to IP6_1"}]
    });
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "x", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.to_string()}, "finish_reason": "stop"}]
        })))
        .mount(&server)
        .await;

    let mut red = Redactor::new(redact_config());
    for task in [Task::Explain, Task::Draft] {
        let planner = Planner::new(
            Templates::default(),
            TokenCounter::for_model("gpt-4o-mini"),
            PlannerOptions {
                task,
                max_prompt_tokens: 3_000,
                max_samples: 3,
                ..PlannerOptions::default()
            },
        );
        let batches = planner.plan(&groups(), &[], &mut red).unwrap();
        assert!(!batches.is_empty());
        let transcript = tempfile::NamedTempFile::new().unwrap();
        let client = Client::with_key(
            LlmConfig {
                cache_dir: None,
                transcript: Some(transcript.path().to_path_buf()),
                ..LlmConfig::new(format!("{}/v1", server.uri()), "gpt-4o-mini")
            },
            Some(ApiKey::new("sk-leaktest-key-000000000000")),
        )
        .unwrap();
        let run = client
            .run_batches(&batches, None, std::future::pending())
            .await;
        for (_, r) in run.replies {
            let mut reply = r.unwrap();
            if reply.parsed.proposals.is_empty() {
                continue;
            }
            reply.parsed.restore(&red);
            assert_eq!(
                reply.parsed.proposals[0].item.rule,
                "owner @{HOME}/.config/webshop/alice@corp.example.json r,"
            );
        }
        assert_clean(
            "transcript",
            &std::fs::read_to_string(transcript.path()).unwrap(),
        );
    }
    let reqs = server.received_requests().await.unwrap();
    assert!(reqs.len() >= 2);
    for r in &reqs {
        let body = String::from_utf8_lossy(&r.body);
        assert_clean("request body", &body);
        // Everything was sent, just pseudonymised.
        assert!(
            body.contains("USER_1") && body.contains("@{HOME}"),
            "{body}"
        );
    }
    // The map a pack would carry restores everything.
    let map = red.map();
    for s in ["alice42", "203.0.113.77", "ACME-123456"] {
        assert!(map.entries.iter().any(|e| e.value == s), "{s} not in map");
    }
}

/// A literal pseudonym-shaped text in the input (`USER_1` in a file name) is itself hidden
/// behind a pseudonym, so the model's answer restores it as `USER_1` and not as the real user
/// who was given `USER_1`.
#[test]
fn literal_pseudonyms_round_trip_exactly() {
    let mut red = Redactor::new(RedactConfig::default());
    let lines = [
        r#"apparmor="DENIED" name="/srv/share/USER_1/report-HOST_2.txt" FSUID="alice42" node=db-prod-7"#,
        r#"apparmor="DENIED" name="/srv/share/alice42/USER_1" comm="IP4_1""#,
    ];
    for l in lines {
        red.learn_str(l);
    }
    for l in lines {
        let out = red.redact_str(l);
        assert!(
            !out.contains("alice42") && !out.contains("db-prod-7"),
            "{out}"
        );
        assert_eq!(red.restore_str(&out), l, "round trip of {out}");
    }
    // Only tokens this run issued are restored; others stay as they are.
    assert_eq!(red.restore_str("USER_99 HOST_77"), "USER_99 HOST_77");
}

/// A user name learned from a home directory is not replaced in unrelated paths: a home at
/// `/home/etc` does not turn `/etc/` into a pseudonym, and ordinary system paths survive.
#[test]
fn home_names_do_not_pseudonymise_unrelated_paths() {
    let mut red = Redactor::new(RedactConfig::default());
    let lines = [
        "name=\"/home/etc/y\" other=\"/etc/ssl/certs/ca.pem\"",
        "name=\"/usr/lib/x86_64-linux-gnu/libssl.so.3\" lib=\"/home/lib/z\" share=\"/home/share/q\"",
        "name=\"/usr/share/fonts/x.ttf\" proc=\"/proc/1/environ\"",
    ];
    for l in lines {
        red.learn_str(l);
    }
    let out: Vec<String> = lines.iter().map(|l| red.redact_str(l)).collect();
    assert_eq!(
        out[0], "name=\"@{HOME}/y\" other=\"/etc/ssl/certs/ca.pem\"",
        "{out:?}"
    );
    assert!(
        out[1].contains("/usr/lib/x86_64-linux-gnu/libssl.so.3"),
        "{out:?}"
    );
    assert_eq!(out[2], lines[2]);
}
