/* The bcrypt known-answer self-test: it passes on this machine's libxcrypt, and when
 * libxcrypt gives wrong answers or refuses to work (tests/support/corrupt_crypt.c,
 * preloaded into a child copy of this program) authkit_open fails with AUTHKIT_CRYPTO
 * before the store is opened. */
#include <crypt.h>

#include "check.h"
#include "fixture.h"
#include "password/bcrypt.h"
#include "rerun.h"

/* Row L8 of tests/testdata/bcrypt-vectors.tsv, one of the self-test's answers. */
static const char l8_hash[] = "$2b$04$CCCCCCCCCCCCCCCCCCCCC.AKurti2nSiRoaXd0tyyeWA.1jj9Kto2";

static void test_passes(void) {
    authkit_error err;
    CHECK_OK(authkit__bcrypt_selftest(&err));
    CHECK_OK(authkit__bcrypt_selftest(NULL));
    struct fixture f;
    fixture_options(&f);
    authkit_status st = authkit_open(&f.opts, &f.ctx, &err);
    CHECK_MSG(st == AUTHKIT_OK, "authkit_open: %s: %s", authkit_status_name(st), err.message);
    fixture_teardown(&f);
}

/* In the child, with the shim preloaded. */
static void test_corrupted(void) {
    /* The shim is in effect: libxcrypt itself now gives a wrong answer. */
    struct crypt_data *data = calloc(1, sizeof *data);
    CHECK(data != NULL);
    if (!data)
        return;
    const char *got = crypt_rn("abc", l8_hash, data, (int)sizeof *data);
    CHECK_MSG(got && strlen(got) == 60 && strcmp(got, l8_hash) != 0,
              "the shim did not change crypt_rn's answer: %s", got ? got : "(null)");
    free(data);

    authkit_error err;
    CHECK_STATUS(authkit__bcrypt_selftest(&err), AUTHKIT_CRYPTO);
    CHECK_STR(err.message, "bcrypt self-test failed: libxcrypt gives wrong answers ($2b$ hash)");

    struct fixture f;
    fixture_options(&f);
    memset(&err, 0, sizeof err);
    CHECK_STATUS(authkit_open(&f.opts, &f.ctx, &err), AUTHKIT_CRYPTO);
    CHECK(f.ctx == NULL);
    CHECK_INT(err.status, AUTHKIT_CRYPTO);
    CHECK_STR(err.field, "");
    CHECK_STR(err.message, "bcrypt self-test failed: libxcrypt gives wrong answers ($2b$ hash)");
    /* The self-test runs before the store is opened: no database file was made. */
    CHECK_MSG(access(f.path, F_OK) != 0, "%s exists", f.path);
    authkit_close(f.ctx);
    fixture_teardown(&f);
}

/* In the child, with the shim preloaded and told to fail every call. */
static void test_refused(void) {
    struct fixture f;
    fixture_options(&f);
    authkit_error err;
    CHECK_STATUS(authkit_open(&f.opts, &f.ctx, &err), AUTHKIT_CRYPTO);
    CHECK(f.ctx == NULL);
    CHECK_STR(err.message, "bcrypt self-test failed: libxcrypt refuses the setting $2b$04$");
    CHECK_MSG(access(f.path, F_OK) != 0, "%s exists", f.path);
    fixture_teardown(&f);
}

int main(int argc, char **argv) {
    rerun_init(argv);
    if (argc > 1 && strcmp(argv[1], "corrupted") == 0) {
        test_corrupted();
        return check_done("test_selftest (libxcrypt corrupted)");
    }
    if (argc > 1 && strcmp(argv[1], "refused") == 0) {
        setenv("AUTHKIT_TEST_CRYPT_REFUSE", "1", 1);
        test_refused();
        return check_done("test_selftest (libxcrypt refusing)");
    }
    test_passes();
    rerun_with_shim(AUTHKIT_CORRUPT_CRYPT, "corrupted");
    rerun_with_shim(AUTHKIT_CORRUPT_CRYPT, "refused");
    return check_done("test_selftest");
}
