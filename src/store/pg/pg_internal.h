/* Internals of the PostgreSQL adapter: the connection pool, prepared statements,
 * transactions, error mapping and the schema. Only src/store/pg/ (and its tests) include
 * this: adapters are the only code that sees libpq-fe.h.
 *
 * Threading: a pool may be used from any number of threads at once; a connection taken
 * from it belongs to one thread until it is given back (libpq connections are not shared
 * between threads). */
#ifndef AUTHKIT_STORE_PG_INTERNAL_H
#define AUTHKIT_STORE_PG_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "authkit/status.h"
#include "store/store.h"

/* The schema version the code migrates to (rows of authkit_schema_migrations). */
#define AUTHKIT__PG_SCHEMA_VERSION 4

/* Slots for prepared statements per connection: pg_store.c's statements below
 * AUTHKIT__PG_STMT_THROTTLE, pg_throttle.c's from there on, pg_audit.c's from
 * AUTHKIT__PG_STMT_AUDIT on. */
#define AUTHKIT__PG_MAX_STMTS     40
#define AUTHKIT__PG_STMT_THROTTLE 27
#define AUTHKIT__PG_STMT_AUDIT    32

/* Most connections one pool holds open; an acquire beyond them waits for a release. */
#define AUTHKIT__PG_POOL_MAX 8

/* Seconds a connection attempt may take (libpq connect_timeout) unless the connection
 * string sets its own; a server that is down or unreachable fails an operation after at
 * most this long instead of hanging. */
#define AUTHKIT__PG_CONNECT_TIMEOUT "5"

/* Milliseconds of unacknowledged data before the kernel drops a TCP connection (libpq
 * tcp_user_timeout) unless the connection string sets its own: a server that vanished
 * without closing the connection fails the statement instead of hanging for minutes. */
#define AUTHKIT__PG_TCP_USER_TIMEOUT "10000"

/* Milliseconds a statement may take before the adapter gives up on it and closes its
 * connection: libpq alone would wait forever for a server that accepts data but never
 * answers (stopped, hung, or behind a proxy that lost it). */
#define AUTHKIT__PG_QUERY_TIMEOUT_MS 10000

/* The same for schema migrations at open, which may wait for another node's migration
 * and may rebuild big tables. */
#define AUTHKIT__PG_MIGRATION_TIMEOUT_MS 300000

/* Seconds an acquire waits for a connection when all AUTHKIT__PG_POOL_MAX are in use. */
#define AUTHKIT__PG_ACQUIRE_TIMEOUT_S 10

/* Most parameters one statement takes. */
#define AUTHKIT__PG_MAX_PARAMS 12

struct authkit__pg_pool;

struct authkit__pg_conn {
    PGconn *pg;
    const struct authkit__pg_pool *pool;  /* the pool it belongs to (its settings) */
    struct authkit__pg_conn *next;        /* free list link while idle */
    bool prepared[AUTHKIT__PG_MAX_STMTS]; /* PQprepare'd on this connection */
    bool goodbye; /* the server sent FATAL or PANIC: it is closing the connection */
};

struct authkit__pg_pool {
    pthread_mutex_t lock; /* guards idle, open, failures, failure */
    pthread_cond_t freed; /* broadcast when a connection goes back, is closed or fails */
    struct authkit__pg_conn *idle;
    int open;               /* connections that exist or are being opened, idle or not */
    unsigned long failures; /* connection attempts that failed, ever */
    char failure[256];      /* the message of the last one */
    int query_timeout_ms;   /* AUTHKIT__PG_QUERY_TIMEOUT_MS unless changed before use */
    char *conninfo;         /* the location as given (may hold a password: never printed) */
    char where[200];        /* host, port, dbname and user for messages: never the password */
};

/* Parameters of one statement: text (NULL is SQL NULL) or binary. */
struct authkit__pg_params {
    int n;
    const char *values[AUTHKIT__PG_MAX_PARAMS];
    int lengths[AUTHKIT__PG_MAX_PARAMS];
    int formats[AUTHKIT__PG_MAX_PARAMS];      /* 0 text, 1 binary */
    char numbers[AUTHKIT__PG_MAX_PARAMS][24]; /* storage for integers written as text */
};

/* Connects to `location` (a libpq connection string or URI), checks the server and
 * brings the schema up to date under an advisory lock. AUTHKIT_OK and the pool in
 * `*out`, or AUTHKIT_STORE with the server, database and reason in err->message (never
 * the password), or AUTHKIT_NOMEM. */
authkit_status authkit__pg_pool_open(const char *location, struct authkit__pg_pool **out,
                                     authkit_error *err);

/* Closes every connection and frees the pool. NULL is ignored. No connection may be out. */
void authkit__pg_pool_close(struct authkit__pg_pool *pool);

/* Takes a live connection for the calling thread: an idle one that has not been closed by
 * the server, or a new one while fewer than AUTHKIT__PG_POOL_MAX exist; otherwise waits
 * up to AUTHKIT__PG_ACQUIRE_TIMEOUT_S for a release. A caller that waits while another's
 * connection attempt fails gets that failure at once instead of queueing for its own
 * attempt, so when the server is unreachable every caller fails within about one
 * connect_timeout. Every successful acquire must be paired with a release. AUTHKIT_OK,
 * AUTHKIT_STORE or AUTHKIT_NOMEM. */
authkit_status authkit__pg_acquire(struct authkit__pg_pool *pool, struct authkit__pg_conn **out,
                                   authkit_error *err);

/* Gives a connection back. One that broke (the server went away) or was left inside a
 * transaction is closed instead, and so are the idle ones: a server restart ends them all,
 * and the next acquire opens fresh connections. */
void authkit__pg_release(struct authkit__pg_pool *pool, struct authkit__pg_conn *conn);

/* Runs statement `index` of `conn`, prepared from `sql` on its first use on this
 * connection, with `params`. AUTHKIT_OK and the result in `*out` (PGRES_TUPLES_OK or
 * PGRES_COMMAND_OK; free it with PQclear), or the mapped failure (see
 * authkit__pg_fail_result) with `*out` NULL. `what` names the operation in messages.
 * Each of prepare and execute waits at most the pool's query_timeout_ms. */
authkit_status authkit__pg_exec(struct authkit__pg_conn *conn, int index, const char *sql,
                                const struct authkit__pg_params *params, const char *what,
                                PGresult **out, authkit_error *err);

/* Maps a failed result (NULL: no result at all) of the connection `pg`:
 * - unique violation (23505): AUTHKIT_CONFLICT, err->field from the constraint name;
 * - foreign key violation (23503): AUTHKIT_NOT_FOUND, field "user_id";
 * - anything else: AUTHKIT_STORE, "postgresql <what>: <the server's message>". */
authkit_status authkit__pg_fail_result(PGconn *pg, const PGresult *res, const char *what,
                                       authkit_error *err);

/* BEGIN. AUTHKIT_OK or AUTHKIT_STORE. */
authkit_status authkit__pg_begin(struct authkit__pg_conn *conn, authkit_error *err);

/* Commits when `status` is AUTHKIT_OK, otherwise rolls back and leaves `err` as it is.
 * Returns the final status (AUTHKIT_STORE if the commit fails). */
authkit_status authkit__pg_end(struct authkit__pg_conn *conn, authkit_status status,
                               authkit_error *err);

/* Runs SQL without parameters through the simple protocol (several statements allowed),
 * waiting at most `timeout_ms` for the server. AUTHKIT_OK and the last result in `*out`
 * (NULL: discarded; else free it with PQclear), or the failure mapped as
 * authkit__pg_fail_result() does; no answer in time is AUTHKIT_STORE and leaves the
 * connection busy, fit only to be closed. */
authkit_status authkit__pg_run(PGconn *pg, const char *sql, int timeout_ms, const char *what,
                               PGresult **out, authkit_error *err);

/* Brings the schema of the database `pg` is connected to up to AUTHKIT__PG_SCHEMA_VERSION,
 * all missing migrations in one transaction under an advisory lock, so that nodes
 * starting together take turns. `where` is only for messages. AUTHKIT_OK or
 * AUTHKIT_STORE (also for a schema newer than this code). */
authkit_status authkit__pg_migrate(PGconn *pg, const char *where, authkit_error *err);

/* The port's field name ("email", "username", "id", "token_digest") for a unique
 * constraint of the schema, or NULL for one it does not know. */
const char *authkit__pg_constraint_field(const char *constraint);

/* The first line of a libpq or server message, without the severity prefix ("ERROR:  "),
 * into `out`. */
void authkit__pg_first_line(char *out, size_t size, const char *message);

/* The throttling operations of the port (pg_throttle.c); see store/store.h. */
authkit_status authkit__pg_throttle_attempt(void *state,
                                            const struct authkit_store_throttle_key *keys, size_t n,
                                            authkit_time now, authkit_time *blocked_until,
                                            authkit_error *err);
authkit_status authkit__pg_throttle_success(void *state,
                                            const struct authkit_store_throttle_key *keys, size_t n,
                                            authkit_error *err);
authkit_status authkit__pg_throttle_clear(void *state, const uint8_t id[32], bool *found,
                                          authkit_error *err);
authkit_status authkit__pg_throttle_prune(void *state, authkit_time now, authkit_time idle_before,
                                          size_t batch, size_t *deleted, authkit_error *err);

/* The audit operations of the port (pg_audit.c); see store/store.h. */
authkit_status authkit__pg_audit_insert(void *state, const authkit_audit_entry *row,
                                        authkit_error *err);
authkit_status authkit__pg_audit_query(void *state, const struct authkit_store_audit_filter *f,
                                       authkit_audit_entry *out, size_t cap, size_t *n,
                                       authkit_error *err);
authkit_status authkit__pg_audit_prune(void *state, authkit_time before, size_t batch,
                                       size_t *deleted, authkit_error *err);

#endif
