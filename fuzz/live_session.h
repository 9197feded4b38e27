/* For the fuzz targets that need a real context: a live session to aim at, and marks in
 * the input that stand for its token, so that the fuzzer can reach the accepting paths
 * without guessing 256 random bits. */
#ifndef AUTHKIT_FUZZ_LIVE_SESSION_H
#define AUTHKIT_FUZZ_LIVE_SESSION_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authkit.h"

struct live {
    authkit_ctx *ctx;
    authkit_login_result login; /* the live session: its user, token and id */
};

/* 2025-11-29T09:53:20Z, so that nothing expires during a run. */
static inline authkit_time live_clock(void *arg) {
    (void)arg;
    return (authkit_time)1764410000 * 1000000;
}

/* Opens a context on SQLite in memory (fixed clock, no cleanup thread) with one user and
 * one session, stored or signed. Exits on failure: nothing can be fuzzed then. */
static inline void live_open(struct live *l, bool storage) {
    authkit_options o;
    authkit_options_init(&o);
    o.database_url = "sqlite::memory:";
    o.session_secret = "fuzz-secret-for-authkit-0123456789abcdef";
    o.bcrypt_cost = 4;
    o.cleanup_interval_ms = 0;
    o.enable_session_storage = storage;
    o.clock = live_clock;
    authkit_error err;
    authkit_user user;
    authkit_user_new in = {.email = "fuzz@example.com", .username = "fuzz"};
    if (authkit_open(&o, &l->ctx, &err) != AUTHKIT_OK ||
        authkit_user_create(l->ctx, &in, &user, &err) != AUTHKIT_OK ||
        authkit_session_create(l->ctx, user.id, NULL, &l->login, &err) != AUTHKIT_OK) {
        fprintf(stderr, "fuzz: cannot set up a live session: %s\n", err.message);
        exit(1);
    }
}

struct live_mark {
    const char *mark;  /* e.g. "{{token}}" */
    const char *token; /* what it stands for */
};

/* The length of the mark at `p` (`left` bytes on), or 0; `*with` gets its token. */
static inline size_t live_mark_at(const uint8_t *p, size_t left, const struct live_mark *marks,
                                  size_t n_marks, const char **with) {
    for (size_t k = 0; k < n_marks; k++) {
        size_t m = strlen(marks[k].mark);
        if (left >= m && memcmp(p, marks[k].mark, m) == 0) {
            *with = marks[k].token;
            return m;
        }
    }
    return 0;
}

/* The input with every mark replaced by its token, in an allocation of exactly `*len` + 1
 * bytes (a NUL follows), so that a read past it is caught. Free with free(). */
static inline char *live_substitute(const uint8_t *data, size_t size, const struct live_mark *marks,
                                    size_t n_marks, size_t *len) {
    size_t n = 0;
    const char *with;
    for (size_t i = 0; i < size;) {
        size_t m = live_mark_at(data + i, size - i, marks, n_marks, &with);
        n += m ? strlen(with) : 1;
        i += m ? m : 1;
    }
    char *out = malloc(n + 1), *w = out;
    if (!out)
        abort();
    for (size_t i = 0; i < size;) {
        size_t m = live_mark_at(data + i, size - i, marks, n_marks, &with);
        if (m) {
            memcpy(w, with, strlen(with));
            w += strlen(with);
            i += m;
        } else {
            *w++ = (char)data[i++];
        }
    }
    *w = '\0';
    *len = n;
    return out;
}

#endif
