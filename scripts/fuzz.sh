#!/usr/bin/env bash
# fuzz.sh: run every cargo-fuzz target (or the ones named) for N seconds each, one at a time.
#
# Before each run it fills the target's working corpus fuzz/corpus/TARGET/ (git-ignored) with
# seeds: the hand-written ones committed in fuzz/seeds/TARGET/, the project's own examples/,
# and, when present, cases from the conformance corpus ($AA_CORPUS_DIR, default
# ../shared/corpus). Corpus cases are copied at run time only, never committed. Files that
# are already in the working corpus stay, so repeated runs build on what earlier runs found.
#
# Each run's libFuzzer output goes to fuzz/logs/TARGET-UTCSTAMP.log (git-ignored); the final
# stats (execs, coverage, corpus size) are printed at the end. A crash, timeout or OOM input
# is left in fuzz/artifacts/TARGET/ by libFuzzer; reproduce it with
# `cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/FILE` and shrink it with
# `cargo +nightly fuzz tmin TARGET fuzz/artifacts/TARGET/FILE`.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]     (default: 600 s; all four targets)
#        scripts/fuzz.sh --runs N [TARGET...]      (N executions each, no time limit)
#        scripts/fuzz.sh --seeds-only [TARGET...]  (fill the working corpora, run nothing)
# Environment:
#   FUZZ_SANITIZER     cargo fuzz --sanitizer (default none: the crate forbids unsafe code, so
#                      AddressSanitizer found nothing and cost about ten times the speed;
#                      `address` or `leak` to bring it back, e.g. for threads that leak)
#   AA_CORPUS_DIR      conformance corpus (default ../shared/corpus from the repository root)
#   FUZZ_MAX_LEN       libFuzzer -max_len (default 4096)
#   FUZZ_RSS_LIMIT_MB  libFuzzer -rss_limit_mb (default 2048)
#   FUZZ_TIMEOUT       libFuzzer -timeout, seconds per input (default 10)
#   FUZZ_NICE          nice level for builds and runs (default 19: the machine is shared)
# Needs: a nightly toolchain, cargo-fuzz (`cargo install cargo-fuzz`), jq (for the AARE seeds).
# Exit status: 0 no target failed, 1 a target found a crash/timeout/OOM, 2 usage or build error.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ="$ROOT/fuzz"
CORPUS_SRC=${AA_CORPUS_DIR:-$ROOT/../shared/corpus}
ALL_TARGETS=(profile_parse aare_compile answer_parse log_line)
NICE=${FUZZ_NICE:-19}
SANITIZER=${FUZZ_SANITIZER:-none}

seeds_only=0
seconds=600
runs=-1
if [[ ${1:-} == --seeds-only ]]; then
    seeds_only=1
    shift
elif [[ ${1:-} == --runs && ${2:-} =~ ^[0-9]+$ ]]; then
    runs=$2
    seconds=0
    shift 2
elif [[ ${1:-} =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
elif [[ -n ${1:-} && ${1:-} == -* ]]; then
    echo "usage: $0 [SECONDS] [TARGET...] | --runs N [TARGET...] | --seeds-only [TARGET...]" >&2
    exit 2
fi
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
    [[ -f "$FUZZ/fuzz_targets/$t.rs" ]] || { echo "fuzz.sh: no target $t" >&2; exit 2; }
done

# put DIR FILE: copy FILE into DIR under a name derived from its content.
put() {
    local h
    h=$(sha1sum <"$2" | cut -c1-16)
    cp "$2" "$1/$h"
}

# put_text DIR TEXT: write TEXT into DIR under a name derived from it.
put_text() {
    local h
    h=$(printf '%s' "$2" | sha1sum | cut -c1-16)
    printf '%s' "$2" >"$1/$h"
}

# split_into DIR FILE: FILE in chunks of 20 lines (keeps multi-line context such as ausearch
# blocks and auditd records that share a stamp).
split_into() {
    local tmp
    tmp=$(mktemp -d)
    split -l 20 "$2" "$tmp/c"
    for c in "$tmp"/c*; do put "$1" "$c"; done
    rm -rf "$tmp"
}

seed() {
    local t=$1 dir="$FUZZ/corpus/$1" f
    mkdir -p "$dir"
    if [[ -d "$FUZZ/seeds/$t" ]]; then
        for f in "$FUZZ/seeds/$t"/*; do put "$dir" "$f"; done
    fi
    local have_corpus=0
    [[ -d $CORPUS_SRC ]] && have_corpus=1
    case $t in
    log_line)
        for f in "$ROOT"/examples/*/{audit.log,ausearch.txt,dmesg.txt,kern.log,syslog,journal.json,journal-short.txt}; do
            [[ -f $f ]] && split_into "$dir" "$f"
        done
        if ((have_corpus)); then
            for f in "$CORPUS_SRC"/logs/libapparmor-test_multi/*.in; do put "$dir" "$f"; done
            for f in "$CORPUS_SRC"/logs/apparmor.d-testdata/logs/*; do split_into "$dir" "$f"; done
        fi
        ;;
    profile_parse)
        for f in "$ROOT"/examples/*/profile/*; do put "$dir" "$f"; done
        if ((have_corpus)); then
            while IFS= read -r -d '' f; do put "$dir" "$f"; done < <(
                find "$CORPUS_SRC/profile-parser/simple_tests" "$CORPUS_SRC/profiles/upstream" \
                    -type f -size -8k -print0)
        fi
        ;;
    aare_compile)
        if ((have_corpus)); then
            local line
            # Parser conversion table: the pattern alone.
            while IFS= read -r line; do
                put_text "$dir" "$(printf '%s' "$line" | base64 -d)"
            done < <(jq -r '.[] | .input | @base64' "$CORPUS_SRC/aare/parser-regex-unit-tests.json")
            # Utils match tables: "PATTERN\nPATH".
            while IFS= read -r line; do
                put_text "$dir" "$(printf '%s' "$line" | base64 -d)"
            done < <(jq -r '.[] | objects | .rows? // [] | .[]
                | select((.params | type) == "array" and (.params | length) == 2
                    and (.params[0] | type) == "string" and (.params[1] | type) == "string")
                | "\(.params[0])\n\(.params[1])" | @base64' "$CORPUS_SRC/aare/utils-test-aare.json")
        fi
        ;;
    answer_parse) ;; # the hand-written seeds cover the answer shapes
    esac
    echo "fuzz.sh: $t: $(find "$dir" -type f | wc -l) inputs in fuzz/corpus/$t" >&2
}

for t in "${targets[@]}"; do seed "$t"; done
((seeds_only)) && exit 0

cd "$FUZZ"
mkdir -p logs
status=0
# Scratch files of the targets (log_line's split check writes each input to a file), removed
# at the end.
AA_FUZZ_SCRATCH=$(mktemp -d)
export AA_FUZZ_SCRATCH
trap 'rm -rf "$AA_FUZZ_SCRATCH"' EXIT
for t in "${targets[@]}"; do
    nice -n "$NICE" cargo +nightly fuzz build -s "$SANITIZER" "$t" || exit 2
    log="logs/$t-$(date -u +%Y%m%dT%H%M%SZ).log"
    if ((runs >= 0)); then
        echo "fuzz.sh: running $t for $runs executions, log in fuzz/$log" >&2
    else
        echo "fuzz.sh: running $t for ${seconds}s, log in fuzz/$log" >&2
    fi
    if ! nice -n "$NICE" cargo +nightly fuzz run -s "$SANITIZER" "$t" "corpus/$t" -- \
        -runs="$runs" -max_total_time="$seconds" -max_len="${FUZZ_MAX_LEN:-4096}" \
        -rss_limit_mb="${FUZZ_RSS_LIMIT_MB:-2048}" -timeout="${FUZZ_TIMEOUT:-10}" \
        -print_final_stats=1 >"$log" 2>&1; then
        echo "fuzz.sh: $t FAILED (see fuzz/$log and fuzz/artifacts/$t/)" >&2
        status=1
    fi
    # The last status line and libFuzzer's final stats.
    grep -E '^#[0-9]+' "$log" | tail -n 1 || true
    grep -E '^stat::' "$log" || true
done
exit $status
