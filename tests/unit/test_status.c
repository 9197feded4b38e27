/* Status table: every code has a distinct stable name, a message and an HTTP status. */
#include "check.h"

int main(void) {
    for (int i = 0; i < AUTHKIT_STATUS_COUNT_; i++) {
        const char *name = authkit_status_name((authkit_status)i);
        CHECK_MSG(name && *name && strcmp(name, "UNKNOWN") != 0, "row %d", i);
        CHECK_MSG(authkit_strerror((authkit_status)i)[0] != '\0', "row %d", i);
        int http = authkit_status_http((authkit_status)i);
        CHECK_MSG(http >= 200 && http <= 599, "row %d: http %d", i, http);
        for (int j = 0; j < i; j++)
            CHECK_MSG(strcmp(name, authkit_status_name((authkit_status)j)) != 0,
                      "rows %d and %d share %s", i, j, name);
    }
    static const struct {
        authkit_status status;
        const char *name;
        int http;
    } rows[] = {
        {AUTHKIT_OK, "OK", 200},
        {AUTHKIT_AUTHENTICATION, "AUTHENTICATION_ERROR", 401},
        {AUTHKIT_NOT_AUTHENTICATED, "NOT_AUTHENTICATED", 401},
        {AUTHKIT_VALIDATION, "VALIDATION_ERROR", 400},
        {AUTHKIT_PASSWORD_TOO_LONG, "PASSWORD_TOO_LONG", 400},
        {AUTHKIT_PASSWORD_HAS_NUL, "PASSWORD_HAS_NUL", 400},
        {AUTHKIT_CONFLICT, "CONFLICT", 409},
        {AUTHKIT_NOT_FOUND, "NOT_FOUND", 404},
        {AUTHKIT_RATE_LIMITED, "RATE_LIMITED", 429},
        {AUTHKIT_STORE, "STORE_ERROR", 503},
        {AUTHKIT_FORBIDDEN, "AUTHORIZATION_ERROR", 403},
        {AUTHKIT_CSRF, "FORBIDDEN", 403},
        {AUTHKIT_PASSWORD_CHANGE_REQUIRED, "PASSWORD_CHANGE_REQUIRED", 403},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        CHECK_MSG(strcmp(authkit_status_name(rows[i].status), rows[i].name) == 0, "row %zu", i);
        CHECK_MSG(authkit_status_http(rows[i].status) == rows[i].http, "row %zu", i);
    }
    CHECK_STR(authkit_strerror(AUTHKIT_AUTHENTICATION), "Invalid username or password");
    /* Codes outside the table still get text, never NULL. */
    CHECK_STR(authkit_strerror((authkit_status)9999), "Unknown status");
    CHECK_STR(authkit_status_name((authkit_status)-1), "UNKNOWN");
    CHECK_INT(authkit_status_http((authkit_status)9999), 500);
    return check_done("status");
}
