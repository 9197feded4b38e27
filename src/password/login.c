#include "password/login.h"

#include "password/bcrypt.h"

authkit_status authkit__password_verify_equalized(const char *stored, const char *dummy,
                                                  const char *password, size_t len) {
    bool usable = stored && authkit__bcrypt_hash_acceptable(stored);
    const char *hash = usable ? stored : dummy;
    /* An empty password never logs in, even against an imported hash of "". */
    if (!password || len == 0 || authkit_password_check_bytes(password, len) != AUTHKIT_OK) {
        password = "-";
        len = 1;
        usable = false;
    }
    authkit_status st = authkit_password_verify(password, len, hash);
    return usable && st == AUTHKIT_OK ? AUTHKIT_OK : AUTHKIT_MISMATCH;
}
