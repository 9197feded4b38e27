/* Reading and pruning the audit trail (include/authkit/audit.h). */
#include <string.h>

#include "audit/audit.h"
#include "core/encoding.h"
#include "core/error.h"
#include "core/text.h"

#define DAY_US (86400LL * 1000000)

authkit_status authkit_audit_query(authkit_ctx *ctx, const authkit_audit_filter *f,
                                   authkit_audit_entry *out, size_t cap, size_t *n,
                                   authkit_error *err) {
    if (!authkit__ctx_ok(ctx))
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, "invalid context");
    if (!n || (cap && !out))
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    *n = 0;
    const authkit_audit_filter all = {0};
    if (!f)
        f = &all;
    if ((unsigned)f->type >= AUTHKIT_EVENT_COUNT_)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, "type", "unknown event type");
    if (f->since && f->until && f->since > f->until)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, "since", "since is after until");
    struct authkit_store_audit_filter sf = {.since = f->since, .until = f->until};
    /* Values no row can hold match nothing, without asking the store (PostgreSQL would
     * refuse them instead). */
    if ((f->user_id && !authkit__uuid_valid(f->user_id)) ||
        (f->outcome && !authkit__utf8_valid(f->outcome, strlen(f->outcome))))
        return authkit__ok(err);
    sf.user_id = f->user_id;
    sf.outcome = f->outcome;
    char hash[AUTHKIT_AUDIT_HASH_SIZE];
    if (f->login) {
        authkit__audit_login_hash(ctx, f->login, hash);
        sf.login_hash = hash;
    }
    if (f->type != AUTHKIT_EVENT_ALL)
        sf.event = authkit_event_name(f->type);
    return authkit__pass(err, ctx->store->audit_query(ctx->store_state, &sf, out, cap, n, err));
}

authkit_status authkit_audit_delete_expired(authkit_ctx *ctx, size_t *deleted, authkit_error *err) {
    if (!authkit__ctx_ok(ctx))
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, "invalid context");
    size_t total = 0, n;
    authkit_status st = AUTHKIT_OK;
    if (ctx->opts.audit_retention_days > 0) {
        authkit_time before = authkit_now(ctx) - ctx->opts.audit_retention_days * DAY_US;
        size_t batch = (size_t)ctx->opts.cleanup_batch_size;
        /* Short transactions: logins get the database between batches. */
        do {
            n = 0;
            st = ctx->store->audit_prune(ctx->store_state, before, batch, &n, err);
            total += n;
        } while (st == AUTHKIT_OK && n == batch);
    }
    if (deleted)
        *deleted = total;
    return authkit__pass(err, st);
}

uint64_t authkit_audit_failures(authkit_ctx *ctx) {
    return authkit__ctx_ok(ctx) ? (uint64_t)atomic_load(&ctx->audit_failures) : 0;
}
