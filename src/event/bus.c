#include "event/bus.h"

#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/encoding.h"

/* The client the calling thread serves (authkit_event_set_client); "" when none. */
static _Thread_local char client_ip[AUTHKIT_IP_SIZE];

authkit_status authkit__bus_init(struct authkit__bus *bus) {
    memset(bus, 0, sizeof *bus);
    if (pthread_mutex_init(&bus->lock, NULL) != 0)
        return AUTHKIT_NOMEM;
    bus->next_id = 1;
    atomic_init(&bus->failures, 0);
    return AUTHKIT_OK;
}

void authkit__bus_destroy(struct authkit__bus *bus) {
    free(bus->subs);
    pthread_mutex_destroy(&bus->lock);
}

static const char *const event_names[] = {[AUTHKIT_EVENT_ALL] = "all",
#define EVENT_NAME(name, text) [AUTHKIT_EVENT_##name] = text,
                                          AUTHKIT_EVENT_MAP(EVENT_NAME)
#undef EVENT_NAME
};

const char *authkit_event_name(authkit_event_type type) {
    return (unsigned)type < AUTHKIT_EVENT_COUNT_ ? event_names[type] : "unknown";
}

authkit_status authkit_event_subscribe(authkit_ctx *ctx, authkit_event_type type,
                                       authkit_event_fn fn, void *arg, uint64_t *id) {
    if (!authkit__ctx_ok(ctx) || !fn || (unsigned)type >= AUTHKIT_EVENT_COUNT_)
        return AUTHKIT_INVALID_ARGUMENT;
    struct authkit__bus *bus = &ctx->bus;
    authkit_status st = AUTHKIT_OK;
    pthread_mutex_lock(&bus->lock);
    if (bus->n == bus->cap) {
        size_t cap = bus->cap ? bus->cap * 2 : 8;
        struct authkit__subscriber *subs = realloc(bus->subs, cap * sizeof *subs);
        if (!subs)
            st = AUTHKIT_NOMEM;
        else {
            bus->subs = subs;
            bus->cap = cap;
        }
    }
    if (st == AUTHKIT_OK) {
        uint64_t new_id = bus->next_id++;
        bus->subs[bus->n++] = (struct authkit__subscriber){new_id, type, fn, arg};
        if (id)
            *id = new_id;
    }
    pthread_mutex_unlock(&bus->lock);
    return st;
}

authkit_status authkit_event_unsubscribe(authkit_ctx *ctx, uint64_t id) {
    if (!authkit__ctx_ok(ctx))
        return AUTHKIT_INVALID_ARGUMENT;
    struct authkit__bus *bus = &ctx->bus;
    authkit_status st = AUTHKIT_NOT_FOUND;
    pthread_mutex_lock(&bus->lock);
    for (size_t i = 0; i < bus->n; i++) {
        if (bus->subs[i].id == id) {
            /* memmove keeps the subscription order of the others. */
            memmove(&bus->subs[i], &bus->subs[i + 1], (bus->n - i - 1) * sizeof bus->subs[0]);
            bus->n--;
            st = AUTHKIT_OK;
            break;
        }
    }
    pthread_mutex_unlock(&bus->lock);
    return st;
}

uint64_t authkit_event_failures(authkit_ctx *ctx) {
    return authkit__ctx_ok(ctx) ? (uint64_t)atomic_load(&ctx->bus.failures) : 0;
}

void authkit_event_set_client(const char *ip) {
    authkit__strlcpy(client_ip, ip, sizeof client_ip);
}

/* An earlier callback of the same delivery may have unsubscribed a later one (and freed
 * its argument): check again just before each call. */
static bool still_subscribed(struct authkit__bus *bus, uint64_t id) {
    bool found = false;
    pthread_mutex_lock(&bus->lock);
    for (size_t i = 0; i < bus->n && !found; i++)
        found = bus->subs[i].id == id;
    pthread_mutex_unlock(&bus->lock);
    return found;
}

void authkit__bus_publish(struct authkit__bus *bus, authkit_event *ev, authkit_time now) {
    ev->timestamp = now;
    if (!ev->ip && client_ip[0])
        ev->ip = client_ip;
    struct authkit__subscriber local[16], *subs = local;
    size_t n = 0;
    pthread_mutex_lock(&bus->lock);
    if (bus->n > sizeof local / sizeof local[0])
        subs = malloc(bus->n * sizeof *subs);
    if (subs) {
        for (size_t i = 0; i < bus->n; i++)
            if (bus->subs[i].type == AUTHKIT_EVENT_ALL || bus->subs[i].type == ev->type)
                subs[n++] = bus->subs[i];
    }
    pthread_mutex_unlock(&bus->lock);
    if (!subs) {
        /* Out of memory: the change is committed, so count the lost delivery. */
        atomic_fetch_add(&bus->failures, 1);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (still_subscribed(bus, subs[i].id) && subs[i].fn(ev, subs[i].arg) != 0)
            atomic_fetch_add(&bus->failures, 1);
    if (subs != local)
        free(subs);
}
