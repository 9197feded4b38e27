/* The PostgreSQL adapter of the storage port (store/store.h).
 *
 * - Every operation takes a connection from the shared, bounded pool (pg_pool.c) and
 *   gives it back; statements are prepared once per connection; all input is a
 *   parameter, never spliced into SQL (the digest as binary bytea, the rest as text).
 * - Changes of several rows run between BEGIN and COMMIT and roll back on any failure.
 *   A single statement is already its own transaction (deleting a user removes its
 *   sessions through ON DELETE CASCADE in the same statement).
 * - Errors: AUTHKIT_NOT_FOUND and AUTHKIT_CONFLICT as the port says (a unique violation
 *   names its field through the constraint's name; a session for a missing user is
 *   NOT_FOUND "user_id"). Everything else is AUTHKIT_STORE with the server's message; a
 *   lost connection too, and the pool reconnects on the next operation.
 *
 * Where PostgreSQL is stricter than SQLite, the adapter answers as SQLite would:
 * - A key that is not a canonical lower-case UUID cannot match a stored id (SQLite
 *   compares text): lookups find nothing instead of failing on the uuid cast, and
 *   inserting such an id is AUTHKIT_INVALID_ARGUMENT.
 * - Text that is not valid UTF-8 cannot match a stored email or username (those are
 *   validated UTF-8): lookups find nothing instead of failing on the server's encoding
 *   check. (An ip or user agent arrives already cleaned to UTF-8 by the core.) */
#include <inttypes.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/error.h"
#include "core/text.h"
#include "store/pg/pg_internal.h"
#include "store/store.h"

enum stmt {
    ST_USER_INSERT,
    ST_USER_BY_ID,
    ST_USER_BY_EMAIL,
    ST_USER_BY_USERNAME,
    ST_USER_UPDATE,
    ST_USER_UPDATE_END,
    ST_USER_SET_PASSWORD,
    ST_USER_REQUIRE_CHANGE,
    ST_USER_REHASH,
    ST_USER_DELETE,
    ST_USER_LIST,
    ST_USER_SEARCH,
    ST_USER_COUNT,
    ST_USER_VALID_AFTER,
    ST_USER_SESSIONS_DELETE,
    ST_SESSION_INSERT,
    ST_SESSION_FIND,
    ST_SESSION_DELETE,
    ST_SESSION_DELETE_ID,
    ST_SESSION_LIST,
    ST_SESSION_DELETE_EXPIRED,
    ST_SESSION_COUNT,
    ST_SESSION_TOUCH,
    ST_SESSION_EVICT,
    ST_SESSION_DELETE_OTHERS,
    ST_ALL_VALID_AFTER,
    ST_ALL_SESSIONS_DELETE,
    ST_COUNT_
};

_Static_assert(ST_COUNT_ <= AUTHKIT__PG_STMT_THROTTLE, "statement slots overlap");

/* Column lists shared by every query that reads a row, so read_user() and read_session()
 * can rely on the order. `p` is a table alias prefix ("" or "u."). The digest is read as
 * hex text: the same whatever the server's bytea_output. */
/* clang-format off */
#define USER_COLS(p)                                                                               \
    p "id, " p "email, " p "username, " p "global_role, " p "is_active, "                          \
    p "password_hash, " p "password_changed_at, " p "created_at, " p "updated_at, "                \
    p "sessions_valid_after, " p "password_change_required"
#define SESSION_COLS(p)                                                                            \
    p "id, " p "user_id, encode(" p "token_hash, 'hex'), " p "created_at, " p "expires_at, "       \
    p "last_seen_at, " p "ip, " p "user_agent"
#define SESSION_NCOLS 8
/* clang-format on */

/* Laid out by hand so that each statement reads as SQL. */
/* clang-format off */
static const char *const sql[ST_COUNT_] = {
    [ST_USER_INSERT] =
        "INSERT INTO users (" USER_COLS("") ") "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    [ST_USER_BY_ID] =
        "SELECT " USER_COLS("") " FROM users WHERE id = $1",
    [ST_USER_BY_EMAIL] =
        "SELECT " USER_COLS("") " FROM users WHERE email = $1",
    /* The same expression as the unique index users_username_lower_key, so it is used;
     * "C" folds ASCII letters only, like the column. */
    [ST_USER_BY_USERNAME] =
        "SELECT " USER_COLS("") " FROM users WHERE lower(username) = lower($1 COLLATE \"C\")",
    [ST_USER_UPDATE] =
        "UPDATE users SET email = $2, username = $3, global_role = $4, is_active = $5, "
        "updated_at = $6 WHERE id = $1",
    [ST_USER_UPDATE_END] =
        "UPDATE users SET email = $2, username = $3, global_role = $4, is_active = $5, "
        "updated_at = $6, sessions_valid_after = $7 WHERE id = $1",
    [ST_USER_SET_PASSWORD] =
        "UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3, "
        "sessions_valid_after = $3, password_change_required = false WHERE id = $1",
    [ST_USER_REQUIRE_CHANGE] =
        "UPDATE users SET password_change_required = true, updated_at = $2, "
        "sessions_valid_after = $2 WHERE id = $1",
    /* The old hash in the WHERE makes it a compare-and-swap. */
    [ST_USER_REHASH] =
        "UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
    /* ON DELETE CASCADE removes the sessions in the same statement. */
    [ST_USER_DELETE] =
        "DELETE FROM users WHERE id = $1",
    [ST_USER_LIST] =
        "SELECT " USER_COLS("") " FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2",
    /* E'\\' is one backslash whatever standard_conforming_strings says. */
    [ST_USER_SEARCH] =
        "SELECT " USER_COLS("") " FROM users "
        "WHERE lower(email) LIKE lower($1 COLLATE \"C\") ESCAPE E'\\\\' "
        "OR lower(username) LIKE lower($1 COLLATE \"C\") ESCAPE E'\\\\' "
        "ORDER BY created_at, id LIMIT $2",
    [ST_USER_COUNT] =
        "SELECT count(*) FROM users",
    [ST_USER_VALID_AFTER] =
        "UPDATE users SET sessions_valid_after = $2 WHERE id = $1",
    [ST_USER_SESSIONS_DELETE] =
        "DELETE FROM auth_sessions WHERE user_id = $1",
    [ST_SESSION_INSERT] =
        "INSERT INTO auth_sessions (id, user_id, token_hash, created_at, expires_at, "
        "last_seen_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    /* The hot path of every request: one probe of the token_hash index. */
    [ST_SESSION_FIND] =
        "SELECT " SESSION_COLS("s.") ", " USER_COLS("u.") " "
        "FROM auth_sessions AS s JOIN users AS u ON u.id = s.user_id "
        "WHERE s.token_hash = $1",
    /* RETURNING: the row comes from the delete itself, so of two concurrent deleters only
     * the one that really deleted it sees it. */
    [ST_SESSION_DELETE] =
        "DELETE FROM auth_sessions WHERE token_hash = $1 RETURNING " SESSION_COLS(""),
    [ST_SESSION_DELETE_ID] =
        "DELETE FROM auth_sessions WHERE id = $1 AND user_id = $2",
    [ST_SESSION_LIST] =
        "SELECT " SESSION_COLS("") " FROM auth_sessions "
        "WHERE user_id = $1 AND expires_at > $2 "
        "ORDER BY created_at DESC, id DESC LIMIT $3",
    /* Oldest first, through the expires_at index, at most $2 rows per call. SKIP LOCKED:
     * cleaners on several nodes share the work instead of queueing on the same rows. */
    [ST_SESSION_DELETE_EXPIRED] =
        "DELETE FROM auth_sessions WHERE id IN (SELECT id FROM auth_sessions "
        "WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
    [ST_SESSION_COUNT] =
        "SELECT count(*) FROM auth_sessions WHERE expires_at > $1",
    [ST_SESSION_TOUCH] =
        "UPDATE auth_sessions SET last_seen_at = $2 WHERE token_hash = $1 AND last_seen_at < $2",
    [ST_SESSION_EVICT] =
        "DELETE FROM auth_sessions WHERE user_id = $1 AND id <> $2 AND id NOT IN (SELECT id "
        "FROM auth_sessions WHERE user_id = $1 AND id <> $2 "
        "ORDER BY created_at DESC, id DESC LIMIT $3)",
    [ST_SESSION_DELETE_OTHERS] =
        "DELETE FROM auth_sessions WHERE user_id = $1 AND id <> $2",
    [ST_ALL_VALID_AFTER] =
        "UPDATE users SET sessions_valid_after = $1",
    [ST_ALL_SESSIONS_DELETE] =
        "DELETE FROM auth_sessions",
};
/* clang-format on */

/* ---- parameters and reading ------------------------------------------------------- */

/* A statement with more than AUTHKIT__PG_MAX_PARAMS parameters would lose the extra ones
 * and be refused by the server for its parameter count; none has that many. */
static void p_add(struct authkit__pg_params *p, const char *value, int len, int format) {
    if (p->n < AUTHKIT__PG_MAX_PARAMS) {
        p->values[p->n] = value;
        p->lengths[p->n] = len;
        p->formats[p->n] = format;
        p->n++;
    }
}

/* NULL becomes SQL NULL. The text must outlive the statement's execution. */
static void p_text(struct authkit__pg_params *p, const char *s) {
    p_add(p, s, 0, 0);
}

/* "" is stored as NULL (no password hash, no ip, no user agent), as in SQLite. */
static void p_text_null(struct authkit__pg_params *p, const char *s) {
    p_add(p, s && *s ? s : NULL, 0, 0);
}

/* Written into the parameter block, which the caller keeps until the statement ran. */
static void p_int(struct authkit__pg_params *p, int64_t v) {
    if (p->n >= AUTHKIT__PG_MAX_PARAMS)
        return; /* cannot happen: no statement has that many; the server would refuse it */
    snprintf(p->numbers[p->n], sizeof p->numbers[p->n], "%" PRId64, v);
    p_add(p, p->numbers[p->n], 0, 0);
}

/* 0 means "never" and is stored as NULL. */
static void p_time_null(struct authkit__pg_params *p, authkit_time t) {
    if (t)
        p_int(p, t);
    else
        p_text(p, NULL);
}

static void p_size(struct authkit__pg_params *p, size_t v) {
    p_int(p, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

static void p_bool(struct authkit__pg_params *p, bool v) {
    p_text(p, v ? "true" : "false");
}

static void p_digest(struct authkit__pg_params *p, const uint8_t *digest) {
    p_add(p, (const char *)digest, AUTHKIT_DIGEST_BYTES, 1);
}

static void col_text(char *dst, size_t size, const PGresult *r, int row, int col) {
    authkit__strlcpy(dst, PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col), size);
}

static int64_t col_int(const PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void read_user_public(const PGresult *r, int row, int col, authkit_user *u) {
    memset(u, 0, sizeof *u);
    col_text(u->id, sizeof u->id, r, row, col);
    col_text(u->email, sizeof u->email, r, row, col + 1);
    col_text(u->username, sizeof u->username, r, row, col + 2);
    col_text(u->global_role, sizeof u->global_role, r, row, col + 3);
    u->is_active = PQgetvalue(r, row, col + 4)[0] == 't';
    u->has_password = !PQgetisnull(r, row, col + 5) && PQgetlength(r, row, col + 5) > 0;
    u->password_changed_at = col_int(r, row, col + 6);
    u->created_at = col_int(r, row, col + 7);
    u->updated_at = col_int(r, row, col + 8);
    u->password_change_required = PQgetvalue(r, row, col + 10)[0] == 't';
}

static void read_user(const PGresult *r, int row, int col, struct authkit_store_user *out) {
    read_user_public(r, row, col, &out->user);
    col_text(out->password_hash, sizeof out->password_hash, r, row, col + 5);
    out->sessions_valid_after = col_int(r, row, col + 9);
}

static void read_session(const PGresult *r, int row, int col, struct authkit_store_session *out) {
    authkit_session_info *s = &out->info;
    memset(out, 0, sizeof *out);
    col_text(s->id, sizeof s->id, r, row, col);
    col_text(s->user_id, sizeof s->user_id, r, row, col + 1);
    const char *hex = PQgetvalue(r, row, col + 2);
    size_t bin_len = 0;
    if (sodium_hex2bin(out->token_digest, AUTHKIT_DIGEST_BYTES, hex, strlen(hex), NULL, &bin_len,
                       NULL) != 0 ||
        bin_len != AUTHKIT_DIGEST_BYTES)
        memset(out->token_digest, 0, AUTHKIT_DIGEST_BYTES);
    s->created_at = col_int(r, row, col + 3);
    s->expires_at = col_int(r, row, col + 4);
    s->last_seen_at = col_int(r, row, col + 5);
    col_text(s->ip, sizeof s->ip, r, row, col + 6);
    col_text(s->user_agent, sizeof s->user_agent, r, row, col + 7);
}

/* Rows changed by an INSERT, UPDATE or DELETE. */
static size_t affected(PGresult *r) {
    const char *t = PQcmdTuples(r);
    return t && *t ? (size_t)strtoull(t, NULL, 10) : 0;
}

static bool utf8(const char *s) {
    return s && authkit__utf8_valid(s, strlen(s));
}

/* ---- running statements ------------------------------------------------------------ */

/* Statements that change nothing: running one twice is harmless. */
static bool read_only(int index) {
    switch (index) {
        case ST_USER_BY_ID:
        case ST_USER_BY_EMAIL:
        case ST_USER_BY_USERNAME:
        case ST_USER_LIST:
        case ST_USER_SEARCH:
        case ST_USER_COUNT:
        case ST_SESSION_FIND:
        case ST_SESSION_LIST:
        case ST_SESSION_COUNT:
            return true;
        default:
            return false;
    }
}

/* Takes a connection, runs one statement, gives the connection back. The result (OK only)
 * goes to `*out` (free it with PQclear): results do not need their connection.
 * A read that fails because its connection turned out dead (the server restarted between
 * the check at acquire and the statement) runs once more on a new connection, so a
 * validation does not fail for a restart the pool can already recover from. A write is
 * never repeated: it may have been committed before the connection died. */
static authkit_status run_one(void *state, int index, const struct authkit__pg_params *p,
                              const char *what, PGresult **out, authkit_error *err) {
    for (int attempt = 0;; attempt++) {
        struct authkit__pg_conn *c;
        *out = NULL;
        authkit_status s = authkit__pg_acquire(state, &c, err);
        if (s != AUTHKIT_OK)
            return s;
        s = authkit__pg_exec(c, index, sql[index], p, what, out, err);
        bool lost = s == AUTHKIT_STORE && (c->goodbye || PQstatus(c->pg) == CONNECTION_BAD);
        authkit__pg_release(state, c);
        if (!lost || attempt > 0 || !read_only(index))
            return s;
    }
}

/* Runs a write of one user row that must hit it: 0 rows changed is NOT_FOUND. */
static authkit_status write_user_row(struct authkit__pg_conn *c, int index,
                                     const struct authkit__pg_params *p, const char *what,
                                     authkit_error *err) {
    PGresult *r;
    authkit_status s = authkit__pg_exec(c, index, sql[index], p, what, &r, err);
    if (s == AUTHKIT_OK && affected(r) == 0)
        s = authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "no such user");
    PQclear(r);
    return s;
}

/* Deletes every session of `user_id`; the count goes to `*n`. Inside a transaction. */
static authkit_status delete_user_sessions(struct authkit__pg_conn *c, const char *user_id,
                                           size_t *n, authkit_error *err) {
    struct authkit__pg_params p = {0};
    PGresult *r;
    p_text(&p, user_id);
    authkit_status s = authkit__pg_exec(c, ST_USER_SESSIONS_DELETE, sql[ST_USER_SESSIONS_DELETE],
                                        &p, "delete sessions", &r, err);
    if (s == AUTHKIT_OK)
        *n = affected(r);
    PQclear(r);
    return s;
}

/* Runs the user write `index` with `p` (NOT_FOUND if it hits no row), then deletes the
 * user's sessions, in one transaction. The number deleted goes to `*ended`. */
static authkit_status write_and_end_sessions(void *state, int index,
                                             const struct authkit__pg_params *p,
                                             const char *user_id, size_t *ended,
                                             authkit_error *err) {
    struct authkit__pg_conn *c;
    size_t n = 0;
    authkit_status s = authkit__pg_acquire(state, &c, err);
    if (s == AUTHKIT_OK) {
        s = authkit__pg_begin(c, err);
        if (s == AUTHKIT_OK) {
            /* The user row first: a conflict or a missing user is known before anything is
             * deleted, and the row lock orders this against other changes of the user. */
            s = write_user_row(c, index, p, "update user", err);
            if (s == AUTHKIT_OK)
                s = delete_user_sessions(c, user_id, &n, err);
            s = authkit__pg_end(c, s, err);
        }
        authkit__pg_release(state, c);
    }
    if (ended)
        *ended = s == AUTHKIT_OK ? n : 0;
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status no_user(authkit_error *err) {
    return authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "no such user");
}

/* ---- the port ------------------------------------------------------------------------ */

static authkit_status op_open(const char *location, void **state, authkit_error *err) {
    if (!state)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, "no state pointer given");
    struct authkit__pg_pool *pool = NULL;
    authkit_status s = authkit__pg_pool_open(location, &pool, err);
    *state = pool;
    return s;
}

static void op_close(void *state) {
    authkit__pg_pool_close(state);
}

static authkit_status op_user_insert(void *state, const struct authkit_store_user *row,
                                     authkit_error *err) {
    const authkit_user *u = &row->user;
    if (!authkit__uuid_valid(u->id))
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, "id", "id is not a canonical UUID");
    struct authkit__pg_params p = {0};
    PGresult *r;
    p_text(&p, u->id);
    p_text(&p, u->email);
    p_text(&p, u->username);
    p_text(&p, u->global_role);
    p_bool(&p, u->is_active);
    p_text_null(&p, row->password_hash);
    p_time_null(&p, u->password_changed_at);
    p_int(&p, u->created_at);
    p_int(&p, u->updated_at);
    p_int(&p, row->sessions_valid_after);
    p_bool(&p, u->password_change_required);
    authkit_status s = run_one(state, ST_USER_INSERT, &p, "insert user", &r, err);
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_user_get(void *state, enum authkit_user_key key, const char *value,
                                  struct authkit_store_user *out, authkit_error *err) {
    int index = key == AUTHKIT_USER_BY_ID         ? ST_USER_BY_ID
                : key == AUTHKIT_USER_BY_EMAIL    ? ST_USER_BY_EMAIL
                : key == AUTHKIT_USER_BY_USERNAME ? ST_USER_BY_USERNAME
                                                  : -1;
    if (index < 0 || !value)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, "bad user key");
    if (index == ST_USER_BY_ID ? !authkit__uuid_valid(value) : !utf8(value))
        return no_user(err);
    struct authkit__pg_params p = {0};
    PGresult *r;
    p_text(&p, value);
    authkit_status s = run_one(state, index, &p, "get user", &r, err);
    if (s == AUTHKIT_OK && PQntuples(r) == 0)
        s = no_user(err);
    else if (s == AUTHKIT_OK && out)
        read_user(r, 0, 0, out);
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_user_update(void *state, const struct authkit_store_user *row,
                                     bool end_sessions, size_t *ended, authkit_error *err) {
    const authkit_user *u = &row->user;
    if (ended)
        *ended = 0;
    if (!authkit__uuid_valid(u->id))
        return no_user(err);
    struct authkit__pg_params p = {0};
    p_text(&p, u->id);
    p_text(&p, u->email);
    p_text(&p, u->username);
    p_text(&p, u->global_role);
    p_bool(&p, u->is_active);
    p_int(&p, u->updated_at);
    if (end_sessions) {
        p_int(&p, row->sessions_valid_after);
        return write_and_end_sessions(state, ST_USER_UPDATE_END, &p, u->id, ended, err);
    }
    struct authkit__pg_conn *c;
    authkit_status s = authkit__pg_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = write_user_row(c, ST_USER_UPDATE, &p, "update user", err);
    authkit__pg_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_user_set_password(void *state, const char *user_id, const char *hash,
                                           authkit_time now, size_t *ended, authkit_error *err) {
    if (ended)
        *ended = 0;
    if (!authkit__uuid_valid(user_id))
        return no_user(err);
    struct authkit__pg_params p = {0};
    p_text(&p, user_id);
    p_text_null(&p, hash);
    p_int(&p, now);
    return write_and_end_sessions(state, ST_USER_SET_PASSWORD, &p, user_id, ended, err);
}

static authkit_status op_user_end_sessions(void *state, const char *user_id, authkit_time now,
                                           size_t *ended, authkit_error *err) {
    if (ended)
        *ended = 0;
    if (!authkit__uuid_valid(user_id))
        return no_user(err);
    struct authkit__pg_params p = {0};
    p_text(&p, user_id);
    p_int(&p, now);
    return write_and_end_sessions(state, ST_USER_VALID_AFTER, &p, user_id, ended, err);
}

static authkit_status op_user_require_password_change(void *state, const char *user_id,
                                                      authkit_time now, size_t *ended,
                                                      authkit_error *err) {
    if (ended)
        *ended = 0;
    if (!authkit__uuid_valid(user_id))
        return no_user(err);
    struct authkit__pg_params p = {0};
    p_text(&p, user_id);
    p_int(&p, now);
    return write_and_end_sessions(state, ST_USER_REQUIRE_CHANGE, &p, user_id, ended, err);
}

static authkit_status op_user_rehash(void *state, const char *user_id, const char *old_hash,
                                     const char *new_hash, authkit_error *err) {
    /* A user that cannot exist, or a hash that cannot be stored, is "nothing replaced". */
    if (!authkit__uuid_valid(user_id) || !utf8(old_hash))
        return authkit__ok(err);
    struct authkit__pg_params p = {0};
    PGresult *r;
    p_text(&p, user_id);
    p_text(&p, old_hash);
    p_text_null(&p, new_hash);
    authkit_status s = run_one(state, ST_USER_REHASH, &p, "rehash", &r, err);
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_user_delete(void *state, const char *user_id, authkit_error *err) {
    if (!authkit__uuid_valid(user_id))
        return no_user(err);
    struct authkit__pg_params p = {0};
    PGresult *r;
    p_text(&p, user_id);
    authkit_status s = run_one(state, ST_USER_DELETE, &p, "delete user", &r, err);
    if (s == AUTHKIT_OK && affected(r) == 0)
        s = no_user(err);
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

/* Runs a bound user query and writes up to `cap` rows to `out`. */
static authkit_status read_users(void *state, int index, const struct authkit__pg_params *p,
                                 authkit_user *out, size_t cap, size_t *n, authkit_error *err) {
    PGresult *r;
    *n = 0;
    authkit_status s = run_one(state, index, p, "read users", &r, err);
    if (s == AUTHKIT_OK) {
        int rows = PQntuples(r);
        for (int i = 0; i < rows && *n < cap; i++)
            read_user_public(r, i, 0, &out[(*n)++]);
    }
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_user_list(void *state, size_t offset, authkit_user *out, size_t cap,
                                   size_t *n, authkit_error *err) {
    *n = 0;
    if (cap == 0)
        return authkit__ok(err);
    struct authkit__pg_params p = {0};
    p_size(&p, cap);
    p_size(&p, offset);
    return read_users(state, ST_USER_LIST, &p, out, cap, n, err);
}

/* "%<query>%" with the LIKE wildcards and the escape character escaped, so the query
 * matches literally. Free with free(). */
static char *like_pattern(const char *query) {
    size_t len = strlen(query);
    if (len > (SIZE_MAX - 3) / 2)
        return NULL;
    char *pattern = malloc(2 * len + 3), *p = pattern;
    if (!pattern)
        return NULL;
    *p++ = '%';
    for (const char *q = query; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\')
            *p++ = '\\';
        *p++ = *q;
    }
    *p++ = '%';
    *p = '\0';
    return pattern;
}

static authkit_status op_user_search(void *state, const char *query, authkit_user *out, size_t cap,
                                     size_t *n, authkit_error *err) {
    *n = 0;
    if (!query)
        query = "";
    /* Nothing stored holds text that is not UTF-8, so nothing matches it. */
    if (cap == 0 || !utf8(query))
        return authkit__ok(err);
    char *pattern = like_pattern(query);
    if (!pattern)
        return authkit__fail(err, AUTHKIT_NOMEM, NULL, NULL);
    struct authkit__pg_params p = {0};
    p_text(&p, pattern);
    p_size(&p, cap);
    authkit_status s = read_users(state, ST_USER_SEARCH, &p, out, cap, n, err);
    free(pattern);
    return s;
}

/* Runs a one-row "SELECT count(*)" with `p`. */
static authkit_status run_count(void *state, int index, const struct authkit__pg_params *p,
                                size_t *n, authkit_error *err) {
    PGresult *r;
    *n = 0;
    authkit_status s = run_one(state, index, p, "count", &r, err);
    if (s == AUTHKIT_OK && PQntuples(r) == 1)
        *n = (size_t)col_int(r, 0, 0);
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_user_count(void *state, size_t *n, authkit_error *err) {
    return run_count(state, ST_USER_COUNT, NULL, n, err);
}

static authkit_status op_session_insert(void *state, const struct authkit_store_session *row,
                                        authkit_error *err) {
    const authkit_session_info *i = &row->info;
    if (!authkit__uuid_valid(i->id))
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, "id", "id is not a canonical UUID");
    if (!authkit__uuid_valid(i->user_id))
        return authkit__fail(err, AUTHKIT_NOT_FOUND, "user_id", "no such user");
    struct authkit__pg_params p = {0};
    PGresult *r;
    p_text(&p, i->id);
    p_text(&p, i->user_id);
    p_digest(&p, row->token_digest);
    p_int(&p, i->created_at);
    p_int(&p, i->expires_at);
    p_int(&p, i->last_seen_at);
    p_text_null(&p, i->ip);
    p_text_null(&p, i->user_agent);
    authkit_status s = run_one(state, ST_SESSION_INSERT, &p, "insert session", &r, err);
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status no_session(authkit_error *err) {
    return authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "no such session");
}

static authkit_status op_session_find(void *state, const uint8_t digest[AUTHKIT_DIGEST_BYTES],
                                      struct authkit_store_session *session,
                                      struct authkit_store_user *user, authkit_error *err) {
    struct authkit__pg_params p = {0};
    PGresult *r;
    p_digest(&p, digest);
    authkit_status s = run_one(state, ST_SESSION_FIND, &p, "find session", &r, err);
    if (s == AUTHKIT_OK && PQntuples(r) == 0) {
        s = no_session(err);
    } else if (s == AUTHKIT_OK) {
        if (session)
            read_session(r, 0, 0, session);
        if (user)
            read_user(r, 0, SESSION_NCOLS, user);
    }
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_delete(void *state, const uint8_t digest[AUTHKIT_DIGEST_BYTES],
                                        struct authkit_store_session *out, authkit_error *err) {
    struct authkit__pg_params p = {0};
    PGresult *r;
    p_digest(&p, digest);
    authkit_status s = run_one(state, ST_SESSION_DELETE, &p, "delete session", &r, err);
    if (s == AUTHKIT_OK && PQntuples(r) == 0)
        s = no_session(err);
    else if (s == AUTHKIT_OK && out)
        read_session(r, 0, 0, out);
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_delete_id(void *state, const char *user_id, const char *session_id,
                                           authkit_error *err) {
    if (!authkit__uuid_valid(user_id) || !authkit__uuid_valid(session_id))
        return no_session(err);
    struct authkit__pg_params p = {0};
    PGresult *r;
    p_text(&p, session_id);
    p_text(&p, user_id);
    authkit_status s = run_one(state, ST_SESSION_DELETE_ID, &p, "delete session", &r, err);
    if (s == AUTHKIT_OK && affected(r) == 0)
        s = no_session(err);
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_touch(void *state, const uint8_t digest[AUTHKIT_DIGEST_BYTES],
                                       authkit_time now, authkit_error *err) {
    struct authkit__pg_params p = {0};
    PGresult *r;
    p_digest(&p, digest);
    p_int(&p, now);
    authkit_status s = run_one(state, ST_SESSION_TOUCH, &p, "touch session", &r, err);
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

/* Runs a delete of some of a user's sessions (`index` with the user id as $1 and one more
 * parameter); the count to `*n`. An id that is not a UUID has no sessions. */
static authkit_status delete_user_some(void *state, int index, const char *user_id,
                                       struct authkit__pg_params *p, const char *what, size_t *n,
                                       authkit_error *err) {
    PGresult *r;
    *n = 0;
    if (!authkit__uuid_valid(user_id))
        return authkit__ok(err);
    authkit_status s = run_one(state, index, p, what, &r, err);
    if (s == AUTHKIT_OK)
        *n = affected(r);
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_evict(void *state, const char *user_id, const char *keep_id,
                                       size_t others, size_t *evicted, authkit_error *err) {
    struct authkit__pg_params p = {0};
    p_text(&p, user_id);
    p_text(&p, authkit__uuid_valid(keep_id) ? keep_id : "00000000-0000-0000-0000-000000000000");
    p_size(&p, others);
    return delete_user_some(state, ST_SESSION_EVICT, user_id, &p, "evict sessions", evicted, err);
}

static authkit_status op_sessions_end_all(void *state, authkit_time now, size_t *ended,
                                          authkit_error *err) {
    struct authkit__pg_conn *c;
    struct authkit__pg_params p = {0};
    PGresult *r = NULL;
    *ended = 0;
    p_int(&p, now);
    authkit_status s = authkit__pg_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    if ((s = authkit__pg_begin(c, err)) == AUTHKIT_OK) {
        /* Users first: their row locks order this against logins and password changes. */
        s = authkit__pg_exec(c, ST_ALL_VALID_AFTER, sql[ST_ALL_VALID_AFTER], &p, "end all sessions",
                             &r, err);
        PQclear(r);
        r = NULL;
        if (s == AUTHKIT_OK)
            s = authkit__pg_exec(c, ST_ALL_SESSIONS_DELETE, sql[ST_ALL_SESSIONS_DELETE], NULL,
                                 "end all sessions", &r, err);
        if (s == AUTHKIT_OK)
            *ended = affected(r);
        PQclear(r);
        s = authkit__pg_end(c, s, err);
    }
    authkit__pg_release(state, c);
    if (s != AUTHKIT_OK)
        *ended = 0;
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_delete_others(void *state, const char *user_id,
                                               const char *keep_id, size_t *n, authkit_error *err) {
    struct authkit__pg_params p = {0};
    p_text(&p, user_id);
    /* Not a UUID: no session has it, so every session of the user goes. */
    p_text(&p, authkit__uuid_valid(keep_id) ? keep_id : "00000000-0000-0000-0000-000000000000");
    return delete_user_some(state, ST_SESSION_DELETE_OTHERS, user_id, &p, "delete other sessions",
                            n, err);
}

static authkit_status op_session_list(void *state, const char *user_id, authkit_time now,
                                      authkit_session_info *out, size_t cap, size_t *n,
                                      authkit_error *err) {
    *n = 0;
    if (cap == 0 || !authkit__uuid_valid(user_id))
        return authkit__ok(err);
    struct authkit__pg_params p = {0};
    PGresult *r;
    p_text(&p, user_id);
    p_int(&p, now);
    p_size(&p, cap);
    authkit_status s = run_one(state, ST_SESSION_LIST, &p, "list sessions", &r, err);
    if (s == AUTHKIT_OK) {
        struct authkit_store_session row;
        int rows = PQntuples(r);
        for (int i = 0; i < rows && *n < cap; i++) {
            read_session(r, i, 0, &row);
            out[(*n)++] = row.info;
        }
    }
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_delete_expired(void *state, authkit_time now, size_t batch,
                                                size_t *deleted, authkit_error *err) {
    *deleted = 0;
    if (batch == 0)
        return authkit__ok(err);
    struct authkit__pg_params p = {0};
    PGresult *r;
    p_int(&p, now);
    p_size(&p, batch);
    /* One statement is one transaction: the batch is deleted whole or not at all. */
    authkit_status s =
        run_one(state, ST_SESSION_DELETE_EXPIRED, &p, "delete expired sessions", &r, err);
    if (s == AUTHKIT_OK)
        *deleted = affected(r);
    PQclear(r);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_count(void *state, authkit_time now, size_t *n,
                                       authkit_error *err) {
    struct authkit__pg_params p = {0};
    p_int(&p, now);
    return run_count(state, ST_SESSION_COUNT, &p, n, err);
}

const struct authkit_store_ops authkit__store_pg = {
    .version = AUTHKIT_STORE_OPS_VERSION,
    .name = "postgresql",
    .open = op_open,
    .close = op_close,
    .user_insert = op_user_insert,
    .user_get = op_user_get,
    .user_update = op_user_update,
    .user_set_password = op_user_set_password,
    .user_rehash = op_user_rehash,
    .user_delete = op_user_delete,
    .user_list = op_user_list,
    .user_search = op_user_search,
    .user_count = op_user_count,
    .user_end_sessions = op_user_end_sessions,
    .user_require_password_change = op_user_require_password_change,
    .session_insert = op_session_insert,
    .session_find = op_session_find,
    .session_delete = op_session_delete,
    .session_delete_id = op_session_delete_id,
    .session_list = op_session_list,
    .session_delete_expired = op_session_delete_expired,
    .session_count = op_session_count,
    .throttle_attempt = authkit__pg_throttle_attempt,
    .throttle_success = authkit__pg_throttle_success,
    .throttle_clear = authkit__pg_throttle_clear,
    .throttle_prune = authkit__pg_throttle_prune,
    .session_touch = op_session_touch,
    .session_evict = op_session_evict,
    .session_delete_others = op_session_delete_others,
    .sessions_end_all = op_sessions_end_all,
    .audit_insert = authkit__pg_audit_insert,
    .audit_query = authkit__pg_audit_query,
    .audit_prune = authkit__pg_audit_prune,
};
