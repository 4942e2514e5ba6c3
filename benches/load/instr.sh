#!/usr/bin/env bash
# Instructions per request of `varyedge proxy` (user space, counted by valgrind's callgrind):
# a figure that does not depend on what else runs on the machine, unlike req/s and
# req/CPU-s, so two builds can be compared on a busy machine. Kernel work (the socket
# writes and reads, about half of a hit's CPU) is not counted.
#
#   benches/load/instr.sh [-d SECS] BIN [BIN...] -- WORKLOAD...
#
# WORKLOAD: hit-1k, vary-1x1, vary-1x64, vary-1x1000, preflight or miss (as in run.sh).
# For each binary and workload: a fresh `varyedge origin` and `varyedge proxy` (the flags
# of run.sh) under callgrind, every key requested once (keys.lua's warm modes; the run
# fails if fewer requests completed than keys), the counters zeroed, then wrk -t1 -c4 for
# SECS (default 8) and the counters dumped: prints requests, instructions and
# instructions per request (on `miss` every request is a miss; elsewhere all are hits). Needs valgrind (callgrind_control),
# wrk, curl. Ports PORT_BASE+20 and +21 (PORT_BASE default 18200). Stops what it starts.
# KEEP=DIR keeps each run's callgrind dump as DIR/cg.WORKLOAD.BINNAME.out (for
# callgrind_annotate --inclusive=yes); by default the dumps are deleted.
# CACHE_SIM=1 also simulates the data caches and prints misses per request: L1 data read
# misses (D1mr) and misses of a 1 MiB second level (DLmr, DLmw: valgrind's last level set
# to this machine's per-core L2, so they count what a real L2 misses). The proxy then runs
# on one core (`taskset -c 1`: one worker), so the simulated cache sees one thread's
# accesses in order and runs of one build agree.

set -euo pipefail
DUR=8
while getopts "d:" o; do case $o in d) DUR=$OPTARG ;; *) exit 2 ;; esac; done
shift $((OPTIND - 1))
BINS=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do BINS+=("$1"); shift; done
[ $# -gt 0 ] && shift
[ ${#BINS[@]} -gt 0 ] && [ $# -gt 0 ] || { echo "usage: $0 [-d SECS] BIN [BIN...] -- WORKLOAD..." >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=benches/load/lib.sh
. "$HERE/lib.sh"
need "valgrind wrk curl" valgrind callgrind_control wrk curl
BASE=${PORT_BASE:-18200}
P_ORIGIN=$((BASE + 20)) P_PROXY=$((BASE + 21))
WORK=$(mktemp -d /tmp/varyedge-instr.XXXXXX)
origin_1k "$WORK/origin.yaml"

# the warm-up: keys.lua's warm mode (each key once) for keyed workloads, else 200 requests
warm() {
    local u=http://127.0.0.1:$P_PROXY/ n
    case $1 in
        vary-1x1) set -- warm-get 1 1 ;; vary-1x64) set -- warm-get 1 64 ;;
        vary-1x1000) set -- warm-get 1 1000 ;; preflight) set -- warm-pf 1 64 ;;
        *) wrk -t1 -c4 -d2s $(wrk_args "$1") > /dev/null; return 0 ;;
    esac
    # under callgrind a proxy answers ~1,000 hits/s at best, and storing the 1,000th
    # variant of one URL takes far longer than a hit (28 keys/s measured): 8 keys/s
    LOAD_WARM=1 wrk -t1 -c4 -d$((3 + $2 * $3 / 8))s -s "$HERE/keys.lua" "$u" -- "$@" > "$WORK/warm.txt"
    n=$(awk '/requests in/ {print $1}' "$WORK/warm.txt")
    if [ "$n" -lt $(($2 * $3)) ]; then
        echo "$0: warm-up requested $n of $(($2 * $3)) keys" >&2
        exit 1
    fi
}
wrk_args() {
    local u=http://127.0.0.1:$P_PROXY/ s=$HERE/keys.lua
    case $1 in
        hit-1k) echo "${u}blob1k" ;;
        vary-1x1) echo "-s $s $u -- get 1 1" ;; vary-1x64) echo "-s $s $u -- get 1 64" ;;
        vary-1x1000) echo "-s $s $u -- get 1 1000" ;; preflight) echo "-s $s $u -- pf 1 64" ;;
        miss) echo "-s $s $u -- miss 0 0 i$RANDOM" ;;
        *) echo "$0: unknown workload '$1'" >&2; exit 2 ;;
    esac
}

printf '%-12s %-40s %10s %14s %10s\n' workload binary requests instructions per-request
for w in "$@"; do
    args=$(wrk_args "$w")
    for bin in "${BINS[@]}"; do
        "${BINS[0]}" origin "$WORK/origin.yaml" --listen "127.0.0.1:$P_ORIGIN" > "$WORK/origin.log" 2>&1 &
        local_origin=$!
        PIDS+=("$local_origin")
        ${CACHE_SIM:+taskset -c 1} valgrind --tool=callgrind \
            ${CACHE_SIM:+--cache-sim=yes --LL=1048576,16,64} --callgrind-out-file="$WORK/cg.%p" "$bin" proxy \
            --upstream "http://127.0.0.1:$P_ORIGIN" --listen "127.0.0.1:$P_PROXY" \
            "${PROXY_FLAGS[@]}" --max-variants 4096 > "$WORK/proxy.log" 2>&1 &
        vg=$!
        PIDS+=("$vg")
        wait_port "$P_ORIGIN"
        wait_port "$P_PROXY"
        warm "$w"
        callgrind_control -z "$vg" > /dev/null 2>&1
        # shellcheck disable=SC2086
        wrk -t1 -c4 -d"${DUR}s" $args > "$WORK/wrk.txt"
        callgrind_control -d "$vg" > /dev/null 2>&1
        kill "$vg" "$local_origin"
        wait "$vg" "$local_origin" 2>/dev/null || true
        n=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
        ir=$(awk '/^summary:/ {print $2}' "$WORK/cg.$vg.1")
        printf '%-12s %-40s %10s %14s %10s' "$w" "$bin" "$n" "$ir" $((ir / n))
        if [ -n "${CACHE_SIM:-}" ]; then
            # the summary's events, in the order its `events:` line names them
            awk -v n="$n" '/^events:/ {for (i = 2; i <= NF; i++) ev[i] = $i}
                /^summary:/ {for (i = 2; i <= NF; i++) v[ev[i]] = $i}
                END {printf " D1mr=%.1f DLmr=%.1f DLmw=%.1f", v["D1mr"] / n, v["DLmr"] / n, v["DLmw"] / n}' \
                "$WORK/cg.$vg.1"
        fi
        echo
        if [ -n "${KEEP:-}" ]; then
            mv "$WORK/cg.$vg.1" "$KEEP/cg.$w.$(basename "$bin").out"
        fi
        rm -f "$WORK"/cg.*
    done
done
