/* The bcrypt known-answer self-test that authkit_open() runs before it trusts libxcrypt. */
#include "core/error.h"
#include "password/bcrypt.h"

#include <string.h>

struct known_answer {
    const char *password; /* no NUL inside */
    const char *hash;
};

/* Two rows of tests/testdata/bcrypt-vectors.tsv, at the lowest costs there (a few ms in
 * all): L8 (besser82/libxcrypt test/ka-table.inc), "$2b$" at cost 4; B11
 * (openwall/crypt_blowfish wrapper.c), "$2a$" at cost 5 with bytes past 0x7f, whose
 * answer depends on the sign-extension countermeasure. Any change to Blowfish's tables or
 * key schedule changes both answers. */
static const struct known_answer known_answers[] = {
    {"abc", "$2b$04$CCCCCCCCCCCCCCCCCCCCC.AKurti2nSiRoaXd0tyyeWA.1jj9Kto2"},
    {"\xff\xff\xa3", "$2a$05$/OK.fbVrR/bpIqNJ5ianF.nqd1wy.pTMdcvrRWxyiGL2eMz.2a85."},
};

static authkit_status wrong_answers(authkit_error *err, const char *what) {
    return authkit__fail(err, AUTHKIT_CRYPTO, NULL,
                         "bcrypt self-test failed: libxcrypt gives wrong answers (%s)", what);
}

/* Hashing: libxcrypt, given only the setting (no checksum), must reproduce the hash. */
static authkit_status check_hashing(const struct known_answer *ka, authkit_error *err) {
    char setting[BCRYPT_SETTING_LEN + 1];
    memcpy(setting, ka->hash, BCRYPT_SETTING_LEN);
    setting[BCRYPT_SETTING_LEN] = '\0';
    char out[AUTHKIT_HASH_SIZE];
    authkit_status st = authkit__bcrypt_crypt(ka->password, strlen(ka->password), setting, out);
    if (st == AUTHKIT_NOMEM)
        return authkit__fail(err, st, NULL, NULL);
    if (st != AUTHKIT_OK)
        return authkit__fail(err, AUTHKIT_CRYPTO, NULL,
                             "bcrypt self-test failed: libxcrypt refuses the setting %.7s",
                             setting);
    if (strcmp(out, ka->hash) != 0)
        return wrong_answers(err, ka->hash[2] == 'a' ? "$2a$ hash" : "$2b$ hash");
    return AUTHKIT_OK;
}

/* Verification through the path logins take: `password` against the vector's hash must
 * give `expected` (AUTHKIT_OK for its own password, AUTHKIT_MISMATCH for another). */
static authkit_status check_verify(const struct known_answer *ka, const char *password,
                                   authkit_status expected, const char *what, authkit_error *err) {
    authkit_status st = authkit_password_verify(password, strlen(password), ka->hash);
    if (st == AUTHKIT_NOMEM)
        return authkit__fail(err, st, NULL, NULL);
    return st == expected ? AUTHKIT_OK : wrong_answers(err, what);
}

authkit_status authkit__bcrypt_selftest(authkit_error *err) {
    authkit_status st;
    for (size_t i = 0; i < sizeof known_answers / sizeof known_answers[0]; i++) {
        const struct known_answer *ka = &known_answers[i];
        if ((st = check_hashing(ka, err)) != AUTHKIT_OK ||
            (st = check_verify(ka, ka->password, AUTHKIT_OK, "the right password does not verify",
                               err)) != AUTHKIT_OK)
            return st;
    }
    /* One wrong password, on the cheaper vector: a comparison that always succeeded
     * would pass every check above. */
    return check_verify(&known_answers[0], "abd", AUTHKIT_MISMATCH, "a wrong password verifies",
                        err);
}
