#!/usr/bin/env bash
# Does a hot key stay stored in a full store? `varyedge proxy --capacity CAP` in front of
# `varyedge origin` (benches/load/origin.yaml.in rendered): wrk fills the store with
# distinct 1 KiB entries (keys.lua `miss`) for FILL seconds, then GET /blob1k once (the
# hot key, stored now), then wrk on /blob1k alone for HIT seconds. Prints the origin's
# fetches during the hit run: 0 when the hot key stayed stored. (With moka's TinyLFU
# admission the just-stored key could be removed again when its pending write was
# applied, and every connection then missed at once.)
#
#   benches/soak/hot-key.sh [-c CAP] [-f FILL] [-d HIT] [-b BIN]
#
# Loopback only. Ports PORT_BASE (origin), PORT_BASE+1 (proxy), default 18460.
set -euo pipefail
CAP=16MiB FILL=10 HIT=10 BIN=
while getopts "c:f:d:b:" o; do
    case $o in
        c) CAP=$OPTARG ;; f) FILL=$OPTARG ;; d) HIT=$OPTARG ;; b) BIN=$OPTARG ;;
        *) echo "usage: $0 [-c CAP] [-f FILL] [-d HIT] [-b BIN]" >&2; exit 2 ;;
    esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$HERE/../../target/release/varyedge}
[ -x "$BIN" ] || { echo "$0: no binary at $BIN (cargo build --release)" >&2; exit 2; }
BASE=${PORT_BASE:-18460}
. "$HERE/lib.sh"
"$BIN" origin "$WORK/origin.yaml" --listen "127.0.0.1:$BASE" >"$WORK/origin.out" 2>&1 & PIDS+=($!)
"$BIN" proxy --upstream "http://127.0.0.1:$BASE" --listen "127.0.0.1:$((BASE + 1))" \
    --capacity "$CAP" >"$WORK/proxy.out" 2>&1 & PIDS+=($!)
wait_port "$BASE"; wait_port $((BASE + 1))
P=http://127.0.0.1:$((BASE + 1))
fetches() { curl -s "http://127.0.0.1:$BASE/.varyedge/stats" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin).values()))'; }
wrk -t2 -c32 -d"${FILL}s" -s "$LOAD/keys.lua" "$P/" -- miss 0 0 hk >"$WORK/fill.out" 2>&1
curl -s -o /dev/null "$P/blob1k"
curl -s -o /dev/null -D "$WORK/h" "$P/blob1k"
before=$(fetches)
wrk -t2 -c64 -d"${HIT}s" "$P/blob1k" >"$WORK/hit.out" 2>&1
after=$(fetches)
sent=$(awk '/requests in/ {print $1}' "$WORK/hit.out")
stats=$(curl -s "$P/.varyedge/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin)["stats"]; print("entries", s["entries"], "bytes", s["bytes"], "stores", s["stores"], "evictions", s["evictions"])')
echo "second warm request: $(grep -i '^x-cache' "$WORK/h" | tr -d '\r')"
echo "hit run: $sent requests, origin fetches during it: $((after - before)); store: $stats"
