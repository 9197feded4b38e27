/* libFuzzer target for the password functions that read a stored hash: the input is
 * "hash NUL password" (the hash is a C string and cannot hold a NUL; the password may).
 * Without a NUL the whole input is the hash and the password is NULL with length 0.
 *
 * Checks, against a model written here from the documentation:
 *   - authkit_password_check_bytes: TOO_LONG past 72 bytes, else HAS_NUL, else OK;
 *   - authkit__bcrypt_cost is -1 exactly for hashes that are not acceptable;
 *   - authkit_password_needs_rehash is true for every hash that is not acceptable, and
 *     otherwise exactly when the prefix is not "$2b$" or the cost differs;
 *   - authkit_password_verify never returns OK for a hash that is not acceptable, refuses
 *     it before any bcrypt run, passes on check_bytes' refusals, and for an acceptable
 *     hash answers OK or MISMATCH after exactly one bcrypt run;
 *   - authkit__password_verify_equalized (the login path), for acceptable hashes, gives
 *     the same answer as verify (never OK for an empty password) after exactly one
 *     bcrypt run, also for a password it refuses.
 * Acceptable hashes of cost above 05 are not verified: one bcrypt at cost 12 takes a
 * quarter of a second, and the shape checks are the same at every cost. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "password/bcrypt.h"
#include "password/login.h"

/* Highest cost that is still verified (05: about 2 ms a run). */
#define FUZZ_MAX_VERIFY_COST 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the login path verifies when the stored hash is unusable (libxcrypt's cost-04
 * "abc" vector); only needed here as a valid argument. */
static const char dummy_hash[] = "$2b$04$CCCCCCCCCCCCCCCCCCCCC.AKurti2nSiRoaXd0tyyeWA.1jj9Kto2";

static void fail(const char *what, const char *hash) {
    fprintf(stderr, "fuzz_password_verify: %s (hash \"%s\")\n", what, hash);
    abort();
}

static authkit_status expected_check(const char *password, size_t len) {
    if (len > AUTHKIT_PASSWORD_MAX_BYTES)
        return AUTHKIT_PASSWORD_TOO_LONG;
    if (len > 0 && memchr(password, '\0', len))
        return AUTHKIT_PASSWORD_HAS_NUL;
    return AUTHKIT_OK;
}

/* The cost digits of a hash that starts "$2?$NN$"; only meaningful when acceptable. */
static int cost_digits(const char *hash) {
    return (hash[4] - '0') * 10 + (hash[5] - '0');
}

static void check_rehash(const char *hash, bool acceptable) {
    static const int costs[] = {4, 5, 10, 12, 31};
    for (size_t i = 0; i < sizeof costs / sizeof costs[0]; i++) {
        bool want = !acceptable || hash[2] != 'b' || cost_digits(hash) != costs[i];
        if (authkit_password_needs_rehash(hash, costs[i]) != want)
            fail("needs_rehash disagrees with the model", hash);
    }
}

static void check_verify(const char *password, size_t len, const char *hash, bool acceptable,
                         authkit_status check) {
    uint64_t runs = authkit__bcrypt_runs();
    authkit_status st = authkit_password_verify(password, len, hash);
    uint64_t ran = authkit__bcrypt_runs() - runs;

    if (!acceptable && st == AUTHKIT_OK)
        fail("verify returned OK for a hash that is not acceptable", hash);
    if (check != AUTHKIT_OK || !acceptable) {
        authkit_status want = check != AUTHKIT_OK ? check : AUTHKIT_INVALID_HASH;
        if (st != want)
            fail("verify did not refuse as documented", hash);
        if (ran != 0)
            fail("a refused password or hash cost a bcrypt run", hash);
    } else {
        /* Acceptable and a usable password: libxcrypt must take every hash our shape
         * check lets through, so the answer is a match or a mismatch, never CRYPTO. */
        if (st != AUTHKIT_OK && st != AUTHKIT_MISMATCH)
            fail("verify of an acceptable hash returned neither OK nor MISMATCH", hash);
        if (ran != 1)
            fail("verify of an acceptable hash did not run bcrypt exactly once", hash);
    }
    if (!acceptable)
        return; /* the login path would verify against the dummy: one bcrypt, skipped */

    /* The login path: OK only when verify said OK for a non-empty password, and one
     * bcrypt run whatever the password (an unusable one is replaced, not refused). */
    runs = authkit__bcrypt_runs();
    authkit_status eq = authkit__password_verify_equalized(hash, dummy_hash, password, len);
    if (eq != (st == AUTHKIT_OK && len > 0 ? AUTHKIT_OK : AUTHKIT_MISMATCH))
        fail("verify_equalized disagrees with verify", hash);
    if (authkit__bcrypt_runs() - runs != 1)
        fail("verify_equalized did not run bcrypt exactly once", hash);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, '\0', size);
    size_t hash_len = nul ? (size_t)(nul - data) : size;
    size_t len = nul ? size - hash_len - 1 : 0;
    char *hash = malloc(hash_len + 1);
    /* Exactly `len` bytes, so that AddressSanitizer sees any read past the password. */
    char *password = len ? malloc(len) : NULL;
    if (!hash || (len && !password))
        goto done;
    memcpy(hash, data, hash_len);
    hash[hash_len] = '\0';
    if (len)
        memcpy(password, nul + 1, len);

    authkit_status check = authkit_password_check_bytes(password, len);
    if (check != expected_check(password, len))
        fail("check_bytes disagrees with the model", hash);

    bool acceptable = authkit__bcrypt_hash_acceptable(hash);
    int cost = authkit__bcrypt_cost(hash);
    if (acceptable ? (cost != cost_digits(hash) || cost < AUTHKIT_BCRYPT_COST_MIN ||
                      cost > AUTHKIT_BCRYPT_COST_MAX)
                   : cost != -1)
        fail("bcrypt_cost disagrees with hash_acceptable", hash);
    if (acceptable && strlen(hash) != AUTHKIT_HASH_SIZE - 1)
        fail("an acceptable hash is not 60 characters", hash);
    check_rehash(hash, acceptable);

    if (!acceptable || cost <= FUZZ_MAX_VERIFY_COST)
        check_verify(password, len, hash, acceptable, check);

done:
    free(password);
    free(hash);
    return 0;
}
