#include "authkit/status.h"

#include <stddef.h>

#define STATUS_ROW(name, code, http, msg) [AUTHKIT_##name] = {code, http, msg},
static const struct {
    const char *name;
    int http;
    const char *message;
} table[] = {AUTHKIT_STATUS_MAP(STATUS_ROW)};
#undef STATUS_ROW

static int known(authkit_status status) {
    return (unsigned)status < sizeof table / sizeof table[0];
}

const char *authkit_strerror(authkit_status status) {
    return known(status) ? table[status].message : "Unknown status";
}

const char *authkit_status_name(authkit_status status) {
    return known(status) ? table[status].name : "UNKNOWN";
}

int authkit_status_http(authkit_status status) {
    return known(status) ? table[status].http : 500;
}
