/* The store conformance suite (tests/support/store_conformance.h) run against the
 * PostgreSQL adapter, each of its tests on a fresh database of the server the test run
 * started (AUTHKIT_TEST_PG_URL), plus what only PostgreSQL has: connection failures,
 * the schema and its version table, nodes opening one database at once, the bounded
 * pool, and recovery when the server ends connections. */
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "pg_fixture.h"
#include "store/pg/pg_internal.h"
#include "store/store.h"
#include "store_conformance.h"

static const struct authkit_store_ops *const ops = &authkit__store_pg;
static const char *base_url;
static PGconn *admin;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A new, empty database; its connection string goes to `out`. */
static bool fresh_db(void *arg, char *out, size_t size) {
    (void)arg;
    char name[64];
    return pgf_create_db(admin, name) && pgf_conninfo(base_url, name, out, size);
}

/* A new database and an admin connection to it (close with PQfinish). */
static PGconn *fresh_db_admin(char *location, size_t size) {
    char name[64];
    if (!pgf_create_db(admin, name) || !pgf_conninfo(base_url, name, location, size))
        return NULL;
    return pgf_connect(location);
}

/* Opening fails with AUTHKIT_STORE, quickly, with a reason and without the password. */
static void test_open_failures(void) {
    char nodb[1024], pw_uri[512];
    CHECK(pgf_conninfo(base_url, "authkit_no_such_database", nodb, sizeof nodb));
    snprintf(pw_uri, sizeof pw_uri,
             "postgresql://authkit:s3cr3t-pw@/x?host=/nonexistent-authkit-dir&sslmode=disable");
    static const struct {
        int which;
        const char *reason; /* part of the message, or NULL */
        double max_seconds;
    } cases[] = {
        {0, "invalid PostgreSQL connection string", 1},
        {1, "invalid PostgreSQL connection string", 1},
        {2, "cannot connect to PostgreSQL", 2},
        {3, "does not exist", 2},
        {4, "cannot connect to PostgreSQL", 2},
        /* TEST-NET-1 (RFC 5737) routes nowhere: refused at once, or given up on after the
         * adapter's 5 s connect_timeout; never a hang. */
        {5, "cannot connect to PostgreSQL", 12},
        {6, "no PostgreSQL connection string", 1},
    };
    const char *locations[] = {
        "postgresql://[::1",
        "host=/tmp dbname",
        "host=/nonexistent-authkit-dir dbname=x",
        nodb,
        pw_uri,
        "host=192.0.2.1 port=5432 dbname=x user=x",
        "",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        authkit_error err;
        void *st = (void *)&err; /* must be reset to NULL */
        double t0 = now_seconds();
        authkit_status s = ops->open(locations[cases[i].which], &st, &err);
        double took = now_seconds() - t0;
        CHECK_MSG(s == AUTHKIT_STORE, "open case %zu: %s", i, authkit_status_name(s));
        CHECK_MSG(st == NULL, "open case %zu: state not NULL", i);
        CHECK_MSG(err.status == AUTHKIT_STORE, "open case %zu: err.status", i);
        CHECK_MSG(strstr(err.message, cases[i].reason) != NULL,
                  "open case %zu: \"%s\" not in \"%s\"", i, cases[i].reason, err.message);
        CHECK_MSG(strstr(err.message, "s3cr3t") == NULL, "open case %zu: password in \"%s\"", i,
                  err.message);
        CHECK_MSG(took < cases[i].max_seconds, "open case %zu took %.1f s", i, took);
        printf("open case %zu: %.3f s: %s\n", i, took, err.message);
        if (s == AUTHKIT_OK)
            ops->close(st);
    }
}

/* A server that accepts the connection but never answers (hung, or a black hole behind a
 * proxy): open gives up after the adapter's default connect_timeout (5 s) with
 * AUTHKIT_STORE instead of waiting forever. The kernel completes the handshake into the
 * listen backlog; nobody ever reads. Runs on its own thread while the other tests run;
 * the results are checked at the end. */
struct silent_server {
    pthread_t thread;
    int fd;
    char location[128];
    authkit_status status;
    bool state_null;
    double took;
    char message[256];
};

static void *silent_open(void *arg) {
    struct silent_server *s = arg;
    authkit_error err;
    void *st = NULL;
    double t0 = now_seconds();
    s->status = ops->open(s->location, &st, &err);
    s->took = now_seconds() - t0;
    s->state_null = st == NULL;
    snprintf(s->message, sizeof s->message, "%s", err.message);
    if (st)
        ops->close(st);
    return NULL;
}

static bool silent_start(struct silent_server *s) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(s->fd, 8) != 0 || getsockname(s->fd, (struct sockaddr *)&addr, &len) != 0) {
        CHECK_MSG(false, "cannot listen on 127.0.0.1");
        return false;
    }
    snprintf(s->location, sizeof s->location, "postgresql://x@127.0.0.1:%d/x",
             ntohs(addr.sin_port));
    return pthread_create(&s->thread, NULL, silent_open, s) == 0;
}

static void silent_check(struct silent_server *s) {
    pthread_join(s->thread, NULL);
    close(s->fd);
    CHECK_INT(s->status, AUTHKIT_STORE);
    CHECK(s->state_null);
    CHECK_MSG(strstr(s->message, "timeout") != NULL, "message: %s", s->message);
    CHECK_MSG(s->took >= 4 && s->took < 9, "gave up after %.1f s, expected about 5", s->took);
    printf("silent server: gave up after %.2f s: %s\n", s->took, s->message);
}

/* A fresh database gets the schema at the current version, once; reopening changes
 * nothing; a version newer than the code fails open and changes nothing. */
static void test_schema(void) {
    char loc[1024];
    PGconn *db = fresh_db_admin(loc, sizeof loc);
    if (!db)
        return;
    authkit_error err;
    void *st = NULL;
    for (int i = 0; i < 2; i++) {
        CHECK_OK(ops->open(loc, &st, &err));
        ops->close(st);
        st = NULL;
    }
    CHECK_INT(pgf_int(db, "SELECT count(*) FROM authkit_schema_migrations"),
              AUTHKIT__PG_SCHEMA_VERSION);
    CHECK_INT(pgf_int(db, "SELECT max(version) FROM authkit_schema_migrations"),
              AUTHKIT__PG_SCHEMA_VERSION);
    /* Native types. */
    static const struct {
        const char *table, *column, *type;
    } types[] = {
        {"users", "id", "uuid"},
        {"users", "email", "text"},
        {"users", "is_active", "boolean"},
        {"users", "created_at", "bigint"},
        {"auth_sessions", "id", "uuid"},
        {"auth_sessions", "user_id", "uuid"},
        {"auth_sessions", "token_hash", "bytea"},
        {"auth_sessions", "expires_at", "bigint"},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char sql[256], got[64];
        snprintf(sql, sizeof sql,
                 "SELECT data_type FROM information_schema.columns WHERE table_name = '%s' "
                 "AND column_name = '%s'",
                 types[i].table, types[i].column);
        pgf_text(db, sql, got, sizeof got);
        CHECK_MSG(strcmp(got, types[i].type) == 0, "type row %zu: %s.%s is %s", i, types[i].table,
                  types[i].column, got);
    }
    static const char *const indexes[] = {"users_email_key",       "users_username_lower_key",
                                          "users_created_at",      "auth_sessions_token_hash_key",
                                          "auth_sessions_user_id", "auth_sessions_expires_at"};
    for (size_t i = 0; i < sizeof indexes / sizeof indexes[0]; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_indexes WHERE indexname = '%s'",
                 indexes[i]);
        CHECK_MSG(pgf_int(db, sql) == 1, "index %s missing", indexes[i]);
    }
    /* The digest column refuses anything but 32 bytes. */
    CHECK(pgf_exec(db, "INSERT INTO users (id, email, username, created_at, updated_at) VALUES "
                       "('00000000-0000-4000-8000-000000000001', 'a@example.com', 'a', 0, 0)"));
    PQclear(PQexec(db, "INSERT INTO auth_sessions VALUES ('10000000-0000-4000-8000-000000000001', "
                       "'00000000-0000-4000-8000-000000000001', '\\x00', 0, 0, 0, NULL, NULL)"));
    CHECK_INT(pgf_int(db, "SELECT count(*) FROM auth_sessions"), 0);

    /* Written by a newer authkit. */
    CHECK(pgf_exec(db, "INSERT INTO authkit_schema_migrations (version) VALUES (99)"));
    st = (void *)&err;
    CHECK_STATUS(ops->open(loc, &st, &err), AUTHKIT_STORE);
    CHECK(st == NULL);
    CHECK_MSG(strstr(err.message, "schema version 99") && strstr(err.message, "newer authkit"),
              "newer schema: %s", err.message);
    CHECK_INT(pgf_int(db, "SELECT max(version) FROM authkit_schema_migrations"), 99);
    PQfinish(db);
}

/* ---- several nodes opening one fresh database at once ------------------------------ */

#define OPENERS 6

struct opener {
    const char *location;
    pthread_barrier_t *start;
    authkit_status status;
    char message[256];
};

static void *opener_run(void *arg) {
    struct opener *o = arg;
    authkit_error err;
    void *st = NULL;
    pthread_barrier_wait(o->start);
    o->status = ops->open(o->location, &st, &err);
    snprintf(o->message, sizeof o->message, "%s", err.message);
    if (o->status == AUTHKIT_OK) {
        /* Every node can use the schema at once. */
        size_t n = 99;
        if (ops->user_count(st, &n, &err) != AUTHKIT_OK || n != 0)
            o->status = AUTHKIT_STORE;
        ops->close(st);
    }
    return NULL;
}

static void test_concurrent_open(void) {
    for (int round = 0; round < 3; round++) {
        char loc[1024];
        PGconn *db = fresh_db_admin(loc, sizeof loc);
        if (!db)
            return;
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, OPENERS);
        pthread_t threads[OPENERS];
        struct opener o[OPENERS];
        for (int i = 0; i < OPENERS; i++) {
            o[i] = (struct opener){.location = loc, .start = &start};
            CHECK(pthread_create(&threads[i], NULL, opener_run, &o[i]) == 0);
        }
        for (int i = 0; i < OPENERS; i++) {
            pthread_join(threads[i], NULL);
            CHECK_MSG(o[i].status == AUTHKIT_OK, "round %d opener %d: %s", round, i, o[i].message);
        }
        pthread_barrier_destroy(&start);
        CHECK_INT(pgf_int(db, "SELECT count(*) FROM authkit_schema_migrations"),
                  AUTHKIT__PG_SCHEMA_VERSION);
        PQfinish(db);
    }
}

/* ---- the pool ---------------------------------------------------------------------- */

#define BURST_THREADS 16

struct burster {
    void *st;
    int ops;
    int failures;
};

static void *burst_run(void *arg) {
    struct burster *b = arg;
    authkit_error err;
    for (int i = 0; i < b->ops; i++) {
        struct authkit_store_user u;
        if (ops->user_get(b->st, AUTHKIT_USER_BY_USERNAME, "ONE", &u, &err) != AUTHKIT_OK)
            b->failures++;
    }
    return NULL;
}

/* Runs BURST_THREADS threads of `ops` lookups each on `st`; returns the failures. */
static int burst_n(void *st, int ops_each) {
    pthread_t threads[BURST_THREADS];
    struct burster b[BURST_THREADS];
    int failures = 0;
    for (int i = 0; i < BURST_THREADS; i++) {
        b[i] = (struct burster){.st = st, .ops = ops_each};
        CHECK(pthread_create(&threads[i], NULL, burst_run, &b[i]) == 0);
    }
    for (int i = 0; i < BURST_THREADS; i++) {
        pthread_join(threads[i], NULL);
        failures += b[i].failures;
    }
    return failures;
}

static int burst(void *st) {
    return burst_n(st, 200);
}

static long long backends(PGconn *db) {
    return pgf_int(db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()");
}

/* More threads than connections: they take turns, and the pool never holds more than
 * its maximum. */
static void test_pool_bound(void) {
    char loc[1024];
    PGconn *db = fresh_db_admin(loc, sizeof loc);
    if (!db)
        return;
    authkit_error err;
    void *st = NULL;
    CHECK_OK(ops->open(loc, &st, &err));
    if (!st)
        return;
    sc_add_user(&(struct sc_target){.ops = ops, .label = "pg"}, st, 1, "one@example.com", "one",
                SC_T0);
    CHECK_INT(burst(st), 0);
    long long n = backends(db);
    CHECK_MSG(n >= 1 && n <= AUTHKIT__PG_POOL_MAX, "%lld connections", n);
    printf("pool: %lld connections after %d threads\n", n, BURST_THREADS);
    ops->close(st);
    /* close ends them all; the server notices within moments. */
    for (int i = 0; i < 500 && backends(db) != 0; i++)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    CHECK_INT(backends(db), 0);
    PQfinish(db);
}

/* ---- recovery ---------------------------------------------------------------------- */

/* Waits (up to 5 s) until no session but the caller's is connected to database `name`
 * (NULL: the caller's database). */
static void wait_gone(PGconn *db, const char *name) {
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_stat_activity WHERE datname = %s%s%s "
             "AND pid <> pg_backend_pid()",
             name ? "'" : "", name ? name : "current_database()", name ? "'" : "");
    for (int i = 0; i < 1000 && pgf_int(db, sql) > 0; i++)
        nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
}

/* Ends every connection of the adapter to the database, as a server restart does, and
 * waits until they are gone. Returns how many there were. */
static long long terminate_all(PGconn *db) {
    long long n = pgf_int(db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()");
    wait_gone(db, NULL);
    return n;
}

/* A connection killed by the server: the next operation may fail with AUTHKIT_STORE, the
 * one after it succeeds; the same with several pooled connections killed at once. */
static void test_reconnect(void) {
    char loc[1024];
    PGconn *db = fresh_db_admin(loc, sizeof loc);
    if (!db)
        return;
    authkit_error err;
    void *st = NULL;
    CHECK_OK(ops->open(loc, &st, &err));
    if (!st)
        return;
    sc_add_user(&(struct sc_target){.ops = ops, .label = "pg"}, st, 1, "one@example.com", "one",
                SC_T0);
    const char *id = "00000000-0000-4000-8000-000000000001";
    int first_failed = 0;
    for (int round = 0; round < 8; round++) {
        if (round >= 4)
            CHECK_INT(burst(st), 0); /* several idle connections in the pool */
        long long killed = terminate_all(db);
        CHECK_MSG(killed >= 1, "round %d: %lld connections terminated", round, killed);
        /* The first operation after it: a read in even rounds, a write (a transaction)
         * in odd ones. It may fail with AUTHKIT_STORE, nothing else. */
        size_t n = 0, ended = 99;
        authkit_status s = round % 2 == 0
                               ? ops->user_count(st, &n, &err)
                               : ops->user_end_sessions(st, id, SC_T0 + round, &ended, &err);
        CHECK_MSG(s == AUTHKIT_OK || s == AUTHKIT_STORE, "round %d: first: %s", round,
                  authkit_status_name(s));
        if (s != AUTHKIT_OK) {
            first_failed++;
            printf("reconnect round %d: first operation failed: %s\n", round, err.message);
        }
        /* The following ones succeed. */
        CHECK_OK(ops->user_end_sessions(st, id, SC_T0 + 100 + round, &ended, &err));
        CHECK_OK(ops->user_count(st, &n, &err));
        CHECK_INT(n, 1);
        CHECK_INT(
            sc_get(&(struct sc_target){.ops = ops, .label = "pg"}, st, 1).sessions_valid_after,
            SC_T0 + 100 + round);
    }
    printf("reconnect: the first operation after termination failed in %d of 8 rounds\n",
           first_failed);
    ops->close(st);
    PQfinish(db);
}

/* The database refuses connections for a while (as a server that is down does):
 * operations fail with AUTHKIT_STORE at once, never hang, and succeed again as soon as it
 * is back, without reopening the store. */
static void test_outage(void) {
    char loc[1024], sql[256];
    PGconn *db = fresh_db_admin(loc, sizeof loc);
    if (!db)
        return;
    char name[64];
    pgf_text(db, "SELECT current_database()", name, sizeof name);
    PQfinish(db);
    db = pgf_connect(base_url); /* not connected to the database that goes away */
    authkit_error err;
    void *st = NULL;
    CHECK_OK(ops->open(loc, &st, &err));
    if (!st)
        return;
    sc_add_user(&(struct sc_target){.ops = ops, .label = "pg"}, st, 1, "one@example.com", "one",
                SC_T0);
    CHECK_INT(burst(st), 0);

    snprintf(sql, sizeof sql, "ALTER DATABASE %s WITH ALLOW_CONNECTIONS false", name);
    CHECK(pgf_exec(db, sql));
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '%s'",
             name);
    CHECK(pgf_int(db, sql) >= 1);
    wait_gone(db, name);
    double t0 = now_seconds();
    int failed = 0;
    for (int i = 0; i < 20; i++) {
        size_t n = 0;
        struct authkit_store_session s;
        sc_session(&s, 100 + i, 1, SC_T0, SC_T0 + SC_HOUR);
        authkit_status a = ops->user_count(st, &n, &err);
        authkit_status b = ops->session_insert(st, &s, &err);
        failed += (a == AUTHKIT_STORE) + (b == AUTHKIT_STORE);
    }
    double took = now_seconds() - t0;
    CHECK_MSG(failed >= 38, "%d of 40 operations failed while the database was away", failed);
    /* Many threads at once: each fails quickly too (a failed connection attempt also fails
     * those waiting for a connection). */
    double t1 = now_seconds();
    CHECK_INT(burst_n(st, 10), BURST_THREADS * 10);
    double took_burst = now_seconds() - t1;
    CHECK_MSG(took_burst < 10, "%d threads during the outage took %.1f s", BURST_THREADS,
              took_burst);
    printf("outage: %d threads x 10 operations failed in %.3f s\n", BURST_THREADS, took_burst);
    CHECK_MSG(took < 10, "40 operations during the outage took %.1f s", took);
    printf("outage: %d of 40 operations failed with AUTHKIT_STORE in %.3f s; last: %s\n", failed,
           took, err.message);

    snprintf(sql, sizeof sql, "ALTER DATABASE %s WITH ALLOW_CONNECTIONS true", name);
    CHECK(pgf_exec(db, sql));
    size_t n = 0;
    CHECK_OK(ops->user_count(st, &n, &err));
    CHECK_INT(n, 1);
    CHECK_INT(burst(st), 0);
    ops->close(st);
    PQfinish(db);
}

/* A server that stops answering on a connection it keeps open (a stopped or hung backend:
 * the kernel still acknowledges what is sent, so no TCP timeout helps): the operation
 * gives up after the pool's query timeout with AUTHKIT_STORE, the connection is dropped,
 * and the next operation runs on a new one. The timeout is lowered from its default
 * (AUTHKIT__PG_QUERY_TIMEOUT_MS) to keep the test short. */
static void test_hung_backend(void) {
    char loc[1024];
    PGconn *db = fresh_db_admin(loc, sizeof loc);
    if (!db)
        return;
    authkit_error err;
    void *st = NULL;
    size_t n = 99;
    CHECK_OK(ops->open(loc, &st, &err));
    if (!st)
        return;
    ((struct authkit__pg_pool *)st)->query_timeout_ms = 1000;
    CHECK_OK(ops->user_count(st, &n, &err)); /* one pooled connection */
    long long pid = pgf_int(db, "SELECT pid FROM pg_stat_activity WHERE datname = "
                                "current_database() AND pid <> pg_backend_pid()");
    CHECK(pid > 0);
    if (pid > 0 && kill((pid_t)pid, SIGSTOP) == 0) {
        double t0 = now_seconds();
        CHECK_STATUS(ops->user_count(st, &n, &err), AUTHKIT_STORE);
        double took = now_seconds() - t0;
        kill((pid_t)pid, SIGCONT);
        CHECK_MSG(strstr(err.message, "no answer") != NULL, "message: %s", err.message);
        CHECK_MSG(took >= 0.9 && took < 3, "gave up after %.2f s, expected 1", took);
        printf("hung backend: gave up after %.2f s: %s\n", took, err.message);
    }
    CHECK_OK(ops->user_count(st, &n, &err));
    CHECK_INT(n, 0);
    sc_add_user(&(struct sc_target){.ops = ops, .label = "pg"}, st, 1, "one@example.com", "one",
                SC_T0);
    ops->close(st);
    PQfinish(db);
}

/* Errors from the server itself come back as AUTHKIT_STORE with its message. */
static void test_store_errors(void) {
    char loc[1024];
    PGconn *db = fresh_db_admin(loc, sizeof loc);
    if (!db)
        return;
    authkit_error err;
    void *st = NULL;
    size_t n = 0;
    CHECK_OK(ops->open(loc, &st, &err));
    if (!st)
        return;
    CHECK_OK(ops->session_count(st, SC_T0, &n, &err)); /* prepared before the drop */
    CHECK(pgf_exec(db, "DROP TABLE auth_sessions"));
    CHECK_STATUS(ops->session_count(st, SC_T0, &n, &err), AUTHKIT_STORE);
    CHECK_INT(err.status, AUTHKIT_STORE);
    CHECK_MSG(strstr(err.message, "auth_sessions") != NULL || strstr(err.message, "relation"),
              "message: %s", err.message);
    CHECK_OK(ops->user_count(st, &n, &err));
    ops->close(st);
    PQfinish(db);
}

int main(void) {
    if (sodium_init() < 0)
        return 1;
    base_url = pgf_base_url();
    admin = pgf_connect(base_url);
    double t0 = now_seconds();
    struct silent_server silent;
    bool silent_started = silent_start(&silent);
    struct sc_target pg = {ops, fresh_db, NULL, true, "postgresql"};
    sc_run(&pg);
    printf("conformance suite: %.2f s\n", now_seconds() - t0);
    static const struct {
        const char *name;
        void (*run)(void);
    } tests[] = {
        {"open failures", test_open_failures},
        {"schema", test_schema},
        {"concurrent open", test_concurrent_open},
        {"pool bound", test_pool_bound},
        {"reconnect", test_reconnect},
        {"outage", test_outage},
        {"hung backend", test_hung_backend},
        {"store errors", test_store_errors},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        double t = now_seconds();
        tests[i].run();
        printf("%s: %.2f s\n", tests[i].name, now_seconds() - t);
    }
    if (silent_started)
        silent_check(&silent);
    pgf_drop_all(admin);
    PQfinish(admin);
    printf("total: %.2f s\n", now_seconds() - t0);
    return check_done("store_pg");
}
