#!/usr/bin/env bash
# shellcheck disable=SC2016 # single-quoted regexes and `bash -c` scripts are meant literally
# Runs every subcommand of the `authkit` program (except serve, covered by the HTTP
# tests) in a temporary directory against a temporary SQLite database: help, exit
# statuses, configuration precedence, secrets and passwords kept out of argv and output.
# Usage: test_cli.sh path/to/authkit path/to/libauthkit_test_corrupt_crypt.so
set -euo pipefail

AUTHKIT=$(realpath "$1")
CORRUPT_CRYPT=$(realpath "$2") # tests/support/corrupt_crypt.c, built
MAN_PAGE=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../../docs/authkit.1")
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A clean configuration: nothing inherited from the caller's environment.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^AUTHKIT_' || true)
mkdir "$tmp/work"
cd "$tmp/work"
export AUTHKIT_BCRYPT_COST=4

PASSWORD='Tr0ub4dor&3-cli-first'
NEW_PASSWORD='n3w-Secret-cli-second'
OTHER_PASSWORD='0ther-pw-cli-third'

pass=0
fail=0
OUT='' ERR='' RC=0
: >"$tmp/all_output"

# run INPUT ARGS...: runs authkit with INPUT on stdin (no stdin when INPUT is -), and sets
# OUT, ERR and RC. Every output is kept, to look for passwords in it at the end.
run() {
    local input=$1
    shift
    if [[ $input == - ]]; then
        : >"$tmp/in"
    else
        printf '%s\n' "$input" >"$tmp/in"
    fi
    set +e
    "$AUTHKIT" "$@" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
    RC=$?
    set -e
    OUT=$(cat "$tmp/out")
    ERR=$(cat "$tmp/err")
    cat "$tmp/out" "$tmp/err" >>"$tmp/all_output"
}

check() {
    local name=$1
    shift
    if "$@"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $name" >&2
        echo "  rc=$RC" >&2
        echo "  stdout: $OUT" >&2
        echo "  stderr: $ERR" >&2
    fi
}
rc_is() { [[ $RC -eq $1 ]]; }
has() { [[ $1 == *"$2"* ]]; }
lacks() { [[ $1 != *"$2"* ]]; }
matches() { [[ $1 =~ $2 ]]; }
one_line() { [[ $(printf '%s\n' "$1" | wc -l) -eq 1 && -n $1 ]]; }
# py EXPR: evaluates EXPR with `d` bound to the JSON document in OUT.
py() { printf '%s' "$OUT" | "$PY" -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }

# ---- help ----
run - --help
check "--help exits 0" rc_is 0
check "--help lists the commands" matches "$OUT" "serve.*user.*session.*hash.*verify.*secret.*migrate.*version"
check "--help lists the shared options" has "$OUT" "AUTHKIT_SESSION_SECRET"
# The man page (docs/authkit.1) documents every option and variable that --help lists.
man_text=$(sed 's/\\-/-/g' "$MAN_PAGE")
for word in $(grep -oE -- '--[a-z][a-z-]*|AUTHKIT_[A-Z_]+' <<<"$OUT" | sort -u); do
    check "the man page documents $word" has "$man_text" "$word"
done
# ... with the default --help prints, which comes from the code (src/cli/config.c): a
# number as "default N", other values as they are. Defaults in words (none, cores, ...)
# are left to the reader.
man_entry() { # the paragraph of one option, on one line
    awk -v f="$1" '/^\.TP/ { p = 0 } $1 ~ /^\.B[IR]?$/ && $2 == f { p = 1 } p' <<<"$man_text" |
        tr '\n' ' '
}
while read -r flag value; do
    case $value in
    none | cores | required | signed | plain-HTTP) continue ;;
    [0-9]*) check "the man page gives $flag's default $value" \
        matches "$(man_entry "$flag")" "[Dd]efault:? $value([^0-9]|$)" ;;
    *) check "the man page gives $flag's default $value" has "$(man_entry "$flag")" "$value" ;;
    esac
done < <(sed -nE 's/^  (--[a-z-]+)( [A-Z:]+)? +AUTHKIT_[A-Z_]+(=[a-z]+)? +([^ ]+).*/\1 \4/p' <<<"$OUT")
run - -h
check "-h exits 0" rc_is 0
run - help
check "help exits 0" rc_is 0
for cmd in serve user session hash verify secret migrate version \
    "user add" "user list" "user show" "user set-password" "user disable" "user enable" \
    "user delete" "user unlock" "user require-password-change" "session list" "session revoke" "session revoke-all" "session revoke-everyone" \
    "session cleanup" audit; do
    # shellcheck disable=SC2086 # word splitting wanted: "user add" is two arguments
    run - $cmd --help
    check "$cmd --help" bash -c '[[ $0 -eq 0 && $1 == usage:* ]]' "$RC" "$OUT"
done
run - help user
check "help user" bash -c '[[ $0 -eq 0 && $1 == "usage: authkit user"* ]]' "$RC" "$OUT"

# ---- usage errors: exit 2, one line on stderr ----
run -
check "no command: exit 2" rc_is 2
run - frobnicate
check "unknown command: exit 2" rc_is 2
check "unknown command: one line" one_line "$ERR"
check "unknown command: prefixed" matches "$ERR" "^authkit: unknown command 'frobnicate'"
run - user frob
check "unknown user command: exit 2" rc_is 2
check "unknown user command: prefixed" matches "$ERR" "^authkit user: "
run - user list --bogus
check "unknown option: exit 2" rc_is 2
check "unknown option: one line" one_line "$ERR"
check "unknown option: prefixed" matches "$ERR" "^authkit user list: unknown option '--bogus'"
run - user add --email a@example.com
check "user add without --username: exit 2" rc_is 2
run - --bcrypt-cost 99 version
check "out-of-range flag: exit 2" rc_is 2
check "out-of-range flag: says the range" has "$ERR" "4..31"
run - user list --limit 0
check "--limit 0: exit 2" rc_is 2

# ---- secret ----
run - secret
check "secret: exit 0" rc_is 0
check "secret: 43 base64url characters" matches "$OUT" '^[A-Za-z0-9_-]{43}$'
first_secret=$OUT
run - secret
check "secret: a new one each time" test "$OUT" != "$first_secret"
SECRET=$first_secret
# From here on, no output may contain the secret (or a password): start the record anew.
: >"$tmp/all_output"

# ---- version ----
run - version
check "version: exit 0" rc_is 0
check "version: authkit" matches "$OUT" '^authkit [0-9]+\.[0-9]+\.[0-9]+'
check "version: libsodium" has "$OUT" "libsodium "

# ---- the secret is never a flag ----
run - --secret "$SECRET" user list
check "--secret: exit 2" rc_is 2
check "--secret: explains" has "$ERR" "AUTHKIT_SESSION_SECRET"
check "--secret: one line" one_line "$ERR"
run - user list --secret="$SECRET"
check "--secret=: exit 2" rc_is 2
check "--secret=: secret not echoed" lacks "$ERR" "$SECRET"
run - --session-secret "$SECRET" user list
check "--session-secret: exit 2" rc_is 2

# ---- missing or short secret ----
run - user list
check "no secret: exit 1" rc_is 1
check "no secret: names the variable" has "$ERR" "AUTHKIT_SESSION_SECRET"
check "no secret: names authkit secret" has "$ERR" "authkit secret"
check "no secret: prefixed" matches "$ERR" "^authkit user list: "
AUTHKIT_SESSION_SECRET=tooshort run - migrate
check "short secret: exit 1" rc_is 1
check "short secret: says too short" has "$ERR" "too short"
check "short secret: not echoed" lacks "$ERR" "tooshort"
check "no database created without a secret" test ! -e authkit.db

# ---- configuration precedence: flag > environment > .env > default ----
cat >.env <<EOF
# written by test_cli.sh
export AUTHKIT_SESSION_SECRET="$SECRET"
AUTHKIT_DATABASE_URL='sqlite://./from_dotenv.db'   # a comment
AUTHKIT_BCRYPT_COST=5
OTHER_PROGRAM_SETTING=ignored
EOF
run - migrate
check ".env: migrate exit 0" rc_is 0
check ".env: database from .env" test -e from_dotenv.db
check ".env: says the schema is current" has "$OUT" "schema is current"
AUTHKIT_DATABASE_URL=sqlite://./from_env.db run - migrate
check "env over .env" test -e from_env.db
AUTHKIT_DATABASE_URL=sqlite://./from_env2.db run - migrate --database sqlite://./from_flag.db
check "flag over env" test -e from_flag.db
check "flag over env: env not used" test ! -e from_env2.db
run - migrate --database=sqlite://./from_flag_eq.db
check "--flag=value" test -e from_flag_eq.db
# The bcrypt cost shows in a hash: 5 from .env (the exported 4 wins), then flag.
run "$PASSWORD" hash
check "hash: environment (4) over .env (5)" matches "$OUT" '^\$2b\$04\$'
run "$PASSWORD" --bcrypt-cost 6 hash
check "hash: flag over environment" matches "$OUT" '^\$2b\$06\$'
unset AUTHKIT_BCRYPT_COST
run "$PASSWORD" hash
check "hash: .env when the environment is silent" matches "$OUT" '^\$2b\$05\$'
export AUTHKIT_BCRYPT_COST=4
echo 'AUTHKIT_NO_SUCH_SETTING=1' >>.env
run - version
check "unknown AUTHKIT_ key in .env: exit 2" rc_is 2
check "unknown AUTHKIT_ key in .env: names the line" has "$ERR" ".env line 6"
run - --help
check "--help works despite a bad .env" rc_is 0
sed -i '$d' .env
echo 'AUTHKIT_LISTEN="127.0.0.1:1' >>.env
run - version
check "unterminated quote in .env: exit 2" rc_is 2
sed -i '$d' .env
AUTHKIT_BCRYPT_COST=many run - version
check "bad number in the environment: exit 2" rc_is 2
check "bad number: names the variable" has "$ERR" "AUTHKIT_BCRYPT_COST"

# From here on: the environment gives the database, .env the secret.
export AUTHKIT_DATABASE_URL=sqlite://./cli.db
DB=cli.db

# ---- user add ----
run "$PASSWORD" user add --email Ada@Example.com --username ada
check "user add: exit 0" rc_is 0
check "user add: reports the user" has "$OUT" "ada <ada@example.com>"
ADA_ID=$(printf '%s' "$OUT" | grep -Eo '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
check "user add: prints the id" matches "$ADA_ID" '^[0-9a-f-]{36}$'
run "$OTHER_PASSWORD" user add --email ada@example.com --username ada2
check "duplicate email: exit 1" rc_is 1
check "duplicate email: names the field" has "$ERR" "email is already taken"
check "duplicate email: one line" one_line "$ERR"
run "$OTHER_PASSWORD" user add --email other@example.com --username ADA
check "duplicate username: exit 1" rc_is 1
check "duplicate username: names the field" has "$ERR" "username is already taken"
run - user add --email bob@example.com --username bob
check "empty stdin: exit 1" rc_is 1
check "empty stdin: says so" has "$ERR" "no password"
run "" user add --email bob@example.com --username bob
check "empty password: exit 1" rc_is 1
run "short" user add --email bob@example.com --username bob
check "too-short password: exit 1" rc_is 1
check "too-short password: says why" has "$ERR" "Password is too short (minimum 8 characters)"
run "Password1!" user add --email bob@example.com --username bob
check "common password: exit 1" rc_is 1
check "common password: says why" has "$ERR" "Password is in a list of commonly used passwords"
run - user show bob
check "common password: no user made" rc_is 3
run "Builder!2024" user add --email builder@example.com --username bob_b
check "password based on the email: exit 1" rc_is 1
check "password based on the email: says why" has "$ERR" "based on your email address"
run "AuthKit#1" user add --email bob@example.com --username bob
check "password based on the default service name: says why" has "$ERR" "name of this service"
run "Acme-2024" --service-name acme user add --email bob@example.com --username bob
check "--service-name: a password based on it is refused" has "$ERR" "name of this service"
run "$(printf 'x%.0s' {1..80})" user add --email bob@example.com --username bob
check "over-long password: exit 1" rc_is 1
check "over-long password: says 72 bytes" has "$ERR" "72 bytes"
printf 'pass\0word-with-nul\n' >"$tmp/nul"
set +e
"$AUTHKIT" user add --email bob@example.com --username bob <"$tmp/nul" >"$tmp/out" 2>"$tmp/err"
RC=$?
set -e
OUT=$(cat "$tmp/out") ERR=$(cat "$tmp/err")
check "password with a NUL byte: exit 1" rc_is 1
check "password with a NUL byte: says so" has "$ERR" "NUL"
run "$OTHER_PASSWORD" user add --email bob@example.com --username bob --password "$OTHER_PASSWORD"
check "--password refused: exit 2" rc_is 2
check "--password refused: explains" has "$ERR" "never taken from the command line"
run - user add --email carol@example.com --username carol --no-password --inactive --role admin
check "user add --no-password --inactive --role: exit 0" rc_is 0
run "$OTHER_PASSWORD" user add --email not-an-email --username dave
check "invalid email: exit 1" rc_is 1
check "invalid email: names the field" has "$ERR" "mail"

# ---- list and show ----
run - user list
check "user list: exit 0" rc_is 0
check "user list: header" matches "$OUT" '^ID +USERNAME +EMAIL +ROLE +ACTIVE +PASSWORD +CREATED'
check "user list: ada" matches "$OUT" "$ADA_ID +ada +ada@example.com +user +yes +yes +[0-9T:-]+Z"
check "user list: carol" matches "$OUT" "carol +carol@example.com +admin +no +no"
run - user list --json
check "user list --json: exit 0" rc_is 0
check "user list --json: two users" py 'len(d) == 2 and [u["username"] for u in d] == ["ada", "carol"]'
check "user list --json: fields" py 'd[0]["id"] == "'"$ADA_ID"'" and d[0]["is_active"] is True and d[1]["has_password"] is False and d[1]["password_changed_at"] is None'
check "user list --json: times in UTC with Z" py 'all(u["created_at"].endswith("Z") and u["created_at"][10] == "T" for u in d)'
run - user list --limit 1 --offset 1 --json
check "user list --limit --offset" py 'len(d) == 1 and d[0]["username"] == "carol"'
run - user show ada
check "user show: exit 0" rc_is 0
check "user show: email" matches "$OUT" 'email: +ada@example.com'
check "user show: active" matches "$OUT" 'active: +yes'
for who in "$ADA_ID" "$(tr a-f A-F <<<"$ADA_ID")" ADA@EXAMPLE.COM Ada; do
    run - user show "$who" --json
    check "user show $who --json" py 'd["id"] == "'"$ADA_ID"'" and d["email"] == "ada@example.com" and d["global_role"] == "user"'
done
run - user show nobody
check "unknown user: exit 3" rc_is 3
check "unknown user: one line, prefixed" matches "$ERR" "^authkit user show: no user with username 'nobody'$"
run - user show nobody@example.com
check "unknown email: exit 3" rc_is 3
run - user show
check "user show without a user: exit 2" rc_is 2

# ---- hash and verify ----
run "$PASSWORD" hash --cost 4
check "hash: exit 0" rc_is 0
check "hash: bcrypt \$2b\$04\$" matches "$OUT" '^\$2b\$04\$[./A-Za-z0-9]{53}$'
HASH=$OUT
run "$PASSWORD" verify "$HASH"
check "verify match: exit 0" rc_is 0
check "verify match: says so" has "$OUT" "matches"
run "$OTHER_PASSWORD" verify "$HASH"
check "verify mismatch: exit 1" rc_is 1
check "verify mismatch: says so" matches "$ERR" "^authkit verify: password does not match$"
run "$PASSWORD" verify 'not-a-hash'
check "verify malformed hash: exit 1" rc_is 1
run - verify
check "verify without a hash: exit 2" rc_is 2
run "$PASSWORD" hash --cost 3
check "hash --cost 3: exit 2" rc_is 2
stored_hash() {
    "$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select password_hash from users where username = ?", (sys.argv[2],)).fetchone()[0])' "$DB" "$1"
}
run "$PASSWORD" verify "$(stored_hash ada)"
check "the stored hash matches the password given to user add" rc_is 0

# ---- set-password ----
run "$NEW_PASSWORD" user set-password ada@example.com
check "set-password: exit 0" rc_is 0
check "set-password: reports" has "$OUT" "password set for user ada"
run "$NEW_PASSWORD" verify "$(stored_hash ada)"
check "set-password: new password matches the stored hash" rc_is 0
run "$PASSWORD" verify "$(stored_hash ada)"
check "set-password: old password no longer matches" rc_is 1
run "$NEW_PASSWORD" user set-password nobody
check "set-password unknown user: exit 3" rc_is 3
run "short" user set-password ada
check "set-password too short: exit 1" rc_is 1
run "ada-2024!" user set-password ada
check "set-password containing the username: exit 1" rc_is 1
check "set-password containing the username: says why" has "$ERR" "based on your username"
run "qwertyuiop" user set-password ada
check "set-password common: says why" has "$ERR" "commonly used passwords"

# ---- disable and enable ----
run - user disable ada
check "disable: exit 0" rc_is 0
run - user show ada --json
check "disable: is_active false" py 'd["is_active"] is False'
run - user disable ada
check "disable again: exit 0, already" bash -c '[[ $0 -eq 0 && $1 == *already* ]]' "$RC" "$OUT"
run - user enable ada
check "enable: exit 0" rc_is 0
run - user show ada --json
check "enable: is_active true" py 'd["is_active"] is True'

# ---- sessions ----
run - session list ada
check "session list: exit 0" rc_is 0
check "session list: no sessions" has "$OUT" "no sessions"
run - session list ada --json
check "session list --json: empty array" py 'd == []'
run - session revoke-all ada
check "session revoke-all: exit 0" rc_is 0
check "session revoke-all: 0 revoked" has "$OUT" "revoked 0 sessions"
run - session cleanup
check "session cleanup: exit 0" rc_is 0
check "session cleanup: prints the count" matches "$OUT" '^deleted 0 expired sessions$'
run - session revoke ada 00000000-0000-4000-8000-000000000000
check "session revoke unknown: exit 3" rc_is 3
run - session list nobody
check "session list unknown user: exit 3" rc_is 3
run - session revoke ada
check "session revoke without id: exit 2" rc_is 2
# Sessions are made by logging in over HTTP; here two rows are written directly (one live,
# one expired) to see listing, revoking and cleanup work on real rows.
"$PY" - "$DB" "$ADA_ID" <<'EOF'
import sqlite3, sys, time, os
db = sqlite3.connect(sys.argv[1])
now = int(time.time() * 1_000_000)
for sid, exp in (("11111111-1111-4111-8111-111111111111", now + 3_600_000_000),
                 ("22222222-2222-4222-8222-222222222222", now - 1_000_000)):
    db.execute("insert into auth_sessions (id, user_id, token_hash, created_at, expires_at,"
               " last_seen_at, ip, user_agent) values (?, ?, ?, ?, ?, ?, ?, ?)",
               (sid, sys.argv[2], os.urandom(32), now - 2_000_000, exp, now - 2_000_000,
                "192.0.2.7", "test-agent/1.0 \x1b[31mred"))
db.commit()
EOF
run - session list ada
check "session list: the live session" matches "$OUT" "11111111-1111-4111-8111-111111111111 .*192\.0\.2\.7 +test-agent/1\.0 \?\[31mred"
check "session list: not the expired one" lacks "$OUT" "22222222"
check "session list: control characters neutralised" lacks "$OUT" $'\x1b'
run - session list ada --json
check "session list --json" py 'len(d) == 1 and d[0]["ip"] == "192.0.2.7" and d[0]["expires_at"].endswith("Z")'
run - session cleanup
check "session cleanup: 1 deleted" matches "$OUT" '^deleted 1 expired session$'
run - session revoke ada 11111111-1111-4111-8111-111111111111
check "session revoke: exit 0" rc_is 0
run - session list ada
check "session revoke: gone" has "$OUT" "no sessions"
"$PY" - "$DB" "$ADA_ID" <<'EOF'
import sqlite3, sys, time, os
db = sqlite3.connect(sys.argv[1])
now = int(time.time() * 1_000_000)
for sid in ("33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444"):
    db.execute("insert into auth_sessions (id, user_id, token_hash, created_at, expires_at,"
               " last_seen_at) values (?, ?, ?, ?, ?, ?)",
               (sid, sys.argv[2], os.urandom(32), now, now + 3_600_000_000, now))
db.commit()
EOF
run - session revoke-all ada --except 44444444-4444-4444-8444-444444444444
check "session revoke-all --except: exit 0" rc_is 0
check "session revoke-all --except: 1 revoked" has "$OUT" "revoked 1 session "
run - session list ada
check "session revoke-all --except: the kept one stays" has "$OUT" "44444444-4444-4444-8444-444444444444"
check "session revoke-all --except: the other is gone" lacks "$OUT" "33333333"
run - session revoke-all ada
check "session revoke-all: the last one goes" has "$OUT" "revoked 1 session "
run - session revoke-everyone
check "session revoke-everyone without --yes: exit 2" rc_is 2
check "session revoke-everyone without --yes: says --yes" has "$ERR" "--yes"
run - session revoke-everyone --yes
check "session revoke-everyone: exit 0" rc_is 0
check "session revoke-everyone: prints the count" matches "$OUT" '^revoked 0 sessions of every user$'
run - user unlock ada
check "user unlock: exit 0" rc_is 0
check "user unlock: nothing to forget" has "$OUT" "no failed logins"
run - user unlock nobody
check "user unlock unknown: exit 3" rc_is 3

# ---- require-password-change (checklist 17) ----
run - user show ada --json
check "user show --json: not flagged" py 'd["password_change_required"] is False'
run - user require-password-change ada
check "require-password-change: exit 0" rc_is 0
check "require-password-change: reports" has "$OUT" "user ada must choose a new password at the next login"
run - user show ada --json
check "require-password-change: the flag is stored" py 'd["password_change_required"] is True'
run - user show ada
check "user show: says the password must change" matches "$OUT" 'password: +set [0-9T:-]+Z; must be changed at the next login'
run - user list
check "user list: the flag" matches "$OUT" "$ADA_ID +ada +ada@example.com +user +yes +must-change "
run - user list --json
check "user list --json: the flag" py '[u["password_change_required"] for u in d] == [True, False]'
run - audit --event password_change_required --json
check "require-password-change: audited once" py "d['user_id'] == '$ADA_ID' and d['outcome'] == 'ok'"
run "$NEW_PASSWORD" user set-password ada
run - user show ada --json
check "set-password clears the flag" py 'd["password_change_required"] is False'
run - user require-password-change nobody
check "require-password-change unknown: exit 3" rc_is 3
run - user require-password-change
check "require-password-change without a user: exit 2" rc_is 2

# ---- delete ----
run - user delete carol
check "delete without --yes, no terminal: exit 2" rc_is 2
check "delete without --yes: says --yes" has "$ERR" "--yes"
run - user show carol
check "delete refused: carol still there" rc_is 0
run - user delete carol --yes
check "delete --yes: exit 0" rc_is 0
run - user show carol
check "deleted user: exit 3" rc_is 3
run - user delete carol --yes
check "delete unknown: exit 3" rc_is 3

# ---- audit ----
# pylines EXPR: evaluates EXPR with `d` bound to the list of JSON lines in OUT.
pylines() { printf '%s' "$OUT" | "$PY" -c "import json,sys; d=[json.loads(l) for l in sys.stdin.read().splitlines()]; sys.exit(0 if ($1) else 1)"; }
# no_raw_controls TEXT: true when TEXT holds no ESC, CR or BEL.
no_raw_controls() { [[ $1 != *$'\x1b'* && $1 != *$'\r'* && $1 != *$'\a'* ]]; }
run - audit
check "audit: exit 0" rc_is 0
check "audit: a table" matches "$OUT" '^TIME +EVENT +OUTCOME +USER +LOGIN +IP +SESSION +COUNT'
check "audit: newest first, the deletion" matches "$(printf '%s' "$OUT" | sed -n 2p)" ' user_deleted +ok '
check "audit: the revocation" matches "$OUT" ' user_logged_out +revoked +ada +- +- +11111111-1111-4111-8111-111111111111'
check "audit: the cleanup count" matches "$OUT" ' sessions_cleaned +ok +unknown +- +- +- +1'
check "audit: user creation" matches "$OUT" ' user_created +ok +ada +ada '
run - audit --json
check "audit --json: exit 0" rc_is 0
check "audit --json: one object per line, UTC times" pylines 'len(d) >= 8 and all(e["time"].endswith("Z") and e["event"] and e["outcome"] for e in d)'
check "audit --json: newest first" pylines 'all(d[i]["id"] > d[i + 1]["id"] for i in range(len(d) - 1))'
run - audit --user ada --json
check "audit --user: only that user" pylines "len(d) >= 4 and all(e['user_id'] == '$ADA_ID' for e in d)"
run - audit --user "${ADA_ID^^}" --json
check "audit --user ID in upper case" pylines "len(d) >= 4 and all(e['user_id'] == '$ADA_ID' for e in d)"
run - audit --event sessions_cleaned --json
check "audit --event" pylines 'len(d) == 1 and d[0]["count"] == 1 and d[0]["user_id"] is None'
run - audit --outcome revoked --json
check "audit --outcome" pylines 'len(d) == 1 and d[0]["event"] == "user_logged_out"'
run - audit --since 1h --limit 2 --json
check "audit --since DURATION --limit" pylines 'len(d) == 2'
run - audit --until 1h
check "audit --until DURATION: nothing that old" has "$OUT" "no audit records"
run - audit --since 2000-01-01 --until 2000-01-02T00:00:00Z
check "audit ISO 8601 window: empty" has "$OUT" "no audit records"
run - audit --since yesterday
check "audit --since bad: exit 2" rc_is 2
check "audit --since bad: one line" one_line "$ERR"
run - audit --event logged_in
check "audit --event unknown: exit 2" rc_is 2
run - audit --limit 0
check "audit --limit 0: exit 2" rc_is 2
run - audit --since 2027-01-01 --until 2026-01-01
check "audit --since after --until: exit 2" rc_is 2
run - audit extra
check "audit positional: exit 2" rc_is 2
# A row as a failed login writes it (tests/http/test_audit_http.py makes real ones),
# written here directly with hostile text: it must reach the terminal escaped, one line.
"$PY" - "$DB" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time() * 1_000_000)
db.execute("insert into audit_log (at, event, outcome, login, login_hash, ip) values"
           " (?, 'login_failed', 'wrong_password', ?, ?, ?)",
           (now, "x\r\nINFO login ok user=admin\x1b[31m\u202e", "ab" * 16, "192.0.2.9\x07"))
db.commit()
EOF
run - audit --limit 1
check "audit: hostile text escaped" has "$OUT" 'x\x0d\x0aINFO login ok user=admin\x1b[31m\xe2\x80\xae'
check "audit: no raw control characters" no_raw_controls "$OUT"
check "audit: one line for the record" test "$(printf '%s\n' "$OUT" | grep -c 'INFO login ok')" -eq 1
run - audit --limit 1 --json
check "audit --json: no raw control characters" no_raw_controls "$OUT"
check "audit --json: all printable ASCII" matches "$OUT" '^[[:print:]]+$'
check "audit --json: the text round-trips" pylines 'd[0]["login"] == "x\r\nINFO login ok user=admin\x1b[31m\u202e" and d[0]["ip"] == "192.0.2.9\x07"'
run - audit --limit 1 --json --audit-retention-days 0
check "audit with the trail off: rows still readable" pylines 'len(d) == 1'

# ---- bcrypt self-test: a libxcrypt that gives wrong answers stops every command ----
# The shim (tests/support/corrupt_crypt.c) changes one character of every bcrypt hash
# crypt_rn returns. AddressSanitizer's runtime, when the program has one, must come
# first in LD_PRELOAD.
preload=$CORRUPT_CRYPT
asan_runtime=$(ldd "$AUTHKIT" | awk '$1 ~ /^libasan\.so/ { print $3 }')
[[ -n $asan_runtime ]] && preload="$asan_runtime:$CORRUPT_CRYPT"
LD_PRELOAD=$preload run - user list
check "corrupted bcrypt: user list exits 1" rc_is 1
check "corrupted bcrypt: one line" one_line "$ERR"
check "corrupted bcrypt: says the self-test failed" \
    matches "$ERR" '^authkit user list: bcrypt self-test failed: libxcrypt gives wrong answers'
LD_PRELOAD=$preload run - migrate --database sqlite://./selftest.db
check "corrupted bcrypt: migrate exits 1" rc_is 1
check "corrupted bcrypt: no database created" test ! -e selftest.db
set +e
LD_PRELOAD=$preload timeout 30 "$AUTHKIT" serve --listen 127.0.0.1:0 </dev/null >"$tmp/out" 2>"$tmp/err"
RC=$?
set -e
OUT=$(cat "$tmp/out") ERR=$(cat "$tmp/err")
check "corrupted bcrypt: serve exits 1" rc_is 1
check "corrupted bcrypt: serve says why, one line" \
    matches "$ERR" '^authkit serve: bcrypt self-test failed: libxcrypt gives wrong answers \(.*\)$'
# hash and verify open no context: they run the self-test themselves, before reading.
LD_PRELOAD=$preload run "$PASSWORD" hash
check "corrupted bcrypt: hash exits 1" rc_is 1
check "corrupted bcrypt: hash prints no hash" test -z "$OUT"
check "corrupted bcrypt: hash says why, one line" \
    matches "$ERR" '^authkit hash: bcrypt self-test failed: libxcrypt gives wrong answers \(.*\)$'
LD_PRELOAD=$preload run "$PASSWORD" verify "$(stored_hash ada)"
check "corrupted bcrypt: verify exits 1" rc_is 1
check "corrupted bcrypt: verify says why" \
    matches "$ERR" '^authkit verify: bcrypt self-test failed: libxcrypt gives wrong answers \(.*\)$'
run - user list
check "without the shim: user list exits 0" rc_is 0

# ---- terminal: prompts without echo, confirmation ----
# A pseudo-terminal drives the prompts: nothing typed may be echoed.
tty_run() {
    "$PY" - "$AUTHKIT" "$@" <<'EOF'
import os, pty, sys, time
argv = sys.argv[1:]
answers = [a.encode() for a in os.environ["TTY_ANSWERS"].split("\n")]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b""
deadline = time.time() + 20
while time.time() < deadline:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if answers and (out.endswith(b": ") or out.endswith(b"] ")):
        time.sleep(0.05)
        os.write(fd, answers.pop(0) + b"\n")
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
EOF
}
tty() {
    set +e
    OUT=$(TTY_ANSWERS=$1 tty_run "${@:2}")
    RC=$?
    set -e
    ERR=''
    printf '%s\n' "$OUT" >>"$tmp/all_output"
}
tty "$PASSWORD"$'\n'"$PASSWORD" hash --cost 4
check "terminal hash: exit 0" rc_is 0
check "terminal hash: prompts twice" bash -c '[[ $0 == *"Password: "*"Repeat password: "* ]]' "$OUT"
check "terminal hash: prints the hash" matches "$OUT" '\$2b\$04\$'
check "terminal hash: no echo" lacks "$OUT" "$PASSWORD"
tty "$PASSWORD"$'\n'"$OTHER_PASSWORD" hash --cost 4
check "terminal: different passwords refused" bash -c '[[ $0 -eq 1 && $1 == *"do not match"* ]]' "$RC" "$OUT"
tty "$OTHER_PASSWORD"$'\n'"$OTHER_PASSWORD" user add --email erin@example.com --username erin
check "terminal user add: exit 0" rc_is 0
run "$OTHER_PASSWORD" verify "$(stored_hash erin)"
check "terminal user add: stored the typed password" rc_is 0
tty "n" user delete erin
check "terminal delete answered no: exit 1" rc_is 1
run - user show erin
check "terminal delete answered no: erin still there" rc_is 0
tty "yes" user delete erin
check "terminal delete answered yes: exit 0" rc_is 0
run - user show erin
check "terminal delete answered yes: erin gone" rc_is 3

# ---- passwords never in argv or in any output ----
# The program waits for its password on a pipe while its command line is read.
mkfifo "$tmp/fifo"
exec 3<>"$tmp/fifo"
"$AUTHKIT" user set-password ada <"$tmp/fifo" >"$tmp/fifo_out" 2>&1 &
pid=$!
for _ in $(seq 100); do
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null || true) == "$AUTHKIT" ]] && break
    sleep 0.05
done
cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
printf '%s\n' "$NEW_PASSWORD" >&3
exec 3>&-
wait "$pid" && RC=0 || RC=$?
cat "$tmp/fifo_out" >>"$tmp/all_output"
check "set-password while waiting for stdin: argv is just the command" \
    bash -c '[[ $0 == *"user set-password ada"* ]]' "$cmdline"
check "set-password while waiting for stdin: no password in argv" lacks "$cmdline" "$NEW_PASSWORD"
check "set-password via a pipe: exit 0" rc_is 0
all=$(cat "$tmp/all_output")
for pw in "$PASSWORD" "$NEW_PASSWORD" "$OTHER_PASSWORD" "$SECRET"; do
    check "no password or secret in any output" lacks "$all" "$pw"
done

echo "cli: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
