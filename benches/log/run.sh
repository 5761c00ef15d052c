#!/usr/bin/env bash
# Log-parsing benchmark: aa-assist (parse + group, `denials --json`, on 1 and on 2 threads) against libapparmor's
# C parse_record() in a loop (benches/log/driver.c), on the same generated file, in one run.
#
# Usage: benches/log/run.sh [LINES]        (default 1000000)
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

echo "file: $log ($(wc -l < "$log") lines, $(du -h "$log" | cut -f1)), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
read -r c_wall c_cpu c_rss < <(measure libapparmor "$data/driver" "$log")
read -r r_wall r_cpu r_rss < <(AA_ASSIST_THREADS=1 measure aa-assist "$aa" --quiet denials --json "$log")
read -r p_wall p_cpu p_rss < <(AA_ASSIST_THREADS=2 measure aa-assist-2 "$aa" --quiet denials --json "$log")
cmp -s "$data/aa-assist.out" "$data/aa-assist-2.out" || { echo "2 threads gave different output" >&2; exit 1; }
awk -v n="$lines" -v cw="$c_wall" -v cc="$c_cpu" -v cr="$c_rss" -v rw="$r_wall" -v rc="$r_cpu" -v rr="$r_rss" \
    -v pw="$p_wall" -v pc="$p_cpu" -v pr="$p_rss" 'BEGIN {
    printf "libapparmor parse_record loop: %7.2f s wall %7.2f s CPU %10.0f lines/s  peak RSS %6.1f MiB\n", cw, cc, n / cw, cr / 1024
    printf "aa-assist, AA_ASSIST_THREADS=1: %6.2f s wall %7.2f s CPU %10.0f lines/s  peak RSS %6.1f MiB\n", rw, rc, n / rw, rr / 1024
    printf "aa-assist, AA_ASSIST_THREADS=2: %6.2f s wall %7.2f s CPU %10.0f lines/s  peak RSS %6.1f MiB\n", pw, pc, n / pw, pr / 1024
    printf "speed-up, 1 thread (wall): %.1fx   (CPU time): %.1fx;  2 threads (wall): %.1fx\n", cw / rw, cc / rc, cw / pw
}'
echo "libapparmor driver says: $(cat "$data/libapparmor.out")"
echo "aa-assist groups: $(grep -c '"id": "G' "$data/aa-assist.out")"

# libapparmor 3.0.8 does not know the `class=` key that current kernels write: it gives up on
# those lines at that key (the driver counts them as not events), doing less work per line than
# a parser that reads them whole. The same lines without `class=`, which it parses to the end,
# measure the two on equal work (both numbers go in BENCHMARKS.md).
eq=$data/audit-$lines-noclass.log
[ -s "$eq" ] || sed 's/ class="[a-z_]*"//' "$log" > "$eq"
read -r e_wall e_cpu e_rss < <(measure libapparmor-eq "$data/driver" "$eq")
read -r f_wall f_cpu f_rss < <(AA_ASSIST_THREADS=2 measure aa-assist-eq "$aa" --quiet denials --json "$eq")
awk -v cw="$e_wall" -v pw="$f_wall" -v n="$lines" 'BEGIN {
    printf "without class= (libapparmor parses every AppArmor line whole):\n"
    printf "libapparmor parse_record loop: %7.2f s wall %10.0f lines/s\n", cw, n / cw
    printf "aa-assist, AA_ASSIST_THREADS=2: %6.2f s wall %10.0f lines/s\n", pw, n / pw
    printf "speed-up, 2 threads (wall): %.1fx\n", cw / pw
}'
echo "libapparmor driver says: $(cat "$data/libapparmor-eq.out")"

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
