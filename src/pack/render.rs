//! The travelling files: a Markdown prompt per batch and its Batch API request line.

use crate::prompt::Batch;

/// The endpoint every Batch API request names.
pub const BATCH_API_URL: &str = "/v1/chat/completions";

/// One line of `requests.jsonl`: the OpenAI Batch API input format.
pub fn request_line(custom_id: &str, body: &serde_json::Value) -> String {
    // Written by hand to keep the documented key order (`json!` sorts keys).
    let q = |s: &str| serde_json::to_string(s).expect("a string serializes");
    format!(
        "{{\"custom_id\":{},\"method\":\"POST\",\"url\":{},\"body\":{}}}",
        q(custom_id),
        q(BATCH_API_URL),
        body
    )
}

/// A fence longer than any backtick run in `text` (at least three).
fn fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

/// The Markdown file of batch number `n` of `total`, ready to paste into a chat assistant.
/// `dir_label` is how the ingest command names the pack directory.
pub fn render_markdown(b: &Batch, n: usize, total: usize, dir_label: &str) -> String {
    let schema = crate::prompt::ANSWER_SCHEMA.trim_end();
    let first_group = b.group_ids.first().map(String::as_str).unwrap_or("G1");
    let first_profile = b
        .sent_profiles
        .first()
        .map(String::as_str)
        .unwrap_or("PROFILE");
    let q = |s: &str| serde_json::to_string(s).expect("a string serializes");
    let example = format!(
        "{{\n  \"proposals\": [\n    {{\n      \"profile\": {p},\n      \"rule\": \"/path/the/program/needs r,\",\n      \"evidence\": [{g}],\n      \"rationale\": \"why this rule is needed and minimal\",\n      \"risk\": \"low\"\n    }}\n  ],\n  \"explanations\": [\n    {{ \"group\": {g}, \"text\": \"what happened and why\" }}\n  ]\n}}",
        p = q(first_profile),
        g = q(first_group),
    );
    let system = b.system.trim_end();
    let user = b.user.trim_end();
    let sf = fence(system);
    let uf = fence(user);
    let groups = if b.group_ids.is_empty() {
        "none".to_string()
    } else {
        b.group_ids.join(", ")
    };
    format!(
        "# aa-assist prompt pack: batch {id} of {total} (task: {task})

Batch `{id}` ({n} of {total}), {tokens} prompt tokens, groups: {groups}.

## How to use this file

1. Start a new conversation with a chat assistant. Paste the **instructions** below as the
   system prompt if the assistant lets you set one; otherwise paste them first. Then paste the
   **request**. Paste only the text inside the fences.
2. Copy the assistant's whole reply into a text file named `{id}.txt` in the directory
   `{answers}/` of this pack (create it if needed). Prose around the JSON is fine.
3. Back on the host that made this pack, from the directory that holds `{dir}`, run:

   ```sh
   aa-assist ingest --pack {dir} {dir}/{answers}/
   ```

   Every proposed rule is cross-checked against the real audit log and shown to you as a
   profile diff; nothing is written without your approval.

Names such as `USER_1`, `HOST_1` or `SECRET_1` are pseudonyms for redacted values; the
answer must keep them verbatim. Only this file (or `requests.jsonl`) needs to travel.

## Instructions (system prompt)

{sf}text
{system}
{sf}

## Request

{uf}text
{user}
{uf}

## Answer format

Answer with exactly one JSON object in a ```` ```json ```` code block, valid against this
JSON Schema:

```json
{schema}
```

For example:

```json
{example}
```
",
        id = b.id,
        task = b.task.name(),
        tokens = b.tokens,
        answers = super::ANSWERS_DIR,
        dir = dir_label,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fences_outgrow_backtick_runs() {
        assert_eq!(fence("abc"), "```");
        assert_eq!(fence("a ```` b"), "`````");
    }

    #[test]
    fn request_line_has_the_batch_api_shape() {
        let line = request_line("B1", &json!({"model": "m"}));
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["custom_id"], "B1");
        assert_eq!(v["method"], "POST");
        assert_eq!(v["url"], BATCH_API_URL);
        assert_eq!(v["body"]["model"], "m");
    }
}
