/* The PostgreSQL connection pool: at most AUTHKIT__PG_POOL_MAX connections shared by every
 * thread of a context (DESIGN §6), each with its own prepared statements; plus running
 * statements, transactions and mapping the server's errors to the port's statuses.
 *
 * Recovery after the server restarts or a connection is killed: an idle connection is
 * checked before it is handed out (the server says goodbye and closes the socket, which
 * reading without waiting notices), and a connection that breaks during an operation is
 * closed at release together with the idle ones, which the same restart most likely
 * ended too. The next acquire simply connects again. */
#include "store/pg/pg_internal.h"

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/encoding.h"
#include "core/error.h"

/* Receives what the server sends outside a result: notices, and the last words of a
 * server that shuts down or ends the session ("FATAL: terminating connection due to
 * administrator command"), which arrive while the connection is idle, just before the
 * socket closes. Those mark the connection dead at once, so it is not handed out in the
 * moment before the end of the stream shows. Nothing is printed: libpq's default prints
 * to stderr, which a library must not do. */
static void on_notice(void *arg, const PGresult *res) {
    struct authkit__pg_conn *c = arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (!severity)
        severity = PQresultErrorField(res, PG_DIAG_SEVERITY);
    if (severity && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0))
        c->goodbye = true;
}

/* libpq starts a connection failure with "connection to server on socket \"...\" failed: ",
 * repeating the address we already name: keep only the reason, so that it fits. */
static const char *connect_reason(const char *message) {
    const char *p = strstr(message, " failed: ");
    return p && strncmp(message, "connection to server", 20) == 0 ? p + 9 : message;
}

void authkit__pg_first_line(char *out, size_t size, const char *message) {
    static const char *const prefixes[] = {"ERROR:  ", "FATAL:  ", "PANIC:  "};
    if (!message || !*message)
        message = "unknown error";
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t len = strlen(prefixes[i]);
        if (strncmp(message, prefixes[i], len) == 0)
            message += len;
    }
    size_t n = strcspn(message, "\r\n");
    if (n >= size)
        n = size - 1;
    memcpy(out, message, n);
    out[n] = '\0';
}

authkit_status authkit__pg_fail_result(PGconn *pg, const PGresult *res, const char *what,
                                       authkit_error *err) {
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state && strcmp(state, "23505") == 0) { /* unique_violation */
        const char *field =
            authkit__pg_constraint_field(PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME));
        if (field && strcmp(field, "email") == 0)
            return authkit__fail(err, AUTHKIT_CONFLICT, "email", "email is already taken");
        if (field && strcmp(field, "username") == 0)
            return authkit__fail(err, AUTHKIT_CONFLICT, "username", "username is already taken");
        if (field && strcmp(field, "token_digest") == 0)
            return authkit__fail(err, AUTHKIT_CONFLICT, "token_digest",
                                 "a session with this token exists");
        return authkit__fail(err, AUTHKIT_CONFLICT, "id", "a row with this id exists");
    }
    if (state && strcmp(state, "23503") == 0) /* foreign_key_violation: the user is gone */
        return authkit__fail(err, AUTHKIT_NOT_FOUND, "user_id", "no such user");
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char line[200];
    authkit__pg_first_line(line, sizeof line, msg && *msg ? msg : PQerrorMessage(pg));
    return authkit__fail(err, AUTHKIT_STORE, NULL, "postgresql %s: %s", what, line);
}

static long long monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until the command sent on `pg` has delivered all its results, but not past
 * `deadline` (monotonic_ms()). The first failed result, else the last one, goes to `*out`
 * (NULL if none came). false when the deadline passed first: the command may still run
 * on the server, and the connection (PQTRANS_ACTIVE) can only be closed, which
 * authkit__pg_release() does. libpq's blocking calls would wait forever for a server
 * that accepts data but never answers (stopped, or hung). */
static bool await_results(PGconn *pg, long long deadline, PGresult **out) {
    *out = NULL;
    for (;;) {
        while (PQisBusy(pg)) {
            long long left = deadline - monotonic_ms();
            struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
            if (left <= 0 || p.fd < 0)
                return false;
            int rc = poll(&p, 1, left > 60000 ? 60000 : (int)left);
            if (rc < 0 && errno != EINTR)
                return false;
            /* A failed read marks the connection bad: PQgetResult reports it at once. */
            if (rc > 0 && !PQconsumeInput(pg))
                break;
        }
        PGresult *r = PQgetResult(pg);
        if (!r)
            return true;
        if (!*out) {
            *out = r;
        } else if (PQresultStatus(*out) == PGRES_FATAL_ERROR) {
            PQclear(r);
        } else {
            PQclear(*out);
            *out = r;
        }
    }
}

/* Completes a command: `sent` is what the PQsend* call returned. AUTHKIT_OK with the
 * result in `*out` (NULL: discarded), or the mapped failure. */
static authkit_status finish(PGconn *pg, int sent, int timeout_ms, const char *what, PGresult **out,
                             authkit_error *err) {
    PGresult *res = NULL;
    if (out)
        *out = NULL;
    if (!sent)
        return authkit__pg_fail_result(pg, NULL, what, err);
    if (!await_results(pg, monotonic_ms() + timeout_ms, &res)) {
        PQclear(res);
        return authkit__fail(err, AUTHKIT_STORE, NULL,
                             "postgresql %s: no answer from the server within %d ms", what,
                             timeout_ms);
    }
    ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
        authkit_status st = authkit__pg_fail_result(pg, res, what, err);
        PQclear(res);
        return st;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return AUTHKIT_OK;
}

authkit_status authkit__pg_run(PGconn *pg, const char *sql, int timeout_ms, const char *what,
                               PGresult **out, authkit_error *err) {
    return finish(pg, PQsendQuery(pg, sql), timeout_ms, what, out, err);
}

/* ---- connections ------------------------------------------------------------------- */

static void conn_free(struct authkit__pg_conn *c) {
    if (!c)
        return;
    PQfinish(c->pg);
    free(c);
}

static authkit_status conn_open(const struct authkit__pg_pool *p, struct authkit__pg_conn **out,
                                authkit_error *err) {
    *out = NULL;
    /* Entries before "dbname" are defaults the connection string may override; those
     * after it are not: the adapter speaks UTF-8 whatever the string says. */
    static const char *const keywords[] = {"connect_timeout",           "tcp_user_timeout",
                                           "fallback_application_name", "dbname",
                                           "client_encoding",           NULL};
    const char *values[] = {AUTHKIT__PG_CONNECT_TIMEOUT,
                            AUTHKIT__PG_TCP_USER_TIMEOUT,
                            "authkit",
                            p->conninfo,
                            "UTF8",
                            NULL};
    struct authkit__pg_conn *c = calloc(1, sizeof *c);
    if (!c)
        return authkit__fail(err, AUTHKIT_NOMEM, NULL, NULL);
    c->pool = p;
    c->pg = PQconnectdbParams(keywords, values, 1);
    if (!c->pg) {
        free(c);
        return authkit__fail(err, AUTHKIT_NOMEM, NULL, NULL);
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        char line[160];
        authkit__pg_first_line(line, sizeof line, connect_reason(PQerrorMessage(c->pg)));
        authkit__fail(err, AUTHKIT_STORE, NULL, "cannot connect to PostgreSQL (%s): %s", p->where,
                      line);
        conn_free(c);
        return AUTHKIT_STORE;
    }
    PQsetNoticeReceiver(c->pg, on_notice, c);
    *out = c;
    return AUTHKIT_OK;
}

/* true when an idle connection is still usable. A server that shuts down, restarts or
 * terminates the backend sends a FATAL error and closes the socket; reading what has
 * arrived (PQconsumeInput never waits) and parsing it (PQisBusy) hands that error to
 * on_notice(), and reading the end of the stream marks the connection bad. Costs two
 * non-blocking reads when nothing happened. */
static bool conn_alive(struct authkit__pg_conn *c) {
    if (c->goodbye || PQstatus(c->pg) != CONNECTION_OK || !PQconsumeInput(c->pg))
        return false;
    (void)PQisBusy(c->pg);
    if (!PQconsumeInput(c->pg))
        return false;
    return !c->goodbye && PQstatus(c->pg) == CONNECTION_OK &&
           PQtransactionStatus(c->pg) == PQTRANS_IDLE;
}

/* ---- the pool ---------------------------------------------------------------------- */

/* libpq's own test for "this is a connection string, not a database name". */
static bool is_conninfo(const char *s) {
    return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0 ||
           strchr(s, '=') != NULL;
}

/* Writes "host=... port=... dbname=... user=..." of `location` to `out`, for messages:
 * never the password or any other option. AUTHKIT_STORE when libpq cannot parse it. */
static authkit_status describe(const char *location, char *out, size_t size, authkit_error *err) {
    static const char *const shown[] = {"host", "hostaddr", "port", "dbname", "user"};
    out[0] = '\0';
    if (!is_conninfo(location)) {
        snprintf(out, size, "dbname=%s", location);
        return AUTHKIT_OK;
    }
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(location, &why);
    if (!opts) {
        char line[160];
        authkit__pg_first_line(line, sizeof line, why ? why : "out of memory");
        PQfreemem(why);
        return authkit__fail(err, AUTHKIT_STORE, NULL, "invalid PostgreSQL connection string: %s",
                             line);
    }
    size_t used = 0;
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        for (PQconninfoOption *o = opts; o->keyword; o++) {
            if (strcmp(o->keyword, shown[i]) != 0 || !o->val || !*o->val || used >= size)
                continue;
            int n =
                snprintf(out + used, size - used, "%s%s=%s", used ? " " : "", o->keyword, o->val);
            used = n < 0 ? size : used + (size_t)n;
        }
    }
    if (!out[0])
        authkit__strlcpy(out, "libpq defaults", size);
    PQconninfoFree(opts);
    return AUTHKIT_OK;
}

static void pool_free(struct authkit__pg_pool *p) {
    if (!p)
        return;
    while (p->idle) {
        struct authkit__pg_conn *c = p->idle;
        p->idle = c->next;
        conn_free(c);
    }
    if (p->conninfo) {
        sodium_memzero(p->conninfo, strlen(p->conninfo)); /* it may hold a password */
        free(p->conninfo);
    }
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static authkit_status pool_init(struct authkit__pg_pool *p, const char *location) {
    pthread_condattr_t attr;
    if (pthread_mutex_init(&p->lock, NULL) != 0)
        return AUTHKIT_NOMEM;
    if (pthread_condattr_init(&attr) != 0) {
        pthread_mutex_destroy(&p->lock);
        return AUTHKIT_NOMEM;
    }
    /* Waits are measured on the monotonic clock: setting the wall clock does not end them. */
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&p->freed, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_destroy(&p->lock);
        return AUTHKIT_NOMEM;
    }
    p->query_timeout_ms = AUTHKIT__PG_QUERY_TIMEOUT_MS;
    p->conninfo = strdup(location);
    if (!p->conninfo) {
        pthread_cond_destroy(&p->freed);
        pthread_mutex_destroy(&p->lock);
        return AUTHKIT_NOMEM;
    }
    return AUTHKIT_OK;
}

authkit_status authkit__pg_pool_open(const char *location, struct authkit__pg_pool **out,
                                     authkit_error *err) {
    *out = NULL;
    /* libpq would read "" as "every setting from the environment": never what was meant. */
    if (!location || !*location)
        return authkit__fail(err, AUTHKIT_STORE, NULL, "no PostgreSQL connection string given");
    if (!PQisthreadsafe())
        return authkit__fail(err, AUTHKIT_STORE, NULL, "libpq was built without thread support");
    struct authkit__pg_pool *p = calloc(1, sizeof *p);
    if (!p)
        return authkit__fail(err, AUTHKIT_NOMEM, NULL, NULL);
    authkit_status st = describe(location, p->where, sizeof p->where, err);
    if (st != AUTHKIT_OK) {
        free(p);
        return st;
    }
    if (pool_init(p, location) != AUTHKIT_OK) {
        free(p);
        return authkit__fail(err, AUTHKIT_NOMEM, NULL, NULL);
    }
    struct authkit__pg_conn *c = NULL;
    st = conn_open(p, &c, err);
    if (st == AUTHKIT_OK && PQserverVersion(c->pg) < 100000)
        st = authkit__fail(err, AUTHKIT_STORE, NULL,
                           "PostgreSQL server (%s) is version %d; authkit needs 10 or newer",
                           p->where, PQserverVersion(c->pg));
    if (st == AUTHKIT_OK)
        st = authkit__pg_migrate(c->pg, p->where, err);
    if (st != AUTHKIT_OK) {
        conn_free(c);
        pool_free(p);
        return st;
    }
    p->idle = c;
    p->open = 1;
    *out = p;
    return authkit__ok(err);
}

void authkit__pg_pool_close(struct authkit__pg_pool *pool) {
    pool_free(pool);
}

static void deadline_after(struct timespec *ts, int seconds) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += seconds;
}

/* Opens a connection in a slot the caller reserved (pool->open counts it). On failure the
 * slot is given back and the failure recorded for those waiting. */
static authkit_status fill_slot(struct authkit__pg_pool *pool, struct authkit__pg_conn **out,
                                authkit_error *err) {
    authkit_error local;
    authkit_status st = conn_open(pool, out, &local);
    if (st == AUTHKIT_OK)
        return AUTHKIT_OK;
    pthread_mutex_lock(&pool->lock);
    pool->open--;
    pool->failures++;
    authkit__strlcpy(pool->failure, local.message, sizeof pool->failure);
    pthread_cond_broadcast(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
    if (err)
        *err = local;
    return st;
}

authkit_status authkit__pg_acquire(struct authkit__pg_pool *pool, struct authkit__pg_conn **out,
                                   authkit_error *err) {
    struct timespec deadline;
    deadline_after(&deadline, AUTHKIT__PG_ACQUIRE_TIMEOUT_S);
    *out = NULL;
    pthread_mutex_lock(&pool->lock);
    unsigned long failures = pool->failures;
    for (;;) {
        struct authkit__pg_conn *c = pool->idle;
        if (c) {
            pool->idle = c->next;
            pthread_mutex_unlock(&pool->lock);
            if (conn_alive(c)) {
                c->next = NULL;
                *out = c;
                return AUTHKIT_OK;
            }
            conn_free(c); /* closed by the server: drop it and look again */
            pthread_mutex_lock(&pool->lock);
            pool->open--;
            continue;
        }
        if (pool->failures != failures) { /* another caller just failed to connect */
            char why[sizeof pool->failure];
            authkit__strlcpy(why, pool->failure, sizeof why);
            pthread_mutex_unlock(&pool->lock);
            return authkit__fail(err, AUTHKIT_STORE, NULL, "%s", why);
        }
        if (pool->open < AUTHKIT__PG_POOL_MAX) {
            pool->open++; /* the slot is ours while we connect, outside the lock */
            pthread_mutex_unlock(&pool->lock);
            return fill_slot(pool, out, err);
        }
        int rc = pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline);
        if (rc == ETIMEDOUT && !pool->idle && pool->open >= AUTHKIT__PG_POOL_MAX) {
            pthread_mutex_unlock(&pool->lock);
            return authkit__fail(err, AUTHKIT_STORE, NULL,
                                 "no PostgreSQL connection became free within %d s (all %d in "
                                 "use)",
                                 AUTHKIT__PG_ACQUIRE_TIMEOUT_S, AUTHKIT__PG_POOL_MAX);
        }
    }
}

void authkit__pg_release(struct authkit__pg_pool *pool, struct authkit__pg_conn *conn) {
    struct authkit__pg_conn *doomed = NULL;
    bool broken = conn->goodbye || PQstatus(conn->pg) != CONNECTION_OK ||
                  PQtransactionStatus(conn->pg) != PQTRANS_IDLE;
    pthread_mutex_lock(&pool->lock);
    if (broken) {
        conn->next = pool->idle;
        doomed = conn;
        pool->idle = NULL;
        for (struct authkit__pg_conn *c = doomed; c; c = c->next)
            pool->open--;
        pthread_cond_broadcast(&pool->freed);
    } else {
        conn->next = pool->idle;
        pool->idle = conn;
        pthread_cond_signal(&pool->freed);
    }
    pthread_mutex_unlock(&pool->lock);
    while (doomed) { /* closed outside the lock: PQfinish may write to the socket */
        struct authkit__pg_conn *c = doomed;
        doomed = c->next;
        conn_free(c);
    }
}

/* ---- statements and transactions ---------------------------------------------------- */

authkit_status authkit__pg_exec(struct authkit__pg_conn *conn, int index, const char *sql,
                                const struct authkit__pg_params *params, const char *what,
                                PGresult **out, authkit_error *err) {
    *out = NULL;
    if (index < 0 || index >= AUTHKIT__PG_MAX_STMTS)
        return authkit__fail(err, AUTHKIT_MISUSE, NULL, "statement slot %d out of range", index);
    char name[16];
    snprintf(name, sizeof name, "authkit_%d", index);
    if (!conn->prepared[index]) {
        /* Prepared statements outlive transactions, also rolled back ones, so one
         * PQprepare per connection is enough. Parameter types come from the SQL. */
        authkit_status st = finish(conn->pg, PQsendPrepare(conn->pg, name, sql, 0, NULL),
                                   conn->pool->query_timeout_ms, "prepare", NULL, err);
        if (st != AUTHKIT_OK)
            return st;
        conn->prepared[index] = true;
    }
    int n = params ? params->n : 0;
    int sent = PQsendQueryPrepared(conn->pg, name, n, n ? params->values : NULL,
                                   n ? params->lengths : NULL, n ? params->formats : NULL, 0);
    return finish(conn->pg, sent, conn->pool->query_timeout_ms, what, out, err);
}

authkit_status authkit__pg_begin(struct authkit__pg_conn *conn, authkit_error *err) {
    return authkit__pg_run(conn->pg, "BEGIN", conn->pool->query_timeout_ms, "begin", NULL, err);
}

static void rollback(struct authkit__pg_conn *conn) {
    PGTransactionStatusType ts = PQtransactionStatus(conn->pg);
    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
        (void)authkit__pg_run(conn->pg, "ROLLBACK", conn->pool->query_timeout_ms, "rollback", NULL,
                              NULL);
}

authkit_status authkit__pg_end(struct authkit__pg_conn *conn, authkit_status status,
                               authkit_error *err) {
    if (status == AUTHKIT_OK) {
        /* COMMIT of a failed transaction "succeeds" by rolling back: never let it pass. */
        if (PQtransactionStatus(conn->pg) != PQTRANS_INTRANS)
            status = authkit__fail(err, AUTHKIT_STORE, NULL,
                                   "postgresql commit: the transaction was aborted");
        else
            status = authkit__pg_run(conn->pg, "COMMIT", conn->pool->query_timeout_ms, "commit",
                                     NULL, err);
    }
    if (status != AUTHKIT_OK)
        rollback(conn);
    return status;
}
