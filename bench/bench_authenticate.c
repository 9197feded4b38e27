/* Benchmark (a): what a login costs on top of the one bcrypt run at its heart.
 *
 * authkit_authenticate() runs exactly one bcrypt at the configured cost, whether the
 * login succeeds, names an unknown user or gives a wrong password; around it come a user
 * look-up, on success a session insert, and an event. The goal is that all of that costs
 * at most 2% of the bcrypt: median(login) / median(crypt_rn) <= 1.02 for each case.
 *
 * The baseline is one raw libxcrypt crypt_rn() on the same password with a "$2b$12$"
 * setting, measured in the same run. Measurements are interleaved (raw, ok, unknown,
 * wrong, raw, ...) so that drift of a shared, noisy machine hits every series alike, and
 * medians are compared. Not a test: nothing here is asserted; the figures are printed,
 * ending with grep-able "RESULT name=value" lines.
 *
 * usage: bench_authenticate [--rounds N]   (default 15) */
#include <authkit.h>
#include <crypt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define COST           12
#define DEFAULT_ROUNDS 15
#define DB_FILE        "auth.db"

static const char password[] = "correct horse battery staple";
static const char wrong_password[] = "correct horse battery stapler";
static const char email[] = "bench@example.com";
static const char unknown_email[] = "nobody@example.com";

enum series { RAW, LOGIN_OK, LOGIN_UNKNOWN, LOGIN_WRONG, SERIES_COUNT };

static const char *const series_label[SERIES_COUNT] = {
    [RAW] = "raw crypt_rn (baseline)",
    [LOGIN_OK] = "login ok",
    [LOGIN_UNKNOWN] = "login unknown user",
    [LOGIN_WRONG] = "login wrong password",
};

static const char *const series_key[SERIES_COUNT] = {
    [RAW] = "raw_crypt",
    [LOGIN_OK] = "login_ok",
    [LOGIN_UNKNOWN] = "login_unknown",
    [LOGIN_WRONG] = "login_wrong",
};

struct bench {
    authkit_ctx *ctx;
    struct crypt_data *crypt; /* calloc'ed: libxcrypt wants it zeroed before first use */
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
};

static int usage(const char *argv0) {
    fprintf(stderr, "usage: %s [--rounds N]   (N in 1..1000, default %d)\n", argv0, DEFAULT_ROUNDS);
    return 2;
}

/* A fresh "$2b$12$" setting whose salt comes from libsodium's CSPRNG. */
static bool make_setting(char setting[CRYPT_GENSALT_OUTPUT_SIZE]) {
    unsigned char salt[16];
    randombytes_buf(salt, sizeof salt);
    const char *made = crypt_gensalt_rn("$2b$", COST, (const char *)salt, (int)sizeof salt, setting,
                                        CRYPT_GENSALT_OUTPUT_SIZE);
    return made && strncmp(made, "$2b$12$", 7) == 0;
}

/* Runs one case once; writes its wall time (CLOCK_MONOTONIC) and the CPU time of this
 * thread to *wall_ms and *cpu_ms. false when the outcome is not the expected one (a broken
 * build must not produce a plausible figure). */
static bool run_case(struct bench *b, enum series s, double *wall_ms, double *cpu_ms) {
    authkit_login_result res;
    authkit_error err;
    authkit_status st = AUTHKIT_OK, want = AUTHKIT_AUTHENTICATION;
    const char *out = NULL;
    int64_t c0 = bench_thread_cpu_ns(), t0 = bench_now_ns();
    switch (s) {
        case RAW:
            out = crypt_rn(password, b->setting, b->crypt, (int)sizeof *b->crypt);
            break;
        case LOGIN_OK:
            want = AUTHKIT_OK;
            st = authkit_authenticate(b->ctx, email, password, strlen(password), NULL, &res, &err);
            break;
        case LOGIN_UNKNOWN:
            st = authkit_authenticate(b->ctx, unknown_email, password, strlen(password), NULL, &res,
                                      &err);
            break;
        case LOGIN_WRONG:
            st = authkit_authenticate(b->ctx, email, wrong_password, strlen(wrong_password), NULL,
                                      &res, &err);
            break;
        default:
            return false;
    }
    *wall_ms = (double)(bench_now_ns() - t0) / 1e6;
    *cpu_ms = (double)(bench_thread_cpu_ns() - c0) / 1e6;
    bool good =
        s == RAW ? out && strncmp(out, b->setting, 29) == 0 && strlen(out) == 60 : st == want;
    if (s != RAW)
        sodium_memzero(&res, sizeof res); /* holds the session token on success */
    if (!good) {
        fprintf(stderr, "%s: unexpected outcome (%s)\n", series_label[s],
                s == RAW ? "crypt_rn failed" : authkit_status_name(st));
        return false;
    }
    return true;
}

static bool setup(struct bench *b, const char *dir) {
    char url[600];
    snprintf(url, sizeof url, "sqlite://%s/%s", dir, DB_FILE);
    authkit_options opts;
    authkit_options_init(&opts);
    opts.database_url = url;
    opts.session_secret = "bench-secret-bench-secret-bench-secret-0123";
    opts.bcrypt_cost = COST;
    opts.cleanup_interval_ms = 0;
    authkit_error err;
    if (authkit_open(&opts, &b->ctx, &err) != AUTHKIT_OK) {
        fprintf(stderr, "authkit_open: %s\n", err.message);
        return false;
    }
    authkit_user_new in = {.email = email,
                           .username = "bench",
                           .password = password,
                           .password_len = strlen(password)};
    if (authkit_user_create(b->ctx, &in, NULL, &err) != AUTHKIT_OK) {
        fprintf(stderr, "authkit_user_create: %s\n", err.message);
        return false;
    }
    b->crypt = calloc(1, sizeof *b->crypt);
    if (!b->crypt || !make_setting(b->setting)) {
        fprintf(stderr, "cannot prepare the crypt_rn baseline\n");
        return false;
    }
    return true;
}

static void teardown(struct bench *b, const char *dir) {
    authkit_close(b->ctx);
    if (b->crypt) {
        /* It holds the password and the Blowfish state derived from it. */
        sodium_memzero(b->crypt, sizeof *b->crypt);
        free(b->crypt);
    }
    bench_remove_db(dir, DB_FILE);
}

/* Times of every round, per series and clock. */
struct samples {
    double *wall[SERIES_COUNT]; /* ms, CLOCK_MONOTONIC */
    double *cpu[SERIES_COUNT];  /* ms, CPU time of this thread */
};

/* Interleaves the series for `rounds` rounds. */
static bool measure(struct bench *b, long rounds, struct samples *t) {
    double wall, cpu;
    /* One untimed pass: first-use costs (page cache, statement preparation) are not what
     * this benchmark is about. */
    for (int s = 0; s < SERIES_COUNT; s++) {
        if (!run_case(b, (enum series)s, &wall, &cpu))
            return false;
    }
    for (long r = 0; r < rounds; r++) {
        for (int s = 0; s < SERIES_COUNT; s++) {
            if (!run_case(b, (enum series)s, &t->wall[s][r], &t->cpu[s][r]))
                return false;
        }
    }
    return true;
}

/* Summary of one clock: medians, extremes and ratios to the raw baseline. */
struct summary {
    double median[SERIES_COUNT], lo[SERIES_COUNT], hi[SERIES_COUNT];
    double ratio[SERIES_COUNT];     /* median(case) / median(raw) */
    double paired[SERIES_COUNT];    /* median over rounds of case/raw of the same round */
    double min_ratio[SERIES_COUNT]; /* min(case) / min(raw) */
    double worst;                   /* largest ratio of a login case */
};

/* Sorts the series of `ms` while summarising them. */
static bool summarise(double *ms[SERIES_COUNT], long rounds, struct summary *out) {
    double *ratios = calloc((size_t)rounds, sizeof *ratios);
    if (!ratios)
        return false;
    for (int s = 0; s < SERIES_COUNT; s++) {
        /* Paired: each case against the raw run of its own round, whose conditions
         * (machine load, CPU frequency) were the closest. Before sorting. */
        for (long r = 0; r < rounds; r++)
            ratios[r] = ms[s][r] / ms[RAW][r];
        out->paired[s] = bench_median(ratios, (size_t)rounds);
    }
    free(ratios);
    for (int s = 0; s < SERIES_COUNT; s++) {
        out->median[s] = bench_median(ms[s], (size_t)rounds); /* sorts ms[s] */
        out->lo[s] = ms[s][0];
        out->hi[s] = ms[s][rounds - 1];
    }
    out->worst = 0;
    for (int s = 0; s < SERIES_COUNT; s++) {
        out->ratio[s] = out->median[s] / out->median[RAW];
        out->min_ratio[s] = out->lo[s] / out->lo[RAW];
        if (s != RAW && out->ratio[s] > out->worst)
            out->worst = out->ratio[s];
    }
    return true;
}

static void print_table(const char *title, const struct summary *m) {
    printf("  %-24s %10s %10s %10s %8s %8s %8s\n", title, "median ms", "min ms", "max ms", "ratio",
           "paired", "min/min");
    for (int s = 0; s < SERIES_COUNT; s++)
        printf("  %-24s %10.2f %10.2f %10.2f %8.4f %8.4f %8.4f\n", series_label[s], m->median[s],
               m->lo[s], m->hi[s], m->ratio[s], m->paired[s], m->min_ratio[s]);
    printf("\n");
}

static void print_results(const char *prefix, const struct summary *m) {
    for (int s = 0; s < SERIES_COUNT; s++)
        printf("RESULT %s%s_ms=%.3f\n", prefix, series_key[s], m->median[s]);
    for (int s = LOGIN_OK; s < SERIES_COUNT; s++)
        printf("RESULT %sratio_%s=%.4f\n", prefix, series_key[s], m->ratio[s]);
    for (int s = LOGIN_OK; s < SERIES_COUNT; s++)
        printf("RESULT %spaired_ratio_%s=%.4f\n", prefix, series_key[s], m->paired[s]);
    printf("RESULT %sworst_ratio=%.4f\n", prefix, m->worst);
}

static bool report(struct samples *t, long rounds, double runtime_s) {
    struct summary wall, cpu;
    if (!summarise(t->wall, rounds, &wall) || !summarise(t->cpu, rounds, &cpu))
        return false;
    printf("authkit_authenticate() vs one crypt_rn() at cost %d: %ld interleaved rounds\n\n", COST,
           rounds);
    print_table("wall clock (monotonic)", &wall);
    print_table("CPU time of the thread", &cpu);
    printf("  ratio = median(case)/median(raw); paired = median of case/raw within a round;\n"
           "  min/min = fastest case / fastest raw. CPU time leaves out the time the thread\n"
           "  waited for a core, so on a loaded machine it is the steadier of the two.\n");
    printf("  goal: ratio <= 1.02 for every login case; worst (wall) %.4f: %s; "
           "worst (CPU) %.4f\n",
           wall.worst, wall.worst <= 1.02 ? "met" : "NOT met", cpu.worst);
    printf("  runtime %.1f s\n\n", runtime_s);
    printf("RESULT rounds=%ld\n", rounds);
    print_results("", &wall);
    print_results("cpu_", &cpu);
    printf("RESULT goal_met=%s\n", wall.worst <= 1.02 ? "yes" : "no");
    printf("RESULT runtime_s=%.1f\n", runtime_s);
    return true;
}

int main(int argc, char **argv) {
    long rounds = DEFAULT_ROUNDS;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc &&
            bench_parse_long(argv[i + 1], 1, 1000, &rounds))
            i++;
        else
            return usage(argv[0]);
    }
    int64_t start = bench_now_ns();
    if (sodium_init() < 0)
        return 1;
    char dir[64];
    if (!bench_tmpdir(dir, sizeof dir))
        return 1;
    struct bench b = {0};
    struct samples t = {0};
    bool ok = setup(&b, dir);
    for (int s = 0; ok && s < SERIES_COUNT; s++) {
        t.wall[s] = calloc((size_t)rounds, sizeof *t.wall[s]);
        t.cpu[s] = calloc((size_t)rounds, sizeof *t.cpu[s]);
        ok = t.wall[s] && t.cpu[s];
    }
    ok = ok && measure(&b, rounds, &t);
    teardown(&b, dir);
    ok = ok && report(&t, rounds, (double)(bench_now_ns() - start) / 1e9);
    for (int s = 0; s < SERIES_COUNT; s++) {
        free(t.wall[s]);
        free(t.cpu[s]);
    }
    return ok ? 0 : 1;
}
