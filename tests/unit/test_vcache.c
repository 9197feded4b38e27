/* The validation cache (src/session/cache.h). A second context on the same database file
 * stands for another process (the CLI, another server): every change it makes through the
 * library must end what the first context has cached at once, without the clock moving.
 * A change made behind the library's back (SQL by hand) shows within the one-second TTL.
 * The fixture's clock moves; nothing sleeps. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sodium.h>

#include "check.h"
#include "fixture.h"

#define PW "copper-lantern-meadow-42"

static struct fixture f;
static authkit_ctx *other; /* the "other process" */
static int expired_events;

static int count_expired(const authkit_event *e, void *arg) {
    (void)arg;
    expired_events += e->type == AUTHKIT_EVENT_SESSION_EXPIRED;
    return 0;
}

static void open_both_in(bool stateless) {
    fixture_options(&f);
    f.opts.enable_session_storage = !stateless;
    fixture_open(&f);
    authkit_error err;
    if (authkit_open(&f.opts, &other, &err) != AUTHKIT_OK) {
        fprintf(stderr, "second authkit_open: %s\n", err.message);
        exit(99);
    }
}

static void open_both(void) {
    open_both_in(false);
}

static void close_both(void) {
    authkit_close(other);
    other = NULL;
    fixture_teardown(&f);
}

static authkit_login_result login(const char *name, int64_t lifetime_seconds) {
    authkit_login_result r;
    authkit_error err;
    authkit_session_opts o = {.lifetime_seconds = lifetime_seconds};
    CHECK_MSG(authkit_authenticate(f.ctx, name, PW, strlen(PW), &o, &r, &err) == AUTHKIT_OK,
              "login %s: %s", name, err.message);
    return r;
}

static bool valid(const char *token, authkit_user *u) {
    authkit_user scratch;
    return authkit_session_validate(f.ctx, token, u ? u : &scratch, NULL, NULL) == AUTHKIT_OK;
}

/* SQL on the database file through a connection of its own: not through the library. */
static void by_hand(const char *sql) {
    sqlite3 *db = NULL;
    CHECK(sqlite3_open_v2(f.path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    CHECK_MSG(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
              sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* The cache really serves repeats: a row deleted by hand is not noticed for up to the
 * TTL, and is noticed once it has passed. (Also the bound on what such edits can do.) */
static void test_hand_edits_show_within_the_ttl(void) {
    open_both();
    fixture_user(&f, "hand_u", PW);
    authkit_login_result r = login("hand_u", 0);
    CHECK(valid(r.token, NULL)); /* read from the store, now cached */
    by_hand("DELETE FROM auth_sessions");
    atomic_fetch_add(&f.now, 999999); /* 1 us short of the TTL */
    CHECK(valid(r.token, NULL));
    authkit_user u;
    CHECK_INT(authkit_session_validate(other, r.token, &u, NULL, NULL),
              AUTHKIT_NOT_AUTHENTICATED); /* nothing cached there */
    atomic_fetch_add(&f.now, 1);
    CHECK(!valid(r.token, NULL));
    close_both();
}

enum change {
    LOGOUT,
    LOGOUT_ALL,
    REVOKE,
    LOGOUT_OTHERS,
    LOGOUT_EVERYONE,
    DISABLE,
    DELETE_USER,
    SET_PASSWORD,
    CHANGE_ROLE,
    REQUIRE_CHANGE,
    CHANGES_
};

static const char *const change_names[CHANGES_] = {
    "logout",  "logout_all", "revoke",       "logout_others", "logout_everyone",
    "disable", "delete",     "set_password", "change_role",   "require_password_change",
};

/* One change made by the other context to the user of `r` (whose second session is
 * `keep`). */
static void make_change(enum change c, const authkit_login_result *r,
                        const authkit_login_result *keep) {
    bool deleted;
    const char *id = r->user.id;
    switch (c) {
        case LOGOUT:
            CHECK_OK(authkit_logout(other, r->token, &deleted, NULL));
            CHECK(deleted);
            break;
        case LOGOUT_ALL:
            CHECK_OK(authkit_logout_all(other, id, NULL, NULL));
            break;
        case REVOKE:
            CHECK_OK(authkit_session_revoke(other, id, r->session_id, NULL));
            break;
        case LOGOUT_OTHERS:
            CHECK_OK(authkit_logout_others(other, id, keep->session_id, NULL, NULL));
            break;
        case LOGOUT_EVERYONE:
            CHECK_OK(authkit_logout_everyone(other, NULL, NULL));
            break;
        case DISABLE:
            CHECK_OK(authkit_user_update_fields(
                other, id, &(authkit_user_update){.set_is_active = true, .is_active = false}, NULL,
                NULL));
            break;
        case DELETE_USER:
            CHECK_OK(authkit_user_delete(other, id, NULL));
            break;
        case SET_PASSWORD:
            CHECK_OK(authkit_user_set_password(other, id, "another-long-passphrase-77", 26, NULL));
            break;
        case CHANGE_ROLE:
            CHECK_OK(authkit_user_update_fields(
                other, id, &(authkit_user_update){.global_role = "admin"}, NULL, NULL));
            break;
        case REQUIRE_CHANGE:
            CHECK_OK(authkit_user_require_password_change(other, id, NULL));
            break;
        case CHANGES_:
            break;
    }
}

/* Every change through the library, by another process, ends the cached validation at
 * once: the clock does not move between the cached validation and the check. */
static void test_changes_elsewhere_end_cached_validations(void) {
    open_both();
    for (int c = 0; c < CHANGES_; c++) {
        char name[32];
        snprintf(name, sizeof name, "chg_%d", c);
        fixture_user(&f, name, PW);
        authkit_login_result r = login(name, 0), keep = login(name, 0);
        authkit_user u;
        CHECK(valid(r.token, &u));
        CHECK(valid(r.token, &u)); /* a hit */
        CHECK_STR(u.global_role, "user");
        make_change((enum change)c, &r, &keep);
        bool still = valid(r.token, &u);
        if (c == CHANGE_ROLE) {
            CHECK_MSG(still && strcmp(u.global_role, "admin") == 0,
                      "after change_role elsewhere: valid %d, role %s", still, u.global_role);
        } else {
            CHECK_MSG(!still, "a cached validation survived %s in another process",
                      change_names[c]);
        }
    }
    close_both();
}

/* Stateless mode: the same for a signed token, with the changes that apply to one (a
 * single signed token cannot be logged out or revoked alone). */
static void test_stateless(void) {
    static const enum change changes[] = {LOGOUT_ALL,   LOGOUT_EVERYONE, DISABLE,       DELETE_USER,
                                          SET_PASSWORD, CHANGE_ROLE,     REQUIRE_CHANGE};
    open_both_in(true);
    for (size_t c = 0; c < sizeof changes / sizeof changes[0]; c++) {
        char name[32];
        snprintf(name, sizeof name, "sl_%zu", c);
        fixture_user(&f, name, PW);
        authkit_login_result r = login(name, 0);
        authkit_user u;
        CHECK(valid(r.token, &u));
        CHECK(valid(r.token, &u));      /* a hit */
        atomic_fetch_add(&f.now, 1000); /* the change comes after the token's issue */
        make_change(changes[c], &r, &r);
        bool still = valid(r.token, &u);
        if (changes[c] == CHANGE_ROLE) {
            CHECK_MSG(still && strcmp(u.global_role, "admin") == 0,
                      "stateless, after change_role elsewhere: valid %d, role %s", still,
                      u.global_role);
        } else {
            CHECK_MSG(!still, "a cached signed token survived %s in another process",
                      change_names[changes[c]]);
        }
    }
    /* Expiry is judged on every hit. */
    fixture_user(&f, "sl_exp", PW);
    authkit_login_result r = login("sl_exp", 2);
    atomic_fetch_add(&f.now, 1500000);
    CHECK(valid(r.token, NULL)); /* cached at +1.5 s; the token ends at +2 s */
    atomic_fetch_add(&f.now, 500000);
    CHECK(!valid(r.token, NULL));
    /* A hand edit shows within the TTL. */
    fixture_user(&f, "sl_hand", PW);
    r = login("sl_hand", 0);
    CHECK(valid(r.token, NULL));
    by_hand("UPDATE users SET sessions_valid_after = 9000000000000000 WHERE username = 'sl_hand'");
    CHECK(valid(r.token, NULL));
    atomic_fetch_add(&f.now, 1000000);
    CHECK(!valid(r.token, NULL));
    close_both();
}

/* A hit never outlives the session: expiry is judged on every hit, from the store. */
static void test_hit_does_not_outlive_expiry(void) {
    open_both();
    CHECK_OK(authkit_event_subscribe(f.ctx, AUTHKIT_EVENT_ALL, count_expired, NULL, NULL));
    expired_events = 0;
    fixture_user(&f, "exp_u", PW);
    authkit_login_result r = login("exp_u", 1);
    atomic_fetch_add(&f.now, 500000);
    CHECK(valid(r.token, NULL)); /* cached at +0.5 s, well within the TTL at +1 s */
    atomic_fetch_add(&f.now, 500000);
    CHECK(!valid(r.token, NULL));
    CHECK_INT(expired_events, 1); /* the store path ran: row deleted, event published */
    CHECK_INT(fixture_query_int(&f, "SELECT COUNT(*) FROM auth_sessions"), 0);
    close_both();
}

static uint64_t counter_value(const char *path) {
    uint64_t v = 0;
    int fd = open(path, O_RDONLY);
    CHECK_MSG(fd >= 0, "no change counter at %s", path);
    if (fd >= 0) {
        CHECK(read(fd, &v, sizeof v) == (ssize_t)sizeof v);
        close(fd);
    }
    return v;
}

/* The counter lives next to the database, shared by both contexts, and moves with
 * revoking writes only (logins and validations leave it alone). */
static void test_counter_file(void) {
    open_both();
    char path[256];
    snprintf(path, sizeof path, "%s-revocations", f.path);
    fixture_user(&f, "cnt_u", PW);
    uint64_t before = counter_value(path);
    authkit_login_result r = login("cnt_u", 0);
    CHECK(valid(r.token, NULL));
    CHECK(counter_value(path) == before);
    bool deleted;
    CHECK_OK(authkit_logout(other, r.token, &deleted, NULL));
    CHECK(counter_value(path) > before);
    close_both();
}

/* The counter file is created like SQLite's -wal and -shm: the database's permission bits
 * whatever the umask, and (when root creates it) the database's owner, so that the
 * database's usual users can still open it after an operator ran the CLI as root. */
static void test_counter_file_permissions(void) {
    fixture_options(&f);
    int fd = open(f.path, O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && fchmod(fd, 0660) == 0);
    bool root = geteuid() == 0;
    if (root)
        CHECK(fchown(fd, 65534, 65534) == 0); /* nobody */
    close(fd);
    mode_t old = umask(022);
    fixture_open(&f);
    umask(old);
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s-revocations", f.path);
    CHECK(stat(path, &st) == 0);
    CHECK_MSG((st.st_mode & 0777) == 0660, "mode %o", (unsigned)(st.st_mode & 0777));
    if (root)
        CHECK_MSG(st.st_uid == 65534 && st.st_gid == 65534, "owner %u:%u", (unsigned)st.st_uid,
                  (unsigned)st.st_gid);
    fixture_teardown(&f);
}

/* ":memory:" has no file to share and no other process: the cache still works and a
 * logout still ends it. */
static void test_memory_database(void) {
    authkit_options o;
    authkit_options_init(&o);
    o.database_url = "sqlite://:memory:";
    o.session_secret = TEST_SECRET;
    o.bcrypt_cost = 4;
    o.cleanup_interval_ms = 0;
    authkit_ctx *ctx;
    authkit_error err;
    CHECK_MSG(authkit_open(&o, &ctx, &err) == AUTHKIT_OK, "open :memory:: %s", err.message);
    authkit_user u;
    CHECK_OK(authkit_user_create(ctx,
                                 &(authkit_user_new){.email = "m@example.com",
                                                     .username = "mem_u",
                                                     .password = PW,
                                                     .password_len = strlen(PW)},
                                 &u, NULL));
    authkit_login_result r;
    CHECK_OK(authkit_authenticate(ctx, "mem_u", PW, strlen(PW), NULL, &r, NULL));
    CHECK_OK(authkit_session_validate(ctx, r.token, &u, NULL, NULL));
    CHECK_OK(authkit_session_validate(ctx, r.token, &u, NULL, NULL));
    bool deleted;
    CHECK_OK(authkit_logout(ctx, r.token, &deleted, NULL));
    CHECK_INT(authkit_session_validate(ctx, r.token, &u, NULL, NULL), AUTHKIT_NOT_AUTHENTICATED);
    authkit_close(ctx);
}

int main(void) {
    test_hand_edits_show_within_the_ttl();
    test_changes_elsewhere_end_cached_validations();
    test_hit_does_not_outlive_expiry();
    test_stateless();
    test_counter_file();
    test_counter_file_permissions();
    test_memory_database();
    return check_done("test_vcache");
}
