/* Options, opening and closing: every bad option fails with its name, bad databases fail
 * with the path and the reason, data survives a reopen, the cleanup thread runs. */
#include <time.h>

#include "check.h"
#include "fixture.h"

static struct fixture f;

static void test_defaults(void) {
    authkit_options o;
    authkit_options_init(&o);
    CHECK_INT(o.size, sizeof o);
    CHECK_STR(o.database_url, "sqlite://./authkit.db");
    CHECK(o.session_secret == NULL);
    CHECK_INT(o.session_timeout_minutes, 30);
    CHECK(o.enable_session_storage);
    CHECK_INT(o.password_min_length, 8);
    CHECK_INT(o.bcrypt_cost, 12);
    CHECK_INT(o.cleanup_interval_ms, 600000);
    CHECK_INT(o.cleanup_batch_size, 1000);
    CHECK(o.clock == NULL);
    CHECK_STR(o.service_name, "authkit");
    authkit_options_init(NULL); /* no crash */
}

/* The default README.md's configuration table gives `name`, or NULL when the table has no
 * row for it. Rows read: | `name` | default | meaning |  (quotes and backticks dropped). */
static const char *documented_default(const char *name, char *out, size_t size) {
    char path[512];
    snprintf(path, sizeof path, "%s/README.md", AUTHKIT_SOURCE_DIR);
    FILE *fp = fopen(path, "r");
    CHECK_MSG(fp != NULL, "cannot open %s", path);
    const char *found = NULL;
    char line[1024], key[64], value[128];
    while (fp && !found && fgets(line, sizeof line, fp)) {
        if (sscanf(line, "| `%63[a-z_]`%*[^|]| %127[^|]|", key, value) != 2 ||
            strcmp(key, name) != 0)
            continue;
        char *v = value, *end = value + strlen(value);
        while (end > v && strchr(" `\"", end[-1]))
            *--end = '\0';
        v += strspn(v, "`\"");
        snprintf(out, size, "%s", v);
        found = out;
    }
    if (fp)
        fclose(fp);
    return found;
}

/* README.md's configuration table names every option with the default that
 * authkit_options_init() really sets (docs/SECURITY.md, checklist item 56). */
static void test_documented_defaults(void) {
    authkit_options o;
    authkit_options_init(&o);
    const struct {
        const char *name;
        int value;
    } numbers[] = {
        {"session_timeout_minutes", o.session_timeout_minutes},
        {"password_min_length", o.password_min_length},
        {"bcrypt_cost", o.bcrypt_cost},
        {"cleanup_interval_ms", o.cleanup_interval_ms},
        {"cleanup_batch_size", o.cleanup_batch_size},
        {"audit_retention_days", o.audit_retention_days},
        {"session_idle_timeout_minutes", o.session_idle_timeout_minutes},
        {"max_sessions_per_user", o.max_sessions_per_user},
        {"throttle_account_failures", o.throttle_account_failures},
        {"throttle_address_failures", o.throttle_address_failures},
        {"throttle_pair_failures", o.throttle_pair_failures},
        {"throttle_max_delay_seconds", o.throttle_max_delay_seconds},
    };
    const struct {
        const char *name, *value;
    } texts[] = {
        {"database_url", o.database_url},
        {"session_secret", o.session_secret ? "(set)" : "(required)"},
        {"enable_session_storage", o.enable_session_storage ? "true" : "false"},
        {"service_name", o.service_name},
        {"clock", o.clock ? "(set)" : "system clock"},
    };
    char doc[128], value[32];
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        snprintf(value, sizeof value, "%d", numbers[i].value);
        const char *d = documented_default(numbers[i].name, doc, sizeof doc);
        CHECK_MSG(d && strcmp(d, value) == 0, "README.md: %s defaults to %s, not %s",
                  numbers[i].name, value, d ? d : "(no row)");
    }
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *d = documented_default(texts[i].name, doc, sizeof doc);
        CHECK_MSG(d && strcmp(d, texts[i].value) == 0, "README.md: %s defaults to %s, not %s",
                  texts[i].name, texts[i].value, d ? d : "(no row)");
    }
}

static void test_bad_options(void) {
    static const char secret31[] = "0123456789012345678901234567890";
    static const char secret32[] = "01234567890123456789012345678901";
    struct {
        const char *field;
        const char *secret;
        int timeout, min_len, cost, interval, batch;
        const char *url;
        authkit_status expect;
    } rows[] = {
        {"session_secret", NULL, 30, 8, 4, 0, 1000, NULL, AUTHKIT_CONFIG},
        {"session_secret", "", 30, 8, 4, 0, 1000, NULL, AUTHKIT_CONFIG},
        {"session_secret", secret31, 30, 8, 4, 0, 1000, NULL, AUTHKIT_CONFIG},
        {"", secret32, 30, 8, 4, 0, 1000, NULL, AUTHKIT_OK},
        {"session_timeout_minutes", secret32, 0, 8, 4, 0, 1000, NULL, AUTHKIT_CONFIG},
        {"session_timeout_minutes", secret32, -1, 8, 4, 0, 1000, NULL, AUTHKIT_CONFIG},
        {"password_min_length", secret32, 30, 0, 4, 0, 1000, NULL, AUTHKIT_CONFIG},
        {"password_min_length", secret32, 30, 7, 4, 0, 1000, NULL, AUTHKIT_CONFIG},
        {"", secret32, 30, 72, 4, 0, 1000, NULL, AUTHKIT_OK},
        {"password_min_length", secret32, 30, 73, 4, 0, 1000, NULL, AUTHKIT_CONFIG},
        {"bcrypt_cost", secret32, 30, 8, 3, 0, 1000, NULL, AUTHKIT_CONFIG},
        {"bcrypt_cost", secret32, 30, 8, 32, 0, 1000, NULL, AUTHKIT_CONFIG},
        {"cleanup_interval_ms", secret32, 30, 8, 4, -1, 1000, NULL, AUTHKIT_CONFIG},
        {"cleanup_batch_size", secret32, 30, 8, 4, 0, 0, NULL, AUTHKIT_CONFIG},
        {"database_url", secret32, 30, 8, 4, 0, 1000, "mysql://localhost/x", AUTHKIT_CONFIG},
        {"database_url", secret32, 30, 8, 4, 0, 1000, "", AUTHKIT_CONFIG},
        {"database_url", secret32, 30, 8, 4, 0, 1000, "sqlite://", AUTHKIT_CONFIG},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        authkit_options o = f.opts;
        o.session_secret = rows[i].secret;
        o.session_timeout_minutes = rows[i].timeout;
        o.password_min_length = rows[i].min_len;
        o.bcrypt_cost = rows[i].cost;
        o.cleanup_interval_ms = rows[i].interval;
        o.cleanup_batch_size = rows[i].batch;
        if (rows[i].url)
            o.database_url = rows[i].url;
        authkit_ctx *ctx = (authkit_ctx *)&o; /* must be overwritten */
        authkit_error err;
        authkit_status st = authkit_open(&o, &ctx, &err);
        CHECK_MSG(st == rows[i].expect, "row %zu: %s (%s)", i, authkit_status_name(st),
                  err.message);
        CHECK_MSG(strcmp(err.field, rows[i].field) == 0, "row %zu: field '%s'", i, err.field);
        if (st != AUTHKIT_OK) {
            CHECK_MSG(ctx == NULL, "row %zu: handle not cleared", i);
            CHECK_MSG(strstr(err.message, rows[i].field) != NULL, "row %zu: message '%s'", i,
                      err.message);
            /* The secret is never echoed. */
            CHECK_MSG(!rows[i].secret || !*rows[i].secret ||
                          strstr(err.message, rows[i].secret) == NULL,
                      "row %zu", i);
        }
        authkit_close(ctx);
    }
    /* service_name: at most 100 bytes; NULL and "" are valid (no check). */
    static const char name101[] =
        "0123456789012345678901234567890123456789012345678901234567890123456789"
        "0123456789012345678901234567890";
    const char *names[] = {name101 + 1, name101, NULL, ""};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        authkit_options o = f.opts;
        o.service_name = names[i];
        authkit_ctx *ctx = NULL;
        authkit_error err;
        authkit_status st = authkit_open(&o, &ctx, &err);
        CHECK_MSG(st == (i == 1 ? AUTHKIT_CONFIG : AUTHKIT_OK), "service_name row %zu: %s", i,
                  authkit_status_name(st));
        if (i == 1)
            CHECK_MSG(strcmp(err.field, "service_name") == 0, "service_name row %zu", i);
        authkit_close(ctx);
    }
    authkit_options o = f.opts;
    o.size = 0; /* not filled by authkit_options_init */
    authkit_ctx *ctx;
    CHECK_STATUS(authkit_open(&o, &ctx, NULL), AUTHKIT_CONFIG);
    CHECK_STATUS(authkit_open(NULL, &ctx, NULL), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_open(&f.opts, NULL, NULL), AUTHKIT_INVALID_ARGUMENT);
    authkit_close(NULL);
}

static void test_bad_database(void) {
    char garbage[200], dirpath[200], missing[200];
    snprintf(garbage, sizeof garbage, "%s/garbage.db", f.dir);
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.db", f.dir);
    snprintf(dirpath, sizeof dirpath, "%s", f.dir);
    FILE *fp = fopen(garbage, "wb");
    for (int i = 0; i < 8192; i++)
        fputc((i * 7919) & 0xff, fp);
    fclose(fp);
    const char *paths[] = {garbage, missing, dirpath};
    for (size_t i = 0; i < 3; i++) {
        char url[256];
        snprintf(url, sizeof url, "sqlite://%s", paths[i]);
        authkit_options o = f.opts;
        o.database_url = url;
        authkit_ctx *ctx;
        authkit_error err;
        authkit_status st = authkit_open(&o, &ctx, &err);
        CHECK_MSG(st == AUTHKIT_STORE, "row %zu: %s", i, authkit_status_name(st));
        CHECK_MSG(strstr(err.message, paths[i]) != NULL, "row %zu: message '%s'", i, err.message);
        CHECK_MSG(ctx == NULL, "row %zu", i);
    }
}

static void test_reopen(void) {
    fixture_open(&f);
    authkit_user u = fixture_user(&f, "persist", "a fine password");
    authkit_login_result r;
    CHECK_OK(authkit_authenticate(f.ctx, "persist", "a fine password", 15, NULL, &r, NULL));
    authkit_close(f.ctx);
    fixture_open(&f);
    authkit_user again;
    CHECK_OK(authkit_user_get_by_email(f.ctx, "persist@example.com", &again, NULL));
    CHECK_STR(again.id, u.id);
    CHECK_INT(again.created_at, u.created_at);
    authkit_user who;
    CHECK_OK(authkit_session_validate(f.ctx, r.token, &who, NULL, NULL));
    CHECK_STR(who.id, u.id);
    authkit_close(f.ctx);
    f.ctx = NULL;
}

/* The cleanup thread deletes expired rows without anyone asking. It runs every 10 ms;
 * the test waits for its effect (bounded), it does not sleep to make time pass. */
static void test_cleanup_thread(void) {
    authkit_options saved = f.opts;
    f.opts.cleanup_interval_ms = 10;
    fixture_open(&f);
    authkit_user u;
    CHECK_OK(authkit_user_get_by_username(f.ctx, "persist", &u, NULL));
    authkit_login_result r;
    for (int i = 0; i < 3; i++)
        CHECK_OK(authkit_session_create(f.ctx, u.id, NULL, &r, NULL));
    long long before = fixture_query_int(&f, "SELECT count(*) FROM auth_sessions");
    CHECK(before >= 3);
    fixture_advance(&f, 31 * 60);
    long long rows = before;
    for (int i = 0; i < 500 && rows != 0; i++) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
        rows = fixture_query_int(&f, "SELECT count(*) FROM auth_sessions");
    }
    CHECK_INT(rows, 0);
    authkit_close(f.ctx);
    f.ctx = NULL;
    f.opts = saved;
}

int main(void) {
    fixture_options(&f);
    test_defaults();
    test_documented_defaults();
    test_bad_options();
    test_bad_database();
    test_reopen();
    test_cleanup_thread();
    fixture_teardown(&f);
    return check_done("context");
}
