/* The store conformance suite (tests/support/store_conformance.h) run against the SQLite
 * adapter, on files in a temporary directory and on ":memory:", plus what only SQLite
 * has: opening failures, schema versions and the bytes of the database file. */
#include <ftw.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "store/sqlite/sqlite_internal.h"
#include "store/store.h"
#include "store_conformance.h"

static char tmpdir[] = "/tmp/authkit-store-XXXXXX";
static int db_counter;

static bool fresh_file(void *arg, char *out, size_t size) {
    (void)arg;
    int n = snprintf(out, size, "%s/db-%d.db", tmpdir, ++db_counter);
    return n > 0 && (size_t)n < size;
}

static bool fresh_memory(void *arg, char *out, size_t size) {
    (void)arg;
    authkit__strlcpy(out, ":memory:", size);
    return true;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Runs SQL on a database opened with SQLite directly (not through the adapter). */
static bool raw_exec(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
              sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    return ok;
}

/* The first column of the first row of `sql` as an integer, or -1. */
static long long raw_int(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* The schema as text: every table and index definition, in name order. */
static void raw_schema(const char *path, char *out, size_t size) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT type || ' ' || name || ': ' || coalesce(sql, '') "
                           "FROM sqlite_schema ORDER BY name",
                           -1, &st, NULL) == SQLITE_OK) {
        size_t used = 0;
        while (sqlite3_step(st) == SQLITE_ROW && used < size) {
            int n = snprintf(out + used, size - used, "%s\n", sqlite3_column_text(st, 0));
            if (n < 0)
                break;
            used += (size_t)n;
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Opening must fail with AUTHKIT_STORE, the path and a reason in the message. */
static void test_open_failures(void) {
    char missing[256], dir[256], garbage[256], newer[256], text[256];
    snprintf(missing, sizeof missing, "%s/no-such-dir/x.db", tmpdir);
    snprintf(dir, sizeof dir, "%s/a-directory", tmpdir);
    snprintf(garbage, sizeof garbage, "%s/garbage.db", tmpdir);
    snprintf(newer, sizeof newer, "%s/newer.db", tmpdir);
    snprintf(text, sizeof text, "%s/text.db", tmpdir);
    CHECK(mkdir(dir, 0700) == 0);
    write_file(garbage, "This is not a database, just some text that happens to be long "
                        "enough to cover a header. 0123456789abcdefghijklmnopqrstuvwxyz\n");
    {
        uint8_t noise[8192];
        randombytes_buf(noise, sizeof noise);
        FILE *f = fopen(text, "wb");
        CHECK(f != NULL);
        if (f) {
            fwrite(noise, 1, sizeof noise, f);
            fclose(f);
        }
    }
    CHECK(raw_exec(newer, "PRAGMA user_version = 99; CREATE TABLE t (x INTEGER);"));

    static const struct {
        int which;
        const char *reason; /* part of the message, or NULL */
    } cases[] = {
        {0, "unable to open"}, {1, NULL}, {2, "not a database"}, {3, "schema version 99"},
        {4, "not a database"},
    };
    const char *paths[] = {missing, dir, garbage, newer, text};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = paths[cases[i].which];
        authkit_error err;
        void *st = (void *)&err; /* must be reset to NULL */
        authkit_status s = authkit__store_sqlite.open(path, &st, &err);
        CHECK_MSG(s == AUTHKIT_STORE, "open case %zu (%s): %s", i, path, authkit_status_name(s));
        CHECK_MSG(st == NULL, "open case %zu: state not NULL", i);
        CHECK_MSG(err.status == AUTHKIT_STORE, "open case %zu: err.status", i);
        CHECK_MSG(strstr(err.message, path) != NULL, "open case %zu: path not in \"%s\"", i,
                  err.message);
        if (cases[i].reason)
            CHECK_MSG(strstr(err.message, cases[i].reason) != NULL,
                      "open case %zu: \"%s\" not in \"%s\"", i, cases[i].reason, err.message);
        if (s == AUTHKIT_OK)
            authkit__store_sqlite.close(st);
    }
    /* A failed open changes nothing: the newer database is still at its version. */
    CHECK_INT(raw_int(newer, "PRAGMA user_version"), 99);
    struct stat sb;
    CHECK(stat(missing, &sb) != 0);

    authkit_error err;
    void *st = NULL;
    CHECK_STATUS(authkit__store_sqlite.open("", &st, &err), AUTHKIT_STORE);
    CHECK(st == NULL);
}

/* A fresh file, an empty SQLite file made by someone else (version 0) and a database
 * opened twice all end in the same schema, at the current version, in WAL mode. */
static void test_schema(void) {
    char a[256], b[256], c[256];
    static char sa[8192], sb[8192], sc[8192];
    snprintf(a, sizeof a, "%s/schema-a.db", tmpdir);
    snprintf(b, sizeof b, "%s/schema-b.db", tmpdir);
    snprintf(c, sizeof c, "%s/schema-c.db", tmpdir);
    CHECK(raw_exec(b, "PRAGMA user_version = 0"));
    const char *paths[] = {a, b, c, c};
    for (size_t i = 0; i < 4; i++) {
        authkit_error err;
        void *st = NULL;
        CHECK_MSG(authkit__store_sqlite.open(paths[i], &st, &err) == AUTHKIT_OK,
                  "schema row %zu: %s", i, err.message);
        authkit__store_sqlite.close(st);
    }
    raw_schema(a, sa, sizeof sa);
    raw_schema(b, sb, sizeof sb);
    raw_schema(c, sc, sizeof sc);
    CHECK(strstr(sa, "CREATE TABLE users") != NULL);
    CHECK(strstr(sa, "auth_sessions_expires_at") != NULL);
    CHECK_STR(sb, sa);
    CHECK_STR(sc, sa);
    for (size_t i = 0; i < 3; i++) {
        CHECK_MSG(raw_int(paths[i], "PRAGMA user_version") == AUTHKIT__SQLITE_SCHEMA_VERSION,
                  "schema row %zu: version", i);
        CHECK_MSG(raw_int(paths[i], "SELECT journal_mode = 'wal' FROM pragma_journal_mode") == 1,
                  "schema row %zu: not WAL", i);
    }
}

static bool file_contains(const char *path, const void *needle, size_t len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool found = false;
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    CHECK_MSG(feof(f), "%s is larger than the test reads", path);
    fclose(f);
    found = n >= len && memmem(buf, n, needle, len) != NULL;
    return found;
}

/* The token never reaches the file, only its 32-byte digest. */
static void test_token_not_stored(void) {
    char path[256], wal[300];
    snprintf(path, sizeof path, "%s/tokens.db", tmpdir);
    snprintf(wal, sizeof wal, "%s-wal", path);
    const struct authkit_store_ops *ops = &authkit__store_sqlite;
    enum { N = 20 };
    char tokens[N][AUTHKIT_TOKEN_CHARS + 1];
    uint8_t digests[N][AUTHKIT_DIGEST_BYTES];
    authkit_error err;
    void *st = NULL;
    CHECK_OK(ops->open(path, &st, &err));
    if (!st)
        return;
    struct authkit_store_user u;
    sc_user(&u, 1, "one@example.com", "one", SC_T0);
    CHECK_OK(ops->user_insert(st, &u, &err));
    for (int i = 0; i < N; i++) {
        struct authkit_store_session s;
        sc_session(&s, i, 1, SC_T0, SC_T0 + SC_HOUR);
        authkit__token_new(tokens[i]);
        authkit__token_digest(digests[i], tokens[i], AUTHKIT_TOKEN_CHARS);
        memcpy(s.token_digest, digests[i], AUTHKIT_DIGEST_BYTES);
        CHECK_OK(ops->session_insert(st, &s, &err));
        struct authkit_store_session got;
        CHECK_OK(ops->session_find(st, digests[i], &got, NULL, &err));
    }
    ops->close(st);

    CHECK_INT(raw_int(path, "SELECT count(*) FROM auth_sessions"), N);
    CHECK_INT(raw_int(path, "SELECT count(*) FROM auth_sessions WHERE typeof(token_hash) = 'blob' "
                            "AND length(token_hash) = 32"),
              N);
    /* The column refuses anything but 32 bytes. */
    CHECK(!raw_exec(path, "PRAGMA foreign_keys = OFF; INSERT INTO auth_sessions VALUES "
                          "('x', 'y', x'00', 0, 0, 0, NULL, NULL)"));
    for (int i = 0; i < N; i++) {
        bool in_db = file_contains(path, tokens[i], AUTHKIT_TOKEN_CHARS);
        bool in_wal = file_contains(wal, tokens[i], AUTHKIT_TOKEN_CHARS);
        CHECK_MSG(!in_db && !in_wal, "token %d found in the database files", i);
        /* ...while the digest is there: the search looked in the right place. */
        CHECK_MSG(file_contains(path, digests[i], AUTHKIT_DIGEST_BYTES) ||
                      file_contains(wal, digests[i], AUTHKIT_DIGEST_BYTES),
                  "digest %d not found in the database files", i);
    }
    sodium_memzero(tokens, sizeof tokens);
}

/* Errors from SQLite itself come back as AUTHKIT_STORE with SQLite's message. */
static void test_store_errors(void) {
    char path[256];
    snprintf(path, sizeof path, "%s/dropped.db", tmpdir);
    const struct authkit_store_ops *ops = &authkit__store_sqlite;
    authkit_error err;
    void *st = NULL;
    size_t n = 0;
    CHECK_OK(ops->open(path, &st, &err));
    if (!st)
        return;
    CHECK(raw_exec(path, "DROP TABLE auth_sessions"));
    CHECK_STATUS(ops->session_count(st, SC_T0, &n, &err), AUTHKIT_STORE);
    CHECK_INT(err.status, AUTHKIT_STORE);
    CHECK(strstr(err.message, "no such table") != NULL);
    CHECK_OK(ops->user_count(st, &n, &err));
    ops->close(st);
}

int main(void) {
    if (sodium_init() < 0)
        return 1;
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    struct sc_target file = {&authkit__store_sqlite, fresh_file, NULL, true, "sqlite file"};
    struct sc_target memory = {&authkit__store_sqlite, fresh_memory, NULL, false, "sqlite memory"};
    sc_run(&file);
    sc_run(&memory);
    test_open_failures();
    test_schema();
    test_token_not_stored();
    test_store_errors();
    nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return check_done("store_conformance");
}
