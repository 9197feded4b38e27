/* An LD_PRELOAD shim standing in for a corrupted libxcrypt (a damaged S-box, a bad
 * build): it wraps crypt_rn, calls the real one and changes one character of the
 * checksum of every bcrypt hash it returns. With AUTHKIT_TEST_CRYPT_REFUSE set it fails
 * every call instead, as libxcrypt does when its own internal self-test fails. Built by
 * tests/CMakeLists.txt for tests/unit/test_selftest.c and tests/cli/test_cli.sh; never linked into
 * anything. */
#include <crypt.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BCRYPT_HASH_LEN 60
#define FLIPPED_AT      40 /* inside the 31-character checksum */

typedef char *crypt_rn_fn(const char *, const char *, void *, int);

static crypt_rn_fn *real_crypt_rn;
static pthread_once_t resolved = PTHREAD_ONCE_INIT;

static void resolve(void) {
    real_crypt_rn = (crypt_rn_fn *)dlsym(RTLD_NEXT, "crypt_rn");
}

char *crypt_rn(const char *phrase, const char *setting, void *data, int size) {
    pthread_once(&resolved, resolve);
    if (!real_crypt_rn || getenv("AUTHKIT_TEST_CRYPT_REFUSE")) {
        errno = EINVAL;
        return NULL;
    }
    char *out = real_crypt_rn(phrase, setting, data, size);
    if (out && out[0] == '$' && strnlen(out, BCRYPT_HASH_LEN + 1) == BCRYPT_HASH_LEN)
        out[FLIPPED_AT] = out[FLIPPED_AT] == 'a' ? 'b' : 'a';
    return out;
}
