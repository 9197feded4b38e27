#!/usr/bin/python3
"""Issue 5 over real HTTP: login throttling (checklist items 23-29: 429 with Retry-After,
the same status sequence for known and unknown logins), the client address
(X-Forwarded-For only from configured trusted proxies) and session control (logout of
every other session, the per-user cap).

Usage: /usr/bin/python3 tests/http/test_security_http.py path/to/authkit

Reuses the server harness of tests/http/test_http.py. Prints
`http security: N passed, M failed` at the end.
"""
import os
import secrets
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_http as h  # noqa: E402


def statuses(responses):
    return "".join({401: "F", 429: "T"}.get(r.status, "?%d" % r.status) for r in responses)


class ThrottleTests(h.ServerTestCase):
    """Default counters: pair 5, account 10, address 100; every request comes from
    127.0.0.1, so each test uses its own users."""

    def wrong(self, login, n, headers=None):
        return [self.srv.login(login, h.new_password(), headers) for _ in range(n)]

    def test_pair_throttled_with_retry_after(self):
        user = self.srv.add_user("pair")
        before = self.srv.metrics()
        rs = self.wrong(user["username"], 8)
        # Five free attempts, the sixth evaluated (and starting a 1 s wait), then 429.
        self.assertEqual(statuses(rs), "FFFFFFTT")
        for r in rs[:6]:
            self.assertEqual(r.body, h.AUTH_FAIL_BODY, r)
        r = rs[6]
        self.assertJsonError(r, 429, "RATE_LIMITED")
        self.assertEqual(r.header("Retry-After"), "1", r)
        self.assertIn("try again in 1 seconds", r.json()["message"])
        self.assertNoCookie(r)
        self.assertNoStore(r)
        # The right password does not get through a block either.
        r = self.srv.login(user["username"], user["password"])
        self.assertEqual(r.status, 429, r)
        self.assertNoCookie(r)
        # What an operator alerts on (docs/deploying.md, "Watching for credential
        # stuffing"): failures and throttled attempts, counted apart.
        after = self.srv.metrics()
        for result, n in (("failure", 6), ("throttled", 3)):
            key = 'authkit_logins_total{result="%s"}' % result
            self.assertEqual(after[key] - before.get(key, 0), n, key)

    def test_unknown_login_has_the_same_sequence(self):
        known = self.srv.add_user("known")
        seq_known = statuses(self.wrong(known["email"], 9))
        seq_unknown = statuses(self.wrong("nobody_" + secrets.token_hex(4), 9))
        seq_unknown_email = statuses(self.wrong("nobody.%s@example.test" % secrets.token_hex(4), 9))
        self.assertEqual(seq_known, "FFFFFFTTT")
        self.assertEqual(seq_unknown, seq_known)
        self.assertEqual(seq_unknown_email, seq_known)

    def test_forwarded_for_ignored_from_untrusted_peer(self):
        user = self.srv.add_user("xff")
        rs = [self.srv.login(user["username"], h.new_password(),
                             {"X-Forwarded-For": "203.0.113.%d" % i}) for i in range(8)]
        self.assertEqual(statuses(rs), "FFFFFFTT")
        events = [e for e in self.srv.log_events()
                  if e.get("event") == "login_failed" and e.get("login") == user["username"]]
        self.assertTrue(events)
        for e in events:
            self.assertEqual(e.get("ip"), "127.0.0.1", e)

    def test_form_login_throttled_page(self):
        user = self.srv.add_user("form")
        for _ in range(6):
            self.srv.post_form("/login", {"username": user["username"],
                                          "password": h.new_password()})
        r = self.srv.post_form("/login", {"username": user["username"],
                                          "password": user["password"], "next": "/app"})
        self.assertEqual(r.status, 429, r)
        self.assertTrue(r.header("Content-Type").startswith("text/html"), r)
        self.assertIn(b"Too many attempts", r.body)
        self.assertIn(b'value="/app"', r.body)
        self.assertTrue(r.header("Retry-After"), r)
        self.assertIn("frame-ancestors 'none'", r.header("Content-Security-Policy"))
        self.assertNoCookie(r)

    def test_password_change_guesses_throttled(self):
        user = self.srv.add_user("reauth")
        token = self.srv.token(user)
        seen = []
        for _ in range(12):
            r = self.srv.send("POST", "/password", token=token,
                              headers={"Content-Type": "application/json"},
                              body=h.json.dumps({"current_password": h.new_password(),
                                                 "new_password": h.new_password()}))
            seen.append(r.status)
        # The account counter (10 free, the 11th evaluated) is shared with logins.
        self.assertEqual(seen, [403] * 11 + [429])
        self.assertEqual(r.header("Retry-After"), "1", r)
        # The password did not change: the old one still logs in once the wait is over.
        self.assertEqual(self.srv.get("/me", token=token).status, 200)

    def test_throttled_attempts_are_measured_and_logged(self):
        user = self.srv.add_user("audit")
        self.wrong(user["username"], 7)
        m = self.srv.metrics()
        self.assertGreaterEqual(m.get('authkit_logins_total{result="throttled"}', 0), 1)
        events = [e for e in self.srv.log_events()
                  if e.get("event") == "login_throttled" and e.get("login") == user["username"]]
        self.assertEqual(len(events), 1, events)
        self.assertEqual(events[0].get("ip"), "127.0.0.1")


class TrustedProxyTests(h.ServerTestCase):
    extra_env = {"AUTHKIT_TRUSTED_PROXIES": "10.9.0.0/16, 127.0.0.1"}

    def session_ip(self, headers):
        user = self.srv.add_user("ip")
        token = self.srv.token(user, headers)
        r = self.srv.get("/sessions", token=token)
        self.assertEqual(r.status, 200, r)
        return r.json()["sessions"][0]["ip"]

    def test_forwarded_for_names_the_client(self):
        self.assertEqual(self.session_ip({"X-Forwarded-For": "198.51.100.23"}), "198.51.100.23")

    def test_rightmost_untrusted_hop_wins(self):
        # A client-supplied first entry cannot choose the address; trusted hops are skipped.
        xff = "6.6.6.6, 198.51.100.24, 10.9.1.2"
        self.assertEqual(self.session_ip({"X-Forwarded-For": xff}), "198.51.100.24")

    def test_every_forwarded_header_counts(self):
        # Two headers: the proxy's own (last) one is read first.
        head = ("POST /login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 198.51.100.25\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n" % (self.srv.port, len(self.body)))
        r = self.srv.raw((head + self.body).encode())
        self.assertEqual(r.status, 200, r)
        token = r.json()["token"]
        h.remember_secret(token)
        r = self.srv.get("/sessions", token=token)
        self.assertEqual(r.json()["sessions"][0]["ip"], "198.51.100.25")

    def test_garbled_forwarded_for_is_not_the_client(self):
        self.assertEqual(self.session_ip({"X-Forwarded-For": "not-an-address"}), "127.0.0.1")
        self.assertEqual(self.session_ip({"X-Forwarded-For": "198.51.100.26:443"}), "127.0.0.1")

    def test_each_client_has_its_own_pair_counter(self):
        user = self.srv.add_user("multi")
        rs = [self.srv.login(user["username"], h.new_password(),
                             {"X-Forwarded-For": "198.51.100.%d" % (100 + i)}) for i in range(8)]
        # Eight clients, eight pair counters; the account allows ten.
        self.assertEqual(statuses(rs), "FFFFFFFF")

    @classmethod
    def prepare(cls):
        user = cls.srv.add_user("raw")
        cls.body = h.json.dumps({"username": user["username"], "password": user["password"]})
        h.remember_secret(user["password"])


class SessionControlTests(h.ServerTestCase):
    extra_env = {"AUTHKIT_MAX_SESSIONS_PER_USER": "3"}

    def test_logout_others(self):
        user = self.srv.add_user("others")
        a, b, c = (self.srv.token(user) for _ in range(3))
        r = self.srv.send("POST", "/logout-others", token=b)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"revoked": 2})
        self.assertNoStore(r)
        self.assertNoCookie(r)
        self.assertEqual(self.srv.get("/me", token=a).status, 401)
        self.assertEqual(self.srv.get("/me", token=c).status, 401)
        self.assertEqual(self.srv.get("/me", token=b).status, 200)
        r = self.srv.get("/sessions", token=b)
        self.assertEqual([s["current"] for s in r.json()["sessions"]], [True])

    def test_logout_others_needs_a_session_and_post(self):
        self.assertJsonError(self.srv.send("POST", "/logout-others"), 401)
        user = self.srv.add_user("others")
        token = self.srv.token(user)
        r = self.srv.send("GET", "/logout-others", token=token)
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.header("Allow"), "POST")

    def test_logout_others_by_cookie_from_another_origin(self):
        user = self.srv.add_user("others")
        keep, other = self.srv.token(user), self.srv.token(user)
        r = self.srv.send("POST", "/logout-others", cookie=keep,
                          headers={"Origin": "https://evil.example"})
        self.assertJsonError(r, 403)
        self.assertEqual(self.srv.get("/me", token=other).status, 200)

    def test_cap_ends_the_oldest_session(self):
        user = self.srv.add_user("cap")
        tokens = [self.srv.token(user) for _ in range(5)]
        alive = [self.srv.get("/me", token=t).status for t in tokens]
        self.assertEqual(alive, [401, 401, 200, 200, 200])
        r = self.srv.get("/sessions", token=tokens[-1])
        sessions = r.json()["sessions"]
        self.assertEqual(len(sessions), 3)
        for s in sessions:
            self.assertEqual(s["ip"], "127.0.0.1")
            self.assertTrue(h.ISO_Z_RE.match(s["last_seen_at"]), s)


class InputTests(h.ServerTestCase):
    """Checklist section I, one item at a time (the framing and size probes of items 74
    and 77 live in tests/http/test_http.py ProtocolTests)."""

    INJECTIONS = ["' OR '1'='1' --", "admin'--", '"; DROP TABLE users;--',
                  "x' UNION SELECT password_hash FROM users --", "%' OR 1=1 --"]

    def user_count(self):
        r = self.srv.cli(["user", "list"])
        self.assertEqual(r.returncode, 0, r)
        return len([l for l in r.stdout.decode().splitlines()[1:] if l.strip()])

    def test_73_sql_metacharacters_in_every_field(self):
        user = self.srv.add_user("sql")
        before = self.user_count()
        for i, text in enumerate(self.INJECTIONS):
            ip = {"X-Forwarded-For": "198.51.100.%d" % i}  # not trusted: ignored
            for body in ({"username": text, "password": text},
                         {"email": text + "@example.test", "password": user["password"]},
                         {"username": user["username"], "password": text}):
                with self.subTest(text=text, body=sorted(body)):
                    r = self.srv.post_json("/login", body, ip)
                    self.assertIn(r.status, (401, 429), r)
        token = self.srv.token(self.srv.add_user("sql2"))
        for text in self.INJECTIONS:
            r = self.srv.send("POST", "/password", token=token,
                              headers={"Content-Type": "application/json"},
                              body=h.json.dumps({"current_password": text, "new_password": text}))
            self.assertIn(r.status, (400, 403, 429), r)
            r = self.srv.send("DELETE", "/sessions/" + h.urllib.parse.quote(text, safe=""),
                              token=token)
            self.assertJsonError(r, 404)
        # Nothing was dropped or added; the user table still answers.
        self.assertEqual(self.user_count(), before + 1)

    def test_75_bad_identifiers(self):
        for raw in (b"\xc0\xaf", b"\xed\xa0\x80", b"a\x00b"):
            body = b'{"username":"' + raw + b'","password":"x-long-enough-1"}'
            with self.subTest(raw=raw):
                r = self.srv.raw_post("/login", body)
                self.assertJsonError(r, 400)
        r = self.srv.post_json("/login", {"username": "a\r\nb", "password": "x-long-enough-1"})
        self.assertEqual(r.status, 401, r)  # a name that cannot exist: an ordinary failure
        for bad in ("a\r\nb", "a\tb", "caf\u00e9", "a@b"):
            with self.subTest(username=bad):
                r = self.srv.cli(["user", "add", "--email", "x%d@example.test" % len(bad),
                                  "--username", bad], stdin=b"x-long-enough-1\n")
                self.assertEqual(r.returncode, 1, r)
                self.assertIn(b"Username", r.stderr)
        # Email case: one account, found in any case, and not registrable twice.
        user = self.srv.add_user("case", email="Case.Person@Example.TEST")
        self.assertEqual(self.srv.login("CASE.person@example.test", user["password"]).status, 200)
        r = self.srv.cli(["user", "add", "--email", "case.person@EXAMPLE.test", "--username",
                          "case_other"], stdin=b"x-long-enough-1\n")
        self.assertNotEqual(r.returncode, 0, r)

    def test_77_folded_header_cannot_smuggle(self):
        # libmicrohttpd reads an obs-fold line as part of the header above it (RFC 9112
        # §5.2 allows that or a 400); a folded Transfer-Encoding must neither switch the
        # framing nor let a second request through.
        smuggled = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        body = "0\r\n\r\n" + smuggled
        req = ("POST /login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\nTransfer-Encoding:\r\n chunked\r\nConnection: close\r\n"
               "\r\n%s" % (self.srv.port, len(body), body))
        s = h.socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        data = b""
        try:
            s.sendall(req.encode())
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        self.assertEqual(data.count(b"HTTP/1.1 "), 1, data)
        self.assertTrue(data.startswith(b"HTTP/1.1 400 "), data)
        self.assertNotIn(b'"status":"ok"', data)

    def test_76_methods(self):
        for method, path in (("TRACE", "/"), ("PUT", "/login"), ("TRACE", "/login"),
                             ("DELETE", "/me"), ("PATCH", "/password")):
            with self.subTest(method=method, path=path):
                r = self.srv.request(method, path)
                self.assertJsonError(r, 405)
                self.assertTrue(r.header("Allow"), r)
        r = self.srv.request("OPTIONS", "/login", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        self.assertEqual(r.status, 405, r)
        self.assertFalse([k for k, _ in r.headers if k.lower().startswith("access-control")], r)


class HeaderTests(h.ServerTestCase):
    """Checklist items 85-88 on every kind of answer: success, redirect, client errors,
    throttling, JSON and HTML."""

    JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

    def answers(self):
        user = self.srv.add_user("hdr")
        token = self.srv.token(user)
        throttled = self.srv.add_user("hdr429")
        for _ in range(7):
            r429 = self.srv.login(throttled["username"], h.new_password())
        self.assertEqual(r429.status, 429)
        return {
            "login 200": self.srv.login(user["username"], user["password"]),
            "login 401": self.srv.login(user["username"], h.new_password()),
            "login 429": r429,
            "me 200": self.srv.get("/me", token=token),
            "me 401": self.srv.get("/me"),
            "login page": self.srv.get("/login"),
            "home redirect": self.srv.get("/"),
            "404": self.srv.get("/nope"),
            "405": self.srv.request("PUT", "/me"),
            "415": self.srv.request("POST", "/login", "x", {"Content-Type": "text/plain"}),
            "healthz": self.srv.get("/healthz"),
        }

    def test_security_headers_on_every_answer(self):
        for what, r in self.answers().items():
            with self.subTest(what):
                hsts = r.header("Strict-Transport-Security") or ""
                age = int(hsts.split("max-age=")[1].split(";")[0]) if "max-age=" in hsts else 0
                self.assertGreaterEqual(age, 31536000, r)
                self.assertIn("includeSubDomains", hsts)
                self.assertEqual(r.header("Cache-Control"), "no-store", r)
                self.assertEqual(r.header("X-Content-Type-Options"), "nosniff", r)
                self.assertEqual(r.header("Referrer-Policy"), "no-referrer", r)
                self.assertIn("frame-ancestors 'none'", r.header("Content-Security-Policy") or "")
                server = r.header("Server")
                self.assertFalse(server and any(c.isdigit() for c in server), r)
                if r.body:
                    self.assertIn("charset=utf-8", r.header("Content-Type") or "", r)
                    if r.header("Content-Type").startswith("application/json"):
                        self.assertEqual(r.header("Content-Security-Policy"), self.JSON_CSP, r)

    def test_plain_http_mode_sends_no_hsts(self):
        srv = h.Server({"AUTHKIT_INSECURE_COOKIES": "true"})
        srv.start()
        try:
            r = srv.get("/healthz")
            self.assertIsNone(r.header("Strict-Transport-Security"), r)
        finally:
            srv.stop()
            srv.cleanup()


class UnlockTests(h.ServerTestCase):
    extra_env = {"AUTHKIT_THROTTLE_PAIR_FAILURES": "0", "AUTHKIT_THROTTLE_ADDRESS_FAILURES": "0",
                 "AUTHKIT_THROTTLE_ACCOUNT_FAILURES": "3"}

    def test_operator_unlocks_an_account(self):
        user = self.srv.add_user("unlock")
        seq = [self.srv.login(user["email"], h.new_password()) for _ in range(5)]
        self.assertEqual(statuses(seq), "FFFFT")
        self.assertEqual(self.srv.login(user["username"], user["password"]).status, 429)
        r = self.srv.cli(["user", "unlock", user["username"]])
        self.assertEqual(r.returncode, 0, r)
        self.assertIn(b"unlocked user", r.stdout)
        self.assertEqual(self.srv.login(user["username"], user["password"]).status, 200)


class PasswordChangeRequiredTests(h.ServerTestCase):
    """Checklist 17: an operator flags an account (`authkit user require-password-change`);
    its sessions end, the right password gets 403 PASSWORD_CHANGE_REQUIRED without a
    cookie, and the owner logs in by giving a new password with it."""

    def flagged_user(self, prefix="chg"):
        user = self.srv.add_user(prefix)
        token = self.srv.token(user)
        r = self.srv.cli(["user", "require-password-change", user["username"]])
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.srv.get("/me", token=token).status, 401)
        return user

    def test_json_403_without_a_cookie(self):
        user = self.flagged_user()
        for login in (user["username"], user["email"]):
            r = self.srv.login(login, user["password"])
            body = self.assertJsonError(r, 403, "PASSWORD_CHANGE_REQUIRED")
            self.assertEqual(set(body), {"error", "message"}, r)
            self.assertIn("new password", body["message"])
            self.assertNoCookie(r)
            self.assertNoStore(r)
        # A wrong password is the ordinary answer, byte for byte.
        r = self.srv.login(user["username"], h.new_password())
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.body, h.AUTH_FAIL_BODY, r)
        reasons = [e.get("reason") for e in self.srv.log_events()
                   if e.get("event") == "login_failed" and e.get("login") == user["username"]]
        self.assertEqual(reasons, ["password_change_required", "wrong_password"])

    def test_json_login_with_new_password(self):
        user = self.flagged_user()
        for new, reason in (("short", "too short"),
                            (user["password"], "must differ from the current one"),
                            (user["username"] + "-2024", "must not contain your username")):
            r = self.srv.login(user["username"], user["password"], new_password=new)
            body = self.assertJsonError(r, 400, "VALIDATION_ERROR")
            self.assertEqual(body.get("field"), "new_password", r)
            self.assertIn(reason, body["message"])
            self.assertNoCookie(r)
        # Nothing changed: the old password is still the right (and flagged) one.
        self.assertEqual(self.srv.login(user["username"], user["password"]).status, 403)
        fresh = h.new_password()
        r = self.srv.login(user["username"], user["password"], new_password=fresh)
        self.assertEqual(r.status, 200, r)
        token = r.json()["token"]
        self.assertSessionCookie(r, token, (1740, 1800))
        self.assertEqual(self.srv.get("/me", token=token).status, 200)
        self.assertEqual(self.srv.login(user["username"], user["password"]).status, 401)
        self.assertEqual(self.srv.login(user["username"], fresh).status, 200)
        shown = self.srv.cli(["user", "show", user["username"], "--json"])
        self.assertIs(h.json.loads(shown.stdout)["password_change_required"], False, shown)

    def test_form_asks_for_a_new_password(self):
        user = self.flagged_user("form")
        r = self.srv.post_form("/login", {"username": user["username"],
                                          "password": user["password"], "next": "/app"})
        self.assertEqual(r.status, 403, r)
        self.assertTrue(r.header("Content-Type").startswith("text/html"), r)
        self.assertNoCookie(r)
        csp = r.header("Content-Security-Policy") or ""
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertNotIn("unsafe-inline", csp)
        page = r.body.decode()
        self.assertIn("Your password must be changed before you can sign in", page)
        self.assertIn('name="new_password"', page)
        self.assertIn('autocomplete="new-password"', page)
        self.assertIn('name="password"', page)
        self.assertIn('name="username" autocomplete="username" autocapitalize="none" '
                      'required value="%s"' % user["username"], page)
        self.assertIn('name="next" value="/app"', page)
        self.assertNotIn(user["password"], page)
        self.assertNotIn("<script", page.lower())
        # A refused new password: the same form again, with the reason.
        r = self.srv.post_form("/login", {"username": user["username"],
                                          "password": user["password"],
                                          "new_password": "short", "next": "/app"})
        self.assertEqual(r.status, 400, r)
        self.assertIn(b'name="new_password"', r.body)
        self.assertIn(b"too short", r.body)
        self.assertNoCookie(r)
        # A cross-site form cannot change it (login CSRF).
        fresh = h.new_password()
        fields = {"username": user["username"], "password": user["password"],
                  "new_password": fresh, "next": "/app"}
        r = self.srv.post_form("/login", fields, {"Origin": "https://evil.example"})
        self.assertEqual(r.status, 403, r)
        self.assertNoCookie(r)
        self.assertEqual(self.srv.login(user["username"], fresh).status, 401)
        # The new password: signed in, sent on to `next`.
        r = self.srv.post_form("/login", fields)
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.header("Location"), "/app")
        _, cookie, _ = self.session_cookie(r)
        h.remember_secret(cookie)
        self.assertEqual(self.srv.get("/me", cookie=cookie).status, 200)

    def test_new_password_ignored_when_not_flagged(self):
        user = self.srv.add_user("calm")
        fresh = h.new_password()
        r = self.srv.login(user["username"], user["password"], new_password=fresh)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.srv.login(user["username"], user["password"]).status, 200)
        self.assertEqual(self.srv.login(user["username"], fresh).status, 401)


class ConfigTests(unittest.TestCase):
    def test_bad_trusted_proxies_refused(self):
        for bad in ["10.0.0.1/33", "not-an-ip", "10.0.0.1/8", "::1/129"]:
            with self.subTest(bad=bad):
                r = subprocess.run([h.AUTHKIT, "serve", "--trusted-proxies", bad,
                                    "--database", "sqlite::memory:"],
                                   env={"AUTHKIT_SESSION_SECRET": "x" * 40, "PATH": "/usr/bin"},
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
                self.assertEqual(r.returncode, 2, r)
                self.assertIn(b"--trusted-proxies", r.stderr)


if __name__ == "__main__":
    sys.exit(h.main([ThrottleTests, TrustedProxyTests, SessionControlTests, InputTests,
                     HeaderTests, UnlockTests, PasswordChangeRequiredTests, ConfigTests],
                    "http security"))
