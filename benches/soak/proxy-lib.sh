# Shared start-up of the soak scripts that fill the proxy in front of this directory's
# origin.yaml (per-entry.sh, mem.sh, soak.sh). Sourced, not run. Needs HERE (this
# directory), BIN (the varyedge binary) and CAPACITY (the proxy's --capacity).
# Checks the tools and the binary; makes WORK (a temp dir; on exit every PID in PIDS is
# killed and WORK removed); starts `varyedge origin` and `varyedge proxy` on loopback
# (PORT_BASE and PORT_BASE + 1 when PORT_BASE is set, ephemeral ports otherwise); sets
# ORIGIN and PROXY (their host:port) and PROXY_PID.
for t in wrk curl python3; do command -v $t >/dev/null || { echo "$0: needs $t (apt-get install $t)" >&2; exit 2; }; done
[ -x "$BIN" ] || { echo "$0: no binary at $BIN (cargo build --release)" >&2; exit 2; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
addr_of() { # waits for "listening on http://ADDR" in $1 and prints ADDR
    for _ in $(seq 100); do
        if grep -q "listening on" "$1" 2>/dev/null; then sed -n 's/^listening on http:\/\///p' "$1" | head -1; return; fi
        sleep 0.1
    done
    echo "$0: no address in $1" >&2; exit 1
}
"$BIN" origin "$HERE/origin.yaml" --listen "127.0.0.1:${PORT_BASE:-0}" >"$WORK/origin.out" 2>&1 & PIDS+=($!)
ORIGIN=$(addr_of "$WORK/origin.out")
"$BIN" proxy --upstream "http://$ORIGIN" --listen "127.0.0.1:$([ -n "${PORT_BASE:-}" ] && echo $((PORT_BASE + 1)) || echo 0)" \
    --capacity "$CAPACITY" >"$WORK/proxy.out" 2>"$WORK/proxy.err" & PIDS+=($!)
PROXY_PID=$!
PROXY=$(addr_of "$WORK/proxy.out")
