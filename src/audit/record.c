/* The audit trail's writer: one row per event, written when the event is delivered, that
 * is after its change is committed. Best effort: a write that fails is counted
 * (authkit_audit_failures, and the event bus's failures), never reported to the operation
 * that published the event. */
#include <sodium.h>
#include <string.h>

#include "audit/audit.h"
#include "core/encoding.h"
#include "core/text.h"

/* Hashes `login` with ASCII letters in lower case, a slice at a time: the name may be a
 * password typed in the wrong field, so no whole copy of it is kept. */
static void hash_folded(crypto_auth_hmacsha256_state *st, const char *login) {
    unsigned char chunk[64];
    size_t n = 0;
    for (const char *p = login; *p; p++) {
        unsigned char c = (unsigned char)*p;
        chunk[n++] = c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
        if (n == sizeof chunk) {
            crypto_auth_hmacsha256_update(st, chunk, n);
            n = 0;
        }
    }
    crypto_auth_hmacsha256_update(st, chunk, n);
    sodium_memzero(chunk, sizeof chunk);
}

void authkit__audit_login_hash(const authkit_ctx *ctx, const char *login,
                               char out[AUTHKIT_AUDIT_HASH_SIZE]) {
    crypto_auth_hmacsha256_state st;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    char email[AUTHKIT_EMAIL_SIZE];
    crypto_auth_hmacsha256_init(&st, ctx->audit_key, sizeof ctx->audit_key);
    /* The same name however it was typed, as the login look-up sees it. */
    if (strchr(login, '@') && authkit__email_normalize(login, email, NULL) == AUTHKIT_OK)
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)email, strlen(email));
    else
        hash_folded(&st, login);
    crypto_auth_hmacsha256_final(&st, mac);
    /* 128 bits tell names apart; the hex fits AUTHKIT_AUDIT_HASH_SIZE exactly. */
    sodium_bin2hex(out, AUTHKIT_AUDIT_HASH_SIZE, mac, (AUTHKIT_AUDIT_HASH_SIZE - 1) / 2);
    sodium_memzero(email, sizeof email);
    sodium_memzero(&st, sizeof st);
}

/* Client-controlled text, cut to `size` and cleaned to UTF-8 without control characters
 * (a cut through a multi-byte character leaves '?'). */
static void clean_copy(char *out, size_t size, const char *in) {
    authkit__strlcpy(out, in, size);
    authkit__text_sanitize(out);
}

static void copy_id(char out[AUTHKIT_UUID_SIZE], const char *id) {
    if (id && authkit__uuid_valid(id))
        authkit__strlcpy(out, id, AUTHKIT_UUID_SIZE);
}

static void fields_changed(unsigned bits, char out[AUTHKIT_AUDIT_CODE_SIZE]) {
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{AUTHKIT_FIELD_EMAIL, "email"},
                 {AUTHKIT_FIELD_USERNAME, "username"},
                 {AUTHKIT_FIELD_GLOBAL_ROLE, "global_role"},
                 {AUTHKIT_FIELD_IS_ACTIVE, "is_active"}};
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(bits & names[i].bit))
            continue;
        if (out[0])
            strcat(out, ",");
        strcat(out, names[i].name); /* 36 characters at most: fits */
    }
}

static void outcome_of(const authkit_event *ev, char out[AUTHKIT_AUDIT_CODE_SIZE]) {
    const char *code = "ok";
    if (ev->reason && *ev->reason) {
        clean_copy(out, AUTHKIT_AUDIT_CODE_SIZE, ev->reason);
        return;
    }
    switch (ev->type) {
        case AUTHKIT_EVENT_LOGIN_FAILED:
            code = "failed";
            break;
        case AUTHKIT_EVENT_LOGIN_THROTTLED:
            code = "throttled";
            break;
        case AUTHKIT_EVENT_SESSION_EXPIRED:
            code = "expired";
            break;
        case AUTHKIT_EVENT_USER_UPDATED:
            fields_changed(ev->fields_changed, out);
            return;
        default:
            break;
    }
    authkit__strlcpy(out, code, AUTHKIT_AUDIT_CODE_SIZE);
}

/* The row of an event: only what the trail documents (authkit/audit.h), never an email
 * address, a password or a token. */
static void row_of(const authkit_ctx *ctx, const authkit_event *ev, authkit_audit_entry *row) {
    memset(row, 0, sizeof *row);
    row->time = ev->timestamp;
    authkit__strlcpy(row->event, authkit_event_name(ev->type), sizeof row->event);
    outcome_of(ev, row->outcome);
    copy_id(row->user_id, ev->user_id);
    copy_id(row->session_id, ev->session_id);
    clean_copy(row->ip, sizeof row->ip, ev->ip);
    switch (ev->type) {
        case AUTHKIT_EVENT_LOGIN_FAILED:
        case AUTHKIT_EVENT_LOGIN_THROTTLED:
            if (!ev->login)
                break;
            authkit__audit_login_hash(ctx, ev->login, row->login_hash);
            /* A name that names no user may be a mistyped password: only its hash. */
            if (row->user_id[0])
                clean_copy(row->login, sizeof row->login, ev->login);
            break;
        case AUTHKIT_EVENT_USER_CREATED:
            clean_copy(row->login, sizeof row->login, ev->username);
            break;
        case AUTHKIT_EVENT_SESSIONS_REVOKED:
        case AUTHKIT_EVENT_PASSWORD_CHANGED:
        case AUTHKIT_EVENT_PASSWORD_CHANGE_REQUIRED:
        case AUTHKIT_EVENT_SESSIONS_CLEANED:
            row->count = ev->count;
            break;
        default:
            break;
    }
}

static int record_event(const authkit_event *ev, void *arg) {
    authkit_ctx *ctx = arg;
    authkit_audit_entry row;
    row_of(ctx, ev, &row);
    authkit_status st = ctx->store->audit_insert(ctx->store_state, &row, NULL);
    if (st == AUTHKIT_OK)
        return 0;
    atomic_fetch_add(&ctx->audit_failures, 1);
    return 1;
}

authkit_status authkit__audit_start(authkit_ctx *ctx) {
    if (ctx->opts.audit_retention_days == 0)
        return AUTHKIT_OK;
    return authkit_event_subscribe(ctx, AUTHKIT_EVENT_ALL, record_event, ctx, NULL);
}
