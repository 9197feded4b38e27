/* Interoperability with pyca/bcrypt (Debian's python3-bcrypt), both ways: hashes we
 * write verify there, and hashes it writes verify here. Skipped (77) without the module.
 * Only hex reaches the shell command line and the data files, so no password can inject
 * anything. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "password/bcrypt.h"

/* The system interpreter: a pyenv python3 earlier in PATH may lack the module. */
#define PYTHON      "/usr/bin/python3"
#define N_PASSWORDS 5
#define MAX_PW      72

typedef struct {
    const char *id;
    const char *pw;
    size_t len;
} pw_row;

/* A string literal and its length, without its terminating NUL. */
#define PW(s) s, sizeof(s) - 1
#define PW72  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_Static_assert(sizeof(PW72) - 1 == 72, "PW72 is 72 bytes");

static const pw_row ours[N_PASSWORDS] = {
    {"A1 ascii", PW("correct horse battery staple")},
    {"A2 utf-8", PW("p\xc3\xa4ssw\xc3\xb6rd \xe2\x82\xac \xf0\x9f\x94\x91")},
    {"A3 72 bytes", PW(PW72)},
    {"A4 shell chars", PW("'; rm -rf / #\"$(id)`id`\\")},
    {"A5 one byte", PW("x")},
};

static const pw_row theirs[N_PASSWORDS] = {
    {"P1 ascii", PW("hunter2")},
    {"P2 utf-8", PW("\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c")},
    {"P3 72 bytes", PW(PW72)},
    {"P4 8-bit", PW("\xff\xff\xa3\x80")},
    {"P5 shell chars", PW("\"'$HOME\n\t;|&")},
};

static void to_hex(char *out, const void *in, size_t len) {
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

/* Returns the exit status of a popen'ed command, or -1 if it did not exit normally. */
static int close_status(FILE *p) {
    int st = pclose(p);
    return (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
}

static bool python_has_bcrypt(void) {
    if (access(PYTHON, X_OK) != 0) {
        printf("skip: %s not found\n", PYTHON);
        return false;
    }
    FILE *p = popen(PYTHON " -c 'import bcrypt' 2>&1", "r");
    if (!p) {
        printf("skip: cannot run %s\n", PYTHON);
        return false;
    }
    char why[512] = "";
    size_t n = fread(why, 1, sizeof why - 1, p);
    why[n] = '\0';
    if (close_status(p) != 0) {
        printf("skip: %s cannot import bcrypt (install python3-bcrypt): %s\n", PYTHON, why);
        return false;
    }
    return true;
}

/* Writes one hex-encoded row per line to a new temporary file, whose path goes to
 * `path`. Returns false on failure. */
static bool write_temp(char path[64], char (*lines)[4 * MAX_PW + 2 * AUTHKIT_HASH_SIZE + 8],
                       size_t count) {
    const char *dir = getenv("TMPDIR");
    snprintf(path, 64, "%s/authkit-bcrypt-XXXXXX", dir && strlen(dir) < 32 ? dir : "/tmp");
    int fd = mkstemp(path);
    CHECK_MSG(fd >= 0, "mkstemp(%s) failed", path);
    if (fd < 0)
        return false;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        CHECK_MSG(0, "fdopen failed");
        return false;
    }
    for (size_t i = 0; i < count; i++)
        fprintf(f, "%s\n", lines[i]);
    bool ok = fclose(f) == 0;
    CHECK_MSG(ok, "writing %s failed", path);
    return ok;
}

/* Runs `script` with the hex of `path` as its only argument and reads one output line per
 * row into `out`. Returns the number of lines read, or -1 if python failed. */
static int run_python(const char *script, const char *path, char (*out)[128], int rows) {
    char hexpath[2 * 64 + 1], cmd[2048];
    to_hex(hexpath, path, strlen(path));
    snprintf(cmd, sizeof cmd, "%s -c '%s' %s", PYTHON, script, hexpath);
    FILE *p = popen(cmd, "r");
    CHECK_MSG(p != NULL, "popen failed");
    if (!p)
        return -1;
    int n = 0;
    char line[128];
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (n < rows)
            snprintf(out[n], sizeof out[n], "%s", line);
        n++;
    }
    int st = close_status(p);
    CHECK_MSG(st == 0, "python exited with %d", st);
    return st == 0 ? n : -1;
}

/* (a) Our hashes, checked by bcrypt.checkpw, with the right and a wrong password. The
 * script must not contain a single quote: it is quoted with them. */
static const char check_script[] =
    "import sys, bcrypt\n"
    "for line in open(bytes.fromhex(sys.argv[1]).decode()):\n"
    "    pw, h = (bytes.fromhex(x) for x in line.split())\n"
    "    wrong = bytes([pw[0] ^ 1]) + pw[1:]\n"
    "    print(int(bcrypt.checkpw(pw, h)), int(bcrypt.checkpw(wrong, h)))\n";

static void test_ours_verify_there(void) {
    static char lines[N_PASSWORDS][4 * MAX_PW + 2 * AUTHKIT_HASH_SIZE + 8];
    for (int i = 0; i < N_PASSWORDS; i++) {
        char h[AUTHKIT_HASH_SIZE], hex_pw[2 * MAX_PW + 1], hex_h[2 * AUTHKIT_HASH_SIZE + 1];
        authkit_status s = authkit_password_hash(ours[i].pw, ours[i].len, 4, h);
        CHECK_MSG(s == AUTHKIT_OK, "row %d (%s): hash returned %s", i, ours[i].id,
                  authkit_status_name(s));
        to_hex(hex_pw, ours[i].pw, ours[i].len);
        to_hex(hex_h, h, strlen(h));
        snprintf(lines[i], sizeof lines[i], "%s %s", hex_pw, hex_h);
    }
    char path[64];
    if (!write_temp(path, lines, N_PASSWORDS))
        return;
    char out[N_PASSWORDS][128];
    int n = run_python(check_script, path, out, N_PASSWORDS);
    unlink(path);
    CHECK_MSG(n == N_PASSWORDS, "python answered %d lines, expected %d", n, N_PASSWORDS);
    for (int i = 0; i < n && i < N_PASSWORDS; i++)
        CHECK_MSG(strcmp(out[i], "1 0") == 0, "row %d (%s): checkpw gave \"%s\", expected \"1 0\"",
                  i, ours[i].id, out[i]);
}

/* (b) pyca's hashes, verified here. */
static const char hash_script[] =
    "import sys, bcrypt\n"
    "for line in open(bytes.fromhex(sys.argv[1]).decode()):\n"
    "    print(bcrypt.hashpw(bytes.fromhex(line.strip()), bcrypt.gensalt(4)).decode())\n";

static void test_theirs_verify_here(void) {
    static char lines[N_PASSWORDS][4 * MAX_PW + 2 * AUTHKIT_HASH_SIZE + 8];
    for (int i = 0; i < N_PASSWORDS; i++)
        to_hex(lines[i], theirs[i].pw, theirs[i].len);
    char path[64];
    if (!write_temp(path, lines, N_PASSWORDS))
        return;
    char out[N_PASSWORDS][128];
    int n = run_python(hash_script, path, out, N_PASSWORDS);
    unlink(path);
    CHECK_MSG(n == N_PASSWORDS, "python answered %d lines, expected %d", n, N_PASSWORDS);
    for (int i = 0; i < n && i < N_PASSWORDS; i++) {
        const char *id = theirs[i].id, *h = out[i];
        CHECK_MSG(strncmp(h, "$2b$04$", 7) == 0, "row %d (%s): hash \"%s\"", i, id, h);
        CHECK_MSG(authkit__bcrypt_hash_acceptable(h), "row %d (%s): \"%s\" not acceptable", i, id,
                  h);
        authkit_status s = authkit_password_verify(theirs[i].pw, theirs[i].len, h);
        CHECK_MSG(s == AUTHKIT_OK, "row %d (%s): verify returned %s", i, id,
                  authkit_status_name(s));
        char wrong[MAX_PW];
        memcpy(wrong, theirs[i].pw, theirs[i].len);
        wrong[0] ^= 1;
        s = authkit_password_verify(wrong, theirs[i].len, h);
        CHECK_MSG(s == AUTHKIT_MISMATCH, "row %d (%s): wrong password gave %s", i, id,
                  authkit_status_name(s));
        CHECK_MSG(!authkit_password_needs_rehash(h, 4), "row %d (%s): needs rehash", i, id);
    }
}

int main(void) {
    if (!python_has_bcrypt())
        return 77;
    test_ours_verify_there();
    test_theirs_verify_here();
    return check_done("bcrypt-python");
}
