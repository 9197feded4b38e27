/* Runs this test program again in a child, with a shim library in LD_PRELOAD: for the
 * tests that must watch or break what libc or libxcrypt do. The child's checks count in
 * the parent through its exit status. */
#ifndef AUTHKIT_TEST_RERUN_H
#define AUTHKIT_TEST_RERUN_H

#include <limits.h>
#include <link.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* This program: argv[0] when it is a path (so that under valgrind it is this program,
 * not valgrind's loader), else /proc/self/exe. Set by rerun_init. */
static const char *rerun_self = "/proc/self/exe";

static inline void rerun_init(char **argv) {
    if (argv[0] && strchr(argv[0], '/'))
        rerun_self = argv[0];
}

/* A sanitizer's runtime must come first in LD_PRELOAD (AddressSanitizer checks): finds
 * the one loaded into this process, if any. */
static inline int rerun_find_runtime(struct dl_phdr_info *info, size_t size, void *out) {
    (void)size;
    const char *base = strrchr(info->dlpi_name, '/');
    base = base ? base + 1 : info->dlpi_name;
    if (strncmp(base, "libasan.so", 10) != 0 && strncmp(base, "libtsan.so", 10) != 0)
        return 0;
    snprintf(out, PATH_MAX, "%s", info->dlpi_name);
    return 1;
}

/* Runs `this-program mode` with `shim` preloaded and checks that it exits 0. */
static inline void rerun_with_shim(const char *shim, const char *mode) {
    char runtime[PATH_MAX] = "";
    dl_iterate_phdr(rerun_find_runtime, runtime);
    char preload[2 * PATH_MAX + 2];
    snprintf(preload, sizeof preload, "%s%s%s", runtime, runtime[0] ? ":" : "", shim);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid < 0)
        return;
    if (pid == 0) {
        setenv("LD_PRELOAD", preload, 1);
        execl(rerun_self, rerun_self, mode, (char *)NULL);
        perror("execl");
        _exit(99);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the child (%s) with %s failed (status %d)", mode, shim, status);
}

#endif
