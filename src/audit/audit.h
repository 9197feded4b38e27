/* The audit trail inside the library (include/authkit/audit.h is its public face): the
 * subscriber that turns events into rows, and the keyed hash of login names. */
#ifndef AUTHKIT_AUDIT_AUDIT_H
#define AUTHKIT_AUDIT_AUDIT_H

#include "core/ctx.h"

/* Longest retention accepted (audit_retention_days): a hundred years. */
#define AUTHKIT_AUDIT_RETENTION_MAX_DAYS 36500

/* The keyed hash of a login name as the store would look it up (an email normalised, a
 * username in lower case), as 32 lower-case hex digits. */
void authkit__audit_login_hash(const authkit_ctx *ctx, const char *login,
                               char out[AUTHKIT_AUDIT_HASH_SIZE]);

/* Subscribes the trail's writer to every event of `ctx` when audit_retention_days > 0;
 * does nothing otherwise. Called once by authkit_open() after the store is open.
 * AUTHKIT_OK or AUTHKIT_NOMEM. */
authkit_status authkit__audit_start(authkit_ctx *ctx);

#endif
