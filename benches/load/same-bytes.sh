#!/usr/bin/env bash
# Whether two `varyedge proxy` binaries answer a fixed sequence of requests with the same
# bytes (a check for work on the hit path, which must not change what clients see): hits,
# a range, a conditional, Vary variants, stored preflights, a miss, a POST, `OPTIONS *`,
# `only-if-cached`, an admin request, HTTP/2 prior knowledge, two Host fields and an
# HTTP/1.0 request without Host. Each binary gets a fresh origin and proxy; `Date`, `Age`
# and the `ttl` in `Cache-Status` are masked (they follow the clock). Exit 0 and
# "identical", or the diff and exit 1.
#
#   benches/load/same-bytes.sh BIN_A BIN_B
#
# Needs curl (with HTTP/2) and python3. Ports PORT_BASE+24 and +25 (PORT_BASE default 18200).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 BIN_A BIN_B" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=benches/load/lib.sh
. "$HERE/lib.sh"
need "curl python3" curl python3
BASE=${PORT_BASE:-18200}
P_ORIGIN=$((BASE + 24)) P_PROXY=$((BASE + 25))
WORK=$(mktemp -d /tmp/varyedge-same.XXXXXX)
origin_1k "$WORK/origin.yaml"
raw() {
    python3 - "$P_PROXY" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except socket.timeout:
    pass
sys.stdout.write(out.decode("latin-1"))
PY
}
sequence() {
    local u=http://127.0.0.1:$P_PROXY o
    for _ in 1 2; do curl -si "$u/blob1k"; echo; done
    curl -si -H 'Range: bytes=0-9' "$u/blob1k"; echo
    curl -si -H 'If-None-Match: *' "$u/blob1k"; echo
    for o in https://a.example https://b.example https://a.example; do
        curl -si -H "Origin: $o" "$u/vary/0"; echo
    done
    for _ in 1 2; do
        curl -si -X OPTIONS -H 'Origin: https://a.example' -H 'Access-Control-Request-Method: PUT' \
            -H 'Access-Control-Request-Headers: content-type' "$u/pf/0"; echo
    done
    curl -si "$u/miss/same-bytes"; echo
    curl -si -X POST -d abc "$u/blob1k"; echo
    curl -si --request-target '*' -X OPTIONS "$u/"; echo
    curl -si -H 'Cache-Control: only-if-cached' "$u/never"; echo
    curl -si "$u/.varyedge/stats" | head -1; echo
    for _ in 1 2; do curl -si --http2-prior-knowledge "$u/blob1k"; echo; done
    raw 'GET /blob1k HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n'; echo
    raw 'GET /blob1k HTTP/1.0\r\n\r\n'; echo
}
one() {
    "$1" origin "$WORK/origin.yaml" --listen "127.0.0.1:$P_ORIGIN" > "$WORK/origin.log" 2>&1 &
    local o=$!
    PIDS+=("$o")
    "$1" proxy --upstream "http://127.0.0.1:$P_ORIGIN" --listen "127.0.0.1:$P_PROXY" \
        "${PROXY_FLAGS[@]}" > "$WORK/proxy.log" 2>&1 &
    local p=$!
    PIDS+=("$p")
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "http://127.0.0.1:$P_PROXY/.varyedge/stats" && break
        sleep 0.1
    done
    sequence | sed -E 's/^([Dd]ate): .*/\1: X/; s/ttl=[0-9]+/ttl=N/; s/^([Aa]ge): .*/\1: N/' > "$2"
    kill "$p" "$o"
    wait "$p" "$o" 2>/dev/null || true
}
one "$1" "$WORK/a.txt"
one "$2" "$WORK/b.txt"
n=$(grep -c '^HTTP/' "$WORK/a.txt" || true)
if diff "$WORK/a.txt" "$WORK/b.txt"; then
    echo "identical ($n responses)"
else
    exit 1
fi
