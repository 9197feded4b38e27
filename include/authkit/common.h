/* Shared macros and basic types of the public API. */
#ifndef AUTHKIT_COMMON_H
#define AUTHKIT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define AUTHKIT_BEGIN_DECLS extern "C" {
#define AUTHKIT_END_DECLS   }
#else
#define AUTHKIT_BEGIN_DECLS
#define AUTHKIT_END_DECLS
#endif

#if defined(__GNUC__) || defined(__clang__)
#define AUTHKIT_EXTERN    __attribute__((visibility("default")))
#define AUTHKIT_NODISCARD __attribute__((warn_unused_result))
#else
#define AUTHKIT_EXTERN
#define AUTHKIT_NODISCARD
#endif

#define AUTHKIT_VERSION_MAJOR  0
#define AUTHKIT_VERSION_MINOR  1
#define AUTHKIT_VERSION_PATCH  0
#define AUTHKIT_VERSION_STRING "0.1.0"

/* Text sizes, including the terminating NUL. */
#define AUTHKIT_UUID_SIZE       37  /* canonical lower-case UUID text */
#define AUTHKIT_EMAIL_SIZE      255 /* at most 254 bytes of address */
#define AUTHKIT_USERNAME_SIZE   51  /* ^[A-Za-z0-9_]{3,50}$ */
#define AUTHKIT_ROLE_SIZE       51  /* ^[A-Za-z0-9_.:-]{1,50}$ */
#define AUTHKIT_TOKEN_SIZE      512 /* a 43-character opaque token or a signed token */
#define AUTHKIT_IP_SIZE         64
#define AUTHKIT_USER_AGENT_SIZE 256

/* Largest password accepted, in bytes: bcrypt reads no further, and we never truncate. */
#define AUTHKIT_PASSWORD_MAX_BYTES 72

/* Times are microseconds since the Unix epoch, UTC. */
typedef int64_t authkit_time;

/* Returns the current time; `arg` is the pointer given with it in the options.
 * Called from whichever thread performs an operation: it must be thread-safe. */
typedef authkit_time (*authkit_clock_fn)(void *arg);

#endif
