#include "session/jwt.h"

#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/encoding.h"
#include "core/secret.h"

#define JWT_MAX_TOKEN 4096
#define JWT_MAC_BYTES crypto_auth_hmacsha256_BYTES
#define JWT_MAC_CHARS 43 /* base64url of 32 bytes, no padding */
/* Largest decoded header or payload: 3/4 of the longest token. */
#define JWT_MAX_SEGMENT_BYTES ((JWT_MAX_TOKEN / 4) * 3)
#define MICROS                1000000

static const char jwt_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static void jwt_mac(uint8_t mac[JWT_MAC_BYTES], const uint8_t *key, size_t key_len,
                    const char *data, size_t len) {
    crypto_auth_hmacsha256_state st;
    /* The streaming API takes keys of any length (longer ones are hashed, RFC 2104). */
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)data, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
}

/* Writes `t` microseconds as seconds: an integer when whole, else with six decimals. */
static int format_seconds(char *out, size_t size, authkit_time t, bool keep_fraction) {
    uint64_t mag = t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t;
    uint64_t secs = mag / MICROS;
    unsigned frac = (unsigned)(mag % MICROS);
    const char *sign = t < 0 ? "-" : "";
    if (!keep_fraction) {
        /* Whole seconds rounded down, also for times before the epoch. */
        if (t < 0 && frac)
            secs++;
        frac = 0;
    }
    if (frac)
        return snprintf(out, size, "%s%" PRIu64 ".%06u", sign, secs, frac);
    return snprintf(out, size, "%s%" PRIu64, (secs ? sign : ""), secs);
}

/* The payload is built as text, members in a fixed order; sub and sid are checked to be
 * UUIDs first, so nothing in them needs escaping. */
static bool build_payload(char *out, size_t size, const struct authkit__jwt_claims *c) {
    char iat[32], exp[32];
    size_t n = 0;
    int w;
    if (format_seconds(iat, sizeof iat, c->iat, true) < 0 ||
        format_seconds(exp, sizeof exp, c->exp, false) < 0)
        return false;
    out[n++] = '{';
    if (c->sub[0]) {
        w = snprintf(out + n, size - n, "\"sub\":\"%s\",", c->sub);
        if (w < 0 || (size_t)w >= size - n)
            return false;
        n += (size_t)w;
    }
    if (c->sid[0]) {
        w = snprintf(out + n, size - n, "\"sid\":\"%s\",", c->sid);
        if (w < 0 || (size_t)w >= size - n)
            return false;
        n += (size_t)w;
    }
    if (c->iat) {
        w = snprintf(out + n, size - n, "\"iat\":%s,", iat);
        if (w < 0 || (size_t)w >= size - n)
            return false;
        n += (size_t)w;
    }
    w = snprintf(out + n, size - n, "\"exp\":%s}", exp);
    return w >= 0 && (size_t)w < size - n;
}

static bool claim_text_ok(const char *s) {
    return s[0] == '\0' || authkit__uuid_valid(s);
}

authkit_status authkit__jwt_sign(const uint8_t *key, size_t key_len,
                                 const struct authkit__jwt_claims *claims, char *out,
                                 size_t out_size) {
    char payload[256];
    uint8_t mac[JWT_MAC_BYTES];
    size_t hlen = sizeof jwt_header - 1, plen, h64, p64, need;

    if (!key || key_len == 0 || !claims || !out || out_size == 0)
        return AUTHKIT_INVALID_ARGUMENT;
    out[0] = '\0';
    if (!claim_text_ok(claims->sub) || !claim_text_ok(claims->sid) ||
        !build_payload(payload, sizeof payload, claims))
        return AUTHKIT_INVALID_ARGUMENT;
    plen = strlen(payload);
    h64 = AUTHKIT_B64URL_SIZE(hlen) - 1;
    p64 = AUTHKIT_B64URL_SIZE(plen) - 1;
    need = h64 + 1 + p64 + 1 + JWT_MAC_CHARS + 1;
    /* Checked up front: libsodium aborts when an encoding does not fit. */
    if (out_size < need)
        return AUTHKIT_INVALID_ARGUMENT;

    authkit__b64url_encode(out, h64 + 1, (const uint8_t *)jwt_header, hlen);
    out[h64] = '.';
    authkit__b64url_encode(out + h64 + 1, p64 + 1, (const uint8_t *)payload, plen);
    out[h64 + 1 + p64] = '.';
    jwt_mac(mac, key, key_len, out, h64 + 1 + p64);
    authkit__b64url_encode(out + h64 + 1 + p64 + 1, JWT_MAC_CHARS + 1, mac, sizeof mac);
    sodium_memzero(mac, sizeof mac);
    return AUTHKIT_OK;
}

/* Splits `token` into three non-empty segments: [0, d1), (d1, d2), (d2, len). */
static bool split_token(const char *token, size_t len, size_t *d1, size_t *d2) {
    const char *p1 = memchr(token, '.', len);
    const char *p2;
    if (!p1)
        return false;
    p2 = memchr(p1 + 1, '.', len - (size_t)(p1 + 1 - token));
    if (!p2 || memchr(p2 + 1, '.', len - (size_t)(p2 + 1 - token)))
        return false;
    *d1 = (size_t)(p1 - token);
    *d2 = (size_t)(p2 - token);
    return *d1 > 0 && *d2 > *d1 + 1 && *d2 + 1 < len;
}

/* Decodes one base64url segment and parses it as a JSON object; NULL if it is not one. */
static json_t *load_object(const char *seg, size_t len) {
    char buf[JWT_MAX_SEGMENT_BYTES];
    long n = authkit__b64url_decode((uint8_t *)buf, sizeof buf, seg, len);
    json_t *obj;
    if (n < 0)
        return NULL;
    obj = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* Exactly "HS256"; "typ", when present, "JWT" in any case; "crit" names extensions we do
 * not implement, so it is refused. Key-locating members (kid, jku, jwk, x5u, x5c) are
 * ignored: there is only the configured key. */
static bool header_ok(const json_t *h) {
    const json_t *alg = json_object_get(h, "alg");
    const json_t *typ = json_object_get(h, "typ");
    if (!json_is_string(alg) || json_string_length(alg) != 5 ||
        strcmp(json_string_value(alg), "HS256") != 0)
        return false;
    if (json_object_get(h, "crit"))
        return false;
    if (typ && (!json_is_string(typ) || json_string_length(typ) != 3 ||
                strcasecmp(json_string_value(typ), "JWT") != 0))
        return false;
    return true;
}

/* NumericDate (seconds, integer or real) to microseconds; false if not a number or out
 * of range. Reals round half away from zero, as llround does (without needing libm). */
static bool number_to_micros(const json_t *v, authkit_time *out) {
    if (json_is_integer(v)) {
        json_int_t s = json_integer_value(v);
        if (s > INT64_MAX / MICROS || s < INT64_MIN / MICROS)
            return false;
        *out = (authkit_time)s * MICROS;
        return true;
    }
    if (json_is_real(v)) {
        double us = json_real_value(v) * 1e6;
        long long whole;
        double frac;
        if (!(us > -9.0e18 && us < 9.0e18)) /* also refuses NaN */
            return false;
        whole = (long long)us;
        frac = us - (double)whole; /* exact: both share the magnitude of us */
        if (frac >= 0.5)
            whole++;
        else if (frac <= -0.5)
            whole--;
        *out = whole;
        return true;
    }
    return false;
}

/* Copies an optional UUID claim; absent leaves `dst` empty. */
static bool copy_uuid_claim(const json_t *payload, const char *name, char dst[AUTHKIT_UUID_SIZE]) {
    const json_t *v = json_object_get(payload, name);
    if (!v)
        return true;
    if (!json_is_string(v) || json_string_length(v) != AUTHKIT_UUID_SIZE - 1 ||
        !authkit__uuid_valid(json_string_value(v)))
        return false;
    memcpy(dst, json_string_value(v), AUTHKIT_UUID_SIZE);
    return true;
}

static bool claims_ok(const json_t *p, authkit_time now, struct authkit__jwt_claims *c) {
    const json_t *nbf = json_object_get(p, "nbf");
    const json_t *iat = json_object_get(p, "iat");
    authkit_time t;

    if (!number_to_micros(json_object_get(p, "exp"), &c->exp) || !(now < c->exp))
        return false;
    if (nbf && (!number_to_micros(nbf, &t) || t > now))
        return false;
    if (iat) {
        /* A little clock skew between issuer and verifier is tolerated, no more. */
        if (!number_to_micros(iat, &c->iat))
            return false;
        /* Unsigned difference: cannot overflow, whatever the two times are. */
        if (c->iat > now && (uint64_t)c->iat - (uint64_t)now > 60 * (uint64_t)MICROS)
            return false;
    }
    return copy_uuid_claim(p, "sub", c->sub) && copy_uuid_claim(p, "sid", c->sid);
}

authkit_status authkit__jwt_verify(const uint8_t *key, size_t key_len, const char *token,
                                   authkit_time now, struct authkit__jwt_claims *out) {
    uint8_t sig[JWT_MAC_BYTES], mac[JWT_MAC_BYTES];
    size_t len, d1, d2;
    json_t *header = NULL, *payload = NULL;
    bool ok = false;

    if (!out)
        return AUTHKIT_NOT_AUTHENTICATED;
    memset(out, 0, sizeof *out);
    if (!key || key_len == 0 || !token)
        return AUTHKIT_NOT_AUTHENTICATED;
    len = strnlen(token, JWT_MAX_TOKEN + 1);
    if (len > JWT_MAX_TOKEN || !split_token(token, len, &d1, &d2))
        return AUTHKIT_NOT_AUTHENTICATED;

    /* The MAC comes first: nothing the attacker wrote is parsed before it checks out. */
    if (authkit__b64url_decode(sig, sizeof sig, token + d2 + 1, len - d2 - 1) != (long)sizeof sig)
        goto done;
    jwt_mac(mac, key, key_len, token, d2);
    if (!authkit__secret_equal(mac, sig, sizeof mac))
        goto done;

    header = load_object(token, d1);
    if (!header || !header_ok(header))
        goto done;
    payload = load_object(token + d1 + 1, d2 - d1 - 1);
    if (!payload || !claims_ok(payload, now, out))
        goto done;
    ok = true;

done:
    json_decref(header);
    json_decref(payload);
    sodium_memzero(mac, sizeof mac);
    sodium_memzero(sig, sizeof sig);
    if (!ok) {
        memset(out, 0, sizeof *out);
        return AUTHKIT_NOT_AUTHENTICATED;
    }
    return AUTHKIT_OK;
}
