/* Login-throttling counters in PostgreSQL (the port's throttle_* operations,
 * store/store.h). An attempt locks its counters' rows (creating missing ones) and writes
 * them in one transaction, so attempts on the same account or address from every node
 * take turns; rows are locked in key order, so two attempts never deadlock. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/pg/pg_internal.h"

enum stmt {
    ST_LOCK = AUTHKIT__PG_STMT_THROTTLE,
    ST_LOCK_EXISTING,
    ST_PUT,
    ST_DELETE,
    ST_PRUNE,
    ST_END_
};

_Static_assert(ST_END_ <= AUTHKIT__PG_MAX_STMTS, "statement slots too few");

/* clang-format off */
static const char *const sql[] = {
    /* Creates a zero row if there is none; either way the row comes back locked (DO
     * UPDATE takes the row lock even when it changes nothing). */
    [ST_LOCK - ST_LOCK] =
        "INSERT INTO login_throttle AS t (key, attempts, blocked_until, updated_at) "
        "VALUES ($1, 0, 0, 0) ON CONFLICT (key) DO UPDATE SET key = t.key "
        "RETURNING t.attempts, t.blocked_until, t.updated_at",
    [ST_LOCK_EXISTING - ST_LOCK] =
        "SELECT attempts, blocked_until, updated_at FROM login_throttle WHERE key = $1 "
        "FOR UPDATE",
    [ST_PUT - ST_LOCK] =
        "UPDATE login_throttle SET attempts = $2, blocked_until = $3, updated_at = $4 "
        "WHERE key = $1",
    [ST_DELETE - ST_LOCK] =
        "DELETE FROM login_throttle WHERE key = $1",
    [ST_PRUNE - ST_LOCK] =
        "DELETE FROM login_throttle WHERE key IN (SELECT key FROM login_throttle "
        "WHERE updated_at <= $2 AND blocked_until <= $1 ORDER BY updated_at LIMIT $3 "
        "FOR UPDATE SKIP LOCKED)",
};
/* clang-format on */

static void add_key(struct authkit__pg_params *p, const uint8_t *id) {
    p->values[p->n] = (const char *)id;
    p->lengths[p->n] = AUTHKIT_DIGEST_BYTES;
    p->formats[p->n] = 1;
    p->n++;
}

static void add_int(struct authkit__pg_params *p, int64_t v) {
    snprintf(p->numbers[p->n], sizeof p->numbers[p->n], "%" PRId64, v);
    p->values[p->n] = p->numbers[p->n];
    p->lengths[p->n] = 0;
    p->formats[p->n] = 0;
    p->n++;
}

static authkit_status exec(struct authkit__pg_conn *c, int index,
                           const struct authkit__pg_params *p, const char *what, PGresult **r,
                           authkit_error *err) {
    return authkit__pg_exec(c, index, sql[index - ST_LOCK], p, what, r, err);
}

/* Locks the row of `id` (`create`: making a zero row when there is none) and reads it;
 * a missing row reads as zero with updated_at 0. */
static authkit_status lock_row(struct authkit__pg_conn *c, const uint8_t *id, bool create,
                               struct authkit__throttle_row *row, authkit_error *err) {
    struct authkit__pg_params p = {0};
    PGresult *r;
    add_key(&p, id);
    authkit_status s = exec(c, create ? ST_LOCK : ST_LOCK_EXISTING, &p, "lock throttle", &r, err);
    memset(row, 0, sizeof *row);
    if (s == AUTHKIT_OK && PQntuples(r) == 1) {
        row->attempts = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        row->blocked_until = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
        row->updated_at = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    }
    PQclear(r);
    return s;
}

/* Writes `row` for `id`; a row with nothing left to remember is deleted instead. */
static authkit_status put_row(struct authkit__pg_conn *c, const uint8_t *id,
                              const struct authkit__throttle_row *row, authkit_error *err) {
    struct authkit__pg_params p = {0};
    PGresult *r;
    bool empty = row->attempts == 0 && row->blocked_until == 0;
    add_key(&p, id);
    if (!empty) {
        add_int(&p, row->attempts);
        add_int(&p, row->blocked_until);
        add_int(&p, row->updated_at);
    }
    authkit_status s = exec(c, empty ? ST_DELETE : ST_PUT, &p, "write throttle", &r, err);
    PQclear(r);
    return s;
}

/* The indexes of `keys` in ascending key order: the order rows are locked in. */
static void key_order(const struct authkit_store_throttle_key *keys, size_t n, size_t *order) {
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        for (; j > 0 && memcmp(keys[order[j - 1]].id, keys[i].id, AUTHKIT_DIGEST_BYTES) > 0; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
}

authkit_status authkit__pg_throttle_attempt(void *state,
                                            const struct authkit_store_throttle_key *keys, size_t n,
                                            authkit_time now, authkit_time *blocked_until,
                                            authkit_error *err) {
    struct authkit__pg_conn *c;
    struct authkit__throttle_row rows[AUTHKIT_STORE_THROTTLE_MAX_KEYS];
    size_t order[AUTHKIT_STORE_THROTTLE_MAX_KEYS];
    *blocked_until = 0;
    if (n > AUTHKIT_STORE_THROTTLE_MAX_KEYS)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, "too many throttle keys");
    key_order(keys, n, order);
    authkit_status s = authkit__pg_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    if ((s = authkit__pg_begin(c, err)) == AUTHKIT_OK) {
        for (size_t i = 0; s == AUTHKIT_OK && i < n; i++)
            s = lock_row(c, keys[order[i]].id, true, &rows[order[i]], err);
        for (size_t i = 0; s == AUTHKIT_OK && i < n; i++)
            if (!authkit__throttle_admit(&keys[i].rule, &rows[i], now) &&
                rows[i].blocked_until > *blocked_until)
                *blocked_until = rows[i].blocked_until;
        if (s == AUTHKIT_OK && *blocked_until)
            s = authkit__fail(err, AUTHKIT_RATE_LIMITED, NULL, NULL);
        for (size_t i = 0; s == AUTHKIT_OK && i < n; i++)
            s = put_row(c, keys[order[i]].id, &rows[order[i]], err);
        s = authkit__pg_end(c, s, err);
    }
    authkit__pg_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

authkit_status authkit__pg_throttle_success(void *state,
                                            const struct authkit_store_throttle_key *keys, size_t n,
                                            authkit_error *err) {
    struct authkit__pg_conn *c;
    size_t order[AUTHKIT_STORE_THROTTLE_MAX_KEYS];
    if (n > AUTHKIT_STORE_THROTTLE_MAX_KEYS)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, "too many throttle keys");
    key_order(keys, n, order);
    authkit_status s = authkit__pg_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    if ((s = authkit__pg_begin(c, err)) == AUTHKIT_OK) {
        for (size_t i = 0; s == AUTHKIT_OK && i < n; i++) {
            const struct authkit_store_throttle_key *k = &keys[order[i]];
            struct authkit__throttle_row row;
            if ((s = lock_row(c, k->id, false, &row, err)) != AUTHKIT_OK || row.updated_at == 0)
                continue;
            authkit__throttle_succeeded(&k->rule, &row);
            s = put_row(c, k->id, &row, err);
        }
        s = authkit__pg_end(c, s, err);
    }
    authkit__pg_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

authkit_status authkit__pg_throttle_clear(void *state, const uint8_t id[32], bool *found,
                                          authkit_error *err) {
    struct authkit__pg_conn *c;
    struct authkit__pg_params p = {0};
    PGresult *r = NULL;
    add_key(&p, id);
    authkit_status s = authkit__pg_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = exec(c, ST_DELETE, &p, "clear throttle", &r, err);
    authkit__pg_release(state, c);
    if (found) {
        const char *t = s == AUTHKIT_OK ? PQcmdTuples(r) : NULL;
        *found = t && *t && strcmp(t, "0") != 0;
    }
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

authkit_status authkit__pg_throttle_prune(void *state, authkit_time now, authkit_time idle_before,
                                          size_t batch, size_t *deleted, authkit_error *err) {
    struct authkit__pg_conn *c;
    struct authkit__pg_params p = {0};
    PGresult *r = NULL;
    *deleted = 0;
    add_int(&p, now);
    add_int(&p, idle_before);
    add_int(&p, batch > INT64_MAX ? INT64_MAX : (int64_t)batch);
    authkit_status s = authkit__pg_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = exec(c, ST_PRUNE, &p, "prune throttle", &r, err);
    authkit__pg_release(state, c);
    if (s == AUTHKIT_OK)
        *deleted = (size_t)strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}
