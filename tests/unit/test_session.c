/* The auth kit with stored sessions: login, validation, expiry, logout, listing, cleanup. */
#include <sodium.h>

#include "check.h"
#include "core/ctx.h"
#include "fixture.h"
#include "password/bcrypt.h"

#define PW "correct horse"

static struct fixture f;

/* Records the events of the last operations. */
static struct {
    authkit_event_type type[64];
    char user_id[64][AUTHKIT_UUID_SIZE];
    char session_id[64][AUTHKIT_UUID_SIZE];
    char ip[64][AUTHKIT_IP_SIZE];
    authkit_time expired_at[64];
    size_t count[64];
    int n;
} ev;

static int record(const authkit_event *e, void *arg) {
    (void)arg;
    if (ev.n < 64) {
        ev.type[ev.n] = e->type;
        authkit__strlcpy(ev.user_id[ev.n], e->user_id, AUTHKIT_UUID_SIZE);
        authkit__strlcpy(ev.session_id[ev.n], e->session_id, AUTHKIT_UUID_SIZE);
        authkit__strlcpy(ev.ip[ev.n], e->ip, AUTHKIT_IP_SIZE);
        ev.expired_at[ev.n] = e->expired_at;
        ev.count[ev.n] = e->count;
        ev.n++;
    }
    return 0;
}

static authkit_login_result login_ok(const char *login, const char *pw) {
    authkit_login_result r;
    authkit_error err;
    authkit_session_opts o = {.ip = "198.51.100.7", .user_agent = "test-agent/1.0"};
    authkit_status st = authkit_authenticate(f.ctx, login, pw, strlen(pw), &o, &r, &err);
    CHECK_MSG(st == AUTHKIT_OK, "login %s: %s", login, err.message);
    return r;
}

static bool valid(const char *token) {
    authkit_user u;
    return authkit_session_validate(f.ctx, token, &u, NULL, NULL) == AUTHKIT_OK;
}

static void test_login(void) {
    authkit_user alice = fixture_user(&f, "Alice_1", PW);
    ev.n = 0;
    authkit_login_result r = login_ok("Alice_1", PW);
    CHECK_INT(strlen(r.token), 43);
    CHECK(authkit__token_well_formed(r.token));
    CHECK(authkit__uuid_valid(r.session_id));
    CHECK_STR(r.user.id, alice.id);
    CHECK_INT(r.expires_at, atomic_load(&f.now) + 30LL * 60 * 1000000);
    CHECK_INT(ev.n, 1);
    CHECK_INT(ev.type[0], AUTHKIT_EVENT_USER_LOGGED_IN);
    CHECK_STR(ev.session_id[0], r.session_id);
    CHECK_STR(ev.user_id[0], alice.id);
    CHECK_STR(ev.ip[0], "198.51.100.7");

    /* By email, case-insensitive and trimmed; by username in another case. */
    authkit_login_result r2 = login_ok("  ALICE_1@Example.com ", PW);
    authkit_login_result r3 = login_ok("alice_1", PW);
    CHECK(strcmp(r.token, r2.token) != 0 && strcmp(r2.token, r3.token) != 0);
    CHECK(strcmp(r.session_id, r2.session_id) != 0);
    CHECK(valid(r.token) && valid(r2.token) && valid(r3.token));

    authkit_user u;
    authkit_session_info s;
    CHECK_OK(authkit_session_validate(f.ctx, r.token, &u, &s, NULL));
    CHECK_STR(u.id, alice.id);
    CHECK_STR(s.id, r.session_id);
    CHECK_STR(s.ip, "198.51.100.7");
    CHECK_STR(s.user_agent, "test-agent/1.0");
    CHECK_INT(s.expires_at, r.expires_at);
}

/* Every failed login gives the same status and message and runs exactly one bcrypt at
 * the configured cost, whatever the reason. */
static void test_login_failures_equal(void) {
    fixture_user(&f, "bob", PW);
    authkit_user carol = fixture_user(&f, "carol", PW);
    authkit_user_update off = {.set_is_active = true, .is_active = false};
    CHECK_OK(authkit_user_update_fields(f.ctx, carol.id, &off, NULL, NULL));
    fixture_user(&f, "dave_nopw", NULL);
    char long_pw[74];
    memset(long_pw, 'x', 73);
    long_pw[73] = '\0';
    static const char nul_pw[] = "correct\0horse";
    struct {
        const char *login;
        const char *pw;
        size_t len;
    } rows[] = {
        {"nobody", PW, strlen(PW)},
        {"nobody@example.com", PW, strlen(PW)},
        {"bob", "wrong horse", 11},
        {"bob@example.com", "Correct horse", 13},
        {"carol", PW, strlen(PW)},
        {"dave_nopw", PW, strlen(PW)},
        {"bob", "", 0},
        {"bob", long_pw, 73},
        {"bob", nul_pw, sizeof nul_pw - 1},
        {"", PW, strlen(PW)},
        {"' OR '1'='1' --", PW, strlen(PW)},
        {"bob\r\nINFO login ok", PW, strlen(PW)},
    };
    /* The dummy hash has the configured cost. */
    CHECK(strncmp(f.ctx->dummy_hash, "$2b$04$", 7) == 0);
    long long sessions = fixture_query_int(&f, "SELECT count(*) FROM auth_sessions");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        authkit_login_result r;
        authkit_error err;
        ev.n = 0;
        uint64_t runs = authkit__bcrypt_runs();
        authkit_status st =
            authkit_authenticate(f.ctx, rows[i].login, rows[i].pw, rows[i].len, NULL, &r, &err);
        CHECK_MSG(st == AUTHKIT_AUTHENTICATION, "row %zu: %s", i, authkit_status_name(st));
        CHECK_MSG(strcmp(err.message, "Invalid username or password") == 0, "row %zu: %s", i,
                  err.message);
        CHECK_MSG(err.field[0] == '\0', "row %zu: field %s", i, err.field);
        CHECK_MSG(authkit__bcrypt_runs() - runs == 1, "row %zu: %llu bcrypt runs", i,
                  (unsigned long long)(authkit__bcrypt_runs() - runs));
        CHECK_MSG(r.token[0] == '\0', "row %zu: token set on failure", i);
        CHECK_MSG(ev.n == 1 && ev.type[0] == AUTHKIT_EVENT_LOGIN_FAILED, "row %zu", i);
    }
    CHECK_INT(fixture_query_int(&f, "SELECT count(*) FROM auth_sessions"), sessions);
    /* A successful login costs one bcrypt too (no rehash needed at the same cost). */
    uint64_t runs = authkit__bcrypt_runs();
    login_ok("bob", PW);
    CHECK_INT(authkit__bcrypt_runs() - runs, 1);
}

static void test_tokens_hashed_at_rest(void) {
    authkit_login_result r = login_ok("bob", PW);
    uint8_t digest[32];
    crypto_hash_sha256(digest, (const unsigned char *)r.token, strlen(r.token));
    char hex[65], sql[256];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM auth_sessions WHERE token_hash = x'%s'", hex);
    CHECK_INT(fixture_query_int(&f, sql), 1);
    CHECK_INT(
        fixture_query_int(&f, "SELECT count(*) FROM auth_sessions WHERE length(token_hash) != 32"),
        0);
    /* The token text is nowhere in the database files. */
    const char *suffixes[] = {"", "-wal"};
    for (size_t i = 0; i < 2; i++) {
        char path[200];
        snprintf(path, sizeof path, "%s%s", f.path, suffixes[i]);
        FILE *fp = fopen(path, "rb");
        if (!fp)
            continue;
        static char buf[8 << 20];
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        CHECK_MSG(memmem(buf, n, r.token, strlen(r.token)) == NULL, "token found in %s", path);
        CHECK_MSG(memmem(buf, n, PW, strlen(PW)) == NULL, "password found in %s", path);
    }
}

static void test_validate_rejects(void) {
    char unknown[44];
    authkit__token_new(unknown);
    const char *rows[] = {unknown,
                          "",
                          "abc",
                          "not a token at all",
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          "' OR 1=1 --"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        authkit_user u;
        authkit_error err;
        CHECK_MSG(authkit_session_validate(f.ctx, rows[i], &u, NULL, &err) ==
                      AUTHKIT_NOT_AUTHENTICATED,
                  "row %zu", i);
    }
    authkit_user u;
    CHECK_STATUS(authkit_session_validate(f.ctx, NULL, &u, NULL, NULL), AUTHKIT_NOT_AUTHENTICATED);
    CHECK_STATUS(authkit_session_validate(f.ctx, unknown, NULL, NULL, NULL),
                 AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_session_validate(NULL, unknown, &u, NULL, NULL), AUTHKIT_INVALID_ARGUMENT);
}

static void test_expiry(void) {
    authkit_login_result r = login_ok("bob", PW);
    authkit_login_result keep = login_ok("bob", PW);
    fixture_advance(&f, 29 * 60);
    CHECK(valid(r.token)); /* validation does not extend */
    fixture_advance(&f, 59);
    CHECK(valid(r.token)); /* one second before expires_at */
    fixture_advance(&f, 1);
    CHECK_INT(atomic_load(&f.now), r.expires_at);
    ev.n = 0;
    CHECK(!valid(r.token)); /* now == expires_at: expired */
    CHECK_INT(ev.n, 1);
    CHECK_INT(ev.type[0], AUTHKIT_EVENT_SESSION_EXPIRED);
    CHECK_STR(ev.session_id[0], r.session_id);
    CHECK_INT(ev.expired_at[0], r.expires_at);
    CHECK(!valid(r.token));
    CHECK(!valid(keep.token));
    CHECK_INT(ev.n, 2); /* the second session's own expiry, not a repeat */
    CHECK_STR(ev.session_id[1], keep.session_id);
    CHECK(!valid(r.token));
    CHECK_INT(ev.n, 2);

    /* Remember me: a longer lifetime per session. */
    authkit_login_result lr;
    authkit_session_opts o = {.lifetime_seconds = 30LL * 86400};
    CHECK_OK(authkit_authenticate(f.ctx, "bob", PW, strlen(PW), &o, &lr, NULL));
    CHECK_INT(lr.expires_at, atomic_load(&f.now) + 30LL * 86400 * 1000000);
    fixture_advance(&f, 29LL * 86400);
    CHECK(valid(lr.token));
    fixture_advance(&f, 86400);
    CHECK(!valid(lr.token));
    o.lifetime_seconds = -5;
    authkit_error err;
    CHECK_STATUS(authkit_authenticate(f.ctx, "bob", PW, strlen(PW), &o, &lr, &err),
                 AUTHKIT_VALIDATION);
    CHECK_STR(err.field, "lifetime_seconds");
}

static void test_logout(void) {
    authkit_login_result a = login_ok("bob", PW);
    authkit_login_result b = login_ok("bob", PW);
    bool deleted = false;
    ev.n = 0;
    CHECK_OK(authkit_logout(f.ctx, a.token, &deleted, NULL));
    CHECK(deleted);
    CHECK_INT(ev.n, 1);
    CHECK_INT(ev.type[0], AUTHKIT_EVENT_USER_LOGGED_OUT);
    CHECK_STR(ev.session_id[0], a.session_id);
    CHECK(!valid(a.token));
    CHECK(valid(b.token)); /* other sessions stay */
    CHECK_OK(authkit_logout(f.ctx, a.token, &deleted, NULL));
    CHECK(!deleted);
    CHECK_OK(authkit_logout(f.ctx, "garbage", &deleted, NULL));
    CHECK(!deleted);
    CHECK_OK(authkit_logout(f.ctx, NULL, &deleted, NULL));
    CHECK(!deleted);
    CHECK_INT(ev.n, 1);
    /* An expired session not yet cleaned up can still be logged out. */
    fixture_advance(&f, 31 * 60);
    CHECK_OK(authkit_logout(f.ctx, b.token, &deleted, NULL));
    CHECK(deleted);
}

static void test_logout_all_list_revoke(void) {
    authkit_user erin = fixture_user(&f, "erin", PW);
    authkit_login_result s[3];
    for (int i = 0; i < 3; i++) {
        s[i] = login_ok("erin", PW);
        fixture_advance(&f, 1);
    }
    authkit_login_result other = login_ok("bob", PW);
    authkit_session_info list[8];
    size_t n = 0;
    CHECK_OK(authkit_session_list(f.ctx, erin.id, list, 8, &n, NULL));
    CHECK_INT(n, 3);
    CHECK_STR(list[0].id, s[2].session_id); /* newest first */
    CHECK_STR(list[2].id, s[0].session_id);
    CHECK_OK(authkit_session_list(f.ctx, erin.id, list, 2, &n, NULL));
    CHECK_INT(n, 2);

    /* Revoke one by id; someone else's id does not work. */
    CHECK_STATUS(authkit_session_revoke(f.ctx, other.user.id, s[1].session_id, NULL),
                 AUTHKIT_NOT_FOUND);
    CHECK_OK(authkit_session_revoke(f.ctx, erin.id, s[1].session_id, NULL));
    CHECK(!valid(s[1].token));
    CHECK(valid(s[0].token));
    CHECK_STATUS(authkit_session_revoke(f.ctx, erin.id, s[1].session_id, NULL), AUTHKIT_NOT_FOUND);

    size_t revoked = 0;
    ev.n = 0;
    CHECK_OK(authkit_logout_all(f.ctx, erin.id, &revoked, NULL));
    CHECK_INT(revoked, 2);
    CHECK(!valid(s[0].token) && !valid(s[2].token));
    CHECK(valid(other.token));
    CHECK_INT(ev.n, 1);
    CHECK_INT(ev.type[0], AUTHKIT_EVENT_SESSIONS_REVOKED);
    CHECK_INT(ev.count[0], 2);
    CHECK_OK(authkit_session_list(f.ctx, erin.id, list, 8, &n, NULL));
    CHECK_INT(n, 0);
    CHECK_STATUS(authkit_logout_all(f.ctx, "00000000-0000-4000-8000-000000000000", &revoked, NULL),
                 AUTHKIT_NOT_FOUND);
    CHECK_STATUS(authkit_logout_all(f.ctx, "nope", &revoked, NULL), AUTHKIT_NOT_FOUND);
}

static void test_session_create_and_user_changes(void) {
    authkit_user frank = fixture_user(&f, "frank", NULL);
    authkit_login_result r;
    CHECK_OK(authkit_session_create(f.ctx, frank.id, NULL, &r, NULL));
    CHECK(valid(r.token));
    CHECK_STATUS(
        authkit_session_create(f.ctx, "00000000-0000-4000-8000-000000000000", NULL, &r, NULL),
        AUTHKIT_NOT_FOUND);
    /* Deleting the user ends its sessions. */
    CHECK_OK(authkit_session_create(f.ctx, frank.id, NULL, &r, NULL));
    CHECK_OK(authkit_user_delete(f.ctx, frank.id, NULL));
    CHECK(!valid(r.token));
    /* An inactive user's token stops working at once, and no new session is made. */
    authkit_user gina = fixture_user(&f, "gina", PW);
    authkit_login_result g = login_ok("gina", PW);
    authkit_user_update off = {.set_is_active = true, .is_active = false};
    CHECK_OK(authkit_user_update_fields(f.ctx, gina.id, &off, NULL, NULL));
    CHECK(!valid(g.token));
    CHECK_STATUS(authkit_session_create(f.ctx, gina.id, NULL, &r, NULL), AUTHKIT_NOT_FOUND);
    /* A password change ends every session. */
    authkit_user hank = fixture_user(&f, "hank", PW);
    authkit_login_result h = login_ok("hank", PW);
    CHECK_OK(authkit_user_set_password(f.ctx, hank.id, "another horse", 13, NULL));
    CHECK(!valid(h.token));
}

static void test_rehash(void) {
    /* "U*U" under an imported $2a$ cost-5 hash (crypt_blowfish wrapper.c vector). */
    static const char legacy[] = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
    authkit_user_new in = {
        .email = "legacy@example.com", .username = "legacy", .password_hash = legacy};
    authkit_user u;
    CHECK_OK(authkit_user_create(f.ctx, &in, &u, NULL));
    authkit_login_result r;
    CHECK_STATUS(authkit_authenticate(f.ctx, "legacy", "U*V", 3, NULL, &r, NULL),
                 AUTHKIT_AUTHENTICATION);
    CHECK_INT(fixture_query_int(&f,
                                "SELECT count(*) FROM users WHERE password_hash = "
                                "'$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'"),
              1);
    CHECK_OK(authkit_authenticate(f.ctx, "legacy", "U*U", 3, NULL, &r, NULL));
    CHECK_INT(fixture_query_int(&f, "SELECT count(*) FROM users WHERE username = 'legacy' AND "
                                    "password_hash LIKE '$2b$04$%' AND length(password_hash) = 60"),
              1);
    CHECK_OK(authkit_authenticate(f.ctx, "legacy", "U*U", 3, NULL, &r, NULL));
}

static void test_delete_expired(void) {
    authkit_user ivy = fixture_user(&f, "ivy", PW);
    size_t n = 0;
    CHECK_OK(authkit_session_delete_expired(f.ctx, &n, NULL)); /* clear earlier tests' */
    authkit_session_opts short_lived = {.lifetime_seconds = 60};
    authkit_login_result r;
    for (int i = 0; i < 10; i++)
        CHECK_OK(authkit_session_create(f.ctx, ivy.id, &short_lived, &r, NULL));
    authkit_login_result live[5];
    for (int i = 0; i < 5; i++)
        CHECK_OK(authkit_session_create(f.ctx, ivy.id, NULL, &live[i], NULL));
    fixture_advance(&f, 60);
    size_t count = 0;
    CHECK_OK(authkit_session_count(f.ctx, &count, NULL));
    long long before = fixture_query_int(&f, "SELECT count(*) FROM auth_sessions");
    CHECK_OK(authkit_session_delete_expired(f.ctx, &n, NULL));
    CHECK_INT(n, 10);
    CHECK_INT(fixture_query_int(&f, "SELECT count(*) FROM auth_sessions"), before - 10);
    CHECK_OK(authkit_session_delete_expired(f.ctx, &n, NULL));
    CHECK_INT(n, 0);
    for (int i = 0; i < 5; i++)
        CHECK(valid(live[i].token));
    size_t after = 0;
    CHECK_OK(authkit_session_count(f.ctx, &after, NULL));
    CHECK_INT(after, count);
}

/* Client text is stored as well-formed UTF-8 without control characters, in every store. */
static void test_client_text_sanitized(void) {
    authkit_user u = fixture_user(&f, "kim", PW);
    authkit_session_opts o = {.ip = "10.0.0.1\r\n",
                              .user_agent = "bad\xff\x01"
                                            "agent \xc3\xa9\xc3"};
    authkit_login_result r;
    CHECK_OK(authkit_session_create(f.ctx, u.id, &o, &r, NULL));
    authkit_session_info list[2];
    size_t n = 0;
    CHECK_OK(authkit_session_list(f.ctx, u.id, list, 2, &n, NULL));
    CHECK_INT(n, 1);
    CHECK_STR(list[0].ip, "10.0.0.1??");
    CHECK_STR(list[0].user_agent, "bad??agent \xc3\xa9?");
}

int main(void) {
    fixture_options(&f);
    f.opts.cleanup_batch_size = 3; /* several batches in test_delete_expired */
    fixture_open(&f);
    CHECK_OK(authkit_event_subscribe(f.ctx, AUTHKIT_EVENT_ALL, record, NULL, NULL));
    test_login();
    test_login_failures_equal();
    test_tokens_hashed_at_rest();
    test_validate_rejects();
    test_expiry();
    test_logout();
    test_logout_all_list_revoke();
    test_session_create_and_user_changes();
    test_rehash();
    test_delete_expired();
    test_client_text_sanitized();
    fixture_teardown(&f);
    return check_done("session");
}
