/* Session tokens are 256 bits from the kernel's CSPRNG (checklist item 33), shown by their
 * statistics, across fork(), and by what happens when the generator fails: the process
 * stops instead of making a weaker token. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "authkit.h"
#include "core/encoding.h"

#define N 200000 /* tokens: 6.4 million random bytes */

static uint8_t raw[N][32];

static int cmp32(const void *a, const void *b) {
    return memcmp(a, b, 32);
}

/* Distinct, every byte value equally likely (chi-square), every bit position set half of
 * the time. Thresholds sit far in the tails (about 1 in 10^9 for a good generator): a
 * stuck bit, a biased byte or a repeating stream fails them by orders of magnitude. */
static void test_statistics(void) {
    char t[AUTHKIT_TOKEN_CHARS + 1];
    static long bytes[256], bits[256];
    for (int i = 0; i < N; i++) {
        authkit__token_new(t);
        CHECK(authkit__token_well_formed(t));
        CHECK(authkit__b64url_decode(raw[i], 32, t, AUTHKIT_TOKEN_CHARS) == 32);
        for (int j = 0; j < 32; j++) {
            bytes[raw[i][j]]++;
            for (int b = 0; b < 8; b++)
                bits[j * 8 + b] += (raw[i][j] >> b) & 1;
        }
    }
    qsort(raw, N, 32, cmp32);
    int repeats = 0;
    for (int i = 1; i < N; i++)
        repeats += memcmp(raw[i - 1], raw[i], 32) == 0;
    CHECK_INT(repeats, 0);

    double expected = N * 32.0 / 256, chi2 = 0;
    for (int v = 0; v < 256; v++)
        chi2 += (bytes[v] - expected) * (bytes[v] - expected) / expected;
    /* 255 degrees of freedom: mean 255, standard deviation 22.6. */
    CHECK_MSG(chi2 < 420, "byte chi-square %.1f over 255 degrees of freedom", chi2);
    long worst = 0;
    for (int b = 0; b < 256; b++) {
        long off = labs(bits[b] - N / 2);
        worst = off > worst ? off : worst;
    }
    /* Binomial(N, 1/2): standard deviation 224; 6.5 of them. */
    CHECK_MSG(worst < 1450, "a bit position is off its expected count by %ld", worst);
}

/* A user-space generator that is not reseeded after fork() gives parent and child the
 * same stream; the kernel's does not. */
static void test_fork(void) {
    enum { K = 64 };
    char parent[K][AUTHKIT_TOKEN_CHARS + 1], child[K][AUTHKIT_TOKEN_CHARS + 1];
    authkit__token_new(parent[0]); /* the generator is in use before the fork */
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < K; i++) {
            authkit__token_new(child[i]);
            if (write(fds[1], child[i], sizeof child[i]) != (ssize_t)sizeof child[i])
                _exit(1);
        }
        _exit(0);
    }
    for (int i = 0; i < K; i++)
        authkit__token_new(parent[i]);
    close(fds[1]);
    size_t got = 0;
    ssize_t n;
    while (got < sizeof child && (n = read(fds[0], (char *)child + got, sizeof child - got)) > 0)
        got += (size_t)n;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    CHECK(got == sizeof child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int same = 0;
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++)
            same += strcmp(parent[i], child[j]) == 0;
    CHECK_INT(same, 0);
}

/* In a child process, getrandom(2) is made to fail (a seccomp filter answers EIO) after the
 * generator was set up. Asked for a token (`hash` false) or a bcrypt hash, whose salt
 * comes from the same generator (checklist item 3), the child must die (libsodium
 * aborts) and write nothing. */
static void generator_failure(bool hash) {
    char t[AUTHKIT_TOKEN_CHARS + 1], h[AUTHKIT_HASH_SIZE];
    authkit__token_new(t);
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        struct sock_filter code[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getrandom, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EIO & SECCOMP_RET_DATA)),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
            _exit(3); /* the kernel or a container refuses filters: see below */
        if (syscall(SYS_getrandom, t, 1, 0) != -1 || errno != EIO)
            _exit(4); /* the filter does not bite */
        signal(SIGABRT, SIG_DFL);
        const char *out = t;
        if (hash) {
            if (authkit_password_hash("correct horse", 13, 4, h) != AUTHKIT_OK)
                _exit(6); /* refused, not aborted: safe, but not what libsodium does */
            out = h;
        } else {
            authkit__token_new(t);
        }
        if (write(fds[1], out, strlen(out)) < 0)
            _exit(5);
        _exit(0); /* a token or a salt came out of a failed generator */
    }
    close(fds[1]);
    char buf[64];
    ssize_t n = read(fds[0], buf, sizeof buf);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
        /* Only where seccomp filters are refused (some containers); Debian 12 allows them. */
        printf("generator failure (%s): skipped, seccomp filters are not allowed here\n",
               hash ? "hash" : "token");
        return;
    }
    CHECK_MSG(!WIFEXITED(status) || WEXITSTATUS(status) != 4,
              "getrandom did not fail in the child under the filter");
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "the child making a %s should abort when the generator fails (exit %d)",
              hash ? "hash" : "token", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    CHECK_INT((int)n, 0); /* nothing written */
}

static void test_generator_failure_stops_the_process(void) {
    generator_failure(false);
    generator_failure(true);
}

int main(void) {
    test_statistics();
    test_fork();
    test_generator_failure_stops_the_process();
    return check_done("test_token_random");
}
