/* The SQLite adapter of the storage port (store/store.h).
 *
 * - Every operation takes a connection of its own from the pool (sqlite_pool.c) and gives
 *   it back, so concurrent callers never share one; ":memory:" has a single connection
 *   and its operations take turns.
 * - Statements are prepared once per connection and cached; all input is bound, never
 *   spliced into SQL.
 * - Changes of several rows run between BEGIN IMMEDIATE and COMMIT, and roll back on any
 *   failure. A single statement is already its own transaction.
 * - Errors: AUTHKIT_NOT_FOUND and AUTHKIT_CONFLICT as the port says. Beyond the port: a
 *   duplicate id or token digest is AUTHKIT_CONFLICT (field "id" or "token_digest"); a
 *   session for a user that does not exist is AUTHKIT_NOT_FOUND (field "user_id").
 *   Everything else is AUTHKIT_STORE with SQLite's message (SQLITE_BUSY after the busy
 *   timeout too). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/error.h"
#include "store/sqlite/sqlite_internal.h"
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

_Static_assert(ST_COUNT_ <= AUTHKIT__SQLITE_STMT_THROTTLE, "statement slots overlap");

/* Column lists shared by every query that reads a row, so read_user() and read_session()
 * can rely on the order. `p` is a table alias prefix ("" or "u."). */
/* clang-format off */
#define USER_COLS(p)                                                                               \
    p "id, " p "email, " p "username, " p "global_role, " p "is_active, "                          \
    p "password_hash, " p "password_changed_at, " p "created_at, " p "updated_at, "                \
    p "sessions_valid_after, " p "password_change_required"
#define SESSION_COLS(p)                                                                            \
    p "id, " p "user_id, " p "token_hash, " p "created_at, " p "expires_at, "                      \
    p "last_seen_at, " p "ip, " p "user_agent"
#define SESSION_NCOLS 8
/* clang-format on */

/* Laid out by hand so that each statement reads as SQL. */
/* clang-format off */
static const char *const sql[ST_COUNT_] = {
    [ST_USER_INSERT] =
        "INSERT INTO users (" USER_COLS("") ") "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_USER_BY_ID] =
        "SELECT " USER_COLS("") " FROM users WHERE id = ?1",
    [ST_USER_BY_EMAIL] =
        "SELECT " USER_COLS("") " FROM users WHERE email = ?1",
    /* The column's NOCASE collation makes this comparison (and its index) case-blind. */
    [ST_USER_BY_USERNAME] =
        "SELECT " USER_COLS("") " FROM users WHERE username = ?1",
    [ST_USER_UPDATE] =
        "UPDATE users SET email = ?2, username = ?3, global_role = ?4, is_active = ?5, "
        "updated_at = ?6 WHERE id = ?1",
    [ST_USER_UPDATE_END] =
        "UPDATE users SET email = ?2, username = ?3, global_role = ?4, is_active = ?5, "
        "updated_at = ?6, sessions_valid_after = ?7 WHERE id = ?1",
    [ST_USER_SET_PASSWORD] =
        "UPDATE users SET password_hash = ?2, password_changed_at = ?3, updated_at = ?3, "
        "sessions_valid_after = ?3, password_change_required = 0 WHERE id = ?1",
    [ST_USER_REQUIRE_CHANGE] =
        "UPDATE users SET password_change_required = 1, updated_at = ?2, "
        "sessions_valid_after = ?2 WHERE id = ?1",
    /* The old hash in the WHERE makes it a compare-and-swap. */
    [ST_USER_REHASH] =
        "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2",
    [ST_USER_DELETE] =
        "DELETE FROM users WHERE id = ?1",
    [ST_USER_LIST] =
        "SELECT " USER_COLS("") " FROM users ORDER BY created_at, id LIMIT ?1 OFFSET ?2",
    [ST_USER_SEARCH] =
        "SELECT " USER_COLS("") " FROM users "
        "WHERE email LIKE ?1 ESCAPE '\\' OR username LIKE ?1 ESCAPE '\\' "
        "ORDER BY created_at, id LIMIT ?2",
    [ST_USER_COUNT] =
        "SELECT count(*) FROM users",
    [ST_USER_VALID_AFTER] =
        "UPDATE users SET sessions_valid_after = ?2 WHERE id = ?1",
    [ST_USER_SESSIONS_DELETE] =
        "DELETE FROM auth_sessions WHERE user_id = ?1",
    [ST_SESSION_INSERT] =
        "INSERT INTO auth_sessions (" SESSION_COLS("") ") "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    /* The hot path of every request: one step through the token_hash index. */
    [ST_SESSION_FIND] =
        "SELECT " SESSION_COLS("s.") ", " USER_COLS("u.") " "
        "FROM auth_sessions AS s JOIN users AS u ON u.id = s.user_id "
        "WHERE s.token_hash = ?1",
    /* RETURNING: the row comes from the delete itself, so of two concurrent deleters only
     * the one that really deleted it sees it. */
    [ST_SESSION_DELETE] =
        "DELETE FROM auth_sessions WHERE token_hash = ?1 RETURNING " SESSION_COLS(""),
    [ST_SESSION_DELETE_ID] =
        "DELETE FROM auth_sessions WHERE id = ?1 AND user_id = ?2",
    [ST_SESSION_LIST] =
        "SELECT " SESSION_COLS("") " FROM auth_sessions "
        "WHERE user_id = ?1 AND expires_at > ?2 "
        "ORDER BY created_at DESC, id DESC LIMIT ?3",
    /* Oldest first, through the expires_at index, at most ?2 rows per call. */
    [ST_SESSION_DELETE_EXPIRED] =
        "DELETE FROM auth_sessions WHERE id IN (SELECT id FROM auth_sessions "
        "WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
    [ST_SESSION_COUNT] =
        "SELECT count(*) FROM auth_sessions WHERE expires_at > ?1",
    [ST_SESSION_TOUCH] =
        "UPDATE auth_sessions SET last_seen_at = ?2 WHERE token_hash = ?1 AND last_seen_at < ?2",
    [ST_SESSION_EVICT] =
        "DELETE FROM auth_sessions WHERE user_id = ?1 AND id <> ?2 AND id NOT IN (SELECT id "
        "FROM auth_sessions WHERE user_id = ?1 AND id <> ?2 "
        "ORDER BY created_at DESC, id DESC LIMIT ?3)",
    [ST_SESSION_DELETE_OTHERS] =
        "DELETE FROM auth_sessions WHERE user_id = ?1 AND id <> ?2",
    [ST_ALL_VALID_AFTER] =
        "UPDATE users SET sessions_valid_after = ?1",
    [ST_ALL_SESSIONS_DELETE] =
        "DELETE FROM auth_sessions",
};
/* clang-format on */

/* ---- binding and reading ---------------------------------------------------------- */

/* SQLITE_STATIC: the text outlives the statement's use (reset clears the bindings). */
static bool bind_text(sqlite3_stmt *st, int i, const char *s) {
    return sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC) == SQLITE_OK;
}

/* "" is stored as NULL (no password hash, no ip, no user agent). */
static bool bind_text_null(sqlite3_stmt *st, int i, const char *s) {
    if (!s || !*s)
        return sqlite3_bind_null(st, i) == SQLITE_OK;
    return bind_text(st, i, s);
}

static bool bind_int(sqlite3_stmt *st, int i, int64_t v) {
    return sqlite3_bind_int64(st, i, v) == SQLITE_OK;
}

/* 0 means "never" and is stored as NULL. */
static bool bind_time_null(sqlite3_stmt *st, int i, authkit_time t) {
    return t ? bind_int(st, i, t) : sqlite3_bind_null(st, i) == SQLITE_OK;
}

static bool bind_size(sqlite3_stmt *st, int i, size_t v) {
    return bind_int(st, i, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

static bool bind_digest(sqlite3_stmt *st, int i, const uint8_t *digest) {
    return sqlite3_bind_blob(st, i, digest, AUTHKIT_DIGEST_BYTES, SQLITE_STATIC) == SQLITE_OK;
}

static void col_text(char *dst, size_t size, sqlite3_stmt *st, int col) {
    const unsigned char *t = sqlite3_column_text(st, col);
    authkit__strlcpy(dst, t ? (const char *)t : "", size);
}

static void read_user_public(sqlite3_stmt *st, int col, authkit_user *u) {
    memset(u, 0, sizeof *u);
    col_text(u->id, sizeof u->id, st, col);
    col_text(u->email, sizeof u->email, st, col + 1);
    col_text(u->username, sizeof u->username, st, col + 2);
    col_text(u->global_role, sizeof u->global_role, st, col + 3);
    u->is_active = sqlite3_column_int(st, col + 4) != 0;
    u->has_password = sqlite3_column_bytes(st, col + 5) > 0;
    u->password_changed_at = sqlite3_column_int64(st, col + 6);
    u->created_at = sqlite3_column_int64(st, col + 7);
    u->updated_at = sqlite3_column_int64(st, col + 8);
    u->password_change_required = sqlite3_column_int(st, col + 10) != 0;
}

static void read_user(sqlite3_stmt *st, int col, struct authkit_store_user *out) {
    read_user_public(st, col, &out->user);
    col_text(out->password_hash, sizeof out->password_hash, st, col + 5);
    out->sessions_valid_after = sqlite3_column_int64(st, col + 9);
}

static void read_session(sqlite3_stmt *st, int col, struct authkit_store_session *out) {
    authkit_session_info *s = &out->info;
    memset(out, 0, sizeof *out);
    col_text(s->id, sizeof s->id, st, col);
    col_text(s->user_id, sizeof s->user_id, st, col + 1);
    const void *digest = sqlite3_column_blob(st, col + 2);
    if (digest && sqlite3_column_bytes(st, col + 2) == AUTHKIT_DIGEST_BYTES)
        memcpy(out->token_digest, digest, AUTHKIT_DIGEST_BYTES);
    s->created_at = sqlite3_column_int64(st, col + 3);
    s->expires_at = sqlite3_column_int64(st, col + 4);
    s->last_seen_at = sqlite3_column_int64(st, col + 5);
    col_text(s->ip, sizeof s->ip, st, col + 6);
    col_text(s->user_agent, sizeof s->user_agent, st, col + 7);
}

/* ---- running statements ------------------------------------------------------------ */

/* Maps a failed write: unique violations to CONFLICT naming the column, a session whose
 * user is gone to NOT_FOUND, anything else to STORE. */
static authkit_status write_fail(struct authkit__sqlite_conn *c, authkit_error *err,
                                 const char *what) {
    int code = sqlite3_extended_errcode(c->db);
    const char *msg = sqlite3_errmsg(c->db);
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
        /* SQLite names the index's column: "UNIQUE constraint failed: users.email". */
        if (strstr(msg, "users.email"))
            return authkit__fail(err, AUTHKIT_CONFLICT, "email", "email is already taken");
        if (strstr(msg, "users.username"))
            return authkit__fail(err, AUTHKIT_CONFLICT, "username", "username is already taken");
        if (strstr(msg, "auth_sessions.token_hash"))
            return authkit__fail(err, AUTHKIT_CONFLICT, "token_digest",
                                 "a session with this token exists");
        return authkit__fail(err, AUTHKIT_CONFLICT, "id", "a row with this id exists");
    }
    if (code == SQLITE_CONSTRAINT_FOREIGNKEY)
        return authkit__fail(err, AUTHKIT_NOT_FOUND, "user_id", "no such user");
    return authkit__sqlite_fail(c, err, what);
}

/* Runs a statement that returns no rows; the number of rows it changed goes to
 * `*changes` (may be NULL). Resets the statement. */
static authkit_status run_write(struct authkit__sqlite_conn *c, sqlite3_stmt *st, const char *what,
                                size_t *changes, authkit_error *err) {
    authkit_status s = AUTHKIT_OK;
    if (sqlite3_step(st) == SQLITE_DONE) {
        if (changes)
            *changes = (size_t)sqlite3_changes64(c->db);
    } else {
        s = write_fail(c, err, what);
    }
    authkit__sqlite_reset(st);
    return s;
}

/* Runs a one-row "SELECT count(*)" whose parameters are bound. Resets the statement. */
static authkit_status run_count(struct authkit__sqlite_conn *c, sqlite3_stmt *st, size_t *n,
                                authkit_error *err) {
    authkit_status s = AUTHKIT_OK;
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = (size_t)sqlite3_column_int64(st, 0);
    else
        s = authkit__sqlite_fail(c, err, "count");
    authkit__sqlite_reset(st);
    return s;
}

static authkit_status bind_fail(struct authkit__sqlite_conn *c, sqlite3_stmt *st,
                                authkit_error *err) {
    authkit_status s = authkit__sqlite_fail(c, err, "bind");
    authkit__sqlite_reset(st);
    return s;
}

/* One parameter of a single-statement write (write_one). */
struct param {
    const char *text;      /* text when not NULL */
    const uint8_t *digest; /* else a 32-byte digest when not NULL */
    int64_t number;        /* else this integer */
};

/* Runs statement `index` with `params` bound as ?1.. on a connection of its own; a
 * single statement is its own transaction. The rows changed go to `*changed` (may be
 * NULL). */
static authkit_status write_one(void *state, int index, const struct param *params, int n,
                                const char *what, size_t *changed, authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = authkit__sqlite_stmt(c, index, sql[index], &st, err);
    if (s == AUTHKIT_OK) {
        bool bound = true;
        for (int i = 0; bound && i < n; i++)
            bound = params[i].text     ? bind_text(st, i + 1, params[i].text)
                    : params[i].digest ? bind_digest(st, i + 1, params[i].digest)
                                       : bind_int(st, i + 1, params[i].number);
        s = bound ? run_write(c, st, what, changed, err) : bind_fail(c, st, err);
    }
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

/* Deletes every session of `user_id`; the count goes to `*n`. Inside a transaction. */
static authkit_status delete_user_sessions(struct authkit__sqlite_conn *c, const char *user_id,
                                           size_t *n, authkit_error *err) {
    sqlite3_stmt *st;
    authkit_status s =
        authkit__sqlite_stmt(c, ST_USER_SESSIONS_DELETE, sql[ST_USER_SESSIONS_DELETE], &st, err);
    if (s != AUTHKIT_OK)
        return s;
    if (!bind_text(st, 1, user_id))
        return bind_fail(c, st, err);
    return run_write(c, st, "delete sessions", n, err);
}

/* A change of one user row that must hit it: 0 rows changed is NOT_FOUND. */
static authkit_status expect_user_row(authkit_status s, size_t changed, authkit_error *err) {
    if (s == AUTHKIT_OK && changed == 0)
        return authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "no such user");
    return s;
}

/* ---- the port ------------------------------------------------------------------------ */

static authkit_status op_open(const char *location, void **state, authkit_error *err) {
    if (!state)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, "no state pointer given");
    struct authkit__sqlite_pool *pool = NULL;
    authkit_status s = authkit__sqlite_pool_open(location, &pool, err);
    *state = pool;
    return s;
}

static void op_close(void *state) {
    authkit__sqlite_pool_close(state);
}

static authkit_status op_user_insert(void *state, const struct authkit_store_user *row,
                                     authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = authkit__sqlite_stmt(c, ST_USER_INSERT, sql[ST_USER_INSERT], &st, err);
    if (s == AUTHKIT_OK) {
        const authkit_user *u = &row->user;
        if (bind_text(st, 1, u->id) && bind_text(st, 2, u->email) &&
            bind_text(st, 3, u->username) && bind_text(st, 4, u->global_role) &&
            bind_int(st, 5, u->is_active) && bind_text_null(st, 6, row->password_hash) &&
            bind_time_null(st, 7, u->password_changed_at) && bind_int(st, 8, u->created_at) &&
            bind_int(st, 9, u->updated_at) && bind_int(st, 10, row->sessions_valid_after) &&
            bind_int(st, 11, u->password_change_required))
            s = run_write(c, st, "insert user", NULL, err);
        else
            s = bind_fail(c, st, err);
    }
    authkit__sqlite_release(state, c);
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
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = authkit__sqlite_stmt(c, index, sql[index], &st, err);
    if (s == AUTHKIT_OK && !bind_text(st, 1, value)) {
        s = bind_fail(c, st, err);
    } else if (s == AUTHKIT_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            if (out)
                read_user(st, 0, out);
        } else if (rc == SQLITE_DONE) {
            s = authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "no such user");
        } else {
            s = authkit__sqlite_fail(c, err, "get user");
        }
        authkit__sqlite_reset(st);
    }
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status update_user_row(struct authkit__sqlite_conn *c,
                                      const struct authkit_store_user *row, bool end_sessions,
                                      authkit_error *err) {
    int index = end_sessions ? ST_USER_UPDATE_END : ST_USER_UPDATE;
    sqlite3_stmt *st;
    size_t changed = 0;
    authkit_status s = authkit__sqlite_stmt(c, index, sql[index], &st, err);
    if (s != AUTHKIT_OK)
        return s;
    const authkit_user *u = &row->user;
    if (!(bind_text(st, 1, u->id) && bind_text(st, 2, u->email) && bind_text(st, 3, u->username) &&
          bind_text(st, 4, u->global_role) && bind_int(st, 5, u->is_active) &&
          bind_int(st, 6, u->updated_at) &&
          (!end_sessions || bind_int(st, 7, row->sessions_valid_after))))
        return bind_fail(c, st, err);
    s = run_write(c, st, "update user", &changed, err);
    return expect_user_row(s, changed, err);
}

static authkit_status op_user_update(void *state, const struct authkit_store_user *row,
                                     bool end_sessions, size_t *ended, authkit_error *err) {
    struct authkit__sqlite_conn *c;
    size_t n = 0;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    if (!end_sessions) {
        s = update_user_row(c, row, false, err);
    } else {
        s = authkit__sqlite_begin(c, err);
        if (s == AUTHKIT_OK) {
            s = delete_user_sessions(c, row->user.id, &n, err);
            if (s == AUTHKIT_OK)
                s = update_user_row(c, row, true, err);
            s = authkit__sqlite_end(c, s, err);
        }
    }
    authkit__sqlite_release(state, c);
    if (ended)
        *ended = s == AUTHKIT_OK ? n : 0;
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

/* Runs `index` (an UPDATE of one user: ?1 the id, then the new hash if it is
 * ST_USER_SET_PASSWORD, then `now`; ST_USER_SET_PASSWORD also clears
 * password_change_required, ST_USER_REQUIRE_CHANGE sets it) and deletes the user's sessions, in one
 * transaction. NOT_FOUND when there is no such user. */
static authkit_status update_and_end_sessions(void *state, int index, const char *user_id,
                                              const char *hash, authkit_time now, size_t *ended,
                                              authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    size_t changed = 0, n = 0;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = authkit__sqlite_begin(c, err);
    if (s == AUTHKIT_OK) {
        s = authkit__sqlite_stmt(c, index, sql[index], &st, err);
        if (s == AUTHKIT_OK) {
            bool bound =
                bind_text(st, 1, user_id) &&
                (index == ST_USER_SET_PASSWORD ? bind_text_null(st, 2, hash) && bind_int(st, 3, now)
                                               : bind_int(st, 2, now));
            s = bound ? run_write(c, st, "update user", &changed, err) : bind_fail(c, st, err);
            s = expect_user_row(s, changed, err);
        }
        if (s == AUTHKIT_OK)
            s = delete_user_sessions(c, user_id, &n, err);
        s = authkit__sqlite_end(c, s, err);
    }
    authkit__sqlite_release(state, c);
    if (ended)
        *ended = s == AUTHKIT_OK ? n : 0;
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_user_set_password(void *state, const char *user_id, const char *hash,
                                           authkit_time now, size_t *ended, authkit_error *err) {
    return update_and_end_sessions(state, ST_USER_SET_PASSWORD, user_id, hash, now, ended, err);
}

static authkit_status op_user_end_sessions(void *state, const char *user_id, authkit_time now,
                                           size_t *ended, authkit_error *err) {
    return update_and_end_sessions(state, ST_USER_VALID_AFTER, user_id, NULL, now, ended, err);
}

static authkit_status op_user_require_password_change(void *state, const char *user_id,
                                                      authkit_time now, size_t *ended,
                                                      authkit_error *err) {
    return update_and_end_sessions(state, ST_USER_REQUIRE_CHANGE, user_id, NULL, now, ended, err);
}

static authkit_status op_user_rehash(void *state, const char *user_id, const char *old_hash,
                                     const char *new_hash, authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    /* One UPDATE with the old hash in its WHERE: compare and swap, atomically. */
    s = authkit__sqlite_stmt(c, ST_USER_REHASH, sql[ST_USER_REHASH], &st, err);
    if (s == AUTHKIT_OK) {
        if (bind_text(st, 1, user_id) && bind_text(st, 2, old_hash) &&
            bind_text_null(st, 3, new_hash))
            s = run_write(c, st, "rehash", NULL, err);
        else
            s = bind_fail(c, st, err);
    }
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_user_delete(void *state, const char *user_id, authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    size_t changed = 0, n = 0;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = authkit__sqlite_begin(c, err);
    if (s == AUTHKIT_OK) {
        /* ON DELETE CASCADE would remove them too; deleting them first does not depend
         * on the connection's foreign_keys setting. */
        s = delete_user_sessions(c, user_id, &n, err);
        if (s == AUTHKIT_OK)
            s = authkit__sqlite_stmt(c, ST_USER_DELETE, sql[ST_USER_DELETE], &st, err);
        if (s == AUTHKIT_OK) {
            s = bind_text(st, 1, user_id) ? run_write(c, st, "delete user", &changed, err)
                                          : bind_fail(c, st, err);
            s = expect_user_row(s, changed, err);
        }
        s = authkit__sqlite_end(c, s, err);
    }
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

/* Steps a bound user query, writing up to `cap` rows to `out`. Resets the statement. */
static authkit_status read_users(struct authkit__sqlite_conn *c, sqlite3_stmt *st,
                                 authkit_user *out, size_t cap, size_t *n, authkit_error *err) {
    authkit_status s = AUTHKIT_OK;
    int rc = SQLITE_DONE;
    while (*n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW)
        read_user_public(st, 0, &out[(*n)++]);
    if (*n < cap && rc != SQLITE_DONE)
        s = authkit__sqlite_fail(c, err, "read users");
    authkit__sqlite_reset(st);
    return s;
}

static authkit_status op_user_list(void *state, size_t offset, authkit_user *out, size_t cap,
                                   size_t *n, authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    *n = 0;
    if (cap == 0)
        return authkit__ok(err);
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = authkit__sqlite_stmt(c, ST_USER_LIST, sql[ST_USER_LIST], &st, err);
    if (s == AUTHKIT_OK) {
        if (bind_size(st, 1, cap) && bind_size(st, 2, offset))
            s = read_users(c, st, out, cap, n, err);
        else
            s = bind_fail(c, st, err);
    }
    authkit__sqlite_release(state, c);
    if (s != AUTHKIT_OK)
        *n = 0;
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
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
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    *n = 0;
    if (cap == 0)
        return authkit__ok(err);
    /* SQLite's LIKE already ignores ASCII case, which is what the port asks for. */
    char *pattern = like_pattern(query ? query : "");
    if (!pattern)
        return authkit__fail(err, AUTHKIT_NOMEM, NULL, NULL);
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s == AUTHKIT_OK) {
        s = authkit__sqlite_stmt(c, ST_USER_SEARCH, sql[ST_USER_SEARCH], &st, err);
        if (s == AUTHKIT_OK) {
            if (bind_text(st, 1, pattern) && bind_size(st, 2, cap))
                s = read_users(c, st, out, cap, n, err);
            else
                s = bind_fail(c, st, err);
        }
        authkit__sqlite_release(state, c);
    }
    free(pattern); /* after the reset: the statement no longer refers to it */
    if (s != AUTHKIT_OK)
        *n = 0;
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_user_count(void *state, size_t *n, authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    *n = 0;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = authkit__sqlite_stmt(c, ST_USER_COUNT, sql[ST_USER_COUNT], &st, err);
    if (s == AUTHKIT_OK)
        s = run_count(c, st, n, err);
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_insert(void *state, const struct authkit_store_session *row,
                                        authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = authkit__sqlite_stmt(c, ST_SESSION_INSERT, sql[ST_SESSION_INSERT], &st, err);
    if (s == AUTHKIT_OK) {
        const authkit_session_info *i = &row->info;
        if (bind_text(st, 1, i->id) && bind_text(st, 2, i->user_id) &&
            bind_digest(st, 3, row->token_digest) && bind_int(st, 4, i->created_at) &&
            bind_int(st, 5, i->expires_at) && bind_int(st, 6, i->last_seen_at) &&
            bind_text_null(st, 7, i->ip) && bind_text_null(st, 8, i->user_agent))
            s = run_write(c, st, "insert session", NULL, err);
        else
            s = bind_fail(c, st, err);
    }
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_find(void *state, const uint8_t digest[AUTHKIT_DIGEST_BYTES],
                                      struct authkit_store_session *session,
                                      struct authkit_store_user *user, authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = authkit__sqlite_stmt(c, ST_SESSION_FIND, sql[ST_SESSION_FIND], &st, err);
    if (s == AUTHKIT_OK && !bind_digest(st, 1, digest)) {
        s = bind_fail(c, st, err);
    } else if (s == AUTHKIT_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            if (session)
                read_session(st, 0, session);
            if (user)
                read_user(st, SESSION_NCOLS, user);
        } else if (rc == SQLITE_DONE) {
            s = authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "no such session");
        } else {
            s = authkit__sqlite_fail(c, err, "find session");
        }
        authkit__sqlite_reset(st);
    }
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_delete(void *state, const uint8_t digest[AUTHKIT_DIGEST_BYTES],
                                        struct authkit_store_session *out, authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = authkit__sqlite_stmt(c, ST_SESSION_DELETE, sql[ST_SESSION_DELETE], &st, err);
    if (s == AUTHKIT_OK && !bind_digest(st, 1, digest)) {
        s = bind_fail(c, st, err);
    } else if (s == AUTHKIT_OK) {
        bool found = false;
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            found = true;
            if (out)
                read_session(st, 0, out);
            rc = sqlite3_step(st); /* runs the statement to completion */
        }
        if (rc != SQLITE_DONE)
            s = authkit__sqlite_fail(c, err, "delete session");
        else if (!found)
            s = authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "no such session");
        authkit__sqlite_reset(st);
    }
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_delete_id(void *state, const char *user_id, const char *session_id,
                                           authkit_error *err) {
    size_t changed = 0;
    const struct param p[] = {{.text = session_id}, {.text = user_id}};
    authkit_status s =
        write_one(state, ST_SESSION_DELETE_ID, p, 2, "delete session", &changed, err);
    if (s == AUTHKIT_OK && changed == 0)
        return authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "no such session");
    return s;
}

static authkit_status op_session_touch(void *state, const uint8_t digest[AUTHKIT_DIGEST_BYTES],
                                       authkit_time now, authkit_error *err) {
    const struct param p[] = {{.digest = digest}, {.number = now}};
    return write_one(state, ST_SESSION_TOUCH, p, 2, "touch session", NULL, err);
}

static authkit_status op_session_evict(void *state, const char *user_id, const char *keep_id,
                                       size_t others, size_t *evicted, authkit_error *err) {
    const struct param p[] = {{.text = user_id},
                              {.text = keep_id},
                              {.number = others > INT64_MAX ? INT64_MAX : (int64_t)others}};
    *evicted = 0;
    return write_one(state, ST_SESSION_EVICT, p, 3, "evict sessions", evicted, err);
}

static authkit_status op_sessions_end_all(void *state, authkit_time now, size_t *ended,
                                          authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    *ended = 0;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    if ((s = authkit__sqlite_begin(c, err)) == AUTHKIT_OK) {
        s = authkit__sqlite_stmt(c, ST_ALL_VALID_AFTER, sql[ST_ALL_VALID_AFTER], &st, err);
        if (s == AUTHKIT_OK)
            s = bind_int(st, 1, now) ? run_write(c, st, "end all sessions", NULL, err)
                                     : bind_fail(c, st, err);
        if (s == AUTHKIT_OK)
            s = authkit__sqlite_stmt(c, ST_ALL_SESSIONS_DELETE, sql[ST_ALL_SESSIONS_DELETE], &st,
                                     err);
        if (s == AUTHKIT_OK)
            s = run_write(c, st, "end all sessions", ended, err);
        s = authkit__sqlite_end(c, s, err);
    }
    authkit__sqlite_release(state, c);
    if (s != AUTHKIT_OK)
        *ended = 0;
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_delete_others(void *state, const char *user_id,
                                               const char *keep_id, size_t *n, authkit_error *err) {
    const struct param p[] = {{.text = user_id}, {.text = keep_id}};
    *n = 0;
    return write_one(state, ST_SESSION_DELETE_OTHERS, p, 2, "delete other sessions", n, err);
}

static authkit_status op_session_list(void *state, const char *user_id, authkit_time now,
                                      authkit_session_info *out, size_t cap, size_t *n,
                                      authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    *n = 0;
    if (cap == 0)
        return authkit__ok(err);
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = authkit__sqlite_stmt(c, ST_SESSION_LIST, sql[ST_SESSION_LIST], &st, err);
    if (s == AUTHKIT_OK &&
        !(bind_text(st, 1, user_id) && bind_int(st, 2, now) && bind_size(st, 3, cap))) {
        s = bind_fail(c, st, err);
    } else if (s == AUTHKIT_OK) {
        struct authkit_store_session row;
        int rc = SQLITE_DONE;
        while (*n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            read_session(st, 0, &row);
            out[(*n)++] = row.info;
        }
        if (*n < cap && rc != SQLITE_DONE)
            s = authkit__sqlite_fail(c, err, "list sessions");
        authkit__sqlite_reset(st);
    }
    authkit__sqlite_release(state, c);
    if (s != AUTHKIT_OK)
        *n = 0;
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_delete_expired(void *state, authkit_time now, size_t batch,
                                                size_t *deleted, authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    *deleted = 0;
    if (batch == 0)
        return authkit__ok(err);
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    /* One statement is one transaction: the batch is deleted whole or not at all. */
    s = authkit__sqlite_stmt(c, ST_SESSION_DELETE_EXPIRED, sql[ST_SESSION_DELETE_EXPIRED], &st,
                             err);
    if (s == AUTHKIT_OK) {
        if (bind_int(st, 1, now) && bind_size(st, 2, batch))
            s = run_write(c, st, "delete expired sessions", deleted, err);
        else
            s = bind_fail(c, st, err);
    }
    authkit__sqlite_release(state, c);
    if (s != AUTHKIT_OK)
        *deleted = 0;
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static authkit_status op_session_count(void *state, authkit_time now, size_t *n,
                                       authkit_error *err) {
    struct authkit__sqlite_conn *c;
    sqlite3_stmt *st;
    *n = 0;
    authkit_status s = authkit__sqlite_acquire(state, &c, err);
    if (s != AUTHKIT_OK)
        return s;
    s = authkit__sqlite_stmt(c, ST_SESSION_COUNT, sql[ST_SESSION_COUNT], &st, err);
    if (s == AUTHKIT_OK && !bind_int(st, 1, now))
        s = bind_fail(c, st, err);
    else if (s == AUTHKIT_OK)
        s = run_count(c, st, n, err);
    authkit__sqlite_release(state, c);
    return s == AUTHKIT_OK ? authkit__ok(err) : s;
}

static _Atomic uint64_t *op_change_counter(void *state) {
    return ((struct authkit__sqlite_pool *)state)->changes;
}

const struct authkit_store_ops authkit__store_sqlite = {
    .version = AUTHKIT_STORE_OPS_VERSION,
    .name = "sqlite",
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
    .throttle_attempt = authkit__sqlite_throttle_attempt,
    .throttle_success = authkit__sqlite_throttle_success,
    .throttle_clear = authkit__sqlite_throttle_clear,
    .throttle_prune = authkit__sqlite_throttle_prune,
    .session_touch = op_session_touch,
    .session_evict = op_session_evict,
    .session_delete_others = op_session_delete_others,
    .sessions_end_all = op_sessions_end_all,
    .audit_insert = authkit__sqlite_audit_insert,
    .audit_query = authkit__sqlite_audit_query,
    .audit_prune = authkit__sqlite_audit_prune,
    .change_counter = op_change_counter,
};
