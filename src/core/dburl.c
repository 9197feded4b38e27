#include "core/dburl.h"

#include <string.h>

#include "core/error.h"

authkit_status authkit__dburl_select(const char *url, const struct authkit_store_ops **ops,
                                     const char **location, authkit_error *err) {
    static const char sqlite_scheme[] = "sqlite://";
    static const char *const pg_schemes[] = {"postgresql://", "postgres://"};
    if (strcmp(url, "sqlite::memory:") == 0) {
        *ops = &authkit__store_sqlite;
        *location = ":memory:";
        return AUTHKIT_OK;
    }
    /* "sqlite://" alone would hand SQLite an empty path, which it opens as a private
     * temporary database per connection: a pool of strangers. */
    if (strncmp(url, sqlite_scheme, sizeof sqlite_scheme - 1) == 0 &&
        url[sizeof sqlite_scheme - 1]) {
        *ops = &authkit__store_sqlite;
        *location = url + sizeof sqlite_scheme - 1;
        return AUTHKIT_OK;
    }
    /* libpq parses the rest itself, so there is one reading of it, not two that might
     * disagree. */
    for (size_t i = 0; i < sizeof pg_schemes / sizeof pg_schemes[0]; i++) {
        if (strncmp(url, pg_schemes[i], strlen(pg_schemes[i])) == 0) {
            *ops = &authkit__store_pg;
            *location = url;
            return AUTHKIT_OK;
        }
    }
    return authkit__fail(err, AUTHKIT_CONFIG, "database_url",
                         "database_url must start with sqlite:// (e.g. sqlite://./authkit.db) "
                         "or postgresql:// (e.g. postgresql://user@host/db)");
}
