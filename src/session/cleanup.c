/* The background thread that deletes expired sessions, forgotten throttling counters and
 * audit rows past their retention every cleanup_interval_ms. */
#include <time.h>

#include "core/ctx.h"
#include "password/throttle.h"

static void *cleanup_main(void *arg) {
    authkit_ctx *ctx = arg;
    struct authkit__cleanup *c = &ctx->cleanup;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        long long ns = until.tv_nsec + (long long)ctx->opts.cleanup_interval_ms * 1000000;
        until.tv_sec += (time_t)(ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        while (!c->stop && pthread_cond_timedwait(&c->wake, &c->lock, &until) == 0)
            ;
        if (c->stop)
            break;
        pthread_mutex_unlock(&c->lock);
        /* Failures (a busy database) are retried at the next interval. */
        if (ctx->opts.enable_session_storage)
            (void)authkit_session_delete_expired(ctx, NULL, NULL);
        (void)authkit__throttle_prune(ctx, NULL, NULL);
        (void)authkit_audit_delete_expired(ctx, NULL, NULL);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

authkit_status authkit__cleanup_start(authkit_ctx *ctx) {
    struct authkit__cleanup *c = &ctx->cleanup;
    if (ctx->opts.cleanup_interval_ms == 0)
        return AUTHKIT_OK;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return AUTHKIT_NOMEM;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&c->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return AUTHKIT_NOMEM;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        pthread_cond_destroy(&c->wake);
        return AUTHKIT_NOMEM;
    }
    c->stop = false;
    if (pthread_create(&c->thread, NULL, cleanup_main, ctx) != 0) {
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->wake);
        return AUTHKIT_NOMEM;
    }
    c->running = true;
    return AUTHKIT_OK;
}

void authkit__cleanup_stop(authkit_ctx *ctx) {
    struct authkit__cleanup *c = &ctx->cleanup;
    if (!c->running)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    c->running = false;
}
