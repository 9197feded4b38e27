/* HS256 tokens against an independent implementation: Debian's python3-jwt (PyJWT).
 * Skipped (exit 77) when /usr/bin/python3 cannot import jwt. */
#include <sodium.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/encoding.h"
#include "session/jwt.h"

#define PYTHON "/usr/bin/python3"
#define S      1000000LL

/* Fixed program text, given to python -c inside single quotes: it holds none. Modes:
 *   decode KEY TOKEN                   prints sub, sid, exp and repr(iat), one a line
 *   encode KEY SUB SID IAT EXP ALG     prints the token */
static const char script[] =
    "import sys, jwt\n"
    "a = sys.argv\n"
    "if a[1] == \"decode\":\n"
    "    c = jwt.decode(a[3], a[2], algorithms=[\"HS256\"])\n"
    "    print(c[\"sub\"]); print(c[\"sid\"]); print(c[\"exp\"]); print(repr(c[\"iat\"]))\n"
    "else:\n"
    "    c = {\"sub\": a[3], \"sid\": a[4], \"iat\": int(a[5]), \"exp\": int(a[6])}\n"
    "    print(jwt.encode(c, a[2], algorithm=a[7]))\n";

/* Arguments reach a shell command line, so only [A-Za-z0-9._-] is allowed. */
static bool arg_safe(const char *s) {
    if (!*s)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Runs `command` and reads its standard output into `out`; returns the exit status, or
 * -1 if it could not run or did not exit normally. */
static int run_capture(const char *command, char *out, size_t size) {
    size_t n = 0, got;
    int status;
    FILE *p = popen(command, "r");
    if (!p)
        return -1;
    while (n + 1 < size && (got = fread(out + n, 1, size - 1 - n, p)) > 0)
        n += got;
    out[n] = '\0';
    status = pclose(p);
    if (status == -1 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* Runs the script with `args`; -1 if an argument is unsafe or the command too long. */
static int run_script(const char *const *args, size_t nargs, char *out, size_t size) {
    char cmd[8192];
    size_t n;
    int w = snprintf(cmd, sizeof cmd, "%s -c '%s'", PYTHON, script);
    if (w < 0 || (size_t)w >= sizeof cmd)
        return -1;
    n = (size_t)w;
    for (size_t i = 0; i < nargs; i++) {
        if (!arg_safe(args[i])) {
            fprintf(stderr, "refusing unsafe argument %zu\n", i);
            return -1;
        }
        w = snprintf(cmd + n, sizeof cmd - n, " %s", args[i]);
        if (w < 0 || (size_t)w >= sizeof cmd - n)
            return -1;
        n += (size_t)w;
    }
    return run_capture(cmd, out, size);
}

/* Splits `text` in place into at most `max` newline-terminated lines. */
static size_t split_lines(char *text, char **lines, size_t max) {
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(text, "\r\n", &save); t && n < max; t = strtok_r(NULL, "\r\n", &save))
        lines[n++] = t;
    return n;
}

static authkit_time now_micros(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (authkit_time)ts.tv_sec * S + ts.tv_nsec / 1000;
}

/* A 40-character secret: base64url of 30 random bytes. */
static void new_key(char out[41]) {
    uint8_t raw[30];
    randombytes_buf(raw, sizeof raw);
    authkit__b64url_encode(out, 41, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
}

static bool python_has_jwt(void) {
    char out[2048];
    int rc;
    if (access(PYTHON, X_OK) != 0) {
        printf("skip: %s is not installed\n", PYTHON);
        return false;
    }
    rc = run_capture(PYTHON " -c 'import jwt; print(jwt.__version__)' 2>&1", out, sizeof out);
    if (rc != 0) {
        printf("skip: %s cannot import jwt (python3-jwt not installed?): %s\n", PYTHON, out);
        return false;
    }
    printf("PyJWT %s", out);
    return true;
}

/* (a) We sign, PyJWT decodes and prints the claims back. */
static void test_we_sign(const char *key) {
    struct authkit__jwt_claims c;
    char tok[AUTHKIT_TOKEN_SIZE], out[4096], *lines[4];
    authkit_time now = now_micros();

    memset(&c, 0, sizeof c);
    authkit__uuid_v4(c.sub);
    authkit__uuid_v4(c.sid);
    c.iat = now - 1 * S;
    if (c.iat % S == 0)
        c.iat += 123457; /* make sure a fraction travels */
    c.exp = now + 3600 * S;
    CHECK_OK(authkit__jwt_sign((const uint8_t *)key, strlen(key), &c, tok, sizeof tok));

    const char *args[] = {"decode", key, tok};
    int rc = run_script(args, 3, out, sizeof out);
    CHECK_MSG(rc == 0, "python decode exited with %d", rc);
    if (rc != 0)
        return;
    size_t nl = split_lines(out, lines, 4);
    CHECK_INT(nl, 4);
    if (nl != 4)
        return;
    CHECK_STR(lines[0], c.sub);
    CHECK_STR(lines[1], c.sid);
    CHECK_INT(strtoll(lines[2], NULL, 10), c.exp / S);
    /* PyJWT reads iat as a float: it must come back within rounding of our micros. */
    double iat = strtod(lines[3], NULL);
    double diff = iat * 1e6 - (double)c.iat;
    CHECK_MSG(diff > -1.0 && diff < 1.0, "iat %s vs %lld us", lines[3], (long long)c.iat);
}

static bool python_encode(char *tok, size_t size, const char *key, const char *sub, const char *sid,
                          long long iat, long long exp, const char *alg) {
    char iat_s[32], exp_s[32], out[4096], *lines[2];
    snprintf(iat_s, sizeof iat_s, "%lld", iat);
    snprintf(exp_s, sizeof exp_s, "%lld", exp);
    const char *args[] = {"encode", key, sub, sid, iat_s, exp_s, alg};
    int rc = run_script(args, 7, out, sizeof out);
    CHECK_MSG(rc == 0, "python encode (%s) exited with %d", alg, rc);
    if (rc != 0 || split_lines(out, lines, 2) != 1) {
        tok[0] = '\0';
        return false;
    }
    snprintf(tok, size, "%s", lines[0]);
    return true;
}

/* (b) PyJWT signs HS256, we verify; (c) HS512 and another key are refused. */
static void test_python_signs(const char *key, const char *other_key) {
    char sub[AUTHKIT_UUID_SIZE], sid[AUTHKIT_UUID_SIZE], tok[AUTHKIT_TOKEN_SIZE];
    struct authkit__jwt_claims c;
    authkit_time now = now_micros();
    long long iat = now / S - 5, exp = now / S + 3600;

    authkit__uuid_v4(sub);
    authkit__uuid_v4(sid);
    if (python_encode(tok, sizeof tok, key, sub, sid, iat, exp, "HS256")) {
        CHECK_OK(authkit__jwt_verify((const uint8_t *)key, strlen(key), tok, now, &c));
        CHECK_STR(c.sub, sub);
        CHECK_STR(c.sid, sid);
        CHECK_INT(c.iat, iat * S);
        CHECK_INT(c.exp, exp * S);
        /* Expired once its exp is reached. */
        CHECK_STATUS(authkit__jwt_verify((const uint8_t *)key, strlen(key), tok, exp * S, &c),
                     AUTHKIT_NOT_AUTHENTICATED);
    }

    struct {
        const char *key, *alg;
    } refused[] = {{key, "HS512"}, {key, "HS384"}, {other_key, "HS256"}};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (!python_encode(tok, sizeof tok, refused[i].key, sub, sid, iat, exp, refused[i].alg))
            continue;
        memset(&c, 0xa5, sizeof c);
        authkit_status st = authkit__jwt_verify((const uint8_t *)key, strlen(key), tok, now, &c);
        CHECK_MSG(st == AUTHKIT_NOT_AUTHENTICATED, "row %zu (%s): %s", i, refused[i].alg,
                  authkit_status_name(st));
        CHECK_MSG(c.exp == 0 && c.sub[0] == '\0', "row %zu: claims left after refusal", i);
    }
}

int main(void) {
    char key[41], other_key[41];
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    if (!python_has_jwt())
        return 77;
    new_key(key);
    new_key(other_key);
    test_we_sign(key);
    test_python_signs(key, other_key);
    return check_done("jwt_python");
}
