/* Helpers shared by the benchmark programs (see bench_util.h). */
#include "bench_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bench_now_ns(void) {
    return clock_ns(CLOCK_MONOTONIC);
}

int64_t bench_thread_cpu_ns(void) {
    return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool bench_parse_long(const char *text, long min, long max, long *out) {
    long v = 0;
    bool digits = false;
    for (const char *p = text; *p; p++) {
        if (*p == '_' || *p == ',')
            continue;
        if (*p < '0' || *p > '9')
            return false;
        if (v > (max - (*p - '0')) / 10)
            return false; /* would exceed max (and so never overflows) */
        v = v * 10 + (*p - '0');
        digits = true;
    }
    if (!digits || v < min)
        return false;
    *out = v;
    return true;
}

bool bench_tmpdir(char *dir, size_t size) {
    static const char pattern[] = "/tmp/authkit-bench-XXXXXX";
    if (size < sizeof pattern)
        return false;
    memcpy(dir, pattern, sizeof pattern);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp %s: %s\n", pattern, strerror(errno));
        return false;
    }
    return true;
}

void bench_remove_db(const char *dir, const char *file) {
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[512];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(path, sizeof path, "%s/%s%s", dir, file, suffixes[i]);
        if (unlink(path) != 0 && errno != ENOENT)
            fprintf(stderr, "warning: cannot delete %s: %s\n", path, strerror(errno));
    }
    if (rmdir(dir) != 0)
        fprintf(stderr, "warning: cannot delete %s: %s\n", dir, strerror(errno));
}

const char *bench_group(char *buf, size_t size, double v) {
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", v < 0 ? -v : v);
    size_t n = strlen(digits), j = 0;
    if (v < 0 && j + 1 < size)
        buf[j++] = '-';
    for (size_t i = 0; i < n && j + 1 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0 && j + 2 < size)
            buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
    return buf;
}
