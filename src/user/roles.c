#include "user/roles.h"

#include <stdlib.h>
#include <string.h>

#include "authkit/user.h"
#include "core/ctx.h"
#include "core/encoding.h"

authkit_status authkit__roles_init(struct authkit__roles *roles) {
    memset(roles, 0, sizeof *roles);
    return pthread_rwlock_init(&roles->lock, NULL) == 0 ? AUTHKIT_OK : AUTHKIT_NOMEM;
}

static void role_free(struct authkit__role *role) {
    for (size_t i = 0; i < role->n; i++)
        free(role->permissions[i]);
    free(role->permissions);
    role->permissions = NULL;
    role->n = 0;
}

void authkit__roles_destroy(struct authkit__roles *roles) {
    for (size_t i = 0; i < roles->n; i++)
        role_free(&roles->roles[i]);
    free(roles->roles);
    pthread_rwlock_destroy(&roles->lock);
}

bool authkit__role_name_valid(const char *role) {
    size_t n = 0;
    for (; role[n]; n++) {
        char c = role[n];
        if (n >= AUTHKIT_ROLE_SIZE - 1 ||
            !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-'))
            return false;
    }
    return n > 0;
}

static struct authkit__role *role_find(struct authkit__roles *roles, const char *name) {
    for (size_t i = 0; i < roles->n; i++)
        if (strcmp(roles->roles[i].name, name) == 0)
            return &roles->roles[i];
    return NULL;
}

authkit_status authkit_role_define(authkit_ctx *ctx, const char *role,
                                   const char *const *permissions, size_t n) {
    if (!authkit__ctx_ok(ctx) || !role || !authkit__role_name_valid(role) || (n && !permissions))
        return AUTHKIT_INVALID_ARGUMENT;
    struct authkit__role fresh = {.n = 0};
    authkit__strlcpy(fresh.name, role, sizeof fresh.name);
    if (n && !(fresh.permissions = calloc(n, sizeof *fresh.permissions)))
        return AUTHKIT_NOMEM;
    for (; fresh.n < n; fresh.n++) {
        if (!permissions[fresh.n] || !(fresh.permissions[fresh.n] = strdup(permissions[fresh.n]))) {
            authkit_status st = permissions[fresh.n] ? AUTHKIT_NOMEM : AUTHKIT_INVALID_ARGUMENT;
            role_free(&fresh);
            return st;
        }
    }
    struct authkit__roles *roles = &ctx->roles;
    authkit_status st = AUTHKIT_OK;
    pthread_rwlock_wrlock(&roles->lock);
    struct authkit__role *old = role_find(roles, role);
    if (old) {
        role_free(old);
        *old = fresh;
    } else {
        struct authkit__role *grown = realloc(roles->roles, (roles->n + 1) * sizeof *grown);
        if (grown) {
            roles->roles = grown;
            roles->roles[roles->n++] = fresh;
        } else {
            role_free(&fresh);
            st = AUTHKIT_NOMEM;
        }
    }
    pthread_rwlock_unlock(&roles->lock);
    return st;
}

bool authkit_user_has_role(const authkit_user *user, const char *role) {
    return user && role && strcmp(user->global_role, role) == 0;
}

bool authkit_user_has_permission(authkit_ctx *ctx, const authkit_user *user,
                                 const char *permission) {
    if (!authkit__ctx_ok(ctx) || !user || !permission || !user->is_active)
        return false;
    bool found = false;
    pthread_rwlock_rdlock(&ctx->roles.lock);
    const struct authkit__role *role = role_find(&ctx->roles, user->global_role);
    for (size_t i = 0; role && i < role->n && !found; i++)
        found = strcmp(role->permissions[i], permission) == 0;
    pthread_rwlock_unlock(&ctx->roles.lock);
    return found;
}
