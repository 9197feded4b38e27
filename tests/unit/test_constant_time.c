/* Every comparison of a secret or of a value derived from one is constant time (checklist
 * items 8 and 38): how long it takes does not depend on where the two values first differ.
 *
 * 1. Source check. Each file that compares such values (bcrypt hashes, anti-CSRF tokens,
 *    JWT MACs, token digests) calls authkit__secret_equal (src/core/secret.c) and no libc
 *    comparison nor sodium_memcmp of its own, except of text against a literal (a public
 *    constant such as a JWT's "alg"). So the function timed below is the one they all run.
 *
 * 2. Timing: a Welch t-test in the manner of dudect (Reparaz, Balasch and Verbauwhede, "Dude,
 *    is my code constant time?", 2017) and TVLA. Two classes of inputs: the first differing
 *    byte at the first index, or at the last. Both are wrong answers, so the result and all
 *    that follows it are the same and only the position of the difference changes; dudect's
 *    other pair, equal against random, would also time what a match leads to. The class of
 *    each measurement is drawn at random and the inputs prepared before the clock starts;
 *    each call is timed alone by the cycle counter (elsewhere than on x86, CLOCK_MONOTONIC
 *    around a batch of calls). In every chunk of measurements the slowest tenth is dropped
 *    (interrupts, preemption, migrations; the cut is the same for both classes). Welch's t
 *    of the two classes must stay below 4.5, the TVLA threshold.
 *
 *    A small t proves nothing unless the measurement could have seen a leak. So the same run
 *    also times, on the same inputs and in the same chunks as the real code, a positive
 *    control: an early-exit comparison of the same bytes (what memcmp or a hand-written loop
 *    does). Its t must reach CONTROL_T; if it does not, the experiment is redone with twice
 *    the samples, at most ROUNDS times, and then fails. Noise from the rest of the machine
 *    falls on both classes alike, because they are interleaved at random: it lowers t, so it
 *    can fail the control but cannot pass a leak.
 *
 *    Experiments: authkit__secret_equal on 32 bytes (JWT MACs, token digests), 43 (anti-CSRF
 *    tokens) and 60 (bcrypt hashes), 10^6 measurements per class; and the whole public paths
 *    where the comparison is a visible share of the work, authkit_csrf_verify and
 *    authkit__jwt_verify, 10^5 per class (each call is some 20 times slower). The bcrypt
 *    verify spends milliseconds in Blowfish around a comparison of nanoseconds, and the
 *    validation cache's lookup picks its slot from the very digest it compares, so for these
 *    two only the helper they call is timed. */
#include <math.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "check.h"
#include "core/encoding.h"
#include "core/secret.h"
#include "fixture.h"
#include "session/jwt.h"

/* ---- 1. Source check ---- */

static const char *const files[] = {
    "src/password/bcrypt.c", /* the computed bcrypt hash against the stored one */
    "src/session/csrf.c",    /* an anti-CSRF token against the expected one */
    "src/session/jwt.c",     /* a JWT's MAC against the computed one */
    "src/session/cache.c",   /* a token digest against a cached one */
};

/* The text of a source file, NUL-terminated, in a static buffer; NULL after a failed check. */
static const char *read_source(const char *rel) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", AUTHKIT_SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f)
        return NULL;
    static char src[256 * 1024];
    size_t n = fread(src, 1, sizeof src - 1, f);
    fclose(f);
    src[n] = '\0';
    CHECK_MSG(n > 0 && n < sizeof src - 1, "%s: read %zu bytes", rel, n);
    return n > 0 && n < sizeof src - 1 ? src : NULL;
}

static int line_of(const char *src, const char *p) {
    int line = 1;
    for (const char *q = src; q < p; q++)
        line += *q == '\n';
    return line;
}

static void check_file(const char *rel) {
    const char *src = read_source(rel);
    if (!src)
        return;
    static const char *const banned[] = {"strcmp(", "strncmp(", "memcmp(", "bcmp(", "strcasecmp("};
    for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++) {
        for (const char *p = strstr(src, banned[i]); p; p = strstr(p + 1, banned[i])) {
            bool sodium = p - src >= 7 && strncmp(p - 7, "sodium_", 7) == 0;
            const char *eol = strchr(p, '\n');
            const char *quote = strchr(p, '"');
            if (!sodium && quote && (!eol || quote < eol))
                continue; /* against a literal: public text */
            CHECK_MSG(false, "%s:%d: calls %s%s instead of authkit__secret_equal", rel,
                      line_of(src, p), sodium ? "sodium_" : "", banned[i]);
        }
    }
    CHECK_MSG(strstr(src, "authkit__secret_equal(") != NULL, "%s: no authkit__secret_equal", rel);
}

/* The helper itself compares with sodium_memcmp and nothing that can stop early. */
static void check_helper(void) {
    const char *src = read_source("src/core/secret.c");
    if (!src)
        return;
    CHECK_MSG(strstr(src, "sodium_memcmp(") != NULL, "src/core/secret.c: no sodium_memcmp");
    static const char *const banned[] = {" memcmp(", "(memcmp(", "bcmp(", "strcmp(", "strncmp("};
    for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++)
        CHECK_MSG(strstr(src, banned[i]) == NULL, "src/core/secret.c calls %s", banned[i]);
}

/* ---- 2. Timing ---- */

#define TVLA_T    4.5  /* |t| from here on: the two classes' times differ */
#define CONTROL_T 10.0 /* the positive control must reach this |t| */
#define ROUNDS    3    /* samples n, 2n, 4n before giving up on the control */
#define CHUNK     4096 /* measurements prepared, then timed, at a time */
#define KEEP      0.9  /* fraction of each chunk kept: the fastest */
#define INPUT_MAX 256  /* bytes of one prepared input */

#if defined(__x86_64__) || defined(__i386__)
#define BATCH 1 /* calls per measurement */
static inline uint64_t ticks(void) {
    _mm_lfence(); /* nothing before starts late, nothing after starts early */
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
}
#else
#define BATCH 8 /* a clock of some ten nanoseconds needs several calls to see a few cycles */
static inline uint64_t ticks(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* Welch's t on streaming data: Welford's running mean and variance of each class. */
struct welch {
    double n[2], mean[2], m2[2];
};

static void welch_add(struct welch *w, int cls, double x) {
    w->n[cls] += 1;
    double d = x - w->mean[cls];
    w->mean[cls] += d / w->n[cls];
    w->m2[cls] += d * (x - w->mean[cls]);
}

static double welch_t(const struct welch *w) {
    if (w->n[0] < 2 || w->n[1] < 2)
        return 0;
    double v0 = w->m2[0] / (w->n[0] - 1), v1 = w->m2[1] / (w->n[1] - 1);
    double se = sqrt(v0 / w->n[0] + v1 / w->n[1]);
    return se > 0 ? fabs(w->mean[0] - w->mean[1]) / se : 0;
}

/* The positive control's comparison: stops at the first difference, as memcmp and a
 * hand-written loop do. The volatile reads keep the compiler from widening it. */
static bool early_exit_equal(const void *a, const void *b, size_t len) {
    const volatile uint8_t *x = a, *y = b;
    for (size_t i = 0; i < len; i++)
        if (x[i] != y[i])
            return false;
    return true;
}

/* One experiment. make() writes an input of class `cls` (0: the first unit wrong, 1: the
 * last one wrong); run() makes one call on it, of the real code or (control) of the real
 * code's leaky twin. */
struct experiment {
    const char *name;
    long per_class; /* measurements kept per class in the first round */
    void (*make)(void *env, int cls, uint8_t input[INPUT_MAX]);
    bool (*run)(void *env, const uint8_t *input, bool control);
    void *env;
};

static volatile bool sink; /* keeps every result alive */

static _Alignas(64) uint8_t inputs[CHUNK][BATCH][INPUT_MAX];
static uint8_t classes[CHUNK];
static uint64_t times[2][CHUNK], sorted[CHUNK];

static uint64_t measure(const struct experiment *e, size_t i, bool control) {
    uint64_t t0 = ticks();
    for (int b = 0; b < BATCH; b++)
        sink = e->run(e->env, inputs[i][b], control);
    return ticks() - t0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The time below which a chunk's measurements are kept: its KEEP quantile, both classes
 * together, so that the cut favours neither. */
static uint64_t cut(const uint64_t t[CHUNK]) {
    memcpy(sorted, t, sizeof sorted);
    qsort(sorted, CHUNK, sizeof sorted[0], cmp_u64);
    return sorted[(size_t)(KEEP * CHUNK)];
}

/* One chunk: random classes, inputs made, then every input timed in one pass with the real
 * code and in another with the control (a pass of its own, so that the control's
 * class-dependent branches cannot colour the real code's times); which pass goes first
 * alternates. The kept times go to w[0] (real) and w[1] (control). */
static void run_chunk(const struct experiment *e, struct welch w[2], bool control_first) {
    randombytes_buf(classes, sizeof classes);
    for (size_t i = 0; i < CHUNK; i++) {
        classes[i] &= 1;
        for (int b = 0; b < BATCH; b++)
            e->make(e->env, classes[i], inputs[i][b]);
    }
    for (int pass = 0; pass < 2; pass++) {
        bool control = control_first != (pass == 1);
        for (size_t i = 0; i < CHUNK; i++)
            times[control][i] = measure(e, i, control);
    }
    for (int k = 0; k < 2; k++) {
        uint64_t limit = cut(times[k]);
        for (size_t i = 0; i < CHUNK; i++)
            if (times[k][i] < limit)
                welch_add(&w[k], classes[i], (double)times[k][i]);
    }
}

static void run_experiment(const struct experiment *e) {
    long per_class = e->per_class;
    for (int round = 1; round <= ROUNDS; round++, per_class *= 2) {
        struct welch w[2];
        memset(w, 0, sizeof w);
        run_chunk(e, w, false); /* warm-up: caches, branch predictors, the CPU's clock */
        memset(w, 0, sizeof w);
        for (long chunk = 0; w[0].n[0] < per_class || w[0].n[1] < per_class; chunk++)
            run_chunk(e, w, chunk & 1);
        double t = welch_t(&w[0]), tc = welch_t(&w[1]);
        printf("%-36s round %d: %.0f+%.0f kept; real: %.1f/%.1f ticks, |t| = %5.2f; "
               "early-exit control: %.1f/%.1f ticks, |t| = %6.2f\n",
               e->name, round, w[0].n[0], w[0].n[1], w[0].mean[0], w[0].mean[1], t, w[1].mean[0],
               w[1].mean[1], tc);
        fflush(stdout);
        if (tc < CONTROL_T && round < ROUNDS)
            continue; /* this run could not have seen a leak: more samples */
        CHECK_MSG(tc >= CONTROL_T,
                  "%s: the early-exit control went unseen (|t| = %.2f < %.1f after %d rounds): "
                  "the measurement cannot see a leak",
                  e->name, tc, CONTROL_T, round);
        CHECK_MSG(t < TVLA_T,
                  "%s: the time depends on where the inputs differ: |t| = %.2f >= %.1f (means "
                  "%.1f and %.1f ticks)",
                  e->name, t, TVLA_T, w[0].mean[0], w[0].mean[1]);
        return;
    }
}

/* Random bytes from a buffer refilled 64 KiB at a time: libsodium asks the kernel for every
 * call here, and one system call per input would make most of the test's time. */
static uint8_t random_byte(void) {
    static uint8_t pool[65536];
    static size_t used = sizeof pool;
    if (used == sizeof pool) {
        randombytes_buf(pool, sizeof pool);
        used = 0;
    }
    return pool[used++];
}

/* A random byte other than zero: what the wrong byte is XORed with. */
static uint8_t nonzero_byte(void) {
    uint8_t b = 0;
    while (b == 0)
        b = random_byte();
    return b;
}

/* -- authkit__secret_equal on `len` bytes: the input is the secret with one byte changed. -- */

struct helper_env {
    size_t len;
    uint8_t secret[INPUT_MAX];
};

static void helper_make(void *env, int cls, uint8_t input[INPUT_MAX]) {
    struct helper_env *h = env;
    memcpy(input, h->secret, h->len);
    input[cls ? h->len - 1 : 0] ^= nonzero_byte();
}

static bool helper_run(void *env, const uint8_t *input, bool control) {
    struct helper_env *h = env;
    return control ? early_exit_equal(h->secret, input, h->len)
                   : authkit__secret_equal(h->secret, input, h->len);
}

static void test_helper(size_t len, const char *name) {
    struct helper_env h = {.len = len};
    randombytes_buf(h.secret, len);
    struct experiment e = {name, 1000000, helper_make, helper_run, &h};
    run_experiment(&e);
}

/* -- authkit_csrf_verify: the session's token with its first or its last character wrong. -- */

static const char csrf_sid[] = "0a1b2c3d-4e5f-4061-8a7b-9c0d1e2f3a4b";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct csrf_env {
    authkit_ctx *ctx;
    char token[AUTHKIT_CSRF_TOKEN_SIZE];
};

static void csrf_make(void *env, int cls, uint8_t input[INPUT_MAX]) {
    struct csrf_env *c = env;
    memcpy(input, c->token, sizeof c->token);
    size_t at = cls ? AUTHKIT_CSRF_TOKEN_SIZE - 2 : 0;
    char wrong = c->token[at];
    while (wrong == c->token[at])
        wrong = b64url[random_byte() & 63];
    input[at] = (uint8_t)wrong;
}

/* The control runs the whole verify as well, then an early-exit comparison of the same
 * characters: the same work and noise, plus the leak memcmp would add. */
static bool csrf_run(void *env, const uint8_t *input, bool control) {
    struct csrf_env *c = env;
    bool ok = authkit_csrf_verify(c->ctx, csrf_sid, (const char *)input) == AUTHKIT_OK;
    if (control)
        ok = early_exit_equal(c->token, input, AUTHKIT_CSRF_TOKEN_SIZE - 1);
    return ok;
}

static void test_csrf_verify(void) {
    struct fixture f;
    fixture_setup(&f);
    struct csrf_env c = {.ctx = f.ctx};
    CHECK_OK(authkit_csrf_token(f.ctx, csrf_sid, c.token));
    CHECK_OK(authkit_csrf_verify(f.ctx, csrf_sid, c.token));
    uint8_t wrong[INPUT_MAX];
    for (int cls = 0; cls < 2; cls++) {
        csrf_make(&c, cls, wrong);
        CHECK_STATUS(authkit_csrf_verify(f.ctx, csrf_sid, (const char *)wrong), AUTHKIT_CSRF);
    }
    struct experiment e = {"authkit_csrf_verify (43 characters)", 100000, csrf_make, csrf_run, &c};
    run_experiment(&e);
    fixture_teardown(&f);
}

/* -- authkit__jwt_verify: a signed token whose MAC has its first or its last byte wrong. --
 *
 * The MAC's text is decoded first, with branches on each character's kind (letter, digit,
 * '-' or '_'): a leak of the attacker's own text, not of a secret, but one that tells the
 * classes apart if they change characters of different kinds (it did, |t| up to 16). So
 * the token is chosen with the same upper-case letter first and last in its MAC, and both
 * classes put another in its place, drawn from the same set: the upper-case letters a
 * MAC's text may end with (its 2 spare bits zero). Every branch of the decoding then goes
 * the same way in both classes. Changing the first character changes the MAC's first
 * byte, changing the last its last byte. */

static const uint8_t jwt_key[32] = "key-of-the-jwt-timing-experiment";
static const char b64url_last[] = "AEIMQUY";

struct jwt_env {
    char token[INPUT_MAX];
    size_t mac_at, len; /* where the MAC's text starts; the token's length */
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    struct authkit__jwt_claims claims;
};

static void jwt_make(void *env, int cls, uint8_t input[INPUT_MAX]) {
    struct jwt_env *j = env;
    memcpy(input, j->token, j->len + 1);
    size_t at = cls ? j->len - 1 : j->mac_at;
    char wrong = j->token[at];
    while (wrong == j->token[at] || wrong == '\0') /* b64url_last[7] is its NUL */
        wrong = b64url_last[random_byte() & 7];
    input[at] = (uint8_t)wrong;
}

/* The control decodes the MAC as the verify does, then compares it early-exit. */
static bool jwt_run(void *env, const uint8_t *input, bool control) {
    struct jwt_env *j = env;
    struct authkit__jwt_claims out;
    const char *token = (const char *)input;
    bool ok =
        authkit__jwt_verify(jwt_key, sizeof jwt_key, token, j->claims.iat, &out) == AUTHKIT_OK;
    if (control) {
        uint8_t sig[sizeof j->mac];
        const char *text = token + j->mac_at;
        if (authkit__b64url_decode(sig, sizeof sig, text, j->len - j->mac_at) == (long)sizeof sig)
            ok = early_exit_equal(j->mac, sig, sizeof sig);
    }
    return ok;
}

/* Signs tokens with ever later expiry times (a second apart) until one's MAC text starts
 * and ends with the same letter of b64url_last (about one in 150 does). */
static bool jwt_choose(struct jwt_env *j) {
    for (int k = 0; k < 10000; k++) {
        j->claims.exp += 1000000; /* one second: the claim is in seconds */
        if (authkit__jwt_sign(jwt_key, sizeof jwt_key, &j->claims, j->token, sizeof j->token) !=
            AUTHKIT_OK)
            return false;
        const char *dot = strrchr(j->token, '.');
        if (!dot)
            return false;
        j->mac_at = (size_t)(dot + 1 - j->token);
        j->len = strlen(j->token);
        char last = j->token[j->len - 1];
        if (j->token[j->mac_at] == last && strchr(b64url_last, last))
            return true;
    }
    return false;
}

static void test_jwt_verify(void) {
    struct jwt_env j = {.claims = {
                            .sub = "0a1b2c3d-4e5f-4061-8a7b-9c0d1e2f3a4b",
                            .sid = "1a1b2c3d-4e5f-4061-8a7b-9c0d1e2f3a4b",
                            .iat = 1700000000000000,
                            .exp = 4000000000000000,
                        }};
    CHECK(jwt_choose(&j));
    long n = authkit__b64url_decode(j.mac, sizeof j.mac, j.token + j.mac_at, j.len - j.mac_at);
    CHECK_INT(n, sizeof j.mac);
    struct authkit__jwt_claims out;
    CHECK_OK(authkit__jwt_verify(jwt_key, sizeof jwt_key, j.token, j.claims.iat, &out));
    uint8_t wrong[INPUT_MAX];
    for (int cls = 0; cls < 2; cls++) {
        jwt_make(&j, cls, wrong);
        uint8_t sig[sizeof j.mac];
        CHECK_INT(authkit__b64url_decode(sig, sizeof sig, (const char *)wrong + j.mac_at,
                                         j.len - j.mac_at),
                  sizeof sig);
        CHECK(sig[cls ? sizeof sig - 1 : 0] != j.mac[cls ? sizeof sig - 1 : 0]);
        CHECK_STATUS(
            authkit__jwt_verify(jwt_key, sizeof jwt_key, (const char *)wrong, j.claims.iat, &out),
            AUTHKIT_NOT_AUTHENTICATED);
    }
    struct experiment e = {"authkit__jwt_verify (32-byte MAC)", 100000, jwt_make, jwt_run, &j};
    run_experiment(&e);
}

int main(void) {
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        check_file(files[i]);
    check_helper();
    if (sodium_init() < 0)
        return 99;
    test_helper(32, "authkit__secret_equal (32 bytes)");
    test_helper(43, "authkit__secret_equal (43 bytes)");
    test_helper(60, "authkit__secret_equal (60 bytes)");
    test_csrf_verify();
    test_jwt_verify();
    return check_done("test_constant_time");
}
