/* libFuzzer target for authkit__jwt_verify, in two modes run on every input:
 *
 * raw     the input (a NUL-terminated copy) is the token. Reaches the splitting, the
 *         base64url decoding of the signature and the MAC check; only a seed signed under
 *         the fuzz key gets further.
 * signed  the input is JSON: "header NUL payload", or the payload alone under the
 *         standard header when there is no NUL. Both parts are base64url-encoded and
 *         signed with HMAC-SHA-256 under the fuzz key, so that the header and claim
 *         parsing behind the MAC check is reached.
 *
 * Whenever a token verifies, its claims must be sane (exp in the future, sub and sid
 * empty or canonical UUIDs) and must survive authkit__jwt_sign and a second verify; a raw
 * token that verifies must have the documented shape (base64url segments only). */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "session/jwt.h"

#define MICROS 1000000LL

/* A fixed clock: 2025-11-29T09:53:20Z. fuzz/make_seeds.py signs its seeds to expire after
 * it (4102444800 = 2100-01-01). */
#define FUZZ_NOW ((authkit_time)1764410000 * MICROS)

/* 40 bytes; the same key as fuzz/make_seeds.py. */
static const char fuzz_key_text[] = "fuzz-key-for-authkit-0123456789abcdefghi";
#define FUZZ_KEY     ((const uint8_t *)fuzz_key_text)
#define FUZZ_KEY_LEN (sizeof fuzz_key_text - 1)
_Static_assert(sizeof fuzz_key_text - 1 == 40, "the fuzz key is 40 bytes");

static const char default_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what) {
    fprintf(stderr, "fuzz_jwt: %s\n", what);
    abort();
}

/* A claim text: NUL-terminated inside its array, and empty or a canonical UUID. */
static bool claim_text_sane(const char s[AUTHKIT_UUID_SIZE]) {
    if (!memchr(s, '\0', AUTHKIT_UUID_SIZE))
        return false;
    return s[0] == '\0' || authkit__uuid_valid(s);
}

/* exp as authkit__jwt_sign writes it: whole seconds, rounded down. */
static authkit_time floor_seconds(authkit_time t) {
    authkit_time r = t % MICROS;
    return r < 0 ? t - r - MICROS : t - r;
}

/* Signs the verified claims again and verifies the result: what the library accepted it
 * must be able to write, and reading it back must give the same claims. */
static void check_round_trip(const struct authkit__jwt_claims *c) {
    char token[1024];
    struct authkit__jwt_claims again;
    if (authkit__jwt_sign(FUZZ_KEY, FUZZ_KEY_LEN, c, token, sizeof token) != AUTHKIT_OK)
        fail("verified claims cannot be signed again");
    authkit_status st = authkit__jwt_verify(FUZZ_KEY, FUZZ_KEY_LEN, token, FUZZ_NOW, &again);
    authkit_time exp = floor_seconds(c->exp);
    if (exp <= FUZZ_NOW) {
        /* Rounding down took exp to now or before: the re-signed token has expired. */
        if (st == AUTHKIT_OK)
            fail("re-signed token verified although its exp is not after now");
        return;
    }
    if (st != AUTHKIT_OK)
        fail("re-signed claims do not verify");
    if (again.exp != exp || strcmp(again.sub, c->sub) != 0 || strcmp(again.sid, c->sid) != 0)
        fail("re-signed claims differ (exp, sub or sid)");
    /* iat is written to the microsecond and read back as a double: exact while the
     * number of seconds stays below 2^31 (53-bit mantissa), which covers every real clock. */
    if (c->iat > -(INT64_C(1) << 31) * MICROS && c->iat < (INT64_C(1) << 31) * MICROS &&
        again.iat != c->iat)
        fail("re-signed iat differs");
}

static void check_result(authkit_status st, const struct authkit__jwt_claims *c) {
    if (st != AUTHKIT_OK && st != AUTHKIT_NOT_AUTHENTICATED)
        fail("verify returned neither OK nor NOT_AUTHENTICATED");
    if (st != AUTHKIT_OK)
        return;
    if (!(c->exp > FUZZ_NOW))
        fail("verified token has exp <= now");
    if (!claim_text_sane(c->sub))
        fail("verified sub is neither empty nor a UUID");
    if (!claim_text_sane(c->sid))
        fail("verified sid is neither empty nor a UUID");
    check_round_trip(c);
}

/* The documented shape of a token that verifies: three non-empty segments of the base64url
 * alphabet, no padding. Decoding that tolerates other bytes lets one token be written in
 * several ways that all verify. */
static void check_shape(const char *token) {
    size_t dots = 0;
    for (const char *p = token; *p; p++) {
        char c = *p;
        if (c == '.')
            dots++;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_'))
            fail("a token with a byte outside the base64url alphabet verified");
    }
    if (dots != 2)
        fail("a token without exactly three segments verified");
}

static void fuzz_raw(const uint8_t *data, size_t size) {
    char *token = malloc(size + 1);
    struct authkit__jwt_claims claims;
    if (!token)
        return;
    memcpy(token, data, size);
    token[size] = '\0';
    authkit_status st = authkit__jwt_verify(FUZZ_KEY, FUZZ_KEY_LEN, token, FUZZ_NOW, &claims);
    check_result(st, &claims);
    if (st == AUTHKIT_OK)
        check_shape(token);
    free(token);
}

/* b64(header) "." b64(payload) "." b64(HMAC-SHA-256 under the fuzz key), then verify. */
static void fuzz_signed(const uint8_t *header, size_t hlen, const uint8_t *payload, size_t plen) {
    size_t h64 = AUTHKIT_B64URL_SIZE(hlen) - 1, p64 = AUTHKIT_B64URL_SIZE(plen) - 1;
    size_t signed_len = h64 + 1 + p64;
    size_t mac_size = AUTHKIT_B64URL_SIZE(crypto_auth_hmacsha256_BYTES);
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state hs;
    struct authkit__jwt_claims claims;
    char *token = malloc(signed_len + 1 + mac_size);
    if (!token)
        return;
    authkit__b64url_encode(token, h64 + 1, header, hlen);
    token[h64] = '.';
    authkit__b64url_encode(token + h64 + 1, p64 + 1, payload, plen);
    token[signed_len] = '.';
    crypto_auth_hmacsha256_init(&hs, FUZZ_KEY, FUZZ_KEY_LEN);
    crypto_auth_hmacsha256_update(&hs, (const unsigned char *)token, signed_len);
    crypto_auth_hmacsha256_final(&hs, mac);
    authkit__b64url_encode(token + signed_len + 1, mac_size, mac, sizeof mac);
    authkit_status st = authkit__jwt_verify(FUZZ_KEY, FUZZ_KEY_LEN, token, FUZZ_NOW, &claims);
    check_result(st, &claims);
    free(token);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (sodium_init() < 0)
        fail("sodium_init failed");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_raw(data, size);

    /* JSON cannot contain a raw NUL, so splitting there loses no header or payload. */
    const uint8_t *nul = memchr(data, '\0', size);
    if (nul)
        fuzz_signed(data, (size_t)(nul - data), nul + 1, size - (size_t)(nul - data) - 1);
    else
        fuzz_signed((const uint8_t *)default_header, sizeof default_header - 1, data, size);
    return 0;
}
