#include "core/text.h"

#include <string.h>

#include "core/error.h"

/* Length of the well-formed UTF-8 sequence at p[0..len), or 0 if it is not one (no
 * overlongs, no surrogates, nothing past U+10FFFF, not truncated). */
static size_t utf8_sequence(const unsigned char *p, size_t len) {
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0)
        n = 1, min = 0x80, c &= 0x1f;
    else if ((c & 0xf0) == 0xe0)
        n = 2, min = 0x800, c &= 0x0f;
    else if ((c & 0xf8) == 0xf0)
        n = 3, min = 0x10000, c &= 0x07;
    else
        return 0;
    if (n >= len)
        return 0;
    for (size_t k = 1; k <= n; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[k] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return n + 1;
}

bool authkit__utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0, n; i < len; i += n)
        if ((n = utf8_sequence(p + i, len - i)) == 0)
            return false;
    return true;
}

void authkit__text_sanitize(char *s) {
    unsigned char *p = (unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0, n; i < len; i += n) {
        n = utf8_sequence(p + i, len - i);
        if (n == 0 || p[i] < 0x20 || p[i] == 0x7f) {
            p[i] = '?';
            n = 1;
        }
    }
}

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

authkit_status authkit__email_normalize(const char *email, char out[AUTHKIT_EMAIL_SIZE],
                                        authkit_error *err) {
    out[0] = '\0';
    if (!email)
        return authkit__fail(err, AUTHKIT_VALIDATION, "email", "Email is required");
    size_t len = strlen(email);
    while (len && is_space(email[len - 1]))
        len--;
    while (len && is_space(*email))
        email++, len--;
    if (len == 0)
        return authkit__fail(err, AUTHKIT_VALIDATION, "email", "Email is required");
    if (len > AUTHKIT_EMAIL_SIZE - 1)
        return authkit__fail(err, AUTHKIT_VALIDATION, "email", "Email must be at most %d bytes",
                             AUTHKIT_EMAIL_SIZE - 1);
    if (!authkit__utf8_valid(email, len))
        return authkit__fail(err, AUTHKIT_VALIDATION, "email", "Email is not valid UTF-8");
    size_t at = len, ats = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)email[i];
        if (c <= 0x20 || c == 0x7f)
            return authkit__fail(err, AUTHKIT_VALIDATION, "email",
                                 "Email must not contain spaces or control characters");
        if (c == '@')
            at = i, ats++;
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    out[len] = '\0';
    const char *domain = out + at + 1;
    const char *dot = ats == 1 ? strchr(domain, '.') : NULL;
    if (ats != 1 || at == 0 || !dot || dot == domain || out[len - 1] == '.') {
        out[0] = '\0';
        return authkit__fail(err, AUTHKIT_VALIDATION, "email", "Invalid email format");
    }
    return AUTHKIT_OK;
}
