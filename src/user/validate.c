#include "user/validate.h"

#include <string.h>

#include "core/error.h"
#include "user/roles.h"

authkit_status authkit__username_check(const char *username, authkit_error *err) {
    if (!username || !*username)
        return authkit__fail(err, AUTHKIT_VALIDATION, "username", "Username is required");
    size_t n = strnlen(username, AUTHKIT_USERNAME_SIZE);
    if (n < 3 || n > AUTHKIT_USERNAME_SIZE - 1)
        return authkit__fail(err, AUTHKIT_VALIDATION, "username",
                             "Username must be 3 to %d characters", AUTHKIT_USERNAME_SIZE - 1);
    for (size_t i = 0; i < n; i++) {
        char c = username[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return authkit__fail(err, AUTHKIT_VALIDATION, "username",
                                 "Username may contain only letters, digits and underscores");
    }
    return AUTHKIT_OK;
}

authkit_status authkit__role_check(const char *role, authkit_error *err) {
    if (!role || !authkit__role_name_valid(role))
        return authkit__fail(err, AUTHKIT_VALIDATION, "global_role",
                             "Role must be 1 to 50 characters of letters, digits, _ . : -");
    return AUTHKIT_OK;
}
