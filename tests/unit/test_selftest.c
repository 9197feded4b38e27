/* The bcrypt known-answer self-test: it passes on this machine's libxcrypt, and when
 * libxcrypt gives wrong answers or refuses to work (tests/support/corrupt_crypt.c,
 * preloaded into a child copy of this program) authkit_open fails with AUTHKIT_CRYPTO
 * before the store is opened. */
#include <crypt.h>
#include <limits.h>
#include <link.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "password/bcrypt.h"

/* This program, to run again: argv[0] when it is a path (so that it is this program,
 * not valgrind's loader, when run under valgrind), else /proc/self/exe. */
static const char *self = "/proc/self/exe";

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

/* A sanitizer's runtime must come first in LD_PRELOAD (AddressSanitizer checks): finds
 * the one loaded into this process, if any. */
static int find_runtime(struct dl_phdr_info *info, size_t size, void *out) {
    (void)size;
    const char *base = strrchr(info->dlpi_name, '/');
    base = base ? base + 1 : info->dlpi_name;
    if (strncmp(base, "libasan.so", 10) != 0 && strncmp(base, "libtsan.so", 10) != 0)
        return 0;
    snprintf(out, PATH_MAX, "%s", info->dlpi_name);
    return 1;
}

/* Runs this program again as `mode` ("corrupted" or "refused") with the shim preloaded;
 * its checks count here through its exit status. */
static void test_child_with_shim(const char *mode) {
    char runtime[PATH_MAX] = "";
    dl_iterate_phdr(find_runtime, runtime);
    char preload[2 * PATH_MAX + 2];
    snprintf(preload, sizeof preload, "%s%s%s", runtime, runtime[0] ? ":" : "",
             AUTHKIT_CORRUPT_CRYPT);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        setenv("LD_PRELOAD", preload, 1);
        if (strcmp(mode, "refused") == 0)
            setenv("AUTHKIT_TEST_CRYPT_REFUSE", "1", 1);
        execl(self, "test_selftest", mode, (char *)NULL);
        perror("execl");
        _exit(99);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child with %s failed (status %d)",
              preload, status);
}

int main(int argc, char **argv) {
    if (argv[0] && strchr(argv[0], '/'))
        self = argv[0];
    if (argc > 1 && strcmp(argv[1], "corrupted") == 0) {
        test_corrupted();
        return check_done("test_selftest (libxcrypt corrupted)");
    }
    if (argc > 1 && strcmp(argv[1], "refused") == 0) {
        test_refused();
        return check_done("test_selftest (libxcrypt refusing)");
    }
    test_passes();
    test_child_with_shim("corrupted");
    test_child_with_shim("refused");
    return check_done("test_selftest");
}
