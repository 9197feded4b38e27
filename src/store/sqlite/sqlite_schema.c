/* The SQLite schema as numbered migrations. Migration N takes a database from
 * user_version N-1 to N inside one transaction, so a fresh database and an old one end in
 * the same schema, and a failed migration leaves the previous version intact.
 * Append new migrations; never edit a released one. */
#include "store/sqlite/sqlite_internal.h"

#include <stdio.h>

#include "core/error.h"

/* Times are INTEGER microseconds since the epoch. STRICT makes SQLite refuse values of the
 * wrong type instead of storing them silently. */
static const char *const migrations[] = {
    /* 1: users and sessions. */
    "CREATE TABLE users ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " email TEXT NOT NULL UNIQUE,"
    " username TEXT NOT NULL COLLATE NOCASE UNIQUE,"
    " password_hash TEXT NULL," /* NULL: no password, the user cannot log in with one */
    " is_active INTEGER NOT NULL DEFAULT 1,"
    " global_role TEXT NOT NULL DEFAULT 'user',"
    " password_changed_at INTEGER NULL,"
    " sessions_valid_after INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX users_created_at ON users (created_at, id);"
    "CREATE TABLE auth_sessions ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    /* SHA-256 of the token; the token itself is never stored. */
    " token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
    " created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL,"
    " last_seen_at INTEGER NOT NULL,"
    " ip TEXT NULL,"
    " user_agent TEXT NULL"
    ") STRICT;"
    "CREATE INDEX auth_sessions_user_id ON auth_sessions (user_id);"
    "CREATE INDEX auth_sessions_expires_at ON auth_sessions (expires_at);",
    /* 2: login throttling counters, named by a keyed digest (store/throttle_rule.h). */
    "CREATE TABLE login_throttle ("
    " key BLOB PRIMARY KEY NOT NULL CHECK (length(key) = 32),"
    " attempts INTEGER NOT NULL,"
    " blocked_until INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX login_throttle_updated_at ON login_throttle (updated_at);",
    /* 3: the audit trail. No foreign key: rows outlive their user. `at` is the event's
     * time; the rowid `id` orders rows of the same microsecond. */
    "CREATE TABLE audit_log ("
    " id INTEGER PRIMARY KEY,"
    " at INTEGER NOT NULL,"
    " event TEXT NOT NULL,"
    " outcome TEXT NOT NULL,"
    " user_id TEXT NULL,"
    " session_id TEXT NULL,"
    " login TEXT NULL,"      /* only a name that names a user */
    " login_hash TEXT NULL," /* keyed hash of the name typed */
    " ip TEXT NULL,"
    " count INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "CREATE INDEX audit_log_at ON audit_log (at);"
    "CREATE INDEX audit_log_user_at ON audit_log (user_id, at);",
    /* 4: the owner must choose a new password before logging in again (an operator's
     * answer to evidence that the password is known to others; checklist 17). */
    "ALTER TABLE users ADD COLUMN password_change_required INTEGER NOT NULL DEFAULT 0;",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == AUTHKIT__SQLITE_SCHEMA_VERSION,
               "one migration per schema version");

static int user_version(sqlite3 *db, int *version) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *version = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static authkit_status fail(sqlite3 *db, const char *path, authkit_error *err) {
    authkit_status st = authkit__fail(
        err, AUTHKIT_STORE, NULL, "cannot migrate database \"%s\": %s", path, sqlite3_errmsg(db));
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* Applies the migration after `version`, or does nothing when another process did it
 * first; `*now` gets the version after the transaction. */
static authkit_status migrate_step(sqlite3 *db, const char *path, int *now, authkit_error *err) {
    /* IMMEDIATE: two processes opening an old database at once take turns; the second
     * then sees the new version and does nothing. */
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, path, err);
    int version = 0;
    if (user_version(db, &version) != SQLITE_OK)
        return fail(db, path, err);
    if (version >= 0 && version < AUTHKIT__SQLITE_SCHEMA_VERSION) {
        /* The version is a number from this file, not input: formatting it is safe. */
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", version + 1);
        if (sqlite3_exec(db, migrations[version], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, bump, NULL, NULL, NULL) != SQLITE_OK)
            return fail(db, path, err);
        version++;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, path, err);
    *now = version;
    return AUTHKIT_OK;
}

authkit_status authkit__sqlite_migrate(sqlite3 *db, const char *path, authkit_error *err) {
    int version = 0;
    /* A first read without a lock: the usual case, an up-to-date schema, costs no write
     * lock. It is also the first read of the file, which refuses one that is not a
     * database ("file is not a database"). */
    if (user_version(db, &version) != SQLITE_OK)
        return authkit__fail(err, AUTHKIT_STORE, NULL, "cannot open database \"%s\": %s", path,
                             sqlite3_errmsg(db));
    while (version >= 0 && version < AUTHKIT__SQLITE_SCHEMA_VERSION) {
        authkit_status st = migrate_step(db, path, &version, err);
        if (st != AUTHKIT_OK)
            return st;
    }
    if (version != AUTHKIT__SQLITE_SCHEMA_VERSION)
        return authkit__fail(err, AUTHKIT_STORE, NULL,
                             "database \"%s\" has schema version %d, but this authkit knows "
                             "versions up to %d: it was written by a newer authkit",
                             path, version, AUTHKIT__SQLITE_SCHEMA_VERSION);
    return AUTHKIT_OK;
}
