#!/usr/bin/env bash
# nginx in front of an upstream app with examples/nginx/nginx.conf (auth_request against
# authkit's /auth/verify): without a session a browser is sent to /login?next=..., a JSON
# client gets 401; after signing in through nginx the app answers and sees X-Auth-User;
# after signing out it is a redirect again.
#   usage: test_nginx.sh AUTHKIT_BINARY SOURCE_DIR
# Needs nginx (Debian's package: bash scripts/install-deps.sh); installs nothing itself.
# The checks are conditions in single quotes, evaluated after each request.
# shellcheck disable=SC2016
set -uo pipefail

[ $# -eq 2 ] || { echo "usage: $0 AUTHKIT_BINARY SOURCE_DIR" >&2; exit 2; }
# shellcheck source=tests/nginx/stack.sh
. "$(dirname "$0")/stack.sh"

stack_init nginx "$1" "$2"
stack_require nginx

USERNAME=alice
EMAIL=alice@example.com
PASSWORD='correct horse battery'

stack_add_user "$USERNAME" "$EMAIL" "$PASSWORD"
# shellcheck disable=SC2119 # no extra flags
stack_start_authkit
stack_start_app
stack_start_nginx

HEADERS=$STACK_DIR/headers
BODY=$STACK_DIR/body
STATUS=""

# req PATH [CURL ARG...]: one request through nginx; sets STATUS, fills HEADERS and BODY.
req() {
  local path=$1
  shift
  STATUS=$(curl -sS --max-time 10 -o "$BODY" -D "$HEADERS" -w '%{http_code}' "$@" \
    "$STACK_BASE$path") || STATUS=000
}

# The value of response header $1 (first one), without CR.
header() {
  grep -i -m1 "^$1:" "$HEADERS" | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'
}

body_has() { grep -q -- "$1" "$BODY"; }

# expect NAME CONDITION...: one check; on failure shows the status and the start of the body.
expect() {
  local name=$1
  shift
  if "$@"; then
    stack_pass "$name"
  else
    stack_fail "$name" "status $STATUS, Location '$(header Location)', body '$(head -c 200 "$BODY" | tr '\n' ' ')'"
  fi
}

is_redirect_to_login() {
  # $1: the expected next
  { [ "$STATUS" = 303 ] || [ "$STATUS" = 302 ]; } && [ "$(header Location)" = "/login?next=$1" ]
}

# ---- no session ----
req /private
expect "GET /private without a session: 303 to /login?next=/private" is_redirect_to_login /private

req /private -H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
expect "a browser's Accept (text/html): still the redirect" is_redirect_to_login /private

# Documented in examples/nginx/README.md: JSON clients get a 401, not a redirect.
req /private -H 'Accept: application/json'
expect "Accept: application/json: 401 with a JSON error and WWW-Authenticate" \
  eval '[ "$STATUS" = 401 ] && body_has "\"NOT_AUTHENTICATED\"" && [ -n "$(header WWW-Authenticate)" ]'

req /private -H 'X-Auth-User: mallory' -H 'Cookie: __Host-session_token=forged'
expect "a forged cookie and a client-sent X-Auth-User: still the redirect" \
  is_redirect_to_login /private

req /_authkit_verify
expect "the internal verify location is not reachable from outside (404)" eval '[ "$STATUS" = 404 ]'

STATUS=$(curl -sS --max-time 10 -o "$BODY" -D "$HEADERS" -w '%{http_code}' \
  "http://127.0.0.1:$STACK_AUTHKIT_PORT/auth/verify") || STATUS=000
expect "authkit's /auth/verify without a session: 401, no Location" \
  eval '[ "$STATUS" = 401 ] && [ -z "$(header Location)" ]'

req /login
expect "GET /login through nginx: the login form" \
  eval '[ "$STATUS" = 200 ] && body_has "id=\"username\"" && body_has "id=\"password\""'

# ---- sign in (JSON) through nginx ----
req /login -X POST -H 'Content-Type: application/json' \
  --data "{\"username\":\"$USERNAME\",\"password\":\"wrong password\"}"
expect "POST /login with a wrong password: 401 AUTHENTICATION_ERROR, no cookie" \
  eval '[ "$STATUS" = 401 ] && body_has AUTHENTICATION_ERROR && [ -z "$(header Set-Cookie)" ]'

req /login -X POST -H 'Content-Type: application/json' \
  --data "{\"username\":\"$USERNAME\",\"password\":\"$PASSWORD\"}"
SET_COOKIE=$(header Set-Cookie)
COOKIE=${SET_COOKIE%%;*}
TOKEN=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' \
  "$BODY" 2>/dev/null || true)
CSRF=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["csrf_token"])' \
  "$BODY" 2>/dev/null || true)
expect "POST /login (JSON) through nginx: 200 with a token, a CSRF token and the session cookie" \
  eval '[ "$STATUS" = 200 ] && [ -n "$TOKEN" ] && [ "$COOKIE" = "__Host-session_token=$TOKEN" ] &&
        [ ${#CSRF} = 43 ]'
expect "the cookie is Secure; HttpOnly; SameSite=Lax; Path=/ with a Max-Age" \
  eval 'grep -qi "; *Secure" <<<"$SET_COOKIE" && grep -qi "; *HttpOnly" <<<"$SET_COOKIE" &&
        grep -qi "; *SameSite=Lax" <<<"$SET_COOKIE" && grep -qi "; *Path=/" <<<"$SET_COOKIE" &&
        grep -qi "; *Max-Age=[1-9]" <<<"$SET_COOKIE"'

# ---- signed in ----
req /me -H "Cookie: $COOKIE"
# shellcheck disable=SC2034 # used in the conditions below
USER_ID=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' \
  "$BODY" 2>/dev/null || true)
expect "GET /me through nginx with the cookie: 200, the user" \
  eval '[ "$STATUS" = 200 ] && body_has "\"username\":\"$USERNAME\"" && [ -n "$USER_ID" ]'

req /private -H "Cookie: $COOKIE"
expect "GET /private with the cookie: 200 from the app, which saw X-Auth-User" \
  eval '[ "$STATUS" = 200 ] && body_has "^hello $USERNAME\$" && body_has "^path=/private\$"'
expect "the app also got X-Auth-User-Id, X-Auth-Email and X-Auth-Role" \
  eval 'body_has "^id=$USER_ID\$" && body_has "^email=$EMAIL\$" && body_has "^role=user\$"'

req /private -H "Cookie: $COOKIE" -H 'X-Auth-User: mallory' -H 'X-Auth-Role: admin'
expect "X-Auth-* headers sent by the client are replaced by authkit's" \
  eval '[ "$STATUS" = 200 ] && body_has "^hello $USERNAME\$" && body_has "^role=user\$"'

req /private/form -X POST -H "Cookie: $COOKIE" --data 'a=1&b=2'
expect "POST /private with the cookie: the app gets the POST and its body (the check is a GET)" \
  eval '[ "$STATUS" = 200 ] && body_has "^hello $USERNAME\$" && body_has "^method=POST\$" &&
        body_has "^body=7\$"'

req /private -H "Authorization: Bearer $TOKEN"
expect "GET /private with Authorization: Bearer: 200 from the app" \
  eval '[ "$STATUS" = 200 ] && body_has "^hello $USERNAME\$"'

req /account -H "Cookie: $COOKIE"
expect "GET /account (authkit's page) through nginx: 'signed in as' the user, the form's CSRF token" \
  eval '[ "$STATUS" = 200 ] && body_has "signed in as" && body_has "id=\"signout\"" &&
        body_has "name=\"csrf_token\" value=\"$CSRF\""'

req /sessions -H "Cookie: $COOKIE"
expect "GET /sessions through nginx: the caller's session, marked current" \
  eval '[ "$STATUS" = 200 ] && body_has "\"current\":true"'

# ---- sign out ----
req /logout -X POST -H "Cookie: $COOKIE" -H 'Sec-Fetch-Site: cross-site' -H "X-CSRF-Token: $CSRF"
expect "POST /logout from another site (Sec-Fetch-Site: cross-site): 403" \
  eval '[ "$STATUS" = 403 ]'

req /logout -X POST -H "Cookie: $COOKIE" -H 'Sec-Fetch-Site: same-origin'
expect "POST /logout (same origin) without the CSRF token: 403 FORBIDDEN" \
  eval '[ "$STATUS" = 403 ] && body_has "\"FORBIDDEN\""'

req /private -H "Cookie: $COOKIE"
expect "... and the session still works" eval '[ "$STATUS" = 200 ]'

req /logout -X POST -H "Cookie: $COOKIE" -H 'Sec-Fetch-Site: same-origin' -H "X-CSRF-Token: $CSRF"
expect "POST /logout (same origin): 200 and the cookie cleared" \
  eval '[ "$STATUS" = 200 ] && header Set-Cookie | grep -qi "^__Host-session_token=;.*Max-Age=0"'
expect "... without Clear-Site-Data (the app's cookies stay)" \
  eval '[ -z "$(header Clear-Site-Data)" ]'

req /private -H "Cookie: $COOKIE"
expect "GET /private with the old cookie after logout: redirect to the login page again" \
  is_redirect_to_login /private

req /private -H "Authorization: Bearer $TOKEN" -H 'Accept: application/json'
expect "... and the old token as Bearer (JSON client): 401" eval '[ "$STATUS" = 401 ]'

# ---- the browser form flow, with curl ----
req /login -X POST -H 'Sec-Fetch-Site: same-origin' -H "Origin: $STACK_BASE" \
  --data-urlencode "username=$USERNAME" --data-urlencode "password=$PASSWORD" \
  --data-urlencode 'next=/private/page?x=1'
SET_COOKIE=$(header Set-Cookie)
COOKIE=${SET_COOKIE%%;*}
expect "POST /login (form) with next: 303 to next with the cookie" \
  eval '[ "$STATUS" = 303 ] && [ "$(header Location)" = "/private/page?x=1" ] &&
        [ "${COOKIE#__Host-session_token=}" != "$COOKIE" ]'

req '/private/page?x=1' -H "Cookie: $COOKIE"
expect "following it: 200 from the app" \
  eval '[ "$STATUS" = 200 ] && body_has "^hello $USERNAME\$" && body_has "^path=/private/page?x=1\$"'

req /account -H "Cookie: $COOKIE"
CSRF=$(sed -n 's/.*name="csrf_token" value="\([A-Za-z0-9_-]*\)".*/\1/p' "$BODY")
expect "the sign-out form of /account carries the session's CSRF token" eval '[ ${#CSRF} = 43 ]'

req /logout -X POST -H "Cookie: $COOKIE" -H "Origin: $STACK_BASE" \
  -H 'Content-Type: application/x-www-form-urlencoded' --data "csrf_token=$CSRF"
expect "POST /logout (form, Origin of this server): 303 to /login" \
  eval '[ "$STATUS" = 303 ] && [ "$(header Location)" = /login ]'

req '/private/page?x=1' -H "Cookie: $COOKIE"
expect "the protected page after that: redirect with next=/private/page?x=1" \
  is_redirect_to_login '/private/page?x=1'

stack_summary
