/* Internal bcrypt helpers beside the public authkit/password.h. */
#ifndef AUTHKIT_PASSWORD_BCRYPT_H
#define AUTHKIT_PASSWORD_BCRYPT_H

#include "authkit/password.h"

/* Length of a bcrypt setting: "$2b$NN$" and 22 salt characters. */
#define BCRYPT_SETTING_LEN 29

/* Runs the bcrypt primitive: crypt_rn(password, setting) with no password policy (bytes
 * past 72 are ignored by bcrypt itself; the password must not contain NUL). Writes the
 * 60-character result to `out`. AUTHKIT_OK, AUTHKIT_INVALID_HASH (a setting that is not
 * bcrypt's "$2", or one libxcrypt refuses), AUTHKIT_NOMEM, AUTHKIT_INVALID_ARGUMENT (NULL,
 * or a password containing NUL). Used by the known-answer tests and by
 * the public functions. */
authkit_status authkit__bcrypt_crypt(const char *password, size_t len, const char *setting,
                                     char out[AUTHKIT_HASH_SIZE]);

/* true when `hash` is a string this library verifies: "$2a$", "$2b$" or "$2y$", a
 * two-digit cost in 4..31, then 53 characters of the bcrypt alphabet (60 in all), and
 * the salt's last character carries no stray bits. */
bool authkit__bcrypt_hash_acceptable(const char *hash);

/* The cost of an acceptable hash, or -1. */
int authkit__bcrypt_cost(const char *hash);

/* Writes a hash-shaped string of the given cost with a random salt and a random
 * checksum: verifying any password against it costs exactly one bcrypt at that cost and
 * never matches (in practice: 2^-184). Used to equalise the time of failed logins. */
authkit_status authkit__bcrypt_dummy_hash(int cost, char out[AUTHKIT_HASH_SIZE]);

/* Number of bcrypt computations run by this process so far (every crypt_rn call). Lets
 * tests prove that each failed login path does the same work. */
uint64_t authkit__bcrypt_runs(void);

/* The cost of the last bcrypt computation run on the calling thread (read from the
 * setting it ran with), or 0 if none has run there. With authkit__bcrypt_runs() it lets
 * tests prove that a failed login runs one bcrypt at the configured cost. */
int authkit__bcrypt_last_cost(void);

/* The known-answer self-test (src/password/selftest.c): two fixed bcrypt vectors at cost
 * 4 and 5 must hash to their published answers and verify through
 * authkit_password_verify, and a wrong password must not. AUTHKIT_OK, AUTHKIT_CRYPTO
 * (libxcrypt gives a wrong answer or refuses a setting; err->message says which) or
 * AUTHKIT_NOMEM. Run by authkit_open() before anything else uses bcrypt. Thread-safe. */
authkit_status authkit__bcrypt_selftest(authkit_error *err);

#endif
