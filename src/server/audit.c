#include "server/audit.h"

#include <jansson.h>
#include <stdlib.h>

#include "core/encoding.h"

static void set_string(json_t *obj, const char *key, const char *value) {
    if (value)
        json_object_set_new(obj, key, json_string(value));
}

static int write_event(const authkit_event *ev, void *arg) {
    FILE *out = arg;
    char ts[32];
    authkit__time_iso8601(ts, ev->timestamp);
    json_t *line = json_object();
    if (!line)
        return 1;
    set_string(line, "ts", ts);
    set_string(line, "event", authkit_event_name(ev->type));
    set_string(line, "user_id", ev->user_id);
    set_string(line, "session_id", ev->session_id);
    set_string(line, "email", ev->email);
    set_string(line, "username", ev->username);
    set_string(line, "ip", ev->ip);
    if (ev->login) {
        /* A login name is whatever a client sent: json_string refuses invalid UTF-8, so
         * fall back to a marker rather than dropping the event. */
        json_t *login = json_string(ev->login);
        json_object_set_new(line, "login", login ? login : json_string("(invalid UTF-8)"));
    }
    if (ev->type == AUTHKIT_EVENT_SESSION_EXPIRED) {
        authkit__time_iso8601(ts, ev->expired_at);
        set_string(line, "expired_at", ts);
    }
    /* Why a login failed (never told to the client), or how a session ended. */
    set_string(line, "reason", ev->reason);
    if (ev->type == AUTHKIT_EVENT_SESSIONS_REVOKED || ev->type == AUTHKIT_EVENT_PASSWORD_CHANGED ||
        ev->type == AUTHKIT_EVENT_PASSWORD_CHANGE_REQUIRED ||
        ev->type == AUTHKIT_EVENT_SESSIONS_CLEANED)
        json_object_set_new(line, "count", json_integer((json_int_t)ev->count));
    if (ev->type == AUTHKIT_EVENT_USER_UPDATED)
        json_object_set_new(line, "fields_changed", json_integer(ev->fields_changed));
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (!text)
        return 1;
    /* One fputs per line: stdio locks the stream, so lines from threads never interleave. */
    flockfile(out);
    fputs(text, out);
    fputc('\n', out);
    fflush(out);
    funlockfile(out);
    free(text);
    return 0;
}

authkit_status authkit_audit_attach(authkit_ctx *ctx, FILE *out) {
    return authkit_event_subscribe(ctx, AUTHKIT_EVENT_ALL, write_event, out, NULL);
}
