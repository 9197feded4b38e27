/* Session control: idle timeout, absolute lifetime, the per-user cap, last-seen times,
 * logout of every other session (checklist items 48, 49, 50, 55). The fixture's clock
 * moves; nothing sleeps. */
#include <sodium.h>

#include "check.h"
#include "core/ctx.h"
#include "fixture.h"

#define PW  "copper-lantern-meadow-42"
#define MIN 60LL

static struct fixture f;

static struct {
    int expired, revoked;
    authkit_time expired_at;
    size_t count;
} ev;

static int record(const authkit_event *e, void *arg) {
    (void)arg;
    if (e->type == AUTHKIT_EVENT_SESSION_EXPIRED) {
        ev.expired++;
        ev.expired_at = e->expired_at;
    } else if (e->type == AUTHKIT_EVENT_SESSIONS_REVOKED) {
        ev.revoked++;
        ev.count = e->count;
    }
    return 0;
}

static void open_with(int timeout_minutes, int idle_minutes, int cap) {
    fixture_options(&f);
    f.opts.session_timeout_minutes = timeout_minutes;
    f.opts.session_idle_timeout_minutes = idle_minutes;
    f.opts.max_sessions_per_user = cap;
    fixture_open(&f);
    memset(&ev, 0, sizeof ev);
    CHECK_OK(authkit_event_subscribe(f.ctx, AUTHKIT_EVENT_ALL, record, NULL, NULL));
}

static authkit_login_result login(const char *name) {
    authkit_login_result r;
    authkit_error err;
    CHECK_MSG(authkit_authenticate(f.ctx, name, PW, strlen(PW), NULL, &r, &err) == AUTHKIT_OK,
              "login %s: %s", name, err.message);
    return r;
}

static bool valid(const char *token, authkit_session_info *s) {
    authkit_user u;
    return authkit_session_validate(f.ctx, token, &u, s, NULL) == AUTHKIT_OK;
}

/* Checklist 48: idle 30 min; use at 29 min keeps it; 30 min + 1 s after the last use ends
 * it, before the absolute lifetime. */
static void test_idle_timeout(void) {
    open_with(12 * 60, 30, 0);
    fixture_user(&f, "idle_u", PW);
    authkit_login_result r = login("idle_u");
    authkit_time created = atomic_load(&f.now);
    for (int i = 0; i < 5; i++) {
        fixture_advance(&f, 29 * MIN);
        CHECK_MSG(valid(r.token, NULL), "use %d after 29 minutes", i);
    }
    authkit_time last_use = atomic_load(&f.now);
    fixture_advance(&f, 30 * MIN + 1);
    CHECK(!valid(r.token, NULL));
    CHECK_INT(ev.expired, 1);
    CHECK_INT(ev.expired_at, last_use + 30 * MIN * 1000000);
    CHECK(ev.expired_at < created + 12 * 60 * MIN * 1000000);
    /* The row is gone: a second look publishes nothing more. */
    CHECK(!valid(r.token, NULL));
    CHECK_INT(ev.expired, 1);
    fixture_teardown(&f);
}

/* Use is recorded at most once a minute: a session ends at most that much early. */
static void test_idle_precision(void) {
    open_with(12 * 60, 30, 0);
    fixture_user(&f, "prec_u", PW);
    authkit_login_result r = login("prec_u");
    fixture_advance(&f, 50);
    CHECK(valid(r.token, NULL)); /* not recorded: less than a minute since the last write */
    fixture_advance(&f, 30 * MIN - 50);
    CHECK(!valid(r.token, NULL)); /* 30 min after the recorded use, 29:10 after the real one */
    fixture_teardown(&f);
}

/* Checklist 49: activity every ten minutes never carries a session past its lifetime. */
static void test_absolute_lifetime(void) {
    open_with(12 * 60, 30, 0);
    fixture_user(&f, "abs_u", PW);
    authkit_login_result r = login("abs_u");
    authkit_session_info s;
    int uses = 0;
    while (valid(r.token, &s)) {
        CHECK_INT(s.expires_at, r.expires_at);
        fixture_advance(&f, 10 * MIN);
        uses++;
    }
    CHECK_INT(uses, 12 * 6);
    CHECK_INT(ev.expired_at, r.expires_at);
    fixture_teardown(&f);
}

/* Without an idle timeout, last_seen_at still moves (every five minutes at most). */
static void test_last_seen(void) {
    open_with(60, 0, 0);
    authkit_user u = fixture_user(&f, "seen_u", PW);
    authkit_login_result r = login("seen_u");
    authkit_time t0 = atomic_load(&f.now);
    authkit_session_info list[4];
    size_t n = 0;
    fixture_advance(&f, 4 * MIN);
    CHECK(valid(r.token, NULL));
    CHECK_OK(authkit_session_list(f.ctx, u.id, list, 4, &n, NULL));
    CHECK_INT(n, 1);
    CHECK_INT(list[0].last_seen_at, t0);
    fixture_advance(&f, 2 * MIN);
    CHECK(valid(r.token, NULL));
    CHECK_OK(authkit_session_list(f.ctx, u.id, list, 4, &n, NULL));
    CHECK_INT(list[0].last_seen_at, t0 + 6 * MIN * 1000000);
    fixture_teardown(&f);
}

/* Checklist 55: cap 5; the 6th login ends the oldest session. */
static void test_cap(void) {
    open_with(60, 0, 5);
    authkit_user u = fixture_user(&f, "cap_u", PW);
    authkit_login_result r[7];
    for (int i = 0; i < 7; i++) {
        r[i] = login("cap_u");
        fixture_advance(&f, 1);
    }
    CHECK(!valid(r[0].token, NULL) && !valid(r[1].token, NULL));
    for (int i = 2; i < 7; i++)
        CHECK_MSG(valid(r[i].token, NULL), "session %d", i);
    CHECK_INT(ev.revoked, 2);
    CHECK_INT(ev.count, 1);
    size_t n = 0;
    authkit_session_info list[8];
    CHECK_OK(authkit_session_list(f.ctx, u.id, list, 8, &n, NULL));
    CHECK_INT(n, 5);
    fixture_teardown(&f);
}

static void test_logout_others(void) {
    open_with(60, 0, 0);
    authkit_user u = fixture_user(&f, "oth_u", PW);
    authkit_user v = fixture_user(&f, "oth_v", PW);
    authkit_login_result a = login("oth_u"), b = login("oth_u"), c = login("oth_u");
    authkit_login_result other = login("oth_v");
    size_t revoked = 0;
    CHECK_OK(authkit_logout_others(f.ctx, u.id, b.session_id, &revoked, NULL));
    CHECK_INT(revoked, 2);
    CHECK(!valid(a.token, NULL) && valid(b.token, NULL) && !valid(c.token, NULL));
    CHECK(valid(other.token, NULL));
    CHECK_INT(ev.revoked, 1);
    CHECK_INT(ev.count, 2);
    /* Nothing left to end: no event. */
    CHECK_OK(authkit_logout_others(f.ctx, u.id, b.session_id, &revoked, NULL));
    CHECK_INT(revoked, 0);
    CHECK_INT(ev.revoked, 1);
    (void)v;
    fixture_teardown(&f);

    /* Stateless tokens cannot be told apart: logout-all is the way. */
    fixture_options(&f);
    f.opts.enable_session_storage = false;
    fixture_open(&f);
    authkit_user s = fixture_user(&f, "oth_s", PW);
    authkit_error err;
    CHECK_INT(authkit_logout_others(f.ctx, s.id, "x", &revoked, &err), AUTHKIT_UNSUPPORTED);
    fixture_teardown(&f);
}

/* Checklist 52: an operator ends every session of every user, stored or signed. */
static void test_logout_everyone(void) {
    for (int stateless = 0; stateless < 2; stateless++) {
        fixture_options(&f);
        f.opts.enable_session_storage = !stateless;
        fixture_open(&f);
        memset(&ev, 0, sizeof ev);
        CHECK_OK(authkit_event_subscribe(f.ctx, AUTHKIT_EVENT_ALL, record, NULL, NULL));
        fixture_user(&f, "all_u", PW);
        fixture_user(&f, "all_v", PW);
        authkit_login_result a = login("all_u"), b = login("all_v"), c = login("all_u");
        fixture_advance(&f, 1);
        size_t revoked = 99;
        CHECK_OK(authkit_logout_everyone(f.ctx, &revoked, NULL));
        CHECK_INT(revoked, stateless ? 0 : 3);
        CHECK_MSG(!valid(a.token, NULL) && !valid(b.token, NULL) && !valid(c.token, NULL),
                  "stateless %d", stateless);
        CHECK_INT(ev.revoked, 1);
        /* A login after it works. */
        fixture_advance(&f, 1);
        authkit_login_result d = login("all_v");
        CHECK_MSG(valid(d.token, NULL), "stateless %d", stateless);
        fixture_teardown(&f);
    }
}

static void test_options(void) {
    authkit_options o;
    authkit_error err;
    authkit_ctx *ctx;
    authkit_options_init(&o);
    CHECK_INT(o.session_idle_timeout_minutes, 0);
    CHECK_INT(o.max_sessions_per_user, 0);
    o.session_secret = TEST_SECRET;
    o.database_url = "sqlite::memory:";
    o.session_idle_timeout_minutes = -1;
    CHECK_INT(authkit_open(&o, &ctx, &err), AUTHKIT_CONFIG);
    CHECK_STR(err.field, "session_idle_timeout_minutes");
    o.session_idle_timeout_minutes = 0;
    o.max_sessions_per_user = 100001;
    CHECK_INT(authkit_open(&o, &ctx, &err), AUTHKIT_CONFIG);
    CHECK_STR(err.field, "max_sessions_per_user");
}

int main(void) {
    test_idle_timeout();
    test_idle_precision();
    test_absolute_lifetime();
    test_last_seen();
    test_cap();
    test_logout_others();
    test_logout_everyone();
    test_options();
    return check_done("test_session_control");
}
