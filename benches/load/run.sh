#!/usr/bin/env bash
# Load benchmark: cache-hit throughput and p99 latency of `varyedge proxy` side by side,
# in one run, with nginx serving the same 1 KiB body as a static file (the baseline),
# nginx proxy_cache and Varnish (builtin VCL), all on loopback, all in front of
# `varyedge origin benches/load/origin.yaml` (except the baseline).
#
#   benches/load/run.sh [-d SECS] [-r ROUNDS] [-c CONNS] [-t THREADS] [-o OUTDIR]
#
# Per round and target: warm /blob1k, check the 2nd request is a hit, then
# `wrk -tT -cC -dD --latency`; the origin's request counter must not move during the run.
# Prints req/s, p99 and the ratio to the baseline of the same round. Stops everything it
# started (by PID) on exit. Needs wrk, nginx, varnishd, curl and a release build (made if
# missing). Ports: 18200-18204 on 127.0.0.1 (override with PORT_BASE).
set -euo pipefail

DUR=10 ROUNDS=2 CONNS=64 THREADS=2 OUT=
while getopts "d:r:c:t:o:" o; do
    case $o in
        d) DUR=$OPTARG ;; r) ROUNDS=$OPTARG ;; c) CONNS=$OPTARG ;; t) THREADS=$OPTARG ;;
        o) OUT=$OPTARG ;; *) echo "usage: $0 [-d SECS] [-r ROUNDS] [-c CONNS] [-t THREADS] [-o OUTDIR]" >&2; exit 2 ;;
    esac
done

for tool in wrk nginx varnishd curl; do
    if ! command -v "$tool" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$tool" ]; then
        echo "$0: $tool is needed: apt-get install -y wrk nginx-light varnish curl" >&2
        exit 2
    fi
done
export PATH=$PATH:/usr/sbin

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=$ROOT/target/release/varyedge
if [ ! -x "$BIN" ] || [ -n "$(find "$ROOT/src" -newer "$BIN" -name '*.rs' | head -1)" ]; then
    (cd "$ROOT" && cargo build --release --quiet)
fi

BASE=${PORT_BASE:-18200}
P_ORIGIN=$BASE P_PROXY=$((BASE + 1)) P_STATIC=$((BASE + 2)) P_NGINX=$((BASE + 3)) P_VARNISH=$((BASE + 4))
WORK=$(mktemp -d /tmp/varyedge-load.XXXXXX)
[ -n "$OUT" ] || OUT=$WORK/results
mkdir -p "$OUT"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

render() { sed -e "s|@WORK@|$WORK|g" -e "s|@PORT@|$2|g" -e "s|@ORIGIN@|$P_ORIGIN|g" "$1" > "$3"; }

wait_port() {
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
        sleep 0.1
    done
    echo "$0: nothing listens on 127.0.0.1:$1 (see $WORK)" >&2
    exit 1
}

"$BIN" origin "$HERE/origin.yaml" --listen "127.0.0.1:$P_ORIGIN" > "$WORK/origin.log" 2>&1 &
PIDS+=($!)
declare -A PID_OF
"$BIN" proxy --upstream "http://127.0.0.1:$P_ORIGIN" --listen "127.0.0.1:$P_PROXY" \
    --profile rfc9111 > "$WORK/proxy.log" 2>&1 &
PIDS+=($!) PID_OF[varyedge]=$!

mkdir -p "$WORK/static/tmp" "$WORK/static/www" "$WORK/cache/tmp" "$WORK/cache/store"
head -c 1024 /dev/zero | tr '\0' 'x' > "$WORK/static/www/blob1k"
render "$HERE/nginx-static.conf.in" "$P_STATIC" "$WORK/static/nginx.conf"
render "$HERE/nginx-cache.conf.in" "$P_NGINX" "$WORK/cache/nginx.conf"
render "$HERE/varnish.vcl.in" "$P_VARNISH" "$WORK/varnish.vcl"
if [ "$(id -u)" -eq 0 ]; then
    # nginx workers run as nobody
    chmod 755 "$WORK"
    chown -R nobody "$WORK/static/tmp" "$WORK/cache/tmp" "$WORK/cache/store"
fi
nginx -p "$WORK/static" -c "$WORK/static/nginx.conf" -e "$WORK/static/error.log" &
PIDS+=($!) PID_OF[baseline]=$!
nginx -p "$WORK/cache" -c "$WORK/cache/nginx.conf" -e "$WORK/cache/error.log" &
PIDS+=($!) PID_OF[nginx-cache]=$!
varnishd -F -j none -n "$WORK/varnish" -a "127.0.0.1:$P_VARNISH" -T "127.0.0.1:$((P_VARNISH + 10))" \
    -f "$WORK/varnish.vcl" -s malloc,256m > "$WORK/varnish.log" 2>&1 &
PIDS+=($!) PID_OF[varnish]=$!
for p in $P_ORIGIN $P_PROXY $P_STATIC $P_NGINX $P_VARNISH; do wait_port "$p"; done

origin_fetches() {
    curl -s "http://127.0.0.1:$P_ORIGIN/.varyedge/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("GET /blob1k", 0))'
}

# warm the key and check that the second request is a hit (a 1024-byte body both times)
warm() {
    local name=$1 port=$2 url="http://127.0.0.1:$2/blob1k" h
    for _ in 1 2; do
        h=$(curl -s -D - -o "$WORK/body" "$url")
    done
    [ "$(wc -c < "$WORK/body")" -eq 1024 ] || { echo "$0: $name: body is not 1024 bytes" >&2; exit 1; }
    case $name in
        varyedge) grep -qi '^x-cache: HIT' <<<"$h" ;;
        nginx-cache) grep -qi '^x-cache-status: HIT' <<<"$h" ;;
        varnish) grep -qiE '^x-varnish: [0-9]+ [0-9]+' <<<"$h" ;;
        baseline) true ;;
    esac || { echo "$0: $name: the second request was not a hit:" >&2; echo "$h" >&2; exit 1; }
}

TARGETS=("baseline:$P_STATIC" "varyedge:$P_PROXY" "nginx-cache:$P_NGINX" "varnish:$P_VARNISH")
for t in "${TARGETS[@]}"; do warm "${t%%:*}" "${t##*:}"; done

# CPU time (clock ticks, user + system) of a process and its children (nginx workers,
# varnishd's worker process): req/CPU-s is less sensitive than req/s to sharing the cores.
cpu_ticks() {
    local total=0 p
    for p in $1 $(pgrep -P "$1" || true); do
        [ -r "/proc/$p/stat" ] || continue
        total=$((total + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat")))
    done
    echo "$total"
}
HZ=$(getconf CLK_TCK)

# wrk's latency in ms
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }

printf '%-6s %-12s %12s %9s %9s %12s %9s %s\n' round target req/s p99_ms ratio req/CPU-s ratio notes | tee "$OUT/summary.txt"
for r in $(seq 1 "$ROUNDS"); do
    base= cbase=
    for t in "${TARGETS[@]}"; do
        name=${t%%:*} port=${t##*:}
        before=$(origin_fetches)
        c0=$(cpu_ticks "${PID_OF[$name]}")
        wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency "http://127.0.0.1:$port/blob1k" > "$OUT/wrk-$name-r$r.txt"
        after=$(origin_fetches)
        c1=$(cpu_ticks "${PID_OF[$name]}")
        rps=$(awk '/^Requests\/sec:/ {print $2}' "$OUT/wrk-$name-r$r.txt")
        p99=$(awk '$1 == "99%" {print $2}' "$OUT/wrk-$name-r$r.txt" | to_ms)
        notes=
        grep -q 'Non-2xx\|Socket errors' "$OUT/wrk-$name-r$r.txt" && notes="errors: $(grep -h 'Non-2xx\|Socket errors' "$OUT/wrk-$name-r$r.txt" | tr -s ' ' | tr '\n' ' ')"
        [ "$name" = baseline ] || [ "$before" = "$after" ] || notes="$notes origin fetches during run: $((after - before))"
        [ -n "$base" ] || base=$rps
        ratio=$(awk -v a="$rps" -v b="$base" 'BEGIN {printf "%.2f", a / b}')
        total=$(awk '/requests in/ {print $1}' "$OUT/wrk-$name-r$r.txt")
        cps=$(awk -v n="$total" -v t=$((c1 - c0)) -v hz="$HZ" 'BEGIN {if (t > 0) printf "%.0f", n * hz / t; else print "n/a"}')
        [ -n "$cbase" ] || cbase=$cps
        cratio=$(awk -v a="$cps" -v b="$cbase" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}')
        printf '%-6s %-12s %12s %9s %9s %12s %9s %s\n' "$r" "$name" "$rps" "$p99" "$ratio" "$cps" "$cratio" "$notes" | tee -a "$OUT/summary.txt"
    done
done
echo "raw wrk outputs: $OUT" >&2
