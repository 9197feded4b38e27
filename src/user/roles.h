/* Roles: named permission sets kept in the context, read-mostly (rwlock). */
#ifndef AUTHKIT_USER_ROLES_H
#define AUTHKIT_USER_ROLES_H

#include <pthread.h>

#include "authkit/common.h"
#include "authkit/status.h"

struct authkit__role {
    char name[AUTHKIT_ROLE_SIZE];
    char **permissions;
    size_t n;
};

struct authkit__roles {
    pthread_rwlock_t lock;
    struct authkit__role *roles;
    size_t n;
};

authkit_status authkit__roles_init(struct authkit__roles *roles);
void authkit__roles_destroy(struct authkit__roles *roles);

/* true when `role` is a valid role name: 1..50 characters of [A-Za-z0-9_.:-]. */
bool authkit__role_name_valid(const char *role);

#endif
