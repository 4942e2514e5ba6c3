#!/usr/bin/env bash
# Load benchmark: throughput and p99 latency of `varyedge proxy` side by side, in one run,
# with nginx answering the same requests itself from disk (the baseline), nginx proxy_cache,
# Varnish (builtin VCL), Squid and Apache Traffic Server (when installed), all on loopback,
# all in front of `varyedge origin` (origin.yaml.in rendered). Workloads (-w,
# comma-separated; default all, in this order):
#
#   hit-1k        GET /blob1k, one key, 1 KiB
#   hit-64k       GET /blob64k, one key, 64 KiB
#   vary-1x1      GET /vary/0 with one Origin; the response has `Vary: Origin`
#   vary-1x64     one URL x 64 Origins (wrk rotates the Origin header, keys.lua)
#   vary-1x1000   one URL x 1,000 Origins
#   vary-1000x16  1,000 URLs x 16 Origins
#   preflight     OPTIONS /pf/0 with ACRM/ACRH, 64 Origins; varyedge runs with
#                 --cache-options --preflight-key honor, so it stores them; nginx and
#                 Varnish (builtin VCL) do not store OPTIONS (pass), so they go upstream
#   miss          every request a new key (GET /miss/<salt>-<thread>-<n>); the baseline is
#                 wrk against `varyedge origin` directly: the ratio is the proxy's cost
#
#   benches/load/run.sh [-d SECS] [-r ROUNDS] [-c CONNS] [-t THREADS] [-w LIST] [-o OUTDIR]
#                       [-b BIN] [-B BASEBIN] [-T PEERS]
#
# -b BIN      the varyedge binary measured (default: target/release/varyedge, built if
#             missing or older than src/); it also runs the origin.
# -B BASEBIN  a second varyedge binary (a baseline build) run as the target
#             `varyedge-base` in the same rounds, with the same flags: before/after in one
#             run.
# -T PEERS    the targets besides the baseline (comma-separated; default all of
#             varyedge,varyedge-base,nginx-cache,varnish,squid,ats). Squid and ATS are used
#             when installed; a missing one gets a row `not installed` per workload.
#
# Per round, workload and target: every key of the workload is requested once (warm;
# wrk -t1 -c8 through keys.lua), one sample key is checked to be a hit (a target whose
# sample is not a hit is still measured, its row noted), the origin's
# counters are reset, then `wrk -tT -cC -dD --latency`; any origin fetch during a hit run
# is reported (on `miss`, fetches vs requests). Prints req/s, p99, req/CPU-s and both
# ratios to the baseline of the same round and workload. Stops everything it started (by
# PID) on exit. Needs wrk, nginx, varnishd, curl, python3 and a release build (made if
# missing); squid and traffic_server optional. Ports: PORT_BASE (18200) to PORT_BASE+7
# on 127.0.0.1, and PORT_BASE+14 (Varnish's admin).
set -euo pipefail

DUR=10 ROUNDS=2 CONNS=64 THREADS=2 OUT= BIN= BASEBIN=
ALL=hit-1k,hit-64k,vary-1x1,vary-1x64,vary-1x1000,vary-1000x16,preflight,miss
PEERS_ALL=varyedge,varyedge-base,nginx-cache,varnish,squid,ats
WORKLOADS=$ALL PEERS=$PEERS_ALL
usage() {
    echo "usage: $0 [-d SECS] [-r ROUNDS] [-c CONNS] [-t THREADS] [-w $ALL] [-o OUTDIR]" >&2
    echo "          [-b BIN] [-B BASEBIN] [-T $PEERS_ALL]" >&2
    exit 2
}
while getopts "d:r:c:t:w:o:b:B:T:" o; do
    case $o in
        d) DUR=$OPTARG ;; r) ROUNDS=$OPTARG ;; c) CONNS=$OPTARG ;; t) THREADS=$OPTARG ;;
        w) WORKLOADS=$OPTARG ;; o) OUT=$OPTARG ;; b) BIN=$OPTARG ;; B) BASEBIN=$OPTARG ;;
        T) PEERS=$OPTARG ;; *) usage ;;
    esac
done
for w in ${WORKLOADS//,/ }; do
    case ",$ALL," in *",$w,"*) ;; *) echo "$0: unknown workload '$w'" >&2; usage ;; esac
done
for t in ${PEERS//,/ }; do
    case ",$PEERS_ALL," in *",$t,"*) ;; *) echo "$0: unknown target '$t'" >&2; usage ;; esac
done
for b in "$BIN" "$BASEBIN"; do
    [ -z "$b" ] || [ -x "$b" ] || { echo "$0: $b is not an executable file" >&2; exit 2; }
done
# varyedge-base runs only with -B
[ -n "$BASEBIN" ] || PEERS=$(tr ',' '\n' <<<"$PEERS" | { grep -vx varyedge-base || true; } | paste -sd, -)
wants() { case ",$PEERS," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

for tool in wrk nginx varnishd curl python3; do
    if ! command -v "$tool" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$tool" ]; then
        echo "$0: $tool is needed: apt-get install -y wrk nginx-light varnish curl python3" >&2
        exit 2
    fi
done
export PATH=$PATH:/usr/sbin

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=benches/load/lib.sh
. "$HERE/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
if [ -z "$BIN" ]; then
    BIN=$ROOT/target/release/varyedge
    if [ ! -x "$BIN" ] || [ -n "$(find "$ROOT/src" -newer "$BIN" -name '*.rs' | head -1)" ]; then
        (cd "$ROOT" && cargo build --release --quiet)
    fi
fi

# Squid and ATS are optional: a missing one is reported per workload, not skipped silently
MISSING=()
wants squid && ! command -v squid >/dev/null 2>&1 && MISSING+=(squid)
wants ats && ! command -v traffic_server >/dev/null 2>&1 && MISSING+=(ats)
for m in "${MISSING[@]}"; do PEERS=$(tr ',' '\n' <<<"$PEERS" | { grep -vx "$m" || true; } | paste -sd, -); done

BASE=${PORT_BASE:-18200}
P_ORIGIN=$BASE P_PROXY=$((BASE + 1)) P_STATIC=$((BASE + 2)) P_NGINX=$((BASE + 3)) P_VARNISH=$((BASE + 4))
P_SQUID=$((BASE + 5)) P_ATS=$((BASE + 6)) P_PROXY_BASE=$((BASE + 7))
WORK=$(mktemp -d /tmp/varyedge-load.XXXXXX)
[ -n "$OUT" ] || OUT=$WORK/results
mkdir -p "$OUT"

render() { sed -e "s|@WORK@|$WORK|g" -e "s|@PORT@|$2|g" -e "s|@ORIGIN@|$P_ORIGIN|g" "$1" > "$3"; }


mkdir -p "$WORK/static/tmp" "$WORK/static/www" "$WORK/cache/tmp" "$WORK/cache/store"
head -c 1024 /dev/zero | tr '\0' 'x' > "$WORK/static/www/blob1k"
head -c 65536 /dev/zero | tr '\0' 'x' > "$WORK/static/www/blob64k"
sed -e "s|@BODY1K@|$(cat "$WORK/static/www/blob1k")|g" \
    -e "s|@BODY64K@|$(cat "$WORK/static/www/blob64k")|g" "$HERE/origin.yaml.in" > "$WORK/origin.yaml"

declare -A PID_OF
"$BIN" origin "$WORK/origin.yaml" --listen "127.0.0.1:$P_ORIGIN" > "$WORK/origin.log" 2>&1 &
PIDS+=($!) PID_OF[origin]=$!
# --capacity as nginx's max_size and Varnish's -s malloc below
start_varyedge() {
    "$1" proxy --upstream "http://127.0.0.1:$P_ORIGIN" --listen "127.0.0.1:$2" \
        "${PROXY_FLAGS[@]}" --max-variants 4096 > "$WORK/$3.log" 2>&1 &
    PIDS+=($!) PID_OF[$3]=$!
}
wants varyedge && start_varyedge "$BIN" "$P_PROXY" varyedge
wants varyedge-base && start_varyedge "$BASEBIN" "$P_PROXY_BASE" varyedge-base

# Squid: one process in the foreground (-N); as root it switches to Debian's `proxy`
start_squid() {
    mkdir -p "$WORK/squid"
    render "$HERE/squid.conf.in" "$P_SQUID" "$WORK/squid/squid.conf"
    [ "$(id -u)" -ne 0 ] || chown -R proxy "$WORK/squid"
    squid -k parse -f "$WORK/squid/squid.conf" > "$WORK/squid/parse.log" 2>&1 ||
        { echo "$0: squid rejects its configuration:" >&2; cat "$WORK/squid/parse.log" >&2; exit 1; }
    squid -N -d 1 -f "$WORK/squid/squid.conf" > "$WORK/squid/squid.log" 2>&1 &
    PIDS+=($!) PID_OF[squid]=$!
}
# ATS: traffic_server alone from a private runroot, starting from the packaged
# configuration set; it refuses to serve as root and switches to `trafficserver`
start_ats() {
    local d=$WORK/ats user
    mkdir -p "$d/etc" "$d/var" "$d/run" "$d/log" "$d/cache" "$d/data"
    cp -r /etc/trafficserver/. "$d/etc/"
    if [ "$(id -u)" -eq 0 ]; then user=trafficserver; else user=$(id -un); fi
    render "$HERE/ats-records.config.in" "$P_ATS" "$d/records.tmp"
    sed "s|@RUN_USER@|$user|g" "$d/records.tmp" > "$d/etc/records.config"
    render "$HERE/ats-remap.config.in" "$P_ATS" "$d/etc/remap.config"
    echo "$d/cache 256M" > "$d/etc/storage.config"
    : > "$d/etc/logging.yaml"
    printf '%s: %s\n' prefix "$d" exec_prefix /usr bindir /usr/bin sbindir /usr/sbin \
        sysconfdir "$d/etc" datadir "$d/data" includedir /usr/include \
        libdir /usr/lib/trafficserver libexecdir /usr/lib/trafficserver/modules \
        localstatedir "$d/var" runtimedir "$d/run" logdir "$d/log" cachedir "$d/cache" > "$d/runroot.yaml"
    [ "$(id -u)" -ne 0 ] || chown -R trafficserver "$d"
    traffic_server --run-root="$d/runroot.yaml" > "$d/ats.log" 2>&1 &
    PIDS+=($!) PID_OF[ats]=$!
}

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
if wants nginx-cache; then
    nginx -p "$WORK/cache" -c "$WORK/cache/nginx.conf" -e "$WORK/cache/error.log" &
    PIDS+=($!) PID_OF[nginx-cache]=$!
fi
if wants varnish; then
    varnishd -F -j none -n "$WORK/varnish" -a "127.0.0.1:$P_VARNISH" -T "127.0.0.1:$((P_VARNISH + 10))" \
        -f "$WORK/varnish.vcl" -s malloc,256m > "$WORK/varnish.log" 2>&1 &
    PIDS+=($!) PID_OF[varnish]=$!
fi
wants squid && start_squid
wants ats && start_ats

declare -A PORT_OF=([origin]=$P_ORIGIN [baseline]=$P_STATIC [varyedge]=$P_PROXY [nginx-cache]=$P_NGINX
    [varnish]=$P_VARNISH [squid]=$P_SQUID [ats]=$P_ATS [varyedge-base]=$P_PROXY_BASE)
for t in origin baseline ${PEERS//,/ }; do wait_port "${PORT_OF[$t]}"; done

# all requests the origin answered since the last reset
origin_fetches() {
    curl -s "http://127.0.0.1:$P_ORIGIN/.varyedge/stats" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin).values()))'
}
origin_reset() { curl -s -o /dev/null -X POST "http://127.0.0.1:$P_ORIGIN/.varyedge/stats/reset"; }

# Workload parameters: path (wrk URL path), keys.lua arguments (empty: no script), body
# size of the sample check, and the sample request's curl arguments.
wl_path() { case $1 in hit-1k) echo /blob1k ;; hit-64k) echo /blob64k ;; *) echo / ;; esac; }
wl_script() {
    case $1 in
        vary-1x1) echo "get 1 1" ;; vary-1x64) echo "get 1 64" ;; vary-1x1000) echo "get 1 1000" ;;
        vary-1000x16) echo "get 1000 16" ;; preflight) echo "pf 1 64" ;; miss) echo "miss 0 0" ;;
        *) echo "" ;;
    esac
}
wl_sample() {
    case $1 in
        hit-1k) echo "1024 /blob1k" ;; hit-64k) echo "65536 /blob64k" ;;
        preflight) echo "0 /pf/0 -X OPTIONS -H Origin:https://o0.load.example -H Access-Control-Request-Method:PUT -H Access-Control-Request-Headers:content-type" ;;
        *) echo "1024 /vary/0 -H Origin:https://o0.load.example" ;;
    esac
}
# the baseline of the workload, then the targets asked for, in the order of PEERS_ALL
wl_targets() {
    local t
    case $1 in miss) echo origin ;; *) echo baseline ;; esac
    for t in ${PEERS_ALL//,/ }; do wants "$t" && echo "$t"; done
}
# the peers' default behaviour does not store OPTIONS: their origin fetches are expected
stores() { [ "$1" != preflight ] || [ "$2" = varyedge ] || [ "$2" = varyedge-base ] || [ "$2" = baseline ]; }

# Warm every key of the workload on one target, then check one sample key is a hit.
warm() {
    local w=$1 name=$2 port=${PORT_OF[$2]} args size path h
    [ "$w" != miss ] || return 0
    args=$(wl_script "$w")
    if [ -n "$args" ]; then
        # shellcheck disable=SC2086
        set -- ${args/get/warm-get}
        # wrk's main thread sleeps the whole -d even after the script stops its thread,
        # so -d is sized for ~1,000 keys/s; fewer completed requests than keys fails
        LOAD_WARM=1 wrk -t1 -c8 -d$((1 + $2 * $3 / 1000))s -s "$HERE/keys.lua" "http://127.0.0.1:$port/" \
            -- ${1/pf/warm-pf} "$2" "$3" > "$WORK/warm.txt"
        if grep -q 'Non-2xx\|Socket errors' "$WORK/warm.txt" ||
            [ "$(awk '/requests in/ {print $1}' "$WORK/warm.txt")" -lt $(($2 * $3)) ]; then
            echo "$0: $w: $name: warm-up did not request all $(($2 * $3)) keys:" >&2
            cat "$WORK/warm.txt" >&2
            exit 1
        fi
    fi
    read -r size path rest <<<"$(wl_sample "$w")"
    # shellcheck disable=SC2086
    for _ in 1 2; do h=$(curl -s -D - -o "$WORK/body" $rest "http://127.0.0.1:$port$path"); done
    [ "$(wc -c < "$WORK/body")" -eq "$size" ] || { echo "$0: $w: $name: body is not $size bytes" >&2; exit 1; }
    stores "$w" "$name" || return 0
    case $name in
        varyedge | varyedge-base | squid) grep -qi '^x-cache: HIT' <<<"$h" ;;
        nginx-cache) grep -qi '^x-cache-status: HIT' <<<"$h" ;;
        varnish) grep -qiE '^x-varnish: [0-9]+ [0-9]+' <<<"$h" ;;
        # the Via cache code: `[cH` fresh hit, `[cR` hit after a revalidation
        ats) grep -qiE '^via: .*\[c[HR]' <<<"$h" ;;
        *) true ;;
    esac && return 0
    # A peer that does not keep the sample (Squid's memory cache after the miss run, say)
    # is measured anyway: its row says so, and its origin fetches show what it cost.
    echo "$0: $w: $name: the second request was not a hit (measured anyway, noted):" >&2
    echo "$h" >&2
    NOT_HIT["$w/$name"]=1
}

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
# workload/target pairs whose sample was not a hit after the warm-up (see `warm`)
declare -A NOT_HIT=()

# wrk's latency in ms
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }

# One wrk run; prints the summary row.
run_one() {
    local r=$1 w=$2 name=$3 port=${PORT_OF[$3]} args f c0 c1 fetched rps p99 total notes= cps
    args=$(wl_script "$w")
    f="$OUT/wrk-$w-$name-r$r.txt"
    origin_reset
    c0=$(cpu_ticks "${PID_OF[$name]}")
    if [ -n "$args" ]; then
        # shellcheck disable=SC2086
        wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency -s "$HERE/keys.lua" "http://127.0.0.1:$port/" -- $args "$r$RANDOM" > "$f"
    else
        wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency "http://127.0.0.1:$port$(wl_path "$w")" > "$f"
    fi
    c1=$(cpu_ticks "${PID_OF[$name]}")
    fetched=$(origin_fetches)
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
    p99=$(awk '$1 == "99%" {print $2}' "$f" | to_ms)
    total=$(awk '/requests in/ {print $1}' "$f")
    grep -q 'Non-2xx\|Socket errors' "$f" && notes="errors: $(grep -h 'Non-2xx\|Socket errors' "$f" | tr -s ' ' | tr '\n' ' ')"
    [ -z "${NOT_HIT["$w/$name"]:-}" ] || notes="$notes (sample not a hit after warm-up)"
    if [ "$w" = miss ]; then
        notes="$notes origin fetches $fetched / requests $total"
    elif [ "$name" != baseline ] && [ "$fetched" != 0 ]; then
        stores "$w" "$name" || notes="$notes (OPTIONS not stored)"
        notes="$notes origin fetches during run: $fetched / requests $total"
    fi
    cps=$(awk -v n="$total" -v t=$((c1 - c0)) -v hz="$HZ" 'BEGIN {if (t > 0) printf "%.0f", n * hz / t; else print "n/a"}')
    [ -n "$base" ] || base=$rps
    [ -n "$cbase" ] || cbase=$cps
    printf '%-6s %-13s %-13s %10s %8s %6s %10s %6s %s\n' "$r" "$w" "$name" "$rps" "$p99" \
        "$(awk -v a="$rps" -v b="$base" 'BEGIN {printf "%.2f", a / b}')" "$cps" \
        "$(awk -v a="$cps" -v b="$cbase" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}')" \
        "$notes" | tee -a "$OUT/summary.txt"
}

printf '%-6s %-13s %-13s %10s %8s %6s %10s %6s %s\n' round workload target req/s p99_ms ratio req/CPU-s ratio notes | tee "$OUT/summary.txt"
{ echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# varyedge: $BIN${BASEBIN:+; varyedge-base: $BASEBIN}"; } | tee -a "$OUT/summary.txt"
for r in $(seq 1 "$ROUNDS"); do
    for w in ${WORKLOADS//,/ }; do
        # shellcheck disable=SC2046
        for t in $(wl_targets "$w"); do [ "$t" = origin ] || warm "$w" "$t"; done
        base= cbase=
        for t in $(wl_targets "$w"); do run_one "$r" "$w" "$t"; done
        for m in "${MISSING[@]}"; do
            printf '%-6s %-13s %-13s %10s %8s %6s %10s %6s %s\n' "$r" "$w" "$m" - - - - - "not installed" | tee -a "$OUT/summary.txt"
        done
    done
done
echo "# end $(date -u '+%H:%M:%S UTC'), load average: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/summary.txt"
echo "raw wrk outputs: $OUT" >&2
