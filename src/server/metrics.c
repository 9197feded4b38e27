#include "server/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const unsigned codes[AUTHKIT_METRICS_CODES] = {200, 303, 400, 401, 403, 404, 405,
                                                      411, 413, 415, 429, 431, 500, 503};
static const double bucket_seconds[AUTHKIT_METRICS_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
static const char *const login_names[LOGIN_N] = {"success", "failure", "rejected", "error",
                                                 "throttled"};
static const char *const validation_names[VALIDATION_N] = {"valid", "invalid", "error"};

void authkit_metrics_login(struct authkit_metrics *m, enum metrics_login r) {
    atomic_fetch_add(&m->logins[r], 1);
}

void authkit_metrics_validation(struct authkit_metrics *m, enum metrics_validation r) {
    atomic_fetch_add(&m->validations[r], 1);
}

void authkit_metrics_request(struct authkit_metrics *m, unsigned status, uint64_t elapsed_us) {
    size_t i = 0;
    while (i < AUTHKIT_METRICS_CODES && codes[i] != status)
        i++;
    atomic_fetch_add(&m->requests[i], 1);
    size_t b = 0;
    while (b < AUTHKIT_METRICS_BUCKETS && (double)elapsed_us > bucket_seconds[b] * 1e6)
        b++;
    atomic_fetch_add(&m->latency[b], 1);
    atomic_fetch_add(&m->latency_sum_us, elapsed_us);
}

/* A growing text buffer; `ok` turns false on the first allocation failure. */
struct text {
    char *s;
    size_t len, cap;
    int ok;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...) {
    if (!t->ok)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->ok = 0;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        char *grown = realloc(t->s, t->cap * 2 + (size_t)n);
        if (!grown) {
            t->ok = 0;
            return;
        }
        t->s = grown;
        t->cap = t->cap * 2 + (size_t)n;
    }
}

char *authkit_metrics_render(struct authkit_metrics *m, const struct authkit_metrics_gauges *g) {
    struct text t = {malloc(4096), 0, 4096, 1};
    if (!t.s)
        return NULL;
    put(&t, "# HELP authkit_logins_total Login attempts by result.\n"
            "# TYPE authkit_logins_total counter\n");
    for (int i = 0; i < LOGIN_N; i++)
        put(&t, "authkit_logins_total{result=\"%s\"} %llu\n", login_names[i],
            (unsigned long long)atomic_load(&m->logins[i]));
    put(&t, "# HELP authkit_validations_total Token validations by result.\n"
            "# TYPE authkit_validations_total counter\n");
    for (int i = 0; i < VALIDATION_N; i++)
        put(&t, "authkit_validations_total{result=\"%s\"} %llu\n", validation_names[i],
            (unsigned long long)atomic_load(&m->validations[i]));
    put(&t, "# HELP authkit_http_requests_total HTTP requests by status code.\n"
            "# TYPE authkit_http_requests_total counter\n");
    for (int i = 0; i <= AUTHKIT_METRICS_CODES; i++) {
        unsigned long long n = atomic_load(&m->requests[i]);
        if (i < AUTHKIT_METRICS_CODES)
            put(&t, "authkit_http_requests_total{code=\"%u\"} %llu\n", codes[i], n);
        else
            put(&t, "authkit_http_requests_total{code=\"other\"} %llu\n", n);
    }
    put(&t, "# HELP authkit_http_request_duration_seconds Time to answer HTTP requests.\n"
            "# TYPE authkit_http_request_duration_seconds histogram\n");
    unsigned long long cumulative = 0;
    for (int b = 0; b <= AUTHKIT_METRICS_BUCKETS; b++) {
        cumulative += atomic_load(&m->latency[b]);
        if (b < AUTHKIT_METRICS_BUCKETS)
            put(&t, "authkit_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                bucket_seconds[b], cumulative);
        else
            put(&t, "authkit_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cumulative);
    }
    put(&t, "authkit_http_request_duration_seconds_sum %.6f\n",
        (double)atomic_load(&m->latency_sum_us) / 1e6);
    put(&t, "authkit_http_request_duration_seconds_count %llu\n", cumulative);
    if (g->active_sessions >= 0)
        put(&t,
            "# HELP authkit_active_sessions Sessions not yet expired.\n"
            "# TYPE authkit_active_sessions gauge\nauthkit_active_sessions %lld\n",
            g->active_sessions);
    put(&t,
        "# HELP authkit_password_workers Threads that compute bcrypt.\n"
        "# TYPE authkit_password_workers gauge\nauthkit_password_workers %d\n",
        g->password_workers);
    put(&t,
        "# HELP authkit_password_queue_depth Logins waiting for a password worker.\n"
        "# TYPE authkit_password_queue_depth gauge\nauthkit_password_queue_depth %zu\n",
        g->password_queue);
    put(&t,
        "# HELP authkit_password_queue_wait_seconds Time logins waited for a worker.\n"
        "# TYPE authkit_password_queue_wait_seconds summary\n"
        "authkit_password_queue_wait_seconds_sum %.6f\n"
        "authkit_password_queue_wait_seconds_count %llu\n",
        (double)g->password_wait_us / 1e6, (unsigned long long)g->password_jobs);
    put(&t,
        "# HELP authkit_audit_write_failures_total Events the audit trail could not store.\n"
        "# TYPE authkit_audit_write_failures_total counter\n"
        "authkit_audit_write_failures_total %llu\n",
        (unsigned long long)g->audit_failures);
    if (!t.ok) {
        free(t.s);
        return NULL;
    }
    return t.s;
}
