#!/usr/bin/env bash
# Runs the benchmarks built in BUILD_DIR and prints their reports.
#   bash bench/run.sh BUILD_DIR
# Extra arguments for each program may be given in the environment, e.g.
#   AUTHKIT_BENCH_AUTH_ARGS="--rounds 5" AUTHKIT_BENCH_VALIDATE_ARGS="--count 200000"
#   AUTHKIT_BENCH_TIMING_ARGS="--cost 10 --rounds 50"   (the default takes 8-10 minutes)
# Exits non-zero only when a program fails to run; a missed goal is a figure, not a failure.
set -euo pipefail

build=${1:?usage: bash bench/run.sh BUILD_DIR}
bin="$build/bench"
for prog in bench_authenticate bench_validate bench_timing; do
    if [[ ! -x "$bin/$prog" ]]; then
        echo "run.sh: $bin/$prog is missing; build it first:" >&2
        echo "  cmake --build $build --target bench_authenticate bench_validate bench_timing" >&2
        exit 1
    fi
done

echo "== authkit benchmarks: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -m)"
echo "   (shared machines are noisy: compare the ratios, not the absolute numbers)"
status=0
run() {
    local prog=$1
    shift
    echo
    echo "== $prog $*"
    local start=$SECONDS
    # Word splitting of the extra arguments is intended.
    "$bin/$prog" "$@" || status=1
    echo "== $prog took $((SECONDS - start)) s"
}
# shellcheck disable=SC2086
run bench_authenticate ${AUTHKIT_BENCH_AUTH_ARGS:-}
# shellcheck disable=SC2086
run bench_validate ${AUTHKIT_BENCH_VALIDATE_ARGS:-}
# shellcheck disable=SC2086
run bench_timing ${AUTHKIT_BENCH_TIMING_ARGS:-}
exit $status
