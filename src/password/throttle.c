#include "password/throttle.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"

/* What names the account: the user id, or the login as the store would look it up
 * (email normalised, username folded to lower case). */
static void account_material(const char *user_id, const char *login, char *out, size_t size) {
    if (user_id) {
        snprintf(out, size, "user:%s", user_id);
        return;
    }
    char email[AUTHKIT_EMAIL_SIZE];
    if (strchr(login, '@') && authkit__email_normalize(login, email, NULL) == AUTHKIT_OK) {
        snprintf(out, size, "login:%s", email);
        return;
    }
    size_t n = (size_t)snprintf(out, size, "login:%.254s", login);
    for (size_t i = 0; i < n && i < size; i++)
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] - 'A' + 'a');
}

/* The address as counted: IPv4 as is, IPv6 by its /64 (one host usually holds a whole
 * /64, so counting single addresses would let it rotate past the limit). */
static void address_material(const char *ip, char *out, size_t size) {
    unsigned char a[16];
    char text[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET6, ip, a) == 1) {
        static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, v4_mapped, sizeof v4_mapped) == 0) {
            inet_ntop(AF_INET, a + 12, text, sizeof text);
        } else {
            memset(a + 8, 0, 8);
            inet_ntop(AF_INET6, a, text, sizeof text);
        }
        snprintf(out, size, "addr:%s", text);
        return;
    }
    snprintf(out, size, "addr:%.63s", ip);
}

static void add_key(const authkit_ctx *ctx, struct authkit__throttle *t, const char *material,
                    int64_t free, int64_t limit, bool reset_on_success) {
    struct authkit_store_throttle_key *k = &t->keys[t->n++];
    crypto_auth_hmacsha256(k->id, (const unsigned char *)material, strlen(material),
                           ctx->throttle_key);
    k->rule = (struct authkit__throttle_rule){
        .free = free,
        .limit = limit,
        .base = AUTHKIT_THROTTLE_BASE_DELAY_US,
        .max = (authkit_time)ctx->opts.throttle_max_delay_seconds * 1000000,
        .forget = AUTHKIT_THROTTLE_FORGET_US,
        .reset_on_success = reset_on_success,
    };
}

void authkit__throttle_keys(const authkit_ctx *ctx, const char *user_id, const char *login,
                            const char *ip, struct authkit__throttle *t) {
    const authkit_options *o = &ctx->opts;
    char account[AUTHKIT_EMAIL_SIZE + 16], address[96], pair[sizeof account + sizeof address + 8];
    t->n = 0;
    account_material(user_id, login ? login : "", account, sizeof account);
    if (o->throttle_account_failures > 0)
        add_key(ctx, t, account, o->throttle_account_failures, AUTHKIT_THROTTLE_ACCOUNT_LIMIT,
                true);
    if (!ip || !*ip)
        return;
    address_material(ip, address, sizeof address);
    /* A success from an address takes back only its own count: one good account must not
     * clear the way for spraying many others from the same place. */
    if (o->throttle_address_failures > 0)
        add_key(ctx, t, address, o->throttle_address_failures, 0, false);
    snprintf(pair, sizeof pair, "pair:%s|%s", account, address);
    if (o->throttle_pair_failures > 0)
        add_key(ctx, t, pair, o->throttle_pair_failures, 0, true);
}

authkit_status authkit__throttle_begin(authkit_ctx *ctx, const struct authkit__throttle *t,
                                       authkit_error *err) {
    authkit_time until = 0, now = authkit_now(ctx);
    if (t->n == 0)
        return AUTHKIT_OK;
    authkit_status st =
        ctx->store->throttle_attempt(ctx->store_state, t->keys, t->n, now, &until, err);
    if (st != AUTHKIT_RATE_LIMITED)
        return st;
    int64_t wait = until > now ? (until - now + 999999) / 1000000 : 1;
    authkit__fail(err, st, NULL, "Too many attempts; try again in %lld seconds", (long long)wait);
    if (err)
        err->retry_after_seconds = wait;
    return st;
}

void authkit__throttle_success(authkit_ctx *ctx, const struct authkit__throttle *t) {
    if (t->n)
        (void)ctx->store->throttle_success(ctx->store_state, t->keys, t->n, NULL);
}

authkit_status authkit__throttle_prune(authkit_ctx *ctx, size_t *deleted, authkit_error *err) {
    size_t total = 0, n;
    size_t batch = (size_t)ctx->opts.cleanup_batch_size;
    authkit_time now = authkit_now(ctx);
    authkit_status st;
    do {
        n = 0;
        st = ctx->store->throttle_prune(ctx->store_state, now, now - AUTHKIT_THROTTLE_FORGET_US,
                                        batch, &n, err);
        total += n;
    } while (st == AUTHKIT_OK && n == batch);
    if (deleted)
        *deleted = total;
    return st;
}
