/* The storage port conformance suite, written once against `const struct authkit_store_ops *`
 * and run against every adapter (DESIGN §9). A test program includes this after
 * "check.h", describes how to get an empty database (struct sc_target) and calls
 * sc_run(); it then ends with check_done().
 *
 * Every test opens a fresh, empty store through target->fresh(), so tests never see each
 * other's rows. Times are fixed numbers around SC_T0: the suite never reads a clock. */
#ifndef AUTHKIT_TEST_STORE_CONFORMANCE_H
#define AUTHKIT_TEST_STORE_CONFORMANCE_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/encoding.h"
#include "store/store.h"

struct sc_target {
    const struct authkit_store_ops *ops;
    /* Writes the location of a new, empty database to `out`; false on failure. */
    bool (*fresh)(void *arg, char *out, size_t size);
    void *arg;
    /* true when closing and reopening the same location keeps the data. */
    bool persistent;
    const char *label; /* printed with failures */
};

#define SC_T0     INT64_C(1700000000000000)
#define SC_SEC    INT64_C(1000000)
#define SC_HOUR   (3600 * SC_SEC)
#define SC_HASH_A "$2b$04$aaaaaaaaaaaaaaaaaaaaaOaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SC_HASH_B "$2b$04$bbbbbbbbbbbbbbbbbbbbbObbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SC_HASH_C "$2b$12$ccccccccccccccccccccOcccccccccccccccccccccccccccccccc"

/* ---- fixtures ---------------------------------------------------------------------- */

static void *sc_open(const struct sc_target *t, char *location, size_t size) {
    authkit_error err;
    void *st = NULL;
    if (!t->fresh(t->arg, location, size)) {
        CHECK_MSG(false, "[%s] cannot make a fresh database", t->label);
        return NULL;
    }
    authkit_status s = t->ops->open(location, &st, &err);
    CHECK_MSG(s == AUTHKIT_OK, "[%s] open %s: %s", t->label, location, err.message);
    return s == AUTHKIT_OK ? st : NULL;
}

static void sc_user_id(char out[AUTHKIT_UUID_SIZE], int n) {
    snprintf(out, AUTHKIT_UUID_SIZE, "00000000-0000-4000-8000-%012d", n);
}

/* A complete user row numbered `n`, created at `created`, with password hash SC_HASH_A. */
static void sc_user(struct authkit_store_user *row, int n, const char *email, const char *username,
                    authkit_time created) {
    memset(row, 0, sizeof *row);
    sc_user_id(row->user.id, n);
    authkit__strlcpy(row->user.email, email, sizeof row->user.email);
    authkit__strlcpy(row->user.username, username, sizeof row->user.username);
    authkit__strlcpy(row->user.global_role, "user", sizeof row->user.global_role);
    row->user.is_active = true;
    row->user.has_password = true;
    row->user.password_changed_at = created;
    row->user.created_at = created;
    row->user.updated_at = created;
    authkit__strlcpy(row->password_hash, SC_HASH_A, sizeof row->password_hash);
}

static void sc_digest(uint8_t out[AUTHKIT_DIGEST_BYTES], int n) {
    for (int i = 0; i < AUTHKIT_DIGEST_BYTES; i++)
        out[i] = (uint8_t)(0xa5 ^ (i * 37));
    out[0] = (uint8_t)(n >> 24);
    out[1] = (uint8_t)(n >> 16);
    out[2] = (uint8_t)(n >> 8);
    out[3] = (uint8_t)n;
}

/* A session row numbered `n` of user number `user`. */
static void sc_session(struct authkit_store_session *row, int n, int user, authkit_time created,
                       authkit_time expires) {
    memset(row, 0, sizeof *row);
    snprintf(row->info.id, sizeof row->info.id, "10000000-0000-4000-8000-%012d", n);
    sc_user_id(row->info.user_id, user);
    row->info.created_at = created;
    row->info.expires_at = expires;
    row->info.last_seen_at = created;
    authkit__strlcpy(row->info.ip, "192.0.2.7", sizeof row->info.ip);
    authkit__strlcpy(row->info.user_agent, "conformance/1.0", sizeof row->info.user_agent);
    sc_digest(row->token_digest, n);
}

static authkit_status sc_add_user(const struct sc_target *t, void *st, int n, const char *email,
                                  const char *username, authkit_time created) {
    struct authkit_store_user row;
    authkit_error err;
    sc_user(&row, n, email, username, created);
    authkit_status s = t->ops->user_insert(st, &row, &err);
    CHECK_MSG(s == AUTHKIT_OK, "[%s] insert user %d (%s): %s", t->label, n, email, err.message);
    return s;
}

static authkit_status sc_add_session(const struct sc_target *t, void *st, int n, int user,
                                     authkit_time created, authkit_time expires) {
    struct authkit_store_session row;
    authkit_error err;
    sc_session(&row, n, user, created, expires);
    authkit_status s = t->ops->session_insert(st, &row, &err);
    CHECK_MSG(s == AUTHKIT_OK, "[%s] insert session %d: %s", t->label, n, err.message);
    return s;
}

/* true when the session numbered `n` is still stored. */
static bool sc_session_exists(const struct sc_target *t, void *st, int n) {
    uint8_t digest[AUTHKIT_DIGEST_BYTES];
    sc_digest(digest, n);
    return t->ops->session_find(st, digest, NULL, NULL, NULL) == AUTHKIT_OK;
}

static struct authkit_store_user sc_get(const struct sc_target *t, void *st, int n) {
    struct authkit_store_user u;
    char id[AUTHKIT_UUID_SIZE];
    authkit_error err;
    memset(&u, 0, sizeof u);
    sc_user_id(id, n);
    authkit_status s = t->ops->user_get(st, AUTHKIT_USER_BY_ID, id, &u, &err);
    CHECK_MSG(s == AUTHKIT_OK, "[%s] get user %d: %s", t->label, n, err.message);
    return u;
}

/* ---- users ------------------------------------------------------------------------- */

static void sc_test_user_insert_get(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    struct authkit_store_user row, got;

    sc_user(&row, 1, "alice@example.com", "Alice_1", SC_T0);
    row.user.password_changed_at = SC_T0 - 5;
    row.user.updated_at = SC_T0 + 7;
    row.sessions_valid_after = SC_T0 - 9;
    authkit__strlcpy(row.user.global_role, "admin", sizeof row.user.global_role);
    CHECK_OK(ops->user_insert(st, &row, &err));
    CHECK_INT(err.status, AUTHKIT_OK);

    /* A user without a password, disabled. */
    struct authkit_store_user nopw;
    sc_user(&nopw, 2, "nopw@example.com", "nopw", SC_T0 + 1);
    nopw.password_hash[0] = '\0';
    nopw.user.has_password = false;
    nopw.user.password_changed_at = 0;
    nopw.user.is_active = false;
    CHECK_OK(ops->user_insert(st, &nopw, &err));

    static const struct {
        enum authkit_user_key key;
        const char *value;
        authkit_status status;
        int user;
    } cases[] = {
        {AUTHKIT_USER_BY_ID, "00000000-0000-4000-8000-000000000001", AUTHKIT_OK, 1},
        {AUTHKIT_USER_BY_EMAIL, "alice@example.com", AUTHKIT_OK, 1},
        {AUTHKIT_USER_BY_USERNAME, "Alice_1", AUTHKIT_OK, 1},
        {AUTHKIT_USER_BY_USERNAME, "alice_1", AUTHKIT_OK, 1},
        {AUTHKIT_USER_BY_USERNAME, "ALICE_1", AUTHKIT_OK, 1},
        {AUTHKIT_USER_BY_ID, "00000000-0000-4000-8000-000000000002", AUTHKIT_OK, 2},
        {AUTHKIT_USER_BY_USERNAME, "NoPw", AUTHKIT_OK, 2},
        {AUTHKIT_USER_BY_ID, "00000000-0000-4000-8000-000000000009", AUTHKIT_NOT_FOUND, 0},
        {AUTHKIT_USER_BY_EMAIL, "bob@example.com", AUTHKIT_NOT_FOUND, 0},
        {AUTHKIT_USER_BY_EMAIL, "alice@example.co", AUTHKIT_NOT_FOUND, 0},
        {AUTHKIT_USER_BY_USERNAME, "Alice_", AUTHKIT_NOT_FOUND, 0},
        {AUTHKIT_USER_BY_USERNAME, "Alice%", AUTHKIT_NOT_FOUND, 0},
        {AUTHKIT_USER_BY_USERNAME, "", AUTHKIT_NOT_FOUND, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&got, 0x5a, sizeof got);
        authkit_status s = ops->user_get(st, cases[i].key, cases[i].value, &got, &err);
        CHECK_MSG(s == cases[i].status, "[%s] get case %zu (%s): %s", t->label, i, cases[i].value,
                  authkit_status_name(s));
        CHECK_MSG(err.status == s, "[%s] get case %zu: err.status", t->label, i);
        if (s != AUTHKIT_OK || cases[i].status != AUTHKIT_OK)
            continue;
        const struct authkit_store_user *want = cases[i].user == 1 ? &row : &nopw;
        CHECK_MSG(strcmp(got.user.id, want->user.id) == 0, "[%s] get case %zu: id %s", t->label, i,
                  got.user.id);
        CHECK_MSG(strcmp(got.user.username, want->user.username) == 0,
                  "[%s] get case %zu: username %s (stored as given)", t->label, i,
                  got.user.username);
    }

    got = sc_get(t, st, 1);
    CHECK_STR(got.user.email, "alice@example.com");
    CHECK_STR(got.user.username, "Alice_1");
    CHECK_STR(got.user.global_role, "admin");
    CHECK_STR(got.password_hash, SC_HASH_A);
    CHECK(got.user.is_active);
    CHECK(got.user.has_password);
    CHECK_INT(got.user.password_changed_at, SC_T0 - 5);
    CHECK_INT(got.user.created_at, SC_T0);
    CHECK_INT(got.user.updated_at, SC_T0 + 7);
    CHECK_INT(got.sessions_valid_after, SC_T0 - 9);

    got = sc_get(t, st, 2);
    CHECK_STR(got.password_hash, "");
    CHECK(!got.user.has_password);
    CHECK(!got.user.is_active);
    CHECK_INT(got.user.password_changed_at, 0);

    /* Conflicts name the field; nothing is inserted. */
    static const struct {
        int n;
        const char *email, *username, *field;
    } dups[] = {
        {3, "alice@example.com", "someone", "email"},
        {3, "someone@example.com", "Alice_1", "username"},
        {3, "someone@example.com", "aLICE_1", "username"},
        {3, "someone@example.com", "NOPW", "username"},
        {1, "other@example.com", "other", NULL}, /* same id */
    };
    for (size_t i = 0; i < sizeof dups / sizeof dups[0]; i++) {
        struct authkit_store_user d;
        sc_user(&d, dups[i].n, dups[i].email, dups[i].username, SC_T0 + 2);
        authkit_status s = ops->user_insert(st, &d, &err);
        CHECK_MSG(s == AUTHKIT_CONFLICT, "[%s] duplicate case %zu: %s", t->label, i,
                  authkit_status_name(s));
        if (dups[i].field)
            CHECK_MSG(strcmp(err.field, dups[i].field) == 0,
                      "[%s] duplicate case %zu: field \"%s\", expected \"%s\"", t->label, i,
                      err.field, dups[i].field);
    }
    size_t n = 99;
    CHECK_OK(ops->user_count(st, &n, &err));
    CHECK_INT(n, 2);
    CHECK_STATUS(ops->user_get(st, AUTHKIT_USER_BY_EMAIL, "someone@example.com", &got, &err),
                 AUTHKIT_NOT_FOUND);
    ops->close(st);
}

static void sc_test_user_update(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    size_t ended = 99;
    sc_add_user(t, st, 1, "one@example.com", "one", SC_T0);
    sc_add_user(t, st, 2, "two@example.com", "Two", SC_T0);
    sc_add_session(t, st, 1, 1, SC_T0, SC_T0 + SC_HOUR);
    sc_add_session(t, st, 2, 1, SC_T0, SC_T0 + SC_HOUR);
    sc_add_session(t, st, 3, 2, SC_T0, SC_T0 + SC_HOUR);

    /* A plain update writes the five fields and nothing else. */
    struct authkit_store_user u = sc_get(t, st, 1);
    authkit__strlcpy(u.user.email, "uno@example.com", sizeof u.user.email);
    authkit__strlcpy(u.user.username, "Uno", sizeof u.user.username);
    authkit__strlcpy(u.user.global_role, "admin", sizeof u.user.global_role);
    u.user.is_active = false;
    u.user.updated_at = SC_T0 + 10;
    u.user.created_at = SC_T0 + 999;          /* not written */
    u.sessions_valid_after = SC_T0 + 999;     /* not written without end_sessions */
    u.user.password_changed_at = SC_T0 + 999; /* not written */
    authkit__strlcpy(u.password_hash, SC_HASH_B, sizeof u.password_hash); /* not written */
    CHECK_OK(ops->user_update(st, &u, false, &ended, &err));
    CHECK_INT(ended, 0);
    struct authkit_store_user got = sc_get(t, st, 1);
    CHECK_STR(got.user.email, "uno@example.com");
    CHECK_STR(got.user.username, "Uno");
    CHECK_STR(got.user.global_role, "admin");
    CHECK(!got.user.is_active);
    CHECK_INT(got.user.updated_at, SC_T0 + 10);
    CHECK_INT(got.user.created_at, SC_T0);
    CHECK_INT(got.user.password_changed_at, SC_T0);
    CHECK_INT(got.sessions_valid_after, 0);
    CHECK_STR(got.password_hash, SC_HASH_A);
    CHECK(sc_session_exists(t, st, 1));
    CHECK_STATUS(ops->user_get(st, AUTHKIT_USER_BY_EMAIL, "one@example.com", &got, &err),
                 AUTHKIT_NOT_FOUND);
    CHECK_OK(ops->user_get(st, AUTHKIT_USER_BY_USERNAME, "uNO", &got, &err));

    /* A user may change the case of its own username. */
    u = sc_get(t, st, 1);
    authkit__strlcpy(u.user.username, "UNO", sizeof u.user.username);
    CHECK_OK(ops->user_update(st, &u, false, NULL, &err));
    CHECK_STR(sc_get(t, st, 1).user.username, "UNO");

    /* Taking another user's email or username (in any case) fails and changes nothing,
     * also when sessions were to be ended in the same transaction. */
    static const struct {
        const char *email, *username, *field;
        bool end_sessions;
    } conflicts[] = {
        {"two@example.com", "UNO", "email", false},
        {"uno@example.com", "Two", "username", false},
        {"uno@example.com", "tWO", "username", false},
        {"two@example.com", "UNO", "email", true},
        {"uno@example.com", "TWO", "username", true},
    };
    for (size_t i = 0; i < sizeof conflicts / sizeof conflicts[0]; i++) {
        u = sc_get(t, st, 1);
        authkit__strlcpy(u.user.email, conflicts[i].email, sizeof u.user.email);
        authkit__strlcpy(u.user.username, conflicts[i].username, sizeof u.user.username);
        u.user.updated_at = SC_T0 + 20;
        u.sessions_valid_after = SC_T0 + 20;
        ended = 99;
        authkit_status s = ops->user_update(st, &u, conflicts[i].end_sessions, &ended, &err);
        CHECK_MSG(s == AUTHKIT_CONFLICT, "[%s] update conflict %zu: %s", t->label, i,
                  authkit_status_name(s));
        CHECK_MSG(strcmp(err.field, conflicts[i].field) == 0,
                  "[%s] update conflict %zu: field \"%s\"", t->label, i, err.field);
        CHECK_MSG(ended == 0, "[%s] update conflict %zu: ended %zu", t->label, i, ended);
        got = sc_get(t, st, 1);
        CHECK_MSG(strcmp(got.user.email, "uno@example.com") == 0 &&
                      strcmp(got.user.username, "UNO") == 0 && got.user.updated_at == SC_T0 + 10 &&
                      got.sessions_valid_after == 0,
                  "[%s] update conflict %zu: row changed", t->label, i);
        CHECK_MSG(sc_session_exists(t, st, 1) && sc_session_exists(t, st, 2),
                  "[%s] update conflict %zu: sessions were deleted", t->label, i);
    }

    /* end_sessions: sessions of this user only, and sessions_valid_after. */
    u = sc_get(t, st, 1);
    u.user.is_active = true;
    u.user.updated_at = SC_T0 + 30;
    u.sessions_valid_after = SC_T0 + 30;
    ended = 99;
    CHECK_OK(ops->user_update(st, &u, true, &ended, &err));
    CHECK_INT(ended, 2);
    got = sc_get(t, st, 1);
    CHECK(got.user.is_active);
    CHECK_INT(got.sessions_valid_after, SC_T0 + 30);
    CHECK(!sc_session_exists(t, st, 1));
    CHECK(!sc_session_exists(t, st, 2));
    CHECK(sc_session_exists(t, st, 3));
    CHECK_OK(ops->user_update(st, &u, true, &ended, &err));
    CHECK_INT(ended, 0);

    /* Unknown user. */
    struct authkit_store_user ghost;
    sc_user(&ghost, 9, "ghost@example.com", "ghost", SC_T0);
    CHECK_STATUS(ops->user_update(st, &ghost, false, &ended, &err), AUTHKIT_NOT_FOUND);
    CHECK_INT(err.status, AUTHKIT_NOT_FOUND);
    CHECK_STATUS(ops->user_update(st, &ghost, true, &ended, &err), AUTHKIT_NOT_FOUND);
    CHECK_INT(ended, 0);
    ops->close(st);
}

static void sc_test_set_password(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    size_t ended = 99;
    sc_add_user(t, st, 1, "one@example.com", "one", SC_T0);
    sc_add_user(t, st, 2, "two@example.com", "two", SC_T0);
    for (int i = 1; i <= 3; i++)
        sc_add_session(t, st, i, 1, SC_T0, SC_T0 + SC_HOUR);
    sc_add_session(t, st, 4, 2, SC_T0, SC_T0 + SC_HOUR);

    authkit_time now = SC_T0 + 50 * SC_SEC;
    CHECK_OK(ops->user_set_password(st, "00000000-0000-4000-8000-000000000001", SC_HASH_B, now,
                                    &ended, &err));
    CHECK_INT(ended, 3);
    struct authkit_store_user got = sc_get(t, st, 1);
    CHECK_STR(got.password_hash, SC_HASH_B);
    CHECK(got.user.has_password);
    CHECK_INT(got.user.password_changed_at, now);
    CHECK_INT(got.user.updated_at, now);
    CHECK_INT(got.sessions_valid_after, now);
    CHECK_STR(got.user.email, "one@example.com");
    for (int i = 1; i <= 3; i++)
        CHECK_MSG(!sc_session_exists(t, st, i), "[%s] session %d survived", t->label, i);
    CHECK(sc_session_exists(t, st, 4));
    got = sc_get(t, st, 2);
    CHECK_STR(got.password_hash, SC_HASH_A);
    CHECK_INT(got.sessions_valid_after, 0);

    /* "" removes the password. */
    CHECK_OK(ops->user_set_password(st, "00000000-0000-4000-8000-000000000001", "", now + 1, NULL,
                                    &err));
    got = sc_get(t, st, 1);
    CHECK_STR(got.password_hash, "");
    CHECK(!got.user.has_password);
    CHECK_INT(got.user.password_changed_at, now + 1);

    ended = 99;
    CHECK_STATUS(ops->user_set_password(st, "00000000-0000-4000-8000-000000000009", SC_HASH_B, now,
                                        &ended, &err),
                 AUTHKIT_NOT_FOUND);
    CHECK_INT(ended, 0);
    ops->close(st);
}

/* Checklist 17: the "must choose a new password" flag. It round-trips through insert and
 * every read of a user; setting it ends the user's sessions (and moves
 * sessions_valid_after) in one go; a new password clears it; nothing else touches it. */
static void sc_test_require_password_change(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    struct authkit_store_user row, got;
    sc_user(&row, 1, "flagged@example.com", "flagged", SC_T0);
    row.user.password_change_required = true;
    CHECK_OK(ops->user_insert(st, &row, &err));
    sc_add_user(t, st, 2, "plain@example.com", "plain", SC_T0 + 1);
    sc_add_user(t, st, 3, "other@example.com", "other", SC_T0 + 2);
    CHECK(sc_get(t, st, 1).user.password_change_required);
    CHECK(!sc_get(t, st, 2).user.password_change_required);
    CHECK_OK(ops->user_get(st, AUTHKIT_USER_BY_USERNAME, "FLAGGED", &got, &err));
    CHECK(got.user.password_change_required);
    authkit_user list[3];
    size_t n = 0;
    CHECK_OK(ops->user_list(st, 0, list, 3, &n, &err));
    CHECK_INT(n, 3);
    CHECK(n == 3 && list[0].password_change_required && !list[1].password_change_required);
    CHECK_OK(ops->user_search(st, "flag", list, 3, &n, &err));
    CHECK(n == 1 && list[0].password_change_required);

    sc_add_session(t, st, 1, 2, SC_T0, SC_T0 + SC_HOUR);
    sc_add_session(t, st, 2, 2, SC_T0, SC_T0 + SC_HOUR);
    sc_add_session(t, st, 3, 3, SC_T0, SC_T0 + SC_HOUR);
    authkit_time now = SC_T0 + 30 * SC_SEC;
    size_t ended = 99;
    CHECK_OK(ops->user_require_password_change(st, "00000000-0000-4000-8000-000000000002", now,
                                               &ended, &err));
    CHECK_INT(ended, 2);
    got = sc_get(t, st, 2);
    CHECK(got.user.password_change_required);
    CHECK_INT(got.user.updated_at, now);
    CHECK_INT(got.sessions_valid_after, now);
    CHECK_STR(got.password_hash, SC_HASH_A); /* the hash and its age stay */
    CHECK_INT(got.user.password_changed_at, SC_T0 + 1);
    CHECK(!sc_session_exists(t, st, 1));
    CHECK(!sc_session_exists(t, st, 2));
    CHECK(sc_session_exists(t, st, 3));
    CHECK(!sc_get(t, st, 3).user.password_change_required);
    CHECK_INT(sc_get(t, st, 3).sessions_valid_after, 0);
    /* The user a session lookup returns carries the flag too. */
    CHECK_OK(ops->user_require_password_change(st, "00000000-0000-4000-8000-000000000003", now,
                                               NULL, &err));
    CHECK(!sc_session_exists(t, st, 3));
    sc_add_session(t, st, 4, 3, now + 1, now + SC_HOUR);
    uint8_t digest[AUTHKIT_DIGEST_BYTES];
    sc_digest(digest, 4);
    CHECK_OK(ops->session_find(st, digest, NULL, &got, &err));
    CHECK(got.user.password_change_required);

    /* Other writes keep it: an update of the fields, a rehash. */
    got = sc_get(t, st, 2);
    authkit__strlcpy(got.user.email, "plain2@example.com", sizeof got.user.email);
    got.user.updated_at = now + 2;
    CHECK_OK(ops->user_update(st, &got, false, NULL, &err));
    CHECK_OK(ops->user_rehash(st, got.user.id, SC_HASH_A, SC_HASH_C, &err));
    got = sc_get(t, st, 2);
    CHECK_STR(got.user.email, "plain2@example.com");
    CHECK_STR(got.password_hash, SC_HASH_C);
    CHECK(got.user.password_change_required);
    /* A new password clears it, also the removal of the password. */
    CHECK_OK(ops->user_set_password(st, got.user.id, SC_HASH_B, now + 3, NULL, &err));
    CHECK(!sc_get(t, st, 2).user.password_change_required);
    CHECK_OK(ops->user_set_password(st, "00000000-0000-4000-8000-000000000001", "", now + 3, NULL,
                                    &err));
    CHECK(!sc_get(t, st, 1).user.password_change_required);

    ended = 99;
    CHECK_STATUS(ops->user_require_password_change(st, "00000000-0000-4000-8000-000000000009", now,
                                                   &ended, &err),
                 AUTHKIT_NOT_FOUND);
    CHECK_INT(ended, 0);
    ops->close(st);
}

static void sc_test_rehash(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    const char *id = "00000000-0000-4000-8000-000000000001";
    sc_add_user(t, st, 1, "one@example.com", "one", SC_T0);
    sc_add_session(t, st, 1, 1, SC_T0, SC_T0 + SC_HOUR);

    static const struct {
        const char *old_hash, *new_hash, *stored_after;
    } cases[] = {
        {SC_HASH_B, SC_HASH_C, SC_HASH_A}, /* a concurrent change won: nothing replaced */
        {SC_HASH_A, SC_HASH_C, SC_HASH_C}, /* still the old one: replaced */
        {SC_HASH_A, SC_HASH_B, SC_HASH_C}, /* stale again */
        {"", SC_HASH_B, SC_HASH_C},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        authkit_status s = ops->user_rehash(st, id, cases[i].old_hash, cases[i].new_hash, &err);
        CHECK_MSG(s == AUTHKIT_OK, "[%s] rehash case %zu: %s", t->label, i, authkit_status_name(s));
        struct authkit_store_user got = sc_get(t, st, 1);
        CHECK_MSG(strcmp(got.password_hash, cases[i].stored_after) == 0,
                  "[%s] rehash case %zu: hash %s", t->label, i, got.password_hash);
        /* Touches no other column, ends no session. */
        CHECK_MSG(got.user.updated_at == SC_T0 && got.user.password_changed_at == SC_T0 &&
                      got.sessions_valid_after == 0,
                  "[%s] rehash case %zu: other columns changed", t->label, i);
        CHECK_MSG(sc_session_exists(t, st, 1), "[%s] rehash case %zu: session gone", t->label, i);
    }
    CHECK_OK(
        ops->user_rehash(st, "00000000-0000-4000-8000-000000000009", SC_HASH_A, SC_HASH_B, &err));
    ops->close(st);
}

static void sc_test_user_delete(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    size_t n = 99;
    const char *id = "00000000-0000-4000-8000-000000000001";
    sc_add_user(t, st, 1, "one@example.com", "one", SC_T0);
    sc_add_user(t, st, 2, "two@example.com", "two", SC_T0);
    sc_add_session(t, st, 1, 1, SC_T0, SC_T0 + SC_HOUR);
    sc_add_session(t, st, 2, 1, SC_T0, SC_T0 - 1); /* expired */
    sc_add_session(t, st, 3, 2, SC_T0, SC_T0 + SC_HOUR);

    CHECK_OK(ops->user_delete(st, id, &err));
    CHECK_STATUS(ops->user_get(st, AUTHKIT_USER_BY_ID, id, NULL, &err), AUTHKIT_NOT_FOUND);
    CHECK(!sc_session_exists(t, st, 1));
    CHECK(!sc_session_exists(t, st, 2));
    CHECK(sc_session_exists(t, st, 3));
    CHECK_OK(ops->session_delete_expired(st, SC_T0 + 10 * SC_HOUR, 100, &n, &err));
    CHECK_INT(n, 1); /* only session 3 was left */
    CHECK_STATUS(ops->user_delete(st, id, &err), AUTHKIT_NOT_FOUND);
    CHECK_INT(err.status, AUTHKIT_NOT_FOUND);
    CHECK_OK(ops->user_count(st, &n, &err));
    CHECK_INT(n, 1);

    /* The email and username are free again. */
    struct authkit_store_user again;
    sc_user(&again, 5, "one@example.com", "ONE", SC_T0 + 1);
    CHECK_OK(ops->user_insert(st, &again, &err));
    ops->close(st);
}

/* Users for the listing tests, inserted out of order; (created_at, id) order is
 * 2, 5, 3, 4, 6, 1, 7 (3 and 4 were created at the same instant). */
static const struct {
    int n;
    const char *email, *username;
    authkit_time created;
} sc_people[] = {
    {1, "alice@example.com", "alice", SC_T0 + 5},  {2, "bob@example.org", "Bob_Smith", SC_T0 + 1},
    {4, "dave@example.com", "daveXb", SC_T0 + 3},  {3, "carol%x@example.com", "carol", SC_T0 + 3},
    {5, "erin@example.net", "a_b", SC_T0 + 2},     {6, "frank@example.com", "axb", SC_T0 + 4},
    {7, "g\\h@example.com", "gh_user", SC_T0 + 6},
};

/* Compares the ids of `got[0..n)` with the user numbers in `want` (0-terminated). */
static void sc_check_users(const struct sc_target *t, const char *what, size_t row,
                           const authkit_user *got, size_t n, const int *want) {
    size_t expected = 0;
    while (want[expected])
        expected++;
    CHECK_MSG(n == expected, "[%s] %s row %zu: %zu users, expected %zu", t->label, what, row, n,
              expected);
    for (size_t i = 0; i < n && i < expected; i++) {
        char id[AUTHKIT_UUID_SIZE];
        sc_user_id(id, want[i]);
        CHECK_MSG(strcmp(got[i].id, id) == 0, "[%s] %s row %zu: #%zu is %s, expected user %d",
                  t->label, what, row, i, got[i].id, want[i]);
    }
}

static void sc_test_list_search_count(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    authkit_user out[16];
    size_t n = 99;

    CHECK_OK(ops->user_count(st, &n, &err));
    CHECK_INT(n, 0);
    CHECK_OK(ops->user_list(st, 0, out, 16, &n, &err));
    CHECK_INT(n, 0);
    for (size_t i = 0; i < sizeof sc_people / sizeof sc_people[0]; i++)
        sc_add_user(t, st, sc_people[i].n, sc_people[i].email, sc_people[i].username,
                    sc_people[i].created);
    CHECK_OK(ops->user_count(st, &n, &err));
    CHECK_INT(n, 7);

    static const struct {
        size_t offset, cap;
        int want[8];
    } lists[] = {
        {0, 16, {2, 5, 3, 4, 6, 1, 7, 0}},
        {0, 3, {2, 5, 3, 0}},
        {2, 3, {3, 4, 6, 0}},
        {6, 5, {7, 0}},
        {7, 5, {0}},
        {1000, 5, {0}},
        {0, 0, {0}},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        n = 99;
        authkit_status s = ops->user_list(st, lists[i].offset, out, lists[i].cap, &n, &err);
        CHECK_MSG(s == AUTHKIT_OK, "[%s] list row %zu: %s", t->label, i, err.message);
        sc_check_users(t, "list", i, out, n, lists[i].want);
    }
    CHECK_OK(ops->user_list(st, 0, out, 16, &n, &err));
    CHECK_STR(out[0].email, "bob@example.org");
    CHECK_STR(out[0].username, "Bob_Smith");
    CHECK(out[0].has_password);
    CHECK_INT(out[0].created_at, SC_T0 + 1);

    static const struct {
        const char *query;
        size_t cap;
        int want[8];
    } searches[] = {
        {"ALICE", 16, {1, 0}},
        {"alice", 16, {1, 0}},
        {"example.com", 16, {3, 4, 6, 1, 7, 0}},
        {"EXAMPLE.COM", 2, {3, 4, 0}},
        {"%", 16, {3, 0}},       /* literal, not a wildcard */
        {"_", 16, {2, 5, 7, 0}}, /* literal, not "any character" */
        {"a_b", 16, {5, 0}},     /* not "axb" */
        {"\\", 16, {7, 0}},      /* the escape character itself */
        {"\\h", 16, {7, 0}},
        {"XB", 16, {4, 6, 0}},
        {"bob_s", 16, {2, 0}},
        {"nobody", 16, {0}},
        {"%x@", 16, {3, 0}},
        {"", 16, {2, 5, 3, 4, 6, 1, 7, 0}},
        {"", 0, {0}},
    };
    for (size_t i = 0; i < sizeof searches / sizeof searches[0]; i++) {
        n = 99;
        authkit_status s = ops->user_search(st, searches[i].query, out, searches[i].cap, &n, &err);
        CHECK_MSG(s == AUTHKIT_OK, "[%s] search row %zu (%s): %s", t->label, i, searches[i].query,
                  err.message);
        sc_check_users(t, "search", i, out, n, searches[i].want);
    }
    ops->close(st);
}

/* ---- sessions ---------------------------------------------------------------------- */

static void sc_test_sessions(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    struct authkit_store_session s, got;
    struct authkit_store_user user;
    uint8_t digest[AUTHKIT_DIGEST_BYTES];
    size_t n = 99;
    const char *u1 = "00000000-0000-4000-8000-000000000001";
    const char *u2 = "00000000-0000-4000-8000-000000000002";
    authkit_time now = SC_T0 + 100;

    sc_add_user(t, st, 1, "one@example.com", "One", SC_T0);
    sc_add_user(t, st, 2, "two@example.com", "two", SC_T0);

    /* Insert and find, with the joined user. */
    sc_session(&s, 1, 1, SC_T0, SC_T0 + SC_HOUR);
    s.info.last_seen_at = SC_T0 + 3;
    CHECK_OK(ops->session_insert(st, &s, &err));
    memset(&got, 0x5a, sizeof got);
    memset(&user, 0x5a, sizeof user);
    CHECK_OK(ops->session_find(st, s.token_digest, &got, &user, &err));
    CHECK_STR(got.info.id, s.info.id);
    CHECK_STR(got.info.user_id, u1);
    CHECK_INT(got.info.created_at, SC_T0);
    CHECK_INT(got.info.expires_at, SC_T0 + SC_HOUR);
    CHECK_INT(got.info.last_seen_at, SC_T0 + 3);
    CHECK_STR(got.info.ip, "192.0.2.7");
    CHECK_STR(got.info.user_agent, "conformance/1.0");
    CHECK(memcmp(got.token_digest, s.token_digest, AUTHKIT_DIGEST_BYTES) == 0);
    CHECK_STR(user.user.id, u1);
    CHECK_STR(user.user.email, "one@example.com");
    CHECK_STR(user.user.username, "One");
    CHECK_STR(user.user.global_role, "user");
    CHECK_STR(user.password_hash, SC_HASH_A);
    CHECK(user.user.is_active);
    CHECK(user.user.has_password);
    CHECK_INT(user.sessions_valid_after, 0);

    /* Without ip and user agent. */
    sc_session(&s, 2, 2, SC_T0, SC_T0 + SC_HOUR);
    s.info.ip[0] = '\0';
    s.info.user_agent[0] = '\0';
    CHECK_OK(ops->session_insert(st, &s, &err));
    CHECK_OK(ops->session_find(st, s.token_digest, &got, &user, &err));
    CHECK_STR(got.info.ip, "");
    CHECK_STR(got.info.user_agent, "");
    CHECK_STR(user.user.id, u2);

    /* The store does not judge expiry: an expired session is still found. */
    sc_session(&s, 3, 1, SC_T0 - 2 * SC_HOUR, SC_T0 - SC_HOUR);
    CHECK_OK(ops->session_insert(st, &s, &err));
    CHECK_OK(ops->session_find(st, s.token_digest, &got, NULL, &err));
    CHECK_STR(got.info.id, s.info.id);

    sc_digest(digest, 999);
    CHECK_STATUS(ops->session_find(st, digest, &got, &user, &err), AUTHKIT_NOT_FOUND);
    CHECK_INT(err.status, AUTHKIT_NOT_FOUND);

    /* Insert failures: same digest, same id, unknown user. */
    sc_session(&s, 4, 1, SC_T0, SC_T0 + SC_HOUR);
    sc_digest(s.token_digest, 1);
    CHECK_STATUS(ops->session_insert(st, &s, &err), AUTHKIT_CONFLICT);
    sc_session(&s, 1, 1, SC_T0, SC_T0 + SC_HOUR);
    sc_digest(s.token_digest, 4);
    CHECK_STATUS(ops->session_insert(st, &s, &err), AUTHKIT_CONFLICT);
    sc_session(&s, 4, 9, SC_T0, SC_T0 + SC_HOUR);
    CHECK_STATUS(ops->session_insert(st, &s, &err), AUTHKIT_NOT_FOUND);
    CHECK(!sc_session_exists(t, st, 4));

    /* Delete by digest returns the row; a second delete finds nothing. */
    sc_digest(digest, 1);
    memset(&got, 0, sizeof got);
    CHECK_OK(ops->session_delete(st, digest, &got, &err));
    CHECK_STR(got.info.id, "10000000-0000-4000-8000-000000000001");
    CHECK_STR(got.info.user_id, u1);
    CHECK_INT(got.info.expires_at, SC_T0 + SC_HOUR);
    CHECK_STR(got.info.ip, "192.0.2.7");
    CHECK(memcmp(got.token_digest, digest, AUTHKIT_DIGEST_BYTES) == 0);
    CHECK_STATUS(ops->session_delete(st, digest, &got, &err), AUTHKIT_NOT_FOUND);
    CHECK_STATUS(ops->session_find(st, digest, NULL, NULL, &err), AUTHKIT_NOT_FOUND);
    sc_digest(digest, 2);
    CHECK_OK(ops->session_delete(st, digest, NULL, &err));
    CHECK_STATUS(ops->session_delete(st, digest, NULL, &err), AUTHKIT_NOT_FOUND);

    /* Delete by id only for its own user. */
    sc_add_session(t, st, 5, 1, SC_T0, SC_T0 + SC_HOUR);
    const char *id5 = "10000000-0000-4000-8000-000000000005";
    CHECK_STATUS(ops->session_delete_id(st, u2, id5, &err), AUTHKIT_NOT_FOUND);
    CHECK(sc_session_exists(t, st, 5));
    CHECK_STATUS(ops->session_delete_id(st, u1, "10000000-0000-4000-8000-000000000099", &err),
                 AUTHKIT_NOT_FOUND);
    CHECK_OK(ops->session_delete_id(st, u1, id5, &err));
    CHECK(!sc_session_exists(t, st, 5));
    CHECK_STATUS(ops->session_delete_id(st, u1, id5, &err), AUTHKIT_NOT_FOUND);

    /* Listing: live only (expires_at > now), newest first. Session 3 is long expired. */
    sc_add_session(t, st, 10, 1, SC_T0, SC_T0 + SC_HOUR);
    sc_add_session(t, st, 11, 1, SC_T0 + 10, SC_T0 + 10); /* expired */
    sc_add_session(t, st, 12, 1, SC_T0 + 20, SC_T0 + 2 * SC_HOUR);
    sc_add_session(t, st, 13, 1, SC_T0 + 30, now); /* expires exactly now */
    sc_add_session(t, st, 14, 1, SC_T0 + 40, now + 1);
    sc_add_session(t, st, 15, 2, SC_T0 + 50, SC_T0 + SC_HOUR); /* another user's */
    static const struct {
        size_t cap;
        int want[6];
    } lists[] = {
        {10, {14, 12, 10, 0}},
        {2, {14, 12, 0}},
        {0, {0}},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        authkit_session_info out[10];
        n = 99;
        CHECK_OK(ops->session_list(st, u1, now, out, lists[i].cap, &n, &err));
        size_t expected = 0;
        while (lists[i].want[expected])
            expected++;
        CHECK_MSG(n == expected, "[%s] session list row %zu: %zu sessions", t->label, i, n);
        for (size_t k = 0; k < n && k < expected; k++) {
            char id[AUTHKIT_UUID_SIZE];
            snprintf(id, sizeof id, "10000000-0000-4000-8000-%012d", lists[i].want[k]);
            CHECK_MSG(strcmp(out[k].id, id) == 0, "[%s] session list row %zu: #%zu is %s", t->label,
                      i, k, out[k].id);
            CHECK_MSG(strcmp(out[k].user_id, u1) == 0 && strcmp(out[k].ip, "192.0.2.7") == 0,
                      "[%s] session list row %zu: #%zu fields", t->label, i, k);
        }
    }
    authkit_session_info none[2];
    CHECK_OK(ops->session_list(st, "00000000-0000-4000-8000-000000000009", now, none, 2, &n, &err));
    CHECK_INT(n, 0);

    /* Counting: live sessions of every user. */
    CHECK_OK(ops->session_count(st, now, &n, &err));
    CHECK_INT(n, 4); /* 10, 12, 14, 15 */
    CHECK_OK(ops->session_count(st, SC_T0 - 100 * SC_HOUR, &n, &err));
    CHECK_INT(n, 7); /* every stored session */

    /* Ending every session of a user. */
    size_t ended = 99;
    CHECK_OK(ops->user_end_sessions(st, u1, now, &ended, &err));
    CHECK_INT(ended, 6); /* 3, 10, 11, 12, 13, 14 */
    CHECK_INT(sc_get(t, st, 1).sessions_valid_after, now);
    CHECK_INT(sc_get(t, st, 1).user.updated_at, SC_T0);
    CHECK(sc_session_exists(t, st, 15));
    CHECK_OK(ops->user_end_sessions(st, u1, now + 1, &ended, &err));
    CHECK_INT(ended, 0);
    CHECK_INT(sc_get(t, st, 1).sessions_valid_after, now + 1);
    ended = 99;
    CHECK_STATUS(
        ops->user_end_sessions(st, "00000000-0000-4000-8000-000000000009", now, &ended, &err),
        AUTHKIT_NOT_FOUND);
    CHECK_INT(ended, 0);
    ops->close(st);
}

static void sc_test_delete_expired(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    authkit_time now = SC_T0 + SC_HOUR;
    size_t n = 99;
    sc_add_user(t, st, 1, "one@example.com", "one", SC_T0);
    CHECK_OK(ops->session_delete_expired(st, now, 1000, &n, &err));
    CHECK_INT(n, 0);
    for (int i = 0; i < 2500; i++)
        if (sc_add_session(t, st, 100000 + i, 1, SC_T0, i == 0 ? now : SC_T0 + i) != AUTHKIT_OK)
            break;
    for (int i = 0; i < 10; i++)
        sc_add_session(t, st, 200000 + i, 1, SC_T0, now + 1 + i);

    static const size_t want[] = {1000, 1000, 500, 0, 0};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        n = 99;
        authkit_status s = ops->session_delete_expired(st, now, 1000, &n, &err);
        CHECK_MSG(s == AUTHKIT_OK, "[%s] delete_expired call %zu: %s", t->label, i, err.message);
        CHECK_MSG(n == want[i], "[%s] delete_expired call %zu: %zu deleted, expected %zu", t->label,
                  i, n, want[i]);
    }
    CHECK_OK(ops->session_count(st, now, &n, &err));
    CHECK_INT(n, 10);
    CHECK_OK(ops->session_count(st, 0, &n, &err));
    CHECK_INT(n, 10); /* nothing expired is left */
    for (int i = 0; i < 10; i++)
        CHECK_MSG(sc_session_exists(t, st, 200000 + i), "[%s] live session %d gone", t->label, i);
    CHECK_OK(ops->session_delete_expired(st, now, 0, &n, &err));
    CHECK_INT(n, 0);
    CHECK_OK(ops->session_delete_expired(st, now + 100, 3, &n, &err));
    CHECK_INT(n, 3);
    CHECK_OK(ops->session_delete_expired(st, now + 100, (size_t)-1, &n, &err));
    CHECK_INT(n, 7);
    ops->close(st);
}

/* Input the core never produces but that reaches the store from outside (a login name, an
 * id from a URL path, a User-Agent header): every adapter answers alike. Ids match only
 * in their canonical lower-case form; text that is not UTF-8 matches nothing and is never
 * an error; case is folded for ASCII letters only (the Kelvin sign is not a "k"); an ip or
 * user agent that is not UTF-8 does not make a login fail. */
static void sc_test_odd_input(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    struct authkit_store_user row, got;
    size_t n = 99;
    const char *id = "0000abcd-0000-4000-8000-00000000000f";
    sc_user(&row, 1, "jos\xc3\xa9@example.com", "Jose_1", SC_T0);
    authkit__strlcpy(row.user.id, id, sizeof row.user.id);
    CHECK_OK(ops->user_insert(st, &row, &err));
    sc_add_user(t, st, 2, "kelvin@example.com", "kelvin", SC_T0 + 1);

    static const struct {
        enum authkit_user_key key;
        const char *value;
        authkit_status status;
    } gets[] = {
        {AUTHKIT_USER_BY_ID, "0000abcd-0000-4000-8000-00000000000f", AUTHKIT_OK},
        {AUTHKIT_USER_BY_ID, "0000ABCD-0000-4000-8000-00000000000F", AUTHKIT_NOT_FOUND},
        {AUTHKIT_USER_BY_ID, "{0000abcd-0000-4000-8000-00000000000f}", AUTHKIT_NOT_FOUND},
        {AUTHKIT_USER_BY_ID, "0000abcd00004000800000000000000f", AUTHKIT_NOT_FOUND},
        {AUTHKIT_USER_BY_ID, "not-a-uuid", AUTHKIT_NOT_FOUND},
        {AUTHKIT_USER_BY_ID, "", AUTHKIT_NOT_FOUND},
        {AUTHKIT_USER_BY_EMAIL, "jos\xc3\xa9@example.com", AUTHKIT_OK},
        {AUTHKIT_USER_BY_EMAIL, "JOS\xc3\xa9@example.com", AUTHKIT_NOT_FOUND}, /* exact */
        {AUTHKIT_USER_BY_EMAIL, "jos\xc3", AUTHKIT_NOT_FOUND},
        {AUTHKIT_USER_BY_USERNAME, "JOSE_1", AUTHKIT_OK},
        {AUTHKIT_USER_BY_USERNAME, "\xff\xfe", AUTHKIT_NOT_FOUND},
        {AUTHKIT_USER_BY_USERNAME,
         "\xe2\x84\xaa"
         "elvin",
         AUTHKIT_NOT_FOUND}, /* Kelvin sign */
        {AUTHKIT_USER_BY_USERNAME, "KELVIN", AUTHKIT_OK},
    };
    for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++) {
        authkit_status s = ops->user_get(st, gets[i].key, gets[i].value, &got, &err);
        CHECK_MSG(s == gets[i].status, "[%s] odd get row %zu: %s (%s)", t->label, i,
                  authkit_status_name(s), err.message);
    }

    static const struct {
        const char *query;
        int want; /* 1: the user with the odd id, 2: kelvin, 0: nobody */
    } searches[] = {
        {"jos\xc3\xa9", 1}, {"JOS", 1},          {"JOS\xc3\x89", 0},
        {"\xff", 0},        {"\xe2\x84\xaa", 0}, {"KELV", 2},
    };
    for (size_t i = 0; i < sizeof searches / sizeof searches[0]; i++) {
        authkit_user out[4];
        n = 99;
        authkit_status s = ops->user_search(st, searches[i].query, out, 4, &n, &err);
        CHECK_MSG(s == AUTHKIT_OK, "[%s] odd search row %zu: %s", t->label, i, err.message);
        const char *want = searches[i].want == 1   ? id
                           : searches[i].want == 2 ? "00000000-0000-4000-8000-000000000002"
                                                   : NULL;
        CHECK_MSG(want ? n == 1 && strcmp(out[0].id, want) == 0 : n == 0,
                  "[%s] odd search row %zu: %zu users", t->label, i, n);
    }

    /* Writes by a non-canonical id find nothing and change nothing. */
    const char *upper = "0000ABCD-0000-4000-8000-00000000000F";
    struct authkit_store_session s;
    sc_session(&s, 1, 1, SC_T0, SC_T0 + SC_HOUR);
    authkit__strlcpy(s.info.user_id, id, sizeof s.info.user_id);
    CHECK_OK(ops->session_insert(st, &s, &err));
    sc_session(&s, 2, 1, SC_T0, SC_T0 + SC_HOUR);
    authkit__strlcpy(s.info.user_id, upper, sizeof s.info.user_id);
    CHECK_STATUS(ops->session_insert(st, &s, &err), AUTHKIT_NOT_FOUND);
    CHECK_STR(err.field, "user_id");
    size_t ended = 99;
    CHECK_STATUS(ops->user_end_sessions(st, upper, SC_T0 + 5, &ended, &err), AUTHKIT_NOT_FOUND);
    CHECK_STATUS(ops->user_set_password(st, upper, SC_HASH_B, SC_T0 + 5, &ended, &err),
                 AUTHKIT_NOT_FOUND);
    CHECK_OK(ops->user_rehash(st, upper, SC_HASH_A, SC_HASH_B, &err));
    CHECK_STATUS(ops->session_delete_id(st, upper, "10000000-0000-4000-8000-000000000001", &err),
                 AUTHKIT_NOT_FOUND);
    authkit_session_info list[2];
    CHECK_OK(ops->session_list(st, upper, SC_T0, list, 2, &n, &err));
    CHECK_INT(n, 0);
    CHECK_STATUS(ops->user_delete(st, upper, &err), AUTHKIT_NOT_FOUND);
    CHECK(sc_session_exists(t, st, 1));
    CHECK_STR(sc_get(t, st, 2).password_hash, SC_HASH_A);
    CHECK_OK(ops->user_get(st, AUTHKIT_USER_BY_ID, id, &got, &err));
    CHECK_STR(got.password_hash, SC_HASH_A);
    CHECK_INT(got.sessions_valid_after, 0);

    ops->close(st);
}

static void sc_test_reopen(const struct sc_target *t) {
    if (!t->persistent)
        return;
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    sc_add_user(t, st, 1, "one@example.com", "One", SC_T0);
    sc_add_session(t, st, 1, 1, SC_T0, SC_T0 + SC_HOUR);
    ops->close(st);

    st = NULL;
    CHECK_OK(ops->open(loc, &st, &err));
    if (!st)
        return;
    struct authkit_store_user u;
    CHECK_OK(ops->user_get(st, AUTHKIT_USER_BY_USERNAME, "one", &u, &err));
    CHECK_STR(u.password_hash, SC_HASH_A);
    CHECK(sc_session_exists(t, st, 1));
    /* The unique constraints are still there. */
    struct authkit_store_user dup;
    sc_user(&dup, 2, "one@example.com", "other", SC_T0);
    CHECK_STATUS(ops->user_insert(st, &dup, &err), AUTHKIT_CONFLICT);
    CHECK_STR(err.field, "email");
    ops->close(st);
}

/* ---- concurrency ------------------------------------------------------------------- */

#define SC_THREADS 8
#define SC_OPS     500

struct sc_worker {
    const struct authkit_store_ops *ops;
    void *st;
    int index;
    int failures;
    int deleted;
    char first_error[320];
};

static void sc_worker_fail(struct sc_worker *w, int i, const char *what, const authkit_error *err) {
    if (w->failures++ == 0)
        snprintf(w->first_error, sizeof w->first_error, "op %d %s: %s", i, what, err->message);
}

/* Insert, find, delete: SC_OPS times, each with its own session. */
static void *sc_worker_run(void *arg) {
    struct sc_worker *w = arg;
    authkit_error err;
    for (int i = 0; i < SC_OPS; i++) {
        struct authkit_store_session s, got;
        struct authkit_store_user user;
        int n = 1000000 + w->index * 10000 + i;
        sc_session(&s, n, 1 + w->index % 2, SC_T0, SC_T0 + SC_HOUR);
        if (w->ops->session_insert(w->st, &s, &err) != AUTHKIT_OK) {
            sc_worker_fail(w, i, "insert", &err);
            continue;
        }
        if (w->ops->session_find(w->st, s.token_digest, &got, &user, &err) != AUTHKIT_OK)
            sc_worker_fail(w, i, "find", &err);
        else if (strcmp(got.info.id, s.info.id) != 0 || strcmp(user.user.id, s.info.user_id) != 0)
            sc_worker_fail(w, i, "find returned another row", &err);
        if (w->ops->session_delete(w->st, s.token_digest, &got, &err) != AUTHKIT_OK)
            sc_worker_fail(w, i, "delete", &err);
        else if (strcmp(got.info.id, s.info.id) != 0)
            sc_worker_fail(w, i, "delete returned another row", &err);
    }
    return NULL;
}

/* Every thread tries to delete the same sessions: each must be deleted exactly once. */
static void *sc_racer_run(void *arg) {
    struct sc_worker *w = arg;
    authkit_error err;
    for (int i = 0; i < SC_OPS; i++) {
        uint8_t digest[AUTHKIT_DIGEST_BYTES];
        sc_digest(digest, 2000000 + i);
        authkit_status s = w->ops->session_delete(w->st, digest, NULL, &err);
        if (s == AUTHKIT_OK)
            w->deleted++;
        else if (s != AUTHKIT_NOT_FOUND)
            sc_worker_fail(w, i, "racing delete", &err);
    }
    return NULL;
}

static void sc_run_threads(const struct sc_target *t, void *st, void *(*fn)(void *),
                           struct sc_worker *w) {
    pthread_t threads[SC_THREADS];
    bool started[SC_THREADS];
    for (int i = 0; i < SC_THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].ops = t->ops;
        w[i].st = st;
        w[i].index = i;
        started[i] = pthread_create(&threads[i], NULL, fn, &w[i]) == 0;
        CHECK_MSG(started[i], "[%s] thread %d did not start", t->label, i);
    }
    for (int i = 0; i < SC_THREADS; i++) {
        if (started[i])
            pthread_join(threads[i], NULL);
        CHECK_MSG(w[i].failures == 0, "[%s] thread %d: %d failures, first: %s", t->label, i,
                  w[i].failures, w[i].first_error);
    }
}

static void sc_test_concurrency(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    struct sc_worker w[SC_THREADS];
    size_t n = 99;
    sc_add_user(t, st, 1, "one@example.com", "one", SC_T0);
    sc_add_user(t, st, 2, "two@example.com", "two", SC_T0);

    sc_run_threads(t, st, sc_worker_run, w);
    CHECK_OK(ops->session_count(st, SC_T0, &n, &err));
    CHECK_INT(n, 0);

    for (int i = 0; i < SC_OPS; i++)
        sc_add_session(t, st, 2000000 + i, 1, SC_T0, SC_T0 + SC_HOUR);
    sc_run_threads(t, st, sc_racer_run, w);
    int deleted = 0;
    for (int i = 0; i < SC_THREADS; i++)
        deleted += w[i].deleted;
    CHECK_INT(deleted, SC_OPS);
    CHECK_OK(ops->session_count(st, SC_T0, &n, &err));
    CHECK_INT(n, 0);
    CHECK_OK(ops->user_count(st, &n, &err));
    CHECK_INT(n, 2);
    ops->close(st);
}

/* ---- session control ------------------------------------------------------------------ */

static void sc_test_session_control(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    struct authkit_store_session got;
    uint8_t digest[AUTHKIT_DIGEST_BYTES];
    size_t n = 99;
    sc_add_user(t, st, 1, "one@example.com", "one", SC_T0);
    sc_add_user(t, st, 2, "two@example.com", "two", SC_T0);
    /* Sessions 1..5 of user 1, one a second apart; 6 of user 2. */
    for (int i = 1; i <= 5; i++)
        sc_add_session(t, st, i, 1, SC_T0 + i * SC_SEC, SC_T0 + SC_HOUR);
    sc_add_session(t, st, 6, 2, SC_T0, SC_T0 + SC_HOUR);

    /* touch: forward only; an unknown digest is not an error. */
    sc_digest(digest, 1);
    CHECK_OK(ops->session_touch(st, digest, SC_T0 + 100 * SC_SEC, &err));
    CHECK_OK(ops->session_find(st, digest, &got, NULL, &err));
    CHECK_INT(got.info.last_seen_at, SC_T0 + 100 * SC_SEC);
    CHECK_OK(ops->session_touch(st, digest, SC_T0 + 50 * SC_SEC, &err));
    CHECK_OK(ops->session_find(st, digest, &got, NULL, &err));
    CHECK_INT(got.info.last_seen_at, SC_T0 + 100 * SC_SEC);
    CHECK_INT(got.info.created_at, SC_T0 + SC_SEC);
    sc_digest(digest, 999);
    CHECK_OK(ops->session_touch(st, digest, SC_T0, &err));

    /* evict: the kept one and the newest `others` of the rest stay, whatever their last
     * use; the kept one even when it is not among the newest. */
    const char *user1 = "00000000-0000-4000-8000-000000000001";
    CHECK_OK(ops->session_evict(st, user1, "10000000-0000-4000-8000-000000000001", 2, &n, &err));
    CHECK_INT(n, 2);
    CHECK(sc_session_exists(t, st, 1) && !sc_session_exists(t, st, 2));
    CHECK(!sc_session_exists(t, st, 3) && sc_session_exists(t, st, 4));
    CHECK(sc_session_exists(t, st, 5) && sc_session_exists(t, st, 6));
    CHECK_OK(ops->session_evict(st, user1, "10000000-0000-4000-8000-000000000001", 2, &n, &err));
    CHECK_INT(n, 0);
    CHECK_OK(ops->session_evict(st, user1, "10000000-0000-4000-8000-000000000005", 0, &n, &err));
    CHECK_INT(n, 2);
    CHECK(sc_session_exists(t, st, 5) && !sc_session_exists(t, st, 1));
    sc_add_session(t, st, 3, 1, SC_T0 + 3 * SC_SEC, SC_T0 + SC_HOUR);
    sc_add_session(t, st, 4, 1, SC_T0 + 4 * SC_SEC, SC_T0 + SC_HOUR);
    CHECK_OK(ops->session_evict(st, "not-a-uuid", "x", 1, &n, &err));
    CHECK_INT(n, 0);

    /* delete_others: all of the user's but one; other users untouched. */
    CHECK_OK(ops->session_delete_others(st, "00000000-0000-4000-8000-000000000001",
                                        "10000000-0000-4000-8000-000000000004", &n, &err));
    CHECK_INT(n, 2);
    CHECK(sc_session_exists(t, st, 4) && !sc_session_exists(t, st, 3));
    CHECK(!sc_session_exists(t, st, 5) && sc_session_exists(t, st, 6));
    CHECK_OK(ops->session_delete_others(st, "00000000-0000-4000-8000-000000000001", "x", &n, &err));
    CHECK_INT(n, 1);
    CHECK(!sc_session_exists(t, st, 4) && sc_session_exists(t, st, 6));

    /* sessions_end_all: every session of every user, and every user's valid-after. */
    sc_add_session(t, st, 7, 1, SC_T0, SC_T0 + SC_HOUR);
    CHECK_OK(ops->sessions_end_all(st, SC_T0 + 5 * SC_SEC, &n, &err));
    CHECK_INT(n, 2);
    CHECK(!sc_session_exists(t, st, 6) && !sc_session_exists(t, st, 7));
    CHECK_INT(sc_get(t, st, 1).sessions_valid_after, SC_T0 + 5 * SC_SEC);
    CHECK_INT(sc_get(t, st, 2).sessions_valid_after, SC_T0 + 5 * SC_SEC);
    CHECK_OK(ops->sessions_end_all(st, SC_T0 + 6 * SC_SEC, &n, &err));
    CHECK_INT(n, 0);
    ops->close(st);
}

/* ---- login throttling ---------------------------------------------------------------- */

/* A key numbered `n` whose rule admits `free` attempts, then waits 1 s, 2 s, ... up to
 * an hour. */
static struct authkit_store_throttle_key sc_throttle_key(int n, int64_t free, bool reset) {
    struct authkit_store_throttle_key k;
    memset(&k, 0, sizeof k);
    sc_digest(k.id, 3000000 + n);
    k.rule = (struct authkit__throttle_rule){.free = free,
                                             .base = SC_SEC,
                                             .max = SC_HOUR,
                                             .forget = 24 * SC_HOUR,
                                             .reset_on_success = reset};
    return k;
}

static void sc_test_throttle(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    authkit_time until = 1;
    struct authkit_store_throttle_key k[3] = {
        sc_throttle_key(1, 2, true), sc_throttle_key(2, 3, false), sc_throttle_key(3, 100, true)};
    /* Two free attempts, then the third is admitted and sets a 1 s block on key 1. */
    for (int i = 0; i < 3; i++) {
        CHECK_MSG(ops->throttle_attempt(st, k, 3, SC_T0, &until, &err) == AUTHKIT_OK,
                  "[%s] attempt %d: %s", t->label, i, err.message);
        CHECK_INT(until, 0);
    }
    CHECK_INT(ops->throttle_attempt(st, k, 3, SC_T0 + SC_SEC / 2, &until, &err),
              AUTHKIT_RATE_LIMITED);
    CHECK_INT(until, SC_T0 + SC_SEC);
    /* A refused attempt writes nothing: key 2 (free 3) still admits one more free try. */
    CHECK_OK(ops->throttle_attempt(st, &k[1], 1, SC_T0, &until, &err));
    CHECK_INT(ops->throttle_attempt(st, &k[1], 1, SC_T0, &until, &err), AUTHKIT_RATE_LIMITED);
    CHECK_INT(until, SC_T0 + SC_SEC);
    /* After the block: admitted again, and the next block is twice as long. */
    CHECK_OK(ops->throttle_attempt(st, k, 1, SC_T0 + SC_SEC, &until, &err));
    CHECK_INT(ops->throttle_attempt(st, k, 1, SC_T0 + SC_SEC, &until, &err), AUTHKIT_RATE_LIMITED);
    CHECK_INT(until, SC_T0 + 3 * SC_SEC);
    /* Success forgives key 1 (reset) and takes one count off key 2 (4 -> 3 = free). */
    CHECK_OK(ops->throttle_success(st, k, 3, &err));
    CHECK_OK(ops->throttle_attempt(st, k, 2, SC_T0 + SC_SEC, &until, &err));
    /* Key 2 was back at its free count, so this attempt (its 4th) blocks the next. */
    CHECK_INT(ops->throttle_attempt(st, &k[1], 1, SC_T0 + SC_SEC, &until, &err),
              AUTHKIT_RATE_LIMITED);
    /* clear: forgets one counter; a second clear finds nothing. */
    bool found = false;
    CHECK_OK(ops->throttle_clear(st, k[1].id, &found, &err));
    CHECK(found);
    CHECK_OK(ops->throttle_clear(st, k[1].id, &found, &err));
    CHECK(!found);
    CHECK_OK(ops->throttle_attempt(st, &k[1], 1, SC_T0 + SC_SEC, &until, &err));
    /* prune: only counters that block nothing and were idle long enough. Key 3 was
     * forgiven by the success (its row is gone); keys 1 and 2 were last touched at
     * SC_T0 + 1 s. */
    size_t n = 99;
    CHECK_OK(ops->throttle_prune(st, SC_T0 + 10 * SC_SEC, SC_T0, 100, &n, &err));
    CHECK_INT(n, 0);
    CHECK_OK(ops->throttle_prune(st, SC_T0 + 10 * SC_SEC, SC_T0 + SC_SEC, 1, &n, &err));
    CHECK_INT(n, 1);
    CHECK_OK(ops->throttle_prune(st, SC_T0 + 10 * SC_SEC, SC_T0 + SC_SEC, 100, &n, &err));
    CHECK_INT(n, 1);
    CHECK_OK(ops->throttle_prune(st, SC_T0 + 10 * SC_SEC, SC_T0 + SC_SEC, 100, &n, &err));
    CHECK_INT(n, 0);
    /* A blocked counter is kept however old. */
    for (int i = 0; i < 3; i++)
        (void)ops->throttle_attempt(st, k, 1, SC_T0, &until, &err);
    CHECK_OK(ops->throttle_prune(st, SC_T0, SC_T0, 100, &n, &err));
    CHECK_INT(n, 0);
    ops->close(st);
}

/* SC_THREADS threads fire attempts at the same two keys at the same instant: only the
 * attempts the rule admits may pass, however they interleave (checklist 28). */
struct sc_throttler {
    const struct authkit_store_ops *ops;
    void *st;
    int admitted;
    int failures;
    char first_error[320];
};

static void *sc_throttler_run(void *arg) {
    struct sc_throttler *w = arg;
    struct authkit_store_throttle_key k[2] = {sc_throttle_key(10, 5, true),
                                              sc_throttle_key(11, 50, false)};
    authkit_error err;
    for (int i = 0; i < 40; i++) {
        authkit_time until;
        /* Alternate the key order: the adapter must not deadlock on it. */
        struct authkit_store_throttle_key pair[2] = {k[i % 2], k[1 - i % 2]};
        authkit_status s = w->ops->throttle_attempt(w->st, pair, 2, SC_T0, &until, &err);
        if (s == AUTHKIT_OK)
            w->admitted++;
        else if (s != AUTHKIT_RATE_LIMITED && w->failures++ == 0)
            snprintf(w->first_error, sizeof w->first_error, "%s", err.message);
    }
    return NULL;
}

static void sc_test_throttle_race(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    pthread_t threads[SC_THREADS];
    struct sc_throttler w[SC_THREADS];
    int admitted = 0;
    for (int i = 0; i < SC_THREADS; i++) {
        w[i] = (struct sc_throttler){.ops = t->ops, .st = st};
        CHECK(pthread_create(&threads[i], NULL, sc_throttler_run, &w[i]) == 0);
    }
    for (int i = 0; i < SC_THREADS; i++) {
        pthread_join(threads[i], NULL);
        CHECK_MSG(w[i].failures == 0, "[%s] throttle thread %d: %d failures, first: %s", t->label,
                  i, w[i].failures, w[i].first_error);
        admitted += w[i].admitted;
    }
    /* 5 free attempts, then the 6th is admitted and blocks every later one. */
    CHECK_MSG(admitted == 6, "[%s] %d of %d parallel attempts admitted, want 6", t->label, admitted,
              SC_THREADS * 40);
    t->ops->close(st);
}

/* ---- audit trail ------------------------------------------------------------------- */

/* An audit row at `at`; user and session numbered as sc_user_id / sc_session (0: none). */
static authkit_audit_entry sc_audit(authkit_time at, const char *event, const char *outcome,
                                    int user, int session) {
    authkit_audit_entry e;
    memset(&e, 0, sizeof e);
    e.time = at;
    authkit__strlcpy(e.event, event, sizeof e.event);
    authkit__strlcpy(e.outcome, outcome, sizeof e.outcome);
    if (user)
        sc_user_id(e.user_id, user);
    if (session)
        snprintf(e.session_id, sizeof e.session_id, "10000000-0000-4000-8000-%012d", session);
    return e;
}

/* The rows a query returns, as the indexes of `rows` they equal (by time and event and
 * outcome), checked in order against `want` (-1 ends it). */
static void sc_audit_expect(const struct sc_target *t, void *st, const char *what,
                            const struct authkit_store_audit_filter *f, size_t cap,
                            const authkit_audit_entry *rows, const int *want) {
    authkit_audit_entry got[16];
    authkit_error err;
    size_t n = 99, k = 0;
    memset(got, 0, sizeof got);
    authkit_status s = t->ops->audit_query(st, f, got, cap, &n, &err);
    CHECK_MSG(s == AUTHKIT_OK, "[%s] audit query %s: %s", t->label, what, err.message);
    for (; want[k] >= 0; k++) {
        const authkit_audit_entry *w = &rows[want[k]];
        CHECK_MSG(k < n && got[k].time == w->time && strcmp(got[k].event, w->event) == 0 &&
                      strcmp(got[k].outcome, w->outcome) == 0 &&
                      strcmp(got[k].login_hash, w->login_hash) == 0,
                  "[%s] audit query %s: row %zu is not row %d", t->label, what, k, want[k]);
    }
    CHECK_MSG(n == k, "[%s] audit query %s: %zu rows, expected %zu", t->label, what, n, k);
}

static void sc_test_audit(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    const struct authkit_store_ops *ops = t->ops;
    authkit_error err;
    authkit_audit_entry rows[6];
    rows[0] = sc_audit(SC_T0, "user_logged_in", "ok", 1, 1);
    authkit__strlcpy(rows[0].ip, "192.0.2.1", sizeof rows[0].ip);
    /* Same microsecond as row 0: written later, so newer. */
    rows[1] = sc_audit(SC_T0, "login_failed", "wrong_password", 1, 0);
    authkit__strlcpy(rows[1].login, "Alice", sizeof rows[1].login);
    authkit__strlcpy(rows[1].login_hash, "00112233445566778899aabbccddeeff",
                     sizeof rows[1].login_hash);
    authkit__strlcpy(rows[1].ip, "192.0.2.2", sizeof rows[1].ip);
    rows[2] = sc_audit(SC_T0 + SC_SEC, "login_failed", "unknown_login", 0, 0);
    authkit__strlcpy(rows[2].login_hash, "ffeeddccbbaa99887766554433221100",
                     sizeof rows[2].login_hash);
    authkit__strlcpy(rows[2].ip, "2001:db8::1", sizeof rows[2].ip);
    rows[3] = sc_audit(SC_T0 + 2 * SC_SEC, "sessions_revoked", "ok", 2, 0);
    rows[3].count = 3;
    rows[4] = sc_audit(SC_T0 + 3 * SC_SEC, "sessions_cleaned", "ok", 0, 0);
    rows[4].count = UINT64_C(1) << 40;
    rows[5] = sc_audit(SC_T0 + 4 * SC_SEC, "user_created", "ok", 2, 0);
    authkit__strlcpy(rows[5].login, "Zo\xc3\xab", sizeof rows[5].login);
    for (int i = 0; i < 6; i++)
        CHECK_MSG(ops->audit_insert(st, &rows[i], &err) == AUTHKIT_OK, "[%s] audit insert %d: %s",
                  t->label, i, err.message);

    /* Every field comes back as written; "" stays "" (stored as NULL). */
    authkit_audit_entry got[8];
    size_t n = 0;
    struct authkit_store_audit_filter all = {0};
    CHECK_OK(ops->audit_query(st, &all, got, 8, &n, &err));
    CHECK_INT(n, 6);
    const authkit_audit_entry *a = &got[4], *b = &got[3];
    CHECK_INT(a->time, SC_T0);
    CHECK_STR(a->event, "login_failed");
    CHECK_STR(a->outcome, "wrong_password");
    CHECK_STR(a->user_id, rows[1].user_id);
    CHECK_STR(a->session_id, "");
    CHECK_STR(a->login, "Alice");
    CHECK_STR(a->login_hash, rows[1].login_hash);
    CHECK_STR(a->ip, "192.0.2.2");
    CHECK_INT(a->count, 0);
    CHECK_STR(b->user_id, "");
    CHECK_STR(b->login, "");
    CHECK_STR(b->ip, "2001:db8::1");
    CHECK_STR(got[5].session_id, rows[0].session_id);
    CHECK_MSG(got[1].count == rows[4].count, "[%s] audit count %llu", t->label,
              (unsigned long long)got[1].count);
    CHECK_INT(got[2].count, 3);
    CHECK_STR(got[0].login, "Zo\xc3\xab");
    /* Ids are unique and grow in the order rows were written. */
    for (int i = 0; i < 5; i++)
        CHECK_MSG(got[i].id > got[i + 1].id, "[%s] audit ids %lld, %lld", t->label,
                  (long long)got[i].id, (long long)got[i + 1].id);

    char user1[AUTHKIT_UUID_SIZE], user3[AUTHKIT_UUID_SIZE];
    sc_user_id(user1, 1);
    sc_user_id(user3, 3);
    static const int newest[] = {5, 4, 3, 2, 1, 0, -1}, first2[] = {5, 4, -1},
                     by_user[] = {1, 0, -1}, failed[] = {2, 1, -1}, unknown[] = {2, -1},
                     by_hash[] = {1, -1}, since[] = {5, 4, 3, 2, -1}, until[] = {1, 0, -1},
                     window[] = {3, 2, -1}, none[] = {-1};
    struct authkit_store_audit_filter f = {0};
    sc_audit_expect(t, st, "all", &f, 16, rows, newest);
    sc_audit_expect(t, st, "limit", &f, 2, rows, first2);
    sc_audit_expect(t, st, "limit 0", &f, 0, rows, none);
    f.user_id = user1;
    sc_audit_expect(t, st, "user", &f, 16, rows, by_user);
    f.user_id = user3;
    sc_audit_expect(t, st, "other user", &f, 16, rows, none);
    f = (struct authkit_store_audit_filter){.event = "login_failed"};
    sc_audit_expect(t, st, "event", &f, 16, rows, failed);
    f.outcome = "unknown_login";
    sc_audit_expect(t, st, "event and outcome", &f, 16, rows, unknown);
    f = (struct authkit_store_audit_filter){.login_hash = rows[1].login_hash};
    sc_audit_expect(t, st, "login hash", &f, 16, rows, by_hash);
    f = (struct authkit_store_audit_filter){.since = SC_T0 + SC_SEC};
    sc_audit_expect(t, st, "since (inclusive)", &f, 16, rows, since);
    f = (struct authkit_store_audit_filter){.until = SC_T0 + SC_SEC};
    sc_audit_expect(t, st, "until (exclusive)", &f, 16, rows, until);
    f = (struct authkit_store_audit_filter){.since = SC_T0 + SC_SEC, .until = SC_T0 + 3 * SC_SEC};
    sc_audit_expect(t, st, "window", &f, 16, rows, window);
    f.user_id = user1;
    sc_audit_expect(t, st, "window and user", &f, 16, rows, none);

    /* Pruning: oldest first, at most a batch per call, only rows before the cut. */
    static const size_t cuts[][3] = {/* before (seconds after SC_T0), batch, expected */
                                     {1, 1, 1},  {1, 10, 1}, {1, 10, 0},
                                     {10, 3, 3}, {10, 3, 1}, {10, 3, 0}};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        n = 99;
        authkit_status s =
            ops->audit_prune(st, SC_T0 + (authkit_time)cuts[i][0] * SC_SEC, cuts[i][1], &n, &err);
        CHECK_MSG(s == AUTHKIT_OK && n == cuts[i][2],
                  "[%s] audit prune %zu: %s, %zu deleted, want %zu", t->label, i,
                  s == AUTHKIT_OK ? "ok" : err.message, n, cuts[i][2]);
        if (i == 2)
            sc_audit_expect(t, st, "after pruning", &all, 16, rows, since);
    }
    CHECK_OK(ops->audit_query(st, &all, got, 8, &n, &err));
    CHECK_INT(n, 0);
    CHECK_OK(ops->audit_prune(st, SC_T0, 0, &n, &err));
    CHECK_INT(n, 0);
    ops->close(st);
}

/* SC_THREADS threads append at once: every row is kept, every id distinct. */
struct sc_auditor {
    const struct authkit_store_ops *ops;
    void *st;
    int index;
    int failures;
    char first_error[320];
};

static void *sc_auditor_run(void *arg) {
    struct sc_auditor *w = arg;
    authkit_error err;
    for (int i = 0; i < 50; i++) {
        authkit_audit_entry e = sc_audit(SC_T0 + i, "user_logged_in", "ok", 1 + w->index, 0);
        if (w->ops->audit_insert(w->st, &e, &err) != AUTHKIT_OK && w->failures++ == 0)
            snprintf(w->first_error, sizeof w->first_error, "%s", err.message);
    }
    return NULL;
}

static void sc_test_audit_concurrency(const struct sc_target *t) {
    char loc[512];
    void *st = sc_open(t, loc, sizeof loc);
    if (!st)
        return;
    pthread_t threads[SC_THREADS];
    struct sc_auditor w[SC_THREADS];
    for (int i = 0; i < SC_THREADS; i++) {
        w[i] = (struct sc_auditor){.ops = t->ops, .st = st, .index = i};
        CHECK(pthread_create(&threads[i], NULL, sc_auditor_run, &w[i]) == 0);
    }
    for (int i = 0; i < SC_THREADS; i++) {
        pthread_join(threads[i], NULL);
        CHECK_MSG(w[i].failures == 0, "[%s] audit thread %d: %d failures, first: %s", t->label, i,
                  w[i].failures, w[i].first_error);
    }
    size_t cap = SC_THREADS * 50 + 1, n = 0;
    authkit_audit_entry *got = calloc(cap, sizeof *got);
    struct authkit_store_audit_filter all = {0};
    authkit_error err;
    CHECK(got != NULL);
    if (got) {
        CHECK_OK(t->ops->audit_query(st, &all, got, cap, &n, &err));
        CHECK_INT(n, SC_THREADS * 50);
        for (size_t i = 1; i < n; i++)
            CHECK_MSG(got[i - 1].time > got[i].time ||
                          (got[i - 1].time == got[i].time && got[i - 1].id > got[i].id),
                      "[%s] audit rows %zu and %zu out of order", t->label, i - 1, i);
    }
    free(got);
    t->ops->close(st);
}

/* ---- the suite --------------------------------------------------------------------- */

static void sc_run(const struct sc_target *t) {
    CHECK_INT(t->ops->version, AUTHKIT_STORE_OPS_VERSION);
    CHECK(t->ops->name != NULL);
    sc_test_user_insert_get(t);
    sc_test_user_update(t);
    sc_test_set_password(t);
    sc_test_require_password_change(t);
    sc_test_rehash(t);
    sc_test_user_delete(t);
    sc_test_list_search_count(t);
    sc_test_sessions(t);
    sc_test_delete_expired(t);
    sc_test_odd_input(t);
    sc_test_reopen(t);
    sc_test_concurrency(t);
    sc_test_throttle(t);
    sc_test_throttle_race(t);
    sc_test_session_control(t);
    sc_test_audit(t);
    sc_test_audit_concurrency(t);
}

#endif
