#!/usr/bin/env bash
# Runs libFuzzer targets for SECONDS (default 30) each, one at a time, on a temporary copy
# of each seed corpus, one line per target, then "fuzz: N passed, M failed". Exits
# non-zero when any target crashed, failed an assertion, leaked, or is missing.
#   usage: fuzz/run.sh BUILD_DIR [SECONDS [TARGET...]]
# BUILD_DIR is configured with AUTHKIT_BUILD_FUZZ=ON; the targets are every one it lists
# in BUILD_DIR/fuzz/targets (one per fuzz/fuzz_*.c), or only the TARGETs named.
# Logs go to BUILD_DIR/fuzz/logs/<target>.log, crashing inputs to BUILD_DIR/fuzz/artifacts/.
set -uo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [SECONDS [TARGET...]]" >&2
  exit 2
fi
build=$1
seconds=${2:-30}
shift $(($# < 2 ? $# : 2))
# -max_total_time=0 would mean "no limit".
case $seconds in
  '' | *[!0-9]* | 0) echo "run.sh: SECONDS must be a whole number above 0, not '$seconds'" >&2; exit 2 ;;
esac
if [ ! -d "$build" ]; then
  echo "run.sh: no build directory $build (configure with -DAUTHKIT_BUILD_FUZZ=ON)" >&2
  exit 2
fi
fuzz_dir=$(cd "$(dirname "$0")" && pwd)
if [ $# -gt 0 ]; then
  targets=("$@")
elif [ -f "$build/fuzz/targets" ]; then
  mapfile -t targets <"$build/fuzz/targets"
else
  echo "run.sh: no $build/fuzz/targets (configure with -DAUTHKIT_BUILD_FUZZ=ON)" >&2
  exit 2
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "run.sh: no targets to run" >&2
  exit 2
fi

logs=$build/fuzz/logs
artifacts=$build/fuzz/artifacts
mkdir -p "$logs" "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/authkit-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Any sanitizer report is fatal; UBSan's checks recover by default, so halt on them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

passed=0
failed=0
for t in "${targets[@]}"; do
  bin=$build/fuzz/$t
  if [ ! -x "$bin" ]; then
    echo "$t: FAILED (no executable at $bin)"
    failed=$((failed + 1))
    continue
  fi
  corpus=$work/$t
  mkdir -p "$corpus"
  cp "$fuzz_dir/corpus/$t/"* "$corpus/" 2>/dev/null || true
  log=$logs/$t.log
  # fuzz/<target>.options: extra libFuzzer flags, after the defaults so they win.
  extra=()
  [ -f "$fuzz_dir/$t.dict" ] && extra+=(-dict="$fuzz_dir/$t.dict")
  [ -f "$fuzz_dir/$t.options" ] && read -r -a opts <"$fuzz_dir/$t.options" && extra+=("${opts[@]}")
  "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=30 -print_final_stats=1 \
    "${extra[@]}" -artifact_prefix="$artifacts/$t-" "$corpus" >"$log" 2>&1
  rc=$?
  # The last status line ("#N DONE cov: C ft: F corp: K/...") and the final stats.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  status=$(grep -E '^#[0-9]+' "$log" | tail -n1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$status")
  if [ $rc -eq 0 ]; then
    echo "$t: ok, ${execs:-?} runs (${speed:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
    passed=$((passed + 1))
  else
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)
    reason=$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz_[a-z_]+: )' "$log")
    echo "$t: FAILED (exit $rc) ${reason:-see log}; input: ${crash:-none}; log: $log"
    failed=$((failed + 1))
  fi
done

echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
