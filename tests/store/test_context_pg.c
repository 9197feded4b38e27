/* A whole authkit context on PostgreSQL, opened by a postgresql:// (and a postgres://) URL:
 * users, login, validation, expiry, logout and logout-all through the public API, and two
 * contexts on one database seeing each other's changes at once (as two nodes do). */
#include <libpq-fe.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "authkit.h"
#include "check.h"
#include "core/ctx.h"
#include "pg_fixture.h"
#include "store/store.h"

#define SECRET "test-secret-0123456789-abcdefghijklmnop"
#define PW     "correct horse"

static atomic_llong clock_now;

static authkit_time test_clock(void *arg) {
    (void)arg;
    return (authkit_time)atomic_load(&clock_now);
}

static void advance(long long seconds) {
    atomic_fetch_add(&clock_now, seconds * 1000000LL);
}

static authkit_ctx *open_ctx(const char *url) {
    authkit_options o;
    authkit_options_init(&o);
    o.database_url = url;
    o.session_secret = SECRET;
    o.bcrypt_cost = 4;
    o.cleanup_interval_ms = 0;
    o.clock = test_clock;
    authkit_ctx *ctx = NULL;
    authkit_error err;
    authkit_status st = authkit_open(&o, &ctx, &err);
    CHECK_MSG(st == AUTHKIT_OK, "authkit_open(%s): %s", url, err.message);
    return ctx;
}

static authkit_login_result login(authkit_ctx *ctx, const char *who) {
    authkit_login_result r;
    authkit_error err;
    authkit_session_opts so = {.ip = "198.51.100.7", .user_agent = "test-agent/1.0"};
    memset(&r, 0, sizeof r);
    authkit_status st = authkit_authenticate(ctx, who, PW, strlen(PW), &so, &r, &err);
    CHECK_MSG(st == AUTHKIT_OK, "login %s: %s", who, err.message);
    return r;
}

static authkit_status validate(authkit_ctx *ctx, const char *token) {
    authkit_user u;
    authkit_error err;
    return authkit_session_validate(ctx, token, &u, NULL, &err);
}

static void test_context(const char *url, const char *url2, PGconn *db) {
    authkit_ctx *a = open_ctx(url);
    authkit_ctx *b = open_ctx(url2); /* a second node on the same database */
    if (!a || !b) {
        authkit_close(a);
        authkit_close(b);
        return;
    }
    CHECK(a->store == &authkit__store_pg);
    authkit_error err;
    authkit_user alice;
    authkit_user_new in = {.email = "Alice@Example.com",
                           .username = "Alice_1",
                           .password = PW,
                           .password_len = strlen(PW)};
    CHECK_OK(authkit_user_create(a, &in, &alice, &err));
    CHECK_STR(alice.email, "alice@example.com");
    CHECK_STATUS(authkit_user_create(b, &in, NULL, &err), AUTHKIT_CONFLICT);
    in.email = "other@example.com";
    in.username = "ALICE_1";
    CHECK_STATUS(authkit_user_create(b, &in, NULL, &err), AUTHKIT_CONFLICT);
    CHECK_STR(err.field, "username");

    /* Login by username (any case) and by email; validation on either node. */
    authkit_login_result r1 = login(a, "alice_1");
    authkit_login_result r2 = login(b, "ALICE@example.COM");
    CHECK_INT(strlen(r1.token), 43);
    CHECK_OK(validate(a, r1.token));
    CHECK_OK(validate(b, r1.token));
    CHECK_OK(validate(a, r2.token));
    authkit_login_result bad;
    CHECK_STATUS(authkit_authenticate(a, "Alice_1", "wrong password", 14, NULL, &bad, &err),
                 AUTHKIT_AUTHENTICATION);
    CHECK_STATUS(authkit_authenticate(a, "\xff\xfe", PW, strlen(PW), NULL, &bad, &err),
                 AUTHKIT_AUTHENTICATION);
    CHECK_INT(pgf_int(db, "SELECT count(*) FROM auth_sessions"), 2);

    authkit_session_info list[4];
    size_t n = 0;
    CHECK_OK(authkit_session_list(b, alice.id, list, 4, &n, &err));
    CHECK_INT(n, 2);
    CHECK_STR(list[0].user_agent, "test-agent/1.0");

    /* Logout on node b: refused on node a at once; a second logout deletes nothing. */
    bool deleted = false;
    CHECK_OK(authkit_logout(b, r1.token, &deleted, &err));
    CHECK(deleted);
    CHECK_STATUS(validate(a, r1.token), AUTHKIT_NOT_AUTHENTICATED);
    CHECK_OK(authkit_logout(a, r1.token, &deleted, &err));
    CHECK(!deleted);
    CHECK_OK(validate(a, r2.token));

    /* Logout everywhere. */
    authkit_login_result r3 = login(a, "Alice_1");
    size_t revoked = 0;
    CHECK_OK(authkit_logout_all(b, alice.id, &revoked, &err));
    CHECK_INT(revoked, 2);
    CHECK_STATUS(validate(a, r2.token), AUTHKIT_NOT_AUTHENTICATED);
    CHECK_STATUS(validate(b, r3.token), AUTHKIT_NOT_AUTHENTICATED);
    CHECK_INT(pgf_int(db, "SELECT count(*) FROM auth_sessions"), 0);

    /* Expiry: valid until just before expires_at; the expired row is deleted on sight. */
    authkit_login_result r4 = login(a, "Alice_1");
    advance(30 * 60 - 1);
    CHECK_OK(validate(b, r4.token));
    advance(1);
    CHECK_STATUS(validate(b, r4.token), AUTHKIT_NOT_AUTHENTICATED);
    CHECK_INT(pgf_int(db, "SELECT count(*) FROM auth_sessions"), 0);

    /* Cleanup counts what it deleted. */
    for (int i = 0; i < 3; i++)
        login(a, "Alice_1");
    advance(31 * 60);
    size_t gone = 0;
    CHECK_OK(authkit_session_delete_expired(b, &gone, &err));
    CHECK_INT(gone, 3);

    /* Password change and user deletion end sessions on every node. */
    authkit_login_result r5 = login(a, "Alice_1");
    CHECK_OK(authkit_user_set_password(b, alice.id, "another password", 16, &err));
    CHECK_STATUS(validate(a, r5.token), AUTHKIT_NOT_AUTHENTICATED);
    CHECK_OK(authkit_user_set_password(b, alice.id, PW, strlen(PW), &err));
    authkit_login_result r6 = login(a, "Alice_1");
    CHECK_OK(authkit_user_delete(b, alice.id, &err));
    CHECK_STATUS(validate(a, r6.token), AUTHKIT_NOT_AUTHENTICATED);
    CHECK_INT(pgf_int(db, "SELECT count(*) FROM users"), 0);

    sodium_memzero(&r1, sizeof r1);
    sodium_memzero(&r2, sizeof r2);
    authkit_close(a);
    authkit_close(b);
}

int main(void) {
    if (sodium_init() < 0)
        return 1;
    atomic_init(&clock_now, 1800000000LL * 1000000LL);
    const char *base = pgf_base_url();
    PGconn *admin = pgf_connect(base);
    char name[64], uri[1024], uri2[1024], kw[1024];
    if (!pgf_create_db(admin, name) || !pgf_uri(base, "postgresql://", name, uri, sizeof uri) ||
        !pgf_uri(base, "postgres://", name, uri2, sizeof uri2) ||
        !pgf_conninfo(base, name, kw, sizeof kw)) {
        fprintf(stderr, "cannot make a test database\n");
        return 1;
    }
    printf("database url: %s\n", uri);
    PGconn *db = pgf_connect(kw);
    test_context(uri, uri2, db);
    PQfinish(db);

    /* A keyword string is libpq's, not a database_url: the scheme is required. */
    authkit_options o;
    authkit_options_init(&o);
    o.database_url = kw;
    o.session_secret = SECRET;
    authkit_ctx *ctx = NULL;
    authkit_error err;
    CHECK_STATUS(authkit_open(&o, &ctx, &err), AUTHKIT_CONFIG);
    CHECK(strstr(err.message, "postgresql://") != NULL);
    /* A server that is not there: a clear failure, quickly. */
    o.database_url = "postgresql://nobody@/x?host=/nonexistent-authkit-dir";
    CHECK_STATUS(authkit_open(&o, &ctx, &err), AUTHKIT_STORE);
    CHECK(ctx == NULL);

    pgf_drop_all(admin);
    PQfinish(admin);
    return check_done("context_pg");
}
