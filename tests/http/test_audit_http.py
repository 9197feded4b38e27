#!/usr/bin/python3
"""The audit trail in the store, over real HTTP (issue 5 item 6; checklist items 80-82):
logins, failures with their reason, logouts, revocations and password changes made over
HTTP show up in `authkit audit --json` with the client's address 127.0.0.1, while every
bad credential still gets the same 401 body; no password or token reaches the trail.

Usage: /usr/bin/python3 tests/http/test_audit_http.py path/to/authkit

Reuses the server harness of tests/http/test_http.py. Prints
`http audit: N passed, M failed` at the end.
"""
import json
import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_http as h  # noqa: E402

JSON = {"Content-Type": "application/json"}


class AuditTrailTests(h.ServerTestCase):

    def audit(self, *args):
        """`authkit audit --json ARGS` against the server's database: the rows, newest first."""
        r = self.srv.cli(["audit", "--json", "--limit", "10000"] + list(args))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.cli_output = r.stdout.decode("ascii")  # --json writes ASCII only
        return [json.loads(line) for line in self.cli_output.splitlines()]

    def assertRow(self, row, event, outcome, user_id):
        self.assertEqual(row["event"], event, row)
        self.assertEqual(row["outcome"], outcome, row)
        self.assertEqual(row["user_id"], user_id, row)
        self.assertEqual(row["ip"], "127.0.0.1", row)
        self.assertRegex(row["time"], h.ISO_Z_RE, row)

    def test_login_failures_logout(self):
        u = self.srv.add_user("aud")
        r = self.srv.login(u["username"], u["password"])
        self.assertEqual(r.status, 200, r)
        token, uid = r.json()["token"], r.json()["user"]["id"]
        wrong = self.srv.login(u["email"], h.new_password())
        unknown_name = "nobody_" + secrets.token_hex(4)
        unknown = self.srv.login(unknown_name, h.new_password())
        # Every bad credential gets the same answer; only the trail knows why.
        for resp in (wrong, unknown):
            self.assertEqual(resp.status, 401, resp)
            self.assertEqual(resp.body, h.AUTH_FAIL_BODY, resp)
        self.assertEqual(self.srv.send("POST", "/logout", token=token).status, 200)

        mine = self.audit("--user", u["username"])
        self.assertEqual([e["event"] for e in mine],
                         ["user_logged_out", "login_failed", "user_logged_in", "user_created"])
        out, failed, logged_in, created = mine
        self.assertRow(logged_in, "user_logged_in", "ok", uid)
        self.assertRow(failed, "login_failed", "wrong_password", uid)
        self.assertEqual(failed["login"], u["email"])
        self.assertRow(out, "user_logged_out", "ok", uid)
        self.assertEqual(out["session_id"], logged_in["session_id"])
        self.assertTrue(logged_in["session_id"])
        # Made by the CLI: no client address.
        self.assertEqual(created["ip"], None)

        # The unknown name: "unknown" user, no name, only its hash; --user finds it by name.
        theirs = self.audit("--user", unknown_name)
        self.assertEqual(len(theirs), 1, theirs)
        self.assertRow(theirs[0], "login_failed", "unknown_login", None)
        self.assertIsNone(theirs[0]["login"])
        self.assertRegex(theirs[0]["login_hash"], r"^[0-9a-f]{32}$")
        self.assertNotIn(unknown_name, self.cli_output)

        # The stderr log says why too (never the client).
        reasons = {e.get("reason") for e in self.srv.log_events()
                   if e.get("event") == "login_failed"}
        self.assertTrue({"wrong_password", "unknown_login"} <= reasons, reasons)
        # Every event was stored.
        self.assertEqual(self.srv.metrics().get("authkit_audit_write_failures_total"), 0)

    def test_revocations_and_password_change(self):
        u = self.srv.add_user("rev")
        keep = self.srv.token(u)
        drop = self.srv.token(u)
        uid = self.srv.get("/me", token=keep).json()["id"]
        sessions = self.srv.get("/sessions", token=keep).json()["sessions"]
        drop_id = [s["id"] for s in sessions if not s["current"]][0]
        r = self.srv.send("DELETE", "/sessions/" + drop_id, token=keep)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.srv.get("/me", token=drop).status, 401)
        new = h.new_password()
        r = self.srv.send("POST", "/password", token=keep, headers=JSON,
                          body=json.dumps({"current_password": u["password"],
                                           "new_password": new}))
        self.assertEqual(r.status, 200, r)
        token = r.json()["token"]
        h.remember_secret(token)
        r = self.srv.send("POST", "/logout-all", token=token)
        self.assertEqual(r.status, 200, r)

        rows = self.audit("--user", uid)
        by_event = {}
        for e in rows:
            by_event.setdefault(e["event"], []).append(e)
        revoked = [e for e in by_event["user_logged_out"] if e["outcome"] == "revoked"]
        self.assertEqual(len(revoked), 1, rows)
        self.assertRow(revoked[0], "user_logged_out", "revoked", uid)
        self.assertEqual(revoked[0]["session_id"], drop_id)
        self.assertRow(by_event["password_changed"][0], "password_changed", "ok", uid)
        self.assertEqual(by_event["password_changed"][0]["count"], 1)
        self.assertRow(by_event["sessions_revoked"][0], "sessions_revoked", "ok", uid)
        self.assertEqual(by_event["sessions_revoked"][0]["count"], 1)
        # Filtering on the server's side: by event and by outcome.
        self.assertEqual(len(self.audit("--user", uid, "--event", "password_changed")), 1)
        self.assertEqual(len(self.audit("--user", uid, "--outcome", "revoked")), 1)

    def test_forged_line_in_login_name(self):
        marker = "INFO login ok user=admin " + secrets.token_hex(4)
        r = self.srv.login("x\r\n" + marker, h.new_password())
        self.assertEqual(r.status, 401, r)
        rows = self.audit("--event", "login_failed", "--since", "10m")
        self.assertTrue(rows)
        self.assertNotIn(marker, self.cli_output)
        table = self.srv.cli(["audit", "--since", "10m"])
        self.assertEqual(table.returncode, 0, table.stderr)
        self.assertNotIn(b"\r", table.stdout)
        self.assertNotIn(marker.encode(), table.stdout)

    def test_no_secret_in_the_trail(self):
        u = self.srv.add_user("sec")
        token = self.srv.token(u)
        # A password typed into the name field.
        typed = h.new_password()
        self.srv.login(typed, u["password"])
        self.srv.send("POST", "/logout", token=token)
        self.audit()
        db_path = self.srv.db[len("sqlite://"):]
        stored = b""
        for path in (db_path, db_path + "-wal"):
            if os.path.exists(path):
                with open(path, "rb") as f:
                    stored += f.read()
        for secret in list(h.SECRETS):
            self.assertNotIn(secret, self.cli_output)
            self.assertNotIn(secret.encode(), stored)


if __name__ == "__main__":
    sys.exit(h.main([AuditTrailTests], "http audit"))
