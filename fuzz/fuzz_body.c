/* Fuzzes the HTTP service's body parser (src/server/body.c): JSON objects and form
 * encoding. The first input byte picks the content type; the rest is the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    static const char *const types[] = {"application/json", "application/x-www-form-urlencoded",
                                        "application/json; charset=utf-8", "text/plain", NULL};
    const char *type = types[data[0] % 5];
    struct body b;
    const char *why = NULL;
    enum body_result r = body_parse(type, (const char *)data + 1, size - 1, &b, &why);
    if (r != BODY_OK && r != BODY_MALFORMED && r != BODY_UNSUPPORTED_TYPE)
        abort();
    if (!why)
        abort();
    for (int f = 0; f < BODY_FIELDS; f++) {
        if (!b.value[f])
            continue;
        /* Every value is terminated right after its length, and fits in the input: no
         * decoding makes text longer. */
        if (b.value[f][b.len[f]] != '\0' || b.len[f] > size)
            abort();
    }
    (void)body_flag(&b, F_REMEMBER_ME);
    body_free(&b);
    for (int f = 0; f < BODY_FIELDS; f++)
        if (b.value[f])
            abort();
    return 0;
}
