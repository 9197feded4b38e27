/* Login-throttling counters in SQLite (the port's throttle_* operations, store/store.h).
 * An attempt reads and writes its counters between BEGIN IMMEDIATE and COMMIT: SQLite's
 * single writer lock serialises every attempt on the file, across threads and processes,
 * so no two attempts can both pass a counter that admits only one. */
#include <string.h>

#include "core/error.h"
#include "store/sqlite/sqlite_internal.h"

enum stmt { ST_GET = AUTHKIT__SQLITE_STMT_THROTTLE, ST_PUT, ST_DELETE, ST_PRUNE, ST_END_ };

_Static_assert(ST_END_ <= AUTHKIT__SQLITE_MAX_STMTS, "statement cache too small");

/* clang-format off */
static const char *const sql[] = {
    [ST_GET - ST_GET] =
        "SELECT attempts, blocked_until, updated_at FROM login_throttle WHERE key = ?1",
    [ST_PUT - ST_GET] =
        ("INSERT INTO login_throttle (key, attempts, blocked_until, updated_at) "
         "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET "
         "attempts = excluded.attempts, blocked_until = excluded.blocked_until, "
         "updated_at = excluded.updated_at"),
    [ST_DELETE - ST_GET] =
        "DELETE FROM login_throttle WHERE key = ?1",
    /* Oldest first through the updated_at index, at most ?3 rows per call. */
    [ST_PRUNE - ST_GET] =
        ("DELETE FROM login_throttle WHERE key IN (SELECT key FROM login_throttle "
         "WHERE updated_at <= ?2 AND blocked_until <= ?1 ORDER BY updated_at LIMIT ?3)"),
};
/* clang-format on */

static authkit_status prepare(struct authkit__sqlite_conn *c, int index, sqlite3_stmt **st,
                              authkit_error *err) {
    return authkit__sqlite_stmt(c, index, sql[index - ST_GET], st, err);
}

/* Runs `st` to completion with key `id` bound as ?1 (the rest bound by the caller);
 * the rows changed go to `*changes` (may be NULL). Resets the statement. */
static authkit_status run_keyed(struct authkit__sqlite_conn *c, sqlite3_stmt *st, const uint8_t *id,
                                size_t *changes, authkit_error *err) {
    authkit_status s = AUTHKIT_OK;
    if (sqlite3_bind_blob(st, 1, id, AUTHKIT_DIGEST_BYTES, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
        s = authkit__sqlite_fail(c, err, "throttle");
    else if (changes)
        *changes = (size_t)sqlite3_changes64(c->db);
    authkit__sqlite_reset(st);
    return s;
}

/* The stored row of `id`, or a zero row when there is none. */
static authkit_status get_row(struct authkit__sqlite_conn *c, const uint8_t *id,
                              struct authkit__throttle_row *row, authkit_error *err) {
    sqlite3_stmt *st;
    authkit_status s = prepare(c, ST_GET, &st, err);
    if (s != AUTHKIT_OK)
        return s;
    memset(row, 0, sizeof *row);
    int rc = SQLITE_ERROR;
    if (sqlite3_bind_blob(st, 1, id, AUTHKIT_DIGEST_BYTES, SQLITE_STATIC) == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row->attempts = sqlite3_column_int64(st, 0);
        row->blocked_until = sqlite3_column_int64(st, 1);
        row->updated_at = sqlite3_column_int64(st, 2);
    } else if (rc != SQLITE_DONE) {
        s = authkit__sqlite_fail(c, err, "read throttle");
    }
    authkit__sqlite_reset(st);
    return s;
}

/* Writes `row` for `id`; a row with nothing left to remember is deleted instead. */
static authkit_status put_row(struct authkit__sqlite_conn *c, const uint8_t *id,
                              const struct authkit__throttle_row *row, authkit_error *err) {
    sqlite3_stmt *st;
    bool empty = row->attempts == 0 && row->blocked_until == 0;
    authkit_status s = prepare(c, empty ? ST_DELETE : ST_PUT, &st, err);
    if (s != AUTHKIT_OK)
        return s;
    if (!empty && (sqlite3_bind_int64(st, 2, row->attempts) != SQLITE_OK ||
                   sqlite3_bind_int64(st, 3, row->blocked_until) != SQLITE_OK ||
                   sqlite3_bind_int64(st, 4, row->updated_at) != SQLITE_OK)) {
        authkit__sqlite_reset(st);
        return authkit__sqlite_fail(c, err, "bind");
    }
    return run_keyed(c, st, id, NULL, err);
}

authkit_status authkit__sqlite_throttle_attempt(void *state,
                                                const struct authkit_store_throttle_key *keys,
                                                size_t n, authkit_time now,
                                                authkit_time *blocked_until, authkit_error *err) {
    struct authkit__sqlite_conn *c;
    struct authkit__throttle_row rows[AUTHKIT_STORE_THROTTLE_MAX_KEYS];
    *blocked_until = 0;
    if (n > AUTHKIT_STORE_THROTTLE_MAX_KEYS)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, "too many throttle keys");
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    if ((s = authkit__sqlite_begin(c, err)) == AUTHKIT_OK) {
        for (size_t i = 0; s == AUTHKIT_OK && i < n; i++)
            s = get_row(c, keys[i].id, &rows[i], err);
        for (size_t i = 0; s == AUTHKIT_OK && i < n; i++)
            if (!authkit__throttle_admit(&keys[i].rule, &rows[i], now) &&
                rows[i].blocked_until > *blocked_until)
                *blocked_until = rows[i].blocked_until;
        if (s == AUTHKIT_OK && *blocked_until)
            s = authkit__fail(err, AUTHKIT_RATE_LIMITED, NULL, NULL);
        for (size_t i = 0; s == AUTHKIT_OK && i < n; i++)
            s = put_row(c, keys[i].id, &rows[i], err);
        s = authkit__sqlite_end(c, s, err);
    }
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

authkit_status authkit__sqlite_throttle_success(void *state,
                                                const struct authkit_store_throttle_key *keys,
                                                size_t n, authkit_error *err) {
    struct authkit__sqlite_conn *c;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    if ((s = authkit__sqlite_begin(c, err)) == AUTHKIT_OK) {
        for (size_t i = 0; s == AUTHKIT_OK && i < n; i++) {
            struct authkit__throttle_row row;
            if ((s = get_row(c, keys[i].id, &row, err)) != AUTHKIT_OK || row.updated_at == 0)
                continue;
            authkit__throttle_succeeded(&keys[i].rule, &row);
            s = put_row(c, keys[i].id, &row, err);
        }
        s = authkit__sqlite_end(c, s, err);
    }
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

authkit_status authkit__sqlite_throttle_clear(void *state, const uint8_t id[32], bool *found,
                                              authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    size_t changed = 0;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    if ((s = prepare(c, ST_DELETE, &st, err)) == AUTHKIT_OK)
        s = run_keyed(c, st, id, &changed, err);
    authkit__sqlite_release(state, c);
    if (found)
        *found = s == AUTHKIT_OK && changed > 0;
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

authkit_status authkit__sqlite_throttle_prune(void *state, authkit_time now,
                                              authkit_time idle_before, size_t batch,
                                              size_t *deleted, authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    *deleted = 0;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    if ((s = prepare(c, ST_PRUNE, &st, err)) == AUTHKIT_OK) {
        if (sqlite3_bind_int64(st, 1, now) == SQLITE_OK &&
            sqlite3_bind_int64(st, 2, idle_before) == SQLITE_OK &&
            sqlite3_bind_int64(st, 3, batch > INT64_MAX ? INT64_MAX : (int64_t)batch) ==
                SQLITE_OK &&
            sqlite3_step(st) == SQLITE_DONE)
            *deleted = (size_t)sqlite3_changes64(c->db);
        else
            s = authkit__sqlite_fail(c, err, "prune throttle");
        authkit__sqlite_reset(st);
    }
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}
