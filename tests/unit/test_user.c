/* User kit: creation and its validation, the stored hash, look-ups, updates, passwords,
 * deletion, listing, search, roles and argument checks. Each group runs on a fresh SQLite
 * file (tests/support/fixture.h) and records the events it causes. */
#include <regex.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "password/bcrypt.h"

#define VECTOR_HASH     "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
#define VECTOR_PASSWORD "U*U"
#define HASH_PATTERN    "^\\$2b\\$04\\$[./A-Za-z0-9]{53}$"
#define UNKNOWN_ID      "00000000-0000-4000-8000-000000000000"
#define INJECTION       "' OR '1'='1' --"

static struct fixture fx;

/* What the event subscriber saw, per type: how many, and the last one's fields. */
struct seen_type {
    size_t n;
    char user_id[AUTHKIT_UUID_SIZE];
    unsigned fields_changed;
    size_t count;
    authkit_time timestamp;
};
static struct seen_type seen[AUTHKIT_EVENT_COUNT_];

static int on_event(const authkit_event *ev, void *arg) {
    (void)arg;
    if ((unsigned)ev->type >= AUTHKIT_EVENT_COUNT_ || ev->type == AUTHKIT_EVENT_ALL)
        return 1;
    struct seen_type *s = &seen[ev->type];
    s->n++;
    snprintf(s->user_id, sizeof s->user_id, "%s", ev->user_id ? ev->user_id : "");
    s->fields_changed = ev->fields_changed;
    s->count = ev->count;
    s->timestamp = ev->timestamp;
    return 0;
}

static void group_begin(void) {
    memset(seen, 0, sizeof seen);
    fixture_setup(&fx);
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_ALL, on_event, NULL, NULL));
}

static void group_end(void) {
    fixture_teardown(&fx);
}

static size_t n_events(authkit_event_type type) {
    return seen[type].n;
}

static size_t n_users(void) {
    size_t n = (size_t)-1;
    CHECK_OK(authkit_user_count(fx.ctx, &n, NULL));
    return n;
}

static authkit_status create(const char *email, const char *username, const char *password,
                             authkit_user *out, authkit_error *err) {
    authkit_user_new in = {.email = email,
                           .username = username,
                           .password = password,
                           .password_len = password ? strlen(password) : 0};
    return authkit_user_create(fx.ctx, &in, out, err);
}

static authkit_status login(const char *name, const char *password, authkit_login_result *r,
                            authkit_error *err) {
    authkit_login_result local;
    return authkit_authenticate(fx.ctx, name, password, password ? strlen(password) : 0, NULL,
                                r ? r : &local, err);
}

static bool token_valid(const char *token) {
    authkit_user u;
    return authkit_session_validate(fx.ctx, token, &u, NULL, NULL) == AUTHKIT_OK;
}

static sqlite3 *db_open(void) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(fx.path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", fx.path, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* The password_hash column of user `id`, read straight from the file: "" when NULL,
 * "(no row)" when the user does not exist, "(error)" on failure. */
static void db_hash(const char *id, char *out, size_t size) {
    snprintf(out, size, "(error)");
    sqlite3 *db = db_open();
    sqlite3_stmt *st = NULL;
    if (db && sqlite3_prepare_v2(db, "SELECT password_hash FROM users WHERE id = ?1", -1, &st,
                                 NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *text = sqlite3_column_text(st, 0);
            snprintf(out, size, "%s", text ? (const char *)text : "");
        } else if (rc == SQLITE_DONE) {
            snprintf(out, size, "(no row)");
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Runs a "SELECT count(*) ... ?1" query with `arg` bound; -1 on failure. */
static long db_count(const char *sql, const char *arg) {
    long n = -1;
    sqlite3 *db = db_open();
    sqlite3_stmt *st = NULL;
    if (db && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = (long)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static long db_sessions_of(const char *user_id) {
    return db_count("SELECT count(*) FROM auth_sessions WHERE user_id = ?1", user_id);
}

/* 1 when the file holds `needle`, 0 when not, -1 when it cannot be read. */
static int file_contains(const char *path, const char *needle) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int found = -1;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        char *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
        if (buf && fseek(f, 0, SEEK_SET) == 0 && fread(buf, 1, (size_t)size, f) == (size_t)size)
            found = memmem(buf, (size_t)size, needle, strlen(needle)) != NULL;
        free(buf);
    }
    fclose(f);
    return found;
}

static bool matches(const char *pattern, const char *text) {
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool ok = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static void check_same_user(const char *what, const authkit_user *a, const authkit_user *b) {
    CHECK_MSG(strcmp(a->id, b->id) == 0, "%s: id %s vs %s", what, a->id, b->id);
    CHECK_MSG(strcmp(a->email, b->email) == 0, "%s: email %s vs %s", what, a->email, b->email);
    CHECK_MSG(strcmp(a->username, b->username) == 0, "%s: username %s vs %s", what, a->username,
              b->username);
    CHECK_MSG(strcmp(a->global_role, b->global_role) == 0, "%s: role %s vs %s", what,
              a->global_role, b->global_role);
    CHECK_MSG(a->is_active == b->is_active, "%s: is_active", what);
    CHECK_MSG(a->has_password == b->has_password, "%s: has_password", what);
    CHECK_MSG(a->password_changed_at == b->password_changed_at, "%s: password_changed_at", what);
    CHECK_MSG(a->created_at == b->created_at, "%s: created_at", what);
    CHECK_MSG(a->updated_at == b->updated_at, "%s: updated_at", what);
}

/* One failing creation: status, field, no new row, no event. */
static void expect_create_fails(const char *table, size_t row, const authkit_user_new *in,
                                authkit_status want, const char *field) {
    size_t users = n_users(), events = n_events(AUTHKIT_EVENT_USER_CREATED);
    authkit_error err;
    memset(&err, 0, sizeof err);
    authkit_user out;
    authkit_status st = authkit_user_create(fx.ctx, in, &out, &err);
    CHECK_MSG(st == want, "%s row %zu: status %s, expected %s (%s)", table, row,
              authkit_status_name(st), authkit_status_name(want), err.message);
    CHECK_MSG(err.status == want, "%s row %zu: err.status %s", table, row,
              authkit_status_name(err.status));
    if (field)
        CHECK_MSG(strcmp(err.field, field) == 0, "%s row %zu: field \"%s\", expected \"%s\"", table,
                  row, err.field, field);
    CHECK_MSG(err.message[0] != '\0', "%s row %zu: empty message", table, row);
    CHECK_MSG(n_users() == users, "%s row %zu: user count changed", table, row);
    CHECK_MSG(n_events(AUTHKIT_EVENT_USER_CREATED) == events, "%s row %zu: user_created published",
              table, row);
}

static void expect_create_ok(const char *table, size_t row, const authkit_user_new *in,
                             authkit_user *out) {
    size_t users = n_users(), events = n_events(AUTHKIT_EVENT_USER_CREATED);
    authkit_error err;
    authkit_status st = authkit_user_create(fx.ctx, in, out, &err);
    CHECK_MSG(st == AUTHKIT_OK, "%s row %zu: status %s, expected OK (field %s: %s)", table, row,
              authkit_status_name(st), err.field, err.message);
    CHECK_MSG(n_users() == users + (st == AUTHKIT_OK), "%s row %zu: user count", table, row);
    CHECK_MSG(n_events(AUTHKIT_EVENT_USER_CREATED) == events + (st == AUTHKIT_OK),
              "%s row %zu: user_created events", table, row);
}

/* --- creation --------------------------------------------------------------------------- */

static void test_create_fields(void) {
    group_begin();
    authkit_user u, got;
    authkit_error err;
    authkit_time now = authkit_now(fx.ctx);
    CHECK_INT(now, fixture_clock(&fx));
    CHECK_OK(create("  Alice@Example.COM ", "AliceW", "correct horse", &u, &err));
    CHECK_INT(err.status, AUTHKIT_OK);
    CHECK_STR(err.message, "");
    CHECK_STR(u.email, "alice@example.com");
    CHECK_STR(u.username, "AliceW");
    CHECK_STR(u.global_role, "user");
    CHECK(u.is_active);
    CHECK(u.has_password);
    CHECK_INT(u.password_changed_at, now);
    CHECK_INT(u.created_at, now);
    CHECK_INT(u.updated_at, now);
    CHECK_INT(strlen(u.id), 36);
    CHECK_OK(authkit_user_get_by_id(fx.ctx, u.id, &got, NULL));
    check_same_user("stored alice", &got, &u);
    CHECK_INT(n_events(AUTHKIT_EVENT_USER_CREATED), 1);
    CHECK_STR(seen[AUTHKIT_EVENT_USER_CREATED].user_id, u.id);
    CHECK_INT(seen[AUTHKIT_EVENT_USER_CREATED].timestamp, now);

    /* `out` may be NULL; ids are fresh. */
    CHECK_OK(create("bob@example.com", "bob", NULL, NULL, NULL));
    CHECK_OK(authkit_user_get_by_username(fx.ctx, "bob", &got, NULL));
    CHECK(strcmp(got.id, u.id) != 0);

    /* A role and a disabled account. */
    authkit_user_new in = {.email = "carol@example.com",
                           .username = "carol",
                           .global_role = "editor",
                           .inactive = true};
    CHECK_OK(authkit_user_create(fx.ctx, &in, &u, NULL));
    CHECK_STR(u.global_role, "editor");
    CHECK(!u.is_active);
    CHECK(!u.has_password);
    CHECK_INT(n_users(), 3);
    authkit_error wrong, off;
    in = (authkit_user_new){.email = "dan@example.com",
                            .username = "dan",
                            .password = "gold-fern",
                            .password_len = 9,
                            .inactive = true};
    CHECK_OK(authkit_user_create(fx.ctx, &in, &u, NULL));
    CHECK(!u.is_active);
    CHECK(u.has_password);
    CHECK_STATUS(login("dan", "gold-fern", NULL, &off), AUTHKIT_AUTHENTICATION);
    CHECK_STATUS(login("dan", "teal-moss", NULL, &wrong), AUTHKIT_AUTHENTICATION);
    CHECK_STR(off.message, wrong.message);
    CHECK_INT(n_users(), 4);

    /* NULL input. */
    CHECK_STATUS(authkit_user_create(fx.ctx, NULL, &u, NULL), AUTHKIT_INVALID_ARGUMENT);
    CHECK_INT(n_users(), 4);
    group_end();
}

static void test_stored_hash(void) {
    group_begin();
    static const char canary[] = "Canary-Plaintext-7f3a9c";
    authkit_user u;
    char hash[128], wal[sizeof fx.path + 8];
    CHECK_OK(create("dave@example.com", "dave", canary, &u, NULL));
    db_hash(u.id, hash, sizeof hash);
    CHECK_MSG(matches(HASH_PATTERN, hash), "stored hash \"%s\" is not $2b$04$", hash);
    CHECK_INT(strlen(hash), 60);
    authkit_login_result r;
    CHECK_OK(login("dave", canary, &r, NULL));
    CHECK_OK(login("DAVE@example.com", canary, NULL, NULL));
    /* Same cost and prefix: no re-hash. */
    char again[128];
    db_hash(u.id, again, sizeof again);
    CHECK_STR(again, hash);
    snprintf(wal, sizeof wal, "%s-wal", fx.path);
    CHECK_INT(file_contains(fx.path, canary), 0);
    CHECK_MSG(file_contains(wal, canary) != 1, "the password is in %s", wal);
    CHECK_MSG(file_contains(fx.path, r.token) != 1, "the token is in the database file");
    CHECK_MSG(file_contains(wal, r.token) != 1, "the token is in %s", wal);
    CHECK_MSG(file_contains(fx.path, "Canary") != 1 && file_contains(wal, "Canary") != 1,
              "a part of the password is stored");
    group_end();
}

static void test_create_without_password(void) {
    group_begin();
    authkit_user u;
    authkit_error err;
    CHECK_OK(create("nopw@example.com", "nopw", NULL, &u, NULL));
    CHECK(!u.has_password);
    CHECK_INT(u.password_changed_at, 0);
    char hash[128];
    db_hash(u.id, hash, sizeof hash);
    CHECK_STR(hash, "");
    static const char *const tries[] = {"", "anything-at-all", "nopw"};
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        authkit_status st = login("nopw", tries[i], NULL, &err);
        CHECK_MSG(st == AUTHKIT_AUTHENTICATION, "row %zu: login without password gave %s", i,
                  authkit_status_name(st));
        CHECK_MSG(strcmp(err.message, authkit_strerror(AUTHKIT_AUTHENTICATION)) == 0,
                  "row %zu: message \"%s\"", i, err.message);
        st = authkit_user_verify_password(fx.ctx, u.id, tries[i], strlen(tries[i]), NULL);
        CHECK_MSG(st == AUTHKIT_AUTHENTICATION, "row %zu: verify gave %s", i,
                  authkit_status_name(st));
    }
    /* Empty password with NULL pointer is the same as none. */
    authkit_user_new in = {.email = "nopw2@example.com", .username = "nopw2"};
    CHECK_OK(authkit_user_create(fx.ctx, &in, &u, NULL));
    CHECK(!u.has_password);
    group_end();
}

static void test_create_with_hash(void) {
    group_begin();
    authkit_user u;
    char hash[128], rehashed[128];
    authkit_user_new in = {
        .email = "import@example.com", .username = "imported", .password_hash = VECTOR_HASH};
    authkit_time now = authkit_now(fx.ctx);
    CHECK_OK(authkit_user_create(fx.ctx, &in, &u, NULL));
    CHECK(u.has_password);
    CHECK_INT(u.password_changed_at, now);
    db_hash(u.id, hash, sizeof hash);
    CHECK_STR(hash, VECTOR_HASH);

    /* A wrong password does not rewrite the hash. */
    CHECK_STATUS(login("imported", "U*V", NULL, NULL), AUTHKIT_AUTHENTICATION);
    CHECK_STATUS(login("imported", "", NULL, NULL), AUTHKIT_AUTHENTICATION);
    db_hash(u.id, hash, sizeof hash);
    CHECK_STR(hash, VECTOR_HASH);

    /* The right one logs in and upgrades the hash to $2b$ at the configured cost. */
    authkit_login_result r;
    CHECK_OK(login("imported", VECTOR_PASSWORD, &r, NULL));
    CHECK_STR(r.user.id, u.id);
    db_hash(u.id, rehashed, sizeof rehashed);
    CHECK_MSG(matches(HASH_PATTERN, rehashed), "after login the hash is \"%s\"", rehashed);
    CHECK(strcmp(rehashed, VECTOR_HASH) != 0);
    CHECK_OK(login("import@example.com", VECTOR_PASSWORD, NULL, NULL));
    CHECK_OK(authkit_user_verify_password(fx.ctx, u.id, VECTOR_PASSWORD, 3, NULL));
    /* The upgraded hash is kept (no second re-hash) and wrong passwords leave it alone. */
    db_hash(u.id, hash, sizeof hash);
    CHECK_STR(hash, rehashed);
    CHECK_STATUS(login("imported", "U*U*", NULL, NULL), AUTHKIT_AUTHENTICATION);
    db_hash(u.id, hash, sizeof hash);
    CHECK_STR(hash, rehashed);
    group_end();
}

static void test_create_password_and_hash(void) {
    group_begin();
    authkit_user_new both = {.email = "both@example.com",
                             .username = "both",
                             .password = "gold-fern",
                             .password_len = 9,
                             .password_hash = VECTOR_HASH};
    expect_create_fails("both", 0, &both, AUTHKIT_VALIDATION, "password");

    static const char *const bad_hashes[] = {
        "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
        "plain",
        "$2b$12$incorrect",
        "",
        "$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", /* cost below 4 */
        "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe",  /* 59 characters */
        VECTOR_HASH "x",                                                /* 61 characters */
        "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0Xou!Yb4YMJKvyOeW", /* not the alphabet */
    };
    for (size_t i = 0; i < sizeof bad_hashes / sizeof bad_hashes[0]; i++) {
        char email[64], username[32];
        snprintf(email, sizeof email, "hash%zu@example.com", i);
        snprintf(username, sizeof username, "hash_%zu", i);
        authkit_user_new in = {
            .email = email, .username = username, .password_hash = bad_hashes[i]};
        expect_create_fails("bad hash", i, &in, AUTHKIT_VALIDATION, "password_hash");
    }
    CHECK_INT(n_users(), 0);
    group_end();
}

static void test_validation_email(void) {
    group_begin();
    char long_ok[256], long_bad[300];
    /* 64 + 1 + 189 = 254 bytes, and one more in a domain label: 255. */
    memset(long_ok, 'b', 64);
    memset(long_ok + 65, 'c', 60);
    memset(long_ok + 126, 'd', 60);
    memset(long_ok + 187, 'e', 60);
    long_ok[64] = '@';
    long_ok[125] = long_ok[186] = long_ok[247] = '.';
    memcpy(long_ok + 248, "museum", 7);
    snprintf(long_bad, sizeof long_bad, "%.64s@c%s", long_ok, long_ok + 65);
    CHECK_INT(strlen(long_ok), 254);
    CHECK_INT(strlen(long_bad), 255);

    const char *bad[] = {"",
                         "   ",
                         "no-at",
                         "a@b",
                         "a@@b.c",
                         "a b@c.d",
                         "@b.c",
                         "a@.c",
                         "a@b.",
                         "a\x01@b.c",
                         "\xc0\xaf@b.c",
                         long_bad,
                         "a@b.c\x7f",
                         "a\t@b.c",
                         "\xff@b.c",
                         "a@b\n.c",
                         "\xed\xa0\x80@b.c",
                         "\xe0\x80\xaf@b.c",
                         "\xf4\x90\x80\x80@b.c",
                         "a\xc3@b.c",
                         "a@b.c\xc3",
                         "\xf8\x88\x80\x80\x80@b.c",
                         NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char username[32];
        snprintf(username, sizeof username, "em_%zu", i);
        authkit_user_new in = {
            .email = bad[i], .username = username, .password = "gold-fern", .password_len = 9};
        expect_create_fails("bad email", i, &in, AUTHKIT_VALIDATION, "email");
    }
    struct {
        const char *email, *stored;
    } good[] = {
        {" \tMixed.Case+Tag@Sub.Example.ORG\n ", "mixed.case+tag@sub.example.org"},
        {long_ok, long_ok},
        {"x@y.z", "x@y.z"},
        {"\xc3\xbc@example.com", "\xc3\xbc@example.com"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char username[32];
        snprintf(username, sizeof username, "em_ok_%zu", i);
        authkit_user_new in = {.email = good[i].email, .username = username};
        authkit_user u;
        memset(&u, 0, sizeof u);
        expect_create_ok("good email", i, &in, &u);
        CHECK_MSG(strcmp(u.email, good[i].stored) == 0, "good email row %zu: stored \"%s\"", i,
                  u.email);
    }
    group_end();
}

static void test_validation_username(void) {
    group_begin();
    char u50[51], u51[52];
    memset(u50, 'u', 50);
    u50[50] = '\0';
    memset(u51, 'v', 51);
    u51[51] = '\0';
    const char *bad[] = {"", "ab", u51, "a-b", "a b", "\xc3\xbcml", "x'--", "abc\n", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char email[64];
        snprintf(email, sizeof email, "un%zu@example.com", i);
        authkit_user_new in = {.email = email, .username = bad[i]};
        expect_create_fails("bad username", i, &in, AUTHKIT_VALIDATION, "username");
    }
    const char *good[] = {"abc", u50, "A_1", "___", "Under_Score9"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char email[64];
        snprintf(email, sizeof email, "un_ok%zu@example.com", i);
        authkit_user_new in = {.email = email, .username = good[i]};
        authkit_user u;
        memset(&u, 0, sizeof u);
        expect_create_ok("good username", i, &in, &u);
        CHECK_MSG(strcmp(u.username, good[i]) == 0, "good username row %zu: stored \"%s\"", i,
                  u.username);
        /* Found again in other case. */
        char upper[64];
        snprintf(upper, sizeof upper, "%s", good[i]);
        for (char *p = upper; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        authkit_user got;
        authkit_status st = authkit_user_get_by_username(fx.ctx, upper, &got, NULL);
        CHECK_MSG(st == AUTHKIT_OK, "good username row %zu: lookup of %s gave %s", i, upper,
                  authkit_status_name(st));
    }
    /* The longest username is also accepted by an update. */
    authkit_user u;
    char u50b[51];
    memset(u50b, 'w', 50);
    u50b[50] = '\0';
    CHECK_OK(create("rename@example.com", "rename_me", NULL, &u, NULL));
    authkit_user_update up = {.username = u50b};
    authkit_error err;
    authkit_status st = authkit_user_update_fields(fx.ctx, u.id, &up, &u, &err);
    CHECK_MSG(st == AUTHKIT_OK, "update to a 50-character username: %s (%s)",
              authkit_status_name(st), err.message);
    group_end();
}

static void test_validation_role(void) {
    group_begin();
    char r51[52];
    memset(r51, 'r', 51);
    r51[51] = '\0';
    const char *bad[] = {"bad role", "", r51, "r\xc3\xb4le", "x'--"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char email[64], username[32];
        snprintf(email, sizeof email, "ro%zu@example.com", i);
        snprintf(username, sizeof username, "ro_%zu", i);
        authkit_user_new in = {.email = email, .username = username, .global_role = bad[i]};
        expect_create_fails("bad role", i, &in, AUTHKIT_VALIDATION, "global_role");
    }
    char r50[51];
    memset(r50, 'R', 50);
    r50[50] = '\0';
    const char *good[] = {"admin", "org:admin-2.x", "r", r50};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char email[64], username[32];
        snprintf(email, sizeof email, "ro_ok%zu@example.com", i);
        snprintf(username, sizeof username, "ro_ok_%zu", i);
        authkit_user_new in = {.email = email, .username = username, .global_role = good[i]};
        authkit_user u;
        memset(&u, 0, sizeof u);
        expect_create_ok("good role", i, &in, &u);
        CHECK_MSG(strcmp(u.global_role, good[i]) == 0, "good role row %zu: \"%s\"", i,
                  u.global_role);
    }
    group_end();
}

static void test_validation_password(void) {
    group_begin();
    char p72[73], p73[74], e8[17], e7[15];
    memset(p72, 'x', 72);
    p72[72] = '\0';
    memset(p73, 'y', 73);
    p73[73] = '\0';
    for (int i = 0; i < 8; i++)
        memcpy(e8 + 2 * i, "\xc3\xa9", 2);
    e8[16] = '\0';
    memcpy(e7, e8, 14);
    e7[14] = '\0';
    struct {
        const char *password;
        size_t len;
        authkit_status want;
        const char *message_has;
    } rows[] = {
        {"1234567", 7, AUTHKIT_VALIDATION, "8"},
        {"k7-plums", 8, AUTHKIT_OK, NULL},
        {e8, 16, AUTHKIT_OK, NULL},
        {e7, 14, AUTHKIT_VALIDATION, "8"}, /* 14 bytes but 7 characters */
        {p72, 72, AUTHKIT_OK, NULL},
        {p73, 73, AUTHKIT_PASSWORD_TOO_LONG, "72"},
        {"abc\0defgh", 9, AUTHKIT_PASSWORD_HAS_NUL, NULL},
        {"12345678\0", 9, AUTHKIT_PASSWORD_HAS_NUL, NULL},
        {"", 0, AUTHKIT_VALIDATION, "8"},
        {NULL, 5, AUTHKIT_INVALID_ARGUMENT, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char email[64], username[32];
        snprintf(email, sizeof email, "pw%zu@example.com", i);
        snprintf(username, sizeof username, "pw_%zu", i);
        authkit_user_new in = {.email = email,
                               .username = username,
                               .password = rows[i].password,
                               .password_len = rows[i].len};
        if (rows[i].want != AUTHKIT_OK) {
            const char *field = rows[i].want == AUTHKIT_INVALID_ARGUMENT ? NULL : "password";
            expect_create_fails("password", i, &in, rows[i].want, field);
            authkit_error err;
            (void)authkit_user_create(fx.ctx, &in, NULL, &err);
            if (rows[i].message_has)
                CHECK_MSG(strstr(err.message, rows[i].message_has) != NULL,
                          "password row %zu: message \"%s\" lacks \"%s\"", i, err.message,
                          rows[i].message_has);
            continue;
        }
        authkit_user u;
        expect_create_ok("password", i, &in, &u);
        authkit_login_result r;
        authkit_status st =
            authkit_authenticate(fx.ctx, username, rows[i].password, rows[i].len, NULL, &r, NULL);
        CHECK_MSG(st == AUTHKIT_OK, "password row %zu: login gave %s", i, authkit_status_name(st));
        /* Never truncated: one byte less does not log in. */
        st = authkit_authenticate(fx.ctx, username, rows[i].password, rows[i].len - 1, NULL, &r,
                                  NULL);
        CHECK_MSG(st == AUTHKIT_AUTHENTICATION, "password row %zu: prefix login gave %s", i,
                  authkit_status_name(st));
    }
    group_end();
}

static void test_conflicts(void) {
    group_begin();
    authkit_user carol;
    CHECK_OK(create("Carol@Example.com", "carol1", "gold-fern", &carol, NULL));
    struct {
        const char *email, *username, *field;
    } rows[] = {
        {"CAROL@example.COM", "carol2", "email"},     {"  carol@example.com  ", "carol3", "email"},
        {"other@example.com", "CAROL1", "username"},  {"other2@example.com", "carol1", "username"},
        {"other3@example.com", "Carol1", "username"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        authkit_user_new in = {.email = rows[i].email,
                               .username = rows[i].username,
                               .password = "teal-moss",
                               .password_len = 9};
        expect_create_fails("conflict", i, &in, AUTHKIT_CONFLICT, rows[i].field);
    }
    /* The original is untouched and still logs in with its own password. */
    authkit_user got;
    CHECK_OK(authkit_user_get_by_email(fx.ctx, "carol@example.com", &got, NULL));
    check_same_user("carol after conflicts", &got, &carol);
    CHECK_OK(login("carol1", "gold-fern", NULL, NULL));
    CHECK_STATUS(login("carol1", "teal-moss", NULL, NULL), AUTHKIT_AUTHENTICATION);
    group_end();
}

/* --- look-ups --------------------------------------------------------------------------- */

enum lookup { BY_ID, BY_EMAIL, BY_USERNAME };

static authkit_status lookup(enum lookup by, const char *key, authkit_user *out,
                             authkit_error *err) {
    switch (by) {
        case BY_ID:
            return authkit_user_get_by_id(fx.ctx, key, out, err);
        case BY_EMAIL:
            return authkit_user_get_by_email(fx.ctx, key, out, err);
        case BY_USERNAME:
            return authkit_user_get_by_username(fx.ctx, key, out, err);
    }
    return AUTHKIT_MISUSE;
}

static void test_lookups(void) {
    group_begin();
    authkit_user alice, bob;
    CHECK_OK(create("alice@example.com", "Alice", "gold-fern", &alice, NULL));
    CHECK_OK(create("bob@example.com", "bob", NULL, &bob, NULL));
    char id_plus[64], id_upper[64];
    snprintf(id_plus, sizeof id_plus, "%sx", alice.id);
    snprintf(id_upper, sizeof id_upper, "%s", alice.id);
    for (char *p = id_upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    struct {
        enum lookup by;
        const char *key;
        authkit_status want;
        const authkit_user *user;
    } rows[] = {
        {BY_ID, alice.id, AUTHKIT_OK, &alice},
        {BY_ID, bob.id, AUTHKIT_OK, &bob},
        {BY_EMAIL, "alice@example.com", AUTHKIT_OK, &alice},
        {BY_EMAIL, "  ALICE@Example.Com\t", AUTHKIT_OK, &alice},
        {BY_EMAIL, "Bob@EXAMPLE.com", AUTHKIT_OK, &bob},
        {BY_USERNAME, "Alice", AUTHKIT_OK, &alice},
        {BY_USERNAME, "alice", AUTHKIT_OK, &alice},
        {BY_USERNAME, "ALICE", AUTHKIT_OK, &alice},
        {BY_USERNAME, "BoB", AUTHKIT_OK, &bob},
        {BY_ID, UNKNOWN_ID, AUTHKIT_NOT_FOUND, NULL},
        {BY_ID, "not-a-uuid", AUTHKIT_NOT_FOUND, NULL},
        {BY_ID, "", AUTHKIT_NOT_FOUND, NULL},
        {BY_ID, id_plus, AUTHKIT_NOT_FOUND, NULL},
        {BY_ID, INJECTION, AUTHKIT_NOT_FOUND, NULL},
        {BY_EMAIL, "nobody@example.com", AUTHKIT_NOT_FOUND, NULL},
        {BY_EMAIL, "no-at", AUTHKIT_NOT_FOUND, NULL},
        {BY_EMAIL, "", AUTHKIT_NOT_FOUND, NULL},
        {BY_EMAIL, "alice@example.co%", AUTHKIT_NOT_FOUND, NULL},
        {BY_EMAIL, "%@example.com", AUTHKIT_NOT_FOUND, NULL},
        {BY_EMAIL, INJECTION, AUTHKIT_NOT_FOUND, NULL},
        {BY_EMAIL, "x'OR'1'='1'--@example.com", AUTHKIT_NOT_FOUND, NULL},
        {BY_USERNAME, "nobody", AUTHKIT_NOT_FOUND, NULL},
        {BY_USERNAME, "a b", AUTHKIT_NOT_FOUND, NULL},
        {BY_USERNAME, "", AUTHKIT_NOT_FOUND, NULL},
        {BY_USERNAME, "alic_", AUTHKIT_NOT_FOUND, NULL}, /* '_' is no wildcard */
        {BY_USERNAME, "alice%", AUTHKIT_NOT_FOUND, NULL},
        {BY_USERNAME, "Alic", AUTHKIT_NOT_FOUND, NULL},
        {BY_USERNAME, INJECTION, AUTHKIT_NOT_FOUND, NULL},
        {BY_USERNAME, "alice@example.com", AUTHKIT_NOT_FOUND, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        authkit_user got;
        authkit_error err;
        memset(&got, 0, sizeof got);
        authkit_status st = lookup(rows[i].by, rows[i].key, &got, &err);
        CHECK_MSG(st == rows[i].want, "lookup row %zu (%s): %s, expected %s", i, rows[i].key,
                  authkit_status_name(st), authkit_status_name(rows[i].want));
        CHECK_MSG(err.status == rows[i].want, "lookup row %zu: err.status %s", i,
                  authkit_status_name(err.status));
        if (rows[i].user && st == AUTHKIT_OK) {
            char what[32];
            snprintf(what, sizeof what, "lookup row %zu", i);
            check_same_user(what, &got, rows[i].user);
        }
    }
    /* NULL key or output. */
    for (int by = BY_ID; by <= BY_USERNAME; by++) {
        authkit_user got;
        authkit_status st = lookup((enum lookup)by, NULL, &got, NULL);
        CHECK_MSG(st == AUTHKIT_INVALID_ARGUMENT, "NULL key row %d: %s", by,
                  authkit_status_name(st));
        const char *key = by == BY_ID ? alice.id : by == BY_EMAIL ? alice.email : alice.username;
        st = lookup((enum lookup)by, key, NULL, NULL);
        CHECK_MSG(st == AUTHKIT_INVALID_ARGUMENT, "NULL out row %d: %s", by,
                  authkit_status_name(st));
    }
    group_end();
}

/* --- updates ---------------------------------------------------------------------------- */

static void test_update(void) {
    group_begin();
    authkit_user alice, bob, out, got;
    authkit_error err;
    CHECK_OK(create("alice@example.com", "Alice", "gold-fern", &alice, NULL));
    CHECK_OK(create("bob@example.com", "bob", "teal-moss", &bob, NULL));

    /* Email change. */
    fixture_advance(&fx, 5);
    authkit_time later = authkit_now(fx.ctx);
    size_t updates = n_events(AUTHKIT_EVENT_USER_UPDATED);
    authkit_user_update up = {.email = "  New.Alice@Example.COM "};
    CHECK_OK(authkit_user_update_fields(fx.ctx, alice.id, &up, &out, &err));
    CHECK_STR(out.email, "new.alice@example.com");
    CHECK_STR(out.username, "Alice");
    CHECK_INT(out.updated_at, later);
    CHECK(out.updated_at > alice.updated_at);
    CHECK_INT(out.created_at, alice.created_at);
    CHECK_INT(out.password_changed_at, alice.password_changed_at);
    CHECK_STATUS(authkit_user_get_by_email(fx.ctx, "alice@example.com", &got, NULL),
                 AUTHKIT_NOT_FOUND);
    CHECK_OK(authkit_user_get_by_email(fx.ctx, "new.alice@example.com", &got, NULL));
    check_same_user("after email change", &got, &out);
    CHECK_INT(n_events(AUTHKIT_EVENT_USER_UPDATED), updates + 1);
    CHECK_INT(seen[AUTHKIT_EVENT_USER_UPDATED].fields_changed, AUTHKIT_FIELD_EMAIL);
    CHECK_STR(seen[AUTHKIT_EVENT_USER_UPDATED].user_id, alice.id);
    CHECK_OK(login("new.alice@example.com", "gold-fern", NULL, NULL));
    CHECK_STATUS(login("alice@example.com", "gold-fern", NULL, NULL), AUTHKIT_AUTHENTICATION);
    alice = out;

    /* Username and role together. */
    fixture_advance(&fx, 1);
    up = (authkit_user_update){.username = "Alice_2", .global_role = "editor"};
    CHECK_OK(authkit_user_update_fields(fx.ctx, alice.id, &up, &out, NULL));
    CHECK_STR(out.username, "Alice_2");
    CHECK_STR(out.global_role, "editor");
    CHECK_INT(seen[AUTHKIT_EVENT_USER_UPDATED].fields_changed,
              AUTHKIT_FIELD_USERNAME | AUTHKIT_FIELD_GLOBAL_ROLE);
    CHECK_STATUS(authkit_user_get_by_username(fx.ctx, "Alice", &got, NULL), AUTHKIT_NOT_FOUND);
    CHECK_OK(authkit_user_get_by_username(fx.ctx, "alice_2", &got, NULL));
    alice = out;

    /* A case-only change of one's own username is a change, not a conflict. */
    fixture_advance(&fx, 1);
    up = (authkit_user_update){.username = "ALICE_2"};
    CHECK_OK(authkit_user_update_fields(fx.ctx, alice.id, &up, &out, &err));
    CHECK_STR(out.username, "ALICE_2");
    CHECK_INT(seen[AUTHKIT_EVENT_USER_UPDATED].fields_changed, AUTHKIT_FIELD_USERNAME);
    alice = out;

    /* Changes nothing: empty, and the same values (in other spelling for the email). */
    fixture_advance(&fx, 7);
    updates = n_events(AUTHKIT_EVENT_USER_UPDATED);
    struct {
        authkit_user_update up;
    } same[] = {
        {{0}},
        {{.email = "new.alice@example.com"}},
        {{.email = " NEW.alice@example.COM"}},
        {{.username = "ALICE_2",
          .global_role = "editor",
          .set_is_active = true,
          .is_active = true}},
        {{.email = "new.alice@example.com",
          .username = "ALICE_2",
          .global_role = "editor",
          .set_is_active = true,
          .is_active = true}},
        {{.set_is_active = false, .is_active = false}}, /* is_active ignored without the flag */
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        memset(&out, 0, sizeof out);
        authkit_status st = authkit_user_update_fields(fx.ctx, alice.id, &same[i].up, &out, &err);
        CHECK_MSG(st == AUTHKIT_OK, "no-op update row %zu: %s (%s)", i, authkit_status_name(st),
                  err.message);
        char what[40];
        snprintf(what, sizeof what, "no-op update row %zu (out)", i);
        check_same_user(what, &out, &alice);
        CHECK_OK(authkit_user_get_by_id(fx.ctx, alice.id, &got, NULL));
        snprintf(what, sizeof what, "no-op update row %zu (stored)", i);
        check_same_user(what, &got, &alice);
        CHECK_MSG(n_events(AUTHKIT_EVENT_USER_UPDATED) == updates,
                  "no-op update row %zu published user_updated", i);
    }
    CHECK_OK(authkit_user_update_fields(fx.ctx, alice.id, &same[0].up, NULL, NULL));
    long alice_sessions = db_sessions_of(alice.id);
    CHECK_INT(alice_sessions, 1);

    /* Conflicts and invalid values change nothing. */
    struct {
        authkit_user_update up;
        authkit_status want;
        const char *field;
    } bad[] = {
        {{.email = "bob@example.com"}, AUTHKIT_CONFLICT, "email"},
        {{.email = "BOB@example.com", .global_role = "admin"}, AUTHKIT_CONFLICT, "email"},
        {{.username = "bob"}, AUTHKIT_CONFLICT, "username"},
        {{.username = "BOB", .set_is_active = true, .is_active = false},
         AUTHKIT_CONFLICT,
         "username"},
        {{.email = "not-an-email"}, AUTHKIT_VALIDATION, "email"},
        {{.email = ""}, AUTHKIT_VALIDATION, "email"},
        {{.username = "a b"}, AUTHKIT_VALIDATION, "username"},
        {{.username = ""}, AUTHKIT_VALIDATION, "username"},
        {{.global_role = "bad role"}, AUTHKIT_VALIDATION, "global_role"},
        {{.email = "fresh@example.com", .username = "x'--"}, AUTHKIT_VALIDATION, "username"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        authkit_status st = authkit_user_update_fields(fx.ctx, alice.id, &bad[i].up, &out, &err);
        CHECK_MSG(st == bad[i].want, "bad update row %zu: %s, expected %s", i,
                  authkit_status_name(st), authkit_status_name(bad[i].want));
        CHECK_MSG(strcmp(err.field, bad[i].field) == 0, "bad update row %zu: field \"%s\"", i,
                  err.field);
        CHECK_OK(authkit_user_get_by_id(fx.ctx, alice.id, &got, NULL));
        char what[40];
        snprintf(what, sizeof what, "bad update row %zu", i);
        check_same_user(what, &got, &alice);
        CHECK_MSG(n_events(AUTHKIT_EVENT_USER_UPDATED) == updates,
                  "bad update row %zu published user_updated", i);
        CHECK_MSG(db_sessions_of(alice.id) == alice_sessions, "bad update row %zu ended sessions",
                  i);
    }
    CHECK_OK(authkit_user_get_by_id(fx.ctx, bob.id, &got, NULL));
    check_same_user("bob after conflicts", &got, &bob);

    /* Unknown or malformed id. */
    up = (authkit_user_update){.global_role = "admin"};
    CHECK_STATUS(authkit_user_update_fields(fx.ctx, UNKNOWN_ID, &up, &out, NULL),
                 AUTHKIT_NOT_FOUND);
    CHECK_STATUS(authkit_user_update_fields(fx.ctx, "nope", &up, &out, NULL), AUTHKIT_NOT_FOUND);
    CHECK_STATUS(authkit_user_update_fields(fx.ctx, alice.id, NULL, &out, NULL),
                 AUTHKIT_INVALID_ARGUMENT);
    CHECK_INT(n_events(AUTHKIT_EVENT_USER_UPDATED), updates);
    group_end();
}

static void test_deactivate(void) {
    group_begin();
    authkit_user dave, out;
    authkit_login_result r1, r2;
    authkit_error wrong, inactive;
    CHECK_OK(create("dave@example.com", "dave", "gold-fern", &dave, NULL));
    CHECK_OK(login("dave", "gold-fern", &r1, NULL));
    CHECK_OK(login("dave@example.com", "gold-fern", &r2, NULL));
    CHECK(token_valid(r1.token));
    CHECK_STATUS(login("dave", "wrong-password", NULL, &wrong), AUTHKIT_AUTHENTICATION);

    fixture_advance(&fx, 3);
    authkit_user_update off = {.set_is_active = true, .is_active = false};
    CHECK_OK(authkit_user_update_fields(fx.ctx, dave.id, &off, &out, NULL));
    CHECK(!out.is_active);
    CHECK_INT(out.updated_at, authkit_now(fx.ctx));
    CHECK_INT(n_events(AUTHKIT_EVENT_USER_UPDATED), 1);
    CHECK_INT(seen[AUTHKIT_EVENT_USER_UPDATED].fields_changed, AUTHKIT_FIELD_IS_ACTIVE);
    CHECK_INT(n_events(AUTHKIT_EVENT_SESSIONS_REVOKED), 1);
    CHECK_INT(seen[AUTHKIT_EVENT_SESSIONS_REVOKED].count, 2);
    CHECK_STR(seen[AUTHKIT_EVENT_SESSIONS_REVOKED].user_id, dave.id);
    CHECK(!token_valid(r1.token));
    CHECK(!token_valid(r2.token));
    CHECK_INT(db_sessions_of(dave.id), 0);
    CHECK_STATUS(login("dave", "gold-fern", NULL, &inactive), AUTHKIT_AUTHENTICATION);
    CHECK_STR(inactive.message, wrong.message);
    CHECK_STR(inactive.field, wrong.field);
    CHECK_STATUS(authkit_session_create(fx.ctx, dave.id, NULL, &r1, NULL), AUTHKIT_NOT_FOUND);
    /* Deactivating again changes nothing. */
    CHECK_OK(authkit_user_update_fields(fx.ctx, dave.id, &off, NULL, NULL));
    CHECK_INT(n_events(AUTHKIT_EVENT_USER_UPDATED), 1);
    CHECK_INT(n_events(AUTHKIT_EVENT_SESSIONS_REVOKED), 1);

    authkit_user_update on = {.set_is_active = true, .is_active = true};
    CHECK_OK(authkit_user_update_fields(fx.ctx, dave.id, &on, &out, NULL));
    CHECK(out.is_active);
    CHECK_INT(n_events(AUTHKIT_EVENT_USER_UPDATED), 2);
    CHECK_INT(n_events(AUTHKIT_EVENT_SESSIONS_REVOKED), 1);
    CHECK_OK(login("dave", "gold-fern", &r1, NULL));
    CHECK(token_valid(r1.token));
    CHECK(!token_valid(r2.token)); /* old sessions stay ended */
    group_end();
}

/* --- passwords -------------------------------------------------------------------------- */

static void test_set_password(void) {
    group_begin();
    authkit_user erin, got;
    authkit_login_result r1, r2;
    CHECK_OK(create("erin@example.com", "erin", "old-password-1", &erin, NULL));
    CHECK_OK(login("erin", "old-password-1", &r1, NULL));
    CHECK_OK(login("erin", "old-password-1", &r2, NULL));
    fixture_advance(&fx, 10);
    authkit_time later = authkit_now(fx.ctx);
    CHECK_OK(authkit_user_set_password(fx.ctx, erin.id, "new-password-2", 14, NULL));
    CHECK_INT(n_events(AUTHKIT_EVENT_PASSWORD_CHANGED), 1);
    CHECK_INT(seen[AUTHKIT_EVENT_PASSWORD_CHANGED].count, 2);
    CHECK_STR(seen[AUTHKIT_EVENT_PASSWORD_CHANGED].user_id, erin.id);
    CHECK(!token_valid(r1.token));
    CHECK(!token_valid(r2.token));
    CHECK_INT(db_sessions_of(erin.id), 0);
    CHECK_OK(authkit_user_get_by_id(fx.ctx, erin.id, &got, NULL));
    CHECK_INT(got.password_changed_at, later);
    CHECK(got.password_changed_at > erin.password_changed_at);
    CHECK(got.has_password);
    CHECK_OK(login("erin", "new-password-2", &r1, NULL));
    CHECK_STATUS(login("erin", "old-password-1", NULL, NULL), AUTHKIT_AUTHENTICATION);
    char hash[128];
    db_hash(erin.id, hash, sizeof hash);
    CHECK_MSG(matches(HASH_PATTERN, hash), "hash after set_password: \"%s\"", hash);

    /* The policy applies; a refused password changes nothing. */
    char p73[74];
    memset(p73, 'z', 73);
    p73[73] = '\0';
    struct {
        const char *password;
        size_t len;
        authkit_status want;
    } bad[] = {
        {"short", 5, AUTHKIT_VALIDATION},
        {"1234567", 7, AUTHKIT_VALIDATION},
        {"", 0, AUTHKIT_VALIDATION},
        {p73, 73, AUTHKIT_PASSWORD_TOO_LONG},
        {"abcd\0efgh", 9, AUTHKIT_PASSWORD_HAS_NUL},
        {NULL, 3, AUTHKIT_INVALID_ARGUMENT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        authkit_error err;
        authkit_status st =
            authkit_user_set_password(fx.ctx, erin.id, bad[i].password, bad[i].len, &err);
        CHECK_MSG(st == bad[i].want, "set_password row %zu: %s, expected %s", i,
                  authkit_status_name(st), authkit_status_name(bad[i].want));
        if (bad[i].want != AUTHKIT_INVALID_ARGUMENT)
            CHECK_MSG(strcmp(err.field, "password") == 0, "set_password row %zu: field \"%s\"", i,
                      err.field);
        CHECK_MSG(token_valid(r1.token), "set_password row %zu ended the session", i);
        CHECK_MSG(n_events(AUTHKIT_EVENT_PASSWORD_CHANGED) == 1,
                  "set_password row %zu published password_changed", i);
    }
    CHECK_OK(login("erin", "new-password-2", NULL, NULL));

    /* Removing the password. */
    fixture_advance(&fx, 1);
    CHECK_OK(authkit_user_set_password(fx.ctx, erin.id, NULL, 0, NULL));
    CHECK_INT(n_events(AUTHKIT_EVENT_PASSWORD_CHANGED), 2);
    CHECK_INT(seen[AUTHKIT_EVENT_PASSWORD_CHANGED].count, 2); /* r1 and the login above */
    CHECK(!token_valid(r1.token));
    CHECK_OK(authkit_user_get_by_id(fx.ctx, erin.id, &got, NULL));
    CHECK(!got.has_password);
    db_hash(erin.id, hash, sizeof hash);
    CHECK_STR(hash, "");
    CHECK_STATUS(login("erin", "new-password-2", NULL, NULL), AUTHKIT_AUTHENTICATION);
    CHECK_STATUS(login("erin", "", NULL, NULL), AUTHKIT_AUTHENTICATION);
    CHECK_STATUS(authkit_user_verify_password(fx.ctx, erin.id, "new-password-2", 14, NULL),
                 AUTHKIT_AUTHENTICATION);
    /* And setting one again. */
    CHECK_OK(authkit_user_set_password(fx.ctx, erin.id, "third-password", 14, NULL));
    CHECK_OK(login("erin", "third-password", NULL, NULL));

    /* Unknown users. */
    CHECK_STATUS(authkit_user_set_password(fx.ctx, UNKNOWN_ID, "gold-fern", 9, NULL),
                 AUTHKIT_NOT_FOUND);
    CHECK_STATUS(authkit_user_set_password(fx.ctx, "not-an-id", "gold-fern", 9, NULL),
                 AUTHKIT_NOT_FOUND);
    CHECK_STATUS(authkit_user_set_password(fx.ctx, NULL, "gold-fern", 9, NULL), AUTHKIT_NOT_FOUND);
    CHECK_INT(n_events(AUTHKIT_EVENT_PASSWORD_CHANGED), 3);
    group_end();
}

static void test_verify_password(void) {
    group_begin();
    authkit_user gina, nopw;
    CHECK_OK(create("gina@example.com", "gina", "rosy-lantern", &gina, NULL));
    CHECK_OK(create("nopw@example.com", "nopw", NULL, &nopw, NULL));
    char p73[74];
    memset(p73, 'g', 73);
    p73[73] = '\0';
    struct {
        const char *id, *password;
        size_t len;
        authkit_status want;
    } rows[] = {
        {gina.id, "rosy-lantern", 12, AUTHKIT_OK},
        {gina.id, "rosy-lanterm", 12, AUTHKIT_AUTHENTICATION},
        {gina.id, "rosy-lanter", 11, AUTHKIT_AUTHENTICATION},
        {gina.id, "rosy-lantern\0x", 14, AUTHKIT_AUTHENTICATION},
        {gina.id, "", 0, AUTHKIT_AUTHENTICATION},
        {gina.id, NULL, 0, AUTHKIT_AUTHENTICATION},
        {gina.id, p73, 73, AUTHKIT_AUTHENTICATION},
        {UNKNOWN_ID, "rosy-lantern", 12, AUTHKIT_AUTHENTICATION},
        {"not-an-id", "rosy-lantern", 12, AUTHKIT_AUTHENTICATION},
        {NULL, "rosy-lantern", 12, AUTHKIT_AUTHENTICATION},
        {nopw.id, "", 0, AUTHKIT_AUTHENTICATION},
        {nopw.id, "rosy-lantern", 12, AUTHKIT_AUTHENTICATION},
    };
    size_t sessions_before = 0, sessions_after = 0;
    CHECK_OK(authkit_session_count(fx.ctx, &sessions_before, NULL));
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        authkit_error err;
        uint64_t runs = authkit__bcrypt_runs();
        authkit_status st =
            authkit_user_verify_password(fx.ctx, rows[i].id, rows[i].password, rows[i].len, &err);
        /* Same work whatever the reason: exactly one bcrypt. */
        CHECK_MSG(authkit__bcrypt_runs() - runs == 1, "verify row %zu: %llu bcrypt runs", i,
                  (unsigned long long)(authkit__bcrypt_runs() - runs));
        CHECK_MSG(st == rows[i].want, "verify row %zu: %s, expected %s", i, authkit_status_name(st),
                  authkit_status_name(rows[i].want));
        CHECK_MSG(err.status == rows[i].want, "verify row %zu: err.status", i);
    }
    CHECK_OK(authkit_session_count(fx.ctx, &sessions_after, NULL));
    CHECK_INT(sessions_after, sessions_before);
    CHECK_INT(n_events(AUTHKIT_EVENT_USER_LOGGED_IN), 0);
    CHECK_INT(n_events(AUTHKIT_EVENT_LOGIN_FAILED), 0);
    group_end();
}

/* --- deletion --------------------------------------------------------------------------- */

static void test_delete(void) {
    group_begin();
    authkit_user frank, other, got;
    authkit_login_result r, ro;
    CHECK_OK(create("frank@example.com", "Frank", "gold-fern", &frank, NULL));
    CHECK_OK(create("other@example.com", "other", "gold-fern", &other, NULL));
    CHECK_OK(login("Frank", "gold-fern", &r, NULL));
    CHECK_OK(login("other", "gold-fern", &ro, NULL));
    CHECK_INT(db_sessions_of(frank.id), 1);
    CHECK_OK(authkit_user_delete(fx.ctx, frank.id, NULL));
    CHECK_INT(n_events(AUTHKIT_EVENT_USER_DELETED), 1);
    CHECK_STR(seen[AUTHKIT_EVENT_USER_DELETED].user_id, frank.id);
    CHECK_STATUS(authkit_user_delete(fx.ctx, frank.id, NULL), AUTHKIT_NOT_FOUND);
    CHECK_INT(n_events(AUTHKIT_EVENT_USER_DELETED), 1);
    CHECK_STATUS(authkit_user_get_by_id(fx.ctx, frank.id, &got, NULL), AUTHKIT_NOT_FOUND);
    CHECK_STATUS(authkit_user_get_by_email(fx.ctx, "frank@example.com", &got, NULL),
                 AUTHKIT_NOT_FOUND);
    CHECK_STATUS(authkit_user_get_by_username(fx.ctx, "frank", &got, NULL), AUTHKIT_NOT_FOUND);
    CHECK(!token_valid(r.token));
    CHECK_INT(db_sessions_of(frank.id), 0);
    CHECK_INT(db_count("SELECT count(*) FROM users WHERE id = ?1", frank.id), 0);
    CHECK_STATUS(login("Frank", "gold-fern", NULL, NULL), AUTHKIT_AUTHENTICATION);
    /* The other user keeps its session. */
    CHECK(token_valid(ro.token));
    CHECK_INT(db_sessions_of(other.id), 1);
    CHECK_INT(n_users(), 1);

    /* Email and username are free again (the username in other case too). */
    authkit_user again;
    CHECK_OK(create("FRANK@example.com", "frank", "teal-moss", &again, NULL));
    CHECK(strcmp(again.id, frank.id) != 0);
    CHECK_OK(login("frank", "teal-moss", NULL, NULL));

    /* Unknown, malformed, NULL ids. */
    static const char *const ids[] = {UNKNOWN_ID, "not-an-id", "", INJECTION, NULL};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        authkit_status st = authkit_user_delete(fx.ctx, ids[i], NULL);
        CHECK_MSG(st == AUTHKIT_NOT_FOUND, "delete row %zu: %s", i, authkit_status_name(st));
    }
    CHECK_INT(n_users(), 2);
    CHECK_INT(n_events(AUTHKIT_EVENT_USER_DELETED), 1);
    group_end();
}

/* --- stateless tokens ------------------------------------------------------------------ */

/* With signed tokens there are no rows to delete: a password change, a deactivation and a
 * deletion must still end every token issued before them. The clock moves between steps so
 * that no token is issued in the same microsecond as the change. */
static void test_stateless_user_changes(void) {
    memset(seen, 0, sizeof seen);
    fixture_options(&fx);
    fx.opts.enable_session_storage = false;
    fixture_open(&fx);
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_ALL, on_event, NULL, NULL));
    authkit_user sam;
    authkit_login_result r1, r2, r3;
    CHECK_OK(create("sam@example.com", "sam", "password-one", &sam, NULL));
    fixture_advance(&fx, 1);
    CHECK_OK(login("sam", "password-one", &r1, NULL));
    CHECK(token_valid(r1.token));

    fixture_advance(&fx, 1);
    CHECK_OK(authkit_user_set_password(fx.ctx, sam.id, "password-two", 12, NULL));
    CHECK_INT(n_events(AUTHKIT_EVENT_PASSWORD_CHANGED), 1);
    CHECK_INT(seen[AUTHKIT_EVENT_PASSWORD_CHANGED].count, 0);
    CHECK(!token_valid(r1.token));
    fixture_advance(&fx, 1);
    CHECK_OK(login("sam", "password-two", &r2, NULL));
    CHECK_STATUS(login("sam", "password-one", NULL, NULL), AUTHKIT_AUTHENTICATION);
    CHECK(token_valid(r2.token));

    fixture_advance(&fx, 1);
    authkit_user_update off = {.set_is_active = true, .is_active = false};
    CHECK_OK(authkit_user_update_fields(fx.ctx, sam.id, &off, NULL, NULL));
    CHECK_INT(n_events(AUTHKIT_EVENT_SESSIONS_REVOKED), 1);
    CHECK_INT(seen[AUTHKIT_EVENT_SESSIONS_REVOKED].count, 0);
    CHECK(!token_valid(r2.token));
    fixture_advance(&fx, 1);
    authkit_user_update on = {.set_is_active = true, .is_active = true};
    CHECK_OK(authkit_user_update_fields(fx.ctx, sam.id, &on, NULL, NULL));
    CHECK(!token_valid(r2.token)); /* reactivation does not revive old tokens */
    fixture_advance(&fx, 1);
    CHECK_OK(login("sam", "password-two", &r3, NULL));
    CHECK(token_valid(r3.token));

    CHECK_OK(authkit_user_delete(fx.ctx, sam.id, NULL));
    CHECK(!token_valid(r3.token));
    CHECK_INT(db_count("SELECT count(*) FROM auth_sessions WHERE ?1 IS NOT NULL", "x"), 0);
    group_end();
}

/* --- listing, search, count ------------------------------------------------------------- */

static void test_list_and_count(void) {
    group_begin();
    authkit_user made[15];
    for (int i = 0; i < 15; i++) {
        char email[64], username[32];
        snprintf(email, sizeof email, "user%02d@example.com", i);
        snprintf(username, sizeof username, "user%02d", i);
        CHECK_OK(create(email, username, NULL, &made[i], NULL));
        fixture_advance(&fx, 1);
    }
    CHECK_INT(n_users(), 15);
    struct {
        size_t offset, cap, want_n, first;
    } rows[] = {
        {0, 10, 10, 0},       {10, 10, 5, 10},
        {20, 10, 0, 0},       {15, 10, 0, 0},
        {14, 10, 1, 14},      {0, 15, 15, 0},
        {0, 100, 15, 0},      {3, 2, 2, 3},
        {SIZE_MAX, 10, 0, 0}, {SIZE_MAX / 2 + 1, 10, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        authkit_user out[100];
        memset(out, 0, sizeof out);
        size_t n = 999;
        authkit_status st = authkit_user_list(fx.ctx, rows[i].offset, out, rows[i].cap, &n, NULL);
        CHECK_MSG(st == AUTHKIT_OK, "list row %zu: %s", i, authkit_status_name(st));
        CHECK_MSG(n == rows[i].want_n, "list row %zu: n == %zu, expected %zu", i, n,
                  rows[i].want_n);
        for (size_t k = 0; k < n && k < rows[i].want_n; k++) {
            char what[48];
            snprintf(what, sizeof what, "list row %zu item %zu", i, k);
            check_same_user(what, &out[k], &made[rows[i].first + k]);
        }
        CHECK_MSG(out[n < 100 ? n : 99].id[0] == '\0' || n == 100, "list row %zu wrote past n", i);
    }
    size_t n = 999;
    CHECK_OK(authkit_user_list(fx.ctx, 0, NULL, 0, &n, NULL));
    CHECK_INT(n, 0);
    CHECK_STATUS(authkit_user_list(fx.ctx, 0, NULL, 5, &n, NULL), AUTHKIT_INVALID_ARGUMENT);
    authkit_user one;
    CHECK_STATUS(authkit_user_list(fx.ctx, 0, &one, 1, NULL, NULL), AUTHKIT_INVALID_ARGUMENT);

    CHECK_OK(authkit_user_delete(fx.ctx, made[3].id, NULL));
    CHECK_INT(n_users(), 14);
    authkit_user out[20];
    CHECK_OK(authkit_user_list(fx.ctx, 0, out, 20, &n, NULL));
    CHECK_INT(n, 14);
    CHECK_STR(out[3].username, "user04");
    CHECK_STATUS(authkit_user_count(fx.ctx, NULL, NULL), AUTHKIT_INVALID_ARGUMENT);
    group_end();
}

static void test_search(void) {
    group_begin();
    static const struct {
        const char *email, *username;
    } people[] = {
        {"alice@example.com", "Alice"},     {"bob@example.com", "bob_smith"},
        {"carol_x@example.com", "carol"},   {"dave@example.com", "dave"},
        {"alison@example.net", "ALIson"},   {"o'brien@example.org", "obrien"},
        {"back\\slash@example.org", "bs1"},
    };
    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++) {
        CHECK_OK(create(people[i].email, people[i].username, NULL, NULL, NULL));
        fixture_advance(&fx, 1);
    }
    struct {
        const char *query, *want; /* usernames, oldest first, comma-separated */
    } rows[] = {
        {"ALI", "Alice,ALIson"},
        {"ali", "Alice,ALIson"},
        {"%", ""},
        {"%%", ""},
        {"_", "bob_smith,carol"},
        {"b_s", "bob_smith"},
        {"a_i", ""}, /* "_" as a wildcard would match "ali" */
        {"a%e", ""},
        {"\\", "bs1"},
        {"\\s", "bs1"},
        {"example.net", "ALIson"},
        {"@EXAMPLE.COM", "Alice,bob_smith,carol,dave"},
        {"'", "obrien"},
        {INJECTION, ""},
        {"x' OR 1=1 --", ""},
        {"nobody", ""},
        {"bob_smith", "bob_smith"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        authkit_user out[16];
        size_t n = 999;
        authkit_status st = authkit_user_search(fx.ctx, rows[i].query, out, 16, &n, NULL);
        CHECK_MSG(st == AUTHKIT_OK, "search row %zu: %s", i, authkit_status_name(st));
        char got[256] = "";
        for (size_t k = 0; k < n && k < 16; k++) {
            size_t len = strlen(got);
            snprintf(got + len, sizeof got - len, "%s%s", k ? "," : "", out[k].username);
        }
        CHECK_MSG(strcmp(got, rows[i].want) == 0,
                  "search row %zu (\"%s\"): got \"%s\", want \"%s\"", i, rows[i].query, got,
                  rows[i].want);
    }
    /* The cap is respected, oldest first. */
    authkit_user out[3];
    memset(out, 0, sizeof out);
    size_t n = 999;
    CHECK_OK(authkit_user_search(fx.ctx, "example", out, 2, &n, NULL));
    CHECK_INT(n, 2);
    CHECK_STR(out[0].username, "Alice");
    CHECK_STR(out[1].username, "bob_smith");
    CHECK_STR(out[2].id, "");
    CHECK_OK(authkit_user_search(fx.ctx, "example", NULL, 0, &n, NULL));
    CHECK_INT(n, 0);
    CHECK_STATUS(authkit_user_search(fx.ctx, NULL, out, 2, &n, NULL), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_user_search(fx.ctx, "a", NULL, 2, &n, NULL), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_user_search(fx.ctx, "a", out, 2, NULL, NULL), AUTHKIT_INVALID_ARGUMENT);

    /* A long query is just a query that matches nothing, not a storage failure. */
    static const size_t long_lens[] = {254, 4096, 30000, 100000};
    for (size_t i = 0; i < sizeof long_lens / sizeof long_lens[0]; i++) {
        char *q = malloc(long_lens[i] + 1);
        if (!q)
            continue;
        memset(q, i % 2 ? '%' : 'q', long_lens[i]);
        q[long_lens[i]] = '\0';
        authkit_error err;
        n = 999;
        authkit_status st = authkit_user_search(fx.ctx, q, out, 2, &n, &err);
        CHECK_MSG(st == AUTHKIT_OK && n == 0, "long search row %zu (%zu bytes): %s n=%zu (%s)", i,
                  long_lens[i], authkit_status_name(st), n, err.message);
        free(q);
    }

    /* Injection-shaped values everywhere are plain values. */
    authkit_user got;
    CHECK_OK(authkit_user_get_by_email(fx.ctx, "O'Brien@example.org", &got, NULL));
    CHECK_STR(got.username, "obrien");
    CHECK_STATUS(login(INJECTION, "anything-at-all", NULL, NULL), AUTHKIT_AUTHENTICATION);
    CHECK_STATUS(login("' OR 1=1 --@example.com", "anything-at-all", NULL, NULL),
                 AUTHKIT_AUTHENTICATION);
    CHECK_INT(n_users(), sizeof people / sizeof people[0]);
    group_end();
}

/* --- roles ------------------------------------------------------------------------------ */

static void test_roles(void) {
    group_begin();
    static const char *const editor_perms[] = {"edit_post", "delete_own_post"};
    static const char *const admin_perms[] = {"delete_any_post"};
    CHECK_OK(authkit_role_define(fx.ctx, "editor", editor_perms, 2));
    CHECK_OK(authkit_role_define(fx.ctx, "admin", admin_perms, 1));
    authkit_user editor, admin, ghost, plain, sleepy;
    authkit_user_new in = {.email = "ed@example.com", .username = "eddie", .global_role = "editor"};
    CHECK_OK(authkit_user_create(fx.ctx, &in, &editor, NULL));
    in = (authkit_user_new){.email = "ad@example.com", .username = "adam", .global_role = "admin"};
    CHECK_OK(authkit_user_create(fx.ctx, &in, &admin, NULL));
    in =
        (authkit_user_new){.email = "gh@example.com", .username = "ghost1", .global_role = "ghost"};
    CHECK_OK(authkit_user_create(fx.ctx, &in, &ghost, NULL));
    CHECK_OK(create("pl@example.com", "plain", NULL, &plain, NULL));
    in = (authkit_user_new){
        .email = "sl@example.com", .username = "sleepy", .global_role = "editor", .inactive = true};
    CHECK_OK(authkit_user_create(fx.ctx, &in, &sleepy, NULL));

    struct {
        const authkit_user *user;
        const char *permission;
        bool want;
    } rows[] = {
        {&editor, "edit_post", true},        {&editor, "delete_own_post", true},
        {&editor, "delete_any_post", false}, {&editor, "delete_post", false},
        {&editor, "EDIT_POST", false},       {&editor, "edit_pos", false},
        {&editor, "edit_post ", false},      {&editor, "", false},
        {&admin, "delete_any_post", true},   {&admin, "edit_post", false},
        {&admin, "delete_post", false},      {&ghost, "edit_post", false},
        {&ghost, "delete_post", false},      {&plain, "edit_post", false},
        {&sleepy, "edit_post", false},       {&sleepy, "delete_own_post", false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bool got = authkit_user_has_permission(fx.ctx, rows[i].user, rows[i].permission);
        CHECK_MSG(got == rows[i].want, "permission row %zu (%s, %s): %d", i, rows[i].user->username,
                  rows[i].permission, got);
    }
    CHECK(!authkit_user_has_permission(fx.ctx, &editor, NULL));
    CHECK(!authkit_user_has_permission(fx.ctx, NULL, "edit_post"));
    CHECK(!authkit_user_has_permission(NULL, &editor, "edit_post"));

    /* Redefining replaces; defining the unknown role makes it known. */
    static const char *const editor_v2[] = {"publish"};
    CHECK_OK(authkit_role_define(fx.ctx, "editor", editor_v2, 1));
    CHECK(!authkit_user_has_permission(fx.ctx, &editor, "edit_post"));
    CHECK(!authkit_user_has_permission(fx.ctx, &editor, "delete_own_post"));
    CHECK(authkit_user_has_permission(fx.ctx, &editor, "publish"));
    CHECK(authkit_user_has_permission(fx.ctx, &admin, "delete_any_post"));
    CHECK_OK(authkit_role_define(fx.ctx, "ghost", editor_perms, 2));
    CHECK(authkit_user_has_permission(fx.ctx, &ghost, "edit_post"));
    CHECK_OK(authkit_role_define(fx.ctx, "ghost", NULL, 0));
    CHECK(!authkit_user_has_permission(fx.ctx, &ghost, "edit_post"));
    /* A reactivated user gets its role's permissions again. */
    authkit_user_update on = {.set_is_active = true, .is_active = true};
    CHECK_OK(authkit_user_update_fields(fx.ctx, sleepy.id, &on, &sleepy, NULL));
    CHECK(authkit_user_has_permission(fx.ctx, &sleepy, "publish"));

    /* Bad definitions. */
    static const char *const with_null[] = {"ok", NULL};
    CHECK_STATUS(authkit_role_define(fx.ctx, "bad role", editor_perms, 2),
                 AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_role_define(fx.ctx, NULL, editor_perms, 2), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_role_define(fx.ctx, "admin", NULL, 2), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_role_define(fx.ctx, "admin", with_null, 2), AUTHKIT_INVALID_ARGUMENT);
    CHECK(authkit_user_has_permission(fx.ctx, &admin, "delete_any_post"));

    struct {
        const authkit_user *user;
        const char *role;
        bool want;
    } roles[] = {
        {&editor, "editor", true}, {&editor, "admin", false}, {&editor, "Editor", false},
        {&admin, "admin", true},   {&plain, "user", true},    {&plain, "", false},
        {&ghost, "ghost", true},   {&editor, NULL, false},
    };
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        bool got = authkit_user_has_role(roles[i].user, roles[i].role);
        CHECK_MSG(got == roles[i].want, "role row %zu: %d", i, got);
    }
    CHECK(!authkit_user_has_role(NULL, "user"));
    group_end();
}

/* --- argument checks -------------------------------------------------------------------- */

static void test_null_ctx(void) {
    authkit_user u;
    memset(&u, 0, sizeof u);
    authkit_error err;
    size_t n = 0;
    authkit_user_new in = {.email = "a@example.com", .username = "abc"};
    authkit_user_update up = {.email = "a@example.com"};
    static const char *const perms[] = {"p"};
    authkit_status got[] = {
        authkit_user_create(NULL, &in, &u, &err),
        authkit_user_get_by_id(NULL, UNKNOWN_ID, &u, &err),
        authkit_user_get_by_email(NULL, "a@example.com", &u, &err),
        authkit_user_get_by_username(NULL, "abc", &u, &err),
        authkit_user_update_fields(NULL, UNKNOWN_ID, &up, &u, &err),
        authkit_user_set_password(NULL, UNKNOWN_ID, "gold-fern", 9, &err),
        authkit_user_verify_password(NULL, UNKNOWN_ID, "gold-fern", 9, &err),
        authkit_user_delete(NULL, UNKNOWN_ID, &err),
        authkit_user_list(NULL, 0, &u, 1, &n, &err),
        authkit_user_search(NULL, "a", &u, 1, &n, &err),
        authkit_user_count(NULL, &n, &err),
        authkit_role_define(NULL, "editor", perms, 1),
        authkit_user_create(NULL, &in, &u, NULL),
        authkit_user_count(NULL, &n, NULL),
    };
    for (size_t i = 0; i < sizeof got / sizeof got[0]; i++)
        CHECK_MSG(got[i] == AUTHKIT_INVALID_ARGUMENT, "NULL ctx row %zu: %s", i,
                  authkit_status_name(got[i]));
    CHECK(!authkit_user_has_permission(NULL, &u, "p"));
}

int main(void) {
    test_create_fields();
    test_stored_hash();
    test_create_without_password();
    test_create_with_hash();
    test_create_password_and_hash();
    test_validation_email();
    test_validation_username();
    test_validation_role();
    test_validation_password();
    test_conflicts();
    test_lookups();
    test_update();
    test_deactivate();
    test_set_password();
    test_verify_password();
    test_delete();
    test_stateless_user_changes();
    test_list_and_count();
    test_search();
    test_roles();
    test_null_ctx();
    return check_done("test_user");
}
