# shellcheck shell=bash
# What the load scripts share (sourced by run.sh, instr.sh, ab.sh and same-bytes.sh, not
# run on its own): the processes they start, stopped on exit; waiting for a port; the
# flags `varyedge proxy` runs with; the origin's config with 1 KiB bodies.

# Every process a script starts goes into PIDS; all of them are stopped on exit.
PIDS=()
stop_started() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop_started EXIT
trap 'exit 130' INT TERM

# need HINT TOOL...: exit 2, naming what to install, when a tool is missing.
need() {
    local hint=$1 t
    shift
    for t in "$@"; do
        command -v "$t" >/dev/null || { echo "$0: $t is needed: apt-get install -y $hint" >&2; exit 2; }
    done
}

# wait_port PORT [TRIES]: until something answers HTTP on 127.0.0.1:PORT, 0.1 s apart
# (default 300 tries: ATS takes a few seconds to open its cache); exit 1 after that.
wait_port() {
    local _
    for _ in $(seq 1 "${2:-300}"); do
        curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
        sleep 0.1
    done
    echo "$0: nothing listens on 127.0.0.1:$1 (see $WORK)" >&2
    exit 1
}

# The flags every load script gives `varyedge proxy` (stored preflights, a store large
# enough for every workload's keys).
PROXY_FLAGS=(--profile rfc9111 --cache-options --preflight-key honor --capacity 256MiB)

# origin_1k OUT: origin.yaml.in with both bodies 1 KiB (the scripts that count the
# proxy's work, not bytes on the wire).
origin_1k() {
    local body1k
    body1k=$(head -c 1024 /dev/zero | tr '\0' 'x')
    sed -e "s|@BODY1K@|$body1k|g" -e "s|@BODY64K@|$body1k|g" "$HERE/origin.yaml.in" > "$1"
}
