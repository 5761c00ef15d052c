#!/usr/bin/env bash
# e2e-llm.sh: aa-assist against a real local model (Gemma 3 270M on llama.cpp), end to end.
#
# What it checks (structure, never wording: the model's answers are nonsense):
#   1. `aa-assist explain --llm … examples/pidcache/audit.log` exits 0 or 1, prints something,
#      and really sent chat completions to the server.
#   2. `aa-assist tune examples/pidcache/profile/usr.sbin.exampled --log … -d … --llm …
#      --dry-run --json` exits 0 or 1; its stdout is one JSON document; it holds at least one
#      proposal; every proposal has a source in drafter/model/human; every proposal whose
#      "source" is "model" has a "verdict" in ok/review/blocked, and never "ok" (SECURITY.md:
#      a model's rule is never better than review); it really sent chat completions.
#   3. Neither command changed anything under examples/pidcache/ (sha256 of every file, and
#      the file list), and the fake API key appears in no output.
# The server is stopped on exit, whatever happens (trap).
#
# Usage: scripts/e2e-llm.sh
# Environment:
#   AA_ASSIST_BIN          aa-assist binary to test (default: `cargo build`, then
#                          ${CARGO_TARGET_DIR:-target}/debug/aa-assist)
#   AA_E2E_CACHE           cache dir for scripts/llm-server.sh (default /var/cache/aa-assist-e2e)
#   AA_E2E_CMD_TIMEOUT     seconds each aa-assist command may take (default 900)
#   AA_E2E_REQUIRE_MODEL   1: also require at least one proposal with "source":"model"
#   AA_E2E_KEEP            1: keep the work dir (outputs and server log) after the run
#   AA_E2E_LLM_FLAGS       model flags for both commands (default fits the 4096-token
#                          context of the tiny model and its `gemma` chat format:
#                          --max-prompt-tokens 2000 --max-tokens 300 --system-in-user
#                          --timeout 600 --no-cache)
# Exit status: 0 all checks passed, 1 a check failed, 2 the harness itself failed.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SERVER="$ROOT/scripts/llm-server.sh"
MODEL_ALIAS="gemma3-270m"
CMD_TIMEOUT="${AA_E2E_CMD_TIMEOUT:-900}"
SCEN="examples/pidcache"
PROFILE="$SCEN/profile/usr.sbin.exampled"
LOG="$SCEN/audit.log"

export OPENAI_API_KEY="sk-fake-e2e"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aa-e2e-llm.XXXXXX")
export AA_LLM_STATE_DIR="$WORK/server"
FAILURES=0

say() { printf 'e2e-llm: %s\n' "$*" >&2; }
fail() {
    say "FAIL: $*"
    FAILURES=$((FAILURES + 1))
}
harness_error() {
    say "error: $*"
    exit 2
}

cleanup() {
    local rc=$?
    "$SERVER" stop >/dev/null 2>&1 || say "warning: stopping the server failed"
    if [[ "${AA_E2E_KEEP:-0}" == 1 ]]; then
        say "work dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# sha256 of every file under a directory, with its path: catches edits, new and removed files.
tree_digest() {
    find "$1" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
}

completions_so_far() {
    grep -c 'POST /v1/chat/completions HTTP/1.1" 200' "$AA_LLM_STATE_DIR/server.log" 2>/dev/null || true
}

# Run one aa-assist command: stdout, stderr and exit status land in $WORK/NAME.{out,err,rc}.
run_aa() {
    local name=$1 rc=0
    shift
    say "running: aa-assist $*"
    timeout "$CMD_TIMEOUT" "$BIN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
    printf '%s\n' "$rc" >"$WORK/$name.rc"
    say "$name: exit $rc, $(wc -c <"$WORK/$name.out") bytes out, $(wc -c <"$WORK/$name.err") bytes err"
    return 0
}

check_common() {
    local name=$1 before=$2 rc after
    rc=$(<"$WORK/$name.rc")
    case "$rc" in
    0 | 1) ;;
    124) fail "$name: timed out after $CMD_TIMEOUT s" ;;
    *) fail "$name: exit status $rc (0 clean or 1 findings expected); stderr:
$(tail -n 20 "$WORK/$name.err")" ;;
    esac
    [[ -s "$WORK/$name.out" ]] || fail "$name: printed nothing on stdout"
    if grep -q 'panicked at' "$WORK/$name.err"; then fail "$name: panicked"; fi
    if grep -qF "$OPENAI_API_KEY" "$WORK/$name.out" "$WORK/$name.err"; then
        fail "$name: the API key appears in its output"
    fi
    after=$(completions_so_far)
    if ((after <= before)); then
        fail "$name: got no successful (HTTP 200) chat completion from the model server"
    else
        say "$name: $((after - before)) chat completion(s) served"
    fi
}

# ---- build -------------------------------------------------------------------------------
if [[ -n "${AA_ASSIST_BIN:-}" ]]; then
    BIN=$AA_ASSIST_BIN
else
    say "building aa-assist"
    cargo build --quiet --bin aa-assist || harness_error "cargo build failed"
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/aa-assist"
fi
[[ -x "$BIN" ]] || harness_error "no aa-assist binary at $BIN"
for f in "$PROFILE" "$LOG"; do [[ -f "$f" ]] || harness_error "missing $f"; done

# ---- server ------------------------------------------------------------------------------
"$SERVER" setup || harness_error "llm-server.sh setup failed"
PORT=""
for _ in 1 2 3; do
    PORT=$(free_port)
    if "$SERVER" start "$PORT"; then break; fi
    PORT=""
done
[[ -n "$PORT" ]] || harness_error "could not start the model server"
BASE_URL="http://127.0.0.1:$PORT/v1"

DIGEST_BEFORE=$(tree_digest "$SCEN")
read -r -a LLM_FLAGS <<<"${AA_E2E_LLM_FLAGS:---max-prompt-tokens 2000 --max-tokens 300 --system-in-user --timeout 600 --no-cache}"

# ---- 1. explain --------------------------------------------------------------------------
n0=$(completions_so_far)
run_aa explain explain --llm --base-url "$BASE_URL" --model "$MODEL_ALIAS" "${LLM_FLAGS[@]}" "$LOG"
check_common explain "$n0"

# ---- 2. tune --dry-run --json ------------------------------------------------------------
n0=$(completions_so_far)
run_aa tune tune "$PROFILE" --log "$LOG" -d "$SCEN/profile" --llm --base-url "$BASE_URL" \
    --model "$MODEL_ALIAS" "${LLM_FLAGS[@]}" --dry-run --json
check_common tune "$n0"

if ! python3 - "$WORK/tune.out" "${AA_E2E_REQUIRE_MODEL:-0}" <<'PY'; then
import json
import sys

path, require_model = sys.argv[1], sys.argv[2] == "1"
problems = []
try:
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
except (OSError, ValueError) as e:
    print(f"tune --json: stdout is not one JSON document: {e}", file=sys.stderr)
    sys.exit(1)

VERDICTS = {"ok", "review", "blocked"}
SOURCES = {"drafter", "model", "human"}
proposals = []  # (where, proposal, verdict or None)


def walk(node, parent, where):
    """Find proposals wherever the report puts them: a proposal is an object with a "rule"
    and a "source"; its verdict is its own "verdict" or that of the object holding it (the
    cross-check's {"proposal": {...}, "verdict": ...})."""
    if isinstance(node, dict):
        if "rule" in node and "source" in node:
            verdict = node.get("verdict")
            if verdict is None and isinstance(parent, dict):
                verdict = parent.get("verdict")
            proposals.append((where, node, verdict))
        for k, v in node.items():
            walk(v, node, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, parent, f"{where}[{i}]")


walk(report, None, "$")
if not proposals:
    problems.append("no proposal anywhere in the report (the pidcache log has uncovered events)")
n_model = 0
for where, p, verdict in proposals:
    src = p.get("source")
    if src not in SOURCES:
        problems.append(f"{where}: source {src!r} is not one of {sorted(SOURCES)}")
    if not isinstance(p.get("rule"), str) or not p["rule"].strip():
        problems.append(f"{where}: empty or non-string rule")
    if src == "model":
        n_model += 1
        if verdict not in VERDICTS:
            problems.append(f"{where}: model proposal {p.get('rule')!r} has verdict {verdict!r}")
        elif verdict == "ok":
            problems.append(f"{where}: model proposal {p.get('rule')!r} has verdict 'ok' "
                            "(a model's rule is never better than review)")
    elif verdict is not None and verdict not in VERDICTS:
        problems.append(f"{where}: verdict {verdict!r} is not one of {sorted(VERDICTS)}")
if require_model and n_model == 0:
    problems.append("no proposal with source 'model' (AA_E2E_REQUIRE_MODEL=1)")
for msg in problems:
    print(f"tune --json: {msg}", file=sys.stderr)
print(f"tune --json: {len(proposals)} proposal(s), {n_model} from the model", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
    fail "tune: JSON report checks"
fi

# ---- 3. nothing written ------------------------------------------------------------------
DIGEST_AFTER=$(tree_digest "$SCEN")
if [[ "$DIGEST_BEFORE" != "$DIGEST_AFTER" ]]; then
    fail "files under $SCEN changed:
$(diff <(printf '%s\n' "$DIGEST_BEFORE") <(printf '%s\n' "$DIGEST_AFTER") || true)"
else
    say "$SCEN unchanged ($(printf '%s\n' "$DIGEST_AFTER" | wc -l) files, sha256)"
fi

if ((FAILURES)); then
    say "$FAILURES check(s) failed (AA_E2E_KEEP=1 keeps outputs and the server log)"
    exit 1
fi
say "all checks passed"
