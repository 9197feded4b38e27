/* The audit trail in PostgreSQL (the port's audit_* operations, store/store.h). Rows are
 * only appended and pruned, each by one statement, which is its own transaction; cleaners
 * on several nodes prune disjoint rows (SKIP LOCKED). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/error.h"
#include "store/pg/pg_internal.h"

enum stmt { ST_INSERT = AUTHKIT__PG_STMT_AUDIT, ST_QUERY, ST_QUERY_USER, ST_PRUNE, ST_END_ };

_Static_assert(ST_END_ <= AUTHKIT__PG_MAX_STMTS, "statement slots too few");

/* The optional filters: a NULL parameter matches every row (the casts give each
 * parameter its type where "IS NULL" alone would not). A query by user goes through the
 * (user_id, at, id) index, the others walk the (at, id) index from the newest row. */
/* clang-format off */
#define COLS "id, at, event, outcome, user_id, session_id, login, login_hash, ip, count"
#define FILTERS                                                                                    \
    "at >= $1 AND at < $2 AND ($3::text IS NULL OR event = $3::text) "                             \
    "AND ($4::text IS NULL OR outcome = $4::text) "                                                \
    "AND ($5::text IS NULL OR login_hash = $5::text)"
static const char *const sql[] = {
    [ST_INSERT - ST_INSERT] =
        "INSERT INTO audit_log (at, event, outcome, user_id, session_id, login, login_hash, ip, "
        "count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    [ST_QUERY - ST_INSERT] =
        "SELECT " COLS " FROM audit_log WHERE " FILTERS " ORDER BY at DESC, id DESC LIMIT $6",
    [ST_QUERY_USER - ST_INSERT] =
        "SELECT " COLS " FROM audit_log WHERE user_id = $6::uuid AND " FILTERS
        " ORDER BY at DESC, id DESC LIMIT $7",
    [ST_PRUNE - ST_INSERT] =
        "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 "
        "ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)",
};
/* clang-format on */

/* "" and NULL become SQL NULL. The text must outlive the statement's execution. */
static void add_text(struct authkit__pg_params *p, const char *s) {
    p->values[p->n] = s && *s ? s : NULL;
    p->lengths[p->n] = 0;
    p->formats[p->n] = 0;
    p->n++;
}

static void add_int(struct authkit__pg_params *p, int64_t v) {
    snprintf(p->numbers[p->n], sizeof p->numbers[p->n], "%" PRId64, v);
    add_text(p, p->numbers[p->n]);
}

static int64_t clamp(uint64_t v) {
    return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Runs one statement on a connection of the pool; the result (OK only) to `*r`. */
static authkit_status exec(void *state, int index, const struct authkit__pg_params *p,
                           const char *what, PGresult **r, authkit_error *err) {
    struct authkit__pg_conn *c;
    *r = NULL;
    authkit_status s = authkit__pg_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = authkit__pg_exec(c, index, sql[index - ST_INSERT], p, what, r, err);
    authkit__pg_release(state, c);
    return s;
}

static void col_text(char *dst, size_t size, const PGresult *r, int row, int col) {
    authkit__strlcpy(dst, PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col), size);
}

static int64_t col_int(const PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void read_row(const PGresult *r, int row, authkit_audit_entry *e) {
    memset(e, 0, sizeof *e);
    e->id = col_int(r, row, 0);
    e->time = col_int(r, row, 1);
    col_text(e->event, sizeof e->event, r, row, 2);
    col_text(e->outcome, sizeof e->outcome, r, row, 3);
    col_text(e->user_id, sizeof e->user_id, r, row, 4);
    col_text(e->session_id, sizeof e->session_id, r, row, 5);
    col_text(e->login, sizeof e->login, r, row, 6);
    col_text(e->login_hash, sizeof e->login_hash, r, row, 7);
    col_text(e->ip, sizeof e->ip, r, row, 8);
    int64_t count = col_int(r, row, 9);
    e->count = count > 0 ? (uint64_t)count : 0;
}

authkit_status authkit__pg_audit_insert(void *state, const authkit_audit_entry *row,
                                        authkit_error *err) {
    struct authkit__pg_params p = {0};
    PGresult *r;
    add_int(&p, row->time);
    add_text(&p, row->event);
    add_text(&p, row->outcome);
    add_text(&p, row->user_id);
    add_text(&p, row->session_id);
    add_text(&p, row->login);
    add_text(&p, row->login_hash);
    add_text(&p, row->ip);
    add_int(&p, clamp(row->count));
    authkit_status s = exec(state, ST_INSERT, &p, "write audit", &r, err);
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

authkit_status authkit__pg_audit_query(void *state, const struct authkit_store_audit_filter *f,
                                       authkit_audit_entry *out, size_t cap, size_t *n,
                                       authkit_error *err) {
    struct authkit__pg_params p = {0};
    PGresult *r;
    *n = 0;
    if (cap == 0)
        return authkit__ok(err);
    add_int(&p, f->since ? f->since : INT64_MIN);
    add_int(&p, f->until ? f->until : INT64_MAX);
    add_text(&p, f->event);
    add_text(&p, f->outcome);
    add_text(&p, f->login_hash);
    if (f->user_id)
        add_text(&p, f->user_id);
    add_int(&p, clamp(cap));
    authkit_status s =
        exec(state, f->user_id ? ST_QUERY_USER : ST_QUERY, &p, "read audit", &r, err);
    if (s == AUTHKIT_OK) {
        int rows = PQntuples(r);
        for (int i = 0; i < rows && *n < cap; i++)
            read_row(r, i, &out[(*n)++]);
    }
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

authkit_status authkit__pg_audit_prune(void *state, authkit_time before, size_t batch,
                                       size_t *deleted, authkit_error *err) {
    struct authkit__pg_params p = {0};
    PGresult *r;
    *deleted = 0;
    if (batch == 0)
        return authkit__ok(err);
    add_int(&p, before);
    add_int(&p, clamp(batch));
    authkit_status s = exec(state, ST_PRUNE, &p, "prune audit", &r, err);
    if (s == AUTHKIT_OK) {
        const char *t = PQcmdTuples(r);
        *deleted = t && *t ? (size_t)strtoull(t, NULL, 10) : 0;
    }
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}
