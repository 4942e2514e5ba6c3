#!/usr/bin/env bash
# Memory bound under Vary-heavy load: `varyedge proxy --capacity CAP --max-variants MV` in
# front of `varyedge origin` serving benches/load/origin.yaml.in (1 KiB bodies, `Vary:
# Origin` on /vary/*), then wrk through benches/load/keys.lua: 1,000 URLs x 16 Origins for
# D1 seconds, then 1 URL x 1,000 Origins for D2 seconds. Prints the proxy's counters, its
# RSS and peak RSS (VmHWM), and whether the peak stays within CAP + SLACK MiB.
#
#   benches/soak/vary-cap.sh [-c CAP_MIB] [-m MAX_VARIANTS] [-s SLACK_MIB] [-d D1] [-e D2] [-b BIN]
#
# Loopback only. Ports: PORT_BASE (origin) and PORT_BASE+1 (proxy), default 18440. Stops
# what it starts (by PID). Needs wrk, curl, python3.
set -euo pipefail
CAP=64 MV=4096 SLACK=32 D1=40 D2=20 BIN=
while getopts "c:m:s:d:e:b:" o; do
    case $o in
        c) CAP=$OPTARG ;; m) MV=$OPTARG ;; s) SLACK=$OPTARG ;; d) D1=$OPTARG ;; e) D2=$OPTARG ;; b) BIN=$OPTARG ;;
        *) echo "usage: $0 [-c CAP_MIB] [-m MAX_VARIANTS] [-s SLACK_MIB] [-d D1] [-e D2] [-b BIN]" >&2; exit 2 ;;
    esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$HERE/../../target/release/varyedge}
[ -x "$BIN" ] || { echo "$0: no binary at $BIN (cargo build --release)" >&2; exit 2; }
BASE=${PORT_BASE:-18440}
. "$HERE/lib.sh"
"$BIN" origin "$WORK/origin.yaml" --listen "127.0.0.1:$BASE" >"$WORK/origin.out" 2>&1 & PIDS+=($!)
"$BIN" proxy --upstream "http://127.0.0.1:$BASE" --listen "127.0.0.1:$((BASE + 1))" \
    --capacity "${CAP}MiB" --max-variants "$MV" >"$WORK/proxy.out" 2>"$WORK/proxy.err" & PIDS+=($!)
PROXY_PID=$!
wait_port "$BASE"; wait_port $((BASE + 1))
URL=http://127.0.0.1:$((BASE + 1))/
wrk -t2 -c64 -d"${D1}s" -s "$LOAD/keys.lua" "$URL" -- get 1000 16 >"$WORK/wrk1.out" 2>&1
wrk -t2 -c64 -d"${D2}s" -s "$LOAD/keys.lua" "$URL" -- get 1 1000 >"$WORK/wrk2.out" 2>&1
grep -h "Socket errors\|Non-2xx" "$WORK"/wrk*.out || true
curl -s "http://127.0.0.1:$((BASE + 1))/.varyedge/stats" >"$WORK/stats.json"
rss=$(awk '/VmRSS/ {print $2}' /proc/$PROXY_PID/status)
hwm=$(awk '/VmHWM/ {print $2}' /proc/$PROXY_PID/status)
python3 - "$WORK/stats.json" "$rss" "$hwm" "$CAP" "$SLACK" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
rss, hwm, cap, slack = (int(x) for x in sys.argv[2:6])
ok = hwm / 1024 <= cap + slack
print(f"requests {s['requests']}, hits {s['hits']}, misses {s['misses']}, stores {s['stores']}, "
      f"primary keys held {s['entries']}, weighed {s['bytes']} B, evictions {s['evictions']}; "
      f"RSS {rss/1024:.1f} MiB, peak {hwm/1024:.1f} MiB (VmHWM {hwm} KiB), bound {cap + slack} MiB: "
      + ("OK" if ok else "EXCEEDED"))
sys.exit(0 if ok else 1)
PY
