/* Counters of the HTTP service, rendered in the Prometheus text format at /metrics.
 * Lock-free: updated from every HTTP and worker thread. */
#ifndef AUTHKIT_SERVER_METRICS_H
#define AUTHKIT_SERVER_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum metrics_login {
    LOGIN_SUCCESS,
    LOGIN_FAILURE,
    LOGIN_REJECTED,
    LOGIN_ERROR,
    LOGIN_THROTTLED,
    LOGIN_N
};
enum metrics_validation { VALIDATION_VALID, VALIDATION_INVALID, VALIDATION_ERROR, VALIDATION_N };

#define AUTHKIT_METRICS_CODES   14 /* distinct HTTP statuses counted, plus "other" */
#define AUTHKIT_METRICS_BUCKETS 12 /* latency histogram buckets, plus +Inf */

struct authkit_metrics {
    atomic_uint_fast64_t logins[LOGIN_N];
    atomic_uint_fast64_t validations[VALIDATION_N];
    atomic_uint_fast64_t requests[AUTHKIT_METRICS_CODES + 1];
    atomic_uint_fast64_t latency[AUTHKIT_METRICS_BUCKETS + 1];
    atomic_uint_fast64_t latency_sum_us;
};

void authkit_metrics_login(struct authkit_metrics *m, enum metrics_login r);
void authkit_metrics_validation(struct authkit_metrics *m, enum metrics_validation r);
void authkit_metrics_request(struct authkit_metrics *m, unsigned status, uint64_t elapsed_us);

/* Values read at scrape time from elsewhere. */
struct authkit_metrics_gauges {
    long long active_sessions; /* -1 when unknown (stateless mode, store error) */
    int password_workers;
    size_t password_queue;
    uint64_t password_wait_us;
    uint64_t password_jobs;
    uint64_t audit_failures; /* events the audit trail could not write */
};

/* The text exposition; malloc'd, caller frees. NULL when out of memory. */
char *authkit_metrics_render(struct authkit_metrics *m, const struct authkit_metrics_gauges *g);

#endif
