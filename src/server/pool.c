#include "server/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct job {
    authkit_job_fn fn;
    void *arg;
    uint64_t queued_us;
};

struct authkit_pool {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct job *ring; /* queue_cap slots */
    size_t cap, head, count;
    bool stopping;
    uint64_t wait_us, started;
    int nthreads;
    pthread_t threads[];
};

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void *worker(void *arg) {
    struct authkit_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->count == 0 && !p->stopping)
            pthread_cond_wait(&p->ready, &p->lock);
        if (p->count == 0)
            break; /* stopping and drained */
        struct job j = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        p->wait_us += now_us() - j.queued_us;
        p->started++;
        pthread_mutex_unlock(&p->lock);
        j.fn(j.arg);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int authkit_pool_start(int workers, int queue_cap, struct authkit_pool **out) {
    *out = NULL;
    if (workers < 1 || queue_cap < 1)
        return -1;
    struct authkit_pool *p = calloc(1, sizeof *p + (size_t)workers * sizeof(pthread_t));
    if (!p)
        return -1;
    p->ring = calloc((size_t)queue_cap, sizeof *p->ring);
    p->cap = (size_t)queue_cap;
    if (!p->ring || pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p->ring);
        free(p);
        return -1;
    }
    pthread_cond_init(&p->ready, NULL);
    for (; p->nthreads < workers; p->nthreads++)
        if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) != 0)
            break;
    if (p->nthreads == 0) {
        authkit_pool_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

int authkit_pool_workers(const struct authkit_pool *pool) {
    return pool->nthreads; /* set before the pool is handed out, never changed */
}

int authkit_pool_submit(struct authkit_pool *p, authkit_job_fn fn, void *arg) {
    int rc = -1;
    pthread_mutex_lock(&p->lock);
    if (!p->stopping && p->count < p->cap) {
        p->ring[(p->head + p->count) % p->cap] = (struct job){fn, arg, now_us()};
        p->count++;
        pthread_cond_signal(&p->ready);
        rc = 0;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

size_t authkit_pool_waiting(struct authkit_pool *p) {
    pthread_mutex_lock(&p->lock);
    size_t n = p->count;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void authkit_pool_wait_stats(struct authkit_pool *p, uint64_t *wait_us, uint64_t *started) {
    pthread_mutex_lock(&p->lock);
    *wait_us = p->wait_us;
    *started = p->started;
    pthread_mutex_unlock(&p->lock);
}

void authkit_pool_stop(struct authkit_pool *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    bool first = !p->stopping;
    p->stopping = true;
    pthread_cond_broadcast(&p->ready);
    pthread_mutex_unlock(&p->lock);
    /* Only the first caller joins; stopping is never cleared, so there is one. */
    for (int i = 0; first && i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
}

void authkit_pool_free(struct authkit_pool *p) {
    if (!p)
        return;
    authkit_pool_stop(p);
    pthread_cond_destroy(&p->ready);
    pthread_mutex_destroy(&p->lock);
    free(p->ring);
    free(p);
}
