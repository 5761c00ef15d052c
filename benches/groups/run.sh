#!/usr/bin/env bash
# Distinct-groups benchmark: the cost of `check` and `tune` must stay near-linear in the number
# of distinct event groups, which whoever writes the log chooses. Generates logs with 20,000
# and 100,000 distinct groups for one profile (benches/groups/gen.sh; the profile is
# examples/webserver's) and times, in the same run and in turn,
#   aa-assist --quiet denials --json LOG
#   aa-assist --quiet check PROFILE --log LOG -d DIR --json
#   aa-assist --quiet tune PROFILE --log LOG -d DIR --dry-run --json
# printing each one's fastest wall time (median in brackets), CPU time and peak RSS, and the
# ratios check/denials and tune/denials (goal: ≤ 2 at 100,000 groups).
#
# Usage: benches/groups/run.sh [GROUPS…]     (default: 20000 100000)
#        RUNS=5 benches/groups/run.sh        runs per command (default 3; the fastest is compared)
# Needs: GNU time, awk. Data goes to benches/data/ (git-ignored).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
data=$root/benches/data
mkdir -p "$data"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
cargo build --quiet --release --manifest-path "$root/Cargo.toml" --bin aa-assist
aa=$CARGO_TARGET_DIR/release/aa-assist
dir=$root/examples/webserver/profile
profile=$dir/usr.sbin.examplehttpd
runs=${RUNS:-3}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(20000 100000)

# measure NAME CMD…: append "wall cpu rss" of one run to $data/NAME.samples. check and tune
# exit 1 when something is missing: not a failure.
measure() {
    local name=$1; shift
    local t=$data/$name.time
    /usr/bin/time -v "$@" > "$data/$name.out" 2> "$t" || true
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0
            for (i = 1; i <= n; i++) s = s * 60 + p[i]; w = s }
        /User time|System time/ { c += $2 }
        /Maximum resident set size/ { r = $2 }
        END { print w, c, r }' "$t" >> "$data/$name.samples"
}

# best NAME: fastest wall, its CPU, median wall, largest RSS (KiB).
best() {
    sort -n -k1 "$data/$1.samples" | awk '{ w[NR] = $1; c[NR] = $2; if ($3 > r) r = $3 }
        END { print w[1], c[1], w[int((NR + 1) / 2)], r }'
}

echo "$(nproc) CPUs, $runs runs each, HEAD $(git -C "$root" rev-parse --short HEAD), load: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in "${sizes[@]}"; do
    log=$data/groups-$n.log
    [ -s "$log" ] || "$root/benches/groups/gen.sh" "$n" > "$log"
    for c in denials check tune; do : > "$data/groups-$c.samples"; done
    for _ in $(seq "$runs"); do
        measure groups-denials "$aa" --quiet denials --json "$log"
        measure groups-check "$aa" --quiet check "$profile" --log "$log" -d "$dir" --json
        measure groups-tune "$aa" --quiet tune "$profile" --log "$log" -d "$dir" --dry-run --json
    done
    groups=$(grep -c '"id": "G' "$data/groups-denials.out" || true)
    echo "$log: $(wc -l < "$log") lines, $groups groups; load now: $(cut -d' ' -f1-3 /proc/loadavg)"
    read -r dw dc dm dr < <(best groups-denials)
    read -r cw cc cm cr < <(best groups-check)
    read -r tw tc tm tr < <(best groups-tune)
    awk -v dw="$dw" -v dc="$dc" -v dm="$dm" -v dr="$dr" -v cw="$cw" -v cc="$cc" -v cm="$cm" -v cr="$cr" \
        -v tw="$tw" -v tc="$tc" -v tm="$tm" -v tr="$tr" 'BEGIN {
        f = "  %-22s %6.2f s wall (median %6.2f)  %6.2f s CPU  peak RSS %6.1f MiB\n"
        printf f, "denials --json", dw, dm, dc, dr / 1024
        printf f, "check --json", cw, cm, cc, cr / 1024
        printf f, "tune --dry-run --json", tw, tm, tc, tr / 1024
        printf "  check/denials: %.1fx wall (medians %.1fx, CPU %.1fx);  tune/denials: %.1fx wall (medians %.1fx, CPU %.1fx)\n",
            cw / dw, cm / dm, cc / dc, tw / dw, tm / dm, tc / dc
    }'
done
echo "end load: $(cut -d' ' -f1-3 /proc/loadavg)"
