/* The audit trail in SQLite (the port's audit_* operations, store/store.h). Rows are
 * only appended and pruned, each by one statement, which is its own transaction. */
#include <stdint.h>
#include <string.h>

#include "core/encoding.h"
#include "core/error.h"
#include "store/sqlite/sqlite_internal.h"

enum stmt { ST_INSERT = AUTHKIT__SQLITE_STMT_AUDIT, ST_QUERY, ST_QUERY_USER, ST_PRUNE, ST_END_ };

_Static_assert(ST_END_ <= AUTHKIT__SQLITE_MAX_STMTS, "statement cache too small");

/* The optional filters: a NULL parameter matches every row. A query by user goes through
 * the (user_id, at) index, the others walk the at index from the newest row. */
/* clang-format off */
#define COLS "id, at, event, outcome, user_id, session_id, login, login_hash, ip, count"
#define FILTERS                                                                                    \
    "at >= ?1 AND at < ?2 AND (?3 IS NULL OR event = ?3) AND (?4 IS NULL OR outcome = ?4) "        \
    "AND (?5 IS NULL OR login_hash = ?5)"
static const char *const sql[] = {
    [ST_INSERT - ST_INSERT] =
        "INSERT INTO audit_log (at, event, outcome, user_id, session_id, login, login_hash, ip, "
        "count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_QUERY - ST_INSERT] =
        "SELECT " COLS " FROM audit_log WHERE " FILTERS " ORDER BY at DESC, id DESC LIMIT ?7",
    [ST_QUERY_USER - ST_INSERT] =
        "SELECT " COLS " FROM audit_log WHERE user_id = ?6 AND " FILTERS
        " ORDER BY at DESC, id DESC LIMIT ?7",
    /* Oldest first through the at index, at most ?2 rows per call. */
    [ST_PRUNE - ST_INSERT] =
        "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ?1 "
        "ORDER BY at LIMIT ?2)",
};
/* clang-format on */

static authkit_status prepare(struct authkit__sqlite_conn *c, int index, sqlite3_stmt **st,
                              authkit_error *err) {
    return authkit__sqlite_stmt(c, index, sql[index - ST_INSERT], st, err);
}

/* "" and NULL are bound as SQL NULL. SQLITE_STATIC: the text outlives the statement's use. */
static bool bind_text_null(sqlite3_stmt *st, int i, const char *s) {
    if (!s || !*s)
        return sqlite3_bind_null(st, i) == SQLITE_OK;
    return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) == SQLITE_OK;
}

static bool bind_int(sqlite3_stmt *st, int i, int64_t v) {
    return sqlite3_bind_int64(st, i, v) == SQLITE_OK;
}

static int64_t clamp(uint64_t v) {
    return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

static void col_text(char *dst, size_t size, sqlite3_stmt *st, int col) {
    const unsigned char *t = sqlite3_column_text(st, col);
    authkit__strlcpy(dst, t ? (const char *)t : "", size);
}

static void read_row(sqlite3_stmt *st, authkit_audit_entry *e) {
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(st, 0);
    e->time = sqlite3_column_int64(st, 1);
    col_text(e->event, sizeof e->event, st, 2);
    col_text(e->outcome, sizeof e->outcome, st, 3);
    col_text(e->user_id, sizeof e->user_id, st, 4);
    col_text(e->session_id, sizeof e->session_id, st, 5);
    col_text(e->login, sizeof e->login, st, 6);
    col_text(e->login_hash, sizeof e->login_hash, st, 7);
    col_text(e->ip, sizeof e->ip, st, 8);
    int64_t count = sqlite3_column_int64(st, 9);
    e->count = count > 0 ? (uint64_t)count : 0;
}

authkit_status authkit__sqlite_audit_insert(void *state, const authkit_audit_entry *row,
                                            authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    if ((s = prepare(c, ST_INSERT, &st, err)) == AUTHKIT_OK) {
        if (!bind_int(st, 1, row->time) || !bind_text_null(st, 2, row->event) ||
            !bind_text_null(st, 3, row->outcome) || !bind_text_null(st, 4, row->user_id) ||
            !bind_text_null(st, 5, row->session_id) || !bind_text_null(st, 6, row->login) ||
            !bind_text_null(st, 7, row->login_hash) || !bind_text_null(st, 8, row->ip) ||
            !bind_int(st, 9, clamp(row->count)) || sqlite3_step(st) != SQLITE_DONE)
            s = authkit__sqlite_fail(c, err, "write audit");
        authkit__sqlite_reset(st);
    }
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static bool bind_filter(sqlite3_stmt *st, const struct authkit_store_audit_filter *f, size_t cap) {
    return bind_int(st, 1, f->since ? f->since : INT64_MIN) &&
           bind_int(st, 2, f->until ? f->until : INT64_MAX) && bind_text_null(st, 3, f->event) &&
           bind_text_null(st, 4, f->outcome) && bind_text_null(st, 5, f->login_hash) &&
           (!f->user_id || bind_text_null(st, 6, f->user_id)) && bind_int(st, 7, clamp(cap));
}

authkit_status authkit__sqlite_audit_query(void *state, const struct authkit_store_audit_filter *f,
                                           authkit_audit_entry *out, size_t cap, size_t *n,
                                           authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    *n = 0;
    if (cap == 0)
        return authkit__ok(err);
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    if ((s = prepare(c, f->user_id ? ST_QUERY_USER : ST_QUERY, &st, err)) == AUTHKIT_OK) {
        int rc = SQLITE_DONE;
        if (!bind_filter(st, f, cap))
            rc = SQLITE_ERROR;
        else
            while (*n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW)
                read_row(st, &out[(*n)++]);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
            s = authkit__sqlite_fail(c, err, "read audit");
        authkit__sqlite_reset(st);
    }
    authkit__sqlite_release(state, c);
    if (s != AUTHKIT_OK)
        *n = 0;
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

authkit_status authkit__sqlite_audit_prune(void *state, authkit_time before, size_t batch,
                                           size_t *deleted, authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    *deleted = 0;
    if (batch == 0)
        return authkit__ok(err);
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    if ((s = prepare(c, ST_PRUNE, &st, err)) == AUTHKIT_OK) {
        if (bind_int(st, 1, before) && bind_int(st, 2, clamp(batch)) &&
            sqlite3_step(st) == SQLITE_DONE)
            *deleted = (size_t)sqlite3_changes64(c->db);
        else
            s = authkit__sqlite_fail(c, err, "prune audit");
        authkit__sqlite_reset(st);
    }
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}
