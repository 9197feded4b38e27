#include "server/body.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const body_field_names[BODY_FIELDS] = {
    [F_USERNAME] = "username",
    [F_EMAIL] = "email",
    [F_LOGIN] = "login",
    [F_PASSWORD] = "password",
    [F_REMEMBER_ME] = "remember_me",
    [F_NEXT] = "next",
    [F_CURRENT_PASSWORD] = "current_password",
    [F_NEW_PASSWORD] = "new_password",
    [F_CSRF_TOKEN] = "csrf_token",
};

static int field_of(const char *name, size_t len) {
    for (int i = 0; i < BODY_FIELDS; i++)
        if (strlen(body_field_names[i]) == len && memcmp(body_field_names[i], name, len) == 0)
            return i;
    return -1;
}

bool body_field_is_password(enum body_field f) {
    return f == F_PASSWORD || f == F_CURRENT_PASSWORD || f == F_NEW_PASSWORD;
}

static bool set_value(struct body *b, int f, const char *value, size_t len) {
    if (b->value[f])
        return false; /* given twice */
    b->value[f] = malloc(len + 1);
    if (!b->value[f])
        return false;
    memcpy(b->value[f], value, len);
    b->value[f][len] = '\0';
    b->len[f] = len;
    return true;
}

static int hex(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes `in` into `out` (at least `len` bytes); -1 on a bad escape. '+' is a space in form
 * encoding. */
static long form_decode(char *out, const char *in, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '+') {
            out[n++] = ' ';
        } else if (in[i] == '%') {
            if (i + 2 >= len)
                return -1; /* truncated escape */
            int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            out[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[n++] = in[i];
        }
    }
    return (long)n;
}

static enum body_result parse_form(const char *data, size_t len, struct body *b, const char **why) {
    char *buf = malloc(len + 1);
    if (!buf) {
        *why = "out of memory";
        return BODY_MALFORMED;
    }
    enum body_result r = BODY_OK;
    size_t i = 0;
    while (i < len && r == BODY_OK) {
        const char *pair = data + i;
        const char *amp = memchr(pair, '&', len - i);
        size_t plen = amp ? (size_t)(amp - pair) : len - i;
        i += plen + 1;
        if (plen == 0)
            continue;
        const char *eq = memchr(pair, '=', plen);
        size_t klen = eq ? (size_t)(eq - pair) : plen;
        long kn = form_decode(buf, pair, klen);
        int f = kn < 0 ? -2 : field_of(buf, (size_t)kn);
        if (f == -2) {
            *why = "bad percent-encoding";
            r = BODY_MALFORMED;
            break;
        }
        if (f < 0)
            continue;
        long vn = eq ? form_decode(buf, eq + 1, plen - klen - 1) : 0;
        if (vn < 0) {
            *why = "bad percent-encoding";
            r = BODY_MALFORMED;
        } else if (!body_field_is_password((enum body_field)f) && memchr(buf, '\0', (size_t)vn)) {
            /* Everything but a password is read as a C string: "alice%00x" would log in
             * as alice. JSON cannot carry the NUL at all (jansson refuses \u0000). */
            *why = "a field other than a password contains a NUL byte";
            r = BODY_MALFORMED;
        } else if (!set_value(b, f, buf, (size_t)vn)) {
            *why = "a field is given more than once";
            r = BODY_MALFORMED;
        }
    }
    sodium_memzero(buf, len + 1);
    free(buf);
    return r;
}

static enum body_result parse_json(const char *data, size_t len, struct body *b, const char **why) {
    json_error_t error;
    /* Duplicate keys are refused: which "password" would count is otherwise a guess. */
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &error);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        *why = "the body is not a JSON object";
        return BODY_MALFORMED;
    }
    enum body_result r = BODY_OK;
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        int f = field_of(key, strlen(key));
        if (f < 0)
            continue;
        if (f == F_REMEMBER_ME && json_is_boolean(value)) {
            if (json_is_true(value))
                set_value(b, f, "true", 4);
            continue;
        }
        if (!json_is_string(value)) {
            *why = "a field has the wrong type (expected a string)";
            r = BODY_MALFORMED;
            break;
        }
        /* json_loadb without JSON_ALLOW_NUL has already refused "\u0000" in strings. */
        set_value(b, f, json_string_value(value), json_string_length(value));
    }
    /* jansson keeps its own copies of the strings; wipe them before they are freed. */
    json_object_foreach(root, key, value) {
        if (json_is_string(value))
            sodium_memzero((char *)(uintptr_t)json_string_value(value), json_string_length(value));
    }
    json_decref(root);
    return r;
}

enum body_type body_type_of(const char *content_type) {
    if (!content_type)
        return BODY_TYPE_NONE;
    size_t len = strcspn(content_type, "; \t");
    if (len == 16 && strncasecmp(content_type, "application/json", 16) == 0)
        return BODY_TYPE_JSON;
    if (len == 33 && strncasecmp(content_type, "application/x-www-form-urlencoded", 33) == 0)
        return BODY_TYPE_FORM;
    return BODY_TYPE_OTHER;
}

enum body_result body_parse(const char *content_type, const char *data, size_t len,
                            struct body *out, const char **why) {
    memset(out, 0, sizeof *out);
    *why = "";
    switch (body_type_of(content_type)) {
        case BODY_TYPE_JSON:
            return parse_json(data ? data : "", len, out, why);
        case BODY_TYPE_FORM:
            out->form = true;
            return parse_form(data ? data : "", len, out, why);
        case BODY_TYPE_NONE:
            *why = "Content-Type is required";
            return BODY_UNSUPPORTED_TYPE;
        case BODY_TYPE_OTHER:
            break;
    }
    *why = "Content-Type must be application/json or application/x-www-form-urlencoded";
    return BODY_UNSUPPORTED_TYPE;
}

bool body_flag(const struct body *b, enum body_field f) {
    const char *v = b->value[f];
    return v && (strcmp(v, "true") == 0 || strcmp(v, "on") == 0 || strcmp(v, "1") == 0);
}

void body_free(struct body *b) {
    for (int i = 0; i < BODY_FIELDS; i++) {
        if (b->value[i]) {
            sodium_memzero(b->value[i], b->len[i]);
            free(b->value[i]);
            b->value[i] = NULL;
        }
    }
}
