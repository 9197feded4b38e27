#!/usr/bin/env bash
# Debian's headless Chromium, driven by playwright-core (login.mjs), through authkit's
# login flow behind nginx (examples/nginx/nginx.conf) in front of a tiny upstream app.
#   usage: test_browser.sh AUTHKIT_BINARY SOURCE_DIR
# Needs nginx, chromium, node and npm (bash scripts/install-deps.sh); at test time it only
# runs `npm ci` in tests/browser when node_modules is missing, and never downloads a
# browser. Screenshots of the login page go to <build dir>/browser/ (the directory of the
# authkit binary); their paths are printed.
set -uo pipefail

[ $# -eq 2 ] || { echo "usage: $0 AUTHKIT_BINARY SOURCE_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/nginx/stack.sh
. "$here/../nginx/stack.sh"

stack_init browser "$1" "$2"
stack_require nginx node npm
[ -x /usr/bin/chromium ] ||
  stack_die "/usr/bin/chromium is not installed; run: bash scripts/install-deps.sh"

if [ ! -d "$here/node_modules/playwright-core" ]; then
  stack_log "installing playwright-core (npm ci in $here)"
  (cd "$here" && npm ci --no-audit --no-fund >"$STACK_DIR/npm.log" 2>&1) ||
    stack_die "npm ci failed: $(tail -n 3 "$STACK_DIR/npm.log")"
fi

USERNAME=bob
EMAIL=bob@example.com
PASSWORD='browser test password'

stack_add_user "$USERNAME" "$EMAIL" "$PASSWORD"
# The real __Host- cookie (Secure) over plain http://127.0.0.1: Chromium treats loopback
# as a secure context, so no --insecure-cookies is needed.
# shellcheck disable=SC2119 # no extra flags
stack_start_authkit
stack_start_app
stack_start_nginx

shots=$(dirname "$STACK_AUTHKIT")/browser
mkdir -p "$shots" "$STACK_DIR/chromium-profile" || stack_die "cannot create $shots"
export HOME=${HOME:-$STACK_DIR}

# In the background, so that a signal to this script stops it at once (the exit trap).
timeout 240 node "$here/login.mjs" "$STACK_BASE" "$USERNAME" "$PASSWORD" "$shots" \
  "$STACK_DIR/chromium-profile" >"$STACK_DIR/node.out" 2>"$STACK_DIR/node.err" &
STACK_PIDS+=($!)
wait "$!"
status=$?
cat "$STACK_DIR/node.out"

STACK_PASSED=$((STACK_PASSED + $(grep -c '^ok - ' "$STACK_DIR/node.out")))
STACK_FAILED=$((STACK_FAILED + $(grep -c '^FAIL - ' "$STACK_DIR/node.out")))
if [ "$status" -ne 0 ] && ! grep -q '^FAIL - ' "$STACK_DIR/node.out"; then
  stack_fail "login.mjs exited with status $status" "$(tail -n 3 "$STACK_DIR/node.err" | tr '\n' ' ')"
fi
for f in login.png login-error.png account.png; do
  if [ -s "$shots/$f" ]; then
    echo "screenshot: $shots/$f"
  else
    stack_fail "screenshot $shots/$f was written"
  fi
done

stack_summary
