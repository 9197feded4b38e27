/* The SQLite connection pool: one connection per concurrent caller (DESIGN §6), each set
 * up the same way, with its own statement cache. */
#include "store/sqlite/sqlite_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

/* Per-connection settings.
 * - foreign_keys: SQLite leaves them off by default; ON DELETE CASCADE needs them.
 * - synchronous=NORMAL: in WAL mode a commit is still atomic and the database never
 *   corrupts; only the last commits before a power loss may be lost, for far fewer fsyncs.
 * - cache_size: 2 MiB per connection (the pool holds one per concurrent thread), and
 * - mmap_size 0: pages are read into that cache, not mapped. With the file mapped, every
 *   page a login or a /metrics count touched stayed mapped with its neighbours (the
 *   kernel maps around each fault) and counted in the server's RSS: 4 MB after 20 logins,
 *   50 MB after one count of 100,000 sessions. Repeated validations, the reads that a
 *   mapping made cheaper, are answered by the validation cache (src/session/cache.h). */
static const char conn_pragmas[] = "PRAGMA foreign_keys = ON;"
                                   "PRAGMA synchronous = NORMAL;"
                                   "PRAGMA cache_size = -2048;"
                                   "PRAGMA mmap_size = 0;";

static void conn_free(struct authkit__sqlite_conn *c) {
    if (!c)
        return;
    for (int i = 0; i < AUTHKIT__SQLITE_MAX_STMTS; i++)
        sqlite3_finalize(c->stmt[i]);
    sqlite3_finalize(c->begin);
    sqlite3_finalize(c->commit);
    sqlite3_close(c->db);
    free(c);
}

static authkit_status conn_setup(struct authkit__sqlite_conn *c, bool first, bool memory) {
    int rc = sqlite3_busy_timeout(c->db, AUTHKIT__SQLITE_BUSY_TIMEOUT_MS);
    if (rc == SQLITE_OK && sqlite3_db_readonly(c->db, "main") == 1)
        return AUTHKIT_STORE; /* a write-protected file opens read-only: refuse it */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db, conn_pragmas, NULL, NULL, NULL);
    /* WAL lets readers run while one connection writes. The mode is stored in the file,
     * so setting it once, on the first connection, is enough; it also reads the header
     * and thereby refuses a file that is not a database. */
    if (rc == SQLITE_OK && first && !memory)
        rc = sqlite3_exec(c->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(c->db, "BEGIN IMMEDIATE", -1, SQLITE_PREPARE_PERSISTENT, &c->begin,
                                NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(c->db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &c->commit, NULL);
    return rc == SQLITE_OK ? AUTHKIT_OK : AUTHKIT_STORE;
}

static authkit_status conn_open(const struct authkit__sqlite_pool *p, bool first,
                                struct authkit__sqlite_conn **out, authkit_error *err) {
    *out = NULL;
    struct authkit__sqlite_conn *c = calloc(1, sizeof *c);
    if (!c)
        return authkit__fail(err, AUTHKIT_NOMEM, NULL, NULL);
    /* NOMUTEX: the pool guarantees one thread per connection, so SQLite's own
     * per-connection mutex would be pure overhead. */
    int rc = sqlite3_open_v2(
        p->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK || conn_setup(c, first, p->memory) != AUTHKIT_OK) {
        const char *why = !c->db                                    ? sqlite3_errstr(rc)
                          : sqlite3_db_readonly(c->db, "main") == 1 ? "the file is read-only"
                                                                    : sqlite3_errmsg(c->db);
        authkit__fail(err, AUTHKIT_STORE, NULL, "cannot open database \"%s\": %s", p->path, why);
        conn_free(c);
        return AUTHKIT_STORE;
    }
    *out = c;
    return AUTHKIT_OK;
}

/* Other processes see the counter through their own mapping: only lock-free atomics work
 * across processes (a lock-based fallback would lock per process). */
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2 && sizeof(unsigned long) == sizeof(uint64_t),
               "the shared change counter needs lock-free 64-bit atomics");

/* Maps the change counter shared by every process that opens the database at `db_file`
 * (an absolute path, as SQLite names it): "<db_file>-revocations", next to the -wal and
 * -shm files. Like SQLite with those, a new file gets the database's permission bits
 * whatever the umask, and its owner when root creates it, so that whoever may open the
 * database may open this too. Grown to 8 bytes (zeros). Like -wal and -shm it must be left
 * alone while processes use the database (truncated under a mapping, the next access
 * faults; deleted, processes that opened it before and after count on different files). */
static authkit_status map_counter(const char *db_file, _Atomic uint64_t **out, authkit_error *err) {
    char path[4096];
    struct stat db, st;
    if (snprintf(path, sizeof path, "%s-revocations", db_file) >= (int)sizeof path)
        return authkit__fail(err, AUTHKIT_STORE, NULL, "database path too long");
    if (stat(db_file, &db) != 0)
        return authkit__fail(err, AUTHKIT_STORE, NULL, "cannot stat \"%s\": %s", db_file,
                             strerror(errno));
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, db.st_mode & 0666);
    const char *why = NULL;
    void *map = MAP_FAILED;
    if (fd < 0 || fstat(fd, &st) != 0)
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_size < (off_t)sizeof(uint64_t) &&
             (fchmod(fd, db.st_mode & 0666) != 0 ||
              (geteuid() == 0 && fchown(fd, db.st_uid, db.st_gid) != 0) ||
              ftruncate(fd, sizeof(uint64_t)) != 0))
        why = strerror(errno);
    else if ((map = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
             MAP_FAILED)
        why = strerror(errno);
    if (fd >= 0)
        close(fd); /* the mapping stays valid */
    if (why)
        return authkit__fail(err, AUTHKIT_STORE, NULL, "cannot open \"%s\": %s", path, why);
    *out = map;
    return AUTHKIT_OK;
}

authkit_status authkit__sqlite_pool_open(const char *location, struct authkit__sqlite_pool **out,
                                         authkit_error *err) {
    *out = NULL;
    /* SQLite opens "" as a private temporary database per connection: useless in a pool. */
    if (!location || !*location)
        return authkit__fail(err, AUTHKIT_STORE, NULL, "no SQLite database path given");
    if (!sqlite3_threadsafe())
        return authkit__fail(err, AUTHKIT_STORE, NULL, "SQLite was built without thread support");
    size_t len = strlen(location);
    struct authkit__sqlite_pool *p = calloc(1, sizeof *p + len + 1);
    if (!p)
        return authkit__fail(err, AUTHKIT_NOMEM, NULL, NULL);
    memcpy(p->path, location, len + 1);
    p->memory = strcmp(location, ":memory:") == 0;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return authkit__fail(err, AUTHKIT_NOMEM, NULL, "cannot create a mutex");
    }
    struct authkit__sqlite_conn *c = NULL;
    authkit_status st = conn_open(p, true, &c, err);
    if (st == AUTHKIT_OK)
        st = authkit__sqlite_migrate(c->db, p->path, err);
    atomic_init(&p->local_changes, 0);
    p->changes = &p->local_changes;
    if (st == AUTHKIT_OK && !p->memory)
        st = map_counter(sqlite3_db_filename(c->db, "main"), &p->changes, err);
    if (st != AUTHKIT_OK) {
        conn_free(c);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return st;
    }
    p->idle = c;
    *out = p;
    return authkit__ok(err);
}

void authkit__sqlite_pool_close(struct authkit__sqlite_pool *pool) {
    if (!pool)
        return;
    while (pool->idle) {
        struct authkit__sqlite_conn *c = pool->idle;
        pool->idle = c->next;
        /* Keeps the query planner's statistics current, as SQLite recommends at close. */
        sqlite3_exec(c->db, "PRAGMA optimize", NULL, NULL, NULL);
        conn_free(c);
    }
    if (pool->changes != &pool->local_changes)
        munmap((void *)(uintptr_t)pool->changes, sizeof(uint64_t));
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

authkit_status authkit__sqlite_acquire(struct authkit__sqlite_pool *pool,
                                       struct authkit__sqlite_conn **out, authkit_error *err) {
    pthread_mutex_lock(&pool->lock);
    if (pool->memory) {
        *out = pool->idle; /* the lock stays held until authkit__sqlite_release() */
        return AUTHKIT_OK;
    }
    struct authkit__sqlite_conn *c = pool->idle;
    if (c)
        pool->idle = c->next;
    pthread_mutex_unlock(&pool->lock);
    if (!c) {
        /* Opened outside the lock: opening takes a while and others may release meanwhile. */
        authkit_status st = conn_open(pool, false, &c, err);
        if (st != AUTHKIT_OK) {
            *out = NULL;
            return st;
        }
    }
    c->next = NULL;
    *out = c;
    return AUTHKIT_OK;
}

void authkit__sqlite_release(struct authkit__sqlite_pool *pool, struct authkit__sqlite_conn *conn) {
    if (pool->memory) {
        pthread_mutex_unlock(&pool->lock);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    conn->next = pool->idle;
    pool->idle = conn;
    pthread_mutex_unlock(&pool->lock);
}

authkit_status authkit__sqlite_stmt(struct authkit__sqlite_conn *conn, int index, const char *sql,
                                    sqlite3_stmt **out, authkit_error *err) {
    *out = NULL;
    if (index < 0 || index >= AUTHKIT__SQLITE_MAX_STMTS)
        return authkit__fail(err, AUTHKIT_MISUSE, NULL, "statement slot %d out of range", index);
    if (!conn->stmt[index]) {
        /* PERSISTENT: the statement lives as long as the connection, so SQLite keeps it
         * out of its short-lived lookaside memory. */
        if (sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &conn->stmt[index],
                               NULL) != SQLITE_OK)
            return authkit__sqlite_fail(conn, err, "prepare");
    }
    *out = conn->stmt[index];
    return AUTHKIT_OK;
}

void authkit__sqlite_reset(sqlite3_stmt *stmt) {
    if (!stmt)
        return;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

authkit_status authkit__sqlite_fail(struct authkit__sqlite_conn *conn, authkit_error *err,
                                    const char *what) {
    return authkit__fail(err, AUTHKIT_STORE, NULL, "sqlite %s: %s", what, sqlite3_errmsg(conn->db));
}

authkit_status authkit__sqlite_begin(struct authkit__sqlite_conn *conn, authkit_error *err) {
    authkit_status st = AUTHKIT_OK;
    if (sqlite3_step(conn->begin) != SQLITE_DONE)
        st = authkit__sqlite_fail(conn, err, "begin");
    sqlite3_reset(conn->begin);
    return st;
}

static void rollback(struct authkit__sqlite_conn *conn) {
    /* Some errors (SQLITE_FULL, SQLITE_IOERR, ...) already rolled the transaction back. */
    if (!sqlite3_get_autocommit(conn->db))
        sqlite3_exec(conn->db, "ROLLBACK", NULL, NULL, NULL);
}

authkit_status authkit__sqlite_end(struct authkit__sqlite_conn *conn, authkit_status status,
                                   authkit_error *err) {
    if (status == AUTHKIT_OK) {
        if (sqlite3_step(conn->commit) != SQLITE_DONE)
            status = authkit__sqlite_fail(conn, err, "commit");
        sqlite3_reset(conn->commit);
    }
    if (status != AUTHKIT_OK)
        rollback(conn);
    return status;
}
