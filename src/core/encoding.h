/* Encodings, identifiers and token digests, all on libsodium. Safe from any thread. */
#ifndef AUTHKIT_CORE_ENCODING_H
#define AUTHKIT_CORE_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "authkit/common.h"
#include "authkit/status.h"

/* Characters needed for base64url without padding of `n` bytes, plus the NUL. */
#define AUTHKIT_B64URL_SIZE(n) ((((n)*4) + 2) / 3 + 1)

#define AUTHKIT_TOKEN_BYTES  32
#define AUTHKIT_TOKEN_CHARS  43 /* base64url of 32 bytes, no padding */
#define AUTHKIT_DIGEST_BYTES 32

/* base64url without padding. `out` must hold AUTHKIT_B64URL_SIZE(len) bytes. */
void authkit__b64url_encode(char *out, size_t out_size, const uint8_t *in, size_t len);

/* Strict decoding of base64url without padding (no '=', no whitespace, canonical final
 * bits). Returns the number of bytes written, or -1 if the text is invalid or does not
 * fit in `out_size`. */
long authkit__b64url_decode(uint8_t *out, size_t out_size, const char *in, size_t len);

/* A random (version 4) UUID in canonical lower-case text. */
void authkit__uuid_v4(char out[AUTHKIT_UUID_SIZE]);

/* true when `s` is a canonical (lower-case, 36-character) UUID text. */
bool authkit__uuid_valid(const char *s);

/* Writes 32 random bytes as a 43-character base64url token. */
void authkit__token_new(char out[AUTHKIT_TOKEN_CHARS + 1]);

/* true when `token` has the shape of an opaque token: exactly 43 characters of
 * [A-Za-z0-9_-]. */
bool authkit__token_well_formed(const char *token);

/* SHA-256 of the token text: what the store keeps instead of the token. */
void authkit__token_digest(uint8_t out[AUTHKIT_DIGEST_BYTES], const char *token, size_t len);

/* Copies the NUL-terminated `src` into `dst` of `size` bytes, truncating; always
 * terminates `dst` (size > 0). */
void authkit__strlcpy(char *dst, const char *src, size_t size);

/* ISO-8601 UTC text with microseconds ("2026-11-29T10:13:34.123456Z") of `t`. */
void authkit__time_iso8601(char out[32], authkit_time t);

#endif
