/* Text rules shared by the components: UTF-8 and e-mail addresses. */
#ifndef AUTHKIT_CORE_TEXT_H
#define AUTHKIT_CORE_TEXT_H

#include "authkit/common.h"
#include "authkit/status.h"

/* Trims ASCII white space and lower-cases ASCII letters of `email` into `out`, then checks
 * it: valid UTF-8, no control characters or spaces, at most 254 bytes, one '@' with a
 * non-empty local part and a domain containing a '.' that neither starts nor ends it.
 * AUTHKIT_OK or AUTHKIT_VALIDATION (field "email"). */
authkit_status authkit__email_normalize(const char *email, char out[AUTHKIT_EMAIL_SIZE],
                                        authkit_error *err);

/* true when the `len` bytes at `s` are well-formed UTF-8 (no overlongs, no surrogates). */
bool authkit__utf8_valid(const char *s, size_t len);

/* Replaces, in place, every byte that is not part of well-formed UTF-8 and every control
 * character with '?': client-supplied text (IP, User-Agent) is then the same in every
 * store and safe to show. */
void authkit__text_sanitize(char *s);

#endif
