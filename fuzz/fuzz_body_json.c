/* libFuzzer target for the HTTP service's JSON bodies (src/server/body.c): the body of
 * POST /login ({"username" | "email" | "login", "password", "remember_me", "next"}) and
 * of a password change. The input is the body; its first byte picks the Content-Type
 * among spellings the service must take as JSON and some it must refuse.
 *
 * Checks:
 *   - the Content-Type alone decides UNSUPPORTED_TYPE (before the body is looked at);
 *   - against jansson's own reading of the same text with the same flags (duplicate keys
 *     refused): OK exactly when it is an object whose known members are strings, or
 *     true/false for remember_me; then every known member is returned, byte for byte,
 *     with no NUL inside (jansson refuses \u0000), and remember_me reads as the boolean;
 *     anything else is MALFORMED with a reason;
 *   - the parsed fields survive json_dumps and a second parse;
 *   - body_free clears every value. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/body.h"

static const struct {
    const char *type;
    bool json;
} types[] = {
    {"application/json", true},
    {"application/json; charset=utf-8", true},
    {"Application/JSON", true},
    {"application/json\t;charset=UTF-8", true},
    {"application/jsonp", false},
    {"text/plain", false},
    {"application/json-patch+json", false},
    {"", false},
};
#define N_TYPES (sizeof types / sizeof types[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, int field) {
    fprintf(stderr, "fuzz_body_json: %s (field %d)\n", what, field);
    abort();
}

/* What body_parse must answer for `root` (NULL: not JSON): BODY_OK when every known
 * member has an acceptable type. */
static enum body_result expected(const json_t *root) {
    if (!json_is_object(root))
        return BODY_MALFORMED;
    for (int f = 0; f < BODY_FIELDS; f++) {
        const json_t *v = json_object_get(root, body_field_names[f]);
        if (v && !json_is_string(v) && !(f == F_REMEMBER_ME && json_is_boolean(v)))
            return BODY_MALFORMED;
    }
    return BODY_OK;
}

/* `b` holds exactly the known members of the object `root`. */
static void check_values(const struct body *b, const json_t *root, const char *when) {
    for (int f = 0; f < BODY_FIELDS; f++) {
        const json_t *v = json_object_get(root, body_field_names[f]);
        const char *want = NULL;
        size_t want_len = 0;
        if (json_is_string(v)) {
            want = json_string_value(v);
            want_len = json_string_length(v);
        } else if (json_is_true(v)) {
            want = "true";
            want_len = 4;
        }
        if (!want != !b->value[f])
            fail(when, f);
        if (!want)
            continue;
        if (b->len[f] != want_len || memcmp(b->value[f], want, want_len) != 0 ||
            b->value[f][want_len] != '\0' || strlen(b->value[f]) != want_len)
            fail(when, f);
    }
    if (body_flag(b, F_REMEMBER_ME) != json_is_true(json_object_get(root, "remember_me")) &&
        !json_is_string(json_object_get(root, "remember_me")))
        fail("remember_me does not read as its boolean", F_REMEMBER_ME);
}

/* Writes the parsed fields as a JSON object and parses that again. */
static void check_round_trip(const struct body *b) {
    json_t *obj = json_object();
    for (int f = 0; f < BODY_FIELDS && obj; f++) {
        if (!b->value[f])
            continue;
        json_t *v = f == F_REMEMBER_ME && strcmp(b->value[f], "true") == 0
                        ? json_true()
                        : json_stringn(b->value[f], b->len[f]);
        if (!v || json_object_set_new(obj, body_field_names[f], v) != 0)
            fail("cannot build the JSON again", f);
    }
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    if (!text)
        abort();
    struct body b2;
    const char *why;
    if (body_parse("application/json", text, strlen(text), &b2, &why) != BODY_OK)
        fail("written again, the body is refused", -1);
    check_values(&b2, obj, "written again, a value changes");
    body_free(&b2);
    free(text);
    json_decref(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    size_t t = data[0] % N_TYPES;
    size_t len = size - 1;
    char *text = malloc(len ? len : 1); /* exact size: a read past the body is caught */
    if (!text)
        return 0;
    memcpy(text, data + 1, len);
    struct body b;
    const char *why = NULL;
    enum body_result r = body_parse(types[t].type, text, len, &b, &why);
    if (!why)
        fail("no reason given", -1);
    if (!types[t].json) {
        if (r != BODY_UNSUPPORTED_TYPE || !*why)
            fail("a Content-Type that is not JSON accepted", -1);
    } else {
        if (b.form)
            fail("a JSON body marked as a form", -1);
        json_error_t error;
        json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
        if (r != expected(root))
            fail("result differs from jansson's reading", -1);
        if (r == BODY_OK) {
            check_values(&b, root, "value differs from jansson's reading");
            check_round_trip(&b);
        } else if (!*why) {
            fail("MALFORMED without a reason", -1);
        }
        json_decref(root);
    }
    body_free(&b);
    for (int f = 0; f < BODY_FIELDS; f++)
        if (b.value[f])
            fail("body_free left a value", f);
    free(text);
    return 0;
}
