/* Request bodies of the HTTP service: JSON objects or HTML form encoding, read into a
 * fixed set of named fields. A parser of outside input: strict, bounded, fuzzed. */
#ifndef AUTHKIT_SERVER_BODY_H
#define AUTHKIT_SERVER_BODY_H

#include <stdbool.h>
#include <stddef.h>

enum body_field {
    F_USERNAME,
    F_EMAIL,
    F_LOGIN,
    F_PASSWORD,
    F_REMEMBER_ME,
    F_NEXT,
    F_CURRENT_PASSWORD,
    F_NEW_PASSWORD,
    F_CSRF_TOKEN, /* the anti-CSRF token of an HTML form */
    BODY_FIELDS
};

/* The name of each field in JSON and in forms. */
extern const char *const body_field_names[BODY_FIELDS];

/* Password fields keep a NUL byte, so that the handler can refuse it with its own reason;
 * any other field with one is BODY_MALFORMED. */
bool body_field_is_password(enum body_field f);

struct body {
    bool form;                /* form-encoded (a browser), else JSON */
    char *value[BODY_FIELDS]; /* NUL-terminated copies; NULL when absent */
    size_t len[BODY_FIELDS];  /* bytes; only a password may include NUL bytes */
};

enum body_result { BODY_OK, BODY_MALFORMED, BODY_UNSUPPORTED_TYPE };

/* What a Content-Type header value names (the media type alone, case-insensitive;
 * parameters ignored). BODY_TYPE_NONE when there is no header. */
enum body_type { BODY_TYPE_NONE, BODY_TYPE_JSON, BODY_TYPE_FORM, BODY_TYPE_OTHER };
enum body_type body_type_of(const char *content_type);

/* Parses `data` (`len` bytes) according to `content_type` (application/json or
 * application/x-www-form-urlencoded, parameters ignored). Unknown fields are ignored; a
 * field given twice, invalid JSON, a JSON value of the wrong type, bad percent-encoding,
 * or a NUL byte in a field other than a password is BODY_MALFORMED with a reason in `why`.
 * Free with body_free() in every case. */
enum body_result body_parse(const char *content_type, const char *data, size_t len,
                            struct body *out, const char **why);

/* true when the field is present and reads as yes ("true", "on", "1", or JSON true). */
bool body_flag(const struct body *b, enum body_field f);

/* Wipes (the values may be passwords) and frees the values. */
void body_free(struct body *b);

#endif
