#!/usr/bin/env bash
# Bytes per stored entry, measured: fills `varyedge proxy` (a capacity far above what the
# run stores, so nothing is evicted) with distinct small entries (unique.lua: every
# request a new URL, 5-byte body) and samples, each second, the entries held, the bytes
# the weigher counts and the proxy's RSS. Prints the RSS when the store first holds each
# of the LOW and HIGH entry counts, and the slope (RSS(HIGH) - RSS(LOW)) / (HIGH - LOW):
# what one more entry really costs, every allocation and moka's bookkeeping included,
# the process's fixed cost (runtime, stacks, buffers) cancelled out.
#
#   benches/soak/per-entry.sh [-l LOW] [-h HIGH] [-t TIMEOUT_SECS] [-b BIN] [-n CONNS]
#
# Loopback only, ephemeral ports; stops what it starts (by PID). Needs wrk, curl, python3.
# The proxy reaches ~HIGH x 2 KiB of RSS (2 GiB for the default 1M): check `free -m`.
set -euo pipefail
LOW=100000 HIGH=1000000 TIMEOUT=600 BIN= CONNS=32
while getopts "l:h:t:b:n:" o; do
    case $o in
        l) LOW=$OPTARG ;; h) HIGH=$OPTARG ;; t) TIMEOUT=$OPTARG ;; b) BIN=$OPTARG ;; n) CONNS=$OPTARG ;;
        *) echo "usage: $0 [-l LOW] [-h HIGH] [-t TIMEOUT_SECS] [-b BIN] [-n CONNS]" >&2; exit 2 ;;
    esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$HERE/../../target/release/varyedge}
CAPACITY=64GiB
. "$HERE/proxy-lib.sh"
rss() { awk '/VmRSS/ {print $2}' "/proc/$PROXY_PID/status"; }
echo "idle RSS $(rss) KiB"
wrk -t2 -c"$CONNS" -d"${TIMEOUT}s" -s "$HERE/unique.lua" "http://$PROXY/" >"$WORK/wrk.out" 2>&1 &
WRK=$! PIDS+=($!)
low_row= high_row=
for _ in $(seq "$TIMEOUT"); do
    sleep 1
    kill -0 "$WRK" 2>/dev/null || break
    row=$(curl -s "http://$PROXY/.varyedge/stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)["stats"]
print(s["entries"], s["bytes"], s["stores"], s["evictions"])')
    r=$(rss)
    read -r entries bytes stores evictions <<<"$row"
    echo "$entries entries, $bytes B weighed, $stores stores, $evictions evictions, RSS $r KiB" >>"$WORK/samples"
    [ -n "$low_row" ] || [ "$entries" -lt "$LOW" ] || low_row="$entries $bytes $r"
    if [ "$entries" -ge "$HIGH" ]; then high_row="$entries $bytes $r"; break; fi
done
kill "$WRK" 2>/dev/null || true
tail -3 "$WORK/samples"
[ -n "$low_row" ] && [ -n "$high_row" ] || { echo "$0: did not reach $HIGH entries in ${TIMEOUT}s" >&2; exit 1; }
python3 - $low_row $high_row <<'PY'
import sys
e1, w1, r1, e2, w2, r2 = (int(x) for x in sys.argv[1:7])
print(f"at {e1} entries: RSS {r1/1024:.1f} MiB, weighed {w1/e1:.0f} B/entry")
print(f"at {e2} entries: RSS {r2/1024:.1f} MiB, weighed {w2/e2:.0f} B/entry")
print(f"slope: {(r2 - r1) * 1024 / (e2 - e1):.0f} B of RSS per entry; weigher {(w2 - w1) / (e2 - e1):.0f} B per entry")
PY
