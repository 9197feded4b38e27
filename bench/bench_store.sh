#!/usr/bin/env bash
# PostgreSQL against SQLite in the same run (issue 4; a benchmark, not a test):
#   (1) in-process authkit_session_validate() per second on one thread, at 10,000 and
#       1,000,000 stored sessions, on both stores at once: bench_validate --database sqlite
#       --database <a throwaway PostgreSQL>, whose rounds interleave store after store and
#       size after size, so that pg/sqlite and the flatness compare figures taken under the
#       same load; each against its raw point look-up on the same store;
#   (2) GET /me requests per second through `authkit serve` on the same four databases
#       (bench_validate --leave), wrk -t2 -c64 for 10 s each, one after the other (size by
#       size, SQLite then PostgreSQL), each server started for its run and stopped after.
#
#   bash bench/bench_store.sh BUILD_DIR   (needs BUILD_DIR/bench/bench_validate and
#                                          BUILD_DIR/authkit; Release build)
#
# The PostgreSQL server is tests/support/pg_server.sh's (initdb in a temporary directory,
# Unix socket only, fsync off, otherwise PostgreSQL's defaults: shared_buffers 128 MB); it
# is stopped and everything is deleted at the end, also on failure or a signal. Takes 3-5
# minutes on 2 cores. The environment may change:
#   AUTHKIT_STOREBENCH_SESSIONS="10000 1000000"  database sizes
#   AUTHKIT_STOREBENCH_COUNT=200000   validations (and raw look-ups) timed per store and size
#   AUTHKIT_STOREBENCH_SECONDS=10     length of each wrk run; 0 skips part (2)
#   AUTHKIT_STOREBENCH_KEEP=1         keep the temporary directory (logs, wrk outputs)
# Exits non-zero only when the benchmark cannot run; a missed goal is a figure.
# Installs nothing: needs PostgreSQL (server and psql), wrk and curl (Debian packages
# postgresql, wrk, curl).
set -euo pipefail
export LC_ALL=C

build=${1:?usage: bash bench/bench_store.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
read -ra sizes <<<"${AUTHKIT_STOREBENCH_SESSIONS:-10000 1000000}"
count=${AUTHKIT_STOREBENCH_COUNT:-200000}
seconds=${AUTHKIT_STOREBENCH_SECONDS:-10}
keep=${AUTHKIT_STOREBENCH_KEEP:-0}
lifetime=900 # every server is also bounded by this (under `timeout`)
password="correct horse battery staple" # bench_validate's users (user000..user099)

die() {
  echo "bench_store.sh: $*" >&2
  exit 1
}

bench_validate=$(realpath -e -- "$build/bench/bench_validate" 2>/dev/null) || bench_validate=""
authkit=$(realpath -e -- "$build/authkit" 2>/dev/null) || authkit=""
[[ -n $bench_validate && -x $bench_validate && -n $authkit && -x $authkit ]] || die "build first:
  cmake -S . -B $build -DCMAKE_BUILD_TYPE=Release -DAUTHKIT_BUILD_TESTS=OFF
  cmake --build $build -j2 --target bench_validate authkit_cli"
[ ${#sizes[@]} -ge 1 ] || die "AUTHKIT_STOREBENCH_SESSIONS is empty"
for n in "${sizes[@]}" "$count" "$seconds"; do
  [[ $n =~ ^[0-9]+$ ]] || die "sizes, count and seconds must be whole numbers, not '$n'"
done
need=(psql curl timeout awk)
[ "$seconds" -gt 0 ] && need+=(wrk)
for p in "${need[@]}"; do
  command -v "$p" >/dev/null 2>&1 || die "'$p' is not installed (Debian: apt-get install postgresql wrk curl)"
done

# Only this benchmark's configuration: no AUTHKIT_* from the caller.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^AUTHKIT_' || true)

dir=""
pg_dir=""
pids=() # timeout wrappers of the authkit servers
cleanup() {
  local status=$? pid n
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for ((n = 0; n < 100; n++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # SQLite databases that bench_validate left for part (2).
  if [ -n "$dir" ] && [ -f "$dir/databases" ]; then
    while read -r store _ _ db_dir; do
      [ "$store" = sqlite ] && [[ $db_dir == /tmp/authkit-bench-* ]] && rm -rf -- "$db_dir"
    done <"$dir/databases"
  fi
  [ -n "$pg_dir" ] && bash "$root/tests/support/pg_server.sh" stop "$pg_dir" >/dev/null 2>&1
  if [ -n "$dir" ] && [ -d "$dir" ]; then
    if [ "$status" -ne 0 ]; then
      for f in "$dir"/serve-*.err; do
        [ -s "$f" ] && { echo "--- $f (last 5 lines)" >&2; tail -n 5 "$f" >&2; }
      done
    fi
    if [ "$keep" = 1 ]; then echo "bench_store.sh: kept $dir" >&2; else rm -rf -- "$dir"; fi
  fi
  return "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

dir=$(mktemp -d /tmp/authkit-storebench.XXXXXX) || die "cannot create a temp dir"

calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }

started=$SECONDS
echo "== authkit store benchmark, PostgreSQL against SQLite: $(date -u '+%Y-%m-%d %H:%M UTC')," \
  "$(nproc) CPUs, $(uname -m)"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (shared machines are noisy:"
echo "   compare the ratios, not the absolute numbers)"

# ---- the PostgreSQL server ----
pg_dir=$dir/pg
t0=$SECONDS
conninfo=$(bash "$root/tests/support/pg_server.sh" start "$pg_dir") ||
  die "cannot start PostgreSQL (tests/support/pg_server.sh)"
pg_version=$(psql "$conninfo" -XAtqc "SHOW server_version") || die "psql cannot connect: $conninfo"
pg_buffers=$(psql "$conninfo" -XAtqc "SHOW shared_buffers")
echo "   PostgreSQL $pg_version (throwaway server, Unix socket, fsync off, shared_buffers" \
  "$pg_buffers), started in $((SECONDS - t0)) s; SQLite $(
    "$authkit" version 2>/dev/null | head -n1)"

# ---- (1) in-process validations ----
echo
size_args=()
for n in "${sizes[@]}"; do size_args+=(--sessions "$n"); done
leave=()
[ "$seconds" -gt 0 ] && leave=(--leave "$dir/databases")
echo "== (1) bench_validate --database sqlite --database '$conninfo' ${size_args[*]} --count $count"
t0=$SECONDS
"$bench_validate" --database sqlite --database "$conninfo" "${size_args[@]}" --count "$count" \
  "${leave[@]}" | tee "$dir/validate.out" || die "bench_validate failed"
validate_s=$((SECONDS - t0))
result() { sed -n "s/^RESULT $1=//p" "$dir/validate.out" | head -n1; }

# ---- (2) GET /me through authkit serve ----
http_lines=()
http_results=()
if [ "$seconds" -gt 0 ]; then
  echo
  echo "== (2) GET /me through authkit serve (defaults: $(nproc) HTTP threads; the login's cookie);"
  echo "   wrk -t2 -c64 -d${seconds}s per database after a 2 s warm-up, one server at a time"
  [ -s "$dir/databases" ] || die "bench_validate listed no databases"
  AUTHKIT_SESSION_SECRET=$(head -c 30 /dev/urandom | base64 | tr '+/' '-_')
  export AUTHKIT_SESSION_SECRET
  # wrk's duration ("2.13ms", "850.00us", "1.20s") in milliseconds.
  to_ms() {
    awk -v v="$1" 'BEGIN { u = v; sub(/^[0-9.]+/, "", u); x = v + 0
      printf "%.2f", u == "us" ? x / 1000 : u == "ms" ? x : u == "s" ? x * 1000 : u == "m" ? x * 60000 : -1 }'
  }
  i=0
  while read -r store n url _; do
    i=$((i + 1))
    (cd "$dir" && exec timeout "$lifetime" "$authkit" serve --database "$url" \
      --listen 127.0.0.1:0 >"serve-$i.out" 2>"serve-$i.err") &
    pids+=("$!")
    port=""
    for ((k = 0; k < 100; k++)); do
      port=$(sed -nE 's#.*listening on http://127\.0\.0\.1:([0-9]+).*#\1#p' "$dir/serve-$i.out" | head -n1)
      [ -n "$port" ] && break
      kill -0 "${pids[-1]}" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$port" ] || die "authkit serve on $store/$n did not report its port"
    base=http://127.0.0.1:$port
    curl -sS --max-time 30 -D "$dir/login-$i.headers" -o "$dir/login-$i.json" \
      -H 'Content-Type: application/json' \
      --data "{\"username\":\"user000\",\"password\":\"$password\"}" "$base/login" ||
      die "POST /login on $store/$n failed"
    cookie=$(sed -nE 's/^[Ss]et-[Cc]ookie: *([^;]+);.*/\1/p' "$dir/login-$i.headers" | head -n1)
    [ -n "$cookie" ] || die "POST /login on $store/$n set no cookie: $(head -c 300 "$dir/login-$i.json")"
    code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base/me")
    [ "$code" = 200 ] || die "GET /me on $store/$n answered $code"
    wrk -t2 -c64 -d2s -H "Cookie: $cookie" "$base/me" >/dev/null 2>&1 || true
    out=$dir/wrk-$store-$n.out
    wrk -t2 -c64 -d"${seconds}s" --timeout 10s --latency -H "Cookie: $cookie" "$base/me" \
      >"$out" 2>&1 || die "wrk on $store/$n failed: $(tail -n 3 "$out")"
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
    sock=$(awk '/Socket errors:/ { s = 0; for (i = 4; i <= NF; i += 2) s += $i; print s }' "$out")
    [ -n "$rps" ] || die "wrk on $store/$n printed no rate: $(tail -n 3 "$out")"
    code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base/me")
    kill -TERM "${pids[-1]}" 2>/dev/null || true
    wait "${pids[-1]}" 2>/dev/null || true
    unset 'pids[-1]'
    http_lines+=("$(printf '  %-10s %9s sessions  %7s req/s  p50 %6s ms  p99 %7s ms  non-2xx %s  socket errors %s  /me after: %s' \
      "$store" "$n" "$rps" "$p50" "$p99" "${bad:-0}" "${sock:-0}" "$code")")
    echo "${http_lines[-1]}"
    http_results+=("me_rps_${store}_$n=$rps" "me_p99_ms_${store}_$n=$p99" "me_errors_${store}_$n=$((${bad:-0} + ${sock:-0}))")
    eval "rps_${store}_$n=$rps"
  done < <(sort -k2,2n -k1,1r "$dir/databases") # size by size, SQLite then PostgreSQL
fi

# ---- summary ----
runtime=$((SECONDS - started))
small=${sizes[0]} large=${sizes[0]}
for n in "${sizes[@]}"; do
  [ "$n" -lt "$small" ] && small=$n
  [ "$n" -gt "$large" ] && large=$n
done
echo
echo "== Summary (validations: medians of interleaved chunks; GET /me: one wrk run each;"
echo "   pg/sqlite < 1: PostgreSQL slower)"
printf '  %-34s %12s %12s %9s\n' "" SQLite PostgreSQL pg/sqlite
for n in "${sizes[@]}"; do
  printf '  %-34s %12s %12s %9s\n' "validations/s at $n" "$(result "validate_per_s_$n")" \
    "$(result "pg_validate_per_s_$n")" "$(result "ratio_pg_sqlite_validate_$n")"
  printf '  %-34s %12s %12s %9s\n' "raw look-ups/s at $n" "$(result "raw_per_s_$n")" \
    "$(result "pg_raw_per_s_$n")" "$(result "ratio_pg_sqlite_raw_$n")"
  printf '  %-34s %12s %12s\n' "validate/raw at $n" "$(result "ratio_validate_raw_$n")" \
    "$(result "pg_ratio_validate_raw_$n")"
done
if [ "$small" != "$large" ]; then
  printf '  %-34s %12s %12s   (goal <= 1.5)\n' "flatness rate($small)/rate($large)" \
    "$(result "flatness_${small}_over_$large")" "$(result "pg_flatness_${small}_over_$large")"
fi
extra=()
if [ "$seconds" -gt 0 ]; then
  for n in "${sizes[@]}"; do
    s=rps_sqlite_$n p=rps_pg_$n
    r=$(calc "${!p} / ${!s}")
    printf '  %-34s %12s %12s %9s\n' "GET /me req/s at $n" "${!s}" "${!p}" "$r"
    extra+=("ratio_me_pg_sqlite_$n=$r")
  done
  if [ "$small" != "$large" ]; then
    s1=rps_sqlite_$small s2=rps_sqlite_$large p1=rps_pg_$small p2=rps_pg_$large
    fs=$(calc "${!s1} / ${!s2}") fp=$(calc "${!p1} / ${!p2}")
    printf '  %-34s %12s %12s\n' "GET /me flatness $small/$large" "$fs" "$fp"
    extra+=("me_flatness_sqlite_${small}_over_$large=$fs" "me_flatness_pg_${small}_over_$large=$fp")
  fi
fi
echo "  runtime $runtime s (validations $validate_s s); load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
for r in "${http_results[@]}" "${extra[@]}"; do echo "RESULT $r"; done
echo "RESULT store_bench_runtime_s=$runtime"
