/* Input rules of the user kit. Each check fills `err` with the field and the reason. */
#ifndef AUTHKIT_USER_VALIDATE_H
#define AUTHKIT_USER_VALIDATE_H

#include "authkit/common.h"
#include "authkit/status.h"

/* ^[A-Za-z0-9_]{3,50}$. AUTHKIT_OK or AUTHKIT_VALIDATION (field "username"). */
authkit_status authkit__username_check(const char *username, authkit_error *err);

/* A role name (authkit__role_name_valid). AUTHKIT_OK or AUTHKIT_VALIDATION. */
authkit_status authkit__role_check(const char *role, authkit_error *err);

#endif
