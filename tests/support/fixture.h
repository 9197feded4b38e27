/* A context on a fresh SQLite file in a temporary directory, with a clock the test moves. */
#ifndef AUTHKIT_TEST_FIXTURE_H
#define AUTHKIT_TEST_FIXTURE_H

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authkit.h"

#define TEST_SECRET "test-secret-0123456789-abcdefghijklmnop"

struct fixture {
    char dir[64];
    char path[128];
    char url[160];
    atomic_llong now; /* microseconds */
    authkit_options opts;
    authkit_ctx *ctx;
};

static inline authkit_time fixture_clock(void *arg) {
    return (authkit_time)atomic_load(&((struct fixture *)arg)->now);
}

static inline void fixture_advance(struct fixture *f, long long seconds) {
    atomic_fetch_add(&f->now, seconds * 1000000LL);
}

/* Fills options for a temp database, cost 4, fixed clock, no cleanup thread. */
static inline void fixture_options(struct fixture *f) {
    snprintf(f->dir, sizeof f->dir, "/tmp/authkit-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        perror("mkdtemp");
        exit(99);
    }
    snprintf(f->path, sizeof f->path, "%s/test.db", f->dir);
    snprintf(f->url, sizeof f->url, "sqlite://%s", f->path);
    atomic_init(&f->now, 1800000000LL * 1000000LL); /* 2027-01-15 */
    authkit_options_init(&f->opts);
    f->opts.database_url = f->url;
    f->opts.session_secret = TEST_SECRET;
    f->opts.bcrypt_cost = 4;
    f->opts.cleanup_interval_ms = 0;
    f->opts.clock = fixture_clock;
    f->opts.clock_arg = f;
}

static inline void fixture_open(struct fixture *f) {
    authkit_error err;
    if (authkit_open(&f->opts, &f->ctx, &err) != AUTHKIT_OK) {
        fprintf(stderr, "authkit_open: %s\n", err.message);
        exit(99);
    }
}

static inline void fixture_setup(struct fixture *f) {
    fixture_options(f);
    fixture_open(f);
}

static inline void fixture_teardown(struct fixture *f) {
    authkit_close(f->ctx);
    f->ctx = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
}

/* Runs a one-number query (e.g. a count) on the fixture's database file through a separate
 * read-only connection; -1 if it fails. Lets tests check what is really stored. */
static inline long long fixture_query_int(const struct fixture *f, const char *sql) {
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

/* Creates an active user with a password; exits on failure. */
static inline authkit_user fixture_user(struct fixture *f, const char *username,
                                        const char *password) {
    char email[128];
    snprintf(email, sizeof email, "%s@example.com", username);
    authkit_user u;
    authkit_error err;
    authkit_user_new in = {.email = email,
                           .username = username,
                           .password = password,
                           .password_len = password ? strlen(password) : 0};
    if (authkit_user_create(f->ctx, &in, &u, &err) != AUTHKIT_OK) {
        fprintf(stderr, "fixture_user(%s): %s\n", username, err.message);
        exit(99);
    }
    return u;
}

#endif
