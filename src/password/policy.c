/* The policy for new passwords (docs/DECISIONS.md, "Password policy"): a minimum length in
 * characters, bcrypt's 72-byte limit, no composition rules, no context words and no common
 * passwords. Applied when a password is set, never at login: a login must cost the same
 * whatever the password is (see password/login.c). */
#include <sodium.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/text.h"
#include "password/blocklist.h"

/* Context words shorter than this are not checked: "jo1234567" is not "based on" the
 * address jo@example.com in any useful sense. Usernames are at least 3 characters. */
#define CONTEXT_WORD_MIN 3
/* A username this long is refused anywhere inside a password, not only as its base. */
#define USERNAME_INSIDE_MIN 4

/* Digits and punctuation: what people add around a word to satisfy a rule. ASCII only,
 * so that the answer does not depend on the locale. */
static bool is_filler(unsigned char c) {
    bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    return c > ' ' && c < 0x7f && !letter;
}

static unsigned char ascii_lower(unsigned char c) {
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool equal_nocase(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return false;
    return true;
}

/* true when `pw` is `word` (ASCII case ignored) with nothing but digits and punctuation
 * before and after it: "Alice", "alice1990!", "#1alice". */
static bool based_on(const char *pw, size_t len, const char *word, size_t wlen) {
    if (wlen < CONTEXT_WORD_MIN || wlen > len)
        return false;
    size_t lead = 0, tail = len;
    while (lead < len && is_filler((unsigned char)pw[lead]))
        lead++;
    while (tail > 0 && is_filler((unsigned char)pw[tail - 1]))
        tail--;
    /* Everything before `at` and from `at + wlen` on must be filler. */
    for (size_t at = 0; at <= lead && at + wlen <= len; at++)
        if (at + wlen >= tail && equal_nocase(pw + at, word, wlen))
            return true;
    return false;
}

static bool contains(const char *pw, size_t len, const char *word, size_t wlen) {
    for (size_t at = 0; wlen && at + wlen <= len; at++)
        if (equal_nocase(pw + at, word, wlen))
            return true;
    return false;
}

/* true when the lower-cased password is a list entry followed only by digits and
 * punctuation: "password", "Password1!", "dragon2024". Each candidate is one binary
 * search, so at most 73 look-ups. */
static bool is_common(const char *pw, size_t len) {
    unsigned char low[AUTHKIT_PASSWORD_MAX_BYTES];
    for (size_t i = 0; i < len; i++)
        low[i] = ascii_lower((unsigned char)pw[i]);
    size_t base = len;
    while (base > 0 && is_filler(low[base - 1]))
        base--;
    bool found = false;
    for (size_t n = len; !found && n > 0 && n >= base; n--)
        found = authkit__blocklist_contains((const char *)low, n);
    sodium_memzero(low, sizeof low);
    return found;
}

static size_t code_points(const char *s, size_t len) {
    /* Characters, not bytes: "é" counts once. Continuation bytes are 10xxxxxx. */
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

/* The context words: refusals with their reasons. `email` is normalised or NULL. */
static authkit_status check_context(const char *pw, size_t len, const char *username,
                                    const char *email, const char *service, authkit_error *err) {
    size_t n = username ? strnlen(username, AUTHKIT_EMAIL_SIZE) : 0;
    if (n >= USERNAME_INSIDE_MIN && contains(pw, len, username, n))
        return authkit__fail(err, AUTHKIT_VALIDATION, "password",
                             "Password must not contain your username");
    if (based_on(pw, len, username, n))
        return authkit__fail(err, AUTHKIT_VALIDATION, "password",
                             "Password must not be based on your username");
    if (email) {
        const char *at = strrchr(email, '@');
        if (based_on(pw, len, email, strlen(email)) ||
            (at && based_on(pw, len, email, (size_t)(at - email))))
            return authkit__fail(err, AUTHKIT_VALIDATION, "password",
                                 "Password must not be based on your email address");
    }
    if (service && based_on(pw, len, service, strlen(service)))
        return authkit__fail(err, AUTHKIT_VALIDATION, "password",
                             "Password must not be based on the name of this service");
    return AUTHKIT_OK;
}

authkit_status authkit_password_policy_check(const authkit_ctx *ctx, const char *password,
                                             size_t len, const char *username, const char *email,
                                             authkit_error *err) {
    if (!authkit__ctx_ok(ctx))
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, "invalid context");
    authkit_status st = authkit_password_check_bytes(password, len);
    if (st != AUTHKIT_OK)
        return authkit__fail(err, st, "password", NULL);
    int min = ctx->opts.password_min_length;
    if (code_points(password, len) < (size_t)min)
        return authkit__fail(err, AUTHKIT_VALIDATION, "password",
                             "Password is too short (minimum %d characters)", min);
    char normalized[AUTHKIT_EMAIL_SIZE];
    bool have_email = email && authkit__email_normalize(email, normalized, NULL) == AUTHKIT_OK;
    st = check_context(password, len, username, have_email ? normalized : NULL,
                       ctx->opts.service_name, err);
    if (st != AUTHKIT_OK)
        return st;
    if (is_common(password, len))
        return authkit__fail(err, AUTHKIT_VALIDATION, "password",
                             "Password is in a list of commonly used passwords");
    return authkit__ok(err);
}
