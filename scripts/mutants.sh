#!/usr/bin/env bash
# Mutation testing of the pure core (issue #19): runs cargo-mutants over every core file
# against plain `cargo test`, bounded in time. Results: mutants.out/ (caught.txt,
# missed.txt, timeout.txt, unviable.txt). Reviewed exclusions: .cargo/mutants.toml.
#
#   scripts/mutants.sh                  # the whole core, `cargo test` per mutant
#   scripts/mutants.sh --lib-only       # faster triage: `cargo test --lib` per mutant
#   scripts/mutants.sh -f src/edge/vary.rs   # extra cargo-mutants arguments pass through
#
# Environment: MUTANTS_TIME_LIMIT (default 6h, a `timeout` duration), MUTANTS_TEST_TIMEOUT
# (seconds per test run, default 300), MUTANTS_JOBS (parallel builds, default 1).
# Exit: 0 all viable mutants caught; 2 some missed; 3 some timed out (none missed);
# 124 the time limit ran out (results so far are in mutants.out/); other: tool errors.
set -uo pipefail
cd "$(dirname "$0")/.."

MUTANTS_VERSION=27.1.0
if ! cargo mutants --version >/dev/null 2>&1; then
    echo "== installing cargo-mutants $MUTANTS_VERSION (crates.io)"
    cargo install --locked "cargo-mutants@$MUTANTS_VERSION" || exit 1
fi

lib_only=()
if [ "${1:-}" = "--lib-only" ]; then
    lib_only=(--cargo-arg=--lib)
    shift
fi

# The pure core (STYLE.md): edge, browser, origin, the step flow, scenario validation,
# the field/time/message primitives, and the proxy's request/response framing.
core=(
    -f 'src/edge/**/*.rs' -f 'src/browser/**/*.rs' -f 'src/origin/**/*.rs'
    -f 'src/flow/**/*.rs' -f 'src/scenario/mod.rs' -f 'src/scenario/raw.rs'
    -f 'src/fields.rs' -f 'src/time.rs' -f 'src/message.rs' -f 'src/net/convert.rs'
)
if [ $# -gt 0 ] && printf '%s\n' "$@" | grep -qx -- '-f\|--file'; then
    core=() # the caller chose the files
fi

if printf '%s\n' "$@" | grep -qx -- '--list'; then
    exec cargo mutants "${core[@]}" "$@" # just list, nothing to summarise
fi

limit=${MUTANTS_TIME_LIMIT:-6h}
echo "== cargo mutants over the core (time limit $limit)"
timeout --signal=INT --kill-after=120 "$limit" \
    cargo mutants "${core[@]}" "${lib_only[@]}" \
    --timeout "${MUTANTS_TEST_TIMEOUT:-300}" --jobs "${MUTANTS_JOBS:-1}" "$@"
rc=$?
case $rc in
    0) echo "mutants.sh: every viable mutant was caught" ;;
    2) echo "mutants.sh: MISSED mutants (see mutants.out/missed.txt): add a test or a reviewed exclusion" ;;
    3) echo "mutants.sh: some mutants timed out (see mutants.out/timeout.txt); none missed" ;;
    124|130) echo "mutants.sh: time limit $limit reached before every mutant was tested; partial results in mutants.out/"; rc=124 ;;
    *) echo "mutants.sh: cargo mutants failed (exit $rc)" ;;
esac
exit $rc
