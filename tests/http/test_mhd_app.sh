#!/usr/bin/env bash
# The libmicrohttpd adapter in a real application (examples/mhd_app.c), over HTTP:
# public page, protected page (401 JSON without a session), login sets the cookie,
# the cookie and a bearer token open the protected page, logout closes it again - with
# the cookie only when it carries the session's anti-CSRF token (header or form field).
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
login() { # prints the response headers of a successful login
  curl -s -D - -o /dev/null -X POST -d '{"username":"ada","password":"correct horse"}' "$base/login"
}
cookie_of() { sed -n 's/^Set-Cookie: \(__Host-session_token=[^;]*\);.*/\1/p' <<<"$1" | tr -d '\r'; }
csrf_of() { sed -n 's/^X-CSRF-Token: *//ip' <<<"$1" | tr -d '\r'; }
headers=$(login)
cookie=$(cookie_of "$headers")
token=${cookie#__Host-session_token=}
csrf=$(csrf_of "$headers")
check "cookie attributes" 1 "$(grep -c 'Path=/; Max-Age=1800; HttpOnly; Secure; SameSite=Lax' <<<"$headers")"
check "token shape" 43 "${#token}"
check "CSRF token from login (X-CSRF-Token)" 43 "${#csrf}"
check "private with cookie" "private page for ada <ada@example.com>" "$(curl -s -H "Cookie: $cookie" "$base/private")"
check "private with bearer" 200 "$(status -H "Authorization: Bearer $token" "$base/private")"
check "token in query refused" 401 "$(status "$base/private?token=$token")"
check "optional user" "public page; you are ada" "$(curl -s -H "Cookie: $cookie" "$base/")"
forbidden='{"error":"FORBIDDEN","message":"Missing or invalid CSRF token"}'
other=$(login)
other_cookie=$(cookie_of "$other")
other_csrf=$(csrf_of "$other")
check "CSRF tokens differ per session" 1 "$([ "$csrf" != "$other_csrf" ] && echo 1)"
check "cookie logout without CSRF token" "$forbidden" "$(curl -s -X POST -H "Cookie: $cookie" "$base/logout")"
check "cookie logout with another session's token" 403 \
  "$(status -X POST -H "Cookie: $cookie" -H "X-CSRF-Token: $other_csrf" "$base/logout")"
check "cookie logout with a wrong form field" 403 \
  "$(status -X POST -H "Cookie: $cookie" --data "csrf_token=${csrf%?}" "$base/logout")"
check "... the session survives" 200 "$(status -H "Cookie: $cookie" "$base/private")"
page=$(curl -s -H "Cookie: $cookie" "$base/account")
field=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' <<<"$page")
check "account page embeds the session's CSRF token" "$csrf" "$field"
check "account page without a session" 401 "$(status "$base/account")"
check "logout (form field)" "signed out" \
  "$(curl -s -X POST -H "Cookie: $cookie" --data "csrf_token=$field" "$base/logout")"
check "private after logout" 401 "$(status -H "Cookie: $cookie" "$base/private")"
check "old token on a new session" 403 \
  "$(status -X POST -H "Cookie: $other_cookie" -H "X-CSRF-Token: $csrf" "$base/logout")"
check "logout (X-CSRF-Token header)" "signed out" \
  "$(curl -s -X POST -H "Cookie: $other_cookie" -H "X-CSRF-Token: $other_csrf" "$base/logout")"
bearer=$(cookie_of "$(login)")
check "bearer logout needs no CSRF token" "signed out" \
  "$(curl -s -X POST -H "Authorization: Bearer ${bearer#__Host-session_token=}" "$base/logout")"
# An operator declares ada's password compromised: the right password alone gets 403, a
# new one (policy-checked) with it signs in, and from then on only the new one works.
"$cli" --database "$db" user require-password-change ada >/dev/null
post_login() { status -X POST -d "$1" "$base/login"; }
old='"username":"ada","password":"correct horse"'
new='"username":"ada","password":"battery staple 42"'
change_required='{"error":"PASSWORD_CHANGE_REQUIRED","message":"Password change required: choose a new password"}'
check "flagged: right password alone" "$change_required" "$(curl -s -X POST -d "{$old}" "$base/login")"
check "flagged: new password refused by the policy" 400 "$(post_login "{$old,\"new_password\":\"ada\"}")"
check "flagged: new password signs in" 200 "$(post_login "{$old,\"new_password\":\"battery staple 42\"}")"
check "old password after the change" 401 "$(post_login "{$old}")"
check "new password after the change" 200 "$(post_login "{$new}")"
check "log has no token" 0 "$(grep -c "$token" "$tmp/out" "$tmp/err" | awk -F: '{s+=$2} END {print s}')"

if [ "$failed" -ne 0 ]; then
  echo "--- mhd_app stdout/stderr:" >&2
  cat "$tmp/out" "$tmp/err" >&2
fi
echo "mhd_app: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
