#!/usr/bin/env bash
# Alternating A/B of two `varyedge proxy` binaries on one hit workload: CPU per request
# of the proxy process (user + system, from /proc) and req/s, ROUNDS rounds of A then B
# (then B then A, alternating, so a drift in the machine's load hits both alike), each a
# fresh origin + proxy, warmed, then `wrk -t2 -c64 -dSECS`. Prints one line per run and
# the medians. On a shared machine req/s moves with other work; µs of proxy CPU per
# request moves less.
#
#   benches/load/ab.sh [-d SECS] [-r ROUNDS] [-w WORKLOAD] BIN_A BIN_B
#
# WORKLOAD: hit-1k, vary-1x1, vary-1x64, vary-1x1000 or preflight (as in run.sh).
#
# Needs wrk, curl. Ports PORT_BASE+22 and +23 (PORT_BASE default 18200). Stops what it
# starts.
set -euo pipefail
DUR=4 ROUNDS=4 WL=hit-1k
while getopts "d:r:w:" o; do case $o in d) DUR=$OPTARG ;; r) ROUNDS=$OPTARG ;; w) WL=$OPTARG ;; *) exit 2 ;; esac; done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { echo "usage: $0 [-d SECS] [-r ROUNDS] [-w WORKLOAD] BIN_A BIN_B" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=benches/load/lib.sh
. "$HERE/lib.sh"
need "wrk curl" wrk curl
BASE=${PORT_BASE:-18200}
P_ORIGIN=$((BASE + 22)) P_PROXY=$((BASE + 23))
WORK=$(mktemp -d /tmp/varyedge-ab.XXXXXX)
origin_1k "$WORK/origin.yaml"
u=http://127.0.0.1:$P_PROXY/
case $WL in
    hit-1k) ARGS="${u}blob1k" WARM="" ;;
    vary-1x1) ARGS="-s $HERE/keys.lua $u -- get 1 1" WARM="warm-get 1 1" ;;
    vary-1x64) ARGS="-s $HERE/keys.lua $u -- get 1 64" WARM="warm-get 1 64" ;;
    vary-1x1000) ARGS="-s $HERE/keys.lua $u -- get 1 1000" WARM="warm-get 1 1000" ;;
    preflight) ARGS="-s $HERE/keys.lua $u -- pf 1 64" WARM="warm-pf 1 64" ;;
    *) echo "$0: unknown workload '$WL'" >&2; exit 2 ;;
esac
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
one() {
    local bin=$1 o p t0 t1 n
    "$bin" origin "$WORK/origin.yaml" --listen "127.0.0.1:$P_ORIGIN" > "$WORK/origin.log" 2>&1 &
    o=$!; PIDS+=("$o")
    "$bin" proxy --upstream "http://127.0.0.1:$P_ORIGIN" --listen "127.0.0.1:$P_PROXY" \
        "${PROXY_FLAGS[@]}" --max-variants 4096 > "$WORK/proxy.log" 2>&1 &
    p=$!; PIDS+=("$p")
    wait_port "$P_ORIGIN" 100; wait_port "$P_PROXY" 100
    if [ -n "$WARM" ]; then
        # shellcheck disable=SC2086
        LOAD_WARM=1 wrk -t1 -c8 -d3s -s "$HERE/keys.lua" "$u" -- $WARM > /dev/null
    fi
    # shellcheck disable=SC2086
    wrk -t1 -c4 -d1s $ARGS > /dev/null
    t0=$(cpu_ticks "$p")
    # shellcheck disable=SC2086
    wrk -t2 -c64 -d"${DUR}s" $ARGS > "$WORK/wrk.txt"
    t1=$(cpu_ticks "$p")
    kill "$p" "$o"; wait "$p" "$o" 2>/dev/null || true
    n=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
    # µs of proxy CPU per request (clock ticks: 100 per second)
    echo "$(basename "$bin") $n $(awk -v n="$n" -v d="$DUR" -v t=$((t1 - t0)) 'BEGIN {printf "%.0f %.2f", n / d, t * 10000 / n}')"
}
printf '%-24s %10s %10s\n' binary req/s cpu-us/req
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then order="$1 $2"; else order="$2 $1"; fi
    for b in $order; do one "$b" | awk '{printf "%-24s %10s %10s\n", $1, $3, $4}' | tee -a "$WORK/all.txt"; done
done
echo "medians:"
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
for b in "$1" "$2"; do
    n=$(basename "$b")
    q=$(awk -v b="$n" '$1 == b {print $2}' "$WORK/all.txt" | median)
    c=$(awk -v b="$n" '$1 == b {print $3}' "$WORK/all.txt" | median)
    printf '%-24s %10s %10s\n' "$n" "$q" "$c"
done
