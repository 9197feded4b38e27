/* Helpers for tests that need PostgreSQL: the server the test run started (the pg_server
 * CTest fixture, tests/support/pg_server.sh) is named by AUTHKIT_TEST_PG_URL, a libpq
 * connection string. Each test makes its own databases on it and drops them at the end,
 * so tests never see each other's rows and may run at the same time. */
#ifndef AUTHKIT_TEST_PG_FIXTURE_H
#define AUTHKIT_TEST_PG_FIXTURE_H

#include <libpq-fe.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The server's connection string. Exits with a failure (never a skip) when it is not set:
 * PostgreSQL is part of every test run. */
static inline const char *pgf_base_url(void) {
    const char *url = getenv("AUTHKIT_TEST_PG_URL");
    if (!url || !*url) {
        fprintf(stderr, "AUTHKIT_TEST_PG_URL is not set: run this test through ctest, whose "
                        "pg_server fixture starts a PostgreSQL server (tests/support/"
                        "pg_server.sh)\n");
        exit(1);
    }
    return url;
}

/* Appends kw='value' (quoted for a libpq keyword string) to `out`. */
static inline void pgf_append(char *out, size_t size, const char *kw, const char *value) {
    size_t used = strlen(out);
    int n = snprintf(out + used, size > used ? size - used : 0, "%s%s='", used ? " " : "", kw);
    used += n > 0 ? (size_t)n : 0;
    for (const char *v = value; *v && used + 3 < size; v++) {
        if (*v == '\'' || *v == '\\')
            out[used++] = '\\';
        out[used++] = *v;
    }
    if (used + 2 <= size) {
        out[used++] = '\'';
        out[used] = '\0';
    }
}

/* `base` with its database replaced by `dbname`, as a keyword string. false if `base`
 * cannot be parsed. */
static inline bool pgf_conninfo(const char *base, const char *dbname, char *out, size_t size) {
    PQconninfoOption *opts = PQconninfoParse(base, NULL);
    if (!opts)
        return false;
    out[0] = '\0';
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && *o->val && strcmp(o->keyword, "dbname") != 0)
            pgf_append(out, size, o->keyword, o->val);
    pgf_append(out, size, "dbname", dbname);
    PQconninfoFree(opts);
    return true;
}

/* `base` with its database replaced by `dbname`, as a URI with the given scheme
 * ("postgresql://user@/dbname?host=%2Fsocket%2Fdir&port=..."). */
static inline bool pgf_uri(const char *base, const char *scheme, const char *dbname, char *out,
                           size_t size) {
    PQconninfoOption *opts = PQconninfoParse(base, NULL);
    if (!opts)
        return false;
    const char *user = "", *host = "", *port = "";
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "user") == 0)
            user = o->val;
        else if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
    }
    char host_enc[512] = "";
    size_t h = 0;
    for (const char *c = host; *c && h + 4 < sizeof host_enc; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '_' || *c == '.')
            host_enc[h++] = *c;
        else
            h += (size_t)snprintf(host_enc + h, sizeof host_enc - h, "%%%02X", (unsigned char)*c);
    }
    host_enc[h] = '\0';
    int n = snprintf(out, size, "%s%s%s/%s?host=%s%s%s", scheme, user, *user ? "@" : "", dbname,
                     host_enc, *port ? "&port=" : "", port);
    PQconninfoFree(opts);
    return n > 0 && (size_t)n < size;
}

/* A connection to `conninfo`; exits the test with a clear message if there is none. */
static inline PGconn *pgf_connect(const char *conninfo) {
    PGconn *pg = PQconnectdb(conninfo);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect to the test PostgreSQL server (%s): %s", conninfo,
                pg ? PQerrorMessage(pg) : "out of memory\n");
        exit(1);
    }
    return pg;
}

/* Runs SQL; true when it succeeded. Failures are printed. */
static inline bool pgf_exec(PGconn *pg, const char *sql) {
    PGresult *r = PQexec(pg, sql);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "pgf_exec(%s): %s", sql, PQerrorMessage(pg));
    PQclear(r);
    return ok;
}

/* The first column of the first row of `sql` as an integer, or -1. */
static inline long long pgf_int(PGconn *pg, const char *sql) {
    PGresult *r = PQexec(pg, sql);
    long long v = -1;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else
        fprintf(stderr, "pgf_int(%s): %s", sql, PQerrorMessage(pg));
    PQclear(r);
    return v;
}

/* The first column of the first row of `sql` as text in `out` ("" on failure). */
static inline void pgf_text(PGconn *pg, const char *sql, char *out, size_t size) {
    PGresult *r = PQexec(pg, sql);
    out[0] = '\0';
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        snprintf(out, size, "%s", PQgetvalue(r, 0, 0));
    else
        fprintf(stderr, "pgf_text(%s): %s", sql, PQerrorMessage(pg));
    PQclear(r);
}

/* Databases made by this process, dropped by pgf_drop_all(). */
static char pgf_names[64][64];
static int pgf_count;

/* Creates an empty database named authkit_test_<random>_<n> and writes its name to
 * `name` (64 bytes). false if that fails. */
static inline bool pgf_create_db(PGconn *admin, char name[64]) {
    static char run[17];
    if (!run[0]) {
        uint8_t raw[8];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(run, sizeof run, raw, sizeof raw);
    }
    if (pgf_count >= (int)(sizeof pgf_names / sizeof pgf_names[0]))
        return false;
    snprintf(name, 64, "authkit_test_%s_%d", run, pgf_count + 1);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    if (!pgf_exec(admin, sql))
        return false;
    snprintf(pgf_names[pgf_count++], sizeof pgf_names[0], "%s", name);
    return true;
}

/* Drops every database pgf_create_db() made (also ones still connected to). */
static inline void pgf_drop_all(PGconn *admin) {
    for (int i = 0; i < pgf_count; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", pgf_names[i]);
        pgf_exec(admin, sql);
    }
    pgf_count = 0;
}

#endif
