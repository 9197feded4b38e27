#include "core/encoding.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void authkit__b64url_encode(char *out, size_t out_size, const uint8_t *in, size_t len) {
    sodium_bin2base64(out, out_size, in, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

long authkit__b64url_decode(uint8_t *out, size_t out_size, const char *in, size_t len) {
    /* Debian 12's libsodium (1.0.18) reads characters as signed and decodes every byte
     * from 0x80 up as '_': one token would then have many spellings. Check the alphabet
     * ourselves first. */
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return -1;
    }
    size_t written = 0;
    const char *end = NULL;
    /* libsodium rejects non-canonical trailing bits and, with no ignore set, any
     * character outside the alphabet; `end` must reach the end of the input. */
    if (sodium_base642bin(out, out_size, in, len, NULL, &written, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return -1;
    if (end != in + len)
        return -1;
    return (long)written;
}

void authkit__uuid_v4(char out[AUTHKIT_UUID_SIZE]) {
    uint8_t b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, AUTHKIT_UUID_SIZE,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

bool authkit__uuid_valid(const char *s) {
    if (!s)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return s[36] == '\0';
}

void authkit__token_new(char out[AUTHKIT_TOKEN_CHARS + 1]) {
    uint8_t raw[AUTHKIT_TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    authkit__b64url_encode(out, AUTHKIT_TOKEN_CHARS + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
}

bool authkit__token_well_formed(const char *token) {
    for (int i = 0; i < AUTHKIT_TOKEN_CHARS; i++) {
        char c = token[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return token[AUTHKIT_TOKEN_CHARS] == '\0';
}

void authkit__token_digest(uint8_t out[AUTHKIT_DIGEST_BYTES], const char *token, size_t len) {
    crypto_hash_sha256(out, (const unsigned char *)token, len);
}

void authkit__strlcpy(char *dst, const char *src, size_t size) {
    size_t n = src ? strnlen(src, size - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void authkit__time_iso8601(char out[32], authkit_time t) {
    time_t secs = (time_t)(t / 1000000);
    long micros = (long)(t % 1000000);
    if (micros < 0) {
        micros += 1000000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%06ldZ", micros);
}
