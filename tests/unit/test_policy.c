/* The policy for new passwords (src/password/policy.c, src/password/blocklist.c): length in
 * code points, the common-password list, context words, each refusal with its reason, and
 * its use by authkit_user_create() / authkit_user_set_password(). Never at login. */
#include <sodium.h>

#include "check.h"
#include "fixture.h"
#include "password/blocklist.h"

static struct fixture fx;

#define TOO_SHORT_8  "Password is too short (minimum 8 characters)"
#define TOO_SHORT_15 "Password is too short (minimum 15 characters)"
#define COMMON       "Password is in a list of commonly used passwords"
#define HAS_USERNAME "Password must not contain your username"
#define ON_USERNAME  "Password must not be based on your username"
#define ON_EMAIL     "Password must not be based on your email address"
#define ON_SERVICE   "Password must not be based on the name of this service"

struct row {
    const char *password; /* NUL-terminated unless len is given */
    size_t len;           /* 0: strlen(password) */
    const char *username, *email;
    authkit_status want;
    const char *message; /* NULL when `want` is AUTHKIT_OK */
};

static void check_rows(authkit_ctx *ctx, const char *table, const struct row *rows, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        size_t len = r->len ? r->len : strlen(r->password);
        authkit_error err;
        authkit_status st =
            authkit_password_policy_check(ctx, r->password, len, r->username, r->email, &err);
        CHECK_MSG(st == r->want, "%s row %zu (\"%s\"): %s, expected %s (%s)", table, i, r->password,
                  authkit_status_name(st), authkit_status_name(r->want), err.message);
        CHECK_MSG(err.status == st, "%s row %zu: err.status", table, i);
        if (r->message) {
            CHECK_MSG(strcmp(err.message, r->message) == 0, "%s row %zu: message \"%s\"", table, i,
                      err.message);
            CHECK_MSG(strcmp(err.field, "password") == 0, "%s row %zu: field \"%s\"", table, i,
                      err.field);
        }
    }
}

static void test_length_in_code_points(void) {
    char e8[17], e7[15];
    for (int i = 0; i < 8; i++)
        memcpy(e8 + 2 * i, "\xc3\xa9", 2); /* "é" */
    e8[16] = '\0';
    memcpy(e7, e8, 14);
    e7[14] = '\0';
    const struct row rows[] = {
        {e8, 16, NULL, NULL, AUTHKIT_OK, NULL}, /* 16 bytes, 8 characters */
        {e7, 14, NULL, NULL, AUTHKIT_VALIDATION, TOO_SHORT_8},
        {"k7-plum", 0, NULL, NULL, AUTHKIT_VALIDATION, TOO_SHORT_8},
        {"k7-plums", 0, NULL, NULL, AUTHKIT_OK, NULL},
        {"", 0, NULL, NULL, AUTHKIT_VALIDATION, TOO_SHORT_8},
        {"\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91", 16, NULL, NULL,
         AUTHKIT_VALIDATION, TOO_SHORT_8}, /* 4 emoji: 16 bytes, 4 characters */
    };
    check_rows(fx.ctx, "length", rows, sizeof rows / sizeof rows[0]);
    CHECK_STATUS(authkit_password_policy_check(fx.ctx, NULL, 0, NULL, NULL, NULL),
                 AUTHKIT_VALIDATION);
}

static void test_minimum_15(void) {
    struct fixture f15;
    fixture_options(&f15);
    f15.opts.password_min_length = 15;
    fixture_open(&f15);
    char e15[31];
    for (int i = 0; i < 15; i++)
        memcpy(e15 + 2 * i, "\xc3\xa9", 2);
    e15[30] = '\0';
    const struct row rows[] = {
        {"k3#Vx9!qLp2@Zm", 0, NULL, NULL, AUTHKIT_VALIDATION, TOO_SHORT_15}, /* 14 */
        {"k3#Vx9!qLp2@Zmw", 0, NULL, NULL, AUTHKIT_OK, NULL},                /* 15 */
        {e15, 30, NULL, NULL, AUTHKIT_OK, NULL},                             /* 15, 30 bytes */
        {e15, 28, NULL, NULL, AUTHKIT_VALIDATION, TOO_SHORT_15},             /* 14, 28 bytes */
    };
    check_rows(f15.ctx, "min 15", rows, sizeof rows / sizeof rows[0]);
    fixture_teardown(&f15);
}

static void test_bytes(void) {
    char p72[73], p73[74];
    memset(p72, 'x', 72);
    memset(p73, 'y', 73);
    p72[72] = p73[73] = '\0';
    const struct row rows[] = {
        {p72, 72, NULL, NULL, AUTHKIT_OK, NULL},
        {p73, 73, NULL, NULL, AUTHKIT_PASSWORD_TOO_LONG, NULL},
        {"long enough\0but", 15, NULL, NULL, AUTHKIT_PASSWORD_HAS_NUL, NULL},
    };
    check_rows(fx.ctx, "bytes", rows, sizeof rows / sizeof rows[0]);
    authkit_error err;
    CHECK_STATUS(authkit_password_policy_check(fx.ctx, NULL, 9, NULL, NULL, &err),
                 AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_password_policy_check(NULL, "k7-plums", 8, NULL, NULL, &err),
                 AUTHKIT_INVALID_ARGUMENT);
}

static void test_common_passwords(void) {
    const struct row rows[] = {
        {"password", 0, NULL, NULL, AUTHKIT_VALIDATION, COMMON},
        {"123456789", 0, NULL, NULL, AUTHKIT_VALIDATION, COMMON},
        {"qwertyuiop", 0, NULL, NULL, AUTHKIT_VALIDATION, COMMON},
        {"iloveyou", 0, NULL, NULL, AUTHKIT_VALIDATION, COMMON},
        /* Another case. */
        {"PassWord", 0, NULL, NULL, AUTHKIT_VALIDATION, COMMON},
        {"QWERTYUIOP", 0, NULL, NULL, AUTHKIT_VALIDATION, COMMON},
        {"TrustNo1", 0, NULL, NULL, AUTHKIT_VALIDATION, COMMON},
        /* An entry followed by digits and punctuation. */
        {"password2024", 0, NULL, NULL, AUTHKIT_VALIDATION, COMMON},
        {"Password1!", 0, NULL, NULL, AUTHKIT_VALIDATION, COMMON},
        {"dragon_2024!!", 0, NULL, NULL, AUTHKIT_VALIDATION, COMMON},
        {"abc123!!", 0, NULL, NULL, AUTHKIT_VALIDATION, COMMON}, /* "abc123" + "!!" */
        {"qwertyuiop1234567890", 0, NULL, NULL, AUTHKIT_VALIDATION, COMMON},
        {"1234567890123", 0, NULL, NULL, AUTHKIT_VALIDATION, COMMON},
        /* Not caught, as documented: added letters, a prefix, a space. */
        {"passwordly", 0, NULL, NULL, AUTHKIT_OK, NULL},
        {"my password", 0, NULL, NULL, AUTHKIT_OK, NULL},
        {"correct horse battery staple", 0, NULL, NULL, AUTHKIT_OK, NULL},
        {"rosy-lantern", 0, NULL, NULL, AUTHKIT_OK, NULL},
    };
    check_rows(fx.ctx, "common", rows, sizeof rows / sizeof rows[0]);
}

static void test_context_words(void) {
    const struct row rows[] = {
        /* The username: anywhere when 4 or more characters, in any case. */
        {"Alice_W2024", 0, "alice_w", NULL, AUTHKIT_VALIDATION, HAS_USERNAME},
        {"my-ALICE_W-pass", 0, "alice_w", NULL, AUTHKIT_VALIDATION, HAS_USERNAME},
        {"mary-had-a-lamb", 0, "mary", NULL, AUTHKIT_VALIDATION, HAS_USERNAME},
        /* A 3-character username only as the base of the password. */
        {"bob12345", 0, "bob", NULL, AUTHKIT_VALIDATION, ON_USERNAME},
        {"!!Bob!!2024", 0, "bob", NULL, AUTHKIT_VALIDATION, ON_USERNAME},
        {"bobsleigh-team", 0, "bob", NULL, AUTHKIT_OK, NULL},
        /* The email: its local part or the whole address. */
        {"Wonder.Land2024", 0, "alice_w", "wonder.land@example.com", AUTHKIT_VALIDATION, ON_EMAIL},
        {"wonder.land@example.com", 0, "alice_w", "wonder.land@example.com", AUTHKIT_VALIDATION,
         ON_EMAIL},
        {"1wonder.land!", 0, NULL, "  Wonder.Land@Example.COM ", AUTHKIT_VALIDATION, ON_EMAIL},
        {"wonderland-trip", 0, NULL, "wonder.land@example.com", AUTHKIT_OK, NULL},
        /* A local part shorter than 3 characters is not a word. */
        {"jo123456", 0, NULL, "jo@example.com", AUTHKIT_OK, NULL},
        /* The service name ("authkit" by default). */
        {"authkit2024!", 0, NULL, NULL, AUTHKIT_VALIDATION, ON_SERVICE},
        {"#AuthKit#", 0, NULL, NULL, AUTHKIT_VALIDATION, ON_SERVICE},
        {"authkit is fine", 0, NULL, NULL, AUTHKIT_OK, NULL},
        /* Context words are checked before the list. */
        {"Dragon2024", 0, "dragon", NULL, AUTHKIT_VALIDATION, HAS_USERNAME},
    };
    check_rows(fx.ctx, "context", rows, sizeof rows / sizeof rows[0]);

    /* A configured service name replaces the default; NULL turns the check off. */
    struct fixture fs;
    fixture_options(&fs);
    fs.opts.service_name = "Acme-Portal";
    fixture_open(&fs);
    const struct row acme[] = {
        {"acme-portal99", 0, NULL, NULL, AUTHKIT_VALIDATION, ON_SERVICE},
        {"authkit2024!", 0, NULL, NULL, AUTHKIT_OK, NULL},
    };
    check_rows(fs.ctx, "service", acme, sizeof acme / sizeof acme[0]);
    fixture_teardown(&fs);
    fixture_options(&fs);
    fs.opts.service_name = NULL;
    fixture_open(&fs);
    const struct row none[] = {{"authkit2024!", 0, NULL, NULL, AUTHKIT_OK, NULL}};
    check_rows(fs.ctx, "no service", none, 1);
    fixture_teardown(&fs);
}

/* Random 16-character passwords from a 64-character alphabet pass. */
static void test_random_accepted(void) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 200; i++) {
        char pw[17];
        unsigned char r[16];
        randombytes_buf(r, sizeof r);
        for (size_t j = 0; j < sizeof r; j++)
            pw[j] = alphabet[r[j] & 63];
        pw[16] = '\0';
        authkit_error err;
        authkit_status st =
            authkit_password_policy_check(fx.ctx, pw, 16, "alice_w", "alice@example.com", &err);
        CHECK_MSG(st == AUTHKIT_OK, "random row %d (\"%s\"): %s", i, pw, err.message);
    }
}

/* The generated list: at least 10,000 entries, lower case, strictly ascending. */
static void test_blocklist_data(void) {
    size_t n = authkit__blocklist_size();
    CHECK_MSG(n >= 10000, "only %zu entries", n);
    CHECK_INT(n, authkit__blocklist_count);
    size_t bad_order = 0, upper = 0;
    for (size_t i = 0; i < n; i++) {
        const char *w = authkit__blocklist_words + authkit__blocklist_offsets[i];
        size_t len = authkit__blocklist_offsets[i + 1] - authkit__blocklist_offsets[i];
        for (size_t j = 0; j < len; j++)
            upper += w[j] >= 'A' && w[j] <= 'Z';
        if (i > 0) {
            const char *p = authkit__blocklist_words + authkit__blocklist_offsets[i - 1];
            size_t plen = authkit__blocklist_offsets[i] - authkit__blocklist_offsets[i - 1];
            int c = memcmp(p, w, plen < len ? plen : len);
            bad_order += c > 0 || (c == 0 && plen >= len);
        }
        /* Every entry is found by the search. */
        if (!authkit__blocklist_contains(w, len))
            CHECK_MSG(false, "entry %zu not found", i);
    }
    CHECK_INT(bad_order, 0);
    CHECK_INT(upper, 0);
    CHECK(authkit__blocklist_contains("password", 8));
    CHECK(!authkit__blocklist_contains("k7-plums", 8));
    CHECK(authkit__blocklist_contains("passwordq", 8)); /* the length counts, not the NUL */
    CHECK(!authkit__blocklist_contains("passwordq", 9));
    CHECK(!authkit__blocklist_contains("Password", 8));
    CHECK(!authkit__blocklist_contains("", 0));
    CHECK(!authkit__blocklist_contains(NULL, 3));
    printf("blocklist: %zu entries\n", n);
}

/* user_create and set_password apply the policy with the user's own words; login does not. */
static void test_applied_on_set(void) {
    authkit_error err;
    authkit_user_new in = {.email = "quinn@example.com",
                           .username = "quinn",
                           .password = "Password1!",
                           .password_len = 10};
    CHECK_STATUS(authkit_user_create(fx.ctx, &in, NULL, &err), AUTHKIT_VALIDATION);
    CHECK_STR(err.field, "password");
    CHECK_STR(err.message, COMMON);
    in.password = "quinn-the-eskimo";
    in.password_len = strlen(in.password);
    CHECK_STATUS(authkit_user_create(fx.ctx, &in, NULL, &err), AUTHKIT_VALIDATION);
    CHECK_STR(err.message, HAS_USERNAME);
    CHECK_INT(fixture_query_int(&fx, "SELECT count(*) FROM users"), 0);
    /* An imported hash is not a password: no policy (it cannot be checked). */
    in.password = NULL;
    in.password_len = 0;
    in.password_hash = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
    authkit_user quinn;
    CHECK_OK(authkit_user_create(fx.ctx, &in, &quinn, &err));
    /* An existing password that the policy would refuse still logs in ("U*U"). */
    authkit_login_result lr;
    CHECK_OK(authkit_authenticate(fx.ctx, "quinn", "U*U", 3, NULL, &lr, &err));
    const struct {
        const char *password;
        const char *message;
    } rows[] = {
        {"qwertyuiop", COMMON},
        {"QUINN!2024", HAS_USERNAME},
        {"Quinn@Example.com", HAS_USERNAME},
        {"short", TOO_SHORT_8},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        authkit_status st = authkit_user_set_password(fx.ctx, quinn.id, rows[i].password,
                                                      strlen(rows[i].password), &err);
        CHECK_MSG(st == AUTHKIT_VALIDATION, "set row %zu: %s", i, authkit_status_name(st));
        CHECK_MSG(strcmp(err.message, rows[i].message) == 0, "set row %zu: \"%s\"", i, err.message);
        CHECK_MSG(strcmp(err.field, "password") == 0, "set row %zu: field", i);
    }
    /* Nothing changed: the session (no password change ends it) and the old password
     * still work. */
    authkit_user who;
    CHECK_OK(authkit_session_validate(fx.ctx, lr.token, &who, NULL, NULL));
    CHECK_OK(authkit_authenticate(fx.ctx, "quinn", "U*U", 3, NULL, &lr, &err));
    CHECK_OK(authkit_user_set_password(fx.ctx, quinn.id, "sleet over the quay", 19, &err));
    CHECK_OK(authkit_authenticate(fx.ctx, "quinn", "sleet over the quay", 19, NULL, &lr, &err));
    sodium_memzero(&lr, sizeof lr);
}

int main(void) {
    if (sodium_init() < 0)
        return 1;
    fixture_setup(&fx);
    test_length_in_code_points();
    test_minimum_15();
    test_bytes();
    test_common_passwords();
    test_context_words();
    test_random_accepted();
    test_blocklist_data();
    test_applied_on_set();
    fixture_teardown(&fx);
    return check_done("test_policy");
}
