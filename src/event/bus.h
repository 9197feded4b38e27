/* The event bus inside a context: a list of subscribers under a mutex. Publishing copies
 * the list and calls each callback outside the lock, so a callback may call the library
 * (even subscribe or unsubscribe) without deadlock. */
#ifndef AUTHKIT_EVENT_BUS_H
#define AUTHKIT_EVENT_BUS_H

#include <pthread.h>
#include <stdatomic.h>

#include "authkit/event.h"

struct authkit__subscriber {
    uint64_t id;
    authkit_event_type type;
    authkit_event_fn fn;
    void *arg;
};

struct authkit__bus {
    pthread_mutex_t lock;
    struct authkit__subscriber *subs;
    size_t n, cap;
    uint64_t next_id;
    atomic_uint_fast64_t failures;
};

authkit_status authkit__bus_init(struct authkit__bus *bus);
void authkit__bus_destroy(struct authkit__bus *bus);

/* Delivers `ev` (its timestamp set to `now`, its ip to the calling thread's client when it
 * names none) to the subscribers of its type and of all. */
void authkit__bus_publish(struct authkit__bus *bus, authkit_event *ev, authkit_time now);

#endif
