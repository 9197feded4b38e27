#!/usr/bin/python3
"""A PostgreSQL outage under traffic (issue 4, part 5).

Usage: /usr/bin/python3 tests/multinode/test_outage.py path/to/authkit

Runs on the pg_server CTest fixture's server (AUTHKIT_TEST_PG_URL, host=DIR) and STOPS AND
RESTARTS THAT SERVER: CTest runs it alone (RUN_SERIAL, RESOURCE_LOCK pg_server). The server
is stopped and started with pg_ctl on its own data directory (DIR/data), never with
`pg_server.sh stop`/`start`, which remove and re-create the cluster: the rows written
before the outage must survive it. Whatever happens, the server is running again when
this script ends (try/finally, also on SIGTERM or SIGINT).

Three nodes on one fresh database, all with the same secret: node1 and node2 with stored
sessions, node3 stateless (signed tokens). Client threads log in, validate (/me) and log
out (stateless: logout-all) in a bounded loop while the server is stopped
(`pg_ctl stop -m fast`), kept down for a few seconds, and started again; then a second
cycle with `pg_ctl stop -m immediate` (a crash: no goodbye on the connections). Checks:
  - every request is answered (no connection error: no node crashed) within
    MAX_LATENCY_S; the slowest is reported;
  - while the server is down, every validation, login and logout answers 503 with a JSON
    error body, /healthz too: never 200 for a token that cannot be checked;
  - no token is accepted after its logout (or logout-all) was acknowledged;
  - after `pg_ctl start` returns, every node answers 200 again by itself within
    RECOVERY_BOUND_S (measured and reported), without restarting authkit;
  - every login acknowledged with 200 still validates afterwards, on every node of its
    kind, and every acknowledged logout stays logged out; so do tokens logged in and out
    before the first outage and left alone since. The fixture's server runs with
    synchronous_commit = off for speed, which lets a crash lose the commits of its last
    moments by design (seen here: an acknowledged logout undone by `stop -m immediate`);
    this test's database is set back to PostgreSQL's default, synchronous_commit = on,
    as a production database must be.
A shorter test restarts the server while the nodes are idle: the first request afterwards
must already be answered 200.
Prints the measured figures and `outage: N passed, M failed`.
"""
import base64
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_multinode as mn  # noqa: E402 - the shared helpers (PgServer, Node, ...)

MAX_LATENCY_S = 12.0       # no request may take longer, in any phase
RECOVERY_BOUND_S = 5.0     # from `pg_ctl start` returning to 200 on every node
DOWN_S = 4.0               # how long the server stays down
PRE_S = 1.5                # traffic before the stop
POST_S = 2.5               # traffic after the recovery
CLIENT_TIMEOUT_S = 60      # the client gives up on a request after this long
STORED_WORKERS = 4
STATELESS_WORKERS = 2
MAX_ITERATIONS = 20000     # per worker: the loop is bounded even if the stop event is lost

FIGURES = []  # lines printed at the end


def figure(text):
    """A measured figure: printed at the end, also when the test fails."""
    FIGURES.append(text)


class PgControl:
    """Stops and starts the fixture's server in place (its data directory stays)."""

    def __init__(self, host_dir):
        self.dir = os.path.realpath(host_dir)  # pg_server.sh may link DIR to /tmp/...
        self.data = os.path.join(self.dir, "data")
        if not os.path.isfile(os.path.join(self.data, "PG_VERSION")):
            mn.fail_setup("no PostgreSQL data directory at %s: AUTHKIT_TEST_PG_URL's host= "
                          "must be the directory tests/support/pg_server.sh started" % self.data)
        with open(os.path.join(self.data, "PG_VERSION")) as f:
            version = f.read().strip()
        own = "/usr/lib/postgresql/%s/bin/pg_ctl" % version
        self.pg_ctl = own if os.access(own, os.X_OK) else mn.find_program("pg_ctl")
        if not self.pg_ctl:
            mn.fail_setup("pg_ctl not found (PostgreSQL server package)")
        # As root, as pg_server.sh does: the cluster belongs to `postgres`.
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        self.log = os.path.join(self.dir, "server.log")

    def ctl(self, *args, timeout=90):
        r = subprocess.run(self.as_pg + [self.pg_ctl, "-D", self.data] + list(args),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        return r.returncode, (r.stdout + r.stderr).decode(errors="replace").strip()

    def running(self):
        return self.ctl("status")[0] == 0

    def stop(self, mode):
        rc, out = self.ctl("-m", mode, "-w", "-t", "60", "stop")
        if rc != 0:
            raise RuntimeError("pg_ctl stop -m %s failed (%d): %s" % (mode, rc, out))

    def start(self):
        rc, out = self.ctl("-l", self.log, "-w", "-t", "60", "start")
        if rc != 0:
            raise RuntimeError("pg_ctl start failed (%d): %s" % (rc, out))

    def ensure_running(self):
        if not self.running():
            self.start()


class Rec:
    """One request made by the traffic: what, where, when, and the answer."""
    __slots__ = ("kind", "mode", "node", "token", "started", "ended", "status", "json_error",
                 "error", "body", "seq")

    def __init__(self, kind, mode, node, token, started, ended, status, json_error, error,
                 body, seq):
        self.kind, self.mode, self.node, self.token = kind, mode, node, token
        self.started, self.ended, self.status = started, ended, status
        self.json_error, self.error, self.body, self.seq = json_error, error, body, seq

    @property
    def elapsed(self):
        return self.ended - self.started

    def __repr__(self):
        return "<%s %s on %s %d %.3fs%s %r>" % (self.kind, self.mode, self.node, self.status,
                                               self.elapsed, " " + self.error if self.error
                                               else "", self.body[:160])


class Traffic:
    """Client threads in a bounded loop. Stored-session workers (node1/node2): log in on
    one node, validate on the other, and every other round log the token out on either.
    Stateless workers (node3): log in, validate, and every fourth round logout-all. Each
    worker has its own user, so the order of its own requests decides what each token's
    fate must be."""

    def __init__(self, stored_nodes, stateless_node, stored_users, stateless_users):
        self.stored_nodes = stored_nodes
        self.stateless_node = stateless_node
        self.stored_users = stored_users
        self.stateless_users = stateless_users
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.records = []
        self.seq = 0
        self.threads = []
        self.last = {}  # (mode, worker index) -> its newest token

    def record(self, kind, mode, node, token, fn):
        started = time.monotonic()
        status, json_error, error, body = 0, False, "", b""
        try:
            r = fn()
            status, json_error, body = r.status, r.is_json_error(), r.body
        except Exception as e:  # noqa: BLE001 - a refused or reset connection, a timeout
            error = "%s: %s" % (type(e).__name__, e)
        ended = time.monotonic()
        with self.lock:
            self.seq += 1
            rec = Rec(kind, mode, node.name, token, started, ended, status, json_error, error,
                      body, self.seq)
            self.records.append(rec)
        return rec

    def _token(self, rec):
        if rec.status != 200:
            return None
        try:
            return json.loads(rec.body.decode())["token"]
        except (ValueError, KeyError):
            return None

    def stored_worker(self, index, user):
        rnd = random.Random(index)
        a, b = self.stored_nodes[index % 2], self.stored_nodes[(index + 1) % 2]
        for i in range(MAX_ITERATIONS):
            if self.stop_event.is_set():
                break
            login = self.record("login", "stored", a, None,
                                lambda: a.login(user["username"], user["password"]))
            token = self._token(login)
            if token:
                login.token = token
                self.last[("stored", index)] = token
                self.record("validate", "stored", b, token, lambda: b.me(token))
                if i % 2 == 1:
                    n = rnd.choice(self.stored_nodes)
                    self.record("logout", "stored", n, token,
                                lambda: n.send("POST", "/logout", token))
                    self.record("validate", "stored", b, token, lambda: b.me(token))
            else:
                # Validate an older token while logins fail: the outage's validations.
                old = self.last_token(index)
                if old:
                    self.record("validate", "stored", b, old, lambda: b.me(old))
                    if i % 2 == 1:
                        self.record("logout", "stored", a, old,
                                    lambda: a.send("POST", "/logout", old))
            time.sleep(0.01)

    def stateless_worker(self, index, user):
        n = self.stateless_node
        for i in range(MAX_ITERATIONS):
            if self.stop_event.is_set():
                break
            login = self.record("login", "stateless", n, None,
                                lambda: n.login(user["username"], user["password"]))
            token = self._token(login)
            if token:
                login.token = token
                self.last[("stateless", index)] = token
                self.record("validate", "stateless", n, token, lambda: n.me(token))
                if i % 4 == 3:
                    self.record("logout-all", "stateless", n, token,
                                lambda: n.send("POST", "/logout-all", token))
            else:
                old = self.last_token(index, "stateless")
                if old:
                    self.record("validate", "stateless", n, old, lambda: n.me(old))
                    self.record("logout-all", "stateless", n, old,
                                lambda: n.send("POST", "/logout-all", old))
            time.sleep(0.01)
        # The last word is a login: its token must outlive the run.
        login = self.record("login", "stateless", n, None,
                            lambda: n.login(user["username"], user["password"]))
        login.token = self._token(login)

    def last_token(self, index, mode="stored"):
        """The newest token this worker obtained (its own user's)."""
        return self.last.get((mode, index))

    def start(self):
        for i, u in enumerate(self.stored_users):
            self.threads.append(threading.Thread(target=self.stored_worker, args=(i, u),
                                                 name="stored%d" % i, daemon=True))
        for i, u in enumerate(self.stateless_users):
            self.threads.append(threading.Thread(target=self.stateless_worker, args=(i, u),
                                                 name="stateless%d" % i, daemon=True))
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(CLIENT_TIMEOUT_S + 10)
        return [t.name for t in self.threads if t.is_alive()]

    def snapshot(self):
        with self.lock:
            return list(self.records)


class OutageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.pg = mn.PgServer()
        if not cls.pg.host.startswith("/"):
            mn.fail_setup("AUTHKIT_TEST_PG_URL has no host=/socket/dir: this test stops and "
                          "starts the fixture's server and needs its directory")
        cls.ctl = PgControl(cls.pg.host)
        cls.ctl.ensure_running()
        cls.db = cls.pg.create_db("outage")
        # PostgreSQL's default, which the fixture turns off for speed: with it off, a crash
        # may lose commits that were already acknowledged (an acknowledged logout undone).
        cls.pg.sql("ALTER DATABASE %s SET synchronous_commit = on" % cls.db)
        cls.db_url = cls.pg.url(cls.db)
        cls.secret = mn.random_secret()
        cls.nodes = []
        try:
            cls.nodes = mn.start_nodes(2, cls.db_url, cls.secret, prefix="node")
            cls.nodes += mn.start_nodes(1, cls.db_url, cls.secret,
                                        {"AUTHKIT_ENABLE_SESSION_STORAGE": "false"},
                                        prefix="stateless")
        except BaseException:
            for n in cls.nodes:
                n.stop()
                n.cleanup()
            cls.pg.drop_db(cls.db)
            raise
        cls.nodes[2].name = "node3"

    @classmethod
    def tearDownClass(cls):
        problems = []
        try:
            cls.ctl.ensure_running()
        except Exception as e:  # noqa: BLE001
            problems.append("PostgreSQL could not be started again: %s" % e)
        for n in cls.nodes:
            rc, elapsed = n.stop()
            if rc != 0:
                problems.append("%s: exit status %r %.1f s after SIGTERM (want 0): %s" % (
                    n.name, rc, elapsed, n.stderr_tail()))
            n.cleanup()
        try:
            cls.pg.drop_db(cls.db)
        except Exception as e:  # noqa: BLE001
            problems.append("drop database: %s" % e)
        if problems:
            raise AssertionError("; ".join(problems))

    # -- helpers --

    def probe(self, node, token):
        """(healthz status, /me status) of a node; 0 for a connection failure."""
        out = []
        for fn in (lambda: node.request("GET", "/healthz", timeout=CLIENT_TIMEOUT_S),
                   lambda: node.me(token)):
            try:
                out.append(fn().status)
            except Exception:  # noqa: BLE001
                out.append(0)
        return tuple(out)

    def wait_recovered(self, probes, since, bound):
        """Polls every node until /healthz and /me of its probe token answer 200; returns
        the seconds from `since` (or None if that took longer than 3 x bound)."""
        pending = dict(probes)
        recovered = {}
        while pending and time.monotonic() - since < 3 * bound:
            for node, token in list(pending.items()):
                if self.probe(node, token) == (200, 200):
                    recovered[node.name] = time.monotonic() - since
                    del pending[node]
            time.sleep(0.05)
        if pending:
            return None, recovered
        return max(recovered.values()), recovered

    def token_of(self, node, user):
        r = node.login(user["username"], user["password"])
        self.assertEqual(r.status, 200, "login on %s: %r" % (node.name, r))
        return r.json()["token"]

    # -- the tests --

    def test_idle_restart(self):
        # The common case: the server restarts while the nodes are idle. Their pooled
        # connections are all dead; the very first request afterwards must still be
        # answered 200 (a dead idle connection is noticed and replaced, not used).
        u = mn.add_user(self.db_url, self.secret, "idle")
        tokens = {n: self.token_of(n, u) for n in self.nodes}
        warm = [threading.Thread(target=lambda n=n, t=t: [n.me(t) for _ in range(10)])
                for n, t in tokens.items() for _ in range(4)]
        for t in warm:
            t.start()
        for t in warm:
            t.join(60)
        for mode in ("fast", "immediate"):
            self.ctl.stop(mode)
            self.ctl.start()
            for n, t in tokens.items():
                r = n.me(t)
                self.assertEqual(r.status, 200, "%s: first /me after a restart (stop -m %s) "
                                 "with no request in between: %r" % (n.name, mode, r))
                r = n.request("GET", "/healthz")
                self.assertEqual(r.status, 200, "%s /healthz: %r" % (n.name, r))

    def test_outage(self):
        stored, stateless = self.nodes[:2], self.nodes[2]
        add = lambda p: mn.add_user(self.db_url, self.secret, p)  # noqa: E731
        stored_users = [add("st%d" % i) for i in range(STORED_WORKERS)]
        stateless_users = [add("sl%d" % i) for i in range(STATELESS_WORKERS)]
        probe_user = add("probe")
        probes = {stored[0]: self.token_of(stored[0], probe_user),
                  stored[1]: self.token_of(stored[0], probe_user),
                  stateless: self.token_of(stateless, probe_user)}
        for node, token in probes.items():
            self.assertEqual(self.probe(node, token), (200, 200), node.name)
        # Acknowledged before the first outage and left alone by the traffic: each keeps
        # its state through both outages. (nodes, token, the /me status it must get)
        self.anchors = []
        for i in range(6):
            t = self.token_of(stored[i % 2], probe_user)
            if i % 2:
                r = stored[(i + 1) % 2].send("POST", "/logout", t)
                self.assertEqual((r.status, r.json()), (200, {"logged_out": True}), r)
            self.anchors.append((stored, t, 401 if i % 2 else 200))
        for _ in range(3):
            self.anchors.append(([stateless], self.token_of(stateless, probe_user), 200))
        revoked_user = add("slrev")
        gone = [self.token_of(stateless, revoked_user) for _ in range(3)]
        r = stateless.send("POST", "/logout-all", gone[0])
        self.assertEqual(r.status, 200, r)
        self.anchors += [([stateless], t, 401) for t in gone]

        traffic = Traffic(stored, stateless, stored_users, stateless_users)
        cycles = []
        traffic.start()
        try:
            for mode in ("fast", "immediate"):
                cycles.append(self.outage_cycle(mode, traffic, probes))
        finally:
            stuck = traffic.stop()
            self.ctl.ensure_running()
        self.assertEqual(stuck, [], "client threads still waiting for an answer")
        self.check(traffic.snapshot(), cycles, probes)

    def outage_cycle(self, mode, traffic, probes):
        time.sleep(PRE_S)
        c = {"mode": mode}
        c["stop_called"] = time.monotonic()
        self.stop_times.append(c["stop_called"])
        self.ctl.stop(mode)
        c["down_from"] = time.monotonic()
        figure("pg_ctl stop -m %s took %.2f s" % (mode, c["down_from"] - c["stop_called"]))
        # While it is down: every node answers 503 JSON to /healthz and to a validation.
        time.sleep(0.5)
        for node, token in probes.items():
            for what, fn in (("/healthz", lambda: node.request("GET", "/healthz")),
                             ("/me", lambda: node.me(token))):
                r = fn()
                self.assertEqual(r.status, 503, "%s %s while PostgreSQL is down: %r" % (
                    node.name, what, r))
                self.assertTrue(r.is_json_error(), r)
                self.assertLess(r.elapsed, MAX_LATENCY_S, r)
        time.sleep(max(0.0, DOWN_S - (time.monotonic() - c["down_from"])))
        for n in self.nodes:
            self.assertTrue(n.alive(), "%s died during the outage: %s" % (n.name,
                                                                          n.stderr_tail()))
        c["start_called"] = time.monotonic()
        self.ctl.start()
        c["up_at"] = time.monotonic()
        figure("pg_ctl start (-w) took %.2f s" % (c["up_at"] - c["start_called"]))
        worst, each = self.wait_recovered(probes, c["up_at"], RECOVERY_BOUND_S)
        c["recovery"] = worst
        c["recovered_at"] = c["up_at"] + (worst if worst is not None else 3 * RECOVERY_BOUND_S)
        figure("after stop -m %s: every node answered 200 (/healthz and /me) %s after "
               "PostgreSQL accepted connections again (per node: %s)" % (
                   mode, "%.3f s" % worst if worst is not None else "NOT within %.0f s" % (
                       3 * RECOVERY_BOUND_S),
                   ", ".join("%s %.3f s" % kv for kv in sorted(each.items()))))
        self.assertIsNotNone(worst, "the nodes did not recover by themselves")
        self.assertLessEqual(worst, RECOVERY_BOUND_S,
                             "recovery after stop -m %s took %.3f s (bound %.1f s)" % (
                                 mode, worst, RECOVERY_BOUND_S))
        time.sleep(POST_S)
        return c

    def check(self, records, cycles, probes):
        self.assertGreater(len(records), 0)
        # 1. Every request answered (no crash, no reset), in bounded time.
        broken = [r for r in records if r.error]
        self.assertEqual(broken[:5], [], "%d requests got no HTTP answer" % len(broken))
        slowest = max(records, key=lambda r: r.elapsed)
        figure("%d requests by the client threads; the slowest took %.3f s (%s)" % (
            len(records), slowest.elapsed, slowest.kind))
        for c in cycles:
            inside = [r for r in records if r.started < c["up_at"] and
                      r.ended > c["stop_called"]]
            if inside:
                figure("outage with stop -m %s: %d requests overlapped it, the slowest took "
                       "%.3f s; the server was down %.2f s" % (
                           c["mode"], len(inside), max(r.elapsed for r in inside),
                           c["up_at"] - c["down_from"]))
        self.assertLessEqual(slowest.elapsed, MAX_LATENCY_S, slowest)
        # 2. Only 200, 401 and 503; every 401 and 503 with a JSON error body.
        odd = [r for r in records if r.status not in (200, 401, 503) or
               (r.status != 200 and not r.json_error)]
        self.assertEqual(odd[:5], [], "%d unexpected answers" % len(odd))
        # 3. While the server was down: 503 for every validation, login and logout.
        for i, c in enumerate(cycles):
            next_stop = cycles[i + 1]["stop_called"] if i + 1 < len(cycles) else float("inf")
            down = [r for r in records
                    if r.started >= c["down_from"] and r.ended <= c["start_called"]]
            kinds = {}
            for r in down:
                kinds.setdefault((r.mode, r.kind), []).append(r)
            not503 = [r for r in down if r.status != 503]
            self.assertEqual(not503[:5], [], "stop -m %s: %d requests answered other than 503 "
                             "while PostgreSQL was down" % (c["mode"], len(not503)))
            figure("while down (stop -m %s): %s, all 503 with a JSON body" % (
                c["mode"], ", ".join("%d %s %s" % (len(v), k[0], k[1])
                                     for k, v in sorted(kinds.items()))))
            for need in (("stored", "login"), ("stored", "validate"), ("stored", "logout"),
                         ("stateless", "login"), ("stateless", "validate"),
                         ("stateless", "logout-all")):
                self.assertIn(need, kinds, "no %s %s request fell inside the outage" % need)
            # After the recovery: no 503 from requests that started once every node had
            # answered 200.
            after = [r for r in records if r.started >= c["recovered_at"] and
                     r.ended <= next_stop and r.status == 503]
            self.assertEqual(after[:5], [], "stop -m %s: %d requests answered 503 after the "
                             "recovery" % (c["mode"], len(after)))
        self.check_fates(records, probes)

    def check_fates(self, records, probes):
        """Every acknowledged login and logout holds: during the run (no validation after
        an acknowledged logout says 200) and afterwards (asked again on every node)."""
        stored, stateless = self.nodes[:2], self.nodes[2]
        by_token = {}
        for r in sorted(records, key=lambda r: r.seq):
            if r.token:
                by_token.setdefault(r.token, []).append(r)

        t0 = records[0].started

        def story(token):
            """The token's requests, times in seconds from the start of the traffic."""
            return "; ".join("%s %s %d at %.3f-%.3f" % (r.kind, r.node, r.status,
                                                        r.started - t0, r.ended - t0)
                             for r in by_token.get(token, [])) + (
                "; the stops were called at %s s" % ", ".join(
                    "%.3f" % (c - t0) for c in self.stop_times))
        self.story = story

        # Stored sessions: each token's own history.
        expect = {}  # token -> 200 or 401
        ambiguous = 0
        for token, hist in by_token.items():
            login = hist[0]
            if login.mode != "stored" or login.kind != "login":
                continue
            outs = [r for r in hist if r.kind == "logout"]
            acked = [r for r in outs if r.status == 200]
            for a in acked:
                late = [r for r in hist if r.kind == "validate" and r.status == 200 and
                        r.started > a.ended]
                self.assertEqual(late, [], "a token validated after its logout was "
                                           "acknowledged: %s" % story(token))
            if acked:
                expect[token] = 401
            elif not outs:
                expect[token] = 200
            else:
                ambiguous += 1
        # Stateless: the order of one worker's requests decides (one user per worker).
        stateless_expect, s_ambiguous = self.stateless_fates(records)
        total_200 = sum(1 for v in expect.values() if v == 200)
        total_401 = len(expect) - total_200
        s_200 = sum(1 for v in stateless_expect.values() if v == 200)
        figure("afterwards: %d stored-session tokens must still validate, %d must stay logged "
               "out (%d undecidable: every logout of it answered 503); stateless: %d must "
               "validate, %d must stay revoked (%d undecidable)" % (
                   total_200, total_401, ambiguous, s_200, len(stateless_expect) - s_200,
                   s_ambiguous))
        self.assertGreater(total_200, 0)
        self.assertGreater(total_401, 0)
        self.assertGreater(s_200, 0)
        self.assertGreater(len(stateless_expect) - s_200, 0)
        wrong = []
        for token, want in expect.items():
            for n in stored:
                got = n.me(token).status
                if got != want:
                    wrong.append("stored token on %s: %d, want %d (%s)" % (
                        n.name, got, want, story(token)))
        for token, want in stateless_expect.items():
            got = stateless.me(token).status
            if got != want:
                wrong.append("stateless token: %d, want %d (%s)" % (got, want, story(token)))
        self.assertEqual(wrong[:10], [], "%d tokens lost their acknowledged state" % len(wrong))
        for node, token in probes.items():
            self.assertEqual(node.me(token).status, 200, "probe token on %s" % node.name)
        for nodes, token, want in self.anchors:
            for n in nodes:
                got = n.me(token).status
                self.assertEqual(got, want, "a token %s before the outages, on %s" % (
                    "logged in" if want == 200 else "logged out", n.name))

    def stateless_fates(self, records):
        """Per stateless worker (its own user, sequential requests): a token dies with the
        first acknowledged logout-all sent after its login; one answered 503 leaves it
        undecided; none at all: it must live."""
        expect, ambiguous = {}, 0
        users = {}
        ok_validations = {}  # token -> its validations answered 200
        for r in records:
            if r.kind == "validate" and r.status == 200:
                ok_validations.setdefault(r.token, []).append(r)
        for r in sorted(records, key=lambda r: r.seq):
            if r.mode != "stateless":
                continue
            if r.kind == "login" and r.token:
                users.setdefault(self.user_of(r), []).append(r)
            elif r.kind == "logout-all":
                users.setdefault(self.owner.get(r.token), []).append(r)
        for seq in users.values():
            for i, r in enumerate(seq):
                if r.kind != "login":
                    continue
                later = [x for x in seq[i + 1:] if x.kind == "logout-all"]
                acked = [x for x in later if x.status == 200]
                # No validation of it said 200 after an acknowledged logout-all.
                for a in acked:
                    bad = [x for x in ok_validations.get(r.token, []) if x.started > a.ended]
                    self.assertEqual(bad, [], "a signed token validated after logout-all "
                                              "was acknowledged: %s" % self.story(r.token))
                if acked:
                    expect[r.token] = 401
                elif not later:
                    expect[r.token] = 200
                else:
                    ambiguous += 1
        return expect, ambiguous

    owner = {}
    stop_times = []
    anchors = []

    def user_of(self, login_rec):
        """The user id (sub) inside a signed token; remembered for its logout-alls."""
        payload = login_rec.token.split(".")[1]
        sub = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]
        self.owner[login_rec.token] = sub
        return sub


def on_signal(signum, frame):
    del frame
    raise KeyboardInterrupt("signal %d" % signum)


def main():
    # A SIGTERM (or ^C) unwinds through the finally blocks: PostgreSQL is started again
    # and the nodes are stopped even then.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        return mn.run([OutageTest], "outage")
    finally:
        ctl = getattr(OutageTest, "ctl", None)
        if ctl is not None:
            try:
                ctl.ensure_running()
            except Exception as e:  # noqa: BLE001
                sys.stderr.write("outage: PostgreSQL could not be started again: %s\n" % e)
        for n in getattr(OutageTest, "nodes", []):
            if n.alive():
                n.stop()
                n.cleanup()


if __name__ == "__main__":
    status = main()
    for line in FIGURES:
        print("outage figure: " + line)
    sys.exit(status)
