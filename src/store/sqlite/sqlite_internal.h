/* Internals of the SQLite adapter: the connection pool, the per-connection statement
 * cache, transactions and the schema. Only src/store/sqlite/ (and its tests) include this:
 * adapters are the only code that sees sqlite3.h.
 *
 * Threading: a pool may be used from any number of threads at once; a connection taken
 * from it belongs to one thread until it is given back (SQLite's "multi-thread" mode). */
#ifndef AUTHKIT_STORE_SQLITE_INTERNAL_H
#define AUTHKIT_STORE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "authkit/status.h"
#include "store/store.h"

/* The schema version the code migrates to (PRAGMA user_version). */
#define AUTHKIT__SQLITE_SCHEMA_VERSION 4

/* Slots in each connection's statement cache: sqlite_store.c's statements below
 * AUTHKIT__SQLITE_STMT_THROTTLE, sqlite_throttle.c's from there on, sqlite_audit.c's from
 * AUTHKIT__SQLITE_STMT_AUDIT on. */
#define AUTHKIT__SQLITE_MAX_STMTS     40
#define AUTHKIT__SQLITE_STMT_THROTTLE 28
#define AUTHKIT__SQLITE_STMT_AUDIT    32

/* Milliseconds a statement waits for another connection's write lock before failing. */
#define AUTHKIT__SQLITE_BUSY_TIMEOUT_MS 5000

struct authkit__sqlite_conn {
    sqlite3 *db;
    struct authkit__sqlite_conn *next;             /* free list link while idle */
    sqlite3_stmt *begin;                           /* BEGIN IMMEDIATE */
    sqlite3_stmt *commit;                          /* COMMIT */
    sqlite3_stmt *stmt[AUTHKIT__SQLITE_MAX_STMTS]; /* prepared lazily */
};

struct authkit__sqlite_pool {
    /* Guards `idle`. For ":memory:" it is instead held for the whole of each operation,
     * because every connection to ":memory:" would be a different, empty database: there
     * is exactly one connection and operations take turns on it. */
    pthread_mutex_t lock;
    struct authkit__sqlite_conn *idle;
    bool memory;
    /* The change counter (store.h): the first 8 bytes of "<database file>-revocations",
     * mapped shared, so every process that opens the database moves and sees the same
     * one; `local_changes` for ":memory:", which no other process can reach. */
    _Atomic uint64_t *changes;
    _Atomic uint64_t local_changes;
    char path[]; /* the location as given */
};

/* Opens the pool's first connection, applies the connection settings and brings the
 * schema up to date. AUTHKIT_OK and the pool in `*out`, or AUTHKIT_STORE with the path
 * and SQLite's reason in err->message (unopenable path, directory, not a database,
 * schema newer than this code), or AUTHKIT_NOMEM. */
authkit_status authkit__sqlite_pool_open(const char *location, struct authkit__sqlite_pool **out,
                                         authkit_error *err);

/* Closes every connection and frees the pool. NULL is ignored. No connection may be out. */
void authkit__sqlite_pool_close(struct authkit__sqlite_pool *pool);

/* Takes a connection for the calling thread (an idle one, or a new one). Every successful
 * acquire must be paired with a release. AUTHKIT_OK, AUTHKIT_STORE or AUTHKIT_NOMEM. */
authkit_status authkit__sqlite_acquire(struct authkit__sqlite_pool *pool,
                                       struct authkit__sqlite_conn **out, authkit_error *err);
void authkit__sqlite_release(struct authkit__sqlite_pool *pool, struct authkit__sqlite_conn *conn);

/* The cached statement in slot `index` of `conn`, prepared from `sql` on first use.
 * Give it back with authkit__sqlite_reset(). AUTHKIT_OK or AUTHKIT_STORE. */
authkit_status authkit__sqlite_stmt(struct authkit__sqlite_conn *conn, int index, const char *sql,
                                    sqlite3_stmt **out, authkit_error *err);

/* Makes a cached statement ready for its next use (and drops references to bound text). */
void authkit__sqlite_reset(sqlite3_stmt *stmt);

/* Fills `err` with AUTHKIT_STORE and "sqlite <what>: <SQLite's last message>". */
authkit_status authkit__sqlite_fail(struct authkit__sqlite_conn *conn, authkit_error *err,
                                    const char *what);

/* BEGIN IMMEDIATE: takes the write lock up front, so a transaction that reads and then
 * writes never fails half-way with SQLITE_BUSY_SNAPSHOT. */
authkit_status authkit__sqlite_begin(struct authkit__sqlite_conn *conn, authkit_error *err);

/* Commits when `status` is AUTHKIT_OK (rolling back if the commit fails), otherwise
 * rolls back and leaves `err` as it is. Returns the final status. */
authkit_status authkit__sqlite_end(struct authkit__sqlite_conn *conn, authkit_status status,
                                   authkit_error *err);

/* Brings the schema of `db` up to AUTHKIT__SQLITE_SCHEMA_VERSION, one transaction per
 * migration. `path` is only for messages. AUTHKIT_OK or AUTHKIT_STORE. */
authkit_status authkit__sqlite_migrate(sqlite3 *db, const char *path, authkit_error *err);

/* The throttling operations of the port (sqlite_throttle.c); see store/store.h. */
authkit_status authkit__sqlite_throttle_attempt(void *state,
                                                const struct authkit_store_throttle_key *keys,
                                                size_t n, authkit_time now,
                                                authkit_time *blocked_until, authkit_error *err);
authkit_status authkit__sqlite_throttle_success(void *state,
                                                const struct authkit_store_throttle_key *keys,
                                                size_t n, authkit_error *err);
authkit_status authkit__sqlite_throttle_clear(void *state, const uint8_t id[32], bool *found,
                                              authkit_error *err);
authkit_status authkit__sqlite_throttle_prune(void *state, authkit_time now,
                                              authkit_time idle_before, size_t batch,
                                              size_t *deleted, authkit_error *err);

/* The audit operations of the port (sqlite_audit.c); see store/store.h. */
authkit_status authkit__sqlite_audit_insert(void *state, const authkit_audit_entry *row,
                                            authkit_error *err);
authkit_status authkit__sqlite_audit_query(void *state, const struct authkit_store_audit_filter *f,
                                           authkit_audit_entry *out, size_t cap, size_t *n,
                                           authkit_error *err);
authkit_status authkit__sqlite_audit_prune(void *state, authkit_time before, size_t batch,
                                           size_t *deleted, authkit_error *err);

#endif
