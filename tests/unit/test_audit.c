/* The audit trail (include/authkit/audit.h; checklist 80-82): the row each action writes,
 * the reason codes of failed logins behind one identical answer, client text cleaned,
 * nothing secret in the database, best-effort writes, retention. The clock is the
 * fixture's: nothing sleeps. */
#include <sodium.h>
#include <stdlib.h>

#include "audit/audit.h"
#include "check.h"
#include "core/ctx.h"
#include "core/encoding.h"
#include "fixture.h"

#define PW     "Audit-Canary-Pw-1!"
#define NEW_PW "Audit-Canary-Pw-2?"
#define WRONG  "Audit-Canary-Wrong-3#"
#define IP     "203.0.113.7"

static struct fixture f;

/* Every token issued, to look for in the database file at the end. */
static char tokens[32][AUTHKIT_TOKEN_SIZE];
static int n_tokens;

static authkit_login_result login_ok(const char *login, const char *ip) {
    authkit_login_result r;
    authkit_session_opts o = {.ip = ip};
    authkit_error err;
    memset(&r, 0, sizeof r);
    authkit_status st = authkit_authenticate(f.ctx, login, PW, strlen(PW), &o, &r, &err);
    CHECK_MSG(st == AUTHKIT_OK, "login %s: %s", login, err.message);
    if (n_tokens < 32)
        memcpy(tokens[n_tokens++], r.token, sizeof r.token);
    return r;
}

static size_t count_rows(void) {
    long long n = fixture_query_int(&f, "SELECT count(*) FROM audit_log");
    return n < 0 ? 0 : (size_t)n;
}

/* The newest row through the public API. */
static authkit_audit_entry newest(void) {
    authkit_audit_entry e;
    size_t n = 0;
    memset(&e, 0, sizeof e);
    CHECK_OK(authkit_audit_query(f.ctx, NULL, &e, 1, &n, NULL));
    CHECK_INT(n, 1);
    return e;
}

/* Checks that the action just done wrote exactly one row (`before` rows before it), and
 * what it holds. `user` "" is "unknown"; `ip` "" is none. */
static authkit_audit_entry expect_row(int line, size_t before, const char *event,
                                      const char *outcome, const char *user, const char *ip) {
    CHECK_MSG(count_rows() == before + 1, "line %d: %zu rows, want %zu", line, count_rows(),
              before + 1);
    authkit_audit_entry e = newest();
    CHECK_MSG(strcmp(e.event, event) == 0, "line %d: event %s, want %s", line, e.event, event);
    CHECK_MSG(strcmp(e.outcome, outcome) == 0, "line %d: outcome %s, want %s", line, e.outcome,
              outcome);
    CHECK_MSG(strcmp(e.user_id, user) == 0, "line %d: user \"%s\", want \"%s\"", line, e.user_id,
              user);
    CHECK_MSG(strcmp(e.ip, ip) == 0, "line %d: ip \"%s\", want \"%s\"", line, e.ip, ip);
    /* The event's time, UTC microseconds from the context's clock; ISO 8601 with Z. */
    CHECK_MSG(e.time == authkit_now(f.ctx), "line %d: time %lld", line, (long long)e.time);
    char iso[32];
    authkit__time_iso8601(iso, e.time);
    CHECK_MSG(iso[strlen(iso) - 1] == 'Z', "line %d: %s", line, iso);
    return e;
}

#define EXPECT(before, event, outcome, user, ip)                                                   \
    expect_row(__LINE__, before, event, outcome, user, ip)

/* Every action through the library, one row each (checklist 80). */
static void test_each_action(void) {
    fixture_setup(&f);
    size_t n = count_rows();
    CHECK_INT(n, 0);
    authkit_user ada = fixture_user(&f, "ada", PW);
    authkit_audit_entry e = EXPECT(n++, "user_created", "ok", ada.id, "");
    CHECK_STR(e.login, "ada");

    fixture_advance(&f, 1);
    authkit_login_result r = login_ok("ada", IP);
    e = EXPECT(n++, "user_logged_in", "ok", ada.id, IP);
    CHECK_STR(e.session_id, r.session_id);
    CHECK_STR(e.login, "");

    fixture_advance(&f, 1);
    authkit_login_result bad;
    authkit_session_opts o = {.ip = IP};
    CHECK_STATUS(
        authkit_authenticate(f.ctx, "ADA@example.com", WRONG, strlen(WRONG), &o, &bad, NULL),
        AUTHKIT_AUTHENTICATION);
    e = EXPECT(n++, "login_failed", "wrong_password", ada.id, IP);
    CHECK_STR(e.login, "ADA@example.com");
    CHECK_INT(strlen(e.login_hash), 32);
    CHECK_STR(e.session_id, "");

    /* The logout names the client set for the thread (the HTTP service does this). */
    fixture_advance(&f, 1);
    bool deleted = false;
    authkit_event_set_client("198.51.100.4");
    CHECK_OK(authkit_logout(f.ctx, r.token, &deleted, NULL));
    authkit_event_set_client(NULL);
    CHECK(deleted);
    e = EXPECT(n++, "user_logged_out", "ok", ada.id, "198.51.100.4");
    CHECK_STR(e.session_id, r.session_id);

    /* A revocation by id; then logout-all ends the other session. */
    authkit_login_result r1 = login_ok("ada", IP), r2 = login_ok("ada", IP);
    n += 2;
    fixture_advance(&f, 1);
    authkit_event_set_client(IP);
    CHECK_OK(authkit_session_revoke(f.ctx, ada.id, r1.session_id, NULL));
    e = EXPECT(n++, "user_logged_out", "revoked", ada.id, IP);
    CHECK_STR(e.session_id, r1.session_id);
    size_t revoked = 0;
    CHECK_OK(authkit_logout_all(f.ctx, ada.id, &revoked, NULL));
    authkit_event_set_client(NULL);
    e = EXPECT(n++, "sessions_revoked", "ok", ada.id, IP);
    CHECK_INT(e.count, 1);
    (void)r2;

    /* A password change ends the sessions it finds. */
    login_ok("ada", IP);
    n++;
    fixture_advance(&f, 1);
    CHECK_OK(authkit_user_set_password(f.ctx, ada.id, NEW_PW, strlen(NEW_PW), NULL));
    e = EXPECT(n++, "password_changed", "ok", ada.id, "");
    CHECK_INT(e.count, 1);
    CHECK_OK(authkit_user_set_password(f.ctx, ada.id, PW, strlen(PW), NULL));
    n++;

    /* An expired session found by validation, then two left for the cleanup. */
    authkit_login_result old = login_ok("ada", IP);
    n++;
    fixture_advance(&f, 31 * 60);
    authkit_user who;
    CHECK_STATUS(authkit_session_validate(f.ctx, old.token, &who, NULL, NULL),
                 AUTHKIT_NOT_AUTHENTICATED);
    e = EXPECT(n++, "session_expired", "expired", ada.id, "");
    CHECK_STR(e.session_id, old.session_id);
    login_ok("ada", IP);
    login_ok("ada", IP);
    n += 2;
    fixture_advance(&f, 31 * 60);
    size_t cleaned = 0;
    CHECK_OK(authkit_session_delete_expired(f.ctx, &cleaned, NULL));
    CHECK_INT(cleaned, 2);
    e = EXPECT(n++, "sessions_cleaned", "ok", "", "");
    CHECK_INT(e.count, 2);
    /* Nothing to clean: no row. */
    CHECK_OK(authkit_session_delete_expired(f.ctx, &cleaned, NULL));
    CHECK_INT(count_rows(), n);

    /* User changes: the fields; deactivation also ends the sessions. */
    fixture_advance(&f, 1);
    authkit_user_update up = {.email = "ada.l@example.com"};
    CHECK_OK(authkit_user_update_fields(f.ctx, ada.id, &up, NULL, NULL));
    EXPECT(n++, "user_updated", "email", ada.id, "");
    login_ok("ada", IP);
    n++;
    authkit_user_update off = {.set_is_active = true, .is_active = false};
    CHECK_OK(authkit_user_update_fields(f.ctx, ada.id, &off, NULL, NULL));
    n++; /* user_updated is_active, then: */
    e = EXPECT(n++, "sessions_revoked", "user_deactivated", ada.id, "");
    CHECK_INT(e.count, 1);
    authkit_audit_filter updated = {.type = AUTHKIT_EVENT_USER_UPDATED};
    size_t k = 0;
    authkit_audit_entry two[2];
    CHECK_OK(authkit_audit_query(f.ctx, &updated, two, 2, &k, NULL));
    CHECK_INT(k, 2);
    CHECK_STR(two[0].outcome, "is_active");

    /* Throttled: the pair allows 5 failures, the 6th is evaluated, the 7th refused. */
    authkit_user tina = fixture_user(&f, "tina", PW);
    n++;
    for (int i = 0; i < 6; i++) {
        CHECK_STATUS(authkit_authenticate(f.ctx, "tina", WRONG, strlen(WRONG), &o, &bad, NULL),
                     AUTHKIT_AUTHENTICATION);
        n++;
    }
    CHECK_STATUS(authkit_authenticate(f.ctx, "tina", WRONG, strlen(WRONG), &o, &bad, NULL),
                 AUTHKIT_RATE_LIMITED);
    e = EXPECT(n++, "login_throttled", "throttled", tina.id, IP);
    CHECK_STR(e.login, "tina");

    fixture_advance(&f, 1);
    CHECK_OK(authkit_user_delete(f.ctx, tina.id, NULL));
    EXPECT(n++, "user_deleted", "ok", tina.id, "");
    /* The trail outlives the user: its rows are still found by its id. */
    authkit_audit_filter by_tina = {.user_id = tina.id};
    authkit_audit_entry rows[16];
    CHECK_OK(authkit_audit_query(f.ctx, &by_tina, rows, 16, &k, NULL));
    CHECK_INT(k, 9); /* created, 6 failed, throttled, deleted */
    CHECK_STR(rows[8].event, "user_created");

    CHECK_INT(authkit_audit_failures(f.ctx), 0);
    CHECK_INT(authkit_event_failures(f.ctx), 0);
    fixture_teardown(&f);
}

/* Each cause of a failed login has its own code in the trail, while the caller gets the
 * same status, message and (empty) field for all of them (checklist 20). */
static void test_reason_codes(void) {
    fixture_setup(&f);
    authkit_user bob = fixture_user(&f, "bob", PW);
    authkit_user carol = fixture_user(&f, "carol", PW);
    authkit_user_update off = {.set_is_active = true, .is_active = false};
    CHECK_OK(authkit_user_update_fields(f.ctx, carol.id, &off, NULL, NULL));
    authkit_user dave = fixture_user(&f, "dave", NULL);
    char long_pw[74];
    memset(long_pw, 'x', 73);
    long_pw[73] = '\0';
    static const char nul_pw[] = "correct\0horse";
    const struct {
        const char *login, *pw;
        size_t len;
        const char *reason, *user;
    } rows[] = {
        {"nobody", PW, strlen(PW), "unknown_login", ""},
        {"nobody@example.com", PW, strlen(PW), "unknown_login", ""},
        {"bob", WRONG, strlen(WRONG), "wrong_password", bob.id},
        {"carol", PW, strlen(PW), "inactive_user", carol.id},
        {"carol", WRONG, strlen(WRONG), "wrong_password", carol.id},
        {"dave", PW, strlen(PW), "no_password", dave.id},
        {"bob", "", 0, "bad_password_input", bob.id},
        {"bob", long_pw, 73, "bad_password_input", bob.id},
        {"bob@example.com", nul_pw, sizeof nul_pw - 1, "bad_password_input", bob.id},
    };
    char first_message[sizeof((authkit_error *)0)->message] = "";
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t before = count_rows();
        authkit_login_result r;
        authkit_error err;
        authkit_session_opts o = {.ip = "192.0.2.50"};
        authkit_status st =
            authkit_authenticate(f.ctx, rows[i].login, rows[i].pw, rows[i].len, &o, &r, &err);
        CHECK_MSG(st == AUTHKIT_AUTHENTICATION, "row %zu: %s", i, authkit_status_name(st));
        if (i == 0)
            authkit__strlcpy(first_message, err.message, sizeof first_message);
        CHECK_MSG(strcmp(err.message, first_message) == 0, "row %zu: message \"%s\"", i,
                  err.message);
        CHECK_MSG(err.field[0] == '\0' && err.retry_after_seconds == 0, "row %zu: details", i);
        CHECK_MSG(count_rows() == before + 1, "row %zu: %zu rows added", i, count_rows() - before);
        authkit_audit_entry e = newest();
        CHECK_MSG(strcmp(e.event, "login_failed") == 0, "row %zu: %s", i, e.event);
        CHECK_MSG(strcmp(e.outcome, rows[i].reason) == 0, "row %zu: reason %s, want %s", i,
                  e.outcome, rows[i].reason);
        CHECK_MSG(strcmp(e.user_id, rows[i].user) == 0, "row %zu: user \"%s\"", i, e.user_id);
        CHECK_MSG(strcmp(e.ip, "192.0.2.50") == 0, "row %zu: ip %s", i, e.ip);
        /* A name that is no user is kept only as its hash. */
        CHECK_MSG(strcmp(e.login, rows[i].user[0] ? rows[i].login : "") == 0, "row %zu: login %s",
                  i, e.login);
    }
    CHECK_STR(first_message, "Invalid username or password");
    /* Filtering by outcome finds the causes apart. */
    static const struct {
        const char *outcome;
        size_t n;
    } counts[] = {{"unknown_login", 2},
                  {"wrong_password", 2},
                  {"inactive_user", 1},
                  {"no_password", 1},
                  {"bad_password_input", 3}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        authkit_audit_filter flt = {.type = AUTHKIT_EVENT_LOGIN_FAILED,
                                    .outcome = counts[i].outcome};
        authkit_audit_entry out[8];
        size_t n = 0;
        CHECK_OK(authkit_audit_query(f.ctx, &flt, out, 8, &n, NULL));
        CHECK_MSG(n == counts[i].n, "outcome row %zu: %zu rows", i, n);
    }
    fixture_teardown(&f);
}

/* true when any column of any audit row holds a byte below 0x20 or 0x7f. */
static bool any_control_character(void) {
    return fixture_query_int(&f, "SELECT count(*) FROM audit_log WHERE "
                                 "(coalesce(login, '') || coalesce(ip, '') || event || outcome || "
                                 "coalesce(login_hash, '')) GLOB '*[\x01-\x1f\x7f]*'") != 0;
}

/* Client text cannot forge a record or reach a terminal raw (checklist 79, 81). */
static void test_client_text(void) {
    fixture_setup(&f);
    fixture_user(&f, "ada", PW);
    static const char forged[] = "x\r\nINFO login ok user=admin";
    size_t before = count_rows();
    authkit_login_result r;
    authkit_session_opts o = {.ip = IP};
    CHECK_STATUS(authkit_authenticate(f.ctx, forged, PW, strlen(PW), &o, &r, NULL),
                 AUTHKIT_AUTHENTICATION);
    /* One record, for an unknown user, holding the name's keyed hash but not the name. */
    authkit_audit_entry e = EXPECT(before, "login_failed", "unknown_login", "", IP);
    CHECK_STR(e.login, "");
    char hash[AUTHKIT_AUDIT_HASH_SIZE];
    authkit__audit_login_hash(f.ctx, forged, hash);
    CHECK_STR(e.login_hash, hash);
    authkit_audit_filter by_name = {.login = forged};
    authkit_audit_entry out[4];
    size_t n = 0;
    CHECK_OK(authkit_audit_query(f.ctx, &by_name, out, 4, &n, NULL));
    CHECK_INT(n, 1);
    /* The hash is of the name as the look-up sees it: case and email spelling fold. */
    char a[AUTHKIT_AUDIT_HASH_SIZE], b[AUTHKIT_AUDIT_HASH_SIZE];
    authkit__audit_login_hash(f.ctx, "Nobody_X", a);
    authkit__audit_login_hash(f.ctx, "nobody_x", b);
    CHECK_STR(a, b);
    authkit__audit_login_hash(f.ctx, " Nobody@Example.COM", a);
    authkit__audit_login_hash(f.ctx, "nobody@example.com", b);
    CHECK_STR(a, b);
    authkit__audit_login_hash(f.ctx, "nobody_y", b);
    CHECK(strcmp(a, b) != 0);

    /* Text that does name a user, and an address, are kept cleaned: a control character
     * becomes '?', bytes that are not UTF-8 too. */
    authkit_session_opts odd = {.ip = "10.0.0.1\x1b[31m\xff"};
    CHECK_STATUS(
        authkit_authenticate(f.ctx, "\tada@example.com\r\n", WRONG, strlen(WRONG), &odd, &r, NULL),
        AUTHKIT_AUTHENTICATION);
    e = newest();
    CHECK_STR(e.outcome, "wrong_password");
    CHECK_STR(e.login, "?ada@example.com??");
    CHECK_STR(e.ip, "10.0.0.1?[31m?");
    CHECK(!any_control_character());
    fixture_teardown(&f);
}

/* true when `needle` occurs in the file at `path` (missing file: false). */
static bool file_contains(const char *path, const char *needle) {
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    size_t len = strlen(needle), cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    bool found = false;
    if (buf) {
        size_t got;
        while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
            n += got;
            if (n == cap) {
                char *grown = realloc(buf, cap * 2);
                if (!grown)
                    break;
                buf = grown;
                cap *= 2;
            }
        }
        found = memmem(buf, n, needle, len) != NULL;
    }
    free(buf);
    fclose(fp);
    return found;
}

/* No password, token or secret reaches the database through the trail, not even a
 * password typed into the name field (checklist 81). */
static void test_no_secrets_stored(void) {
    fixture_setup(&f);
    n_tokens = 0;
    authkit_user eve = fixture_user(&f, "eve", PW);
    authkit_login_result r = login_ok("eve", IP);
    authkit_login_result bad;
    static const char typed[] = "Canary-Typed-As-Name-9";
    CHECK_STATUS(authkit_authenticate(f.ctx, typed, PW, strlen(PW), NULL, &bad, NULL),
                 AUTHKIT_AUTHENTICATION);
    CHECK_STATUS(authkit_authenticate(f.ctx, "eve", WRONG, strlen(WRONG), NULL, &bad, NULL),
                 AUTHKIT_AUTHENTICATION);
    CHECK_OK(authkit_user_set_password(f.ctx, eve.id, NEW_PW, strlen(NEW_PW), NULL));
    authkit_user who;
    CHECK_STATUS(authkit_session_validate(f.ctx, r.token, &who, NULL, NULL),
                 AUTHKIT_NOT_AUTHENTICATED);
    CHECK(count_rows() >= 5);
    char wal[sizeof f.path + 8];
    snprintf(wal, sizeof wal, "%s-wal", f.path);
    const char *canaries[] = {PW, NEW_PW, WRONG, typed, TEST_SECRET};
    for (size_t i = 0; i < sizeof canaries / sizeof canaries[0]; i++)
        CHECK_MSG(!file_contains(f.path, canaries[i]) && !file_contains(wal, canaries[i]),
                  "canary %zu (%s) is in the database", i, canaries[i]);
    for (int i = 0; i < n_tokens; i++)
        CHECK_MSG(tokens[i][0] && !file_contains(f.path, tokens[i]) &&
                      !file_contains(wal, tokens[i]),
                  "token %d is in the database", i);
    fixture_teardown(&f);
}

/* A write that fails is counted and fails nothing; queries report the store's error. */
static void test_best_effort(void) {
    fixture_setup(&f);
    fixture_user(&f, "fay", PW);
    sqlite3 *db;
    CHECK(sqlite3_open(f.path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "DROP TABLE audit_log", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    login_ok("fay", IP);
    CHECK_INT(authkit_audit_failures(f.ctx), 1);
    CHECK_INT(authkit_event_failures(f.ctx), 1);
    authkit_audit_entry e;
    size_t n = 9;
    authkit_error err;
    CHECK_STATUS(authkit_audit_query(f.ctx, NULL, &e, 1, &n, &err), AUTHKIT_STORE);
    CHECK_INT(n, 0);
    fixture_teardown(&f);
}

/* Rows older than the retention go, in batches; 0 keeps no trail at all. */
static void test_retention(void) {
    fixture_options(&f);
    f.opts.audit_retention_days = 2;
    f.opts.cleanup_batch_size = 3;
    fixture_open(&f);
    char name[16];
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof name, "old_%d", i);
        fixture_user(&f, name, NULL);
    }
    fixture_advance(&f, 86400);
    for (int i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "new_%d", i);
        fixture_user(&f, name, NULL);
    }
    size_t deleted = 99;
    /* Exactly two days after the old rows: they are not older than that yet. */
    fixture_advance(&f, 86400);
    CHECK_OK(authkit_audit_delete_expired(f.ctx, &deleted, NULL));
    CHECK_INT(deleted, 0);
    fixture_advance(&f, 1);
    CHECK_OK(authkit_audit_delete_expired(f.ctx, &deleted, NULL));
    CHECK_INT(deleted, 7);
    CHECK_INT(count_rows(), 2);
    authkit_audit_entry e = newest();
    CHECK_STR(e.login, "new_1");
    fixture_advance(&f, 86400);
    CHECK_OK(authkit_audit_delete_expired(f.ctx, &deleted, NULL));
    CHECK_INT(deleted, 2);
    CHECK_INT(count_rows(), 0);
    fixture_teardown(&f);

    fixture_options(&f);
    f.opts.audit_retention_days = 0;
    fixture_open(&f);
    fixture_user(&f, "ghost", PW);
    login_ok("ghost", IP);
    CHECK_INT(count_rows(), 0);
    fixture_advance(&f, 1000 * 86400LL);
    CHECK_OK(authkit_audit_delete_expired(f.ctx, &deleted, NULL));
    CHECK_INT(deleted, 0);
    fixture_teardown(&f);

    /* Out of range is refused at open. */
    authkit_error err;
    authkit_ctx *ctx = NULL;
    fixture_options(&f);
    f.opts.audit_retention_days = -1;
    CHECK_STATUS(authkit_open(&f.opts, &ctx, &err), AUTHKIT_CONFIG);
    CHECK_STR(err.field, "audit_retention_days");
    f.opts.audit_retention_days = AUTHKIT_AUDIT_RETENTION_MAX_DAYS + 1;
    CHECK_STATUS(authkit_open(&f.opts, &ctx, &err), AUTHKIT_CONFIG);
    f.ctx = NULL;
    fixture_teardown(&f);
}

/* Session control says why sessions ended: the per-user cap, logout of the others, the
 * idle timeout. */
static void test_session_control(void) {
    fixture_options(&f);
    f.opts.max_sessions_per_user = 2;
    f.opts.session_idle_timeout_minutes = 5;
    fixture_open(&f);
    authkit_user ivy = fixture_user(&f, "ivy", PW);
    login_ok("ivy", IP);
    login_ok("ivy", IP);
    authkit_login_result c = login_ok("ivy", IP);
    authkit_audit_filter revoked = {.type = AUTHKIT_EVENT_SESSIONS_REVOKED};
    authkit_audit_entry e[4];
    size_t n = 0;
    CHECK_OK(authkit_audit_query(f.ctx, &revoked, e, 4, &n, NULL));
    CHECK_INT(n, 1);
    CHECK_STR(e[0].outcome, "session_cap");
    CHECK_STR(e[0].user_id, ivy.id);
    CHECK_INT(e[0].count, 1);
    size_t others = 0;
    CHECK_OK(authkit_logout_others(f.ctx, ivy.id, c.session_id, &others, NULL));
    CHECK_INT(others, 1);
    CHECK_OK(authkit_audit_query(f.ctx, &revoked, e, 4, &n, NULL));
    CHECK_INT(n, 2);
    CHECK_STR(e[0].outcome, "logout_others");
    CHECK_INT(e[0].count, 1);
    fixture_advance(&f, 6 * 60);
    authkit_user who;
    size_t before = count_rows();
    CHECK_STATUS(authkit_session_validate(f.ctx, c.token, &who, NULL, NULL),
                 AUTHKIT_NOT_AUTHENTICATED);
    authkit_audit_entry x = EXPECT(before, "session_expired", "idle_timeout", ivy.id, "");
    CHECK_STR(x.session_id, c.session_id);
    fixture_teardown(&f);
}

static void test_query_arguments(void) {
    fixture_setup(&f);
    fixture_user(&f, "hal", PW);
    authkit_audit_entry e[4];
    size_t n = 9;
    CHECK_STATUS(authkit_audit_query(NULL, NULL, e, 4, &n, NULL), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_audit_query(f.ctx, NULL, e, 4, NULL, NULL), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_audit_query(f.ctx, NULL, NULL, 4, &n, NULL), AUTHKIT_INVALID_ARGUMENT);
    authkit_audit_filter bad_type = {.type = AUTHKIT_EVENT_COUNT_};
    CHECK_STATUS(authkit_audit_query(f.ctx, &bad_type, e, 4, &n, NULL), AUTHKIT_INVALID_ARGUMENT);
    authkit_audit_filter backwards = {.since = 10, .until = 5};
    CHECK_STATUS(authkit_audit_query(f.ctx, &backwards, e, 4, &n, NULL), AUTHKIT_INVALID_ARGUMENT);
    /* What no row can hold matches nothing. */
    authkit_audit_filter odd[] = {{.user_id = "not-a-uuid"},
                                  {.user_id = "' OR '1'='1"},
                                  {.outcome = "\xff\xfe"},
                                  {.outcome = "ok' OR 1=1 --"}};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        n = 9;
        CHECK_MSG(authkit_audit_query(f.ctx, &odd[i], e, 4, &n, NULL) == AUTHKIT_OK && n == 0,
                  "odd filter %zu: %zu rows", i, n);
    }
    CHECK_OK(authkit_audit_query(f.ctx, NULL, NULL, 0, &n, NULL));
    CHECK_INT(n, 0);
    CHECK_OK(authkit_audit_query(f.ctx, NULL, e, 4, &n, NULL));
    CHECK_INT(n, 1);
    CHECK_INT(authkit_audit_failures(NULL), 0);
    CHECK_STATUS(authkit_audit_delete_expired(NULL, NULL, NULL), AUTHKIT_INVALID_ARGUMENT);
    fixture_teardown(&f);
}

int main(void) {
    test_each_action();
    test_reason_codes();
    test_client_text();
    test_no_secrets_stored();
    test_best_effort();
    test_retention();
    test_session_control();
    test_query_arguments();
    return check_done("test_audit");
}
