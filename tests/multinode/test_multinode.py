#!/usr/bin/python3
"""Several `authkit serve` nodes on one PostgreSQL database (issue 4, part 4).

Usage: /usr/bin/python3 tests/multinode/test_multinode.py path/to/authkit [Class[.test] ...]

Needs the PostgreSQL server of the pg_server CTest fixture (tests/support/pg_server.sh),
named by AUTHKIT_TEST_PG_URL (a libpq keyword string, "host=DIR dbname=postgres
user=postgres"), and psql to create and drop this test's own database. A missing variable
or a missing psql fails the test with a message; nothing is skipped.

Each class makes a fresh database, starts THREE nodes on it at the same moment (so that
their migrations at open meet under the advisory lock), creates users with
`authkit user add`, and stops the nodes with SIGTERM, which must end each with status 0.
What one node revokes must be refused by every other node on the very next request: no
cache, no delay. The same checks run with stored sessions and in stateless mode
(AUTHKIT_ENABLE_SESSION_STORAGE=false, one AUTHKIT_SESSION_SECRET on every node).

Only the Python standard library is used; tests/multinode/test_outage.py imports the
helpers below. Prints `multinode: N passed, M failed` and the revocation timings.
"""
import glob
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

AUTHKIT = None  # path of the authkit binary (argv[1])

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
JWT_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
LISTEN_RE = re.compile(r"authkit: listening on http://127\.0\.0\.1:(\d+)")

# Seconds from a revoking response (logout, logout-all, password change, user delete) to
# the refusal of the revoked token by another node, one entry per check: printed at the end.
REVOCATION_LAGS = []
_lock = threading.Lock()


def fail_setup(message):
    sys.stderr.write("multinode: %s\n" % message)
    sys.exit(1)


# ---------------------------------------------------------------------------------------
# The PostgreSQL server of the fixture
# ---------------------------------------------------------------------------------------

def parse_conninfo(text):
    """A libpq keyword string ("k=v k2='v 2'") as a dict."""
    out = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        eq = text.find("=", i)
        if eq < 0:
            raise ValueError("no '=' after %r in the connection string" % text[i:])
        key = text[i:eq].strip()
        i = eq + 1
        while i < n and text[i].isspace():
            i += 1
        value = []
        if i < n and text[i] == "'":
            i += 1
            while i < n and text[i] != "'":
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(text[i])
                i += 1
            if i >= n:
                raise ValueError("unterminated quote in the connection string")
            i += 1
        else:
            while i < n and not text[i].isspace():
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(text[i])
                i += 1
        out[key] = "".join(value)
    return out


def quote_conninfo(params):
    parts = []
    for k, v in params.items():
        parts.append("%s='%s'" % (k, v.replace("\\", "\\\\").replace("'", "\\'")))
    return " ".join(parts)


def version_key(path):
    """/usr/lib/postgresql/15/bin -> (15,) for sorting."""
    parts = path.rstrip("/").split("/")
    try:
        return tuple(int(x) for x in parts[-2].split("."))
    except (ValueError, IndexError):
        return (0,)


def pg_bindirs():
    """Directories holding PostgreSQL programs, newest version first, then PATH."""
    return sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version_key, reverse=True)


def find_program(name):
    for d in pg_bindirs():
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return shutil.which(name)


class PgServer:
    """The fixture's server: the connection string, psql, and databases made here."""

    def __init__(self):
        base = os.environ.get("AUTHKIT_TEST_PG_URL", "")
        if not base:
            fail_setup("AUTHKIT_TEST_PG_URL is not set: run this test through ctest, whose "
                       "pg_server fixture starts a PostgreSQL server "
                       "(tests/support/pg_server.sh)")
        try:
            self.params = parse_conninfo(base)
        except ValueError as e:
            fail_setup("cannot parse AUTHKIT_TEST_PG_URL %r: %s" % (base, e))
        self.psql = find_program("psql")
        if not self.psql:
            fail_setup("psql is not installed (looked in /usr/lib/postgresql/*/bin and on "
                       "PATH); install the Debian package postgresql-client "
                       "(scripts/install-deps.sh)")
        self.databases = []

    @property
    def host(self):
        return self.params.get("host", "")

    def conninfo(self, dbname):
        p = dict(self.params)
        p["dbname"] = dbname
        return quote_conninfo(p)

    def sql(self, statement, dbname="postgres", timeout=60):
        """Runs SQL with psql; returns its unaligned, tuples-only output."""
        r = subprocess.run([self.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-d", self.conninfo(dbname), "-c", statement],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("psql %r failed (%d): %s" % (
                statement, r.returncode, r.stderr.decode(errors="replace").strip()))
        return r.stdout.decode().strip()

    def create_db(self, prefix):
        name = "authkit_%s_%s" % (prefix, secrets.token_hex(6))
        self.sql("CREATE DATABASE %s" % name)
        self.databases.append(name)
        return name

    def drop_db(self, name):
        self.sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
        if name in self.databases:
            self.databases.remove(name)

    def url(self, dbname, scheme="postgresql://"):
        """The authkit database URL of `dbname`: libpq URI syntax, the socket directory as
        a percent-encoded host parameter."""
        user = self.params.get("user", "")
        q = {}
        if self.params.get("host"):
            q["host"] = self.params["host"]
        if self.params.get("port"):
            q["port"] = self.params["port"]
        query = urllib.parse.urlencode(q, quote_via=urllib.parse.quote, safe="")
        return "%s%s%s/%s%s" % (scheme, urllib.parse.quote(user, safe=""),
                                "@" if user else "", dbname, "?" + query if query else "")


# ---------------------------------------------------------------------------------------
# authkit nodes
# ---------------------------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body, started, elapsed):
        self.status = status
        self.headers = headers
        self.body = body
        self.started = started  # time.monotonic() when the request was sent
        self.elapsed = elapsed  # seconds until the whole response was read

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def is_json_error(self):
        """An error body {"error": str, "message": str} with a JSON content type."""
        if not (self.header("Content-Type") or "").startswith("application/json"):
            return False
        try:
            body = self.json()
        except ValueError:
            return False
        return (isinstance(body, dict) and isinstance(body.get("error"), str)
                and isinstance(body.get("message"), str))

    def __repr__(self):
        return "<%d %.3fs %r>" % (self.status, self.elapsed, self.body[:300])


def random_secret():
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))


def base_env(secret, extra=None):
    """The environment of a node or a CLI call: none of the caller's AUTHKIT_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHKIT_")}
    env.update({
        "AUTHKIT_SESSION_SECRET": secret,
        "AUTHKIT_BCRYPT_COST": "4",
        "AUTHKIT_PASSWORD_WORKERS": "2",
    })
    env.update(extra or {})
    return env


class Node:
    """One `authkit serve` process on 127.0.0.1 with a port it picked itself."""

    def __init__(self, name, db_url, secret, extra_env=None):
        self.name = name
        self.db_url = db_url
        self.env = base_env(secret, extra_env)
        self.dir = tempfile.mkdtemp(prefix="authkit-%s-" % name)  # also the cwd: no .env
        self.stdout_path = os.path.join(self.dir, "stdout.txt")
        self.stderr_path = os.path.join(self.dir, "stderr.txt")
        self.proc = None
        self.port = None

    def spawn(self):
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [AUTHKIT, "serve", "--listen", "127.0.0.1:0", "--database", self.db_url],
            cwd=self.dir, env=self.env, stdin=subprocess.DEVNULL,
            stdout=self._out, stderr=self._err)

    def wait_listening(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.stdout_path, "r", errors="replace") as f:
                m = LISTEN_RE.search(f.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                raise RuntimeError("%s: authkit serve exited with %d: %s" % (
                    self.name, self.proc.returncode, self.stderr_tail()))
            time.sleep(0.02)
        raise RuntimeError("%s: authkit serve did not print its listening line within %d s: %s"
                           % (self.name, timeout, self.stderr_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM; returns (exit status or None when it had to be killed, seconds)."""
        if not self.proc:
            return 0, 0.0
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            rc = None
            self.proc.kill()
            self.proc.wait()
        elapsed = time.monotonic() - started
        self._out.close()
        self._err.close()
        self.proc = None
        return rc, elapsed

    def stderr_tail(self, lines=15):
        try:
            with open(self.stderr_path, "r", encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def cleanup(self):
        if not os.environ.get("AUTHKIT_MULTINODE_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- HTTP --

    def request(self, method, path, body=None, headers=None, timeout=60):
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if isinstance(body, str):
                body = body.encode("utf-8")
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, r.getheaders(), data, started,
                            time.monotonic() - started)
        finally:
            conn.close()

    def post_json(self, path, obj, token=None):
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + token
        return self.request("POST", path, json.dumps(obj), h)

    def login(self, login, password):
        return self.post_json("/login", {"username": login, "password": password})

    def me(self, token):
        return self.request("GET", "/me", None, {"Authorization": "Bearer " + token})

    def send(self, method, path, token):
        return self.request(method, path, None, {"Authorization": "Bearer " + token})


def start_nodes(count, db_url, secret, extra_env=None, prefix="node"):
    """Starts `count` nodes at the same moment (their migrations race for the advisory
    lock) and waits until each listens. On failure every started node is stopped."""
    nodes = [Node("%s%d" % (prefix, i + 1), db_url, secret, extra_env) for i in range(count)]
    try:
        for n in nodes:
            n.spawn()
        for n in nodes:
            n.wait_listening()
    except BaseException:
        for n in nodes:
            n.stop()
            n.cleanup()
        raise
    return nodes


def cli(db_url, secret, args, stdin=None, extra_env=None):
    """Runs `authkit ARGS --database URL` in a fresh temporary directory."""
    d = tempfile.mkdtemp(prefix="authkit-cli-")
    try:
        return subprocess.run([AUTHKIT] + list(args) + ["--database", db_url], cwd=d,
                              env=base_env(secret, extra_env), input=stdin,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def add_user(db_url, secret, prefix="u"):
    """Creates a user with `authkit user add`; returns {username, email, password}."""
    username = "%s_%s" % (prefix, secrets.token_hex(4))
    email = "%s@example.test" % username.replace("_", ".")
    pw = "Pw-" + secrets.token_hex(10)
    r = cli(db_url, secret, ["user", "add", "--email", email, "--username", username],
            stdin=(pw + "\n").encode())
    if r.returncode != 0:
        raise RuntimeError("user add failed (%d): %s" % (r.returncode, r.stderr.decode()))
    return {"username": username, "email": email, "password": pw}


# ---------------------------------------------------------------------------------------
# The tests: the same checks with stored sessions and with signed (stateless) tokens
# ---------------------------------------------------------------------------------------

class MultiNodeBase:
    """Mixed into unittest.TestCase by the two classes below."""

    extra_env = {}
    stateless = False
    prefix = "mn"

    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer()
        cls.db = cls.pg.create_db(cls.prefix)
        cls.db_url = cls.pg.url(cls.db)
        cls.secret = random_secret()
        cls.nodes = []
        try:
            cls.nodes = start_nodes(3, cls.db_url, cls.secret, cls.extra_env)
        except BaseException:
            cls.pg.drop_db(cls.db)
            raise

    @classmethod
    def tearDownClass(cls):
        problems = []
        for n in cls.nodes:
            rc, elapsed = n.stop()
            if rc != 0:
                problems.append("%s: exit status %r %.1f s after SIGTERM (want 0): %s" % (
                    n.name, rc, elapsed, n.stderr_tail()))
            n.cleanup()
        cls.pg.drop_db(cls.db)
        if problems:
            raise AssertionError("graceful shutdown: " + "; ".join(problems))

    # -- helpers --

    def user(self, prefix="u"):
        return add_user(self.db_url, self.secret, prefix)

    def token_on(self, node, user, password=None):
        r = node.login(user["username"], password or user["password"])
        self.assertEqual(r.status, 200, "login on %s: %r" % (node.name, r))
        token = r.json()["token"]
        self.assertRegex(token, JWT_RE if self.stateless else TOKEN_RE)
        return token

    def assertValidEverywhere(self, token, user, what):
        for n in self.nodes:
            r = n.me(token)
            self.assertEqual(r.status, 200, "%s: /me on %s: %r" % (what, n.name, r))
            self.assertEqual(r.json()["username"], user["username"], r)

    def assertRefusedEverywhere(self, token, what, since=None, nodes=None):
        """Every node (or `nodes`) answers 401 to the token on the first try. `since`
        (given for the first token checked after a revocation) is when the revoking answer
        arrived: the time from it to each node's refusal is recorded."""
        for n in nodes or self.nodes:
            r = n.me(token)
            lag = r.started + r.elapsed - since if since is not None else 0.0
            if since is not None:
                with _lock:
                    REVOCATION_LAGS.append(lag)
            self.assertEqual(r.status, 401, "%s: /me on %s %.3f s after the revocation: %r"
                             % (what, n.name, lag, r))
            self.assertTrue(r.is_json_error(), r)
            self.assertTrue(r.header("WWW-Authenticate"), r)
            v = n.send("GET", "/auth/verify", token)
            self.assertEqual(v.status, 401, "%s: /auth/verify on %s: %r" % (what, n.name, v))

    # -- the checks --

    def test_01_schema_migrated_once(self):
        # Three nodes opened the empty database at the same moment: each migration
        # version is recorded once, and every node is up.
        out = self.pg.sql("SELECT count(*), count(DISTINCT version), max(version) "
                          "FROM authkit_schema_migrations", self.db)
        count, distinct, top = (int(x) for x in out.split("|"))
        self.assertGreaterEqual(count, 1, out)
        self.assertEqual(count, distinct, out)
        self.assertEqual(count, top, "versions 1..N each once: %s" % out)
        for n in self.nodes:
            self.assertTrue(n.alive(), n.name)
            r = n.request("GET", "/healthz")
            self.assertEqual(r.status, 200, "%s: %r" % (n.name, r))

    def test_02_login_on_one_validate_on_all(self):
        u = self.user("val")
        token = self.token_on(self.nodes[0], u)
        self.assertValidEverywhere(token, u, "login on node1")
        for n in self.nodes[1:]:
            r = n.send("GET", "/auth/verify", token)
            self.assertEqual(r.status, 200, "%s: %r" % (n.name, r))
            self.assertEqual(r.header("X-Auth-User"), u["username"], r)

    def test_04_logout_all_on_one_node(self):
        u = self.user("all")
        other = self.user("bystander")
        tokens = [self.token_on(n, u) for n in self.nodes]
        bystander = self.token_on(self.nodes[0], other)
        for t in tokens:
            self.assertValidEverywhere(t, u, "before logout-all")
        r = self.nodes[1].send("POST", "/logout-all", tokens[2])
        self.assertEqual(r.status, 200, r)
        if not self.stateless:
            self.assertEqual(r.json().get("revoked"), 3, r)
        done = time.monotonic()
        for i, t in enumerate(tokens):
            self.assertRefusedEverywhere(t, "logout-all on node2", None if i else done)
        # Only that user's tokens died; the user may log in again on any node.
        self.assertValidEverywhere(bystander, other, "another user after logout-all")
        fresh = self.token_on(self.nodes[0], u)
        self.assertValidEverywhere(fresh, u, "login again after logout-all")

    def test_05_password_change_on_one_node(self):
        u = self.user("pw")
        old = [self.token_on(n, u) for n in self.nodes]
        new_pw = "New-" + secrets.token_hex(10)
        r = self.nodes[1].post_json("/password", {"current_password": u["password"],
                                                  "new_password": new_pw}, token=old[1])
        self.assertEqual(r.status, 200, r)
        done = time.monotonic()
        issued = r.json()["token"]
        for i, t in enumerate(old):
            self.assertRefusedEverywhere(t, "password change on node2", None if i else done)
        self.assertValidEverywhere(issued, u, "token issued by the password change")
        bad = self.nodes[0].login(u["username"], u["password"])
        self.assertEqual(bad.status, 401, "old password on node1: %r" % bad)
        for n in (self.nodes[0], self.nodes[2]):
            t = self.token_on(n, u, new_pw)
            self.assertValidEverywhere(t, u, "new password on %s" % n.name)

    def test_06_user_deleted_by_cli(self):
        u = self.user("del")
        tokens = [self.token_on(n, u) for n in self.nodes]
        r = cli(self.db_url, self.secret, ["user", "delete", u["username"], "--yes"])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        done = time.monotonic()
        for i, t in enumerate(tokens):
            self.assertRefusedEverywhere(t, "authkit user delete", None if i else done)
        for n in self.nodes:
            r = n.login(u["username"], u["password"])
            self.assertEqual(r.status, 401, "login of a deleted user on %s: %r" % (n.name, r))

    def test_07_user_disabled_by_cli(self):
        u = self.user("dis")
        tokens = [self.token_on(n, u) for n in self.nodes]
        r = cli(self.db_url, self.secret, ["user", "disable", u["username"]])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        done = time.monotonic()
        for i, t in enumerate(tokens):
            self.assertRefusedEverywhere(t, "authkit user disable", None if i else done)

    def test_07b_csrf_token_valid_on_every_node(self):
        # The anti-CSRF token is derived from the shared secret and the session id: every
        # node gives the same one and accepts it; without it a cookie cannot log out.
        u = self.user("csrf")
        r = self.nodes[0].login(u["username"], u["password"])
        self.assertEqual(r.status, 200, r)
        token, csrf = r.json()["token"], r.json()["csrf_token"]
        cookie = {"Cookie": "__Host-session_token=" + token, "Sec-Fetch-Site": "same-origin"}
        for n in self.nodes:
            me = n.request("GET", "/me", None, cookie)
            self.assertEqual(me.header("X-CSRF-Token"), csrf, "%s: %r" % (n.name, me))
        r = self.nodes[2].request("POST", "/logout-all", None, cookie)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json().get("error"), "FORBIDDEN", r)
        self.assertValidEverywhere(token, u, "logout-all without the CSRF token")
        r = self.nodes[2].request("POST", "/logout-all", None, dict(cookie, **{
            "X-CSRF-Token": csrf}))
        self.assertEqual(r.status, 200, r)
        self.assertRefusedEverywhere(token, "logout-all with the CSRF token of node1")

    def test_08_concurrent_logins_on_all_nodes(self):
        # Every node logs the same users in at once (the pools of three processes on one
        # database); every token then validates on every node.
        users = [self.user("conc") for _ in range(3)]
        results = []
        errors = []

        def worker(node, user):
            try:
                for _ in range(4):
                    r = node.login(user["username"], user["password"])
                    with _lock:
                        results.append((r, user))
            except Exception as e:  # noqa: BLE001 - reported below
                with _lock:
                    errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(n, u))
                   for n in self.nodes for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 36)
        for r, u in results:
            self.assertEqual(r.status, 200, r)
        tokens = {r.json()["token"]: u for r, u in results}
        self.assertEqual(len(tokens), 36, "every login gets its own token")
        for t, u in list(tokens.items())[:9]:
            self.assertValidEverywhere(t, u, "concurrent login")


class StoredSessionTests(MultiNodeBase, unittest.TestCase):
    prefix = "mn_stored"

    def test_03_logout_on_one_node(self):
        u = self.user("out")
        token = self.token_on(self.nodes[0], u)
        keep = self.token_on(self.nodes[0], u)  # another session of the same user
        self.assertValidEverywhere(token, u, "before logout")
        r = self.nodes[2].send("POST", "/logout", token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"logged_out": True}, r)
        done = time.monotonic()
        self.assertRefusedEverywhere(token, "logout on node3", done,
                                     nodes=[self.nodes[0], self.nodes[1], self.nodes[2]])
        self.assertValidEverywhere(keep, u, "the user's other session")
        # Logging the same token out again elsewhere: nothing left to delete.
        r = self.nodes[0].send("POST", "/logout", token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"logged_out": False}, r)

    def test_03b_session_revoked_by_id(self):
        u = self.user("rev")
        victim = self.token_on(self.nodes[1], u)
        caller = self.token_on(self.nodes[2], u)
        r = self.nodes[0].send("GET", "/sessions", caller)
        self.assertEqual(r.status, 200, r)
        listed = r.json()["sessions"]
        self.assertEqual(len(listed), 2, r)
        sid = [s["id"] for s in listed if not s["current"]][0]
        r = self.nodes[0].send("DELETE", "/sessions/" + sid, caller)
        self.assertEqual(r.status, 200, r)
        done = time.monotonic()
        self.assertRefusedEverywhere(victim, "DELETE /sessions/{id} on node1", done)
        self.assertValidEverywhere(caller, u, "the revoking session")

    def test_09_cli_session_revoke_all(self):
        u = self.user("clirev")
        tokens = [self.token_on(n, u) for n in self.nodes]
        r = cli(self.db_url, self.secret, ["session", "revoke-all", u["username"]])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        done = time.monotonic()
        for i, t in enumerate(tokens):
            self.assertRefusedEverywhere(t, "authkit session revoke-all", None if i else done)


class StatelessTests(MultiNodeBase, unittest.TestCase):
    extra_env = {"AUTHKIT_ENABLE_SESSION_STORAGE": "false"}
    stateless = True
    prefix = "mn_stateless"

    def test_03_logout_all_on_node1(self):
        u = self.user("jwt")
        token = self.token_on(self.nodes[0], u)
        self.assertValidEverywhere(token, u, "signed token before logout-all")
        r = self.nodes[0].send("POST", "/logout-all", token)
        self.assertEqual(r.status, 200, r)
        done = time.monotonic()
        self.assertRefusedEverywhere(token, "stateless logout-all on node1", done,
                                     nodes=[self.nodes[1], self.nodes[2], self.nodes[0]])

    def test_09_node_with_another_secret_refuses(self):
        # The signing key is AUTHKIT_SESSION_SECRET: a node with another one (a
        # misconfigured node) refuses every token the others issued, and vice versa.
        u = self.user("sec")
        token = self.token_on(self.nodes[0], u)
        odd = start_nodes(1, self.db_url, random_secret(), self.extra_env, prefix="odd")[0]
        try:
            r = odd.me(token)
            self.assertEqual(r.status, 401, r)
            r = odd.login(u["username"], u["password"])
            self.assertEqual(r.status, 200, r)
            r = self.nodes[1].me(r.json()["token"])
            self.assertEqual(r.status, 401, r)
        finally:
            rc, _ = odd.stop()
            odd.cleanup()
        self.assertEqual(rc, 0)


ORDER = [StoredSessionTests, StatelessTests]


def run(order, label):
    global AUTHKIT
    if len(sys.argv) < 2:
        sys.stderr.write("usage: %s path/to/authkit [unittest names]\n" % sys.argv[0])
        return 2
    AUTHKIT = os.path.abspath(sys.argv[1])
    if not os.access(AUTHKIT, os.X_OK):
        sys.stderr.write("%s: not an executable\n" % AUTHKIT)
        return 2
    loader = unittest.TestLoader()
    wanted = sys.argv[2:]
    suite = unittest.TestSuite()
    for cls in order:
        if not wanted:
            suite.addTests(loader.loadTestsFromTestCase(cls))
            continue
        for w in wanted:
            if w == cls.__name__:
                suite.addTests(loader.loadTestsFromTestCase(cls))
            elif w.startswith(cls.__name__ + "."):
                suite.addTest(cls(w.split(".", 1)[1]))
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failing = set()
    for t, _ in result.failures + result.errors:
        failing.add(t.id())
    for t in result.unexpectedSuccesses:
        failing.add(t.id())
    passed = result.testsRun - len(result.skipped) - len(
        [f for f in failing if not f.startswith("setUpClass") and
         not f.startswith("tearDownClass")])
    print("%s: %d passed, %d failed" % (label, passed, len(failing)))
    sys.stdout.flush()
    return 0 if not failing and result.wasSuccessful() and result.testsRun > 0 else 1


def main():
    status = run(ORDER, "multinode")
    if REVOCATION_LAGS:
        print("multinode: %d first requests after a revocation on another node (or by the "
              "CLI), all refused; the slowest answered %.1f ms after the revoking answer, "
              "the median %.1f ms" % (
                  len(REVOCATION_LAGS), 1000 * max(REVOCATION_LAGS),
                  1000 * sorted(REVOCATION_LAGS)[len(REVOCATION_LAGS) // 2]))
    return status


if __name__ == "__main__":
    sys.exit(main())
