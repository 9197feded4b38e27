/* libFuzzer target for the text parsers that see outside input: every input goes through
 * all of them, each checked against a model written here from its documentation.
 *
 *   authkit__email_normalize   output is the trimmed input with ASCII letters lowered:
 *                              no upper-case ASCII, no space or control byte, one '@',
 *                              valid UTF-8, at most 254 bytes; normalising it again gives
 *                              the same text
 *   authkit__utf8_valid        agrees with the well-formed byte sequences of Unicode
 *                              table 3-7 (no overlongs, surrogates or values past U+10FFFF)
 *   authkit__b64url_decode     decoded bytes encode back to exactly the input; the same
 *                              text never fits a buffer one byte smaller
 *   authkit__token_well_formed exactly 43 characters of [A-Za-z0-9_-]
 *   authkit__uuid_valid        exactly 36 characters, lower-case hex, dashes at 8/13/18/23
 *   authkit__username_check, authkit__role_check, authkit_password_policy_check
 *                              the other checks of user input, against their patterns
 * C-string functions get a NUL-terminated copy of the input (so they see the bytes up to
 * its first NUL); length-taking functions get the input itself, in a buffer of its exact
 * size so that AddressSanitizer catches any read past it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authkit/context.h"
#include "authkit/password.h"
#include "core/encoding.h"
#include "core/text.h"
#include "user/roles.h"
#include "user/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what) {
    fprintf(stderr, "fuzz_text: %s\n", what);
    abort();
}

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool in_range(unsigned char c, unsigned lo, unsigned hi) {
    return c >= lo && c <= hi;
}

/* Well-formed UTF-8 byte sequences, Unicode 15 table 3-7. */
static bool model_utf8_valid(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */
        if (c <= 0x7f) {
            i++;
            continue;
        }
        if (in_range(c, 0xc2, 0xdf))
            n = 1;
        else if (c == 0xe0)
            n = 2, lo = 0xa0;
        else if (in_range(c, 0xe1, 0xec) || in_range(c, 0xee, 0xef))
            n = 2;
        else if (c == 0xed)
            n = 2, hi = 0x9f;
        else if (c == 0xf0)
            n = 3, lo = 0x90;
        else if (in_range(c, 0xf1, 0xf3))
            n = 3;
        else if (c == 0xf4)
            n = 3, hi = 0x8f;
        else
            return false;
        if (len - i <= n || !in_range(s[i + 1], lo, hi))
            return false;
        for (size_t k = 2; k <= n; k++)
            if (!in_range(s[i + k], 0x80, 0xbf))
                return false;
        i += n + 1;
    }
    return true;
}

static void check_utf8(const uint8_t *data, size_t size) {
    if (authkit__utf8_valid((const char *)data, size) != model_utf8_valid(data, size))
        fail("utf8_valid disagrees with Unicode table 3-7");
}

static void check_email(const char *in) {
    char out[AUTHKIT_EMAIL_SIZE], again[AUTHKIT_EMAIL_SIZE];
    authkit_error err;
    memset(&err, 0, sizeof err);
    authkit_status st = authkit__email_normalize(in, out, &err);
    if (st != AUTHKIT_OK) {
        if (st != AUTHKIT_VALIDATION || err.status != AUTHKIT_VALIDATION ||
            strcmp(err.field, "email") != 0)
            fail("email_normalize failed without a VALIDATION error on \"email\"");
        return;
    }

    /* The model: trim ASCII white space, lower ASCII letters, nothing else. */
    size_t len = strlen(in);
    while (len && is_space(in[len - 1]))
        len--;
    while (len && is_space(*in))
        in++, len--;
    if (!memchr(out, '\0', sizeof out) || strlen(out) != len || len > AUTHKIT_EMAIL_SIZE - 1)
        fail("normalised email has the wrong length");
    size_t ats = 0, at = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i], o = (unsigned char)out[i];
        unsigned char want = c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
        if (o != want)
            fail("normalised email is not the trimmed input in lower case");
        if (o >= 'A' && o <= 'Z')
            fail("normalised email has an upper-case ASCII letter");
        if (o <= 0x20 || o == 0x7f)
            fail("normalised email has a space or control character");
        if (o == '@')
            ats++, at = i;
    }
    if (ats != 1)
        fail("normalised email does not have exactly one '@'");
    if (at == 0 || at + 1 >= len)
        fail("normalised email has an empty local part or domain");
    const char *dot = strchr(out + at + 1, '.');
    if (!dot || dot == out + at + 1 || out[len - 1] == '.')
        fail("normalised email's domain has no inner '.'");
    if (!authkit__utf8_valid(out, len))
        fail("normalised email is not valid UTF-8");

    if (authkit__email_normalize(out, again, NULL) != AUTHKIT_OK || strcmp(out, again) != 0)
        fail("normalising a normalised email changes it");
}

static void check_b64url(const uint8_t *data, size_t size) {
    /* Decoding never yields more than 3 bytes for every 4 characters. */
    size_t cap = size / 4 * 3 + 3;
    uint8_t *bin = malloc(cap);
    char *text = malloc(AUTHKIT_B64URL_SIZE(cap));
    if (!bin || !text)
        goto done;
    long n = authkit__b64url_decode(bin, cap, (const char *)data, size);
    if (n < 0)
        goto done;
    if ((size_t)n > cap)
        fail("b64url_decode reports more bytes than fit");
    authkit__b64url_encode(text, AUTHKIT_B64URL_SIZE((size_t)n), bin, (size_t)n);
    if (strlen(text) != size || memcmp(text, data, size) != 0)
        fail("b64url_decode accepted a text that does not encode back to itself");
    if (n > 0) {
        /* An exact-size buffer one byte short: refused, and nothing written past it. */
        uint8_t *small = malloc((size_t)n - 1 ? (size_t)n - 1 : 1);
        if (small) {
            if (authkit__b64url_decode(small, (size_t)n - 1, (const char *)data, size) != -1)
                fail("b64url_decode did not refuse a buffer that is too small");
            free(small);
        }
    }
done:
    free(text);
    free(bin);
}

static bool model_token(const char *s) {
    size_t n = strlen(s);
    if (n != AUTHKIT_TOKEN_CHARS)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", s[i]))
            return false;
    return true;
}

static bool model_uuid(const char *s) {
    if (strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
            return false;
    }
    return true;
}

/* `len` characters (1 <= min <= len <= max) all in `set`. */
static bool model_pattern(const char *s, const char *set, size_t min, size_t max) {
    size_t n = strlen(s);
    return n >= min && n <= max && strspn(s, set) == n;
}

#define WORD_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"

static void check_identifiers(const char *s) {
    if (authkit__token_well_formed(s) != model_token(s))
        fail("token_well_formed disagrees with the model");
    if (authkit__uuid_valid(s) != model_uuid(s))
        fail("uuid_valid disagrees with the model");
    if ((authkit__username_check(s, NULL) == AUTHKIT_OK) != model_pattern(s, WORD_CHARS, 3, 50))
        fail("username_check disagrees with ^[A-Za-z0-9_]{3,50}$");
    bool role = model_pattern(s, WORD_CHARS ".:-", 1, 50);
    if (authkit__role_name_valid(s) != role || (authkit__role_check(s, NULL) == AUTHKIT_OK) != role)
        fail("role check disagrees with ^[A-Za-z0-9_.:-]{1,50}$");
}

/* The policy needs a context (its minimum length, the service name); one in memory is
 * opened on first use and kept for the whole run. */
static authkit_ctx *policy_ctx(void) {
    static authkit_ctx *ctx;
    if (!ctx) {
        authkit_options o;
        authkit_options_init(&o);
        o.database_url = "sqlite::memory:";
        o.session_secret = "fuzz-secret-0123456789-abcdefghijklmnop";
        o.cleanup_interval_ms = 0;
        o.bcrypt_cost = 4;
        if (authkit_open(&o, &ctx, NULL) != AUTHKIT_OK)
            fail("cannot open a context for the password policy");
    }
    return ctx;
}

/* Whatever the bytes, an accepted password is well-formed and at least 8 characters;
 * the bytes before a '|' (if any) play the username. */
static void check_password_policy(const uint8_t *data, size_t size) {
    const char *bar = memchr(data, '|', size);
    char username[64] = "";
    const char *pw = (const char *)data;
    size_t len = size;
    if (bar && (size_t)(bar - (const char *)data) < sizeof username) {
        memcpy(username, data, (size_t)(bar - (const char *)data));
        username[bar - (const char *)data] = '\0';
        pw = bar + 1;
        len = size - (size_t)(pw - (const char *)data);
    }
    size_t chars = 0;
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)pw[i] & 0xc0) != 0x80;
    authkit_error err;
    authkit_status st = authkit_password_policy_check(policy_ctx(), pw, len, username, NULL, &err);
    if (st == AUTHKIT_OK && (authkit_password_check_bytes(pw, len) != AUTHKIT_OK || chars < 8))
        fail("the policy accepted a password the model refuses");
    if (st != AUTHKIT_OK && st != AUTHKIT_VALIDATION && st != AUTHKIT_PASSWORD_TOO_LONG &&
        st != AUTHKIT_PASSWORD_HAS_NUL)
        fail("the policy returned an unexpected status");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *bytes = malloc(size ? size : 1);
    char *str = malloc(size + 1);
    if (!bytes || !str)
        goto done;
    memcpy(bytes, data, size);
    memcpy(str, data, size);
    str[size] = '\0';

    check_utf8(bytes, size);
    check_b64url(bytes, size);
    check_password_policy(bytes, size);
    check_email(str);
    check_identifiers(str);
done:
    free(str);
    free(bytes);
    return 0;
}
