/* Benchmark (b): in-process session validations per second on one core.
 *
 * For each database size (default 10,000 then 1,000,000 live sessions) it builds a SQLite
 * file under /tmp, then times K validations (default 1,000,000) of valid tokens picked at
 * random through authkit_session_validate() on this one thread. The baseline, measured in
 * the same run, is the same number of raw SQLite point look-ups
 * ("SELECT id FROM auth_sessions WHERE token_hash = ?", prepared once; bind, step, reset)
 * through a separate connection to the same file, set up like the library's connections.
 * All sizes are built first, then measured in CHUNKS rounds; each round runs, size after
 * size, a chunk of raw look-ups then a chunk of validations of the same tokens, so that
 * every ratio (validate/raw, and the flatness rate(small)/rate(large)) compares figures
 * taken under the same machine load. Rates are medians of the chunk rates.
 *
 * Goals: >= 200,000 validations/s/core at 1,000,000 sessions, and flat: rate(10k) /
 * rate(1M) <= 1.5. Not a test: nothing is asserted; the figures are printed, ending with
 * grep-able "RESULT name=value" lines.
 *
 * Populating: the first min(N, 10,000) sessions go through authkit_session_create() (one
 * transaction each), which is timed; if the rest would take longer than POPULATE_BUDGET_S
 * at that rate, the context is closed and the rest is inserted in one transaction with
 * sqlite3 directly, with tokens made exactly as the library makes them (32 CSPRNG bytes,
 * base64url without padding; the row holds the SHA-256 of the 43 characters). A uniform
 * sample of the tokens (every N/keep-th, so spread over the whole table) is kept in memory.
 * Every size is then measured in the same state: context closed (which checkpoints the WAL
 * into the file), reopened, and one more session written, as a running service would have.
 *
 * PostgreSQL: with --database postgresql://... (or a libpq keyword string) the same is
 * measured on that server, in a database of its own per size (authkit_bench_PID_N, created
 * through the given connection and dropped at the end): users and the first sessions
 * through the library, the rest by one COPY ... FROM STDIN (then VACUUM ANALYZE, as
 * autovacuum would after such a load); the baseline is the same point look-up, prepared
 * once on one libpq connection of its own (PQexecPrepared, the digest as a binary
 * parameter). Given twice (--database sqlite --database postgresql://...), both stores are
 * measured in the same rounds (store after store, size after size), and the report adds
 * the ratio pg/sqlite per size. RESULT names of PostgreSQL figures start with "pg_".
 *
 * With --leave FILE the databases outlive a successful run (listed in FILE), for a caller
 * that measures them further (bench/bench_store.sh serves them over HTTP).
 *
 * usage: bench_validate [--database sqlite|URL]... [--sessions N]... [--count K] [--keep T]
 *                       [--leave FILE]
 */
#include <authkit.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"

#define DB_FILE           "validate.db"
#define MAX_SIZES         8
#define MAX_STORES        2
#define DEFAULT_COUNT     1000000L
#define DEFAULT_KEEP      10000L
#define API_SESSIONS      10000L /* created through the library, and timed */
#define POPULATE_BUDGET_S 20.0   /* beyond this, the rest goes in one sqlite3 transaction */
#define USERS             100    /* sessions are spread over this many users */
#define CHUNKS            10     /* rounds of interleaved chunks */
#define LIFETIME_S        86400  /* outlives the run: no session expires while measured */
#define TOKEN_CHARS       43
#define DIGEST_BYTES      crypto_hash_sha256_BYTES
#define GOAL_RATE         200000.0
#define GOAL_FLAT         1.5

/* Same settings as the library's connections (src/store/sqlite/sqlite_pool.c), so that
 * the baseline gets the same cache and mmap. */
static const char conn_pragmas[] = "PRAGMA foreign_keys = ON;"
                                   "PRAGMA synchronous = NORMAL;"
                                   "PRAGMA cache_size = -2048;"
                                   "PRAGMA mmap_size = 0;";

static const char insert_sql[] =
    "INSERT INTO auth_sessions (id, user_id, token_hash, created_at, expires_at, last_seen_at, "
    "ip, user_agent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char lookup_sql[] = "SELECT id FROM auth_sessions WHERE token_hash = ?1";
static const char pg_lookup_sql[] = "SELECT id FROM auth_sessions WHERE token_hash = $1";
static const char pg_copy_sql[] =
    "COPY auth_sessions (id, user_id, token_hash, created_at, expires_at, last_seen_at, ip, "
    "user_agent) FROM STDIN";

static const char session_ip[] = "192.0.2.10";
static const char session_agent[] = "Mozilla/5.0 (X11; Linux x86_64) bench_validate/1.0";

struct config {
    long sizes[MAX_SIZES];
    int nsizes;
    const char *stores[MAX_STORES]; /* "sqlite", or a PostgreSQL connection string */
    int nstores;
    long count;
    long keep;
    const char *leave; /* --leave FILE: keep the databases, list them in FILE */
};

static bool is_pg_url(const char *url) {
    return strcmp(url, "sqlite") != 0;
}

/* What one database size gives. */
struct result {
    bool pg;
    long sessions;
    double api_rate;     /* authkit_session_create per second while populating */
    long api_created;    /* sessions created through the library */
    double bulk_s;       /* time of the sqlite3 or COPY bulk insert (0: none) */
    double vacuum_s;     /* PostgreSQL: time of the VACUUM ANALYZE after it */
    double db_mib;       /* file size (PostgreSQL: auth_sessions with its indexes) */
    double validate;     /* median chunk rate, validations/s (wall) */
    double validate_cpu; /* the same per CPU-second of this thread */
    double raw;          /* median chunk rate, raw look-ups/s (wall) */
    double raw_cpu;
    double paired; /* median over chunks of validate/raw within the chunk */
    /* Rates of each chunk: validate and raw, per wall second and per CPU second. */
    double v[CHUNKS], vc[CHUNKS], r[CHUNKS], rc[CHUNKS];
};

/* One database under test. */
struct db {
    bool pg;
    char dir[64];
    char path[128];
    char url[1024];     /* what authkit_open gets */
    const char *server; /* PostgreSQL: the connection string given, for CREATE DATABASE */
    char dbname[64];    /* PostgreSQL: this size's database, once created */
    authkit_ctx *ctx;
    char users[USERS][AUTHKIT_UUID_SIZE];
    long stride; /* every stride-th session's token is kept */
    long kept;
    long keep;
    char (*tokens)[TOKEN_CHARS + 1];
    uint8_t (*digests)[DIGEST_BYTES];
    uint32_t *pick;       /* `count` random indexes into tokens/digests */
    sqlite3 *raw_db;      /* the baseline's own connection */
    sqlite3_stmt *raw_st; /* its prepared look-up */
    PGconn *raw_pg;       /* PostgreSQL: the baseline's connection (statement "raw") */
};

static int usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--database sqlite|URL]... [--sessions N]... [--count K] [--keep T]\n"
            "          [--leave FILE]\n"
            "  --database D  store to measure (repeatable, at most %d; default sqlite): sqlite\n"
            "                (a temporary file per size) or a PostgreSQL server as a libpq\n"
            "                connection string (postgresql://... or host=... dbname=...), on\n"
            "                which one database per size is created and dropped\n"
            "  --sessions N  database size to measure (repeatable; default 10000 and 1000000)\n"
            "  --count K     validations (and raw look-ups) timed per size (default %ld)\n"
            "  --keep T      valid tokens kept in memory to pick from (default %ld)\n"
            "  --leave FILE  after a successful run, do not delete the databases: write one\n"
            "                line per database to FILE, \"STORE SESSIONS URL DIR\" (STORE sqlite\n"
            "                or pg; DIR: the directory to delete afterwards, \"-\" for pg, whose\n"
            "                database the caller drops); their users user000..user099 have\n"
            "                the password \"correct horse battery staple\" (bcrypt cost 4)\n",
            argv0, MAX_STORES, DEFAULT_COUNT, DEFAULT_KEEP);
    return 2;
}

static bool parse_args(int argc, char **argv, struct config *cfg) {
    cfg->nsizes = 0;
    cfg->nstores = 0;
    cfg->count = DEFAULT_COUNT;
    cfg->keep = DEFAULT_KEEP;
    cfg->leave = NULL;
    /* Every option takes a value: they come in pairs. */
    for (int i = 1; i < argc; i += 2) {
        long v;
        if (i + 1 >= argc)
            return false;
        if (strcmp(argv[i], "--leave") == 0) {
            cfg->leave = argv[i + 1];
            continue;
        }
        if (strcmp(argv[i], "--database") == 0) {
            if (cfg->nstores >= MAX_STORES || !argv[i + 1][0])
                return false;
            for (int s = 0; s < cfg->nstores; s++)
                if (is_pg_url(cfg->stores[s]) == is_pg_url(argv[i + 1]))
                    return false; /* at most one of each kind */
            cfg->stores[cfg->nstores++] = argv[i + 1];
            continue;
        }
        if (!bench_parse_long(argv[i + 1], 1, 100000000L, &v))
            return false;
        if (strcmp(argv[i], "--sessions") == 0 && cfg->nsizes < MAX_SIZES)
            cfg->sizes[cfg->nsizes++] = v;
        else if (strcmp(argv[i], "--count") == 0)
            cfg->count = v;
        else if (strcmp(argv[i], "--keep") == 0)
            cfg->keep = v;
        else
            return false;
    }
    if (cfg->nsizes == 0) {
        cfg->sizes[0] = 10000;
        cfg->sizes[1] = 1000000;
        cfg->nsizes = 2;
    }
    if (cfg->nstores == 0)
        cfg->stores[cfg->nstores++] = "sqlite";
    return true;
}

static bool open_ctx(struct db *d) {
    authkit_options opts;
    authkit_options_init(&opts);
    opts.database_url = d->url;
    opts.session_secret = "bench-secret-bench-secret-bench-secret-0123";
    opts.cleanup_interval_ms = 0;
    authkit_error err;
    if (authkit_open(&opts, &d->ctx, &err) != AUTHKIT_OK) {
        fprintf(stderr, "authkit_open %s: %s\n", d->url, err.message);
        return false;
    }
    return true;
}

/* Keeps the token of session number `i` when it falls on the sampling stride. */
static void keep_token(struct db *d, long i, const char *token, const uint8_t *digest) {
    if (i % d->stride != 0 || d->kept >= d->keep)
        return;
    memcpy(d->tokens[d->kept], token, TOKEN_CHARS + 1);
    memcpy(d->digests[d->kept], digest, DIGEST_BYTES);
    d->kept++;
}

/* USERS users with an imported bcrypt hash (cost 4: nobody logs in here, but the rows
 * look like real ones, hash included). */
static bool create_users(struct db *d) {
    static const char pw[] = "correct horse battery staple";
    char hash[AUTHKIT_HASH_SIZE];
    if (authkit_password_hash(pw, strlen(pw), 4, hash) != AUTHKIT_OK)
        return false;
    for (int u = 0; u < USERS; u++) {
        char email[64], name[32];
        snprintf(email, sizeof email, "user%03d@example.com", u);
        snprintf(name, sizeof name, "user%03d", u);
        authkit_user_new in = {.email = email, .username = name, .password_hash = hash};
        authkit_user out;
        authkit_error err;
        if (authkit_user_create(d->ctx, &in, &out, &err) != AUTHKIT_OK) {
            fprintf(stderr, "authkit_user_create: %s\n", err.message);
            return false;
        }
        memcpy(d->users[u], out.id, sizeof d->users[u]);
    }
    return true;
}

/* Sessions [from, to) through authkit_session_create(). */
static bool create_api(struct db *d, long from, long to) {
    authkit_session_opts so = {
        .ip = session_ip, .user_agent = session_agent, .lifetime_seconds = LIFETIME_S};
    for (long i = from; i < to; i++) {
        authkit_login_result res;
        authkit_error err;
        if (authkit_session_create(d->ctx, d->users[i % USERS], &so, &res, &err) != AUTHKIT_OK) {
            fprintf(stderr, "authkit_session_create: %s\n", err.message);
            return false;
        }
        uint8_t digest[DIGEST_BYTES];
        crypto_hash_sha256(digest, (const unsigned char *)res.token, strlen(res.token));
        keep_token(d, i, res.token, digest);
        sodium_memzero(&res, sizeof res);
    }
    return true;
}

/* A version-4 UUID in canonical lower-case text, as the library writes session ids. */
static void uuid_v4(char out[AUTHKIT_UUID_SIZE]) {
    uint8_t b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t j = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[j++] = '-';
        out[j++] = hex[b[i] >> 4];
        out[j++] = hex[b[i] & 15];
    }
    out[j] = '\0';
}

/* A new session as the library makes one: a token of 32 CSPRNG bytes in base64url without
 * padding, the SHA-256 of its 43 characters, a UUIDv4 id. */
static void make_session(char token[TOKEN_CHARS + 1], uint8_t digest[DIGEST_BYTES],
                         char id[AUTHKIT_UUID_SIZE]) {
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token, TOKEN_CHARS + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    crypto_hash_sha256(digest, (const unsigned char *)token, TOKEN_CHARS);
    uuid_v4(id);
    sodium_memzero(raw, sizeof raw);
}

static bool sql_ok(sqlite3 *db, int rc, const char *what) {
    if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
        return true;
    fprintf(stderr, "sqlite %s: %s\n", what, sqlite3_errmsg(db));
    return false;
}

/* Binds and inserts one session row, keeping its token if sampled. */
static bool insert_one(struct db *d, sqlite3 *db, sqlite3_stmt *st, long i, authkit_time now) {
    uint8_t digest[DIGEST_BYTES];
    char token[TOKEN_CHARS + 1], id[AUTHKIT_UUID_SIZE];
    make_session(token, digest, id);
    bool ok = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) == SQLITE_OK &&
              sqlite3_bind_text(st, 2, d->users[i % USERS], -1, SQLITE_STATIC) == SQLITE_OK &&
              sqlite3_bind_blob(st, 3, digest, DIGEST_BYTES, SQLITE_STATIC) == SQLITE_OK &&
              sqlite3_bind_int64(st, 4, now) == SQLITE_OK &&
              sqlite3_bind_int64(st, 5, now + (authkit_time)LIFETIME_S * 1000000) == SQLITE_OK &&
              sqlite3_bind_int64(st, 6, now) == SQLITE_OK &&
              sqlite3_bind_text(st, 7, session_ip, -1, SQLITE_STATIC) == SQLITE_OK &&
              sqlite3_bind_text(st, 8, session_agent, -1, SQLITE_STATIC) == SQLITE_OK;
    ok = ok && sql_ok(db, sqlite3_step(st), "insert");
    sqlite3_reset(st);
    if (ok)
        keep_token(d, i, token, digest);
    sodium_memzero(token, sizeof token);
    return ok;
}

/* Sessions [from, to) in one transaction on a connection of our own; the context must be
 * closed. The journal lives in memory during the load (the library turns WAL back on when
 * it reopens the file), and a large cache keeps the random index inserts off the disk. */
static bool create_bulk(struct db *d, long from, long to, authkit_time now) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bool ok = sql_ok(db, sqlite3_open_v2(d->path, &db, SQLITE_OPEN_READWRITE, NULL), "open") &&
              sql_ok(db,
                     sqlite3_exec(db,
                                  "PRAGMA foreign_keys = ON; PRAGMA journal_mode = MEMORY;"
                                  "PRAGMA synchronous = OFF; PRAGMA cache_size = -1048576;",
                                  NULL, NULL, NULL),
                     "pragmas") &&
              sql_ok(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin") &&
              sql_ok(db, sqlite3_prepare_v2(db, insert_sql, -1, &st, NULL), "prepare");
    for (long i = from; ok && i < to; i++)
        ok = insert_one(d, db, st, i, now);
    sqlite3_finalize(st);
    ok = ok && sql_ok(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    sqlite3_close(db);
    return ok;
}

/* ---- PostgreSQL ---------------------------------------------------------------------- */

/* Checks (and frees) a result. */
static bool pg_ok(PGconn *pg, PGresult *r, ExecStatusType want, const char *what) {
    bool ok = r && PQresultStatus(r) == want;
    if (!ok)
        fprintf(stderr, "postgresql %s: %s", what,
                r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(pg));
    PQclear(r);
    return ok;
}

static bool pg_exec(PGconn *pg, const char *sql, const char *what) {
    return pg_ok(pg, PQexec(pg, sql), PGRES_COMMAND_OK, what);
}

static PGconn *pg_connect(const char *conninfo) {
    PGconn *pg = PQconnectdb(conninfo);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect to PostgreSQL: %s",
                pg ? PQerrorMessage(pg) : "out of memory\n");
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

/* Appends `s` to out[*used..size), percent-encoded unless it is an unreserved character. */
static void url_put(char *out, size_t size, size_t *used, const char *s, bool encode) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        bool plain = !encode || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                     (*c >= '0' && *c <= '9') || strchr("-._~", *c);
        if (*used + 4 >= size) {
            *used = size; /* too long: the caller sees it */
            return;
        }
        if (plain) {
            out[(*used)++] = (char)*c;
        } else {
            out[(*used)++] = '%';
            out[(*used)++] = hex[*c >> 4];
            out[(*used)++] = hex[*c & 15];
        }
    }
    out[*used] = '\0';
}

/* The connection string `server` (URI or keywords) with its database replaced by `dbname`,
 * as the postgresql:// URI that authkit_open takes: every parameter goes in the query
 * ("postgresql://?host=%2Fsocket%2Fdir&user=postgres&dbname=..."). */
static bool pg_url(const char *server, const char *dbname, char *out, size_t size) {
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(server, &why);
    if (!opts) {
        fprintf(stderr, "invalid PostgreSQL connection string: %s", why ? why : "out of memory\n");
        PQfreemem(why);
        return false;
    }
    size_t used = 0;
    url_put(out, size, &used, "postgresql://?", false);
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !*o->val || strcmp(o->keyword, "dbname") == 0)
            continue;
        url_put(out, size, &used, o->keyword, false);
        url_put(out, size, &used, "=", false);
        url_put(out, size, &used, o->val, true);
        url_put(out, size, &used, "&", false);
    }
    url_put(out, size, &used, "dbname=", false);
    url_put(out, size, &used, dbname, true);
    PQconninfoFree(opts);
    if (used >= size) {
        fprintf(stderr, "PostgreSQL connection string too long\n");
        return false;
    }
    return true;
}

/* Creates (create) or drops this size's database through a connection to `server`. The
 * name is made here of digits and letters only, so it needs no quoting. */
static bool pg_admin(const struct db *d, bool create) {
    PGconn *pg = pg_connect(d->server);
    if (!pg)
        return false;
    char sql[160];
    if (create)
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", d->dbname);
    else
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s%s", d->dbname,
                 PQserverVersion(pg) >= 130000 ? " WITH (FORCE)" : "");
    bool ok = pg_exec(pg, sql, create ? "create database" : "drop database");
    PQfinish(pg);
    return ok;
}

/* Sessions [from, to) by one COPY ... FROM STDIN (text format) on a connection of our own,
 * then VACUUM ANALYZE (*vacuum_s), as autovacuum would do after such a load: it sets the
 * hint bits and the statistics that a running server has. */
static bool create_copy(struct db *d, long from, long to, authkit_time now, double *vacuum_s) {
    enum { BUF = 1 << 18 };
    PGconn *pg = pg_connect(d->url);
    char *buf = malloc(BUF);
    if (!pg || !buf) {
        PQfinish(pg);
        free(buf);
        return false;
    }
    bool ok = pg_ok(pg, PQexec(pg, pg_copy_sql), PGRES_COPY_IN, "copy");
    bool copying = ok;
    size_t used = 0;
    long long expires = (long long)now + (long long)LIFETIME_S * 1000000;
    for (long i = from; ok && i < to; i++) {
        uint8_t digest[DIGEST_BYTES];
        char token[TOKEN_CHARS + 1], id[AUTHKIT_UUID_SIZE], hex[2 * DIGEST_BYTES + 1];
        make_session(token, digest, id);
        sodium_bin2hex(hex, sizeof hex, digest, DIGEST_BYTES);
        /* bytea in hex ("\x..."); the backslash is doubled for COPY's text format. */
        int len = snprintf(buf + used, BUF - used, "%s\t%s\t\\\\x%s\t%lld\t%lld\t%lld\t%s\t%s\n",
                           id, d->users[i % USERS], hex, (long long)now, expires, (long long)now,
                           session_ip, session_agent);
        keep_token(d, i, token, digest);
        sodium_memzero(token, sizeof token);
        if (len < 0 || (size_t)len >= BUF - used) {
            ok = false;
            break;
        }
        used += (size_t)len;
        if (BUF - used < 1024) {
            ok = PQputCopyData(pg, buf, (int)used) == 1;
            used = 0;
        }
    }
    if (ok && used)
        ok = PQputCopyData(pg, buf, (int)used) == 1;
    free(buf);
    if (copying) {
        if (PQputCopyEnd(pg, ok ? NULL : "bench_validate: aborted") != 1)
            ok = false;
        bool done = pg_ok(pg, PQgetResult(pg), PGRES_COMMAND_OK, "copy");
        ok = ok && done;
        for (PGresult *r; (r = PQgetResult(pg));)
            PQclear(r);
    }
    int64_t t0 = bench_now_ns();
    ok = ok && pg_exec(pg, "VACUUM ANALYZE auth_sessions", "vacuum");
    *vacuum_s = (double)(bench_now_ns() - t0) / 1e9;
    PQfinish(pg);
    return ok;
}

/* auth_sessions with its indexes and TOAST, in MiB (0 if it cannot be read). */
static double pg_mib(const struct db *d) {
    PGconn *pg = pg_connect(d->url);
    if (!pg)
        return 0;
    PGresult *r = PQexec(pg, "SELECT pg_total_relation_size('auth_sessions')");
    double mib = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                     ? strtod(PQgetvalue(r, 0, 0), NULL) / (1024.0 * 1024.0)
                     : 0;
    PQclear(r);
    PQfinish(pg);
    return mib;
}

/* ---- populating ---------------------------------------------------------------------- */

/* One more session, its token thrown away: a running service has written to the WAL since
 * its last checkpoint. (With an empty WAL SQLite also fstat()s the database file at the
 * start of every read transaction, which is not the steady state.) */
static bool write_once(struct db *d) {
    authkit_session_opts so = {.lifetime_seconds = LIFETIME_S};
    authkit_login_result res;
    authkit_error err;
    authkit_status st = authkit_session_create(d->ctx, d->users[0], &so, &res, &err);
    sodium_memzero(&res, sizeof res);
    if (st != AUTHKIT_OK)
        fprintf(stderr, "authkit_session_create: %s\n", err.message);
    return st == AUTHKIT_OK;
}

static bool populate(struct db *d, long n, struct result *res) {
    if (!open_ctx(d) || !create_users(d))
        return false;
    long api = n < API_SESSIONS ? n : API_SESSIONS;
    int64_t t0 = bench_now_ns();
    if (!create_api(d, 0, api))
        return false;
    double api_s = (double)(bench_now_ns() - t0) / 1e9;
    res->api_rate = (double)api / api_s;
    res->api_created = api;
    if (api < n && (double)(n - api) / res->api_rate <= POPULATE_BUDGET_S) {
        if (!create_api(d, api, n))
            return false;
        res->api_created = n;
    }
    authkit_time now = authkit_now(d->ctx);
    /* Every size is measured in the same state: closed (the last connection checkpoints
     * the WAL into the file and deletes it) and reopened. */
    authkit_close(d->ctx);
    d->ctx = NULL;
    if (res->api_created < n) {
        t0 = bench_now_ns();
        bool ok = d->pg ? create_copy(d, res->api_created, n, now, &res->vacuum_s)
                        : create_bulk(d, res->api_created, n, now);
        if (!ok)
            return false;
        res->bulk_s = (double)(bench_now_ns() - t0) / 1e9 - res->vacuum_s;
    }
    if (!open_ctx(d))
        return false;
    size_t live = 0;
    authkit_error err;
    if (authkit_session_count(d->ctx, &live, &err) != AUTHKIT_OK || live != (size_t)n) {
        fprintf(stderr, "expected %ld live sessions, the store has %zu\n", n, live);
        return false;
    }
    struct stat sb;
    if (d->pg)
        res->db_mib = pg_mib(d);
    else
        res->db_mib = stat(d->path, &sb) == 0 ? (double)sb.st_size / (1024.0 * 1024.0) : 0;
    return write_once(d);
}

/* ---- measuring ----------------------------------------------------------------------- */

/* Times `n` validations of the tokens picked by `pick`; *wall and *cpu get seconds. */
static bool time_validate(struct db *d, const uint32_t *pick, long n, double *wall, double *cpu) {
    authkit_user user;
    long failures = 0;
    int64_t c0 = bench_thread_cpu_ns(), t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        failures +=
            authkit_session_validate(d->ctx, d->tokens[pick[i]], &user, NULL, NULL) != AUTHKIT_OK;
    *wall = (double)(bench_now_ns() - t0) / 1e9;
    *cpu = (double)(bench_thread_cpu_ns() - c0) / 1e9;
    if (failures)
        fprintf(stderr, "%ld of %ld validations failed\n", failures, n);
    return failures == 0;
}

/* Times `n` raw look-ups of the digests picked by `pick` on SQLite. */
static bool time_raw_sqlite(struct db *d, const uint32_t *pick, long n, double *wall, double *cpu) {
    sqlite3_stmt *st = d->raw_st;
    long misses = 0;
    int64_t c0 = bench_thread_cpu_ns(), t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        sqlite3_bind_blob(st, 1, d->digests[pick[i]], DIGEST_BYTES, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW || !sqlite3_column_text(st, 0))
            misses++;
        sqlite3_reset(st);
    }
    *wall = (double)(bench_now_ns() - t0) / 1e9;
    *cpu = (double)(bench_thread_cpu_ns() - c0) / 1e9;
    if (misses)
        fprintf(stderr, "%ld of %ld raw look-ups failed: %s\n", misses, n,
                sqlite3_errmsg(d->raw_db));
    return misses == 0;
}

/* The same on PostgreSQL: the prepared statement "raw", the digest as a binary parameter,
 * the id back as text (as the library reads its columns). */
static bool time_raw_pg(struct db *d, const uint32_t *pick, long n, double *wall, double *cpu) {
    static const int lengths[1] = {DIGEST_BYTES}, formats[1] = {1};
    long misses = 0;
    int64_t c0 = bench_thread_cpu_ns(), t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        const char *values[1] = {(const char *)d->digests[pick[i]]};
        PGresult *r = PQexecPrepared(d->raw_pg, "raw", 1, values, lengths, formats, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
            misses++;
        PQclear(r);
    }
    *wall = (double)(bench_now_ns() - t0) / 1e9;
    *cpu = (double)(bench_thread_cpu_ns() - c0) / 1e9;
    if (misses)
        fprintf(stderr, "%ld of %ld raw look-ups failed: %s", misses, n, PQerrorMessage(d->raw_pg));
    return misses == 0;
}

static bool time_raw(struct db *d, const uint32_t *pick, long n, double *wall, double *cpu) {
    return d->pg ? time_raw_pg(d, pick, n, wall, cpu) : time_raw_sqlite(d, pick, n, wall, cpu);
}

/* The baseline's own connection and its prepared look-up. */
static bool open_raw(struct db *d) {
    if (d->pg) {
        d->raw_pg = pg_connect(d->url);
        return d->raw_pg && pg_ok(d->raw_pg, PQprepare(d->raw_pg, "raw", pg_lookup_sql, 1, NULL),
                                  PGRES_COMMAND_OK, "prepare");
    }
    return sql_ok(d->raw_db,
                  sqlite3_open_v2(d->path, &d->raw_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                  NULL),
                  "open") &&
           sql_ok(d->raw_db, sqlite3_exec(d->raw_db, conn_pragmas, NULL, NULL, NULL), "pragmas") &&
           sql_ok(d->raw_db,
                  sqlite3_prepare_v3(d->raw_db, lookup_sql, -1, SQLITE_PREPARE_PERSISTENT,
                                     &d->raw_st, NULL),
                  "prepare");
}

/* Opens the baseline's own connection, draws the random picks and warms both paths up
 * (every kept token once each way, untimed). */
static bool prepare_measure(struct db *d, long count) {
    d->pick = malloc((size_t)count * sizeof *d->pick);
    uint32_t *all = malloc((size_t)d->kept * sizeof *all);
    bool ok = d->pick && all && open_raw(d);
    /* Drawn before timing: the CSPRNG is not what is measured. */
    for (long i = 0; ok && i < count; i++)
        d->pick[i] = randombytes_uniform((uint32_t)d->kept);
    for (long i = 0; ok && i < d->kept; i++)
        all[i] = (uint32_t)i;
    double wall, cpu;
    ok =
        ok && time_raw(d, all, d->kept, &wall, &cpu) && time_validate(d, all, d->kept, &wall, &cpu);
    free(all);
    return ok;
}

/* Chunk `c` of this size: `n` raw look-ups, then `n` validations of the same tokens. */
static bool measure_chunk(struct db *d, struct result *res, int c, long n, long count) {
    const uint32_t *p = d->pick + (size_t)c * (size_t)n % (size_t)count;
    double wall, cpu;
    if (!time_raw(d, p, n, &wall, &cpu))
        return false;
    res->r[c] = (double)n / wall;
    res->rc[c] = (double)n / cpu;
    if (!time_validate(d, p, n, &wall, &cpu))
        return false;
    res->v[c] = (double)n / wall;
    res->vc[c] = (double)n / cpu;
    return true;
}

/* Medians of the chunk rates, and of the per-chunk ratio validate/raw. */
static void summarise(struct result *res) {
    double tmp[CHUNKS];
    for (int c = 0; c < CHUNKS; c++)
        tmp[c] = res->v[c] / res->r[c];
    res->paired = bench_median(tmp, CHUNKS);
    memcpy(tmp, res->v, sizeof tmp);
    res->validate = bench_median(tmp, CHUNKS);
    memcpy(tmp, res->vc, sizeof tmp);
    res->validate_cpu = bench_median(tmp, CHUNKS);
    memcpy(tmp, res->r, sizeof tmp);
    res->raw = bench_median(tmp, CHUNKS);
    memcpy(tmp, res->rc, sizeof tmp);
    res->raw_cpu = bench_median(tmp, CHUNKS);
}

/* ---- one database per store and size ------------------------------------------------- */

static bool db_init(struct db *d, const char *store, int store_index, long n, long keep) {
    memset(d, 0, sizeof *d);
    d->pg = is_pg_url(store);
    d->keep = keep < n ? keep : n;
    d->stride = n / d->keep;
    d->tokens = calloc((size_t)d->keep, sizeof *d->tokens);
    d->digests = calloc((size_t)d->keep, sizeof *d->digests);
    if (!d->tokens || !d->digests)
        return false;
    if (d->pg) {
        d->server = store;
        snprintf(d->dbname, sizeof d->dbname, "authkit_bench_%ld_%d_%ld", (long)getpid(),
                 store_index, n);
        if (!pg_url(store, d->dbname, d->url, sizeof d->url))
            return false;
        if (!pg_admin(d, true)) {
            d->dbname[0] = '\0'; /* nothing to drop */
            return false;
        }
        return true;
    }
    if (!bench_tmpdir(d->dir, sizeof d->dir))
        return false;
    snprintf(d->path, sizeof d->path, "%.63s/%s", d->dir, DB_FILE);
    snprintf(d->url, sizeof d->url, "sqlite://%.127s", d->path);
    return true;
}

/* Closes everything of `d` and deletes its database, unless `leave` is given: then the
 * database stays and is listed there. */
static void db_free(struct db *d, long n, FILE *leave) {
    sqlite3_finalize(d->raw_st);
    sqlite3_close(d->raw_db);
    PQfinish(d->raw_pg);
    authkit_close(d->ctx);
    if (leave && (d->dir[0] || d->dbname[0]))
        fprintf(leave, "%s %ld %s %s\n", d->pg ? "pg" : "sqlite", n, d->url, d->pg ? "-" : d->dir);
    else if (d->dir[0])
        bench_remove_db(d->dir, DB_FILE);
    else if (d->pg && d->dbname[0] && !pg_admin(d, false))
        fprintf(stderr, "warning: cannot drop the PostgreSQL database %s\n", d->dbname);
    if (d->tokens)
        sodium_memzero(d->tokens, (size_t)d->keep * sizeof *d->tokens);
    free(d->tokens);
    free(d->digests);
    free(d->pick);
}

static const char *store_name(bool pg) {
    return pg ? "PostgreSQL" : "SQLite";
}

/* Builds the database of one size and gets it ready to measure. */
static bool setup_size(struct db *d, const char *store, int store_index, long n,
                       const struct config *cfg, struct result *res) {
    memset(res, 0, sizeof *res);
    res->sessions = n;
    res->pg = is_pg_url(store);
    int64_t t0 = bench_now_ns();
    if (!db_init(d, store, store_index, n, cfg->keep) || !populate(d, n, res))
        return false;
    char a[32], b[32], c[32];
    printf("%s, %s sessions: %.1f MiB %s, populated in %.1f s (%s through "
           "authkit_session_create at %s/s",
           store_name(res->pg), bench_group(a, sizeof a, (double)n), res->db_mib,
           res->pg ? "auth_sessions with indexes" : "file", (double)(bench_now_ns() - t0) / 1e9,
           bench_group(b, sizeof b, (double)res->api_created),
           bench_group(c, sizeof c, res->api_rate));
    if (res->bulk_s > 0 && res->pg)
        printf("; %s by one COPY in %.1f s, then VACUUM ANALYZE in %.1f s",
               bench_group(a, sizeof a, (double)(n - res->api_created)), res->bulk_s,
               res->vacuum_s);
    else if (res->bulk_s > 0)
        printf("; %s by one sqlite3 transaction in %.1f s",
               bench_group(a, sizeof a, (double)(n - res->api_created)), res->bulk_s);
    printf(")\n");
    fflush(stdout);
    return prepare_measure(d, cfg->count);
}

/* ---- the report ---------------------------------------------------------------------- */

static void print_size(const struct result *res) {
    char a[32], b[32];
    printf("%s, %s sessions\n", store_name(res->pg),
           bench_group(a, sizeof a, (double)res->sessions));
    printf("  %-36s %10s/s  (%.2f us each; %s per CPU-second)\n", "authkit_session_validate",
           bench_group(a, sizeof a, res->validate), 1e6 / res->validate,
           bench_group(b, sizeof b, res->validate_cpu));
    printf(
        "  %-36s %10s/s  (%.2f us each; %s per CPU-second)\n",
        res->pg ? "raw SELECT id ... WHERE token_hash=$1" : "raw SELECT id ... WHERE token_hash=?",
        bench_group(a, sizeof a, res->raw), 1e6 / res->raw, bench_group(b, sizeof b, res->raw_cpu));
    printf("  ratio validate/raw %.3f (paired per chunk: %.3f)\n", res->validate / res->raw,
           res->paired);
}

/* Index of the smallest and the largest size. */
static void extremes(const struct config *cfg, const struct result *res, int *small, int *large) {
    *small = *large = 0;
    for (int i = 1; i < cfg->nsizes; i++) {
        if (res[i].sessions < res[*small].sessions)
            *small = i;
        if (res[i].sessions > res[*large].sessions)
            *large = i;
    }
}

/* The goals and RESULT lines of one store (its sizes are res[0..nsizes)). SQLite's RESULT
 * names are unprefixed, as they always were; PostgreSQL's start with "pg_". */
static void report_store(const struct config *cfg, const struct result *res) {
    int si, li;
    extremes(cfg, res, &si, &li);
    const struct result *small = &res[si], *large = &res[li];
    const char *pre = res[0].pg ? "pg_" : "";
    /* Paired flatness: both sizes' chunks of the same round ran back to back. */
    double tmp[CHUNKS];
    for (int c = 0; c < CHUNKS; c++)
        tmp[c] = small->v[c] / large->v[c];
    double flat = small->validate / large->validate, flat_paired = bench_median(tmp, CHUNKS);
    char a[32];
    printf("%s: goal >= %s validations/s/core at the largest size (%ld): %s\n",
           store_name(res[0].pg), bench_group(a, sizeof a, GOAL_RATE), large->sessions,
           large->validate >= GOAL_RATE ? "met" : "NOT met");
    if (small != large)
        printf("%s: flatness rate(%ld)/rate(%ld) = %.3f, paired per round %.3f (goal <= %.1f): "
               "%s; raw look-up alone %.3f\n",
               store_name(res[0].pg), small->sessions, large->sessions, flat, flat_paired,
               GOAL_FLAT, flat <= GOAL_FLAT ? "met" : "NOT met", small->raw / large->raw);
    for (int i = 0; i < cfg->nsizes; i++) {
        long n = res[i].sessions;
        printf("RESULT %svalidate_per_s_%ld=%.0f\n", pre, n, res[i].validate);
        printf("RESULT %svalidate_per_cpu_s_%ld=%.0f\n", pre, n, res[i].validate_cpu);
        printf("RESULT %sraw_per_s_%ld=%.0f\n", pre, n, res[i].raw);
        printf("RESULT %sraw_per_cpu_s_%ld=%.0f\n", pre, n, res[i].raw_cpu);
        printf("RESULT %sratio_validate_raw_%ld=%.3f\n", pre, n, res[i].validate / res[i].raw);
        printf("RESULT %spaired_ratio_validate_raw_%ld=%.3f\n", pre, n, res[i].paired);
        printf("RESULT %ssession_create_per_s_%ld=%.0f\n", pre, n, res[i].api_rate);
        printf("RESULT %sdb_mib_%ld=%.1f\n", pre, n, res[i].db_mib);
        if (res[i].pg && res[i].bulk_s > 0) {
            printf("RESULT %scopy_s_%ld=%.1f\n", pre, n, res[i].bulk_s);
            printf("RESULT %svacuum_s_%ld=%.1f\n", pre, n, res[i].vacuum_s);
        }
    }
    if (small != large) {
        printf("RESULT %sflatness_%ld_over_%ld=%.3f\n", pre, small->sessions, large->sessions,
               flat);
        printf("RESULT %spaired_flatness_%ld_over_%ld=%.3f\n", pre, small->sessions,
               large->sessions, flat_paired);
        printf("RESULT %sraw_flatness_%ld_over_%ld=%.3f\n", pre, small->sessions, large->sessions,
               small->raw / large->raw);
        printf("RESULT %sgoal_flat_met=%s\n", pre, flat <= GOAL_FLAT ? "yes" : "no");
    }
    printf("RESULT %sgoal_rate_met=%s\n", pre, large->validate >= GOAL_RATE ? "yes" : "no");
}

/* PostgreSQL against SQLite, size by size: `sq` and `pg` are the two stores' results. */
static void report_stores(const struct config *cfg, const struct result *sq,
                          const struct result *pg) {
    for (int i = 0; i < cfg->nsizes; i++) {
        double v[CHUNKS], r[CHUNKS];
        for (int c = 0; c < CHUNKS; c++) {
            v[c] = pg[i].v[c] / sq[i].v[c];
            r[c] = pg[i].r[c] / sq[i].r[c];
        }
        double pv = bench_median(v, CHUNKS), pr = bench_median(r, CHUNKS);
        long n = sq[i].sessions;
        printf("PostgreSQL/SQLite at %ld sessions: validate %.3f (paired per round %.3f), raw "
               "look-up %.3f (paired %.3f)\n",
               n, pg[i].validate / sq[i].validate, pv, pg[i].raw / sq[i].raw, pr);
        printf("RESULT ratio_pg_sqlite_validate_%ld=%.3f\n", n, pg[i].validate / sq[i].validate);
        printf("RESULT paired_ratio_pg_sqlite_validate_%ld=%.3f\n", n, pv);
        printf("RESULT ratio_pg_sqlite_raw_%ld=%.3f\n", n, pg[i].raw / sq[i].raw);
        printf("RESULT paired_ratio_pg_sqlite_raw_%ld=%.3f\n", n, pr);
    }
}

static void report(const struct config *cfg, struct result *res, double runtime_s) {
    printf("\none thread; %ld timed operations of each kind per store and size, in %d rounds of "
           "chunks (raw then validate, size after size%s);\nrates are medians of the chunk "
           "rates (wall clock)\n",
           cfg->count, CHUNKS, cfg->nstores > 1 ? ", store after store" : "");
    printf("RESULT count=%ld\n", cfg->count);
    const struct result *sq = NULL, *pg = NULL;
    for (int s = 0; s < cfg->nstores; s++) {
        const struct result *r = res + (size_t)s * (size_t)cfg->nsizes;
        report_store(cfg, r);
        if (r->pg)
            pg = r;
        else
            sq = r;
    }
    if (sq && pg)
        report_stores(cfg, sq, pg);
    printf("runtime %.1f s\n", runtime_s);
    printf("RESULT runtime_s=%.1f\n", runtime_s);
}

/* Builds every store and size, then measures them in interleaved rounds: each round runs a
 * chunk of every store and size back to back, so that the flatness and store ratios
 * compare figures taken under the same machine load. */
static bool run(const struct config *cfg, struct db *dbs, struct result *res) {
    int total = cfg->nstores * cfg->nsizes;
    for (int k = 0; k < total; k++) {
        int s = k / cfg->nsizes, i = k % cfg->nsizes;
        if (!setup_size(&dbs[k], cfg->stores[s], s, cfg->sizes[i], cfg, &res[k]))
            return false;
    }
    long per = cfg->count / CHUNKS > 0 ? cfg->count / CHUNKS : 1;
    for (int c = 0; c < CHUNKS; c++) {
        for (int k = 0; k < total; k++) {
            if (!measure_chunk(&dbs[k], &res[k], c, per, cfg->count))
                return false;
        }
    }
    printf("\n");
    for (int k = 0; k < total; k++) {
        summarise(&res[k]);
        print_size(&res[k]);
    }
    return true;
}

int main(int argc, char **argv) {
    struct config cfg;
    if (!parse_args(argc, argv, &cfg))
        return usage(argv[0]);
    int64_t start = bench_now_ns();
    if (sodium_init() < 0)
        return 1;
    static struct db dbs[MAX_STORES * MAX_SIZES];
    static struct result res[MAX_STORES * MAX_SIZES];
    printf("authkit_session_validate() on one thread vs raw look-ups on the same store\n\n");
    bool ok = run(&cfg, dbs, res);
    FILE *leave = NULL;
    if (ok && cfg.leave && !(leave = fopen(cfg.leave, "w")))
        perror(cfg.leave); /* then the databases are deleted as usual */
    for (int k = 0; k < cfg.nstores * cfg.nsizes; k++)
        db_free(&dbs[k], cfg.sizes[k % cfg.nsizes], leave);
    if (leave && fclose(leave) != 0) {
        perror(cfg.leave);
        ok = false;
    }
    if (ok)
        report(&cfg, res, (double)(bench_now_ns() - start) / 1e9);
    return ok ? 0 : 1;
}
