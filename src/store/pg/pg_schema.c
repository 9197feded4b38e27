/* The PostgreSQL schema as numbered migrations, recorded in authkit_schema_migrations (one
 * row per applied version). Every missing migration is applied in one transaction under
 * an advisory lock, so that several nodes starting at once take turns and the later ones
 * find the work done; a fresh database and an old one end in the same schema.
 * Append new migrations; never edit a released one.
 *
 * Types and why:
 * - ids are uuid (16 bytes, canonical lower-case text out, the same order as the text).
 * - times are bigint microseconds since the epoch, exactly the port's authkit_time: every
 *   value round-trips bit for bit, comparisons (expiry: expires_at > now) are the same
 *   integer comparisons SQLite makes, no conversion costs anything on the hot path, and
 *   nothing depends on the server's TimeZone or DateStyle. timestamptz holds the same
 *   microseconds but cannot take every int64 the port may pass, and getting them in and
 *   out exactly takes arithmetic on every row. For a human: to_timestamp(expires_at / 1e6).
 * - token digests are bytea, exactly 32 bytes (a CHECK says so); the token is never stored.
 * - email and username are text COLLATE "C": byte order and byte equality, and lower() on
 *   them folds ASCII letters only, whatever the database's locale, which is the case rule
 *   of the port (and of SQLite's NOCASE and LIKE). Username uniqueness without regard to
 *   case is a unique index on lower(username); no extension (citext) is needed.
 * - Constraints are named so that a unique violation maps to the port's field by name
 *   (authkit__pg_constraint_field). */
#include "store/pg/pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/error.h"

/* "authkit1" in ASCII as a big-endian int64: the key of the advisory lock that
 * serialises migrations of one database. */
#define MIGRATION_LOCK_KEY "7022647185781650481"

static const char *const migrations[] = {
    /* 1: users and sessions. */
    "CREATE TABLE users ("
    " id uuid NOT NULL,"
    " email text COLLATE \"C\" NOT NULL," /* stored trimmed and lower-cased */
    " username text COLLATE \"C\" NOT NULL,"
    " password_hash text NULL," /* NULL: no password, the user cannot log in with one */
    " is_active boolean NOT NULL DEFAULT true,"
    " global_role text NOT NULL DEFAULT 'user',"
    " password_changed_at bigint NULL,"
    " sessions_valid_after bigint NOT NULL DEFAULT 0,"
    " created_at bigint NOT NULL,"
    " updated_at bigint NOT NULL,"
    " CONSTRAINT users_pkey PRIMARY KEY (id),"
    " CONSTRAINT users_email_key UNIQUE (email)"
    ");"
    "CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));"
    "CREATE INDEX users_created_at ON users (created_at, id);"
    "CREATE TABLE auth_sessions ("
    " id uuid NOT NULL,"
    " user_id uuid NOT NULL,"
    " token_hash bytea NOT NULL," /* SHA-256 of the token */
    " created_at bigint NOT NULL,"
    " expires_at bigint NOT NULL,"
    " last_seen_at bigint NOT NULL,"
    " ip text NULL,"
    " user_agent text NULL,"
    " CONSTRAINT auth_sessions_pkey PRIMARY KEY (id),"
    " CONSTRAINT auth_sessions_token_hash_key UNIQUE (token_hash),"
    " CONSTRAINT auth_sessions_token_hash_length CHECK (octet_length(token_hash) = 32),"
    " CONSTRAINT auth_sessions_user_id_fkey FOREIGN KEY (user_id)"
    "  REFERENCES users (id) ON DELETE CASCADE"
    ");"
    "CREATE INDEX auth_sessions_user_id ON auth_sessions (user_id);"
    "CREATE INDEX auth_sessions_expires_at ON auth_sessions (expires_at);",
    /* 2: login throttling counters, named by a keyed digest (store/throttle_rule.h). */
    "CREATE TABLE login_throttle ("
    " key bytea NOT NULL,"
    " attempts bigint NOT NULL,"
    " blocked_until bigint NOT NULL,"
    " updated_at bigint NOT NULL,"
    " CONSTRAINT login_throttle_pkey PRIMARY KEY (key),"
    " CONSTRAINT login_throttle_key_length CHECK (octet_length(key) = 32)"
    ");"
    "CREATE INDEX login_throttle_updated_at ON login_throttle (updated_at);",
    /* 3: the audit trail. No foreign key: rows outlive their user. `at` is the event's
     * time; the identity `id` orders rows of the same microsecond. */
    "CREATE TABLE audit_log ("
    " id bigint GENERATED ALWAYS AS IDENTITY,"
    " at bigint NOT NULL,"
    " event text NOT NULL,"
    " outcome text NOT NULL,"
    " user_id uuid NULL,"
    " session_id uuid NULL,"
    " login text NULL,"      /* only a name that names a user */
    " login_hash text NULL," /* keyed hash of the name typed */
    " ip text NULL,"
    " count bigint NOT NULL DEFAULT 0,"
    " CONSTRAINT audit_log_pkey PRIMARY KEY (id)"
    ");"
    "CREATE INDEX audit_log_at ON audit_log (at, id);"
    "CREATE INDEX audit_log_user_at ON audit_log (user_id, at, id);",
    /* 4: the owner must choose a new password before logging in again (an operator's
     * answer to evidence that the password is known to others; checklist 17). */
    "ALTER TABLE users ADD COLUMN password_change_required boolean NOT NULL DEFAULT false;",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == AUTHKIT__PG_SCHEMA_VERSION,
               "one migration per schema version");

const char *authkit__pg_constraint_field(const char *constraint) {
    static const struct {
        const char *constraint, *field;
    } map[] = {
        {"users_pkey", "id"},
        {"users_email_key", "email"},
        {"users_username_lower_key", "username"},
        {"auth_sessions_pkey", "id"},
        {"auth_sessions_token_hash_key", "token_digest"},
    };
    for (size_t i = 0; constraint && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(constraint, map[i].constraint) == 0)
            return map[i].field;
    return NULL;
}

/* Runs schema SQL. Migrations may wait for the advisory lock while another node migrates
 * and may rebuild big tables, hence their own, long timeout. */
static authkit_status run(PGconn *pg, const char *sql, const char *what, authkit_error *err) {
    return authkit__pg_run(pg, sql, AUTHKIT__PG_MIGRATION_TIMEOUT_MS, what, NULL, err);
}

/* Runs a one-row, one-column query and reads the value as an integer. */
static authkit_status query_int(PGconn *pg, const char *sql, long long *out, authkit_error *err) {
    PGresult *res = NULL;
    authkit_status st =
        authkit__pg_run(pg, sql, AUTHKIT__PG_MIGRATION_TIMEOUT_MS, "schema version", &res, err);
    if (st == AUTHKIT_OK && (PQntuples(res) != 1 || PQnfields(res) != 1))
        st = authkit__fail(err, AUTHKIT_STORE, NULL, "postgresql schema version: no answer");
    else if (st == AUTHKIT_OK)
        *out = PQgetisnull(res, 0, 0) ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return st;
}

/* The version recorded in the database: 0 when authkit never ran there. Reads only, so
 * a role without CREATE rights opens an up-to-date database. */
static authkit_status schema_version(PGconn *pg, long long *version, authkit_error *err) {
    long long exists = 0;
    *version = 0;
    authkit_status st = query_int(
        pg, "SELECT (to_regclass('authkit_schema_migrations') IS NOT NULL)::int", &exists, err);
    if (st == AUTHKIT_OK && exists)
        st = query_int(pg, "SELECT coalesce(max(version), 0) FROM authkit_schema_migrations",
                       version, err);
    return st;
}

static authkit_status too_new(const char *where, long long version, authkit_error *err) {
    return authkit__fail(err, AUTHKIT_STORE, NULL,
                         "PostgreSQL database (%s) has schema version %lld, but this authkit "
                         "knows versions up to %d: it was written by a newer authkit",
                         where, version, AUTHKIT__PG_SCHEMA_VERSION);
}

/* Applies migrations after `version` up to the current one, inside the caller's
 * transaction. */
static authkit_status apply(PGconn *pg, long long version, authkit_error *err) {
    authkit_status st = AUTHKIT_OK;
    for (long long v = version; st == AUTHKIT_OK && v < AUTHKIT__PG_SCHEMA_VERSION; v++) {
        /* The version is a number from this file, not input: formatting it is safe. */
        char record[96];
        snprintf(record, sizeof record,
                 "INSERT INTO authkit_schema_migrations (version) VALUES (%lld)", v + 1);
        st = run(pg, migrations[v], "migration", err);
        if (st == AUTHKIT_OK)
            st = run(pg, record, "migration", err);
    }
    return st;
}

authkit_status authkit__pg_migrate(PGconn *pg, const char *where, authkit_error *err) {
    long long version = 0;
    /* Without a lock first: the usual case, an up-to-date schema, needs no lock and no
     * DDL rights. */
    authkit_status st = schema_version(pg, &version, err);
    if (st == AUTHKIT_OK && version > AUTHKIT__PG_SCHEMA_VERSION)
        return too_new(where, version, err);
    if (st != AUTHKIT_OK || version == AUTHKIT__PG_SCHEMA_VERSION)
        return st;

    /* The transaction-scoped lock ends with COMMIT or ROLLBACK, also if the connection
     * dies; the version is read again under it, since another node may have migrated
     * while this one waited. */
    st = run(pg, "BEGIN", "migration", err);
    if (st == AUTHKIT_OK)
        st = run(pg, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")", "migration lock", err);
    if (st == AUTHKIT_OK)
        st = run(pg,
                 "CREATE TABLE IF NOT EXISTS authkit_schema_migrations ("
                 " version integer PRIMARY KEY,"
                 " applied_at timestamptz NOT NULL DEFAULT now())",
                 "migration", err);
    if (st == AUTHKIT_OK)
        st = schema_version(pg, &version, err);
    bool newer = st == AUTHKIT_OK && version > AUTHKIT__PG_SCHEMA_VERSION;
    if (newer)
        st = too_new(where, version, err);
    if (st == AUTHKIT_OK)
        st = apply(pg, version, err);
    if (st == AUTHKIT_OK)
        st = run(pg, "COMMIT", "migration", err);
    if (st != AUTHKIT_OK) {
        if (PQtransactionStatus(pg) != PQTRANS_IDLE)
            (void)run(pg, "ROLLBACK", "rollback", NULL);
        if (err && st == AUTHKIT_STORE && !newer) {
            char why[sizeof err->message];
            authkit__strlcpy(why, err->message, sizeof why);
            authkit__fail(err, AUTHKIT_STORE, NULL, "cannot migrate PostgreSQL database (%s): %s",
                          where, why);
        }
    }
    return st;
}
