#!/usr/bin/env bash
# The quick start's "run" step: start `authkit serve` on 127.0.0.1:8080 with ./authkit.db.
# Creates ./.env with a freshly generated session secret the first time (readable by you
# only); later runs keep it, so sessions survive restarts.
set -euo pipefail
bin=${1:-build/authkit}
if [ ! -f .env ] || ! grep -q '^AUTHKIT_SESSION_SECRET=' .env; then
  umask 077
  printf 'AUTHKIT_SESSION_SECRET=%s\n' "$("$bin" secret)" >>.env
  echo "run: wrote a new session secret to .env"
fi
exec "$bin" serve "${@:2}"
