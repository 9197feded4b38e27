/* Helpers shared by the benchmark programs: clocks, medians, option parsing and the
 * temporary directory each run works in. Not part of the library; single-threaded. */
#ifndef AUTHKIT_BENCH_UTIL_H
#define AUTHKIT_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nanoseconds of CLOCK_MONOTONIC (wall time, never jumps). */
int64_t bench_now_ns(void);

/* Nanoseconds of CPU time consumed by the calling thread (CLOCK_THREAD_CPUTIME_ID): on a
 * shared machine, wall time minus this is time the thread waited for a core. */
int64_t bench_thread_cpu_ns(void);

/* Median of the `n` values (n > 0); `v` is sorted in place. */
double bench_median(double *v, size_t n);

/* Parses a decimal integer in [min, max] (digits only, "_" and "," allowed as separators,
 * e.g. 1,000,000). false on anything else. */
bool bench_parse_long(const char *text, long min, long max, long *out);

/* Creates a private directory /tmp/authkit-bench-XXXXXX and writes its path to `dir`.
 * false (with a message on stderr) on failure. */
bool bench_tmpdir(char *dir, size_t size);

/* Deletes the SQLite database `dir`/`file` with its -wal, -shm and -journal files, then
 * the directory itself. Missing files are ignored. */
void bench_remove_db(const char *dir, const char *file);

/* Formats `v` with thousands separators ("1,234,567") into `buf`; returns `buf`. */
const char *bench_group(char *buf, size_t size, double v);

#endif
