#!/usr/bin/env bash
# HTTP benchmark of `authkit serve` with wrk (not a test; see bench/README.md):
#   (a) GET /me with a valid cookie against nginx answering `return 200`, same wrk load;
#   (b) the same GET /me load while a second wrk floods POST /login (real bcrypt, cost 12);
#   (c) the server's RSS after the runs, with 100,000 live sessions in its database.
#
#   bash bench/http.sh BUILD_DIR          (the binary is BUILD_DIR/authkit; Release build)
#
# Everything runs on 127.0.0.1 in a private temporary directory that is deleted at the
# end, with every process stopped (also on failure or a signal). Takes 100-110 s
# with the defaults. The environment may change them:
#   AUTHKIT_HTTPBENCH_SECONDS=10      length of each measured wrk run
#   AUTHKIT_HTTPBENCH_ROUNDS=2        rounds of (nginx, /me idle, /me under a login flood)
#   AUTHKIT_HTTPBENCH_CONNECTIONS=64  wrk's connections for the GET loads (nginx and /me)
#   AUTHKIT_HTTPBENCH_SESSIONS=100000 sessions bulk-inserted before the server starts
#   AUTHKIT_HTTPBENCH_SERVE_ARGS=""   extra flags for `authkit serve` (default: none, so
#                                     the defaults: cores-1 password workers (3 on
#                                     2-3 cores), cores HTTP threads, queue 64,
#                                     bcrypt cost 12)
#   AUTHKIT_HTTPBENCH_KEEP=1          keep the temporary directory (logs, wrk outputs)
# Exits non-zero only when the benchmark cannot run; a missed goal is a figure, not a
# failure. Installs nothing: needs wrk, nginx, sqlite3, curl, python3 (Debian packages).
set -euo pipefail
export LC_ALL=C

build=${1:?usage: bash bench/http.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
seconds=${AUTHKIT_HTTPBENCH_SECONDS:-10}
rounds=${AUTHKIT_HTTPBENCH_ROUNDS:-2}
connections=${AUTHKIT_HTTPBENCH_CONNECTIONS:-64}
# Room for every connection twice (client and server side) in each process started here.
ulimit -Sn $((2 * connections + 1024)) 2>/dev/null || true
sessions=${AUTHKIT_HTTPBENCH_SESSIONS:-100000}
serve_args=${AUTHKIT_HTTPBENCH_SERVE_ARGS:-}
keep=${AUTHKIT_HTTPBENCH_KEEP:-0}
lifetime=600 # every background process is also bounded by this (under `timeout`)

# Goals (issue 3).
goal_a=0.70         # /me req/s over nginx req/s
goal_b=0.40         # /me req/s during the login flood over idle
goal_b_p99_ms=20    # /me p99 during the flood
goal_b_logins=0.45  # logins completed per second over cores / (one cost-12 hash)
goal_c_mib=16       # VmRSS after the runs, MiB

die() {
  echo "http.sh: $*" >&2
  exit 1
}

for p in wrk nginx sqlite3 curl python3 timeout ps awk; do
  command -v "$p" >/dev/null 2>&1 ||
    die "'$p' is not installed (Debian: apt-get install wrk nginx sqlite3 curl python3)"
done
authkit=$(realpath -e -- "$build/authkit" 2>/dev/null) || authkit=""
[[ -n $authkit && -x $authkit ]] ||
  die "no authkit binary at $build/authkit; build it first:
  cmake -S . -B $build -DCMAKE_BUILD_TYPE=Release -DAUTHKIT_BUILD_TESTS=OFF
  cmake --build $build -j2 --target authkit_cli"
# The libxcrypt that authkit uses, for timing one bcrypt outside the server.
libcrypt=$(ldd "$authkit" | awk '$1 == "libcrypt.so.1" { print $3 }')
[ -n "$libcrypt" ] || die "$authkit is not linked with libcrypt.so.1 (libxcrypt)"
[[ $seconds =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ && $sessions =~ ^[0-9]+$ ]] ||
  die "AUTHKIT_HTTPBENCH_SECONDS, _ROUNDS and _SESSIONS must be whole numbers"

# Only this benchmark's configuration: no AUTHKIT_* from the caller (the bcrypt cost in
# particular stays at its default, 12).
while read -r v; do unset "$v"; done < <(compgen -e | grep '^AUTHKIT_' || true)

dir=""
pids=()      # long-lived processes (timeout wrappers of authkit and nginx), oldest first
flood_pid="" # the background login wrk while it runs

cleanup() {
  local status=$? i pid n
  if [ -n "$flood_pid" ]; then
    kill -TERM "$flood_pid" 2>/dev/null || true
    wait "$flood_pid" 2>/dev/null || true
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for ((n = 0; n < 150; n++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$dir" ] && [ -d "$dir" ]; then
    if [ "$status" -ne 0 ]; then
      for f in authkit.err nginx-error.log nginx.out; do
        [ -s "$dir/$f" ] && { echo "--- $f (last 10 lines)" >&2; tail -n 10 "$dir/$f" >&2; }
      done
    fi
    if [ "$keep" = 1 ]; then echo "http.sh: kept $dir" >&2; else rm -rf "$dir"; fi
  fi
  return "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

dir=$(mktemp -d "${TMPDIR:-/tmp}/authkit-httpbench.XXXXXX") || die "cannot create a temp dir"

# ---- helpers ----

calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
ge() { awk "BEGIN { exit !($1 >= $2) }"; }
le() { awk "BEGIN { exit !($1 <= $2) }"; }
yesno() { if "$@"; then echo yes; else echo no; fi; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# The value of KEY in a line of KEY=VALUE words.
kv() { awk -v k="$2" '{ for (i = 1; i <= NF; i++) { n = index($i, "="); if (n && substr($i, 1, n - 1) == k) { print substr($i, n + 1); exit } } }' <<<"$1"; }

# User + system CPU time of processes (summed), in seconds.
clk_tck=$(getconf CLK_TCK)
cpu_s() {
  local p
  for p in "$@"; do cat "/proc/$p/stat"; done |
    awk -v hz="$clk_tck" '{ sub(/.*\) /, ""); t += $12 + $13 } END { printf "%.3f", t / hz }'
}
# Busy and total jiffies of all CPUs ("busy total"), from /proc/stat.
cpu_jiffies() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat; }
# One field of /proc/PID/status, in kB.
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Waits up to 10 s for a line matching the extended regex $2 in file $1 while process $3
# lives; prints the first capture group.
wait_line() {
  local file=$1 regex=$2 pid=$3 n line
  for ((n = 0; n < 100; n++)); do
    line=$(grep -E -m1 "$regex" "$file" 2>/dev/null || true)
    if [ -n "$line" ]; then
      sed -E "s#.*$regex.*#\\1#" <<<"$line"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# One bcrypt at cost 12, timed in a tiny loop in one process with the libxcrypt that authkit
# links (crypt_gensalt + crypt through ctypes; a fresh salt each time): N more durations,
# in seconds, go to `hashes`.
hashes=()
sample_hashes() {
  local out
  out=$(python3 - "$libcrypt" "$1" <<'PY'
import ctypes, sys, time
lib = ctypes.CDLL(sys.argv[1])
lib.crypt_gensalt.restype = lib.crypt.restype = ctypes.c_char_p
lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
for _ in range(int(sys.argv[2])):
    salt = lib.crypt_gensalt(b"$2b$", 12, None, 0)
    t = time.perf_counter()
    h = lib.crypt(b"correct horse battery staple", salt)
    d = time.perf_counter() - t
    if not h or not h.startswith(b"$2b$12$") or len(h) != 60:
        sys.exit("crypt failed")
    print("%.6f" % d)
PY
  ) || die "timing bcrypt with $libcrypt failed"
  # shellcheck disable=SC2206 # one number per line
  hashes+=($out)
}

# Waits until the server has used less than 10% of a core for half a second (the password
# queue has drained after a flood); prints the seconds waited. Polls /proc only: a
# /metrics scrape would count the sessions and so touch the whole table.
wait_idle() {
  local start=$EPOCHREALTIME a b n
  for ((n = 0; n < 60; n++)); do
    a=$(cpu_s "$server_pid")
    sleep 0.5
    b=$(cpu_s "$server_pid")
    le "$b - $a" 0.05 && break
  done
  calc "$EPOCHREALTIME - $start" 1
}

# GET load: wrk -t2 -c$connections for $seconds s on URL $2; the run is named $1; the processes
# PID... are the server under test. Sets `line` to the script's WRK line plus the
# server's CPU use (cores, and microseconds per request) and how busy all CPUs were
# during the run, and run_t0 and run_t1 to the start and end of the run (wall clock, us).
line="" run_t0=0 run_t1=0
run_get() {
  local name=$1 url=$2 out=$dir/wrk-$1.out c0 c1 t0 t1 j0 j1
  shift 2
  read -ra j0 < <(cpu_jiffies)
  c0=$(cpu_s "$@")
  t0=$EPOCHREALTIME
  run_t0=${t0/./}
  wrk -t2 -c"$connections" -d"${seconds}s" --timeout 10s --latency -H "Cookie: $cookie" \
    -s "$here/http_me.lua" "$url" >"$out" 2>&1 || die "wrk ($name) failed: $(tail -n 3 "$out")"
  t1=$EPOCHREALTIME
  run_t1=${t1/./}
  c1=$(cpu_s "$@")
  read -ra j1 < <(cpu_jiffies)
  line=$(grep -m1 '^WRK ' "$out") || die "wrk ($name) printed no summary: $(tail -n 3 "$out")"
  line="$line server_cpu_s=$(calc "$c1 - $c0") server_cores=$(calc "($c1 - $c0) / ($t1 - $t0)" 2)"
  line="$line server_cpu_us=$(calc "($c1 - $c0) * 1000000 / $(kv "$line" requests)" 1)"
  line="$line machine_busy=$(calc "100 * (${j1[0]} - ${j0[0]}) / (${j1[1]} - ${j0[1]})" 0)"
}

rps() { calc "$(kv "$1" requests) * 1000000 / $(kv "$1" duration_us)" 0; }
ms() { calc "$(kv "$1" "$2") / 1000" 2; }
errors() {
  local l=$1
  echo $(($(kv "$l" connect_errors) + $(kv "$l" read_errors) + $(kv "$l" write_errors) + \
    $(kv "$l" status_errors) + $(kv "$l" timeouts)))
}
show_get() {
  printf '  %-19s %6s req/s  p50 %5s  p99 %7s  max %7s ms  errors %s  server %s cores, %s us/req  CPUs %s%% busy\n' \
    "$1" "$(rps "$2")" "$(ms "$2" p50_us)" "$(ms "$2" p99_us)" "$(ms "$2" max_us)" \
    "$(errors "$2")" "$(kv "$2" server_cores)" "$(kv "$2" server_cpu_us)" "$(kv "$2" machine_busy)"
}

started=$SECONDS
cores=$(nproc)
echo "== authkit HTTP benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $cores CPUs, $(uname -m)"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (shared machines are noisy:"
echo "   compare the ratios, not the absolute numbers)"
echo "   $("$authkit" version 2>/dev/null | head -n1); $(nginx -v 2>&1); $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2)"

# ---- the database: one user (bcrypt at the default cost), then N bulk-inserted sessions ----

AUTHKIT_SESSION_SECRET=$(head -c 30 /dev/urandom | base64 | tr '+/' '-_')
export AUTHKIT_SESSION_SECRET # 40 characters
export AUTHKIT_DATABASE_URL="sqlite://$dir/authkit.db"
password="Pw$(head -c 15 /dev/urandom | base64 | tr -d '+/=')" # letters and digits only
(cd "$dir" && "$authkit" migrate >/dev/null 2>"$dir/setup.err") ||
  die "authkit migrate failed: $(tail -n 1 "$dir/setup.err")"
(cd "$dir" && "$authkit" user add --email bench@example.com --username bench \
  <<<"$password" >/dev/null 2>"$dir/setup.err") ||
  die "authkit user add failed: $(tail -n 1 "$dir/setup.err")"
hash_prefix=$(sqlite3 "$dir/authkit.db" "SELECT substr(password_hash, 1, 7) FROM users WHERE username = 'bench'")
[ "$hash_prefix" = "\$2b\$12\$" ] || die "the user's hash is '$hash_prefix...', not bcrypt cost 12"

# Sessions with random token hashes (their tokens exist nowhere): rows of the same shape
# as the library's, UUIDv4 ids, times in microseconds, alive for a day.
t0=$EPOCHREALTIME
sqlite3 "$dir/authkit.db" >/dev/null <<SQL || die "the bulk insert of sessions failed"
PRAGMA cache_size = -262144;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $sessions)
INSERT INTO auth_sessions (id, user_id, token_hash, created_at, expires_at, last_seen_at, ip, user_agent)
SELECT lower(printf('%s-%s-4%s-%s%s-%s', hex(randomblob(4)), hex(randomblob(2)),
                    substr(hex(randomblob(2)), 2), substr('89ab', 1 + abs(random() % 4), 1),
                    substr(hex(randomblob(2)), 2), hex(randomblob(6)))),
       (SELECT id FROM users WHERE username = 'bench'), randomblob(32),
       unixepoch() * 1000000, (unixepoch() + 86400) * 1000000, unixepoch() * 1000000,
       '192.0.2.10', 'Mozilla/5.0 (X11; Linux x86_64) bench/http.sh'
FROM n WHERE $sessions > 0;
COMMIT;
SQL
bulk_s=$(calc "$EPOCHREALTIME - $t0" 1)
db_mib=$(calc "$(stat -c %s "$dir/authkit.db") / 1048576" 1)

# ---- the servers ----

# Word splitting of the extra flags is intended.
# shellcheck disable=SC2086
(cd "$dir" && exec timeout "$lifetime" "$authkit" serve --listen 127.0.0.1:0 $serve_args \
  >authkit.out 2>authkit.err) &
pids+=("$!")
port=$(wait_line "$dir/authkit.out" 'listening on http://127\.0\.0\.1:([0-9]+)' "$!") ||
  die "authkit serve did not report its port"
server_pid=$(ps -o pid= --ppid "${pids[0]}" | tr -d ' ')
[[ -n $server_pid && $(cat "/proc/$server_pid/comm" 2>/dev/null) == authkit ]] ||
  die "cannot find the authkit process"
base=http://127.0.0.1:$port
rss_start=$(status_kb "$server_pid" VmRSS)
threads_start=$(status_kb "$server_pid" Threads)

# A real login gives the cookie of the GET load.
curl -sS --max-time 10 -D "$dir/login.headers" -o "$dir/login.json" -H 'Content-Type: application/json' \
  --data "{\"username\":\"bench\",\"password\":\"$password\"}" "$base/login" ||
  die "POST /login failed"
cookie=$(sed -nE 's/^[Ss]et-[Cc]ookie: *([^;]+);.*/\1/p' "$dir/login.headers" | head -n1)
[ -n "$cookie" ] || die "POST /login set no cookie: $(head -c 300 "$dir/login.json")"
code=$(curl -sS --max-time 10 -o "$dir/me.json" -w '%{http_code}' -H "Cookie: $cookie" "$base/me")
[ "$code" = 200 ] || die "GET /me with the login's cookie answered $code"

nginx_port=$(free_port) || die "no free port for nginx"
mkdir -p "$dir/nginx-tmp"
{
  echo "daemon off;"
  echo "worker_processes auto;"
  echo "pid $dir/nginx.pid;"
  echo "error_log $dir/nginx-error.log warn;"
  # Workers of a root master run as nobody, who cannot write the temp dir.
  if [ "$(id -u)" -eq 0 ]; then echo "user root;"; fi
  echo "events { worker_connections $((connections + 1024)); }"
  echo "http {"
  echo "    access_log off;"
  echo "    keepalive_requests 1000000;" # as libmicrohttpd: no reconnect every 1000 requests
  for t in client_body proxy fastcgi uwsgi scgi; do echo "    ${t}_temp_path $dir/nginx-tmp/$t;"; done
  echo "    server {"
  echo "        listen 127.0.0.1:$nginx_port;"
  echo "        location / { return 200; }"
  echo "    }"
  echo "}"
} >"$dir/nginx.conf"
nginx -t -q -p "$dir/" -c "$dir/nginx.conf" >"$dir/nginx.out" 2>&1 ||
  die "nginx rejects the configuration: $(tail -n 3 "$dir/nginx.out")"
timeout "$lifetime" nginx -p "$dir/" -c "$dir/nginx.conf" >>"$dir/nginx.out" 2>&1 &
pids+=("$!")
for ((n = 0; n < 100; n++)); do
  code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "http://127.0.0.1:$nginx_port/" || true)
  [ "$code" = 200 ] && break
  kill -0 "${pids[1]}" 2>/dev/null || die "nginx did not start: $(tail -n 3 "$dir/nginx-error.log" 2>/dev/null)"
  sleep 0.1
done
[ "$code" = 200 ] || die "nginx does not answer 200"
nginx_master=$(ps -o pid= --ppid "${pids[1]}" | tr -d ' ')
[ -n "$nginx_master" ] || die "cannot find the nginx master process"
read -ra nginx_pids < <(ps -o pid= --ppid "$nginx_master" | tr '\n' ' '; echo)
nginx_pids=("$nginx_master" "${nginx_pids[@]}") # master and workers

workers=$((cores < 2 ? 1 : cores < 4 ? 3 : cores - 1))
echo
echo "Setup: authkit serve on $base (defaults: $workers password worker(s) (cores - 1, three on 2-3 cores), $cores HTTP"
echo "  threads = cores, password queue 64, bcrypt cost 12; extra flags: '${serve_args:-none}'),"
echo "  $threads_start threads; nginx on 127.0.0.1:$nginx_port (worker_processes auto, return 200,"
echo "  access_log off). Database: 1 user + $sessions sessions bulk-inserted with sqlite3 in ${bulk_s} s"
echo "  ($db_mib MiB). Each wrk run: ${seconds} s. GET load: wrk -t2 -c64 with the login's cookie."
echo "  Login flood: wrk -t1 -c16 POST /login (JSON, right password) for $((seconds + 2)) s around the GET run."

sample_hashes 4

# Warm-up, not measured.
wrk -t2 -c64 -d2s -H "Cookie: $cookie" "http://127.0.0.1:$nginx_port/me" >/dev/null 2>&1 || true
wrk -t2 -c64 -d2s -H "Cookie: $cookie" "$base/me" >/dev/null 2>&1 || true

nginx_req=0 nginx_us=0 nginx_cpu=0 idle_cpu=0 idle_req=0 idle_us=0 flood_req=0 flood_us=0
window_logins=0 window_us=0 login_ok=0 login_401=0 login_503=0 login_other=0 login_errors=0
p99_flood_max=0 p99_idle_max=0 get_errors=0 drained=()
for ((r = 1; r <= rounds; r++)); do
  echo
  echo "Round $r/$rounds"
  run_get "nginx-$r" "http://127.0.0.1:$nginx_port/me" "${nginx_pids[@]}"
  show_get "nginx return 200" "$line"
  nginx_req=$((nginx_req + $(kv "$line" requests))) nginx_us=$((nginx_us + $(kv "$line" duration_us)))
  nginx_cpu=$(calc "$nginx_cpu + $(kv "$line" server_cpu_s)")
  get_errors=$((get_errors + $(errors "$line")))

  run_get "idle-$r" "$base/me" "$server_pid"
  show_get "authkit /me idle" "$line"
  idle_req=$((idle_req + $(kv "$line" requests))) idle_us=$((idle_us + $(kv "$line" duration_us)))
  idle_cpu=$(calc "$idle_cpu + $(kv "$line" server_cpu_s)")
  get_errors=$((get_errors + $(errors "$line")))
  p99_idle_max=$(awk -v a="$p99_idle_max" -v b="$(kv "$line" p99_us)" 'BEGIN { print (a > b) ? a : b }')

  wrk -t1 -c16 -d"$((seconds + 2))s" --timeout 60s --latency -s "$here/http_login.lua" \
    "$base/login" -- bench "$password" >"$dir/wrk-login-$r.out" 2>&1 &
  flood_pid=$!
  sleep 1
  run_get "flood-$r" "$base/me" "$server_pid"
  show_get "authkit /me + flood" "$line"
  flood_t0=$run_t0 flood_t1=$run_t1
  flood_req=$((flood_req + $(kv "$line" requests))) flood_us=$((flood_us + $(kv "$line" duration_us)))
  get_errors=$((get_errors + $(errors "$line")))
  p99_flood_max=$(awk -v a="$p99_flood_max" -v b="$(kv "$line" p99_us)" 'BEGIN { print (a > b) ? a : b }')
  wait "$flood_pid" || die "the login wrk failed: $(tail -n 3 "$dir/wrk-login-$r.out")"
  flood_pid=""
  l=$(grep -m1 '^LOGIN ' "$dir/wrk-login-$r.out") || die "the login wrk printed no summary"
  login_ok=$((login_ok + $(kv "$l" ok))) login_401=$((login_401 + $(kv "$l" unauthorized)))
  login_503=$((login_503 + $(kv "$l" busy))) login_other=$((login_other + $(kv "$l" other)))
  login_errors=$((login_errors + $(kv "$l" connect_errors) + $(kv "$l" read_errors) + $(kv "$l" write_errors)))
  # Logins completed while the GET load ran: the sessions they created in that window.
  n=$(sqlite3 -readonly -cmd '.timeout 5000' "$dir/authkit.db" \
    "SELECT count(*) FROM auth_sessions WHERE created_at >= $flood_t0 AND created_at < $flood_t1") ||
    die "cannot count the sessions created during the flood"
  window_logins=$((window_logins + n)) window_us=$((window_us + flood_t1 - flood_t0))
  printf '  %-20s %6s/s during the GET run (%s sessions in %s s); whole flood: 200: %s, 401: %s,\n' \
    "login flood" "$(calc "$n * 1000000 / ($flood_t1 - $flood_t0)" 2)" "$n" \
    "$(calc "($flood_t1 - $flood_t0) / 1000000" 1)" "$(kv "$l" ok)" "$(kv "$l" unauthorized)"
  printf '  %-20s 503: %s, other: %s, login p50 %s ms, p99 %s ms\n' "" "$(kv "$l" busy)" \
    "$(kv "$l" other)" "$(ms "$l" p50_us)" "$(ms "$l" p99_us)"
  drained+=("$(wait_idle)")
done

sample_hashes 4

# ---- (c) memory, before anything else touches the server ----
rss_after=$(status_kb "$server_pid" VmRSS)
hwm=$(status_kb "$server_pid" VmHWM)
rss_anon=$(status_kb "$server_pid" RssAnon)
rss_file=$(status_kb "$server_pid" RssFile)
rss_shmem=$(status_kb "$server_pid" RssShmem)
threads_after=$(status_kb "$server_pid" Threads)
# Resident kB by mapping: the database (SQLite's mmap of the file, the WAL index), the
# program and its shared libraries (with their private relocated data, which
# /proc/PID/status counts as anonymous), the rest (heap, stacks, anonymous maps), and in
# all (smaps walks the page tables: exact, where the counters of /proc/PID/status may lag
# by a few hundred kB).
smaps_kb() {
  awk -v db="$dir/authkit.db" '
    /^[0-9a-f]+-[0-9a-f]+ / { kind = ($6 == "") ? "" : (index($6, db) == 1 ? "db" : (substr($6, 1, 1) == "/" ? "lib" : "")) }
    /^Rss:/ { r[kind] += $2; t += $2 }
    END { printf "%d %d %d %d\n", r["db"], r["lib"], r[""], t }' "/proc/$server_pid/smaps"
}
read -r rss_db rss_libs rss_other rss_smaps < <(smaps_kb)
live=$(sqlite3 -readonly "$dir/authkit.db" \
  "SELECT count(*) FROM auth_sessions WHERE expires_at > unixepoch() * 1000000" 2>/dev/null || echo "?")
# For information: a /metrics scrape counts the active sessions (a scan of the table).
curl -sS --max-time 30 -o "$dir/metrics.txt" "$base/metrics" || true
rss_scrape=$(status_kb "$server_pid" VmRSS)
file_scrape=$(status_kb "$server_pid" RssFile)

# ---- figures ----
hash_s=$(printf '%s\n' "${hashes[@]}" | median)
hash_s=$(calc "$hash_s" 4)
ceiling=$(calc "$cores / $hash_s" 2)
nginx_rps=$(calc "$nginx_req * 1000000 / $nginx_us" 0)
idle_rps=$(calc "$idle_req * 1000000 / $idle_us" 0)
flood_rps=$(calc "$flood_req * 1000000 / $flood_us" 0)
ratio_a=$(calc "$idle_rps / $nginx_rps")
nginx_cpu_us=$(calc "$nginx_cpu * 1000000 / $nginx_req" 1)
idle_cpu_us=$(calc "$idle_cpu * 1000000 / $idle_req" 1)
ratio_b=$(calc "$flood_rps / $idle_rps")
p99_flood_ms=$(calc "$p99_flood_max / 1000" 2)
p99_idle_ms=$(calc "$p99_idle_max / 1000" 2)
login_rate=$(calc "$window_logins * 1000000 / $window_us" 2)
ratio_logins=$(calc "$login_rate / $ceiling")
rss_mib=$(calc "$rss_after / 1024" 1)
goal_a_met=$(yesno ge "$ratio_a" "$goal_a")
goal_b_met=$(yesno ge "$ratio_b" "$goal_b")
goal_p99_met=$(yesno le "$p99_flood_ms" "$goal_b_p99_ms")
goal_logins_met=$(yesno ge "$ratio_logins" "$goal_b_logins")
goal_c_met=$(yesno le "$rss_mib" "$goal_c_mib")

echo
echo "bcrypt cost 12, one hash: ${hash_s} s (median of ${#hashes[@]} in-process libxcrypt runs, half before"
echo "  and half after the rounds: $(printf '%s ' "${hashes[@]}")s);"
echo "  ceiling = $cores cores / ${hash_s} s = $ceiling logins/s"
echo "Queue drained after each flood in: $(printf '%s s ' "${drained[@]}")"
echo
echo "(a) GET /me idle: $idle_rps req/s; nginx return 200: $nginx_rps req/s"
echo "    ratio ${ratio_a} (goal >= $goal_a: $goal_a_met); /me p99 idle (worst round) ${p99_idle_ms} ms"
echo "    server CPU per request: authkit $idle_cpu_us us, nginx (master + workers) $nginx_cpu_us us"
echo "(b) GET /me during the login flood: $flood_rps req/s = ${ratio_b} of idle (goal >= $goal_b: $goal_b_met)"
echo "    /me p99 during the flood (worst round): ${p99_flood_ms} ms (goal <= $goal_b_p99_ms ms: $goal_p99_met)"
echo "    logins completed during the GET runs: $login_rate/s = ${ratio_logins} of the ceiling"
echo "    (goal >= $goal_b_logins: $goal_logins_met); whole floods: 200: $login_ok, 401: $login_401,"
echo "    503 (queue full): $login_503, other: $login_other, socket errors: $login_errors"
echo "    GET errors (socket, status >= 400, timeouts) over all GET runs: $get_errors"
echo "(c) VmRSS after the runs: $rss_after kB = $rss_mib MiB (goal <= $goal_c_mib MiB: $goal_c_met), $live live sessions"
echo "    at start $rss_start kB; peak (VmHWM) $hwm kB; anon $rss_anon kB, file $rss_file kB, shmem $rss_shmem kB;"
echo "    by mapping (smaps, $rss_smaps kB): program and libraries $rss_libs kB, database $rss_db kB,"
echo "    heap, stacks and other $rss_other kB;"
echo "    threads $threads_after. After one /metrics scrape (counts sessions): $rss_scrape kB (file $file_scrape kB)"
runtime=$((SECONDS - started))
echo "Runtime: $runtime s; load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
cat <<EOF
RESULT connections=$connections
RESULT nginx_rps=$nginx_rps
RESULT me_rps_idle=$idle_rps
RESULT ratio_me_over_nginx=$ratio_a
RESULT me_p99_idle_ms=$p99_idle_ms
RESULT me_cpu_us_per_req=$idle_cpu_us
RESULT nginx_cpu_us_per_req=$nginx_cpu_us
RESULT goal_a_met=$goal_a_met
RESULT me_rps_flood=$flood_rps
RESULT ratio_flood_over_idle=$ratio_b
RESULT me_p99_flood_ms=$p99_flood_ms
RESULT goal_b_throughput_met=$goal_b_met
RESULT goal_b_p99_met=$goal_p99_met
RESULT bcrypt12_s=$hash_s
RESULT bcrypt_ceiling_per_s=$ceiling
RESULT logins_per_s=$login_rate
RESULT ratio_logins_over_ceiling=$ratio_logins
RESULT goal_b_logins_met=$goal_logins_met
RESULT logins_during_get_runs=$window_logins
RESULT logins_200=$login_ok
RESULT logins_401=$login_401
RESULT logins_503=$login_503
RESULT logins_other=$login_other
RESULT get_errors=$get_errors
RESULT rss_kb_start=$rss_start
RESULT rss_kb_after=$rss_after
RESULT rss_mib_after=$rss_mib
RESULT rss_kb_peak=$hwm
RESULT rss_kb_smaps=$rss_smaps
RESULT rss_kb_anon=$rss_anon
RESULT rss_kb_libs=$rss_libs
RESULT rss_kb_db=$rss_db
RESULT rss_kb_other=$rss_other
RESULT rss_kb_after_metrics_scrape=$rss_scrape
RESULT live_sessions=$live
RESULT goal_c_met=$goal_c_met
RESULT runtime_s=$runtime
EOF
