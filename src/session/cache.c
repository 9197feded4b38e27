/* The validation cache (see cache.h): a direct-mapped table indexed by the token digest,
 * guarded by striped mutexes. The table is calloc'ed: slots never used take no memory. */
#include "session/cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"

#define SLOTS 1024 /* power of two */
#define LOCKS 64   /* divides SLOTS */

struct entry {
    uint8_t digest[AUTHKIT_DIGEST_BYTES];
    uint64_t version;
    authkit_time filled_at; /* 0: empty */
    authkit_user user;
    authkit_session_info session;
};

struct authkit__vcache {
    _Atomic uint64_t *changes;
    pthread_mutex_t locks[LOCKS];
    struct entry slots[SLOTS];
};

authkit_status authkit__vcache_open(_Atomic uint64_t *changes, struct authkit__vcache **out) {
    *out = NULL;
    struct authkit__vcache *c = calloc(1, sizeof *c);
    if (!c)
        return AUTHKIT_NOMEM;
    c->changes = changes;
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    *out = c;
    return AUTHKIT_OK;
}

void authkit__vcache_close(struct authkit__vcache *cache) {
    if (!cache)
        return;
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_destroy(&cache->locks[i]);
    free(cache); /* digests and user fields, as the store holds them: nothing to wipe */
}

void authkit__vcache_changed(struct authkit__vcache *cache) {
    atomic_fetch_add_explicit(cache->changes, 1, memory_order_acq_rel);
}

uint64_t authkit__vcache_version(const struct authkit__vcache *cache) {
    return atomic_load_explicit(cache->changes, memory_order_acquire);
}

/* The digest is SHA-256 of a random token: its first bytes are as good as any hash. */
static size_t slot_of(const uint8_t digest[AUTHKIT_DIGEST_BYTES]) {
    return ((size_t)digest[0] | (size_t)digest[1] << 8) & (SLOTS - 1);
}

bool authkit__vcache_get(struct authkit__vcache *cache, const uint8_t digest[AUTHKIT_DIGEST_BYTES],
                         uint64_t version, authkit_time now, authkit_user *user,
                         authkit_session_info *session) {
    size_t i = slot_of(digest);
    struct entry *e = &cache->slots[i];
    pthread_mutex_t *lock = &cache->locks[i % LOCKS];
    pthread_mutex_lock(lock);
    bool hit = e->filled_at != 0 && e->version == version && now >= e->filled_at &&
               now - e->filled_at < AUTHKIT__VCACHE_TTL &&
               authkit__secret_equal(e->digest, digest, AUTHKIT_DIGEST_BYTES);
    if (hit) {
        *user = e->user;
        *session = e->session;
    }
    pthread_mutex_unlock(lock);
    return hit;
}

void authkit__vcache_put(struct authkit__vcache *cache, const uint8_t digest[AUTHKIT_DIGEST_BYTES],
                         uint64_t version, authkit_time now, const authkit_user *user,
                         const authkit_session_info *session) {
    size_t i = slot_of(digest);
    struct entry *e = &cache->slots[i];
    pthread_mutex_t *lock = &cache->locks[i % LOCKS];
    pthread_mutex_lock(lock);
    memcpy(e->digest, digest, AUTHKIT_DIGEST_BYTES);
    e->version = version;
    e->filled_at = now;
    e->user = *user;
    e->session = *session;
    pthread_mutex_unlock(lock);
}
