/* The equal-cost login path (src/password/login.c and the context's dummy hash): for two
 * configured costs, the dummy hash has that cost, and every failed login - unknown user,
 * wrong password, inactive user, user without a password, wrong password of an account that
 * must change its password, by username and by email - runs exactly one bcrypt, at the
 * configured cost, and so does the right password of that account (refused too). The timing itself
 * is measured by bench/bench_timing.c. */
#include <sodium.h>

#include "check.h"
#include "core/ctx.h"
#include "fixture.h"
#include "password/bcrypt.h"
#include "password/login.h"

#define PW "sleet over the quay"

static void check_cost(int cost) {
    struct fixture f;
    fixture_options(&f);
    f.opts.bcrypt_cost = cost;
    fixture_open(&f);

    /* The dummy hash is a valid hash of the configured cost that matches nothing. */
    CHECK_MSG(authkit__bcrypt_hash_acceptable(f.ctx->dummy_hash), "cost %d: dummy \"%s\"", cost,
              f.ctx->dummy_hash);
    CHECK_MSG(authkit__bcrypt_cost(f.ctx->dummy_hash) == cost, "cost %d: dummy hash cost %d", cost,
              authkit__bcrypt_cost(f.ctx->dummy_hash));
    CHECK_MSG(authkit_password_verify(PW, strlen(PW), f.ctx->dummy_hash) == AUTHKIT_MISMATCH,
              "cost %d: the dummy hash is refused instead of compared", cost);

    fixture_user(&f, "known", PW);
    authkit_user off = fixture_user(&f, "inactive", PW);
    authkit_user_update up = {.set_is_active = true, .is_active = false};
    CHECK_OK(authkit_user_update_fields(f.ctx, off.id, &up, NULL, NULL));
    fixture_user(&f, "no_password", NULL);
    authkit_user flagged = fixture_user(&f, "flagged", PW);
    CHECK_OK(authkit_user_require_password_change(f.ctx, flagged.id, NULL));
    const struct {
        const char *login, *password;
        authkit_status want;
    } rows[] = {
        {"nobody", PW, AUTHKIT_AUTHENTICATION},
        {"nobody@example.com", PW, AUTHKIT_AUTHENTICATION},
        {"known", "sleet over the quai", AUTHKIT_AUTHENTICATION},
        {"known@example.com", "sleet over the quai", AUTHKIT_AUTHENTICATION},
        {"inactive", PW, AUTHKIT_AUTHENTICATION},
        {"inactive@example.com", PW, AUTHKIT_AUTHENTICATION},
        {"no_password", PW, AUTHKIT_AUTHENTICATION},
        {"no_password@example.com", PW, AUTHKIT_AUTHENTICATION},
        {"flagged", "sleet over the quai", AUTHKIT_AUTHENTICATION},
        {"flagged@example.com", "sleet over the quai", AUTHKIT_AUTHENTICATION},
        {"flagged", PW, AUTHKIT_PASSWORD_CHANGE_REQUIRED},
        {"flagged@example.com", PW, AUTHKIT_PASSWORD_CHANGE_REQUIRED},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        authkit_login_result r;
        uint64_t runs = authkit__bcrypt_runs();
        authkit_status st = authkit_authenticate(f.ctx, rows[i].login, rows[i].password,
                                                 strlen(rows[i].password), NULL, &r, NULL);
        uint64_t ran = authkit__bcrypt_runs() - runs;
        CHECK_MSG(st == rows[i].want, "cost %d row %zu: %s", cost, i, authkit_status_name(st));
        CHECK_MSG(ran == 1, "cost %d row %zu: %llu bcrypt runs", cost, i, (unsigned long long)ran);
        CHECK_MSG(authkit__bcrypt_last_cost() == cost, "cost %d row %zu: bcrypt ran at cost %d",
                  cost, i, authkit__bcrypt_last_cost());
    }
    /* The same through the helper alone, with no stored hash at all. */
    uint64_t runs = authkit__bcrypt_runs();
    CHECK_STATUS(authkit__password_verify_equalized(NULL, f.ctx->dummy_hash, PW, strlen(PW)),
                 AUTHKIT_MISMATCH);
    CHECK_INT(authkit__bcrypt_runs() - runs, 1);
    CHECK_INT(authkit__bcrypt_last_cost(), cost);
    fixture_teardown(&f);
}

/* Checklist 14: a password is verified exactly as set - spaces at either end, inner
 * spaces, any printable Unicode - and a trimmed or case-changed variant is refused. */
static void check_exact(void) {
    static const char *const set[] = {"  correct horse battery staple  ", "\tstaple-tab-lead-97",
                                      "snow\xe2\x98\x83man-\xf0\x9f\x94\x91-key-in-42"};
    static const char *const wrong[][3] = {
        {"correct horse battery staple", "  correct horse battery staple",
         "  CORRECT HORSE BATTERY STAPLE  "},
        {"staple-tab-lead-97", " staple-tab-lead-97", "\tSTAPLE-tab-lead-97"},
        {"snowman-key-in-42", "SNOW\xe2\x98\x83MAN-\xf0\x9f\x94\x91-KEY-IN-42",
         "snow\xe2\x98\x83man-\xf0\x9f\x94\x91-key-in-42 "},
    };
    struct fixture f;
    fixture_options(&f);
    f.opts.throttle_account_failures = 0; /* many wrong tries below, all meant to be judged */
    f.opts.throttle_pair_failures = 0;
    fixture_open(&f);
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "exact_%zu", i);
        fixture_user(&f, name, set[i]);
        authkit_login_result r;
        CHECK_MSG(authkit_authenticate(f.ctx, name, set[i], strlen(set[i]), NULL, &r, NULL) ==
                      AUTHKIT_OK,
                  "row %zu: the password as set", i);
        for (size_t k = 0; k < 3; k++)
            CHECK_MSG(authkit_authenticate(f.ctx, name, wrong[i][k], strlen(wrong[i][k]), NULL, &r,
                                           NULL) == AUTHKIT_AUTHENTICATION,
                      "row %zu: variant %zu logged in", i, k);
    }
    fixture_teardown(&f);
}

int main(void) {
    if (sodium_init() < 0)
        return 1;
    check_cost(4);
    check_cost(6);
    check_exact();
    return check_done("test_login");
}
