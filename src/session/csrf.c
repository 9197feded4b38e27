/* Anti-CSRF tokens (include/authkit/csrf.h):
 *   K     = HMAC-SHA-256(session_secret, "authkit-csrf-key-v1")   (at open: ctx->csrf_mac)
 *   token = base64url(HMAC-SHA-256(K, "authkit-csrf-v1" || session_id))
 * K is a key of its own (checklist item 67): session_secret signs stateless tokens, and a
 * CSRF token must never be usable as, or help to forge, anything else. Neither label holds
 * a '.', so no HS256 signing input (header "." payload) can equal them. */
#include "authkit/csrf.h"

#include <sodium.h>
#include <string.h>

#include "core/ctx.h"
#include "core/encoding.h"
#include "core/secret.h"

#define TOKEN_LABEL "authkit-csrf-v1"
#define TOKEN_CHARS (AUTHKIT_CSRF_TOKEN_SIZE - 1)

_Static_assert(AUTHKIT_B64URL_SIZE(crypto_auth_hmacsha256_BYTES) == AUTHKIT_CSRF_TOKEN_SIZE,
               "a CSRF token is the base64url text of one HMAC-SHA-256");

void authkit__csrf_prepare(authkit_ctx *ctx, const uint8_t key[32]) {
    crypto_auth_hmacsha256_init(&ctx->csrf_mac, key, 32);
    crypto_auth_hmacsha256_update(&ctx->csrf_mac, (const unsigned char *)TOKEN_LABEL,
                                  sizeof TOKEN_LABEL - 1);
}

/* The token text of `session_id`; the caller has checked both arguments. */
static void derive(const authkit_ctx *ctx, const char *session_id,
                   char out[AUTHKIT_CSRF_TOKEN_SIZE]) {
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st = ctx->csrf_mac;
    /* A session id has a fixed length (a UUID), so label || id cannot be read two ways. */
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)session_id, AUTHKIT_UUID_SIZE - 1);
    crypto_auth_hmacsha256_final(&st, mac);
    authkit__b64url_encode(out, AUTHKIT_CSRF_TOKEN_SIZE, mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(mac, sizeof mac);
}

authkit_status authkit_csrf_token(authkit_ctx *ctx, const char *session_id,
                                  char out[AUTHKIT_CSRF_TOKEN_SIZE]) {
    if (!out)
        return AUTHKIT_INVALID_ARGUMENT;
    out[0] = '\0';
    if (!authkit__ctx_ok(ctx) || !authkit__uuid_valid(session_id))
        return AUTHKIT_INVALID_ARGUMENT;
    derive(ctx, session_id, out);
    return AUTHKIT_OK;
}

authkit_status authkit_csrf_verify(authkit_ctx *ctx, const char *session_id, const char *token) {
    if (!authkit__ctx_ok(ctx) || !authkit__uuid_valid(session_id))
        return AUTHKIT_INVALID_ARGUMENT;
    /* The length is public (every token has it); the characters are compared in constant
     * time, so the answer's timing says nothing about how much of a guess was right. */
    if (!token || strnlen(token, TOKEN_CHARS + 1) != TOKEN_CHARS)
        return AUTHKIT_CSRF;
    char expected[AUTHKIT_CSRF_TOKEN_SIZE];
    derive(ctx, session_id, expected);
    bool same = authkit__secret_equal(expected, token, TOKEN_CHARS);
    sodium_memzero(expected, sizeof expected);
    return same ? AUTHKIT_OK : AUTHKIT_CSRF;
}
