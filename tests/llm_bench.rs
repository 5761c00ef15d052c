//! Concurrency benchmark against a delaying server on 127.0.0.1, in its own test binary so
//! that no other test competes for the CPU while it is timed. Numbers go to BENCHMARKS.md
//! ("LLM batching"); run with `cargo test --test llm_bench -- --nocapture`.
// Helpers outside #[test] fns unwrap too: a failed setup should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use aa_assist::llm::{ApiKey, Client, LlmConfig};
use aa_assist::prompt::{Batch, GroupData, Planner, PlannerOptions, Task, Templates, TokenCounter};
use aa_assist::redact::{RedactConfig, Redactor};
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn batches(n: usize) -> Vec<Batch> {
    let groups: Vec<GroupData> = (1..=n)
        .map(|i| GroupData {
            id: format!("G{i}"),
            profile: format!("/usr/bin/svc{i}"),
            class: "file".into(),
            operation: "open".into(),
            mode: "DENIED".into(),
            resource: format!("/etc/svc{i}.conf"),
            mask: "r".into(),
            count: 1,
            ..GroupData::default()
        })
        .collect();
    let planner = Planner::new(
        Templates::default(),
        TokenCounter::for_model("gpt-4o-mini"),
        PlannerOptions {
            task: Task::Draft,
            max_prompt_tokens: 100_000,
            ..PlannerOptions::default()
        },
    );
    let mut red = Redactor::new(RedactConfig::default());
    // One planner call per group gives one batch per group.
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let mut b = planner
                .plan(std::slice::from_ref(g), &[], &mut red)
                .unwrap()
                .remove(0);
            b.id = format!("B{}", i + 1);
            b
        })
        .collect()
}

fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]
    })
}

fn good_answer(batch: &Batch) -> String {
    json!({"proposals": [], "explanations": [{"group": batch.group_ids[0], "text": "reads config"}]}).to_string()
}

fn config(server: &MockServer) -> LlmConfig {
    LlmConfig {
        max_retries: 0,
        timeout: Duration::from_secs(10),
        cache_dir: None,
        ..LlmConfig::new(format!("{}/v1", server.uri()), "test-model")
    }
}

fn client(cfg: LlmConfig) -> Client {
    Client::with_key(cfg, Some(ApiKey::new("sk-bench"))).unwrap()
}

async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap_or_default()
}

/// Benchmark (recorded in BENCHMARKS.md): N batches at concurrency C against a server that
/// delays each answer finish within 1.2 × ⌈N/C⌉ × delay; a rerun with the cache sends 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_bound_and_cached_rerun() {
    let (n, conc, delay) = (16usize, 4usize, Duration::from_millis(400));
    let server = MockServer::start().await;
    let b = batches(n);
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion(&good_answer(&b[0])))
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = LlmConfig {
        concurrency: conc,
        cache_dir: Some(dir.path().to_path_buf()),
        ..config(&server)
    };
    let pb = indicatif::ProgressBar::hidden();
    pb.set_length(n as u64);
    let first = client(cfg.clone());
    let t = Instant::now();
    let run = first
        .run_batches(&b, Some(pb.clone()), std::future::pending())
        .await;
    let took = t.elapsed();
    assert!(run.replies.iter().all(|(_, r)| r.is_ok()));
    assert_eq!(pb.position(), n as u64);
    let bound = delay.mul_f64(1.2 * n.div_ceil(conc) as f64);
    let floor = delay * n.div_ceil(conc) as u32;
    eprintln!("LLM batching: N={n} C={conc} delay={delay:?}: {took:?} (bound {bound:?})");
    assert!(took <= bound, "{took:?} > {bound:?}");
    assert!(
        took >= floor.mul_f64(0.95),
        "concurrency not bounded: {took:?} < {floor:?}"
    );
    let again = client(cfg);
    let t = Instant::now();
    again.run_batches(&b, None, std::future::pending()).await;
    eprintln!(
        "LLM batching: cached rerun {:?}, {} requests",
        t.elapsed(),
        again.stats().requests()
    );
    assert_eq!(again.stats().requests(), 0);
    assert_eq!(requests(&server).await.len(), n);
}
