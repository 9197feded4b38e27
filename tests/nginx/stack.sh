# shellcheck shell=bash
# Shared by tests/nginx/test_nginx.sh and tests/browser/test_browser.sh (sourced, not run):
# starts, in a temporary directory and on 127.0.0.1 only,
#   - `authkit serve` on a free port (fresh SQLite database, random secret, bcrypt cost 4),
#   - a tiny upstream app (python3 http.server) that answers 200 "hello <X-Auth-User>",
#   - nginx with a configuration generated from examples/nginx/nginx.conf,
# stops them all when the script exits (also on failure or a signal), and counts checks.
# Installs nothing: a missing program fails the test with a message saying what to run.
#
#   stack_init LABEL AUTHKIT_BINARY SOURCE_DIR   the temp dir, the exit trap, the checks
#   stack_require PROGRAM...                     fail clearly unless each is on PATH
#   stack_start_authkit [FLAG...]                -> STACK_AUTHKIT_PORT
#   stack_add_user USERNAME EMAIL PASSWORD
#   stack_start_app                              -> STACK_APP_PORT
#   stack_start_nginx                            -> STACK_NGINX_PORT, STACK_BASE
#   stack_pass NAME / stack_fail NAME [WHY]      count one check
#   stack_summary                                prints "LABEL: N passed, M failed"; its status
# STACK_KEEP=1 keeps the temp dir (logs, configuration) for a look after the run.

STACK_LABEL=stack
STACK_DIR=""
STACK_PIDS=()
STACK_PASSED=0
STACK_FAILED=0
STACK_AUTHKIT=""
STACK_SOURCE=""
STACK_AUTHKIT_PORT=""
STACK_APP_PORT=""
STACK_NGINX_PORT=""
STACK_BASE=""
# Every background process is also bounded by this many seconds (under `timeout`), so that
# nothing outlives a test that is killed without running its exit trap (a CTest timeout).
STACK_LIFETIME=${STACK_LIFETIME:-290}

stack_log() { printf '%s: %s\n' "$STACK_LABEL" "$*" >&2; }

# A setup step failed: count it, say why, and stop (the exit trap cleans up).
stack_die() {
  stack_fail "setup" "$*"
  stack_summary
  exit 1
}

stack_pass() {
  STACK_PASSED=$((STACK_PASSED + 1))
  printf 'ok - %s\n' "$1"
}

stack_fail() {
  STACK_FAILED=$((STACK_FAILED + 1))
  printf 'FAIL - %s%s\n' "$1" "${2:+ ($2)}"
}

stack_summary() {
  printf '%s: %d passed, %d failed\n' "$STACK_LABEL" "$STACK_PASSED" "$STACK_FAILED"
  [ "$STACK_FAILED" -eq 0 ] && [ "$STACK_PASSED" -gt 0 ]
}

stack_require() {
  local p
  for p in "$@"; do
    command -v "$p" >/dev/null 2>&1 ||
      stack_die "'$p' is not installed; run: bash scripts/install-deps.sh"
  done
}

stack_init() {
  STACK_LABEL=$1
  STACK_AUTHKIT=$(realpath -e -- "$2" 2>/dev/null) || stack_die "no authkit binary at '$2'"
  STACK_SOURCE=$(realpath -e -- "$3" 2>/dev/null) || stack_die "no source directory '$3'"
  [ -x "$STACK_AUTHKIT" ] || stack_die "no authkit binary at '$STACK_AUTHKIT'"
  [ -f "$STACK_SOURCE/examples/nginx/nginx.conf" ] ||
    stack_die "no examples/nginx/nginx.conf under '$STACK_SOURCE'"
  stack_require curl timeout /usr/bin/python3
  STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/authkit-$STACK_LABEL.XXXXXX") ||
    stack_die "cannot create a temporary directory"
  trap stack_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # Only this test's configuration: no AUTHKIT_* from the caller's environment.
  local v
  while read -r v; do unset "$v"; done < <(compgen -e | grep '^AUTHKIT_' || true)
}

# Stops what was started, newest first: SIGTERM, then SIGKILL after 5 s.
stack_stop() {
  local status=$? i pid n
  for ((i = ${#STACK_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${STACK_PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for ((n = 0; n < 50; n++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  STACK_PIDS=()
  if [ -n "$STACK_DIR" ] && [ -d "$STACK_DIR" ]; then
    if [ "$STACK_FAILED" -gt 0 ] || [ "$status" -ne 0 ]; then
      local f
      for f in authkit.out authkit.err app.err nginx.out nginx-error.log node.err; do
        [ -s "$STACK_DIR/$f" ] || continue
        printf -- '--- %s (last 20 lines)\n' "$f" >&2
        tail -n 20 "$STACK_DIR/$f" >&2
      done
    fi
    if [ "${STACK_KEEP:-0}" = 1 ]; then
      stack_log "kept $STACK_DIR"
    else
      rm -rf "$STACK_DIR"
    fi
  fi
  return "$status"
}

# Waits (up to 10 s) for a line matching the extended regex $2 in file $1, while the
# process $3 lives; prints the first capture group of the first such line.
stack_wait_line() {
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

stack_free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

stack_authkit_env() {
  AUTHKIT_SESSION_SECRET=$(head -c 30 /dev/urandom | base64 | tr '+/' '-_')
  export AUTHKIT_SESSION_SECRET                      # 40 characters
  export AUTHKIT_BCRYPT_COST=4
  export AUTHKIT_DATABASE_URL="sqlite://$STACK_DIR/authkit.db"
}

stack_start_authkit() {
  [ -n "${AUTHKIT_SESSION_SECRET:-}" ] || stack_authkit_env
  (cd "$STACK_DIR" && exec timeout "$STACK_LIFETIME" "$STACK_AUTHKIT" serve \
    --listen 127.0.0.1:0 "$@" >authkit.out 2>authkit.err) &
  STACK_PIDS+=($!)
  STACK_AUTHKIT_PORT=$(stack_wait_line "$STACK_DIR/authkit.out" \
    'listening on http://127\.0\.0\.1:([0-9]+)' "$!") ||
    stack_die "authkit serve did not report its port"
  stack_log "authkit serve on 127.0.0.1:$STACK_AUTHKIT_PORT${*:+ ($*)}"
}

stack_add_user() {
  [ -n "${AUTHKIT_SESSION_SECRET:-}" ] || stack_authkit_env
  printf '%s\n' "$3" | (cd "$STACK_DIR" && "$STACK_AUTHKIT" user add --email "$2" \
    --username "$1" >>user.out 2>&1) || stack_die "authkit user add $1 failed: $(tail -n1 "$STACK_DIR/user.out")"
}

# The upstream: 200 "hello <X-Auth-User>" and, one per line, the other X-Auth-* headers it
# received, so that a test sees what nginx passed on.
STACK_APP_PY='import http.server, sys
class App(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        h = self.headers
        length = int(h.get("Content-Length") or 0)
        sent = self.rfile.read(length) if length else b""
        body = "hello %s\nid=%s\nemail=%s\nrole=%s\npath=%s\nmethod=%s\nbody=%d\n" % (
            h.get("X-Auth-User", ""), h.get("X-Auth-User-Id", ""),
            h.get("X-Auth-Email", ""), h.get("X-Auth-Role", ""), self.path,
            self.command, len(sent))
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_POST = do_PUT = do_DELETE = do_GET
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), App)
print("app: listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()'

stack_start_app() {
  (cd "$STACK_DIR" && exec timeout "$STACK_LIFETIME" /usr/bin/python3 -c "$STACK_APP_PY" \
    >app.out 2>app.err) &
  STACK_PIDS+=($!)
  STACK_APP_PORT=$(stack_wait_line "$STACK_DIR/app.out" \
    'listening on 127\.0\.0\.1:([0-9]+)' "$!") || stack_die "the upstream app did not start"
  stack_log "upstream app on 127.0.0.1:$STACK_APP_PORT"
}

# The example configuration with the three addresses replaced, plus what a run in a temp
# dir needs: pid file, error log and temp paths there, no daemon, no access log.
stack_nginx_conf() {
  local example=$STACK_SOURCE/examples/nginx/nginx.conf d=$STACK_DIR
  {
    echo "# Generated by tests/nginx/stack.sh from $example"
    echo "daemon off;"
    echo "pid $d/nginx.pid;"
    echo "error_log $d/nginx-error.log warn;"
    # Workers of a root master run as nobody, who cannot write the temp dir.
    if [ "$(id -u)" -eq 0 ]; then echo "user root;"; fi
    sed -E \
      -e "s/127\.0\.0\.1:8080;/127.0.0.1:$STACK_AUTHKIT_PORT;/" \
      -e "s/127\.0\.0\.1:3000;/127.0.0.1:$STACK_APP_PORT;/" \
      -e "s/^([[:space:]]*)listen 8000;/\\1listen 127.0.0.1:$STACK_NGINX_PORT;/" \
      -e "/^http \\{/a\\
    access_log off;\\
    client_body_temp_path $d/nginx-tmp/body;\\
    proxy_temp_path $d/nginx-tmp/proxy;\\
    fastcgi_temp_path $d/nginx-tmp/fastcgi;\\
    uwsgi_temp_path $d/nginx-tmp/uwsgi;\\
    scgi_temp_path $d/nginx-tmp/scgi;" \
      "$example"
  } >"$d/nginx.conf"
  # The example must still have the shape this relies on.
  if ! { grep -q "server 127.0.0.1:$STACK_AUTHKIT_PORT;" "$d/nginx.conf" &&
    grep -q "server 127.0.0.1:$STACK_APP_PORT;" "$d/nginx.conf" &&
    grep -q "listen 127.0.0.1:$STACK_NGINX_PORT;" "$d/nginx.conf" &&
    grep -q "proxy_temp_path $d/" "$d/nginx.conf"; }; then
    stack_die "examples/nginx/nginx.conf no longer has 127.0.0.1:8080, 127.0.0.1:3000, 'listen 8000;' and 'http {' where expected"
  fi
}

stack_start_nginx() {
  stack_require nginx
  mkdir -p "$STACK_DIR/nginx-tmp"
  STACK_NGINX_PORT=$(stack_free_port) || stack_die "no free port for nginx"
  stack_nginx_conf
  nginx -t -q -p "$STACK_DIR/" -c "$STACK_DIR/nginx.conf" >"$STACK_DIR/nginx.out" 2>&1 ||
    stack_die "nginx rejects the generated configuration: $(tail -n 3 "$STACK_DIR/nginx.out")"
  timeout "$STACK_LIFETIME" nginx -p "$STACK_DIR/" -c "$STACK_DIR/nginx.conf" \
    >>"$STACK_DIR/nginx.out" 2>&1 &
  STACK_PIDS+=($!)
  local pid=$! n
  STACK_BASE=http://127.0.0.1:$STACK_NGINX_PORT
  for ((n = 0; n < 100; n++)); do
    if curl -s -o /dev/null --max-time 2 "$STACK_BASE/login"; then
      stack_log "nginx on 127.0.0.1:$STACK_NGINX_PORT (configuration $STACK_DIR/nginx.conf)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  stack_die "nginx did not start: $(tail -n 3 "$STACK_DIR/nginx.out" "$STACK_DIR/nginx-error.log" 2>/dev/null)"
}
