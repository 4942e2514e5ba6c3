#!/usr/bin/env bash
# Floor check for HTTP caching conformance (issue 12): runs the http-tests/cache-tests
# suite through `varyedge proxy --profile rfc9111` with ../shared/conformance/run.sh and
# fails when the dependency-aware required count (the suite site's `pass` class) drops
# below FLOOR, or when any required `vary` / `vary-parse` test does not pass.
#
#   scripts/conformance-floor.sh            (from the project root; needs target/release/varyedge)
#
# env: FLOOR (default below), VARYEDGE (binary), ORIGIN_PORT, PROXY_PORT (see run.sh),
# CONFORMANCE_RUN (the suite runner, default ../shared/conformance/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# Measured at the commit that set it (see the issue 12 report); raise it, never lower it
# without saying why.
FLOOR=${FLOOR:-159}
RUN=${CONFORMANCE_RUN:-../shared/conformance/run.sh}
[ -x "$RUN" ] || [ -f "$RUN" ] || { echo "conformance-floor: $RUN not found (../shared beside the clone)" >&2; exit 2; }
OUT=$(mktemp -d /tmp/varyedge-floor.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
# the dependency-aware required count of the latest run's summary
passed() {
    local required
    required=$(grep -m1 '^required:' "$OUT/summary.txt" || true)
    sed -n 's/.*site-classes={[^}]*"pass":\([0-9]*\).*/\1/p' <<<"$required"
}
bash "$RUN" rfc9111 "$OUT" > "$OUT/summary.txt"
cat "$OUT/summary.txt"
pass=$(passed)
# A `setup_fail` is a test whose setup did not complete, so the run has no verdict on
# the cache for it. Example: the suite's client logs a config PUT that failed
# ("ERROR: <uuid> Setup PUT config resulted in 502") and goes on, and the origin then
# answers the test's first request 409 "Requests not found". Before session 16 that 502
# came from a stale upstream connection (see `IDLE_TIMEOUT` in
# src/net/proxy/upstream.rs). When such tests alone explain a shortfall, the suite runs
# once more and that run counts; both summaries are printed.
setup=$(sed -n '/^required not passing:/,/^$/p' "$OUT/summary.txt" | grep -c '(setup_fail)' || true)
if [ -n "$pass" ] && [ "$pass" -lt "$FLOOR" ] && [ $((pass + setup)) -ge "$FLOOR" ]; then
    echo "conformance-floor: $pass required tests pass and $setup could not be set up: running the suite once more" >&2
    bash "$RUN" rfc9111 "$OUT" > "$OUT/summary.txt"
    cat "$OUT/summary.txt"
    pass=$(passed)
fi
if [ -z "$pass" ]; then
    echo "conformance-floor: no dependency-aware required count in the summary" >&2
    exit 1
fi
status=0
if [ "$pass" -lt "$FLOOR" ]; then
    echo "conformance-floor: FAIL: $pass required tests pass (dependency-aware), floor is $FLOOR" >&2
    status=1
fi
# every required vary / vary-parse test: `req P/R(D)` with P = R = D
for suite in vary vary-parse; do
    line=$(grep -E "^  $suite +req " "$OUT/summary.txt" || true)
    counts=$(sed -n 's/^ *[a-z-]* *req \([0-9]*\)\/\([0-9]*\)(\([0-9]*\)).*/\1 \2 \3/p' <<<"$line")
    read -r p r d <<<"$counts"
    if [ -z "${p:-}" ] || [ "$p" != "$r" ] || [ "$p" != "$d" ]; then
        echo "conformance-floor: FAIL: required $suite tests: ${line:-missing from the summary}" >&2
        status=1
    fi
done
if grep -qE '^  \[(vary|vary-parse)\] ' <(sed -n '/^required not passing:/,/^$/p' "$OUT/summary.txt"); then
    echo "conformance-floor: FAIL: a required vary test is listed as not passing" >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "conformance-floor: ok: $pass required tests pass (floor $FLOOR), every required vary / vary-parse test passes"
exit "$status"
