#!/usr/bin/env bash
# readme-commands.sh: the commands README.md promises a newcomer, extracted from README.md
# itself so that the README stays the single source of truth.
#
# A command lives in README.md between two HTML comments:
#
#   <!-- readme-command: NAME [ok-exit=0,1] -->
#   ```sh
#   # comment lines are skipped
#   cargo run -- something \
#       --continued-on-the-next-line
#   ```
#   <!-- /readme-command -->
#
# Fence and comment lines are dropped and backslash continuations joined; exactly one command
# must remain. `ok-exit` lists the exit codes that count as success (default 0), e.g. `tune`
# exits 1 when it has proposals, which is what the main command is for.
#
# Usage:
#   scripts/readme-commands.sh list          names of the commands
#   scripts/readme-commands.sh print NAME    the command, on one line
#   scripts/readme-commands.sh ok-exit NAME  the exit codes that count as success
#   scripts/readme-commands.sh run NAME      run it with bash from the repository root
# Environment: README (default: README.md beside this script's directory).
# Exit status: run: 0 when the command exits with an ok code, else 1; 2 on a usage error or
# a README without the named command.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
readme="${README:-$root/README.md}"

die() { echo "readme-commands.sh: $*" >&2; exit 2; }

[ -f "$readme" ] || die "no README at $readme"

# The marker line of NAME, or nothing.
marker() {
    grep -E "^<!-- readme-command: $1( [^>]*)? -->\$" "$readme" || true
}

list() {
    sed -nE 's/^<!-- readme-command: ([A-Za-z0-9_-]+).* -->$/\1/p' "$readme"
}

extract() {
    local name="$1" n
    n="$(marker "$name" | wc -l)"
    [ "$n" -eq 1 ] || die "README.md has $n '<!-- readme-command: $name -->' markers; want exactly one"
    awk -v name="$name" '
        function flush() { if (cur != "") { cmds[++n] = cur; cur = "" } }
        $0 ~ "^<!-- readme-command: " name "( [^>]*)? -->$" { inside = 1; next }
        inside && /^<!-- \/readme-command -->$/ { inside = 0; done = 1; next }
        !inside { next }
        /^```/ { next }
        cont == 0 && /^[ \t]*(#|$)/ { flush(); next }
        {
            line = $0
            if (cont) { sub(/^[ \t]+/, "", line) }
            if (line ~ /\\$/) { sub(/[ \t]*\\$/, " ", line); cur = cur line; cont = 1 }
            else { cur = cur line; cont = 0; flush() }
        }
        END {
            if (!done) { print "readme-commands.sh: README.md: readme-command " name " is not closed by <!-- /readme-command -->" > "/dev/stderr"; exit 2 }
            if (cont) { print "readme-commands.sh: README.md: readme-command " name " ends with a continuation" > "/dev/stderr"; exit 2 }
            if (n != 1) { print "readme-commands.sh: README.md: readme-command " name " holds " n " commands; want exactly one" > "/dev/stderr"; exit 2 }
            print cmds[1]
        }
    ' "$readme"
}

ok_exit() {
    local codes
    codes="$(marker "$1" | sed -nE 's/.* ok-exit=([0-9,]+).*/\1/p')"
    echo "${codes:-0}"
}

cmd="${1:-}"
name="${2:-}"
case "$cmd" in
    list) list ;;
    print) [ -n "$name" ] || die "usage: $0 print NAME"; extract "$name" ;;
    ok-exit) [ -n "$name" ] || die "usage: $0 ok-exit NAME"; marker "$name" | grep -q . || die "no readme-command $name"; ok_exit "$name" ;;
    run)
        [ -n "$name" ] || die "usage: $0 run NAME"
        line="$(extract "$name")"
        codes="$(ok_exit "$name")"
        echo "+ $line" >&2
        cd "$root"
        set +e
        bash -c "$line"
        status=$?
        set -e
        if [[ ",$codes," == *",$status,"* ]]; then
            echo "readme-commands.sh: '$name' exited $status (ok: $codes)" >&2
            exit 0
        fi
        echo "readme-commands.sh: '$name' exited $status, want one of $codes: $line" >&2
        exit 1
        ;;
    *) die "usage: $0 list | print NAME | ok-exit NAME | run NAME" ;;
esac
