/* Timing check (issue 5, item 2): every failed login takes the same time.
 *
 * Eight kinds of failed login - an unknown user, a known user with a wrong password, an
 * inactive user and a user without a password, each by username and by email - are timed
 * `--rounds` times each (default 200) on a real SQLite file at `--cost` (default 12),
 * interleaved round-robin. Each round starts one kind later than the one before, so that
 * no kind always follows the same other kind. A raw crypt_rn() at the same cost runs in
 * every round too, as a reference: each kind should cost one bcrypt.
 *
 * Login throttling stays at its defaults, as in production: every attempt pays for its
 * counter in the store. So that no counter ever delays an attempt (a throttled login runs
 * no bcrypt and would measure nothing), each round has its own accounts and unknown names,
 * each failing twice (by username and by email). The known and inactive accounts share
 * one hash of the configured cost, made once and imported.
 *
 * Reported per kind: the median, its ratio to the median of "known user, wrong password,
 * by username", the median over rounds of the same ratio within a round (paired), and
 * PASS when the ratio is within 5% of 1. The goal is that every median is within 5% of
 * every other: the spread max/min of the medians is printed with its own PASS/FAIL.
 * Not a test: exits 0 whatever the figures (1 only if a login does not fail as it must).
 * Ends with grep-able "RESULT name=value" lines.
 *
 * usage: bench_timing [--cost N] [--rounds N] [--warmup N] */
#include <authkit.h>
#include <crypt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define DEFAULT_COST   12
#define DEFAULT_ROUNDS 200
#define DEFAULT_WARMUP 3
#define DB_FILE        "timing.db"
#define GOAL           0.05

static const char password[] = "correct horse battery staple";
static const char wrong_password[] = "correct horse battery stapler";

enum kind {
    WRONG_NAME, /* the baseline */
    WRONG_EMAIL,
    UNKNOWN_NAME,
    UNKNOWN_EMAIL,
    INACTIVE_NAME,
    INACTIVE_EMAIL,
    NO_PASSWORD_NAME,
    NO_PASSWORD_EMAIL,
    RAW, /* reference: one crypt_rn */
    KIND_COUNT
};
#define LOGIN_KINDS RAW

/* The accounts of round r are named "<prefix>_<r>" with the email "<prefix>_<r>@example.com". */
static const struct {
    const char *label, *key;
    const char *prefix; /* "known", "nobody" (never created), "inactive", "nopw" */
    bool by_email;
    bool right_password; /* the account's own password (nothing else is wrong with it) */
} kinds[KIND_COUNT] = {
    [WRONG_NAME] = {"known, wrong password, username", "wrong_username", "known", false, false},
    [WRONG_EMAIL] = {"known, wrong password, email", "wrong_email", "known", true, false},
    [UNKNOWN_NAME] = {"unknown user, username", "unknown_username", "nobody", false, true},
    [UNKNOWN_EMAIL] = {"unknown user, email", "unknown_email", "nobody", true, true},
    [INACTIVE_NAME] = {"inactive user, username", "inactive_username", "inactive", false, true},
    [INACTIVE_EMAIL] = {"inactive user, email", "inactive_email", "inactive", true, true},
    [NO_PASSWORD_NAME] = {"no password, username", "nopassword_username", "nopw", false, true},
    [NO_PASSWORD_EMAIL] = {"no password, email", "nopassword_email", "nopw", true, true},
    [RAW] = {"raw crypt_rn (reference)", "raw_crypt", NULL, false, false},
};

struct bench {
    authkit_ctx *ctx;
    int cost;
    struct crypt_data *crypt; /* calloc'ed: libxcrypt wants it zeroed before first use */
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
};

static int usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--cost N] [--rounds N] [--warmup N]\n"
            "  --cost    bcrypt cost, 4..31 (default %d)\n"
            "  --rounds  timed logins of each kind, 10..100000 (default %d)\n"
            "  --warmup  untimed rounds first, 0..1000 (default %d)\n",
            argv0, DEFAULT_COST, DEFAULT_ROUNDS, DEFAULT_WARMUP);
    return 2;
}

static void account_name(char *out, size_t size, const char *prefix, long round, bool email) {
    snprintf(out, size, "%s_%ld%s", prefix, round, email ? "@example.com" : "");
}

/* Runs one login of round `round` (or the raw reference) and returns its wall time in ms
 * through `ms` and the thread's CPU time through `cpu_ms`. false when the outcome is
 * wrong: every login must fail with AUTHKIT_AUTHENTICATION. */
static bool run_kind(struct bench *b, enum kind k, long round, double *ms, double *cpu_ms) {
    const char *pw = kinds[k].right_password ? password : wrong_password;
    size_t len = strlen(pw);
    char login[64] = "";
    if (k != RAW)
        account_name(login, sizeof login, kinds[k].prefix, round, kinds[k].by_email);
    authkit_login_result res;
    authkit_status st = AUTHKIT_AUTHENTICATION;
    const char *out = NULL;
    int64_t c0 = bench_thread_cpu_ns(), t0 = bench_now_ns();
    if (k == RAW)
        out = crypt_rn(password, b->setting, b->crypt, (int)sizeof *b->crypt);
    else
        st = authkit_authenticate(b->ctx, login, pw, len, NULL, &res, NULL);
    *ms = (double)(bench_now_ns() - t0) / 1e6;
    *cpu_ms = (double)(bench_thread_cpu_ns() - c0) / 1e6;
    if (k == RAW ? !out || strncmp(out, b->setting, 29) != 0 : st != AUTHKIT_AUTHENTICATION) {
        fprintf(stderr, "%s: unexpected outcome (%s)\n", kinds[k].label,
                k == RAW ? "crypt_rn failed" : authkit_status_name(st));
        if (k != RAW && st == AUTHKIT_OK)
            sodium_memzero(&res, sizeof res);
        return false;
    }
    return true;
}

/* Creates the account `prefix`_`round`, with `hash` (NULL: no password). */
static bool add_user(authkit_ctx *ctx, const char *prefix, long round, const char *hash) {
    char username[64], email[64];
    account_name(username, sizeof username, prefix, round, false);
    account_name(email, sizeof email, prefix, round, true);
    authkit_user_new in = {.email = email, .username = username, .password_hash = hash};
    authkit_user u;
    authkit_error err;
    if (authkit_user_create(ctx, &in, &u, &err) != AUTHKIT_OK) {
        fprintf(stderr, "authkit_user_create(%s): %s\n", username, err.message);
        return false;
    }
    if (strcmp(prefix, "inactive") == 0) {
        authkit_user_update off = {.set_is_active = true, .is_active = false};
        if (authkit_user_update_fields(ctx, u.id, &off, NULL, &err) != AUTHKIT_OK) {
            fprintf(stderr, "deactivating %s: %s\n", username, err.message);
            return false;
        }
    }
    return true;
}

/* Accounts for `n` rounds (the timed ones and the warm-up). */
static bool setup(struct bench *b, const char *dir, long n) {
    char url[600];
    snprintf(url, sizeof url, "sqlite://%s/%s", dir, DB_FILE);
    authkit_options opts;
    authkit_options_init(&opts);
    opts.database_url = url;
    opts.session_secret = "bench-secret-bench-secret-bench-secret-0123";
    opts.bcrypt_cost = b->cost;
    opts.cleanup_interval_ms = 0;
    authkit_error err;
    if (authkit_open(&opts, &b->ctx, &err) != AUTHKIT_OK) {
        fprintf(stderr, "authkit_open: %s\n", err.message);
        return false;
    }
    char hash[AUTHKIT_HASH_SIZE];
    if (authkit_password_hash(password, strlen(password), b->cost, hash) != AUTHKIT_OK) {
        fprintf(stderr, "authkit_password_hash failed\n");
        return false;
    }
    for (long r = 0; r < n; r++)
        if (!add_user(b->ctx, "known", r, hash) || !add_user(b->ctx, "inactive", r, hash) ||
            !add_user(b->ctx, "nopw", r, NULL))
            return false;
    unsigned char salt[16];
    randombytes_buf(salt, sizeof salt);
    b->crypt = calloc(1, sizeof *b->crypt);
    if (!b->crypt || !crypt_gensalt_rn("$2b$", (unsigned long)b->cost, (const char *)salt,
                                       (int)sizeof salt, b->setting, sizeof b->setting)) {
        fprintf(stderr, "cannot prepare the crypt_rn reference\n");
        return false;
    }
    return true;
}

static void teardown(struct bench *b, const char *dir) {
    authkit_close(b->ctx);
    if (b->crypt) {
        sodium_memzero(b->crypt, sizeof *b->crypt); /* the password's Blowfish state */
        free(b->crypt);
    }
    bench_remove_db(dir, DB_FILE);
}

/* Times per kind and round: wall[k][r], cpu[k][r] (ms). */
struct samples {
    double *wall[KIND_COUNT], *cpu[KIND_COUNT];
};

static bool measure(struct bench *b, long warmup, long rounds, struct samples *t) {
    double wall, cpu;
    /* The warm-up uses the accounts after the timed rounds' ones. */
    for (long r = 0; r < warmup; r++)
        for (int k = 0; k < KIND_COUNT; k++)
            if (!run_kind(b, (enum kind)k, rounds + r, &wall, &cpu))
                return false;
    for (long r = 0; r < rounds; r++) {
        for (int i = 0; i < KIND_COUNT; i++) {
            int k = (int)((r + i) % KIND_COUNT); /* each round starts one kind later */
            if (!run_kind(b, (enum kind)k, r, &t->wall[k][r], &t->cpu[k][r]))
                return false;
        }
        if ((r + 1) % 20 == 0) {
            fprintf(stderr, "  %ld/%ld rounds\r", r + 1, rounds);
            fflush(stderr);
        }
    }
    fprintf(stderr, "\n");
    return true;
}

struct summary {
    double median[KIND_COUNT], ratio[KIND_COUNT], paired[KIND_COUNT];
    double spread; /* max / min of the login medians */
};

/* Medians and ratios of one clock. Sorts the series (after the paired ratios). */
static bool summarise(double *ms[KIND_COUNT], long rounds, struct summary *s) {
    double *ratios = calloc((size_t)rounds, sizeof *ratios);
    if (!ratios)
        return false;
    for (int k = 0; k < KIND_COUNT; k++) {
        for (long r = 0; r < rounds; r++)
            ratios[r] = ms[k][r] / ms[WRONG_NAME][r];
        s->paired[k] = bench_median(ratios, (size_t)rounds);
    }
    free(ratios);
    double lo = 0, hi = 0;
    for (int k = 0; k < KIND_COUNT; k++)
        s->median[k] = bench_median(ms[k], (size_t)rounds);
    for (int k = 0; k < KIND_COUNT; k++) {
        s->ratio[k] = s->median[k] / s->median[WRONG_NAME];
        if (k < LOGIN_KINDS) {
            lo = k == 0 || s->median[k] < lo ? s->median[k] : lo;
            hi = k == 0 || s->median[k] > hi ? s->median[k] : hi;
        }
    }
    s->spread = hi / lo;
    return true;
}

static bool within_goal(double ratio) {
    return ratio >= 1 - GOAL && ratio <= 1 + GOAL;
}

static void print_table(const char *title, const struct summary *s) {
    printf("  %-34s %10s %8s %8s  %s\n", title, "median ms", "ratio", "paired", "within 5%");
    for (int k = 0; k < KIND_COUNT; k++)
        printf("  %-34s %10.2f %8.4f %8.4f  %s\n", kinds[k].label, s->median[k], s->ratio[k],
               s->paired[k],
               k == RAW                   ? "-"
               : within_goal(s->ratio[k]) ? "PASS"
                                          : "FAIL");
    printf("  %-34s %10s %8.4f %8s  %s\n\n", "spread of the login medians (max/min)", "", s->spread,
           "", s->spread <= 1 + GOAL ? "PASS" : "FAIL");
}

static void print_results(const char *prefix, const struct summary *s) {
    for (int k = 0; k < KIND_COUNT; k++)
        printf("RESULT %s%s_ms=%.3f\n", prefix, kinds[k].key, s->median[k]);
    for (int k = 1; k < KIND_COUNT; k++)
        printf("RESULT %sratio_%s=%.4f\n", prefix, kinds[k].key, s->ratio[k]);
    for (int k = 1; k < KIND_COUNT; k++)
        printf("RESULT %spaired_ratio_%s=%.4f\n", prefix, kinds[k].key, s->paired[k]);
    printf("RESULT %sspread=%.4f\n", prefix, s->spread);
}

static bool report(struct samples *t, int cost, long rounds, double runtime_s) {
    struct summary wall, cpu;
    if (!summarise(t->wall, rounds, &wall) || !summarise(t->cpu, rounds, &cpu))
        return false;
    printf("failed logins at bcrypt cost %d: %ld interleaved rounds of %d kinds + reference\n"
           "  ratio = median(kind) / median(\"%s\");\n"
           "  paired = median over rounds of the same ratio within a round;\n"
           "  goal: every login median within 5%% of the others\n\n",
           cost, rounds, LOGIN_KINDS, kinds[WRONG_NAME].label);
    print_table("wall clock (monotonic)", &wall);
    print_table("CPU time of the thread", &cpu);
    printf("  CPU time leaves out time spent waiting for a core: on a loaded machine it is\n"
           "  the steadier of the two. runtime %.1f s\n\n",
           runtime_s);
    printf("RESULT cost=%d\nRESULT rounds=%ld\n", cost, rounds);
    print_results("", &wall);
    print_results("cpu_", &cpu);
    printf("RESULT goal_met=%s\n", wall.spread <= 1 + GOAL ? "yes" : "no");
    printf("RESULT runtime_s=%.1f\n", runtime_s);
    return true;
}

int main(int argc, char **argv) {
    long cost = DEFAULT_COST, rounds = DEFAULT_ROUNDS, warmup = DEFAULT_WARMUP;
    for (int i = 1; i < argc; i++) {
        long *target = strcmp(argv[i], "--cost") == 0     ? &cost
                       : strcmp(argv[i], "--rounds") == 0 ? &rounds
                       : strcmp(argv[i], "--warmup") == 0 ? &warmup
                                                          : NULL;
        long lo = target == &cost ? AUTHKIT_BCRYPT_COST_MIN : target == &rounds ? 10 : 0;
        long hi = target == &cost ? AUTHKIT_BCRYPT_COST_MAX : target == &rounds ? 100000 : 1000;
        if (!target || i + 1 >= argc || !bench_parse_long(argv[i + 1], lo, hi, target))
            return usage(argv[0]);
        i++;
    }
    int64_t start = bench_now_ns();
    if (sodium_init() < 0)
        return 1;
    char dir[64];
    if (!bench_tmpdir(dir, sizeof dir))
        return 1;
    struct bench b = {.cost = (int)cost};
    struct samples t = {0};
    bool ok = setup(&b, dir, rounds + warmup);
    for (int k = 0; ok && k < KIND_COUNT; k++) {
        t.wall[k] = calloc((size_t)rounds, sizeof *t.wall[k]);
        t.cpu[k] = calloc((size_t)rounds, sizeof *t.cpu[k]);
        ok = t.wall[k] && t.cpu[k];
    }
    ok = ok && measure(&b, warmup, rounds, &t);
    teardown(&b, dir);
    ok = ok && report(&t, (int)cost, rounds, (double)(bench_now_ns() - start) / 1e9);
    for (int k = 0; k < KIND_COUNT; k++) {
        free(t.wall[k]);
        free(t.cpu[k]);
    }
    return ok ? 0 : 1;
}
