#!/usr/bin/env bash
# The libmicrohttpd adapter in a real application (examples/mhd_app.c), over HTTP:
# public page, protected page (401 JSON without a session), login sets the cookie,
# the cookie and a bearer token open the protected page, logout closes it again.
set -euo pipefail
app=$1
cli=$2
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

export AUTHKIT_SESSION_SECRET=mhd-app-test-secret-0123456789abcdefghij
export AUTHKIT_BCRYPT_COST=4
db="sqlite://$tmp/app.db"
printf 'correct horse\n' | "$cli" --database "$db" user add --email ada@example.com --username ada >/dev/null
"$app" "$db" 0 >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 400); do grep -q '^listening on' "$tmp/out" && break; sleep 0.05; done
port=$(sed -n 's/^listening on //p' "$tmp/out")
if [ -z "$port" ]; then
  echo "mhd_app did not start:" >&2
  cat "$tmp/err" >&2
  echo "mhd_app: 0 passed, 1 failed"
  exit 1
fi
base="http://127.0.0.1:$port"

passed=0
failed=0
check() { # name expected actual
  if [ "$2" = "$3" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1: expected '$2', got '$3'" >&2; fi
}
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

check "public page" "public page; you are not signed in" "$(curl -s "$base/")"
check "private without session" 401 "$(status "$base/private")"
check "401 body" '{"error":"NOT_AUTHENTICATED","message":"Not authenticated"}' "$(curl -s "$base/private")"
check "WWW-Authenticate" 1 "$(curl -s -D - -o /dev/null "$base/private" | grep -ci '^WWW-Authenticate: Bearer')"
check "wrong password" 401 "$(status -X POST -d '{"username":"ada","password":"nope nope"}' "$base/login")"
headers=$(curl -s -D - -o /dev/null -X POST -d '{"username":"ada","password":"correct horse"}' "$base/login")
cookie=$(sed -n 's/^Set-Cookie: \(__Host-session_token=[^;]*\);.*/\1/p' <<<"$headers" | tr -d '\r')
token=${cookie#__Host-session_token=}
check "cookie attributes" 1 "$(grep -c 'Path=/; Max-Age=1800; HttpOnly; Secure; SameSite=Lax' <<<"$headers")"
check "token shape" 43 "${#token}"
check "private with cookie" "private page for ada <ada@example.com>" "$(curl -s -H "Cookie: $cookie" "$base/private")"
check "private with bearer" 200 "$(status -H "Authorization: Bearer $token" "$base/private")"
check "token in query refused" 401 "$(status "$base/private?token=$token")"
check "optional user" "public page; you are ada" "$(curl -s -H "Cookie: $cookie" "$base/")"
check "logout" "signed out" "$(curl -s -X POST -H "Cookie: $cookie" "$base/logout")"
check "private after logout" 401 "$(status -H "Cookie: $cookie" "$base/private")"
check "log has no token" 0 "$(grep -c "$token" "$tmp/out" "$tmp/err" | awk -F: '{s+=$2} END {print s}')"

if [ "$failed" -ne 0 ]; then
  echo "--- mhd_app stdout/stderr:" >&2
  cat "$tmp/out" "$tmp/err" >&2
fi
echo "mhd_app: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
