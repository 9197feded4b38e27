/* The context's insides, shared by the components (never by users of the library). */
#ifndef AUTHKIT_CORE_CTX_H
#define AUTHKIT_CORE_CTX_H

#include <pthread.h>
#include <sodium.h>

#include "authkit/context.h"
#include "authkit/password.h"
#include "event/bus.h"
#include "store/store.h"
#include "user/roles.h"

#define AUTHKIT_CTX_MAGIC 0x61757468u /* "auth" */

struct authkit__cleanup {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool running;
    bool stop;
};

struct authkit_ctx {
    uint32_t magic;
    authkit_options opts; /* strings point to the copies below */
    char *database_url;
    char *service_name; /* NULL when not configured */
    char *secret;
    size_t secret_len;
    const struct authkit_store_ops *store;
    void *store_state;
    /* A hash-shaped string of the configured cost: failed logins verify against it so
     * that every failure costs one bcrypt (see authkit_authenticate). */
    char dummy_hash[AUTHKIT_HASH_SIZE];
    /* Keys derived from the secret, one per purpose (checklist item 67): naming
     * login-throttling counters (password/throttle.c), signing anti-CSRF tokens
     * (session/csrf.c) and hashing login names in the audit trail (audit/record.c). */
    uint8_t throttle_key[32];
    uint8_t audit_key[32];
    /* The anti-CSRF MAC with its key (derived like the others) and label already absorbed:
     * every token copies it, so it costs two SHA-256 blocks fewer (session/csrf.c). */
    crypto_auth_hmacsha256_state csrf_mac;
    struct authkit__bus bus;
    struct authkit__roles roles;
    struct authkit__cleanup cleanup;
    atomic_uint_fast64_t audit_failures; /* events the trail could not write */
    /* The validation cache over the store's change counter (src/session/cache.h); NULL
     * when the store has no counter. */
    struct authkit__vcache *vcache;
};

/* true when `ctx` is an open context (not NULL, magic intact). */
bool authkit__ctx_ok(const authkit_ctx *ctx);

/* Publishes `ev` with the context's clock as timestamp. */
void authkit__publish(authkit_ctx *ctx, authkit_event *ev);

/* After every write that ends sessions or changes a user, successful or not (a failed
 * write may still have committed): no cached validation from before it is used again, in
 * any process (src/session/cache.h). */
void authkit__sessions_changed(authkit_ctx *ctx);

/* Prepares ctx->csrf_mac under `key` (src/session/csrf.c). */
void authkit__csrf_prepare(authkit_ctx *ctx, const uint8_t key[32]);

/* Starts / stops the background cleanup thread (src/session/cleanup.c). */
authkit_status authkit__cleanup_start(authkit_ctx *ctx);
void authkit__cleanup_stop(authkit_ctx *ctx);

#endif
