#include "core/encoding.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

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

static void digits(char *out, long long v, int n) {
    while (n--) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* By arithmetic rather than gmtime_r + strftime: those take glibc's time-zone lock and
 * parse a format, on the path of every GET /me. The civil date of a day count is the
 * usual era computation (400-year cycles of 146,097 days, years starting in March). */
void authkit__time_iso8601(char out[32], authkit_time t) {
    long long secs = t / 1000000, micros = t % 1000000;
    if (micros < 0) {
        micros += 1000000;
        secs -= 1;
    }
    long long days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    long long z = days + 719468; /* days since 0000-03-01 */
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;                                      /* [0, 146096] */
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    long long mp = (5 * doy + 2) / 153;                                    /* March = 0 */
    long long day = doy - (153 * mp + 2) / 5 + 1;
    long long month = mp < 10 ? mp + 3 : mp - 9;
    long long year = yoe + era * 400 + (month <= 2);
    if (year < 0 || year > 9999) {
        char wide[160]; /* out of four digits: a year this far off is still printed */
        snprintf(wide, sizeof wide, "%lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ", year, month,
                 day, sod / 3600, sod / 60 % 60, sod % 60, micros);
        authkit__strlcpy(out, wide, 32);
        return;
    }
    memcpy(out, "0000-00-00T00:00:00.000000Z", 28);
    digits(out, year, 4);
    digits(out + 5, month, 2);
    digits(out + 8, day, 2);
    digits(out + 11, sod / 3600, 2);
    digits(out + 14, sod / 60 % 60, 2);
    digits(out + 17, sod % 60, 2);
    digits(out + 20, micros, 6);
}
