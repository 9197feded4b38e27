/* Comparison of secrets (checklist items 8 and 38). Safe from any thread. */
#ifndef AUTHKIT_CORE_SECRET_H
#define AUTHKIT_CORE_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "authkit/common.h"

/* true when the `len` bytes at `a` and `b` are equal. Its time depends on `len` only, not
 * on the bytes nor on where they first differ. Every comparison of a secret or of a value
 * derived from one (bcrypt hashes, anti-CSRF tokens, JWT MACs, token digests) goes through
 * here: tests/unit/test_constant_time.c checks that in the callers' source and measures
 * this function's time. */
AUTHKIT_NODISCARD bool authkit__secret_equal(const void *a, const void *b, size_t len);

#endif
