/* libFuzzer target for the HTTP service's form-encoded bodies (src/server/body.c, the
 * body of a browser's POST /login and password change): the input is the body, the
 * Content-Type application/x-www-form-urlencoded.
 *
 * Checks, against a model of the encoding written here from body.h and the WHATWG URL
 * standard's application/x-www-form-urlencoded parser (minus its leniency: a bad escape
 * is an error, not literal text):
 *   - the result is what the model says: OK, or MALFORMED with its reason (a bad escape
 *     in a name or in a known field's value; a known field given twice); values are the
 *     decoded bytes, each terminated right after its length;
 *   - only passwords may hold a NUL byte: every other value is used as a C string;
 *   - what was parsed survives being encoded again (every byte escaped, fields in reverse
 *     order) and parsed a second time;
 *   - body_free clears every value, also after MALFORMED. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/body.h"

#define FORM_TYPE "application/x-www-form-urlencoded"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, int field) {
    fprintf(stderr, "fuzz_body_form: %s (field %d)\n", what, field);
    abort();
}

static int hex_digit(uint8_t c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (uint8_t)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decoding with '+' as a space into `out` (room for `len` bytes); -1 on a '%' that
 * is not followed by two hex digits. */
static long model_decode(uint8_t *out, const uint8_t *in, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        if (in[i] != '%') {
            out[n] = in[i] == '+' ? ' ' : in[i];
            i++;
            continue;
        }
        if (len - i < 3 || hex_digit(in[i + 1]) < 0 || hex_digit(in[i + 2]) < 0)
            return -1;
        out[n] = (uint8_t)(hex_digit(in[i + 1]) * 16 + hex_digit(in[i + 2]));
        i += 3;
    }
    return (long)n;
}

struct model {
    enum body_result result;
    const char *why;
    uint8_t *value[BODY_FIELDS];
    size_t len[BODY_FIELDS];
};

static void model_free(struct model *m) {
    for (int f = 0; f < BODY_FIELDS; f++)
        free(m->value[f]);
}

static int model_field(const uint8_t *name, size_t len) {
    for (int f = 0; f < BODY_FIELDS; f++)
        if (strlen(body_field_names[f]) == len && memcmp(body_field_names[f], name, len) == 0)
            return f;
    return -1;
}

/* One name=value pair (no '&'). false when it makes the body malformed. */
static bool model_pair(struct model *m, const uint8_t *pair, size_t len, uint8_t *scratch) {
    const uint8_t *eq = memchr(pair, '=', len);
    size_t name_len = eq ? (size_t)(eq - pair) : len;
    long n = model_decode(scratch, pair, name_len);
    if (n < 0) {
        m->why = "bad percent-encoding";
        return false;
    }
    int f = model_field(scratch, (size_t)n);
    if (f < 0)
        return true; /* unknown names are ignored, their values not even decoded */
    n = eq ? model_decode(scratch, eq + 1, len - name_len - 1) : 0;
    if (n < 0) {
        m->why = "bad percent-encoding";
        return false;
    }
    if (!body_field_is_password((enum body_field)f) && memchr(scratch, 0, (size_t)n)) {
        m->why = "a field other than a password contains a NUL byte";
        return false;
    }
    if (m->value[f]) {
        m->why = "a field is given more than once";
        return false;
    }
    m->value[f] = malloc((size_t)n + 1);
    if (!m->value[f])
        abort();
    memcpy(m->value[f], scratch, (size_t)n);
    m->len[f] = (size_t)n;
    return true;
}

static void model_parse(struct model *m, const uint8_t *data, size_t size) {
    memset(m, 0, sizeof *m);
    m->result = BODY_OK;
    uint8_t *scratch = malloc(size + 1);
    if (!scratch)
        abort();
    size_t start = 0;
    while (start < size) {
        const uint8_t *amp = memchr(data + start, '&', size - start);
        size_t end = amp ? (size_t)(amp - data) : size;
        if (end > start && !model_pair(m, data + start, end - start, scratch)) {
            m->result = BODY_MALFORMED;
            break;
        }
        start = end + 1;
    }
    free(scratch);
}

/* `b` holds exactly the model's values, each terminated after its length. */
static void check_same(const struct body *b, const struct model *m, const char *when) {
    for (int f = 0; f < BODY_FIELDS; f++) {
        if (!b->value[f] != !m->value[f])
            fail(when, f);
        if (!b->value[f])
            continue;
        if (b->len[f] != m->len[f] || memcmp(b->value[f], m->value[f], m->len[f]) != 0 ||
            b->value[f][b->len[f]] != '\0')
            fail(when, f);
        if (!body_field_is_password((enum body_field)f) && strlen(b->value[f]) != b->len[f])
            fail("a NUL byte in a field used as a C string", f);
    }
}

/* The fields of `b` encoded again: every byte as %XX (upper or lower case by position),
 * except spaces as '+', fields in reverse order. */
static char *encode_again(const struct body *b, size_t *len) {
    size_t cap = 1;
    for (int f = 0; f < BODY_FIELDS; f++)
        if (b->value[f])
            cap += strlen(body_field_names[f]) + 2 + 3 * b->len[f];
    char *out = malloc(cap);
    if (!out)
        abort();
    size_t n = 0;
    for (int f = BODY_FIELDS - 1; f >= 0; f--) {
        if (!b->value[f])
            continue;
        n += (size_t)sprintf(out + n, "%s%s=", n ? "&" : "", body_field_names[f]);
        for (size_t i = 0; i < b->len[f]; i++) {
            uint8_t c = (uint8_t)b->value[f][i];
            if (c == ' ')
                out[n++] = '+';
            else
                n += (size_t)sprintf(out + n, i % 2 ? "%%%02x" : "%%%02X", c);
        }
    }
    *len = n;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* An exact-size copy, so that a read past the body is caught. */
    char *body_text = malloc(size ? size : 1);
    if (!body_text)
        return 0;
    memcpy(body_text, data, size);
    struct body b;
    const char *why = NULL;
    enum body_result r = body_parse(FORM_TYPE, body_text, size, &b, &why);
    struct model m;
    model_parse(&m, data, size);
    if (r != m.result || !why)
        fail("result differs from the model", -1);
    if (!b.form)
        fail("a form body not marked as a form", -1);
    if (r == BODY_OK) {
        check_same(&b, &m, "value differs from the model");
        size_t len;
        char *again = encode_again(&b, &len);
        struct body b2;
        if (body_parse(FORM_TYPE, again, len, &b2, &why) != BODY_OK)
            fail("encoded again, the fields are refused", -1);
        check_same(&b2, &m, "encoded again, a value changes");
        body_free(&b2);
        free(again);
    } else if (strcmp(why, m.why) != 0) {
        fail("the reason differs from the model", -1);
    }
    (void)body_flag(&b, F_REMEMBER_ME);
    body_free(&b);
    for (int f = 0; f < BODY_FIELDS; f++)
        if (b.value[f])
            fail("body_free left a value", f);
    model_free(&m);
    free(body_text);
    return 0;
}
