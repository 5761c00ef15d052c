#!/usr/bin/env bash
# Log-parsing benchmark: aa-assist (parse + group, `denials --json`, on 1 and on 2 threads) against libapparmor's
# C parse_record() in a loop (benches/log/driver.c), on the same generated file, in one run.
#
# Usage: benches/log/run.sh [LINES]        (default 1000000)
#        RUNS=5 benches/log/run.sh         runs per program (default 3; the fastest is compared)
#        BIG=1 benches/log/run.sh          also measures aa-assist's peak RSS on a ~1 GB log
# Needs: cc, pkg-config, Debian's libapparmor-dev (apt-get install libapparmor-dev), GNU time.
# Data goes to benches/data/ (git-ignored). Prints lines/s and peak RSS for both.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
lines=${1:-1000000}
data=$root/benches/data
mkdir -p "$data"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

cargo build --quiet --release --manifest-path "$root/Cargo.toml" --bin aa-assist --example log-gen
aa=$CARGO_TARGET_DIR/release/aa-assist
gen=$CARGO_TARGET_DIR/release/examples/log-gen
cc -O2 -o "$data/driver" "$root/benches/log/driver.c" $(pkg-config --cflags --libs libapparmor)

log=$data/audit-$lines.log
[ -s "$log" ] || "$gen" "$lines" "$log"

# measure NAME CMD...: run under /usr/bin/time -v, print wall seconds, CPU seconds
# (user + sys) and peak RSS (KiB). `denials` exits 1 when it finds denials: not a failure.
measure() {
    local name=$1; shift
    local t=$data/$name.time
    /usr/bin/time -v "$@" > "$data/$name.out" 2> "$t" || true
    local wall cpu rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$t")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$t")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
    echo "$wall $cpu $rss"
}

# sample NAME CMD...: one `measure` of CMD, appended to $data/NAME.samples.
sample() {
    local name=$1; shift
    measure "$name" "$@" >> "$data/$name.samples"
}

# best NAME: the fastest sample's wall and CPU seconds, the median wall, the largest RSS (KiB).
best() {
    sort -n -k1 "$data/$1.samples" | awk '{ w[NR] = $1; c[NR] = $2; if ($3 > r) r = $3 }
        END { print w[1], c[1], w[int((NR + 1) / 2)], r }'
}

# libapparmor 3.0.8 does not know the `class=` key that current kernels write: it gives up on
# those lines at that key (the driver counts them as not events), doing less work per line than
# a parser that reads them whole. The same lines without `class=`, which it parses to the end,
# measure the two on equal work; both comparisons are printed (and go in BENCHMARKS.md).
eq=$data/audit-$lines-noclass.log
[ -s "$eq" ] || sed 's/ class="[a-z_]*"//' "$log" > "$eq"

# Every program runs RUNS times (default 3), in turn, so that a burst of load on a shared
# machine falls on all of them; the fastest run of each is compared, the median shown.
runs=${RUNS:-3}
echo "file: $log ($(wc -l < "$log") lines, $(du -h "$log" | cut -f1)), $(nproc) CPUs, $runs runs each, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in libapparmor aa-assist aa-assist-2 libapparmor-eq aa-assist-eq; do : > "$data/$n.samples"; done
for _ in $(seq "$runs"); do
    sample libapparmor "$data/driver" "$log"
    AA_ASSIST_THREADS=1 sample aa-assist "$aa" --quiet denials --json "$log"
    AA_ASSIST_THREADS=2 sample aa-assist-2 "$aa" --quiet denials --json "$log"
    cmp -s "$data/aa-assist.out" "$data/aa-assist-2.out" || { echo "2 threads gave different output" >&2; exit 1; }
    sample libapparmor-eq "$data/driver" "$eq"
    AA_ASSIST_THREADS=2 sample aa-assist-eq "$aa" --quiet denials --json "$eq"
done
read -r c_wall c_cpu c_med c_rss < <(best libapparmor)
read -r r_wall r_cpu r_med r_rss < <(best aa-assist)
read -r p_wall p_cpu p_med p_rss < <(best aa-assist-2)
read -r e_wall e_cpu e_med e_rss < <(best libapparmor-eq)
read -r f_wall f_cpu f_med f_rss < <(best aa-assist-eq)
echo "end load: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v n="$lines" -v cw="$c_wall" -v cc="$c_cpu" -v cm="$c_med" -v cr="$c_rss" \
    -v rw="$r_wall" -v rc="$r_cpu" -v rm="$r_med" -v rr="$r_rss" \
    -v pw="$p_wall" -v pc="$p_cpu" -v pm="$p_med" -v pr="$p_rss" \
    -v ew="$e_wall" -v em="$e_med" -v fw="$f_wall" -v fm="$f_med" 'BEGIN {
    f = "%-32s %6.2f s wall (median %5.2f) %6.2f s CPU %9.0f lines/s  peak RSS %5.1f MiB\n"
    printf f, "libapparmor parse_record loop:", cw, cm, cc, n / cw, cr / 1024
    printf f, "aa-assist, AA_ASSIST_THREADS=1:", rw, rm, rc, n / rw, rr / 1024
    printf f, "aa-assist, AA_ASSIST_THREADS=2:", pw, pm, pc, n / pw, pr / 1024
    printf "speed-up, 1 thread (wall): %.1fx   (CPU time): %.1fx;  2 threads (wall): %.1fx (medians: %.1fx)\n", cw / rw, cc / rc, cw / pw, cm / pm
    printf "same lines without class= (libapparmor parses every AppArmor line to the end):\n"
    printf "libapparmor %.2f s wall (median %.2f), aa-assist 2 threads %.2f s (median %.2f): %.1fx (medians: %.1fx)\n", ew, em, fw, fm, ew / fw, em / fm
}'
echo "libapparmor driver says: $(cat "$data/libapparmor.out")"
echo "           without class=: $(cat "$data/libapparmor-eq.out")"
echo "aa-assist groups: $(grep -c '"id": "G' "$data/aa-assist.out"), without class=: $(grep -c '"id": "G' "$data/aa-assist-eq.out")"

if [ "${BIG:-0}" = 1 ]; then
    bytes=$(stat -c %s "$log")
    big_lines=$(( 1073741824 * lines / bytes ))
    big=$data/audit-1GiB.log
    [ -s "$big" ] || "$gen" "$big_lines" "$big"
    echo "big file: $big ($big_lines lines, $(du -h "$big" | cut -f1))"
    for t in 1 2; do
        read -r b_wall b_cpu b_rss < <(AA_ASSIST_THREADS=$t measure aa-assist-big "$aa" --quiet denials --json "$big")
        awk -v t="$t" -v n="$big_lines" -v w="$b_wall" -v c="$b_cpu" -v r="$b_rss" 'BEGIN {
            printf "aa-assist on 1 GiB, %d thread(s): %.2f s wall  %.2f s CPU  %.0f lines/s  peak RSS %.1f MiB\n", t, w, c, n / w, r / 1024 }'
    done
fi
