#!/usr/bin/env bash
# Memory bound under churn: fills `varyedge proxy --capacity CAP` with distinct small
# entries (every request a new URL, 5-byte body) with wrk for SECS seconds, or, with
# -N STORES, until the proxy has stored STORES responses (SECS is then the time limit),
# then prints requests sent, stores, entries held, bytes the weigher counts, and the
# proxy's RSS and peak RSS (VmHWM).
#
#   benches/soak/mem.sh [-c CAP] [-d SECS] [-N STORES] [-b BIN] [-n CONNS]
#
# Loopback only; stops what it starts (by PID). Needs wrk and curl.
set -euo pipefail
CAP=64MiB DUR=30 BIN= CONNS=32 STORES=0
while getopts "c:d:N:b:n:" o; do
    case $o in
        c) CAP=$OPTARG ;; d) DUR=$OPTARG ;; N) STORES=$OPTARG ;; b) BIN=$OPTARG ;; n) CONNS=$OPTARG ;;
        *) echo "usage: $0 [-c CAP] [-d SECS] [-N STORES] [-b BIN] [-n CONNS]" >&2; exit 2 ;;
    esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$HERE/../../target/release/varyedge}
CAPACITY="$CAP"
. "$HERE/proxy-lib.sh"
wrk -t2 -c"$CONNS" -d"${DUR}s" -s "$HERE/unique.lua" "http://$PROXY/" >"$WORK/wrk.out" &
WRK=$! PIDS+=($!)
if [ "$STORES" -gt 0 ]; then
    while kill -0 "$WRK" 2>/dev/null; do
        sleep 1
        n=$(curl -s "http://$PROXY/.varyedge/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["stores"])')
        # SIGINT: wrk stops and prints its summary
        if [ "$n" -ge "$STORES" ]; then kill -INT "$WRK" 2>/dev/null || true; break; fi
    done
fi
wait "$WRK" || true
sent=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
errors=$(grep -E "Non-2xx|Socket errors" "$WORK/wrk.out" || true)
stats=$(curl -s "http://$PROXY/.varyedge/stats")
rss_kib=$(awk '/VmRSS/ {print $2}' /proc/$PROXY_PID/status)
hwm_kib=$(awk '/VmHWM/ {print $2}' /proc/$PROXY_PID/status)
python3 - "$sent" "$rss_kib" "$hwm_kib" "$CAP" "$errors" <<PY
import json, sys
s = json.loads('''$stats''')["stats"]
sent, rss, hwm = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(f"capacity {sys.argv[4]}: requests sent {sent}, stores {s['stores']}, entries held {s['entries']}, "
      f"weighed bytes {s['bytes']} ({s['bytes']/max(s['entries'],1):.0f} B/entry), "
      f"RSS {rss/1024:.1f} MiB (peak {hwm/1024:.1f} MiB), evictions {s['evictions']}")
if sys.argv[5]: print("wrk:", sys.argv[5])
PY
