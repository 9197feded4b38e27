/* Password component: bcrypt known-answer vectors, refused hashes, password policy,
 * salts, rehash decisions, the dummy hash and argument checks. */
#include <regex.h>
#include <sodium.h>
#include <stdlib.h>

#include "check.h"
#include "password/bcrypt.h"

/* Like CHECK_STATUS, naming the table row in the message. */
#define CHECK_ROW_STATUS(row, expr, expected)                                                      \
    do {                                                                                           \
        authkit_status row_got_ = (expr);                                                          \
        authkit_status row_want_ = (expected);                                                     \
        CHECK_MSG(row_got_ == row_want_, "row %s: %s returned %s, expected %s", (row), #expr,      \
                  authkit_status_name(row_got_), authkit_status_name(row_want_));                  \
    } while (0)

#define MAX_LINE    1024
#define SETTING_LEN 29

static const char test_hash_a[] = "$2a$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm";

static FILE *open_testdata(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", AUTHKIT_TESTDATA_DIR, name);
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    return f;
}

static void chomp(char *line) {
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
}

/* One match row: the primitive reproduces the hash from its setting, and verify accepts
 * the password unless policy refuses its length. */
static void vector_match(const char *id, const unsigned char *pw, size_t len, const char *hash) {
    char setting[SETTING_LEN + 1];
    char out[AUTHKIT_HASH_SIZE];
    snprintf(setting, sizeof setting, "%.*s", SETTING_LEN, hash);
    CHECK_ROW_STATUS(id, authkit__bcrypt_crypt((const char *)pw, len, setting, out), AUTHKIT_OK);
    CHECK_MSG(strcmp(out, hash) == 0, "row %s: primitive gave \"%s\", expected \"%s\"", id, out,
              hash);
    CHECK_MSG(authkit__bcrypt_hash_acceptable(hash), "row %s: hash not acceptable", id);
    if (len > AUTHKIT_PASSWORD_MAX_BYTES) {
        CHECK_ROW_STATUS(id, authkit_password_verify((const char *)pw, len, hash),
                         AUTHKIT_PASSWORD_TOO_LONG);
        return;
    }
    CHECK_ROW_STATUS(id, authkit_password_verify((const char *)pw, len, hash), AUTHKIT_OK);
    /* A one-byte change (kept within 72 bytes and NUL-free) must not verify. */
    unsigned char wrong[AUTHKIT_PASSWORD_MAX_BYTES];
    size_t wrong_len = len > 0 ? len : 1;
    if (len > 0)
        memcpy(wrong, pw, len);
    wrong[0] = (len > 0 && pw[0] == 'x') ? 'y' : 'x';
    CHECK_ROW_STATUS(id, authkit_password_verify((const char *)wrong, wrong_len, hash),
                     AUTHKIT_MISMATCH);
}

static void test_vectors(void) {
    FILE *f = open_testdata("bcrypt-vectors.tsv");
    if (!f)
        return;
    char line[MAX_LINE];
    int rows = 0, matches = 0, long_rows = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        chomp(line);
        if (line[0] == '#' || line[0] == '\0')
            continue;
        /* strtok would merge the empty password column with its neighbours. */
        char *cols[4];
        char *p = line;
        int n = 0;
        for (; n < 4 && p; n++) {
            cols[n] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = '\0';
        }
        CHECK_MSG(n == 4, "line %d: %d columns", lineno, n);
        if (n != 4)
            continue;
        const char *id = cols[0], *hex = cols[1], *hash = cols[2], *expect = cols[3];
        unsigned char pw[256];
        size_t len = 0;
        int rc = sodium_hex2bin(pw, sizeof pw, hex, strlen(hex), NULL, &len, NULL);
        CHECK_MSG(rc == 0, "row %s: bad password hex", id);
        if (rc != 0)
            continue;
        rows++;
        if (strcmp(expect, "match") == 0) {
            matches++;
            if (len > AUTHKIT_PASSWORD_MAX_BYTES)
                long_rows++;
            vector_match(id, pw, len, hash);
        } else if (strcmp(expect, "refuse") == 0) {
            CHECK_ROW_STATUS(id, authkit_password_verify((const char *)pw, len, hash),
                             AUTHKIT_INVALID_HASH);
            CHECK_MSG(!authkit__bcrypt_hash_acceptable(hash), "row %s: hash acceptable", id);
        } else if (strcmp(expect, "nul-refuse") == 0) {
            CHECK_ROW_STATUS(id, authkit_password_verify((const char *)pw, len, hash),
                             AUTHKIT_PASSWORD_HAS_NUL);
            char out[AUTHKIT_HASH_SIZE];
            CHECK_ROW_STATUS(id, authkit_password_hash((const char *)pw, len, 4, out),
                             AUTHKIT_PASSWORD_HAS_NUL);
        } else {
            CHECK_MSG(0, "row %s: unknown expectation \"%s\"", id, expect);
        }
    }
    fclose(f);
    CHECK_MSG(rows >= 30, "only %d vector rows parsed", rows);
    CHECK_MSG(matches >= 25, "only %d match rows", matches);
    CHECK_INT(long_rows, 2); /* B5 and B14 */
}

static void test_refuse_file(void) {
    static const char *const passwords[] = {"", "U*U", "password", "\xa3"};
    FILE *f = open_testdata("bcrypt-refuse.txt");
    if (!f)
        return;
    char line[MAX_LINE];
    int lineno = 0, refused = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        chomp(line);
        if (line[0] == '#' || line[0] == '\0')
            continue;
        refused++;
        char row[32];
        for (size_t i = 0; i < sizeof passwords / sizeof passwords[0]; i++) {
            snprintf(row, sizeof row, "line %d pw %zu", lineno, i);
            CHECK_ROW_STATUS(row, authkit_password_verify(passwords[i], strlen(passwords[i]), line),
                             AUTHKIT_INVALID_HASH);
        }
        CHECK_MSG(!authkit__bcrypt_hash_acceptable(line), "line %d: acceptable", lineno);
        CHECK_MSG(authkit_password_needs_rehash(line, 12), "line %d: no rehash", lineno);
        CHECK_MSG(authkit__bcrypt_cost(line) == -1, "line %d: has a cost", lineno);
    }
    fclose(f);
    CHECK_MSG(refused >= 10, "only %d refuse lines", refused);
}

/* Hand-made near misses of test_hash_a, each broken in one place. */
static void test_shape(void) {
    static const struct {
        const char *id;
        const char *hash;
        bool acceptable;
    } rows[] = {
        {"S1 valid $2a$", "$2a$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", true},
        {"S2 valid $2b$", "$2b$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", true},
        {"S3 valid $2y$", "$2y$31$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", true},
        {"S4 $2x$", "$2x$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", false},
        {"S5 $2$", "$2$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", false},
        {"S6 cost 03", "$2b$03$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", false},
        {"S7 cost 32", "$2b$32$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", false},
        {"S8 cost 4", "$2b$4$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEmx", false},
        {"S9 stray salt bits", "$2b$04$cVWp4XaNU8a4v1uMRum2SP026BWLIoQMD/TXg5uZV.0P.uO8m3YEm",
         false},
        {"S10 bad char", "$2b$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YE!", false},
        {"S11 61 chars", "$2b$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEmm", false},
        {"S12 59 chars", "$2b$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YE", false},
        {"S13 empty", "", false},
        {"S14 $1$", "$1$abcdefgh$abcdefghijklmnopqrstuv", false},
        {"S15 upper B", "$2B$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", false},
        {"S16 no $ after cost", "$2b$04xcVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm",
         false},
        {"S17 space", "$2b$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YE ", false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *id = rows[i].id;
        CHECK_MSG(authkit__bcrypt_hash_acceptable(rows[i].hash) == rows[i].acceptable,
                  "row %zu (%s): acceptable != %d", i, id, rows[i].acceptable);
        if (!rows[i].acceptable) {
            CHECK_ROW_STATUS(id, authkit_password_verify("U*U", 3, rows[i].hash),
                             AUTHKIT_INVALID_HASH);
            CHECK_MSG(authkit__bcrypt_cost(rows[i].hash) == -1, "row %zu (%s): cost", i, id);
        }
    }
    CHECK_INT(authkit__bcrypt_cost(rows[2].hash), 31);
    CHECK_INT(authkit__bcrypt_cost(test_hash_a), 4);
}

static void test_hash_and_verify(void) {
    char h[AUTHKIT_HASH_SIZE], h2[AUTHKIT_HASH_SIZE], bad[AUTHKIT_HASH_SIZE + 16];
    CHECK_OK(authkit_password_hash("correct horse", 13, 4, h));
    CHECK_OK(authkit_password_verify("correct horse", 13, h));
    CHECK_STATUS(authkit_password_verify("correct horsf", 13, h), AUTHKIT_MISMATCH);
    CHECK_STATUS(authkit_password_verify("correct hors", 12, h), AUTHKIT_MISMATCH);
    CHECK_STATUS(authkit_password_verify("", 0, h), AUTHKIT_MISMATCH);
    CHECK(strncmp(h, "$2b$04$", 7) == 0);
    CHECK_INT(strlen(h), 60);
    CHECK(authkit__bcrypt_hash_acceptable(h));

    regex_t re;
    CHECK_INT(regcomp(&re, "^\\$2b\\$[0-9]{2}\\$[./A-Za-z0-9]{53}$", REG_EXTENDED | REG_NOSUB), 0);
    CHECK_MSG(regexec(&re, h, 0, NULL, 0) == 0, "\"%s\" does not match the hash pattern", h);
    regfree(&re);

    CHECK_OK(authkit_password_hash("correct horse", 13, 4, h2));
    CHECK_MSG(strcmp(h, h2) != 0, "same hash twice: %s", h);
    CHECK_OK(authkit_password_verify("correct horse", 13, h2));

    snprintf(bad, sizeof bad, "%sextra", h);
    CHECK_STATUS(authkit_password_verify("correct horse", 13, bad), AUTHKIT_INVALID_HASH);
    snprintf(bad, sizeof bad, "%.50s", h);
    CHECK_STATUS(authkit_password_verify("correct horse", 13, bad), AUTHKIT_INVALID_HASH);

    /* The empty password is the caller's policy question, not ours. */
    CHECK_OK(authkit_password_hash("", 0, 4, h));
    CHECK_OK(authkit_password_verify("", 0, h));
    CHECK_OK(authkit_password_verify(NULL, 0, h));
}

static void test_default_cost(void) {
    char h[AUTHKIT_HASH_SIZE];
    CHECK_OK(authkit_password_hash("pw", 2, AUTHKIT_BCRYPT_COST_DEFAULT, h));
    CHECK(strncmp(h, "$2b$12$", 7) == 0);
    CHECK_INT(authkit__bcrypt_cost(h), 12);
    CHECK(!authkit_password_needs_rehash(h, AUTHKIT_BCRYPT_COST_DEFAULT));
}

static int cmp_str(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

static void test_distinct_salts(void) {
    enum { N = 1000 };
    static char salts[N][23];
    char h[AUTHKIT_HASH_SIZE];
    int failures = 0;
    for (int i = 0; i < N; i++) {
        authkit_status s = authkit_password_hash("same password", 13, 4, h);
        if (s != AUTHKIT_OK && failures++ < 5)
            CHECK_MSG(0, "hash %d: %s", i, authkit_status_name(s));
        memcpy(salts[i], h + 7, 22);
        salts[i][22] = '\0';
    }
    CHECK_INT(failures, 0);
    qsort(salts, N, sizeof salts[0], cmp_str);
    int dups = 0;
    for (int i = 1; i < N; i++)
        dups += strcmp(salts[i - 1], salts[i]) == 0;
    CHECK_MSG(dups == 0, "%d repeated salts in %d hashes", dups, N);
}

static void test_lengths(void) {
    static const struct {
        size_t len;
        authkit_status want;
    } rows[] = {
        {1, AUTHKIT_OK},
        {71, AUTHKIT_OK},
        {72, AUTHKIT_OK},
        {73, AUTHKIT_PASSWORD_TOO_LONG},
        {80, AUTHKIT_PASSWORD_TOO_LONG},
        {4096, AUTHKIT_PASSWORD_TOO_LONG},
    };
    static char pw[4096];
    memset(pw, 0xaa, sizeof pw);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char id[32], h[AUTHKIT_HASH_SIZE];
        snprintf(id, sizeof id, "%zu (len %zu)", i, rows[i].len);
        memset(h, 'z', sizeof h);
        CHECK_ROW_STATUS(id, authkit_password_check_bytes(pw, rows[i].len), rows[i].want);
        CHECK_ROW_STATUS(id, authkit_password_hash(pw, rows[i].len, 4, h), rows[i].want);
        if (rows[i].want == AUTHKIT_OK) {
            CHECK_ROW_STATUS(id, authkit_password_verify(pw, rows[i].len, h), AUTHKIT_OK);
        } else {
            CHECK_MSG(h[0] == '\0', "row %s: out not emptied", id);
            CHECK_ROW_STATUS(id, authkit_password_verify(pw, rows[i].len, test_hash_a),
                             rows[i].want);
        }
    }

    /* Bytes past 72 are never dropped silently: the prefix's hash does not let the
     * longer password in. */
    char pw80[80], h72[AUTHKIT_HASH_SIZE];
    memcpy(pw80, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!!!!!!!!",
           80);
    CHECK_STATUS(authkit_password_hash(pw80, 80, 4, h72), AUTHKIT_PASSWORD_TOO_LONG);
    CHECK_OK(authkit_password_hash(pw80, 72, 4, h72));
    CHECK_OK(authkit_password_verify(pw80, 72, h72));
    CHECK_STATUS(authkit_password_verify(pw80, 80, h72), AUTHKIT_PASSWORD_TOO_LONG);
}

static void test_nul(void) {
    static const struct {
        const char *id;
        const char *pw;
        size_t len;
    } rows[] = {
        {"N1 abc\\0def", "abc\0def", 7},
        {"N2 leading", "\0abc", 4},
        {"N3 trailing", "abc\0", 4},
        {"N4 only", "\0", 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char h[AUTHKIT_HASH_SIZE];
        const char *id = rows[i].id;
        CHECK_ROW_STATUS(id, authkit_password_check_bytes(rows[i].pw, rows[i].len),
                         AUTHKIT_PASSWORD_HAS_NUL);
        CHECK_ROW_STATUS(id, authkit_password_hash(rows[i].pw, rows[i].len, 4, h),
                         AUTHKIT_PASSWORD_HAS_NUL);
        CHECK_ROW_STATUS(id, authkit_password_verify(rows[i].pw, rows[i].len, test_hash_a),
                         AUTHKIT_PASSWORD_HAS_NUL);
        CHECK_ROW_STATUS(id, authkit__bcrypt_crypt(rows[i].pw, rows[i].len, test_hash_a, h),
                         AUTHKIT_INVALID_ARGUMENT);
    }
    /* The hash of the part before the NUL does not let the whole input in. */
    char h[AUTHKIT_HASH_SIZE];
    CHECK_OK(authkit_password_hash("abc\0def", 3, 4, h));
    CHECK_STATUS(authkit_password_verify("abc\0def", 7, h), AUTHKIT_PASSWORD_HAS_NUL);
}

static void test_costs(void) {
    static const struct {
        int cost;
        authkit_status want;
    } rows[] = {
        {-1, AUTHKIT_INVALID_ARGUMENT},
        {0, AUTHKIT_INVALID_ARGUMENT},
        {3, AUTHKIT_INVALID_ARGUMENT},
        {4, AUTHKIT_OK},
        {5, AUTHKIT_OK},
        {32, AUTHKIT_INVALID_ARGUMENT},
        {99, AUTHKIT_INVALID_ARGUMENT},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char id[32], h[AUTHKIT_HASH_SIZE], want_prefix[8];
        snprintf(id, sizeof id, "%zu (cost %d)", i, rows[i].cost);
        CHECK_ROW_STATUS(id, authkit_password_hash("pw", 2, rows[i].cost, h), rows[i].want);
        CHECK_ROW_STATUS(id, authkit__bcrypt_dummy_hash(rows[i].cost, h), rows[i].want);
        if (rows[i].want == AUTHKIT_OK) {
            snprintf(want_prefix, sizeof want_prefix, "$2b$%02d$", rows[i].cost);
            CHECK_MSG(strncmp(h, want_prefix, 7) == 0, "row %s: dummy \"%s\"", id, h);
        }
    }
}

static void test_needs_rehash(void) {
    static const struct {
        const char *id;
        const char *hash;
        int cost;
        bool want;
    } rows[] = {
        {"R1 same $2b$", "$2b$12$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", 12, false},
        {"R2 $2a$", "$2a$12$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", 12, true},
        {"R3 $2y$", "$2y$12$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", 12, true},
        {"R4 lower", "$2b$10$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", 12, true},
        {"R5 higher", "$2b$13$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", 12, true},
        {"R6 malformed", "$2b$12$incorrect", 12, true},
        {"R7 $2x$", "$2x$12$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", 12, true},
        {"R8 empty", "", 12, true},
        {"R9 NULL", NULL, 12, true},
        {"R10 same 04", "$2b$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", 4, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        CHECK_MSG(authkit_password_needs_rehash(rows[i].hash, rows[i].cost) == rows[i].want,
                  "row %zu (%s): needs_rehash != %d", i, rows[i].id, rows[i].want);
    }
}

static void test_dummy(void) {
    char d[AUTHKIT_HASH_SIZE], d2[AUTHKIT_HASH_SIZE];
    CHECK_OK(authkit__bcrypt_dummy_hash(4, d));
    CHECK_OK(authkit__bcrypt_dummy_hash(4, d2));
    CHECK_MSG(authkit__bcrypt_hash_acceptable(d), "dummy \"%s\" not acceptable", d);
    CHECK(strncmp(d, "$2b$04$", 7) == 0);
    CHECK(strcmp(d, d2) != 0);

    uint64_t before = authkit__bcrypt_runs();
    CHECK_STATUS(authkit_password_verify("password", 8, d), AUTHKIT_MISMATCH);
    CHECK_INT(authkit__bcrypt_runs() - before, 1);
    before = authkit__bcrypt_runs();
    CHECK_STATUS(authkit_password_verify("", 0, d), AUTHKIT_MISMATCH);
    CHECK_INT(authkit__bcrypt_runs() - before, 1);

    /* A real hash costs the same one run; refusals before bcrypt cost none. */
    char h[AUTHKIT_HASH_SIZE];
    before = authkit__bcrypt_runs();
    CHECK_OK(authkit_password_hash("pw", 2, 4, h));
    CHECK_INT(authkit__bcrypt_runs() - before, 1);
    before = authkit__bcrypt_runs();
    CHECK_OK(authkit_password_verify("pw", 2, h));
    CHECK_STATUS(authkit_password_verify("pX", 2, h), AUTHKIT_MISMATCH);
    CHECK_INT(authkit__bcrypt_runs() - before, 2);
    before = authkit__bcrypt_runs();
    CHECK_STATUS(authkit_password_verify("pw", 2,
                                         "$2x$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/"
                                         "TXg5uZV.0P.uO8m3YEm"),
                 AUTHKIT_INVALID_HASH);
    CHECK_STATUS(authkit_password_verify("pw\0", 3, h), AUTHKIT_PASSWORD_HAS_NUL);
    CHECK_INT(authkit__bcrypt_runs() - before, 0);
}

static void test_null_arguments(void) {
    char h[AUTHKIT_HASH_SIZE];
    CHECK_STATUS(authkit_password_check_bytes(NULL, 1), AUTHKIT_INVALID_ARGUMENT);
    CHECK_OK(authkit_password_check_bytes(NULL, 0));
    CHECK_STATUS(authkit_password_hash(NULL, 5, 4, h), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_password_hash("pw", 2, 4, NULL), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_password_verify(NULL, 5, test_hash_a), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_password_verify("pw", 2, NULL), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit_password_verify(NULL, 0, NULL), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit__bcrypt_crypt(NULL, 5, test_hash_a, h), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit__bcrypt_crypt("pw", 2, NULL, h), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit__bcrypt_crypt("pw", 2, test_hash_a, NULL), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit__bcrypt_dummy_hash(4, NULL), AUTHKIT_INVALID_ARGUMENT);
    CHECK(!authkit__bcrypt_hash_acceptable(NULL));
    CHECK_INT(authkit__bcrypt_cost(NULL), -1);
    CHECK(authkit_password_needs_rehash(NULL, 4));
    /* The raw primitive only runs bcrypt: an empty or foreign setting would pick DES. */
    CHECK_STATUS(authkit__bcrypt_crypt("pw", 2, "", h), AUTHKIT_INVALID_HASH);
    CHECK_STATUS(authkit__bcrypt_crypt("pw", 2, "ab", h), AUTHKIT_INVALID_HASH);
    CHECK_STATUS(authkit__bcrypt_crypt("pw", 2, "$1$saltsalt$", h), AUTHKIT_INVALID_HASH);
    CHECK_STATUS(authkit__bcrypt_crypt("pw", 2, "$2b$99$CCCCCCCCCCCCCCCCCCCCC.", h),
                 AUTHKIT_INVALID_HASH);
}

int main(void) {
    /* No sodium_init here: the password functions must work without a context having
     * initialised libsodium. */
    test_vectors();
    test_refuse_file();
    test_shape();
    test_hash_and_verify();
    test_default_cost();
    test_distinct_salts();
    test_lengths();
    test_nul();
    test_costs();
    test_needs_rehash();
    test_dummy();
    test_null_arguments();
    return check_done("password");
}
