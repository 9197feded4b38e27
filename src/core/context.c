#include "core/ctx.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "core/dburl.h"
#include "core/error.h"
#include "password/bcrypt.h"
#include "session/cache.h"

#define SECRET_MIN_CHARS 32
/* ASVS 5.0 6.2.1 (level 1) asks for at least 8 characters. */
#define PASSWORD_MIN_FLOOR   8
#define SERVICE_NAME_MAX_LEN 100

void authkit_options_init(authkit_options *opts) {
    if (!opts)
        return;
    *opts = (authkit_options){
        .size = sizeof *opts,
        .database_url = "sqlite://./authkit.db",
        .session_secret = NULL,
        .session_timeout_minutes = 30,
        .enable_session_storage = true,
        .password_min_length = 8,
        .bcrypt_cost = AUTHKIT_BCRYPT_COST_DEFAULT,
        .cleanup_interval_ms = 600000,
        .cleanup_batch_size = 1000,
        .throttle_account_failures = 10,
        .throttle_address_failures = 100,
        .throttle_pair_failures = 5,
        .throttle_max_delay_seconds = 3600,
        .audit_retention_days = 90,
        .service_name = "authkit",
    };
}

bool authkit__ctx_ok(const authkit_ctx *ctx) {
    return ctx && ctx->magic == AUTHKIT_CTX_MAGIC;
}

static authkit_time system_clock(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (authkit_time)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

authkit_time authkit_now(const authkit_ctx *ctx) {
    if (authkit__ctx_ok(ctx) && ctx->opts.clock)
        return ctx->opts.clock(ctx->opts.clock_arg);
    return system_clock();
}

void authkit__publish(authkit_ctx *ctx, authkit_event *ev) {
    authkit__bus_publish(&ctx->bus, ev, authkit_now(ctx));
}

void authkit__sessions_changed(authkit_ctx *ctx) {
    if (ctx->vcache)
        authkit__vcache_changed(ctx->vcache);
}

static authkit_status check_range(authkit_error *err, const char *field, int value, int lo,
                                  int hi) {
    if (value < lo || value > hi)
        return authkit__fail(err, AUTHKIT_CONFIG, field, "%s must be between %d and %d (got %d)",
                             field, lo, hi, value);
    return AUTHKIT_OK;
}

static authkit_status check_options(const authkit_options *o, authkit_error *err) {
    if (o->size != sizeof *o)
        return authkit__fail(err, AUTHKIT_CONFIG, "size",
                             "options were not filled by authkit_options_init()");
    if (!o->session_secret || strlen(o->session_secret) < SECRET_MIN_CHARS)
        return authkit__fail(err, AUTHKIT_CONFIG, "session_secret",
                             "session_secret must be at least %d characters", SECRET_MIN_CHARS);
    if (!o->database_url || !*o->database_url)
        return authkit__fail(err, AUTHKIT_CONFIG, "database_url", "database_url is required");
    authkit_status st;
    if ((st = check_range(err, "session_timeout_minutes", o->session_timeout_minutes, 1, 525600)) ||
        (st = check_range(err, "password_min_length", o->password_min_length, PASSWORD_MIN_FLOOR,
                          AUTHKIT_PASSWORD_MAX_BYTES)) ||
        (st = check_range(err, "bcrypt_cost", o->bcrypt_cost, AUTHKIT_BCRYPT_COST_MIN,
                          AUTHKIT_BCRYPT_COST_MAX)) ||
        (st = check_range(err, "cleanup_interval_ms", o->cleanup_interval_ms, 0, 86400000)) ||
        (st = check_range(err, "cleanup_batch_size", o->cleanup_batch_size, 1, 100000)) ||
        (st = check_range(err, "throttle_account_failures", o->throttle_account_failures, 0,
                          100000)) ||
        (st = check_range(err, "throttle_address_failures", o->throttle_address_failures, 0,
                          100000)) ||
        (st = check_range(err, "throttle_pair_failures", o->throttle_pair_failures, 0, 100000)) ||
        (st = check_range(err, "throttle_max_delay_seconds", o->throttle_max_delay_seconds, 1,
                          86400)) ||
        (st = check_range(err, "session_idle_timeout_minutes", o->session_idle_timeout_minutes, 0,
                          525600)) ||
        (st = check_range(err, "max_sessions_per_user", o->max_sessions_per_user, 0, 100000)) ||
        (st = check_range(err, "audit_retention_days", o->audit_retention_days, 0,
                          AUTHKIT_AUDIT_RETENTION_MAX_DAYS)))
        return st;
    if (o->service_name && strlen(o->service_name) > SERVICE_NAME_MAX_LEN)
        return authkit__fail(err, AUTHKIT_CONFIG, "service_name",
                             "service_name must be at most %d bytes", SERVICE_NAME_MAX_LEN);
    return AUTHKIT_OK;
}

/* HMAC-SHA-256(secret, label): a key of its own for one purpose, so that no token or
 * name made for one purpose can stand for another. */
static void derive_key(const char *secret, size_t len, const char *label, uint8_t out[32]) {
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, strlen(label));
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

static char *secret_dup(const char *s, size_t len) {
    char *copy = sodium_malloc(len + 1);
    if (copy)
        memcpy(copy, s, len + 1);
    return copy;
}

authkit_status authkit_open(const authkit_options *opts, authkit_ctx **out, authkit_error *err) {
    if (out)
        *out = NULL;
    if (!opts || !out)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    authkit_status st = check_options(opts, err);
    if (st != AUTHKIT_OK)
        return st;
    if (sodium_init() < 0)
        return authkit__fail(err, AUTHKIT_CRYPTO, NULL, "libsodium could not be initialised");

    const struct authkit_store_ops *ops = NULL;
    const char *location = NULL;
    if ((st = authkit__dburl_select(opts->database_url, &ops, &location, err)) != AUTHKIT_OK)
        return st;
    /* Before the store is opened and before any password is hashed or checked: a
     * libxcrypt that gives wrong answers (a corrupted table, a bad build) would write
     * hashes no other build verifies, or accept wrong passwords. */
    if ((st = authkit__bcrypt_selftest(err)) != AUTHKIT_OK)
        return st;

    authkit_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return authkit__fail(err, AUTHKIT_NOMEM, NULL, NULL);
    ctx->opts = *opts;
    ctx->secret_len = strlen(opts->session_secret);
    ctx->database_url = strdup(opts->database_url);
    ctx->service_name = opts->service_name ? strdup(opts->service_name) : NULL;
    /* sodium_malloc: guarded pages, never swapped, wiped on free. */
    ctx->secret = secret_dup(opts->session_secret, ctx->secret_len);
    ctx->opts.database_url = ctx->database_url;
    ctx->opts.session_secret = ctx->secret;
    ctx->opts.service_name = ctx->service_name;
    ctx->magic = AUTHKIT_CTX_MAGIC;
    atomic_init(&ctx->audit_failures, 0);
    if (!ctx->database_url || !ctx->secret || (opts->service_name && !ctx->service_name)) {
        st = authkit__fail(err, AUTHKIT_NOMEM, NULL, NULL);
        goto fail_alloc;
    }
    if ((st = authkit__bcrypt_dummy_hash(opts->bcrypt_cost, ctx->dummy_hash)) != AUTHKIT_OK) {
        authkit__fail(err, st, NULL, "could not prepare the bcrypt dummy hash");
        goto fail_alloc;
    }
    derive_key(ctx->secret, ctx->secret_len, "authkit/login-throttle/v1", ctx->throttle_key);
    uint8_t csrf_key[32];
    derive_key(ctx->secret, ctx->secret_len, "authkit-csrf-key-v1", csrf_key);
    authkit__csrf_prepare(ctx, csrf_key);
    sodium_memzero(csrf_key, sizeof csrf_key);
    derive_key(ctx->secret, ctx->secret_len, "authkit/audit-login/v1", ctx->audit_key);
    if ((st = authkit__bus_init(&ctx->bus)) != AUTHKIT_OK) {
        authkit__fail(err, st, NULL, NULL);
        goto fail_alloc;
    }
    if ((st = authkit__roles_init(&ctx->roles)) != AUTHKIT_OK) {
        authkit__fail(err, st, NULL, NULL);
        goto fail_bus;
    }
    if ((st = ops->open(location, &ctx->store_state, err)) != AUTHKIT_OK)
        goto fail_roles;
    ctx->store = ops;
    _Atomic uint64_t *changes = ops->change_counter ? ops->change_counter(ctx->store_state) : NULL;
    if (changes && (st = authkit__vcache_open(changes, &ctx->vcache)) != AUTHKIT_OK) {
        authkit__fail(err, st, NULL, NULL);
        goto fail_store;
    }
    /* First subscriber: the trail gets each event before the application's callbacks. */
    if ((st = authkit__audit_start(ctx)) != AUTHKIT_OK) {
        authkit__fail(err, st, NULL, "could not start the audit trail");
        goto fail_store;
    }
    if ((st = authkit__cleanup_start(ctx)) != AUTHKIT_OK) {
        authkit__fail(err, st, NULL, "could not start the cleanup thread");
        goto fail_store;
    }
    *out = ctx;
    return authkit__ok(err);

fail_store:
    authkit__vcache_close(ctx->vcache);
    ops->close(ctx->store_state);
fail_roles:
    authkit__roles_destroy(&ctx->roles);
fail_bus:
    authkit__bus_destroy(&ctx->bus);
fail_alloc:
    free(ctx->database_url);
    free(ctx->service_name);
    sodium_free(ctx->secret);
    sodium_memzero(ctx->throttle_key, sizeof ctx->throttle_key);
    sodium_memzero(&ctx->csrf_mac, sizeof ctx->csrf_mac);
    sodium_memzero(ctx->audit_key, sizeof ctx->audit_key);
    ctx->magic = 0;
    free(ctx);
    return st;
}

void authkit_close(authkit_ctx *ctx) {
    if (!authkit__ctx_ok(ctx))
        return;
    authkit__cleanup_stop(ctx);
    authkit__vcache_close(ctx->vcache);
    ctx->store->close(ctx->store_state);
    authkit__roles_destroy(&ctx->roles);
    authkit__bus_destroy(&ctx->bus);
    free(ctx->database_url);
    free(ctx->service_name);
    sodium_free(ctx->secret);
    sodium_memzero(ctx->throttle_key, sizeof ctx->throttle_key);
    sodium_memzero(&ctx->csrf_mac, sizeof ctx->csrf_mac);
    sodium_memzero(ctx->audit_key, sizeof ctx->audit_key);
    ctx->magic = 0;
    free(ctx);
}
