#include "password/bcrypt.h"

#include <crypt.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"

#define BCRYPT_HASH_LEN     (AUTHKIT_HASH_SIZE - 1) /* 60 */
#define BCRYPT_SALT_BYTES   16
#define BCRYPT_CHECKSUM_LEN (BCRYPT_HASH_LEN - BCRYPT_SETTING_LEN) /* 31 */

/* 64 characters, so that a random byte masked with 63 picks one without bias. */
static const char bcrypt_alphabet[] =
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* Relaxed is enough: the counter orders nothing, it only has to miss no increment. */
static _Atomic uint64_t bcrypt_runs;
/* Per thread, so that a test reads its own run and not another thread's. */
static _Thread_local int bcrypt_last_cost;

static bool is_bcrypt_char(char c) {
    return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9');
}

bool authkit__bcrypt_hash_acceptable(const char *hash) {
    if (!hash)
        return false;
    /* Checked left to right so that a short string stops at its NUL, never read past. */
    if (hash[0] != '$' || hash[1] != '2')
        return false;
    /* "$2x$" reproduces the pre-2011 sign-extension bug: such hashes collide. */
    if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y')
        return false;
    if (hash[3] != '$' || hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9' ||
        hash[6] != '$')
        return false;
    int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    if (cost < AUTHKIT_BCRYPT_COST_MIN || cost > AUTHKIT_BCRYPT_COST_MAX)
        return false;
    for (int i = 7; i < BCRYPT_HASH_LEN; i++) {
        if (!is_bcrypt_char(hash[i]))
            return false;
    }
    /* 22 characters carry 132 bits for a 128-bit salt: the last one may only take the
     * four values whose low four bits are zero, otherwise two strings name one salt. */
    char last_salt = hash[BCRYPT_SETTING_LEN - 1];
    if (last_salt != '.' && last_salt != 'O' && last_salt != 'e' && last_salt != 'u')
        return false;
    return hash[BCRYPT_HASH_LEN] == '\0';
}

int authkit__bcrypt_cost(const char *hash) {
    if (!authkit__bcrypt_hash_acceptable(hash))
        return -1;
    return (hash[4] - '0') * 10 + (hash[5] - '0');
}

uint64_t authkit__bcrypt_runs(void) {
    return atomic_load_explicit(&bcrypt_runs, memory_order_relaxed);
}

int authkit__bcrypt_last_cost(void) {
    return bcrypt_last_cost;
}

authkit_status authkit_password_check_bytes(const char *password, size_t len) {
    if (!password)
        return len == 0 ? AUTHKIT_OK : AUTHKIT_INVALID_ARGUMENT;
    /* bcrypt ignores bytes past 72 and crypt_rn stops at a NUL: either would make
     * different passwords equal, so both are refused rather than shortened. */
    if (len > AUTHKIT_PASSWORD_MAX_BYTES)
        return AUTHKIT_PASSWORD_TOO_LONG;
    if (len > 0 && memchr(password, '\0', len))
        return AUTHKIT_PASSWORD_HAS_NUL;
    return AUTHKIT_OK;
}

/* Runs crypt_rn once and copies a 60-character result to `out`. The phrase and setting
 * must be NUL-terminated; the caller has already applied its policy. */
static authkit_status run_crypt(const char *phrase, const char *setting,
                                char out[AUTHKIT_HASH_SIZE]) {
    /* ~32 KiB: too big for the stacks of the threads that call us; zeroed as libxcrypt
     * requires before first use. */
    struct crypt_data *data = calloc(1, sizeof *data);
    if (!data)
        return AUTHKIT_NOMEM;
    atomic_fetch_add_explicit(&bcrypt_runs, 1, memory_order_relaxed);
    /* The cost is the NN of "$2b$NN$"; a setting of another shape records 0. */
    bool has_cost = strnlen(setting, 7) == 7 && setting[4] >= '0' && setting[4] <= '9' &&
                    setting[5] >= '0' && setting[5] <= '9';
    bcrypt_last_cost = has_cost ? (setting[4] - '0') * 10 + (setting[5] - '0') : 0;
    const char *result = crypt_rn(phrase, setting, data, (int)sizeof *data);
    authkit_status status = AUTHKIT_INVALID_HASH;
    if (result && strnlen(result, AUTHKIT_HASH_SIZE) == BCRYPT_HASH_LEN) {
        memcpy(out, result, AUTHKIT_HASH_SIZE);
        status = AUTHKIT_OK;
    }
    /* The buffer holds the password and the Blowfish state derived from it. */
    sodium_memzero(data, sizeof *data);
    free(data);
    return status;
}

authkit_status authkit__bcrypt_crypt(const char *password, size_t len, const char *setting,
                                     char out[AUTHKIT_HASH_SIZE]) {
    if (!out)
        return AUTHKIT_INVALID_ARGUMENT;
    memset(out, 0, AUTHKIT_HASH_SIZE);
    if (!setting || (!password && len > 0) || len == SIZE_MAX)
        return AUTHKIT_INVALID_ARGUMENT;
    if (len > 0 && memchr(password, '\0', len))
        return AUTHKIT_INVALID_ARGUMENT;
    /* An empty or foreign prefix would select DES or another scheme, not bcrypt. */
    if (setting[0] != '$' || setting[1] != '2')
        return AUTHKIT_INVALID_HASH;
    /* No length policy here: known-answer vectors include passwords past 72 bytes. */
    char *copy = malloc(len + 1);
    if (!copy)
        return AUTHKIT_NOMEM;
    if (len > 0)
        memcpy(copy, password, len);
    copy[len] = '\0';
    authkit_status status = run_crypt(copy, setting, out);
    sodium_memzero(copy, len + 1);
    free(copy);
    return status;
}

/* A "$2b$NN$" setting with a salt from libsodium's CSPRNG. */
static authkit_status make_setting(int cost, char setting[CRYPT_GENSALT_OUTPUT_SIZE]) {
    /* These functions work without a context, so nothing else has initialised libsodium;
     * sodium_init is thread-safe and cheap after the first call. */
    if (sodium_init() < 0)
        return AUTHKIT_CRYPTO;
    unsigned char rbytes[BCRYPT_SALT_BYTES];
    randombytes_buf(rbytes, sizeof rbytes);
    const char *made = crypt_gensalt_rn("$2b$", (unsigned long)cost, (const char *)rbytes,
                                        (int)sizeof rbytes, setting, CRYPT_GENSALT_OUTPUT_SIZE);
    if (!made || strnlen(made, CRYPT_GENSALT_OUTPUT_SIZE) != BCRYPT_SETTING_LEN)
        return AUTHKIT_CRYPTO;
    return AUTHKIT_OK;
}

authkit_status authkit_password_hash(const char *password, size_t len, int cost,
                                     char out[AUTHKIT_HASH_SIZE]) {
    if (!out)
        return AUTHKIT_INVALID_ARGUMENT;
    memset(out, 0, AUTHKIT_HASH_SIZE);
    authkit_status status = authkit_password_check_bytes(password, len);
    if (status != AUTHKIT_OK)
        return status;
    if (cost < AUTHKIT_BCRYPT_COST_MIN || cost > AUTHKIT_BCRYPT_COST_MAX)
        return AUTHKIT_INVALID_ARGUMENT;
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    status = make_setting(cost, setting);
    if (status != AUTHKIT_OK)
        return status;
    /* check_bytes bounded len, so a stack copy is enough and never truncates. */
    char copy[AUTHKIT_PASSWORD_MAX_BYTES + 1];
    if (len > 0)
        memcpy(copy, password, len);
    copy[len] = '\0';
    status = run_crypt(copy, setting, out);
    sodium_memzero(copy, sizeof copy);
    if (status != AUTHKIT_OK) {
        memset(out, 0, AUTHKIT_HASH_SIZE);
        /* libxcrypt refusing a setting it just generated is its failure, not the
         * caller's hash. */
        return status == AUTHKIT_INVALID_HASH ? AUTHKIT_CRYPTO : status;
    }
    return AUTHKIT_OK;
}

authkit_status authkit_password_verify(const char *password, size_t len, const char *hash) {
    if (!hash)
        return AUTHKIT_INVALID_ARGUMENT;
    authkit_status status = authkit_password_check_bytes(password, len);
    if (status != AUTHKIT_OK)
        return status;
    /* Policy before libxcrypt: it would accept "$2x$" and settings we do not trust, and
     * a refused hash must cost no bcrypt run. */
    if (!authkit__bcrypt_hash_acceptable(hash))
        return AUTHKIT_INVALID_HASH;
    char copy[AUTHKIT_PASSWORD_MAX_BYTES + 1];
    if (len > 0)
        memcpy(copy, password, len);
    copy[len] = '\0';
    char computed[AUTHKIT_HASH_SIZE];
    status = run_crypt(copy, hash, computed);
    sodium_memzero(copy, sizeof copy);
    if (status != AUTHKIT_OK) {
        sodium_memzero(computed, sizeof computed);
        /* The hash passed our shape check, so a refusal is libxcrypt's failure. */
        return status == AUTHKIT_INVALID_HASH ? AUTHKIT_CRYPTO : status;
    }
    /* Constant time: an early exit would tell an attacker how many leading characters
     * of the stored hash a guess reproduces. */
    bool same = authkit__secret_equal(computed, hash, BCRYPT_HASH_LEN);
    sodium_memzero(computed, sizeof computed);
    return same ? AUTHKIT_OK : AUTHKIT_MISMATCH;
}

bool authkit_password_needs_rehash(const char *hash, int cost) {
    /* Only "$2b$" is what we write today; "$2a$"/"$2y$" verify but are rewritten. */
    if (!authkit__bcrypt_hash_acceptable(hash) || hash[2] != 'b')
        return true;
    return authkit__bcrypt_cost(hash) != cost;
}

authkit_status authkit__bcrypt_dummy_hash(int cost, char out[AUTHKIT_HASH_SIZE]) {
    if (!out)
        return AUTHKIT_INVALID_ARGUMENT;
    memset(out, 0, AUTHKIT_HASH_SIZE);
    if (cost < AUTHKIT_BCRYPT_COST_MIN || cost > AUTHKIT_BCRYPT_COST_MAX)
        return AUTHKIT_INVALID_ARGUMENT;
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    authkit_status status = make_setting(cost, setting);
    if (status != AUTHKIT_OK)
        return status;
    memcpy(out, setting, BCRYPT_SETTING_LEN);
    /* A random checksum rather than the hash of a fixed password: no password, not even
     * a guessable one, matches it, while a verification still runs one full bcrypt. */
    unsigned char r[BCRYPT_CHECKSUM_LEN];
    randombytes_buf(r, sizeof r);
    for (size_t i = 0; i < sizeof r; i++)
        out[BCRYPT_SETTING_LEN + i] = bcrypt_alphabet[r[i] & 63];
    out[BCRYPT_HASH_LEN] = '\0';
    return AUTHKIT_OK;
}
