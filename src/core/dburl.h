/* Database URLs (authkit_options.database_url): which store adapter opens what. A parser
 * of configuration text, fuzzed (fuzz/fuzz_dburl.c). Safe from any thread. */
#ifndef AUTHKIT_CORE_DBURL_H
#define AUTHKIT_CORE_DBURL_H

#include "authkit/status.h"
#include "store/store.h"

/* Picks the adapter from the scheme of the NUL-terminated `url`:
 *   "sqlite::memory:"                   SQLite, location ":memory:" (a static string)
 *   "sqlite://PATH", PATH not empty      SQLite, location PATH (the rest of `url`)
 *   "postgresql://..." or "postgres://..."  PostgreSQL, location `url` itself, which libpq
 *                                        reads (user, password, host, port, database,
 *                                        options such as sslmode or host=/socket/dir)
 * Schemes are matched case-sensitively. AUTHKIT_OK with `*ops` and `*location` set (the
 * location points into `url` or is static: nothing to free); otherwise AUTHKIT_CONFIG
 * on field "database_url" with a message showing both accepted forms, and the outputs
 * untouched. */
authkit_status authkit__dburl_select(const char *url, const struct authkit_store_ops **ops,
                                     const char **location, authkit_error *err);

#endif
