/* Every comparison of a secret or of something derived from one goes through
 * sodium_memcmp (checklist items 8 and 38): the time it takes does not depend on where two
 * values first differ. Checked in the source of each file that compares such values:
 * no libc comparison there, except of text against a literal (a public constant such as
 * a JWT's "alg"), and at least one sodium_memcmp. */
#include <stdbool.h>

#include "check.h"

static const char *const files[] = {
    "src/password/bcrypt.c", /* the computed bcrypt hash against the stored one */
    "src/session/csrf.c",    /* an anti-CSRF token against the expected one */
    "src/session/jwt.c",     /* a JWT's MAC against the computed one */
    "src/session/cache.c",   /* a token digest against a cached one */
};

static void check_file(const char *rel) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", AUTHKIT_SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    static char src[256 * 1024];
    size_t n = fread(src, 1, sizeof src - 1, f);
    fclose(f);
    src[n] = '\0';
    CHECK_MSG(n > 0 && n < sizeof src - 1, "%s: read %zu bytes", rel, n);
    static const char *const banned[] = {"strcmp(", "strncmp(", "memcmp(", "bcmp(", "strcasecmp("};
    for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++) {
        for (const char *p = strstr(src, banned[i]); p; p = strstr(p + 1, banned[i])) {
            if (p - src >= 7 && strncmp(p - 7, "sodium_", 7) == 0)
                continue;
            const char *eol = strchr(p, '\n');
            const char *quote = strchr(p, '"');
            if (quote && (!eol || quote < eol))
                continue; /* against a literal: public text */
            int line = 1;
            for (const char *q = src; q < p; q++)
                line += *q == '\n';
            CHECK_MSG(false, "%s:%d: calls %s on what may be secret", rel, line, banned[i]);
        }
    }
    CHECK_MSG(strstr(src, "sodium_memcmp(") != NULL, "%s: no sodium_memcmp", rel);
}

int main(void) {
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        check_file(files[i]);
    return check_done("test_constant_time");
}
