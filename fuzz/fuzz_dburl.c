/* libFuzzer target for database URLs (authkit__dburl_select, src/core/dburl.c): the input,
 * as a C string, is authkit_options.database_url.
 *
 * Checks:
 *   - the answer is the one the documented forms give (sqlite::memory:, sqlite://PATH with
 *     PATH not empty, postgresql:// or postgres://), and a refusal is AUTHKIT_CONFIG on
 *     field database_url with a message, outputs untouched;
 *   - an accepted URL round-trips: the URL written back from the adapter and location
 *     ("sqlite://" + PATH, or the PostgreSQL URL itself) selects the same adapter and the
 *     same location;
 *   - a SQLite location is the rest of the URL (or ":memory:"), a PostgreSQL one the URL;
 *   - libpq's own reading of a PostgreSQL URL (PQconninfoParse, what the adapter's
 *     connect runs first) does not fail in a way the sanitizers see. */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dburl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *url) {
    fprintf(stderr, "fuzz_dburl: %s (url \"%s\")\n", what, url);
    abort();
}

static bool starts(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The adapter the documentation promises for `url`, or NULL. */
static const struct authkit_store_ops *model(const char *url) {
    if (strcmp(url, "sqlite::memory:") == 0 || (starts(url, "sqlite://") && url[9]))
        return &authkit__store_sqlite;
    if (starts(url, "postgresql://") || starts(url, "postgres://"))
        return &authkit__store_pg;
    return NULL;
}

static void check_round_trip(const struct authkit_store_ops *ops, const char *location,
                             const char *url) {
    size_t n = strlen(location) + sizeof "sqlite://";
    char *again = malloc(n);
    if (!again)
        abort();
    snprintf(again, n, "%s%s", ops == &authkit__store_sqlite ? "sqlite://" : "", location);
    const struct authkit_store_ops *ops2 = NULL;
    const char *location2 = NULL;
    authkit_error err;
    if (authkit__dburl_select(again, &ops2, &location2, &err) != AUTHKIT_OK)
        fail("the URL written back is refused", url);
    if (ops2 != ops || strcmp(location2, location) != 0)
        fail("the URL written back selects something else", url);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    const struct authkit_store_ops *ops = NULL;
    const char *location = NULL;
    authkit_error err = {0};
    authkit_status st = authkit__dburl_select(url, &ops, &location, &err);
    const struct authkit_store_ops *want = model(url);
    if ((st == AUTHKIT_OK) != (want != NULL))
        fail("accepted or refused against the documented forms", url);
    if (st != AUTHKIT_OK) {
        if (st != AUTHKIT_CONFIG || err.status != AUTHKIT_CONFIG ||
            strcmp(err.field, "database_url") != 0 || !err.message[0])
            fail("a refusal that is not CONFIG on database_url", url);
        if (ops || location)
            fail("a refusal that sets the outputs", url);
        free(url);
        return 0;
    }
    if (ops != want)
        fail("the wrong adapter", url);
    if (ops == &authkit__store_sqlite) {
        bool memory = strcmp(url, "sqlite::memory:") == 0;
        if (memory ? strcmp(location, ":memory:") != 0 : location != url + 9)
            fail("the SQLite location is not the rest of the URL", url);
    } else if (location != url) {
        fail("the PostgreSQL location is not the URL", url);
    }
    check_round_trip(ops, location, url);
    if (ops == &authkit__store_pg) {
        char *why = NULL;
        PQconninfoOption *opts = PQconninfoParse(location, &why);
        PQconninfoFree(opts);
        PQfreemem(why);
    }
    free(url);
    return 0;
}
