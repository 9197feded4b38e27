/* Events: subscription, filtering and order, unsubscription, failing callbacks, callbacks
 * that call the library, publishing and subscribing from several threads at once, event
 * names, the payload of every type over a full scenario (no password, token or hash in any
 * string field), the reasons of failed logins and revocations, the thread's client
 * address, cleanup counts. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"

static struct fixture fx;

/* --- a trace of which subscriber saw which event ---------------------------------------- */

struct trace {
    char log[2048];
};

struct tagger {
    const char *tag;
    struct trace *trace;
    int ret;
};

static void trace_add(struct trace *t, const char *tag, const authkit_event *ev) {
    size_t len = strlen(t->log);
    snprintf(t->log + len, sizeof t->log - len, "%s:%s;", tag, authkit_event_name(ev->type));
}

static int tag_cb(const authkit_event *ev, void *arg) {
    struct tagger *g = arg;
    trace_add(g->trace, g->tag, ev);
    return g->ret;
}

static authkit_status create(const char *username, const char *password, authkit_user *out) {
    char email[96];
    snprintf(email, sizeof email, "%s@example.com", username);
    authkit_user_new in = {.email = email,
                           .username = username,
                           .password = password,
                           .password_len = password ? strlen(password) : 0};
    return authkit_user_create(fx.ctx, &in, out, NULL);
}

/* Checks the trace left since the last check, then clears it. */
#define EXPECT_TRACE(t, row, want)                                                                 \
    do {                                                                                           \
        CHECK_MSG(strcmp((t)->log, (want)) == 0, "trace row %d: got \"%s\", want \"%s\"", (row),   \
                  (t)->log, (want));                                                               \
        (t)->log[0] = '\0';                                                                        \
    } while (0)

static void test_subscribe_order_filter(void) {
    fixture_setup(&fx);
    struct trace t = {""};
    struct tagger a = {"A", &t, 0}, b = {"B", &t, 0}, c = {"C", &t, 0}, d = {"D", &t, 0};
    uint64_t ida = 0, idb = 0, idc = 0, idd = 0;
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_USER_CREATED, tag_cb, &a, &ida));
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_ALL, tag_cb, &b, &idb));
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_USER_CREATED, tag_cb, &c, &idc));
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_USER_DELETED, tag_cb, &d, &idd));
    CHECK(ida != 0 && idb != 0 && idc != 0 && idd != 0);
    CHECK(ida != idb && ida != idc && ida != idd && idb != idc && idb != idd && idc != idd);

    authkit_user u;
    CHECK_OK(create("first", NULL, &u));
    EXPECT_TRACE(&t, 0, "A:user_created;B:user_created;C:user_created;");
    authkit_user_update up = {.global_role = "editor"};
    CHECK_OK(authkit_user_update_fields(fx.ctx, u.id, &up, NULL, NULL));
    EXPECT_TRACE(&t, 1, "B:user_updated;");
    /* Nothing changes: nothing is published. */
    CHECK_OK(authkit_user_update_fields(fx.ctx, u.id, &up, NULL, NULL));
    EXPECT_TRACE(&t, 2, "");
    CHECK_OK(authkit_user_delete(fx.ctx, u.id, NULL));
    EXPECT_TRACE(&t, 3, "B:user_deleted;D:user_deleted;");
    /* A failed operation publishes nothing. */
    CHECK_STATUS(authkit_user_delete(fx.ctx, u.id, NULL), AUTHKIT_NOT_FOUND);
    CHECK_STATUS(create("x", NULL, NULL), AUTHKIT_VALIDATION);
    EXPECT_TRACE(&t, 4, "");

    CHECK_OK(authkit_event_unsubscribe(fx.ctx, idb));
    CHECK_STATUS(authkit_event_unsubscribe(fx.ctx, idb), AUTHKIT_NOT_FOUND);
    CHECK_OK(create("second", NULL, &u));
    EXPECT_TRACE(&t, 5, "A:user_created;C:user_created;");
    CHECK_OK(authkit_user_delete(fx.ctx, u.id, NULL));
    EXPECT_TRACE(&t, 6, "D:user_deleted;");

    /* Re-subscribing puts A after C. */
    CHECK_OK(authkit_event_unsubscribe(fx.ctx, ida));
    CHECK_OK(create("third", NULL, &u));
    EXPECT_TRACE(&t, 7, "C:user_created;");
    uint64_t ida2 = 0;
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_USER_CREATED, tag_cb, &a, &ida2));
    CHECK(ida2 != ida && ida2 != idb && ida2 != idc && ida2 != idd);
    CHECK_OK(create("fourth", NULL, &u));
    EXPECT_TRACE(&t, 8, "C:user_created;A:user_created;");
    CHECK_STATUS(authkit_event_unsubscribe(fx.ctx, ida), AUTHKIT_NOT_FOUND);

    /* Unknown ids. */
    static const uint64_t unknown[] = {0, 987654321, UINT64_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        authkit_status st = authkit_event_unsubscribe(fx.ctx, unknown[i]);
        CHECK_MSG(st == AUTHKIT_NOT_FOUND, "unknown id row %zu: %s", i, authkit_status_name(st));
    }
    /* Invalid subscriptions change nothing. */
    struct {
        authkit_ctx *ctx;
        authkit_event_type type;
        authkit_event_fn fn;
    } bad[] = {
        {fx.ctx, AUTHKIT_EVENT_COUNT_, tag_cb},
        {fx.ctx, (authkit_event_type)(AUTHKIT_EVENT_COUNT_ + 1), tag_cb},
        {fx.ctx, (authkit_event_type)-1, tag_cb},
        {fx.ctx, (authkit_event_type)1000, tag_cb},
        {fx.ctx, AUTHKIT_EVENT_USER_CREATED, NULL},
        {NULL, AUTHKIT_EVENT_USER_CREATED, tag_cb},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t id = 42;
        authkit_status st = authkit_event_subscribe(bad[i].ctx, bad[i].type, bad[i].fn, &b, &id);
        CHECK_MSG(st == AUTHKIT_INVALID_ARGUMENT, "bad subscription row %zu: %s", i,
                  authkit_status_name(st));
    }
    CHECK_STATUS(authkit_event_unsubscribe(NULL, idc), AUTHKIT_INVALID_ARGUMENT);
    CHECK_INT(authkit_event_failures(NULL), 0);
    CHECK_OK(create("fifth", NULL, &u));
    EXPECT_TRACE(&t, 9, "C:user_created;A:user_created;");

    /* The handle is optional. */
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_USER_DELETED, tag_cb, &b, NULL));
    CHECK_OK(authkit_user_delete(fx.ctx, u.id, NULL));
    EXPECT_TRACE(&t, 10, "D:user_deleted;B:user_deleted;");
    fixture_teardown(&fx);
}

/* More subscribers than the bus copies on the stack, interleaved with unsubscriptions. */
static void test_many_subscribers(void) {
    fixture_setup(&fx);
    enum { N = 40 };
    struct trace t = {""};
    struct tagger tags[N];
    char names[N][8];
    uint64_t ids[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "%d", i);
        tags[i] = (struct tagger){names[i], &t, 0};
        authkit_event_type type = i % 3 == 2
                                      ? AUTHKIT_EVENT_USER_DELETED
                                      : (i % 2 ? AUTHKIT_EVENT_ALL : AUTHKIT_EVENT_USER_CREATED);
        CHECK_OK(authkit_event_subscribe(fx.ctx, type, tag_cb, &tags[i], &ids[i]));
    }
    for (int i = 0; i < N; i += 4)
        CHECK_OK(authkit_event_unsubscribe(fx.ctx, ids[i]));
    char want[2048] = "";
    for (int i = 0; i < N; i++) {
        if (i % 4 == 0 || i % 3 == 2)
            continue;
        size_t len = strlen(want);
        snprintf(want + len, sizeof want - len, "%d:user_created;", i);
    }
    CHECK_OK(create("many", NULL, NULL));
    EXPECT_TRACE(&t, 0, want);
    fixture_teardown(&fx);
}

/* --- failing callbacks ------------------------------------------------------------------ */

static void test_failing_callbacks(void) {
    fixture_setup(&fx);
    struct trace t = {""};
    struct tagger bad1 = {"F", &t, 1}, bad2 = {"M", &t, -1}, good = {"G", &t, 0};
    uint64_t idf = 0, idm = 0;
    CHECK_INT(authkit_event_failures(fx.ctx), 0);
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_USER_CREATED, tag_cb, &bad1, &idf));
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_ALL, tag_cb, &good, NULL));

    authkit_user u, got;
    CHECK_OK(create("failing", "gold-fern", &u));
    EXPECT_TRACE(&t, 0, "F:user_created;G:user_created;");
    CHECK_INT(authkit_event_failures(fx.ctx), 1);
    CHECK_OK(authkit_user_get_by_id(fx.ctx, u.id, &got, NULL));

    /* A failing subscriber to every type: each event counts once. */
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_ALL, tag_cb, &bad2, &idm));
    authkit_login_result r;
    authkit_error err;
    CHECK_OK(authkit_authenticate(fx.ctx, "failing", "gold-fern", 9, NULL, &r, &err));
    CHECK_INT(err.status, AUTHKIT_OK);
    EXPECT_TRACE(&t, 1, "G:user_logged_in;M:user_logged_in;");
    CHECK_INT(authkit_event_failures(fx.ctx), 2);
    authkit_user v;
    CHECK_OK(authkit_session_validate(fx.ctx, r.token, &v, NULL, NULL));
    bool deleted = false;
    CHECK_OK(authkit_logout(fx.ctx, r.token, &deleted, NULL));
    CHECK(deleted);
    CHECK_INT(authkit_event_failures(fx.ctx), 3);
    CHECK_OK(create("failing2", NULL, NULL));
    EXPECT_TRACE(&t, 2,
                 "G:user_logged_out;M:user_logged_out;F:user_created;G:user_created;"
                 "M:user_created;");
    CHECK_INT(authkit_event_failures(fx.ctx), 5);
    CHECK_OK(authkit_user_get_by_username(fx.ctx, "failing2", &got, NULL));

    /* Unsubscribed: no more failures. */
    CHECK_OK(authkit_event_unsubscribe(fx.ctx, idf));
    CHECK_OK(authkit_event_unsubscribe(fx.ctx, idm));
    CHECK_OK(create("failing3", NULL, NULL));
    CHECK_OK(authkit_user_delete(fx.ctx, u.id, NULL));
    EXPECT_TRACE(&t, 3, "G:user_created;G:user_deleted;");
    CHECK_INT(authkit_event_failures(fx.ctx), 5);
    fixture_teardown(&fx);
}

/* --- callbacks that call the library ---------------------------------------------------- */

struct reentry {
    const char *password; /* the user's current password, for password_changed */
    int created, updated, deleted, logged_in, revoked, changed, late, self_calls;
    int failures; /* library calls inside callbacks that did not give what they should */
    uint64_t self_id;
    authkit_status subscribe_status;
    bool subscribed_late;
};

static int late_cb(const authkit_event *ev, void *arg) {
    (void)ev;
    ((struct reentry *)arg)->late++;
    return 0;
}

/* Unsubscribes itself on its first call. */
static int once_cb(const authkit_event *ev, void *arg) {
    (void)ev;
    struct reentry *r = arg;
    r->self_calls++;
    if (authkit_event_unsubscribe(fx.ctx, r->self_id) != AUTHKIT_OK)
        r->failures++;
    return 0;
}

static int reentrant_cb(const authkit_event *ev, void *arg) {
    struct reentry *r = arg;
    authkit_user u;
    size_t n = 0;
    switch (ev->type) {
        case AUTHKIT_EVENT_USER_CREATED:
            /* Delivered after the commit: the new user is there. */
            r->created++;
            if (authkit_user_get_by_id(fx.ctx, ev->user_id, &u, NULL) != AUTHKIT_OK ||
                strcmp(u.email, ev->email) != 0)
                r->failures++;
            if (!r->subscribed_late) {
                r->subscribed_late = true;
                r->subscribe_status =
                    authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_ALL, late_cb, r, NULL);
            }
            break;
        case AUTHKIT_EVENT_USER_UPDATED:
            r->updated++;
            if (authkit_user_get_by_id(fx.ctx, ev->user_id, &u, NULL) != AUTHKIT_OK ||
                strcmp(u.email, "renamed@example.com") != 0)
                r->failures++;
            break;
        case AUTHKIT_EVENT_USER_DELETED:
            r->deleted++;
            if (authkit_user_get_by_id(fx.ctx, ev->user_id, &u, NULL) != AUTHKIT_NOT_FOUND)
                r->failures++;
            break;
        case AUTHKIT_EVENT_USER_LOGGED_IN: {
            r->logged_in++;
            authkit_session_info s[8];
            bool found = false;
            if (authkit_session_list(fx.ctx, ev->user_id, s, 8, &n, NULL) != AUTHKIT_OK)
                r->failures++;
            for (size_t i = 0; i < n; i++)
                found = found || strcmp(s[i].id, ev->session_id) == 0;
            if (!found)
                r->failures++;
            break;
        }
        case AUTHKIT_EVENT_SESSIONS_REVOKED:
            r->revoked++;
            if (authkit_session_list(fx.ctx, ev->user_id, NULL, 0, &n, NULL) != AUTHKIT_OK ||
                n != 0)
                r->failures++;
            break;
        case AUTHKIT_EVENT_PASSWORD_CHANGED:
            r->changed++;
            if (authkit_user_verify_password(fx.ctx, ev->user_id, r->password, strlen(r->password),
                                             NULL) != AUTHKIT_OK)
                r->failures++;
            break;
        default:
            break;
    }
    return 0;
}

static void alarm_handler(int sig) {
    (void)sig;
    static const char msg[] = "test_event: timed out (deadlock in a reentrant callback?)\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
        _exit(98);
    _exit(98);
}

static void test_reentrant_callbacks(void) {
    fixture_setup(&fx);
    struct reentry r = {.password = "first-password"};
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_ALL, reentrant_cb, &r, NULL));
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_ALL, once_cb, &r, &r.self_id));

    authkit_user u;
    CHECK_OK(create("reentry", r.password, &u));
    CHECK_INT(r.created, 1);
    CHECK_INT(r.subscribe_status, AUTHKIT_OK);
    CHECK_INT(r.self_calls, 1);
    int late_before = r.late;
    authkit_login_result l1, l2;
    CHECK_OK(
        authkit_authenticate(fx.ctx, "reentry", r.password, strlen(r.password), NULL, &l1, NULL));
    CHECK_INT(r.logged_in, 1);
    CHECK_MSG(r.late > late_before, "a callback subscribed from a callback got nothing later");
    CHECK_OK(
        authkit_authenticate(fx.ctx, "reentry", r.password, strlen(r.password), NULL, &l2, NULL));
    size_t revoked = 0;
    CHECK_OK(authkit_logout_all(fx.ctx, u.id, &revoked, NULL));
    CHECK_INT(revoked, 2);
    CHECK_INT(r.revoked, 1);
    r.password = "second-password";
    CHECK_OK(authkit_user_set_password(fx.ctx, u.id, r.password, strlen(r.password), NULL));
    CHECK_INT(r.changed, 1);
    authkit_user_update up = {.email = "Renamed@Example.com"};
    CHECK_OK(authkit_user_update_fields(fx.ctx, u.id, &up, NULL, NULL));
    CHECK_INT(r.updated, 1);
    CHECK_OK(authkit_user_delete(fx.ctx, u.id, NULL));
    CHECK_INT(r.deleted, 1);
    CHECK_INT(r.self_calls, 1);
    CHECK_INT(r.failures, 0);
    CHECK_INT(authkit_event_failures(fx.ctx), 0);
    fixture_teardown(&fx);
}

/* A callback that unsubscribes a later one during the same delivery: event.h promises that
 * once unsubscribe returns the callback is not called again, except by deliveries running
 * on other threads. Here everything runs on one thread, so the victim must not be called
 * (its `arg` might already be freed by then). */
struct victim {
    uint64_t id;
    bool gone;
    int calls, calls_after_unsubscribe;
    authkit_status unsubscribe_status;
};

static int killer_cb(const authkit_event *ev, void *arg) {
    (void)ev;
    struct victim *v = arg;
    if (!v->gone) {
        v->unsubscribe_status = authkit_event_unsubscribe(fx.ctx, v->id);
        v->gone = v->unsubscribe_status == AUTHKIT_OK;
    }
    return 0;
}

static int victim_cb(const authkit_event *ev, void *arg) {
    (void)ev;
    struct victim *v = arg;
    v->calls++;
    if (v->gone)
        v->calls_after_unsubscribe++;
    return 0;
}

static void test_unsubscribe_during_delivery(void) {
    fixture_setup(&fx);
    struct victim v = {0};
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_USER_CREATED, killer_cb, &v, NULL));
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_ALL, victim_cb, &v, &v.id));
    CHECK_OK(create("victim", NULL, NULL));
    CHECK_INT(v.unsubscribe_status, AUTHKIT_OK);
    CHECK(v.gone);
    CHECK_MSG(v.calls_after_unsubscribe == 0,
              "callback called %d time(s) on the same thread after its unsubscribe returned",
              v.calls_after_unsubscribe);
    int calls = v.calls;
    CHECK_OK(create("victim2", NULL, NULL));
    CHECK_INT(v.calls, calls);
    fixture_teardown(&fx);
}

/* --- threads ---------------------------------------------------------------------------- */

/* Several threads publish (by creating users) while another subscribes and unsubscribes
 * over and over, as event.h allows from any thread. The subscriber that stays sees every
 * event exactly once. Mostly for ThreadSanitizer (`make test-tsan`), which checks that the
 * subscriber list is only ever touched under its lock. */
#define PUBLISHERS   4
#define USERS_EACH   25
#define CHURN_ROUNDS 300

static atomic_int seen_by_stayer, seen_by_churner;

static int count_cb(const authkit_event *ev, void *arg) {
    (void)ev;
    atomic_fetch_add((atomic_int *)arg, 1);
    return 0;
}

static void *publisher(void *arg) {
    int index = (int)(intptr_t)arg;
    for (int i = 0; i < USERS_EACH; i++) {
        char name[32];
        snprintf(name, sizeof name, "pub%d_%d", index, i);
        if (create(name, NULL, NULL) != AUTHKIT_OK)
            return (void *)1;
    }
    return NULL;
}

static void *churner(void *arg) {
    (void)arg;
    for (int i = 0; i < CHURN_ROUNDS; i++) {
        uint64_t id;
        if (authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_ALL, count_cb, &seen_by_churner, &id) !=
                AUTHKIT_OK ||
            authkit_event_unsubscribe(fx.ctx, id) != AUTHKIT_OK)
            return (void *)1;
    }
    return NULL;
}

static void test_threads(void) {
    fixture_setup(&fx);
    atomic_init(&seen_by_stayer, 0);
    atomic_init(&seen_by_churner, 0);
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_USER_CREATED, count_cb, &seen_by_stayer,
                                     NULL));
    pthread_t pub[PUBLISHERS], churn;
    CHECK(pthread_create(&churn, NULL, churner, NULL) == 0);
    for (int i = 0; i < PUBLISHERS; i++)
        CHECK(pthread_create(&pub[i], NULL, publisher, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < PUBLISHERS; i++) {
        void *failed;
        pthread_join(pub[i], &failed);
        CHECK_MSG(!failed, "publisher %d could not create its users", i);
    }
    void *failed;
    pthread_join(churn, &failed);
    CHECK_MSG(!failed, "subscribe or unsubscribe failed while others published");
    CHECK_INT(atomic_load(&seen_by_stayer), PUBLISHERS * USERS_EACH);
    CHECK(atomic_load(&seen_by_churner) <= PUBLISHERS * USERS_EACH);
    CHECK_INT(authkit_event_failures(fx.ctx), 0);
    fixture_teardown(&fx);
}

/* --- names ------------------------------------------------------------------------------ */

static void test_names(void) {
    static const struct {
        authkit_event_type type;
        const char *name;
    } rows[] = {
        {AUTHKIT_EVENT_USER_CREATED, "user_created"},
        {AUTHKIT_EVENT_USER_UPDATED, "user_updated"},
        {AUTHKIT_EVENT_USER_DELETED, "user_deleted"},
        {AUTHKIT_EVENT_USER_LOGGED_IN, "user_logged_in"},
        {AUTHKIT_EVENT_LOGIN_FAILED, "login_failed"},
        {AUTHKIT_EVENT_USER_LOGGED_OUT, "user_logged_out"},
        {AUTHKIT_EVENT_SESSION_EXPIRED, "session_expired"},
        {AUTHKIT_EVENT_SESSIONS_REVOKED, "sessions_revoked"},
        {AUTHKIT_EVENT_PASSWORD_CHANGED, "password_changed"},
        {AUTHKIT_EVENT_LOGIN_THROTTLED, "login_throttled"},
        {AUTHKIT_EVENT_SESSIONS_CLEANED, "sessions_cleaned"},
        {AUTHKIT_EVENT_PASSWORD_CHANGE_REQUIRED, "password_change_required"},
    };
    CHECK_INT(sizeof rows / sizeof rows[0], AUTHKIT_EVENT_COUNT_ - 1);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *name = authkit_event_name(rows[i].type);
        CHECK_MSG(name && strcmp(name, rows[i].name) == 0, "name row %zu: \"%s\", want \"%s\"", i,
                  name ? name : "(null)", rows[i].name);
    }
    /* Unique over every value, including ALL. */
    for (int i = 0; i < AUTHKIT_EVENT_COUNT_; i++)
        for (int k = i + 1; k < AUTHKIT_EVENT_COUNT_; k++) {
            const char *a = authkit_event_name((authkit_event_type)i);
            const char *b = authkit_event_name((authkit_event_type)k);
            CHECK_MSG(a && b && strcmp(a, b) != 0, "names of %d and %d are both \"%s\"", i, k,
                      a ? a : "(null)");
        }
    static const int out_of_range[] = {AUTHKIT_EVENT_COUNT_, AUTHKIT_EVENT_COUNT_ + 1, -1, 1000};
    for (size_t i = 0; i < sizeof out_of_range / sizeof out_of_range[0]; i++) {
        const char *name = authkit_event_name((authkit_event_type)out_of_range[i]);
        CHECK_MSG(name != NULL && name[0] != '\0', "out-of-range row %zu: no name", i);
        for (size_t k = 0; name && k < sizeof rows / sizeof rows[0]; k++)
            CHECK_MSG(strcmp(name, rows[k].name) != 0, "out-of-range row %zu is named \"%s\"", i,
                      name);
    }
}

/* --- payloads --------------------------------------------------------------------------- */

enum { S_USER_ID, S_SESSION_ID, S_EMAIL, S_USERNAME, S_LOGIN, S_IP, N_STR };
static const char *const str_names[N_STR] = {"user_id",  "session_id", "email",
                                             "username", "login",      "ip"};

#define MAX_RECORDED 64

struct recorded {
    authkit_event_type type;
    authkit_time timestamp, expired_at;
    unsigned fields_changed;
    size_t count;
    char *str[N_STR]; /* copies; NULL where the event had NULL */
};

struct recorder {
    struct recorded ev[MAX_RECORDED];
    size_t n, dropped;
};

static int record_cb(const authkit_event *ev, void *arg) {
    struct recorder *rec = arg;
    if (rec->n == MAX_RECORDED) {
        rec->dropped++;
        return 0;
    }
    struct recorded *r = &rec->ev[rec->n++];
    r->type = ev->type;
    r->timestamp = ev->timestamp;
    r->expired_at = ev->expired_at;
    r->fields_changed = ev->fields_changed;
    r->count = ev->count;
    const char *s[N_STR] = {ev->user_id,  ev->session_id, ev->email,
                            ev->username, ev->login,      ev->ip};
    for (int i = 0; i < N_STR; i++)
        r->str[i] = s[i] ? strdup(s[i]) : NULL;
    return 0;
}

static void recorder_free(struct recorder *rec) {
    for (size_t i = 0; i < rec->n; i++)
        for (int k = 0; k < N_STR; k++)
            free(rec->ev[i].str[k]);
    rec->n = 0;
}

#define BIT(s) (1u << (s))

/* String fields each type carries (event.h); the others must be NULL. */
static unsigned carried(authkit_event_type type) {
    switch (type) {
        case AUTHKIT_EVENT_USER_CREATED:
            return BIT(S_USER_ID) | BIT(S_EMAIL) | BIT(S_USERNAME);
        case AUTHKIT_EVENT_USER_LOGGED_IN:
            return BIT(S_USER_ID) | BIT(S_SESSION_ID) | BIT(S_IP);
        case AUTHKIT_EVENT_LOGIN_FAILED:
            return BIT(S_LOGIN) | BIT(S_USER_ID) | BIT(S_IP);
        case AUTHKIT_EVENT_USER_LOGGED_OUT:
        case AUTHKIT_EVENT_SESSION_EXPIRED:
            return BIT(S_USER_ID) | BIT(S_SESSION_ID);
        default:
            return BIT(S_USER_ID);
    }
}

/* The expected value of one event; NULL strings must be NULL. */
struct want {
    authkit_event_type type;
    authkit_time timestamp;
    const char *str[N_STR];
    authkit_time expired_at;
    unsigned fields_changed;
    size_t count;
};

static void check_event(size_t i, const struct recorded *got, const struct want *w) {
    CHECK_MSG(got->type == w->type, "event %zu: type %s, want %s", i, authkit_event_name(got->type),
              authkit_event_name(w->type));
    CHECK_MSG(got->timestamp == w->timestamp, "event %zu (%s): timestamp %lld, want %lld", i,
              authkit_event_name(w->type), (long long)got->timestamp, (long long)w->timestamp);
    unsigned mask = carried(w->type);
    for (int k = 0; k < N_STR; k++) {
        const char *g = got->str[k], *e = w->str[k];
        CHECK_MSG((mask & BIT(k)) != 0 || !e, "event %zu: bad expectation for %s", i, str_names[k]);
        if (e)
            CHECK_MSG(g && strcmp(g, e) == 0, "event %zu (%s): %s \"%s\", want \"%s\"", i,
                      authkit_event_name(w->type), str_names[k], g ? g : "(null)", e);
        else
            CHECK_MSG(!g, "event %zu (%s): %s is \"%s\", want NULL", i, authkit_event_name(w->type),
                      str_names[k], g);
    }
    CHECK_MSG(got->expired_at == w->expired_at, "event %zu (%s): expired_at %lld, want %lld", i,
              authkit_event_name(w->type), (long long)got->expired_at, (long long)w->expired_at);
    CHECK_MSG(got->fields_changed == w->fields_changed,
              "event %zu (%s): fields_changed %u, want %u", i, authkit_event_name(w->type),
              got->fields_changed, w->fields_changed);
    CHECK_MSG(got->count == w->count, "event %zu (%s): count %zu, want %zu", i,
              authkit_event_name(w->type), got->count, w->count);
}

static void test_payloads(void) {
    fixture_setup(&fx);
    struct recorder *rec = calloc(1, sizeof *rec);
    if (!rec) {
        CHECK(rec != NULL);
        fixture_teardown(&fx);
        return;
    }
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_ALL, record_cb, rec, NULL));
    static const char pw[] = "Scenario-Pass-42!", new_pw[] = "Changed-Pass-43?",
                      wrong_pw[] = "Wrong-Pass-44#";
    struct want w[MAX_RECORDED];
    size_t nw = 0;
    memset(w, 0, sizeof w);
    authkit_login_result r[6];
    memset(r, 0, sizeof r);

    /* 0: user_created. */
    authkit_user u;
    authkit_user_new in = {.email = " Paula@Example.com ",
                           .username = "Paula",
                           .password = pw,
                           .password_len = strlen(pw)};
    CHECK_OK(authkit_user_create(fx.ctx, &in, &u, NULL));
    w[nw++] = (struct want){
        .type = AUTHKIT_EVENT_USER_CREATED,
        .timestamp = authkit_now(fx.ctx),
        .str = {[S_USER_ID] = u.id, [S_EMAIL] = "paula@example.com", [S_USERNAME] = "Paula"}};

    /* 1: user_logged_in with the client's address. */
    fixture_advance(&fx, 1);
    authkit_session_opts opts = {.ip = "203.0.113.9", .user_agent = "agent/1.0"};
    CHECK_OK(authkit_authenticate(fx.ctx, "PAULA@example.com", pw, strlen(pw), &opts, &r[0], NULL));
    w[nw++] = (struct want){
        .type = AUTHKIT_EVENT_USER_LOGGED_IN,
        .timestamp = authkit_now(fx.ctx),
        .str = {[S_USER_ID] = u.id, [S_SESSION_ID] = r[0].session_id, [S_IP] = "203.0.113.9"}};

    /* 2, 3: login_failed carries the name given (and the user it names), never the
     * password. */
    fixture_advance(&fx, 1);
    authkit_session_opts other = {.ip = "198.51.100.7"};
    CHECK_STATUS(
        authkit_authenticate(fx.ctx, "Paula", wrong_pw, strlen(wrong_pw), &other, &r[5], NULL),
        AUTHKIT_AUTHENTICATION);
    w[nw++] =
        (struct want){.type = AUTHKIT_EVENT_LOGIN_FAILED,
                      .timestamp = authkit_now(fx.ctx),
                      .str = {[S_LOGIN] = "Paula", [S_USER_ID] = u.id, [S_IP] = "198.51.100.7"}};
    CHECK_STATUS(
        authkit_authenticate(fx.ctx, "ghost@example.com", pw, strlen(pw), NULL, &r[5], NULL),
        AUTHKIT_AUTHENTICATION);
    w[nw++] = (struct want){.type = AUTHKIT_EVENT_LOGIN_FAILED,
                            .timestamp = authkit_now(fx.ctx),
                            .str = {[S_LOGIN] = "ghost@example.com"}};

    /* 4: user_logged_out with the session id of the login; a second logout is silent. */
    fixture_advance(&fx, 1);
    bool deleted = false;
    CHECK_OK(authkit_logout(fx.ctx, r[0].token, &deleted, NULL));
    CHECK(deleted);
    w[nw++] = (struct want){.type = AUTHKIT_EVENT_USER_LOGGED_OUT,
                            .timestamp = authkit_now(fx.ctx),
                            .str = {[S_USER_ID] = u.id, [S_SESSION_ID] = r[0].session_id}};
    CHECK_OK(authkit_logout(fx.ctx, r[0].token, &deleted, NULL));
    CHECK(!deleted);

    /* 5, 6: a login, then its expiry found by validation, once. */
    CHECK_OK(authkit_authenticate(fx.ctx, "Paula", pw, strlen(pw), NULL, &r[1], NULL));
    w[nw++] = (struct want){.type = AUTHKIT_EVENT_USER_LOGGED_IN,
                            .timestamp = authkit_now(fx.ctx),
                            .str = {[S_USER_ID] = u.id, [S_SESSION_ID] = r[1].session_id}};
    CHECK_INT(r[1].expires_at, authkit_now(fx.ctx) + 30LL * 60 * 1000000);
    fixture_advance(&fx, 31 * 60);
    authkit_user v;
    for (int i = 0; i < 3; i++) {
        authkit_status st = authkit_session_validate(fx.ctx, r[1].token, &v, NULL, NULL);
        CHECK_MSG(st == AUTHKIT_NOT_AUTHENTICATED, "expired validation %d: %s", i,
                  authkit_status_name(st));
    }
    w[nw++] = (struct want){.type = AUTHKIT_EVENT_SESSION_EXPIRED,
                            .timestamp = authkit_now(fx.ctx),
                            .str = {[S_USER_ID] = u.id, [S_SESSION_ID] = r[1].session_id},
                            .expired_at = r[1].expires_at};
    CHECK_OK(authkit_logout(fx.ctx, r[1].token, &deleted, NULL));
    CHECK(!deleted);

    /* 7, 8, 9: two logins, then logout-all. */
    fixture_advance(&fx, 1);
    for (int i = 2; i <= 3; i++) {
        CHECK_OK(authkit_authenticate(fx.ctx, "paula", pw, strlen(pw), NULL, &r[i], NULL));
        w[nw++] = (struct want){.type = AUTHKIT_EVENT_USER_LOGGED_IN,
                                .timestamp = authkit_now(fx.ctx),
                                .str = {[S_USER_ID] = u.id, [S_SESSION_ID] = r[i].session_id}};
    }
    fixture_advance(&fx, 1);
    size_t revoked = 0;
    CHECK_OK(authkit_logout_all(fx.ctx, u.id, &revoked, NULL));
    CHECK_INT(revoked, 2);
    w[nw++] = (struct want){.type = AUTHKIT_EVENT_SESSIONS_REVOKED,
                            .timestamp = authkit_now(fx.ctx),
                            .str = {[S_USER_ID] = u.id},
                            .count = 2};

    /* 10, 11: a login, then a password change ending it. */
    CHECK_OK(authkit_authenticate(fx.ctx, "paula", pw, strlen(pw), NULL, &r[4], NULL));
    w[nw++] = (struct want){.type = AUTHKIT_EVENT_USER_LOGGED_IN,
                            .timestamp = authkit_now(fx.ctx),
                            .str = {[S_USER_ID] = u.id, [S_SESSION_ID] = r[4].session_id}};
    fixture_advance(&fx, 1);
    CHECK_OK(authkit_user_set_password(fx.ctx, u.id, new_pw, strlen(new_pw), NULL));
    w[nw++] = (struct want){.type = AUTHKIT_EVENT_PASSWORD_CHANGED,
                            .timestamp = authkit_now(fx.ctx),
                            .str = {[S_USER_ID] = u.id},
                            .count = 1};

    /* 12: user_updated names the changed fields, not their values. */
    fixture_advance(&fx, 1);
    authkit_user_update up = {.email = "paula.new@example.com", .global_role = "editor"};
    CHECK_OK(authkit_user_update_fields(fx.ctx, u.id, &up, NULL, NULL));
    w[nw++] = (struct want){.type = AUTHKIT_EVENT_USER_UPDATED,
                            .timestamp = authkit_now(fx.ctx),
                            .str = {[S_USER_ID] = u.id},
                            .fields_changed = AUTHKIT_FIELD_EMAIL | AUTHKIT_FIELD_GLOBAL_ROLE};

    /* 13: user_deleted. */
    fixture_advance(&fx, 1);
    CHECK_OK(authkit_user_delete(fx.ctx, u.id, NULL));
    w[nw++] = (struct want){.type = AUTHKIT_EVENT_USER_DELETED,
                            .timestamp = authkit_now(fx.ctx),
                            .str = {[S_USER_ID] = u.id}};

    CHECK_INT(rec->dropped, 0);
    CHECK_INT(rec->n, nw);
    for (size_t i = 0; i < rec->n && i < nw; i++)
        check_event(i, &rec->ev[i], &w[i]);

    /* No string of any event holds a password, a token or a hash. */
    const char *secrets[12];
    size_t ns = 0;
    secrets[ns++] = pw;
    secrets[ns++] = new_pw;
    secrets[ns++] = wrong_pw;
    secrets[ns++] = "$2b$";
    for (int i = 0; i <= 4; i++)
        secrets[ns++] = r[i].token;
    for (size_t i = 0; i < rec->n; i++)
        for (int k = 0; k < N_STR; k++)
            for (size_t s = 0; s < ns && rec->ev[i].str[k]; s++) {
                const char *field = rec->ev[i].str[k];
                bool leak = secrets[s][0] &&
                            memmem(field, strlen(field), secrets[s], strlen(secrets[s])) != NULL;
                CHECK_MSG(!leak, "event %zu (%s): %s holds secret %zu", i,
                          authkit_event_name(rec->ev[i].type), str_names[k], s);
            }
    for (int i = 0; i <= 4; i++)
        CHECK_MSG(strlen(r[i].token) == 43, "login %d: token of %zu characters", i,
                  strlen(r[i].token));
    recorder_free(rec);
    free(rec);
    fixture_teardown(&fx);
}

/* --- reasons, the thread's client, cleanup counts ---------------------------------------- */

static struct {
    authkit_event_type type;
    char reason[32], ip[AUTHKIT_IP_SIZE], user_id[AUTHKIT_UUID_SIZE];
    size_t count;
    int n;
} last;

static int last_cb(const authkit_event *ev, void *arg) {
    (void)arg;
    last.type = ev->type;
    snprintf(last.reason, sizeof last.reason, "%s", ev->reason ? ev->reason : "");
    snprintf(last.ip, sizeof last.ip, "%s", ev->ip ? ev->ip : "");
    snprintf(last.user_id, sizeof last.user_id, "%s", ev->user_id ? ev->user_id : "");
    last.count = ev->count;
    last.n++;
    return 0;
}

/* login_failed says why (the caller is told the same either way); a revocation and a
 * deactivation say so; the thread's client names events that have no address; a cleanup
 * publishes its count once, and nothing when there was nothing to clean. */
static void test_reasons_and_client(void) {
    fixture_setup(&fx);
    static const char pw[] = "Reason-Pass-45!", wrong[] = "Reason-Wrong-46!";
    authkit_user bob, carol, dave;
    CHECK_OK(create("bob_r", pw, &bob));
    CHECK_OK(create("carol_r", pw, &carol));
    CHECK_OK(create("dave_r", NULL, &dave));
    authkit_user_update off = {.set_is_active = true, .is_active = false};
    CHECK_OK(authkit_user_update_fields(fx.ctx, carol.id, &off, NULL, NULL));
    CHECK_OK(authkit_event_subscribe(fx.ctx, AUTHKIT_EVENT_ALL, last_cb, NULL, NULL));
    const struct {
        const char *login, *pw;
        size_t len;
        const char *reason, *user_id;
    } rows[] = {
        {"nobody_r", pw, strlen(pw), "unknown_login", ""},
        {"bob_r", wrong, strlen(wrong), "wrong_password", bob.id},
        {"carol_r", pw, strlen(pw), "inactive_user", carol.id},
        {"carol_r", wrong, strlen(wrong), "wrong_password", carol.id},
        {"dave_r", pw, strlen(pw), "no_password", dave.id},
        {"bob_r", "", 0, "bad_password_input", bob.id},
        {"bob_r", "a\0b", 3, "bad_password_input", bob.id},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        authkit_login_result r;
        authkit_error err;
        last.n = 0;
        CHECK_STATUS(
            authkit_authenticate(fx.ctx, rows[i].login, rows[i].pw, rows[i].len, NULL, &r, &err),
            AUTHKIT_AUTHENTICATION);
        CHECK_MSG(strcmp(err.message, "Invalid username or password") == 0, "row %zu: %s", i,
                  err.message);
        CHECK_MSG(last.n == 1 && last.type == AUTHKIT_EVENT_LOGIN_FAILED, "row %zu: %d events", i,
                  last.n);
        CHECK_MSG(strcmp(last.reason, rows[i].reason) == 0, "row %zu: reason %s, want %s", i,
                  last.reason, rows[i].reason);
        CHECK_MSG(strcmp(last.user_id, rows[i].user_id) == 0, "row %zu: user %s", i, last.user_id);
        CHECK_MSG(last.ip[0] == '\0', "row %zu: ip %s", i, last.ip);
    }

    /* The thread's client names a logout; the login's own address wins over it. */
    authkit_login_result a, b;
    authkit_session_opts own = {.ip = "192.0.2.1"};
    authkit_event_set_client("198.51.100.9");
    CHECK_OK(authkit_authenticate(fx.ctx, "bob_r", pw, strlen(pw), &own, &a, NULL));
    CHECK_STR(last.ip, "192.0.2.1");
    bool deleted;
    CHECK_OK(authkit_logout(fx.ctx, a.token, &deleted, NULL));
    CHECK_STR(last.ip, "198.51.100.9");
    CHECK_STR(last.reason, "");
    authkit_event_set_client(NULL);
    CHECK_OK(authkit_authenticate(fx.ctx, "bob_r", pw, strlen(pw), NULL, &a, NULL));
    CHECK_STR(last.ip, "");
    CHECK_OK(authkit_session_revoke(fx.ctx, bob.id, a.session_id, NULL));
    CHECK_INT(last.type, AUTHKIT_EVENT_USER_LOGGED_OUT);
    CHECK_STR(last.reason, "revoked");

    /* A deactivation that ends sessions says so; a logout-all has no reason. */
    CHECK_OK(authkit_authenticate(fx.ctx, "bob_r", pw, strlen(pw), NULL, &a, NULL));
    size_t n = 0;
    CHECK_OK(authkit_logout_all(fx.ctx, bob.id, &n, NULL));
    CHECK_INT(last.type, AUTHKIT_EVENT_SESSIONS_REVOKED);
    CHECK_STR(last.reason, "");
    CHECK_OK(authkit_authenticate(fx.ctx, "bob_r", pw, strlen(pw), NULL, &a, NULL));
    CHECK_OK(authkit_user_update_fields(fx.ctx, bob.id, &off, NULL, NULL));
    CHECK_INT(last.type, AUTHKIT_EVENT_SESSIONS_REVOKED);
    CHECK_STR(last.reason, "user_deactivated");
    CHECK_INT(last.count, 1);

    /* Cleanup: one event with the count; none when nothing expired. */
    authkit_user_update on = {.set_is_active = true, .is_active = true};
    CHECK_OK(authkit_user_update_fields(fx.ctx, bob.id, &on, NULL, NULL));
    CHECK_OK(authkit_authenticate(fx.ctx, "bob_r", pw, strlen(pw), NULL, &a, NULL));
    CHECK_OK(authkit_authenticate(fx.ctx, "bob_r", pw, strlen(pw), NULL, &b, NULL));
    fixture_advance(&fx, 31 * 60);
    last.n = 0;
    CHECK_OK(authkit_session_delete_expired(fx.ctx, &n, NULL));
    CHECK_INT(n, 2);
    CHECK_INT(last.n, 1);
    CHECK_INT(last.type, AUTHKIT_EVENT_SESSIONS_CLEANED);
    CHECK_INT(last.count, 2);
    CHECK_STR(last.user_id, "");
    last.n = 0;
    CHECK_OK(authkit_session_delete_expired(fx.ctx, &n, NULL));
    CHECK_INT(last.n, 0);
    fixture_teardown(&fx);
}

int main(void) {
    /* A deadlock in a callback must fail the test, not hang it (no sleeping involved). */
    signal(SIGALRM, alarm_handler);
    alarm(240);
    test_subscribe_order_filter();
    test_many_subscribers();
    test_failing_callbacks();
    test_reentrant_callbacks();
    test_unsubscribe_during_delivery();
    test_threads();
    test_names();
    test_payloads();
    test_reasons_and_client();
    alarm(0);
    return check_done("test_event");
}
