/* Anti-CSRF tokens (include/authkit/csrf.h): a known answer that pins the construction
 * (every node must compute the same token), one token per session and per secret, refusal
 * of every altered form, sessions in both modes, and the constant-time comparison. */
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"
#include "fixture.h"

static const char sid_a[] = "0a1b2c3d-4e5f-4061-8a7b-9c0d1e2f3a4b";
static const char sid_b[] = "0a1b2c3d-4e5f-4061-8a7b-9c0d1e2f3a4c";
/* base64url(HMAC-SHA-256(HMAC-SHA-256(TEST_SECRET, "authkit-csrf-key-v1"),
 * "authkit-csrf-v1" || sid_a)), computed with Python's hmac module. */
static const char token_a[] = "u_akyq5z3B8iQPzAKQRNLwu0n6JyS9xl_P0Kfqs3e1s";

static authkit_ctx *open_with_secret(struct fixture *f, const char *secret) {
    authkit_options o = f->opts;
    o.session_secret = secret;
    authkit_ctx *ctx = NULL;
    authkit_error err;
    if (authkit_open(&o, &ctx, &err) != AUTHKIT_OK) {
        fprintf(stderr, "authkit_open: %s\n", err.message);
        exit(99);
    }
    return ctx;
}

static bool base64url_43(const char *t) {
    if (strlen(t) != 43)
        return false;
    for (const char *p = t; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

static void test_known_answer_and_shape(struct fixture *f) {
    char t[AUTHKIT_CSRF_TOKEN_SIZE], again[AUTHKIT_CSRF_TOKEN_SIZE];
    CHECK_OK(authkit_csrf_token(f->ctx, sid_a, t));
    CHECK_STR(t, token_a);
    CHECK(base64url_43(t));
    CHECK_OK(authkit_csrf_token(f->ctx, sid_a, again));
    CHECK_STR(again, t);
    CHECK_OK(authkit_csrf_verify(f->ctx, sid_a, token_a));
}

/* Another session, or the same session under another secret: another token. A second
 * context on the same secret (another node) agrees. */
static void test_per_session_and_per_secret(struct fixture *f) {
    char a[AUTHKIT_CSRF_TOKEN_SIZE], b[AUTHKIT_CSRF_TOKEN_SIZE], other[AUTHKIT_CSRF_TOKEN_SIZE];
    char node2[AUTHKIT_CSRF_TOKEN_SIZE];
    CHECK_OK(authkit_csrf_token(f->ctx, sid_a, a));
    CHECK_OK(authkit_csrf_token(f->ctx, sid_b, b));
    CHECK(strcmp(a, b) != 0);
    CHECK_STATUS(authkit_csrf_verify(f->ctx, sid_a, b), AUTHKIT_CSRF);
    CHECK_STATUS(authkit_csrf_verify(f->ctx, sid_b, a), AUTHKIT_CSRF);

    authkit_ctx *rotated = open_with_secret(f, "another-secret-0123456789-abcdefghijkl");
    CHECK_OK(authkit_csrf_token(rotated, sid_a, other));
    CHECK(strcmp(a, other) != 0);
    CHECK_STATUS(authkit_csrf_verify(rotated, sid_a, a), AUTHKIT_CSRF);
    CHECK_STATUS(authkit_csrf_verify(f->ctx, sid_a, other), AUTHKIT_CSRF);
    authkit_close(rotated);

    authkit_ctx *same = open_with_secret(f, TEST_SECRET);
    CHECK_OK(authkit_csrf_token(same, sid_a, node2));
    CHECK_STR(node2, a);
    CHECK_OK(authkit_csrf_verify(same, sid_a, a));
    authkit_close(same);
}

/* Every altered form of a valid token is refused: empty, NULL, truncated by one or more,
 * one character longer, and each single position changed. */
static void test_altered_tokens_refused(struct fixture *f) {
    char t[AUTHKIT_CSRF_TOKEN_SIZE + 8];
    CHECK_STATUS(authkit_csrf_verify(f->ctx, sid_a, NULL), AUTHKIT_CSRF);
    CHECK_STATUS(authkit_csrf_verify(f->ctx, sid_a, ""), AUTHKIT_CSRF);
    for (size_t len = 1; len < sizeof token_a - 1; len++) {
        snprintf(t, sizeof t, "%.*s", (int)len, token_a);
        CHECK_STATUS(authkit_csrf_verify(f->ctx, sid_a, t), AUTHKIT_CSRF);
    }
    snprintf(t, sizeof t, "%sA", token_a);
    CHECK_STATUS(authkit_csrf_verify(f->ctx, sid_a, t), AUTHKIT_CSRF);
    for (size_t i = 0; i < sizeof token_a - 1; i++) {
        static const char swaps[] = {'A', 'B', '-', '_', '0', '\0'};
        for (size_t k = 0; k < sizeof swaps; k++) {
            memcpy(t, token_a, sizeof token_a);
            if (t[i] == swaps[k])
                continue;
            t[i] = swaps[k];
            authkit_status st = authkit_csrf_verify(f->ctx, sid_a, t);
            CHECK_MSG(st == AUTHKIT_CSRF, "position %zu -> 0x%02x: %s", i, (unsigned)swaps[k],
                      authkit_status_name(st));
        }
    }
    /* The same characters, differently cased: another token. */
    memcpy(t, token_a, sizeof token_a);
    t[0] = 'U';
    CHECK_STATUS(authkit_csrf_verify(f->ctx, sid_a, t), AUTHKIT_CSRF);
}

static void test_bad_arguments(struct fixture *f) {
    char t[AUTHKIT_CSRF_TOKEN_SIZE] = "x";
    static const char *const bad_ids[] = {NULL,
                                          "",
                                          "not-a-uuid",
                                          "0A1B2C3D-4E5F-4061-8A7B-9C0D1E2F3A4B",
                                          "0a1b2c3d-4e5f-4061-8a7b-9c0d1e2f3a4b0",
                                          "0a1b2c3d-4e5f-4061-8a7b-9c0d1e2f3a4"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        CHECK_MSG(authkit_csrf_token(f->ctx, bad_ids[i], t) == AUTHKIT_INVALID_ARGUMENT, "row %zu",
                  i);
        CHECK_MSG(t[0] == '\0', "row %zu: output not cleared", i);
        CHECK_MSG(authkit_csrf_verify(f->ctx, bad_ids[i], token_a) == AUTHKIT_INVALID_ARGUMENT,
                  "row %zu", i);
    }
    CHECK_STATUS(authkit_csrf_token(NULL, sid_a, t), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_csrf_token(f->ctx, sid_a, NULL), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_csrf_verify(NULL, sid_a, token_a), AUTHKIT_INVALID_ARGUMENT);
}

/* Real sessions: the id from the login result and the one validation reports give the
 * same token; a new login is a new session with a new token. `stateless`: the JWT sid. */
static void test_sessions(bool stateless) {
    struct fixture f;
    fixture_options(&f);
    f.opts.enable_session_storage = !stateless;
    fixture_open(&f);
    fixture_user(&f, "csrf_user", "correct horse");
    authkit_login_result r1, r2;
    CHECK_OK(authkit_authenticate(f.ctx, "csrf_user", "correct horse", 13, NULL, &r1, NULL));
    CHECK_OK(authkit_authenticate(f.ctx, "csrf_user", "correct horse", 13, NULL, &r2, NULL));
    authkit_user u;
    authkit_session_info s;
    CHECK_OK(authkit_session_validate(f.ctx, r1.token, &u, &s, NULL));
    CHECK_STR(s.id, r1.session_id);
    char t1[AUTHKIT_CSRF_TOKEN_SIZE], t2[AUTHKIT_CSRF_TOKEN_SIZE];
    CHECK_OK(authkit_csrf_token(f.ctx, r1.session_id, t1));
    CHECK_OK(authkit_csrf_token(f.ctx, r2.session_id, t2));
    CHECK(strcmp(t1, t2) != 0);
    CHECK_OK(authkit_csrf_verify(f.ctx, s.id, t1));
    CHECK_STATUS(authkit_csrf_verify(f.ctx, s.id, t2), AUTHKIT_CSRF);
    fixture_teardown(&f);
}

int main(void) {
    struct fixture f;
    fixture_setup(&f);
    test_known_answer_and_shape(&f);
    test_per_session_and_per_secret(&f);
    test_altered_tokens_refused(&f);
    test_bad_arguments(&f);
    fixture_teardown(&f);
    test_sessions(false);
    test_sessions(true);
    return check_done("csrf");
}
