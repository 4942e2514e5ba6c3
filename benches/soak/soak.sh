#!/usr/bin/env bash
# Soak test: a mixed loopback load (benches/soak/mixed.lua) on `varyedge proxy` for a
# given duration, then checks
#   - zero errors: no socket errors and no 5xx in wrk's counts;
#   - coherent stats: requests = hits + stale + misses + passes + collapsed + bad_requests
#     (and bad_requests = 0, upstream_errors = 0, upstream_timeouts = 0);
#   - memory: the proxy's peak RSS (sampled every 2 s) <= capacity + SLACK_MIB (default
#     32 MiB: the runtime, thread stacks, buffers of open connections, allocator slack).
#
#   benches/soak/soak.sh [-d SECS] [-c CAP_MIB] [-b BIN] [-n CONNS] [-s SLACK_MIB]
#
# Loopback only, ephemeral ports; stops what it starts (by PID). Needs wrk and curl.
# Exit 0 when every check holds, 1 otherwise.
set -euo pipefail
DUR=60 CAP=64 BIN= CONNS=64 SLACK=32
while getopts "d:c:b:n:s:" o; do
    case $o in
        d) DUR=$OPTARG ;; c) CAP=$OPTARG ;; b) BIN=$OPTARG ;; n) CONNS=$OPTARG ;; s) SLACK=$OPTARG ;;
        *) echo "usage: $0 [-d SECS] [-c CAP_MIB] [-b BIN] [-n CONNS] [-s SLACK_MIB]" >&2; exit 2 ;;
    esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$HERE/../../target/release/varyedge}
CAPACITY="${CAP}MiB"
. "$HERE/proxy-lib.sh"
RSS0=$(awk '/VmRSS/ {print $2}' /proc/$PROXY_PID/status)
( peak=0; while kill -0 $PROXY_PID 2>/dev/null; do
      r=$(awk '/VmRSS/ {print $2}' /proc/$PROXY_PID/status 2>/dev/null || echo 0)
      [ "${r:-0}" -gt "$peak" ] && peak=$r && echo "$peak" >"$WORK/peak"
      sleep 2
  done ) & PIDS+=($!)
START=$(date +%s)
wrk -t2 -c"$CONNS" -d"${DUR}s" -s "$HERE/mixed.lua" "http://$PROXY/" >"$WORK/wrk.out" 2>&1
END=$(date +%s)
sleep 1
STATS=$(curl -s "http://$PROXY/.varyedge/stats")
RSS=$(awk '/VmRSS/ {print $2}' /proc/$PROXY_PID/status)
PEAK=$(cat "$WORK/peak" 2>/dev/null || echo "$RSS")
python3 - "$WORK/wrk.out" "$STATS" "$RSS" "$PEAK" "$CAP" "$SLACK" "$((END-START))" "$RSS0" <<'PY'
import json, re, sys
wrk = open(sys.argv[1]).read()
s = json.loads(sys.argv[2])["stats"]
rss, peak, cap, slack, secs, rss0 = (int(x) for x in sys.argv[3:9])
sent = int(re.search(r"(\d+) requests in", wrk).group(1))
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", wrk)
sock_errors = sum(int(x) for x in sock.groups()) if sock else 0
e5 = int(re.search(r"5xx: (\d+)", wrk).group(1))
rps = re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1)
decided = s["hits"] + s["stale"] + s["misses"] + s["passes"] + s["collapsed"] + s["bad_requests"]
limit_kib = (cap + slack) * 1024
print(f"soak: {secs}s, {sent} requests ({rps}/s), socket errors {sock_errors}, 5xx {e5}")
if sock: print("wrk: " + sock.group(0) + " (timeout: no answer within wrk's 2 s)")
print(f"stats: requests {s['requests']} = hits {s['hits']} + stale {s['stale']} + misses {s['misses']} "
      f"+ passes {s['passes']} + collapsed {s['collapsed']} + bad_requests {s['bad_requests']} ({decided}); "
      f"stores {s['stores']}, entries {s['entries']}, bytes {s['bytes']}, evictions {s['evictions']}, "
      f"upstream_errors {s['upstream_errors']}, upstream_timeouts {s['upstream_timeouts']}")
print(f"memory: RSS {rss0/1024:.1f} MiB at the start, {rss/1024:.1f} MiB at the end, peak {peak/1024:.1f} MiB; bound {cap} MiB capacity + {slack} MiB")
fails = []
if sock_errors or e5: fails.append("errors")
if s["requests"] != decided: fails.append("stats not coherent")
if s["bad_requests"] or s["upstream_errors"] or s["upstream_timeouts"]: fails.append("proxy-side errors")
if peak > limit_kib: fails.append("RSS over bound")
print("soak: " + ("OK" if not fails else "FAILED: " + ", ".join(fails)))
sys.exit(1 if fails else 0)
PY
