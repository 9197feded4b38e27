/* Login throttling: the rule (store/throttle_rule.h) and what logins see of it
 * (checklist items 23-28). The clock is the fixture's: no test sleeps. */
#include <pthread.h>
#include <sodium.h>

#include "check.h"
#include "core/ctx.h"
#include "fixture.h"
#include "password/bcrypt.h"
#include "password/throttle.h"
#include "store/throttle_rule.h"

#define PW    "violet-kestrel-harbour-97"
#define WRONG "violet-kestrel-harbour-98"
#define SEC   1000000LL

static struct fixture f;

static void open_with(int account, int address, int pair) {
    fixture_options(&f);
    f.opts.throttle_account_failures = account;
    f.opts.throttle_address_failures = address;
    f.opts.throttle_pair_failures = pair;
    fixture_open(&f);
}

static authkit_status attempt(const char *login, const char *pw, const char *ip,
                              int64_t *retry_after) {
    authkit_login_result r;
    authkit_error err;
    authkit_session_opts o = {.ip = ip};
    authkit_status st = authkit_authenticate(f.ctx, login, pw, strlen(pw), &o, &r, &err);
    if (retry_after)
        *retry_after = err.retry_after_seconds;
    sodium_memzero(&r, sizeof r);
    return st;
}

/* ---- the rule ---------------------------------------------------------------------- */

static void test_rule(void) {
    const struct authkit__throttle_rule rule = {
        .free = 2, .limit = 8, .base = SEC, .max = 10 * SEC, .forget = 100 * SEC};
    struct authkit__throttle_row row = {0};
    authkit_time now = 1000 * SEC;
    /* attempt: the block it leaves behind (seconds); the limit makes the 8th wait max. */
    static const long long want[] = {0, 0, 1, 2, 4, 8, 10, 10, 10};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECK_MSG(authkit__throttle_admit(&rule, &row, now), "row %zu: refused", i);
        CHECK_MSG(row.attempts == (int64_t)i + 1, "row %zu: attempts %lld", i,
                  (long long)row.attempts);
        long long wait = row.blocked_until ? (row.blocked_until - now) / SEC : 0;
        CHECK_MSG(wait == want[i], "row %zu: blocked %lld s, want %lld", i, wait, want[i]);
        if (row.blocked_until) {
            /* Refused until the block ends, unchanged. */
            struct authkit__throttle_row before = row;
            CHECK_MSG(!authkit__throttle_admit(&rule, &row, row.blocked_until - 1), "row %zu", i);
            CHECK_MSG(memcmp(&before, &row, sizeof row) == 0, "row %zu: changed by a refusal", i);
            now = row.blocked_until;
        }
    }
    /* Without a limit the delay doubles up to max and no further; no overflow far out. */
    struct authkit__throttle_rule open = rule;
    open.limit = 0;
    struct authkit__throttle_row far = {.attempts = 5000, .updated_at = now};
    CHECK(authkit__throttle_admit(&open, &far, now));
    CHECK_INT(far.blocked_until - now, 10 * SEC);
    /* An idle counter is forgotten: the next attempt is free again. */
    now = row.blocked_until + 100 * SEC;
    CHECK(authkit__throttle_admit(&rule, &row, now));
    CHECK_INT(row.attempts, 1);
    CHECK_INT(row.blocked_until, 0);
    /* Success: a reset rule forgets; the other takes back one attempt and lifts the
     * block once within `free`. */
    struct authkit__throttle_rule keep = rule;
    struct authkit__throttle_row r2 = {
        .attempts = 3, .blocked_until = now + SEC, .updated_at = now};
    authkit__throttle_succeeded(&keep, &r2);
    CHECK_INT(r2.attempts, 2);
    CHECK_INT(r2.blocked_until, 0);
    keep.reset_on_success = true;
    r2 = (struct authkit__throttle_row){.attempts = 30, .blocked_until = now, .updated_at = now};
    authkit__throttle_succeeded(&keep, &r2);
    CHECK(r2.attempts == 0 && r2.blocked_until == 0 && r2.updated_at == 0);
}

/* ---- logins ------------------------------------------------------------------------ */

/* The status sequence of `n` attempts in a burst (no time passes). */
static void burst(const char *login, const char *pw, const char *ip, int n, char *out) {
    for (int i = 0; i < n; i++) {
        authkit_status st = attempt(login, pw, ip, NULL);
        out[i] = st == AUTHKIT_AUTHENTICATION ? 'F' : st == AUTHKIT_RATE_LIMITED ? 'T' : '?';
    }
    out[n] = '\0';
}

static void test_no_enumeration(void) {
    open_with(10, 100, 5);
    fixture_user(&f, "alice_t", PW);
    fixture_user(&f, "alma_t", PW);
    authkit_user inactive = fixture_user(&f, "inactive_t", PW);
    authkit_user_update off = {.set_is_active = true, .is_active = false};
    CHECK_OK(authkit_user_update_fields(f.ctx, inactive.id, &off, NULL, NULL));
    fixture_user(&f, "nopass_t", NULL);
    /* Each identity from its own address, so only its own counters move. */
    static const struct {
        const char *login, *ip;
    } rows[] = {
        {"alice_t", "192.0.2.1"},
        {"nobody_t", "192.0.2.2"},
        {"inactive_t", "192.0.2.3"},
        {"nopass_t", "192.0.2.4"},
        {"alma_t@example.com", "192.0.2.5"},
        {"nobody@example.com", "192.0.2.6"},
    };
    char first[16], seq[16];
    burst("alice_t", WRONG, "192.0.2.1", 12, first);
    /* 5 free attempts, the 6th evaluated and blocking: FFFFFF then T. */
    CHECK_STR(first, "FFFFFFTTTTTT");
    for (size_t i = 1; i < sizeof rows / sizeof rows[0]; i++) {
        burst(rows[i].login, i == 2 ? PW : WRONG, rows[i].ip, 12, seq);
        CHECK_MSG(strcmp(seq, first) == 0, "row %zu (%s): %s, want %s", i, rows[i].login, seq,
                  first);
    }
    fixture_teardown(&f);
}

static void test_account_counts_once(void) {
    open_with(10, 0, 0);
    fixture_user(&f, "bob_t", PW);
    const char *forms[] = {"bob_t", "BOB_T@example.com", "Bob_T", " bob_t@EXAMPLE.com "};
    for (int i = 0; i < 11; i++)
        CHECK_MSG(attempt(forms[i % 4], WRONG, NULL, NULL) == AUTHKIT_AUTHENTICATION, "row %d", i);
    int64_t retry = 0;
    uint64_t runs = authkit__bcrypt_runs();
    CHECK_INT(attempt("bob_t@example.com", PW, NULL, &retry), AUTHKIT_RATE_LIMITED);
    /* Refused unchecked: no bcrypt ran, the right password did not get in. */
    CHECK_INT(authkit__bcrypt_runs() - runs, 0);
    CHECK_INT(retry, 1);
    fixture_advance(&f, 1);
    CHECK_INT(attempt("bob_t", WRONG, NULL, &retry), AUTHKIT_AUTHENTICATION);
    CHECK_INT(attempt("bob_t", WRONG, NULL, &retry), AUTHKIT_RATE_LIMITED);
    CHECK_INT(retry, 2);
    fixture_advance(&f, 2);
    /* A success forgives: the next ten failures are free again. */
    CHECK_OK(attempt("bob_t", PW, NULL, NULL));
    for (int i = 0; i < 11; i++)
        CHECK_MSG(attempt("bob_t", WRONG, NULL, NULL) == AUTHKIT_AUTHENTICATION, "row %d", i);
    CHECK_INT(attempt("bob_t", WRONG, NULL, NULL), AUTHKIT_RATE_LIMITED);
    fixture_teardown(&f);
}

/* Checklist 23: 150 attempts on one account from 150 addresses in one burst. */
static void test_account_limit(void) {
    open_with(10, 100, 5);
    fixture_user(&f, "carol_t", PW);
    int evaluated = 0;
    char ip[32];
    for (int i = 0; i < 150; i++) {
        snprintf(ip, sizeof ip, "127.0.%d.%d", 1 + i / 200, 2 + i % 200);
        evaluated += attempt("carol_t", WRONG, ip, NULL) == AUTHKIT_AUTHENTICATION;
    }
    CHECK_INT(evaluated, 11);
    int64_t retry = 0;
    CHECK_INT(attempt("carol_t", PW, "127.9.9.9", &retry), AUTHKIT_RATE_LIMITED);
    fixture_advance(&f, retry);
    CHECK_OK(attempt("carol_t", PW, "127.9.9.9", NULL));
    fixture_teardown(&f);

    /* Without delays before it, the hard limit alone stops the burst at 100, and from
     * there every attempt waits the maximum (an hour). */
    open_with(100000, 0, 0);
    fixture_user(&f, "dave_t", PW);
    evaluated = 0;
    for (int i = 0; i < 150; i++)
        evaluated += attempt("dave_t", WRONG, NULL, NULL) == AUTHKIT_AUTHENTICATION;
    CHECK_INT(evaluated, 100);
    CHECK_INT(attempt("dave_t", PW, NULL, &retry), AUTHKIT_RATE_LIMITED);
    CHECK_INT(retry, 3600);
    fixture_advance(&f, 3599);
    CHECK_INT(attempt("dave_t", PW, NULL, &retry), AUTHKIT_RATE_LIMITED);
    CHECK_INT(retry, 1);
    fixture_advance(&f, 1);
    CHECK_OK(attempt("dave_t", PW, NULL, NULL));
    fixture_teardown(&f);
}

/* Checklist 26: 60 failures, a success, 60 failures: the success reset the count, so the
 * 100-attempt limit is never reached. */
static void test_success_resets(void) {
    open_with(100000, 0, 0);
    fixture_user(&f, "erin_t", PW);
    int limited = 0;
    for (int i = 0; i < 60; i++)
        limited += attempt("erin_t", WRONG, NULL, NULL) == AUTHKIT_RATE_LIMITED;
    CHECK_OK(attempt("erin_t", PW, NULL, NULL));
    for (int i = 0; i < 60; i++)
        limited += attempt("erin_t", WRONG, NULL, NULL) == AUTHKIT_RATE_LIMITED;
    CHECK_INT(limited, 0);
    fixture_teardown(&f);
}

/* Checklist 27: one address trying many accounts once each (password spraying). */
static void test_address_limit(void) {
    open_with(10, 100, 5);
    fixture_user(&f, "frank_t", PW);
    char login[32];
    int evaluated = 0;
    for (int i = 0; i < 150; i++) {
        snprintf(login, sizeof login, "spray_%d", i);
        evaluated += attempt(login, WRONG, "203.0.113.9", NULL) == AUTHKIT_AUTHENTICATION;
    }
    CHECK_INT(evaluated, 101);
    /* The block is the address's: the same account from elsewhere still works. */
    CHECK_INT(attempt("frank_t", PW, "203.0.113.9", NULL), AUTHKIT_RATE_LIMITED);
    CHECK_OK(attempt("frank_t", PW, "203.0.113.10", NULL));
    /* IPv6 addresses count per /64: rotating the low bits does not help. */
    evaluated = 0;
    for (int i = 0; i < 150; i++) {
        char ip[64];
        snprintf(ip, sizeof ip, "2001:db8:1:2::%x", i + 1);
        snprintf(login, sizeof login, "spray6_%d", i);
        evaluated += attempt(login, WRONG, ip, NULL) == AUTHKIT_AUTHENTICATION;
    }
    CHECK_INT(evaluated, 101);
    fixture_teardown(&f);
}

static int throttled_events;
static char throttled_ip[AUTHKIT_IP_SIZE];

static int on_throttled(const authkit_event *e, void *arg) {
    (void)arg;
    throttled_events++;
    authkit__strlcpy(throttled_ip, e->ip, sizeof throttled_ip);
    return 0;
}

/* Counters persist in the store (restart, other processes) under keyed names; the
 * re-authentication path counts too; throttled attempts publish an event. */
static void test_store_and_events(void) {
    open_with(3, 0, 0);
    authkit_user gina = fixture_user(&f, "gina_t", PW);
    CHECK_OK(
        authkit_event_subscribe(f.ctx, AUTHKIT_EVENT_LOGIN_THROTTLED, on_throttled, NULL, NULL));
    for (int i = 0; i < 4; i++)
        CHECK_INT(attempt("nobody_zq", WRONG, "198.51.100.77", NULL), AUTHKIT_AUTHENTICATION);
    CHECK_INT(attempt("nobody_zq", WRONG, "198.51.100.77", NULL), AUTHKIT_RATE_LIMITED);
    CHECK_INT(throttled_events, 1);
    CHECK_STR(throttled_ip, "198.51.100.77");
    /* Counters are named by keyed digests: one row, 32 bytes of key. The name is nowhere
     * in the file (the audit trail keeps only its hash); the address is only in the
     * audit trail, which records it by design. */
    CHECK_INT(fixture_query_int(&f, "SELECT count(*) FROM login_throttle"), 1);
    CHECK_INT(fixture_query_int(&f, "SELECT count(*) FROM login_throttle WHERE length(key) = 32"),
              1);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "grep -c -a -e nobody_zq %s* >/dev/null", f.path);
    CHECK_MSG(system(cmd) != 0, "the login name is in %s", f.path);
    CHECK_INT(fixture_query_int(&f, "SELECT count(*) FROM audit_log WHERE ip = '198.51.100.77' "
                                    "AND event = 'login_throttled'"),
              1);
    /* A restart keeps the block. */
    authkit_close(f.ctx);
    fixture_open(&f);
    CHECK_INT(attempt("nobody_zq", WRONG, "198.51.100.77", NULL), AUTHKIT_RATE_LIMITED);
    /* Re-authentication guesses share the account's counter. */
    for (int i = 0; i < 4; i++)
        CHECK_MSG(authkit_user_verify_password(f.ctx, gina.id, WRONG, strlen(WRONG), NULL) ==
                      AUTHKIT_AUTHENTICATION,
                  "row %d", i);
    uint64_t runs = authkit__bcrypt_runs();
    CHECK_INT(authkit_user_verify_password(f.ctx, gina.id, PW, strlen(PW), NULL),
              AUTHKIT_RATE_LIMITED);
    CHECK_INT(authkit__bcrypt_runs() - runs, 0);
    CHECK_INT(attempt("gina_t", PW, NULL, NULL), AUTHKIT_RATE_LIMITED);
    /* An operator lifts the account's block; a second unlock finds nothing. */
    bool was = false;
    CHECK_OK(authkit_user_unlock(f.ctx, gina.id, &was, NULL));
    CHECK(was);
    CHECK_OK(attempt("gina_t", PW, NULL, NULL));
    CHECK_OK(authkit_user_unlock(f.ctx, gina.id, &was, NULL));
    CHECK(!was);
    CHECK_INT(authkit_user_unlock(f.ctx, "nope", &was, NULL), AUTHKIT_NOT_FOUND);
    for (int i = 0; i < 5; i++)
        CHECK(authkit_user_verify_password(f.ctx, gina.id, WRONG, strlen(WRONG), NULL) !=
              AUTHKIT_OK);
    /* Cleanup forgets counters idle for a day once they block nothing. */
    size_t pruned = 0;
    CHECK_OK(authkit__throttle_prune(f.ctx, &pruned, NULL));
    CHECK_INT(pruned, 0);
    fixture_advance(&f, 86400);
    CHECK_OK(authkit__throttle_prune(f.ctx, &pruned, NULL));
    CHECK_INT(pruned, 2);
    CHECK_OK(attempt("gina_t", PW, NULL, NULL));
    fixture_teardown(&f);
}

/* Checklist 28: 300 wrong passwords at once from 8 threads; only the attempts the pair
 * counter admits (5 free + 1) are evaluated. */
#define RACERS 8
static atomic_int evaluated_total;

static void *racer(void *arg) {
    (void)arg;
    for (int i = 0; i < 300 / RACERS + 1; i++)
        if (attempt("hank_t", WRONG, "192.0.2.200", NULL) == AUTHKIT_AUTHENTICATION)
            atomic_fetch_add(&evaluated_total, 1);
    return NULL;
}

static void test_parallel(void) {
    open_with(10, 100, 5);
    fixture_user(&f, "hank_t", PW);
    pthread_t t[RACERS];
    for (int i = 0; i < RACERS; i++)
        CHECK(pthread_create(&t[i], NULL, racer, NULL) == 0);
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    CHECK_INT(atomic_load(&evaluated_total), 6);
    fixture_teardown(&f);
}

/* Options: 0 turns a counter off; out-of-range values are refused at open. */
static void test_options(void) {
    open_with(0, 0, 0);
    fixture_user(&f, "ivan_t", PW);
    for (int i = 0; i < 30; i++)
        CHECK_MSG(attempt("ivan_t", WRONG, "192.0.2.9", NULL) == AUTHKIT_AUTHENTICATION, "row %d",
                  i);
    CHECK_INT(fixture_query_int(&f, "SELECT count(*) FROM login_throttle"), 0);
    fixture_teardown(&f);

    authkit_options o;
    authkit_error err;
    authkit_ctx *ctx;
    authkit_options_init(&o);
    CHECK_INT(o.throttle_account_failures, 10);
    CHECK_INT(o.throttle_address_failures, 100);
    CHECK_INT(o.throttle_pair_failures, 5);
    CHECK_INT(o.throttle_max_delay_seconds, 3600);
    o.session_secret = TEST_SECRET;
    o.database_url = "sqlite::memory:";
    o.throttle_max_delay_seconds = 0;
    CHECK_INT(authkit_open(&o, &ctx, &err), AUTHKIT_CONFIG);
    CHECK_STR(err.field, "throttle_max_delay_seconds");
    o.throttle_max_delay_seconds = 60;
    o.throttle_pair_failures = -1;
    CHECK_INT(authkit_open(&o, &ctx, &err), AUTHKIT_CONFIG);
    CHECK_STR(err.field, "throttle_pair_failures");
}

int main(void) {
    test_rule();
    test_no_enumeration();
    test_account_counts_once();
    test_account_limit();
    test_success_resets();
    test_address_limit();
    test_store_and_events();
    test_parallel();
    test_options();
    return check_done("test_throttle");
}
