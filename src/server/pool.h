/* A bounded pool of worker threads for password work (bcrypt), so that HTTP threads never
 * spend ~250 ms of CPU on a login and validations keep their latency. */
#ifndef AUTHKIT_SERVER_POOL_H
#define AUTHKIT_SERVER_POOL_H

#include <stddef.h>
#include <stdint.h>

struct authkit_pool;

typedef void (*authkit_job_fn)(void *arg);

/* Starts `workers` threads with room for `queue_cap` waiting jobs. 0 or -1. */
int authkit_pool_start(int workers, int queue_cap, struct authkit_pool **out);

/* Queues fn(arg) and returns 0, or returns -1 at once when the queue is full (the caller
 * answers 503 with Retry-After). Jobs run on a worker thread, in submission order. */
int authkit_pool_submit(struct authkit_pool *pool, authkit_job_fn fn, void *arg);

/* Worker threads running (as many as asked, unless the system refused some). */
int authkit_pool_workers(const struct authkit_pool *pool);

/* Jobs waiting (not yet started). */
size_t authkit_pool_waiting(struct authkit_pool *pool);

/* Total microseconds jobs spent waiting for a worker, and the number of jobs started. */
void authkit_pool_wait_stats(struct authkit_pool *pool, uint64_t *wait_us, uint64_t *started);

/* Runs every queued job and stops the threads; from then on authkit_pool_submit refuses
 * (returns -1) and the other calls still answer. Calling it again does nothing. NULL is
 * ignored. */
void authkit_pool_stop(struct authkit_pool *pool);

/* Stops the pool if that was not done, then frees it. No other call may follow (the HTTP
 * threads that submit jobs must be gone). NULL is ignored. */
void authkit_pool_free(struct authkit_pool *pool);

#endif
