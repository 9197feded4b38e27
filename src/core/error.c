#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

authkit_status authkit__fail(authkit_error *err, authkit_status status, const char *field,
                             const char *fmt, ...) {
    if (!err)
        return status;
    err->status = status;
    err->retry_after_seconds = 0;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    } else {
        snprintf(err->message, sizeof err->message, "%s", authkit_strerror(status));
    }
    return status;
}

authkit_status authkit__ok(authkit_error *err) {
    if (err)
        memset(err, 0, sizeof *err);
    return AUTHKIT_OK;
}

authkit_status authkit__pass(authkit_error *err, authkit_status status) {
    if (status == AUTHKIT_OK)
        return authkit__ok(err);
    if (err && err->status == status && err->message[0])
        return status;
    return authkit__fail(err, status, NULL, NULL);
}
