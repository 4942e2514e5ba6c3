#!/usr/bin/env bash
# Hit-path cost of two builds side by side: binary A and binary B each run `varyedge
# origin` (benches/load/origin.yaml.in rendered) and `varyedge proxy` (as
# benches/load/run.sh starts it), all four at once; then, ROUNDS times, A then B: wrk on
# hit-1k (GET /blob1k) and on vary-1x64 (one URL, 64 Origins through keys.lua). Prints
# per run req/s, p99 and requests per CPU-second of the proxy (utime + stime from
# /proc/PID/stat over the run), then B/A of the medians. req/CPU-s is the figure that
# survives a shared machine best; only ratios of the same run mean anything.
#
#   benches/soak/ab-hits.sh -a BIN_A -b BIN_B [-d SECS] [-r ROUNDS] [-c CONNS]
#
# Loopback only. Ports PORT_BASE..PORT_BASE+3 (default 18450). Stops what it starts.
set -euo pipefail
A= B= DUR=8 ROUNDS=3 CONNS=64
while getopts "a:b:d:r:c:" o; do
    case $o in
        a) A=$OPTARG ;; b) B=$OPTARG ;; d) DUR=$OPTARG ;; r) ROUNDS=$OPTARG ;; c) CONNS=$OPTARG ;;
        *) echo "usage: $0 -a BIN_A -b BIN_B [-d SECS] [-r ROUNDS] [-c CONNS]" >&2; exit 2 ;;
    esac
done
[ -x "$A" ] && [ -x "$B" ] || { echo "$0: -a and -b must name two varyedge binaries" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
BASE=${PORT_BASE:-18450}
. "$HERE/lib.sh"
declare -A PID_OF PORT_OF
start() { # name bin origin_port proxy_port
    "$2" origin "$WORK/origin.yaml" --listen "127.0.0.1:$3" >"$WORK/$1-origin.out" 2>&1 & PIDS+=($!)
    "$2" proxy --upstream "http://127.0.0.1:$3" --listen "127.0.0.1:$4" --profile rfc9111 \
        --cache-options --preflight-key honor --capacity 256MiB --max-variants 4096 \
        >"$WORK/$1-proxy.out" 2>&1 & PIDS+=($!)
    PID_OF[$1]=$! PORT_OF[$1]=$4
    wait_port "$3"; wait_port "$4"
}
start A "$A" "$BASE" $((BASE + 1))
start B "$B" $((BASE + 2)) $((BASE + 3))
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)
for w in A B; do # warm: every key once
    wrk -t1 -c1 -d2s "http://127.0.0.1:${PORT_OF[$w]}/blob1k" >/dev/null 2>&1
    LOAD_WARM=1 wrk -t1 -c8 -d30s -s "$LOAD/keys.lua" "http://127.0.0.1:${PORT_OF[$w]}/" -- warm-get 1 64 >/dev/null 2>&1 || true
done
echo "workload side round req/s p99 req/cpu-s" >"$WORK/rows"
for r in $(seq "$ROUNDS"); do
    for wl in hit-1k vary-1x64; do
        for w in A B; do
            url=http://127.0.0.1:${PORT_OF[$w]}
            c0=$(cpu "${PID_OF[$w]}")
            if [ "$wl" = hit-1k ]; then
                wrk -t2 -c"$CONNS" -d"${DUR}s" --latency "$url/blob1k" >"$WORK/out" 2>&1
            else
                wrk -t2 -c"$CONNS" -d"${DUR}s" --latency -s "$LOAD/keys.lua" "$url/" -- get 1 64 >"$WORK/out" 2>&1
            fi
            c1=$(cpu "${PID_OF[$w]}")
            python3 - "$WORK/out" "$wl" "$w" "$r" "$c0" "$c1" "$TCK" >>"$WORK/rows" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
n = int(re.search(r"(\d+) requests in", t).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
cpu = (int(sys.argv[6]) - int(sys.argv[5])) / int(sys.argv[7])
print(sys.argv[2], sys.argv[3], sys.argv[4], f"{rps:.0f}", f"{p99:.2f}", f"{n / max(cpu, 1e-9):.0f}")
PY
        done
    done
done
for p in $BASE $((BASE + 2)); do
    echo "origin :$p answered $(curl -s "http://127.0.0.1:$p/.varyedge/stats" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin).values()))') requests"
done
column -t "$WORK/rows"
python3 - "$WORK/rows" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]).read().splitlines()[1:]]
for wl in ("hit-1k", "vary-1x64"):
    med = {}
    for side in "AB":
        rs = [r for r in rows if r[0] == wl and r[1] == side]
        med[side] = [statistics.median(float(r[i]) for r in rs) for i in (3, 4, 5)]
    a, b = med["A"], med["B"]
    print(f"{wl}: medians A {a[0]:.0f} req/s, p99 {a[1]:.2f} ms, {a[2]:.0f} req/cpu-s; "
          f"B {b[0]:.0f} req/s, p99 {b[1]:.2f} ms, {b[2]:.0f} req/cpu-s; "
          f"B/A req/s {b[0]/a[0]:.3f}, req/cpu-s {b[2]/a[2]:.3f}")
PY
