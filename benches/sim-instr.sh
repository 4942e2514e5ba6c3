#!/usr/bin/env bash
# Instructions per simulated step (the replay bench) or per explored session (the explore
# bench), counted by valgrind's callgrind: a figure that does not depend on what else
# runs on the machine, so two builds can be compared on a busy one.
#
#   benches/sim-instr.sh replay  BENCH_BINARY [PROFILE...]    (default: varnish url-only)
#   benches/sim-instr.sh explore BENCH_BINARY [SCENARIO...]   (default: both bench scenarios)
#
# BENCH_BINARY is a criterion bench executable: `cargo bench --bench replay --no-run`
# (or `--bench explore`) prints its path. Only the measured function's subtree is
# counted (`--toggle-collect`): `Sim::step_at` for replay, `Explorer::any_failure` and
# `Explorer::findings` ("sample a 10-step session as explore() does") for explore. The
# total is divided by the calls counted, not by an assumed number: criterion's
# `--profile-time 1` runs as many iterations as fit, and a faster build fits more.
# Needs valgrind (callgrind_annotate).

set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 replay|explore BENCH_BINARY [NAME...]" >&2; exit 2; }
kind=$1 bin=$2
shift 2
command -v valgrind > /dev/null || { echo "$0: needs valgrind (apt-get install -y valgrind)" >&2; exit 2; }
[ -x "$bin" ] || { echo "$0: $bin is not an executable bench binary" >&2; exit 2; }
out=$(mktemp /tmp/varyedge-sim-instr.XXXXXX)
trap 'rm -f "$out"' EXIT

# count NAME FILTER COUNTED TOGGLE...: runs the bench FILTER under callgrind and prints
# the total and the total per call of COUNTED
count() {
    local name=$1 filter=$2 counted=$3
    shift 3
    local toggles=()
    for t in "$@"; do toggles+=("--toggle-collect=$t"); done
    VARYEDGE_BENCH_REQUESTS=20000 timeout 900 valgrind --tool=callgrind \
        --callgrind-out-file="$out" --dump-instr=no "${toggles[@]}" \
        "$bin" --bench --profile-time 1 "$filter" > /dev/null 2>&1
    local total calls
    total=$(callgrind_annotate "$out" 2> /dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    calls=$(callgrind_annotate --tree=caller --inclusive=yes --threshold=100 "$out" 2> /dev/null |
        grep -m1 -o "$counted ([0-9,]*x)" | grep -o '[0-9][0-9,]*x' | tr -d ',x' || true)
    if [ -z "$total" ] || [ -z "$calls" ] || [ "$calls" = 0 ]; then
        echo "$0: $name: nothing counted (is $bin the $kind bench?)" >&2
        exit 1
    fi
    printf '%-28s %14s instructions %8s calls %8d per call\n' "$name" "$total" "$calls" $((total / calls))
}

case $kind in
replay)
    [ $# -gt 0 ] || set -- varnish url-only
    for p in "$@"; do
        count "replay-1M/$p" "replay-1M/$p" 'Sim::step_at' 'varyedge::sim::Sim::step_at*'
    done
    ;;
explore)
    [ $# -gt 0 ] || set -- reflect-without-vary preflight-and-no-origin
    for s in "$@"; do
        count "explore/$s" "explore/$s/sample a 10-step session" 'Explorer::any_failure' \
            'varyedge::explore::Explorer::any_failure*' 'varyedge::explore::Explorer::findings*'
    done
    ;;
*)
    echo "$0: replay or explore, not $kind" >&2
    exit 2
    ;;
esac
