# Shared start-up of the soak scripts that run the load benchmark's origin
# (hot-key.sh, vary-cap.sh, ab-hits.sh). Sourced, not run. Needs HERE (this directory).
# Gives: LOAD (benches/load), WORK (a temp dir), PIDS (killed on exit with WORK removed),
# $WORK/origin.yaml (origin.yaml.in with its 1 KiB / 64 KiB bodies) and wait_port PORT.
for t in wrk curl python3; do command -v $t >/dev/null || { echo "$0: needs $t (apt-get install $t)" >&2; exit 2; }; done
LOAD=$HERE/../load
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
python3 - "$LOAD/origin.yaml.in" "$WORK/origin.yaml" <<'PY'
import sys
t = open(sys.argv[1]).read().replace("@BODY1K@", "x" * 1024).replace("@BODY64K@", "x" * 65536)
open(sys.argv[2], "w").write(t)
PY
wait_port() {
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done
    echo "$0: nothing listens on 127.0.0.1:$1" >&2; exit 1
}
