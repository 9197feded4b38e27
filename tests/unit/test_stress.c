/* Eight threads share one context: logins, validations and logouts interleave with no
 * error and the counts add up; a contested expiry is published exactly once. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "fixture.h"

#define THREADS 8
#define ROUNDS  40
#define PW      "correct horse"

static struct fixture f;
static atomic_int errors, logged_in, logged_out, expired;

static int count_events(const authkit_event *e, void *arg) {
    (void)arg;
    if (e->type == AUTHKIT_EVENT_USER_LOGGED_IN)
        atomic_fetch_add(&logged_in, 1);
    else if (e->type == AUTHKIT_EVENT_USER_LOGGED_OUT)
        atomic_fetch_add(&logged_out, 1);
    else if (e->type == AUTHKIT_EVENT_SESSION_EXPIRED)
        atomic_fetch_add(&expired, 1);
    return 0;
}

static void *worker(void *arg) {
    int id = (int)(intptr_t)arg;
    char name[32];
    snprintf(name, sizeof name, "worker_%d", id);
    for (int i = 0; i < ROUNDS; i++) {
        authkit_login_result r;
        authkit_user u;
        bool deleted = false;
        authkit_error err;
        if (authkit_authenticate(f.ctx, name, PW, strlen(PW), NULL, &r, &err) != AUTHKIT_OK ||
            authkit_session_validate(f.ctx, r.token, &u, NULL, &err) != AUTHKIT_OK ||
            strcmp(u.username, name) != 0 || authkit_logout(f.ctx, r.token, &deleted, &err) ||
            !deleted ||
            authkit_session_validate(f.ctx, r.token, &u, NULL, NULL) != AUTHKIT_NOT_AUTHENTICATED) {
            fprintf(stderr, "%s round %d: %s\n", name, i, err.message);
            atomic_fetch_add(&errors, 1);
        }
    }
    return NULL;
}

static const char *shared_token;

static void *validate_shared(void *arg) {
    (void)arg;
    authkit_user u;
    for (int i = 0; i < 20; i++)
        if (authkit_session_validate(f.ctx, shared_token, &u, NULL, NULL) !=
            AUTHKIT_NOT_AUTHENTICATED)
            atomic_fetch_add(&errors, 1);
    return NULL;
}

int main(void) {
    fixture_setup(&f);
    CHECK_OK(authkit_event_subscribe(f.ctx, AUTHKIT_EVENT_ALL, count_events, NULL, NULL));
    for (int i = 0; i < THREADS; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker_%d", i);
        fixture_user(&f, name, PW);
    }
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK_INT(atomic_load(&errors), 0);
    CHECK_INT(atomic_load(&logged_in), THREADS * ROUNDS);
    CHECK_INT(atomic_load(&logged_out), THREADS * ROUNDS);
    size_t live = 99;
    CHECK_OK(authkit_session_count(f.ctx, &live, NULL));
    CHECK_INT(live, 0);

    /* Many threads find the same expired session at once: one event. */
    authkit_login_result r;
    CHECK_OK(authkit_authenticate(f.ctx, "worker_0", PW, strlen(PW), NULL, &r, NULL));
    fixture_advance(&f, 31 * 60);
    shared_token = r.token;
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, validate_shared, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK_INT(atomic_load(&errors), 0);
    CHECK_INT(atomic_load(&expired), 1);

    fixture_teardown(&f);
    return check_done("stress");
}
