/* HS256 tokens: the RFC 7515 A.1 vector, RFC 4231 HMAC vectors, round trips, and the
 * forgeries of checklist items 63-71 (alg confusion, crit, duplicates, key injection,
 * malformed structure, time claims). */
#include <sodium.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "core/encoding.h"
#include "session/jwt.h"

#define S         1000000LL /* microseconds per second */
#define TOKEN_MAX 8192

static const uint8_t test_key[] = "k3y-for-unit-tests-0123456789abcdefghijkl"; /* 41 chars */
#define TEST_KEY_LEN (sizeof test_key - 1)

static const uint8_t attacker_key[] = "attacker-chosen-key-0123456789abcdefghij";
#define ATTACKER_KEY_LEN (sizeof attacker_key - 1)

static const char sub_uuid[] = "3f1c2a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f";
static const char sid_uuid[] = "0a1b2c3d-4e5f-4061-8a7b-9c0d1e2f3a4b";

/* A fixed "now" for everything but the real-clock check: 2026-01-01T00:00:00Z + 0.25 s. */
static const authkit_time now_us = 1767225600LL * S + 250000;

static bool all_zero(const struct authkit__jwt_claims *c) {
    static const struct authkit__jwt_claims zero;
    return memcmp(c, &zero, sizeof zero) == 0;
}

/* Builds b64(header).b64(payload).b64(HMAC(key)) from raw JSON texts; `sig` overrides
 * the signature segment when not NULL. */
static void forge(char *out, size_t size, const char *header, const char *payload,
                  const uint8_t *key, size_t key_len, const char *sig) {
    size_t hl = strlen(header), pl = strlen(payload), n;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;

    if (AUTHKIT_B64URL_SIZE(hl) + AUTHKIT_B64URL_SIZE(pl) + 64 > size) {
        fprintf(stderr, "forge: buffer too small\n");
        abort();
    }
    authkit__b64url_encode(out, size, (const uint8_t *)header, hl);
    n = strlen(out);
    out[n++] = '.';
    authkit__b64url_encode(out + n, size - n, (const uint8_t *)payload, pl);
    n += strlen(out + n);
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)out, n);
    crypto_auth_hmacsha256_final(&st, mac);
    out[n++] = '.';
    if (sig)
        snprintf(out + n, size - n, "%s", sig);
    else
        authkit__b64url_encode(out + n, size - n, mac, sizeof mac);
}

static size_t hex_decode(uint8_t *out, size_t size, const char *hex) {
    size_t n = 0;
    if (sodium_hex2bin(out, size, hex, strlen(hex), NULL, &n, NULL) != 0)
        return 0;
    return n;
}

/* Reads "name<TAB>value" lines of `path` (skipping '#' comments) into `value`. */
static bool testdata_get(const char *path, const char *name, char *value, size_t size) {
    char line[2048];
    bool found = false;
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    while (!found && fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab)
            continue;
        *tab = '\0';
        if (strcmp(line, name) != 0)
            continue;
        tab[strcspn(tab + 1, "\r\n") + 1] = '\0';
        snprintf(value, size, "%s", tab + 1);
        found = true;
    }
    fclose(f);
    return found;
}

static void test_rfc7515_a1(void) {
    const char *path = AUTHKIT_TESTDATA_DIR "/jwt-hs256-rfc7515-a1.txt";
    char token[512], key_hex[256], sig_hex[128], none_token[512];
    uint8_t key[128], sig[64], mac[crypto_auth_hmacsha256_BYTES], seg[64];
    size_t key_len, sig_len;
    struct authkit__jwt_claims c;
    const char *dot2;

    CHECK(testdata_get(path, "token", token, sizeof token));
    CHECK(testdata_get(path, "key_hex", key_hex, sizeof key_hex));
    CHECK(testdata_get(path, "signature_hex", sig_hex, sizeof sig_hex));
    CHECK(testdata_get(path, "alg_none_token", none_token, sizeof none_token));
    key_len = hex_decode(key, sizeof key, key_hex);
    sig_len = hex_decode(sig, sizeof sig, sig_hex);
    CHECK_INT(key_len, 64);
    CHECK_INT(sig_len, 32);
    CHECK_INT(strlen(token), 179);

    /* Valid until 1300819380 s exactly. */
    CHECK_OK(authkit__jwt_verify(key, key_len, token, 1300819379LL * S, &c));
    CHECK_INT(c.exp, 1300819380LL * S);
    CHECK_INT(c.iat, 0);
    CHECK_STR(c.sub, "");
    CHECK_STR(c.sid, "");
    CHECK_OK(authkit__jwt_verify(key, key_len, token, 1300819380LL * S - 1, &c));
    CHECK_STATUS(authkit__jwt_verify(key, key_len, token, 1300819380LL * S, &c),
                 AUTHKIT_NOT_AUTHENTICATED);
    CHECK(all_zero(&c));
    CHECK_STATUS(authkit__jwt_verify(key, key_len, token, (authkit_time)time(NULL) * S, &c),
                 AUTHKIT_NOT_AUTHENTICATED);
    CHECK(all_zero(&c));

    /* Our HMAC over "header.payload" is the published signature. */
    dot2 = strrchr(token, '.');
    CHECK(dot2 != NULL);
    if (dot2) {
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, key, key_len);
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)token, (size_t)(dot2 - token));
        crypto_auth_hmacsha256_final(&st, mac);
        CHECK(memcmp(mac, sig, sizeof mac) == 0);
        CHECK_INT(authkit__b64url_decode(seg, sizeof seg, dot2 + 1, strlen(dot2 + 1)), 32);
        CHECK(memcmp(seg, sig, 32) == 0);
    }

    CHECK_STATUS(authkit__jwt_verify(key, key_len, none_token, 1300819379LL * S, &c),
                 AUTHKIT_NOT_AUTHENTICATED);
    CHECK(all_zero(&c));

    /* Any single character of the signature changed. */
    if (dot2) {
        size_t off = (size_t)(dot2 + 1 - token);
        for (size_t i = off; i < strlen(token); i++) {
            char t2[512];
            snprintf(t2, sizeof t2, "%s", token);
            t2[i] = t2[i] == 'A' ? 'B' : 'A';
            CHECK_MSG(authkit__jwt_verify(key, key_len, t2, 1300819379LL * S, &c) ==
                          AUTHKIT_NOT_AUTHENTICATED,
                      "signature char %zu changed", i - off);
        }
    }
}

static void test_rfc4231(void) {
    const char *path = AUTHKIT_TESTDATA_DIR "/hmac-sha256-rfc4231.tsv";
    char line[1024];
    int rows = 0;
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        char *fields[4], *save = NULL;
        uint8_t key[256], data[256], want[32], got[32];
        size_t key_len, data_len;
        int nf = 0;
        crypto_auth_hmacsha256_state st;

        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\r\n")] = '\0';
        for (char *t = strtok_r(line, "\t", &save); t && nf < 4; t = strtok_r(NULL, "\t", &save))
            fields[nf++] = t;
        CHECK_MSG(nf == 4, "row %d: %d fields", rows, nf);
        if (nf != 4)
            continue;
        key_len = hex_decode(key, sizeof key, fields[1]);
        data_len = hex_decode(data, sizeof data, fields[2]);
        CHECK_MSG(key_len > 0 && data_len > 0, "row %d (case %s): bad hex", rows, fields[0]);
        CHECK_MSG(hex_decode(want, sizeof want, fields[3]) == 32, "row %d (case %s): mac hex", rows,
                  fields[0]);
        crypto_auth_hmacsha256_init(&st, key, key_len);
        crypto_auth_hmacsha256_update(&st, data, data_len);
        crypto_auth_hmacsha256_final(&st, got);
        CHECK_MSG(memcmp(got, want, 32) == 0, "row %d (case %s, %zu-byte key): HMAC differs", rows,
                  fields[0], key_len);
        if (strcmp(fields[0], "6") == 0 || strcmp(fields[0], "7") == 0)
            CHECK_MSG(key_len == 131, "row %d (case %s): key is %zu bytes", rows, fields[0],
                      key_len);
        rows++;
    }
    fclose(f);
    CHECK_INT(rows, 6);
}

static void test_round_trip(void) {
    struct row {
        const char *sub, *sid;
        authkit_time iat, exp, expect_exp;
    } rows[] = {
        {sub_uuid, sid_uuid, now_us - 123457, now_us + 3600 * S, now_us - 250000 + 3600 * S},
        {sub_uuid, sid_uuid, 1767225600LL * S, 1767225601LL * S, 1767225601LL * S},
        {sub_uuid, "", 1767225599LL * S + 1, 1767225601LL * S + 999999, 1767225601LL * S},
        {"", "", 0, now_us + 1 * S, 1767225601LL * S},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct authkit__jwt_claims in, out;
        char tok[AUTHKIT_TOKEN_SIZE];
        memset(&in, 0, sizeof in);
        snprintf(in.sub, sizeof in.sub, "%s", rows[i].sub);
        snprintf(in.sid, sizeof in.sid, "%s", rows[i].sid);
        in.iat = rows[i].iat;
        in.exp = rows[i].exp;
        CHECK_MSG(authkit__jwt_sign(test_key, TEST_KEY_LEN, &in, tok, sizeof tok) == AUTHKIT_OK,
                  "row %zu: sign", i);
        CHECK_MSG(authkit__jwt_verify(test_key, TEST_KEY_LEN, tok, now_us, &out) == AUTHKIT_OK,
                  "row %zu: verify %s", i, tok);
        CHECK_MSG(strcmp(out.sub, rows[i].sub) == 0, "row %zu: sub \"%s\"", i, out.sub);
        CHECK_MSG(strcmp(out.sid, rows[i].sid) == 0, "row %zu: sid \"%s\"", i, out.sid);
        CHECK_MSG(out.iat == rows[i].iat, "row %zu: iat %lld, want %lld", i, (long long)out.iat,
                  (long long)rows[i].iat);
        CHECK_MSG(out.exp == rows[i].expect_exp, "row %zu: exp %lld, want %lld", i,
                  (long long)out.exp, (long long)rows[i].expect_exp);
    }
}

static void test_sign_arguments(void) {
    struct authkit__jwt_claims c;
    char tok[AUTHKIT_TOKEN_SIZE];
    size_t need;

    memset(&c, 0, sizeof c);
    memcpy(c.sub, sub_uuid, sizeof sub_uuid);
    memcpy(c.sid, sid_uuid, sizeof sid_uuid);
    c.iat = now_us;
    c.exp = now_us + 60 * S;
    CHECK_OK(authkit__jwt_sign(test_key, TEST_KEY_LEN, &c, tok, sizeof tok));
    need = strlen(tok) + 1;
    CHECK_OK(authkit__jwt_sign(test_key, TEST_KEY_LEN, &c, tok, need));
    CHECK_STATUS(authkit__jwt_sign(test_key, TEST_KEY_LEN, &c, tok, need - 1),
                 AUTHKIT_INVALID_ARGUMENT);
    CHECK_STR(tok, "");
    CHECK_STATUS(authkit__jwt_sign(test_key, TEST_KEY_LEN, &c, tok, 0), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit__jwt_sign(NULL, TEST_KEY_LEN, &c, tok, sizeof tok),
                 AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit__jwt_sign(test_key, 0, &c, tok, sizeof tok), AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit__jwt_sign(test_key, TEST_KEY_LEN, NULL, tok, sizeof tok),
                 AUTHKIT_INVALID_ARGUMENT);
    CHECK_STATUS(authkit__jwt_sign(test_key, TEST_KEY_LEN, &c, NULL, sizeof tok),
                 AUTHKIT_INVALID_ARGUMENT);
    /* Text that is not a UUID would have to be escaped: it is refused. */
    snprintf(c.sub, sizeof c.sub, "%s", "admin\",\"role\":\"root");
    CHECK_STATUS(authkit__jwt_sign(test_key, TEST_KEY_LEN, &c, tok, sizeof tok),
                 AUTHKIT_INVALID_ARGUMENT);

    /* The header is the fixed compact text. */
    memcpy(c.sub, sub_uuid, sizeof sub_uuid);
    CHECK_OK(authkit__jwt_sign(test_key, TEST_KEY_LEN, &c, tok, sizeof tok));
    CHECK(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37) == 0);

    struct authkit__jwt_claims out;
    memset(&out, 0xa5, sizeof out);
    CHECK_STATUS(authkit__jwt_verify(test_key, TEST_KEY_LEN, NULL, now_us, &out),
                 AUTHKIT_NOT_AUTHENTICATED);
    CHECK(all_zero(&out));
    CHECK_STATUS(authkit__jwt_verify(NULL, TEST_KEY_LEN, tok, now_us, &out),
                 AUTHKIT_NOT_AUTHENTICATED);
    CHECK_STATUS(authkit__jwt_verify(test_key, 0, tok, now_us, &out), AUTHKIT_NOT_AUTHENTICATED);
    CHECK_STATUS(authkit__jwt_verify(test_key, TEST_KEY_LEN, tok, now_us, NULL),
                 AUTHKIT_NOT_AUTHENTICATED);
}

/* Rebuilds `tok` with one bit of segment `seg`'s decoded bytes flipped. */
static void flip_bit(char *out, size_t size, const char *tok, int seg, size_t bit) {
    const char *start = tok;
    uint8_t raw[4096];
    long n;
    size_t len, prefix;
    for (int s = 0; s < seg; s++)
        start = strchr(start, '.') + 1;
    len = strcspn(start, ".");
    prefix = (size_t)(start - tok);
    n = authkit__b64url_decode(raw, sizeof raw, start, len);
    if (n <= 0 || bit / 8 >= (size_t)n) {
        snprintf(out, size, "%s", tok);
        return;
    }
    raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    memcpy(out, tok, prefix);
    authkit__b64url_encode(out + prefix, size - prefix, raw, (size_t)n);
    snprintf(out + strlen(out), size - strlen(out), "%s", start + len);
}

static void test_bit_flips(void) {
    struct authkit__jwt_claims c, out;
    char tok[AUTHKIT_TOKEN_SIZE], bad[AUTHKIT_TOKEN_SIZE];
    static const char *names[] = {"header", "payload", "signature"};

    memset(&c, 0, sizeof c);
    memcpy(c.sub, sub_uuid, sizeof sub_uuid);
    memcpy(c.sid, sid_uuid, sizeof sid_uuid);
    c.iat = now_us;
    c.exp = now_us + 600 * S;
    CHECK_OK(authkit__jwt_sign(test_key, TEST_KEY_LEN, &c, tok, sizeof tok));
    for (int seg = 0; seg < 3; seg++) {
        /* Every bit of the first bytes, then one bit in each later byte. */
        for (size_t bit = 0; bit < 8 * 32; bit += (bit < 64 ? 1 : 7)) {
            flip_bit(bad, sizeof bad, tok, seg, bit);
            if (strcmp(bad, tok) == 0)
                continue;
            memset(&out, 0xa5, sizeof out);
            CHECK_MSG(authkit__jwt_verify(test_key, TEST_KEY_LEN, bad, now_us, &out) ==
                          AUTHKIT_NOT_AUTHENTICATED,
                      "%s bit %zu flipped: accepted", names[seg], bit);
            CHECK_MSG(all_zero(&out), "%s bit %zu flipped: claims returned", names[seg], bit);
        }
    }
    /* The original still verifies, and only under its own key. */
    CHECK_OK(authkit__jwt_verify(test_key, TEST_KEY_LEN, tok, now_us, &out));
    CHECK_STATUS(authkit__jwt_verify(attacker_key, ATTACKER_KEY_LEN, tok, now_us, &out),
                 AUTHKIT_NOT_AUTHENTICATED);
    CHECK(all_zero(&out));
    CHECK_STATUS(authkit__jwt_verify(test_key, TEST_KEY_LEN - 1, tok, now_us, &out),
                 AUTHKIT_NOT_AUTHENTICATED);
}

static void test_expiry_edges(void) {
    struct authkit__jwt_claims c, out;
    char tok[AUTHKIT_TOKEN_SIZE];
    memset(&c, 0, sizeof c);
    memcpy(c.sub, sub_uuid, sizeof sub_uuid);
    c.exp = 1767229200LL * S; /* whole seconds */
    CHECK_OK(authkit__jwt_sign(test_key, TEST_KEY_LEN, &c, tok, sizeof tok));
    CHECK_STATUS(authkit__jwt_verify(test_key, TEST_KEY_LEN, tok, c.exp, &out),
                 AUTHKIT_NOT_AUTHENTICATED);
    CHECK(all_zero(&out));
    CHECK_STATUS(authkit__jwt_verify(test_key, TEST_KEY_LEN, tok, c.exp + 61 * S, &out),
                 AUTHKIT_NOT_AUTHENTICATED);
    CHECK_OK(authkit__jwt_verify(test_key, TEST_KEY_LEN, tok, c.exp - 1, &out));
    CHECK_INT(out.exp, c.exp);
}

/* Tokens with a correct HS256 MAC (under `key`) over the given header and payload. */
struct forged {
    const char *header;
    const char *payload;
    const uint8_t *key; /* NULL: test_key */
    size_t key_len;
    const char *sig; /* NULL: the real MAC */
    authkit_status expect;
};

#define OK_   AUTHKIT_OK
#define NO_   AUTHKIT_NOT_AUTHENTICATED
#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
/* exp 2026-01-01T01:00:00Z, one hour after now_us. */
#define PAYLOAD   "{\"sub\":\"3f1c2a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f\",\"exp\":1767229200}"
#define FAKE_SIG  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define AK        attacker_key, ATTACKER_KEY_LEN
#define EMPTY_KEY (const uint8_t *)"", 0

static const struct forged forged_rows[] = {
    /* Controls: the same machinery with a good header and payload verifies. */
    {HS256, PAYLOAD, NULL, 0, NULL, OK_},
    {"{\"alg\":\"HS256\"}", PAYLOAD, NULL, 0, NULL, OK_},
    {"{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}", PAYLOAD, NULL, 0, NULL, OK_},
    {"{\"alg\":\"HS256\",\"typ\":\"jwt\"}", PAYLOAD, NULL, 0, NULL, OK_},
    {" { \"alg\" : \"HS256\" } ", PAYLOAD, NULL, 0, NULL, OK_},
    /* alg none in any spelling, empty or plausible signature. */
    {"{\"alg\":\"none\"}", PAYLOAD, NULL, 0, "", NO_},
    {"{\"alg\":\"None\"}", PAYLOAD, NULL, 0, "", NO_},
    {"{\"alg\":\"NONE\"}", PAYLOAD, NULL, 0, "", NO_},
    {"{\"alg\":\"nOnE\"}", PAYLOAD, NULL, 0, "", NO_},
    {"{\"alg\":\"none\",\"typ\":\"JWT\"}", PAYLOAD, NULL, 0, FAKE_SIG, NO_},
    {"{\"alg\":\"none\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"None\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"NONE\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"nOnE\"}", PAYLOAD, NULL, 0, NULL, NO_},
    /* Other algorithms, even with a valid HS256 MAC. */
    {"{\"alg\":\"HS384\",\"typ\":\"JWT\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"HS512\",\"typ\":\"JWT\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"RS256\",\"typ\":\"JWT\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"hs256\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"HS256 \"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"HS256\\u0000\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"typ\":\"JWT\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":null}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":256}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":[\"HS256\"]}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{}", PAYLOAD, NULL, 0, NULL, NO_},
    /* crit, duplicates, typ, not an object, not JSON. */
    {"{\"alg\":\"HS256\",\"crit\":[\"x\"],\"x\":1}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"HS256\",\"crit\":[]}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"HS256\",\"alg\":\"HS256\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"none\",\"alg\":\"HS256\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"HS256\",\"typ\":5}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"HS256\",\"typ\":\"JWE\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"HS256\",\"typ\":\"\"}", PAYLOAD, NULL, 0, NULL, NO_},
    {"[\"HS256\"]", PAYLOAD, NULL, 0, NULL, NO_},
    {"\"HS256\"", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"HS256\"", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"HS256\"}x", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"HS256\"}\n{}", PAYLOAD, NULL, 0, NULL, NO_},
    {"{\"alg\":\"HS256\",\"x\":\"\xff\"}", PAYLOAD, NULL, 0, NULL, NO_},
    /* Key material named by the header is never used. */
    {"{\"alg\":\"HS256\",\"kid\":\"../../../../dev/null\"}", PAYLOAD, NULL, 0, NULL, OK_},
    {"{\"alg\":\"HS256\",\"kid\":\"../../../../dev/null\"}", PAYLOAD, EMPTY_KEY, NULL, NO_},
    {"{\"alg\":\"HS256\",\"kid\":\"../../../../dev/null\"}", PAYLOAD, AK, NULL, NO_},
    {"{\"alg\":\"HS256\",\"kid\":\"' OR '1'='1\"}", PAYLOAD, NULL, 0, NULL, OK_},
    {"{\"alg\":\"HS256\",\"kid\":\"' OR '1'='1\"}", PAYLOAD, EMPTY_KEY, NULL, NO_},
    {"{\"alg\":\"HS256\",\"jwk\":{\"kty\":\"oct\",\"k\":"
     "\"YXR0YWNrZXItY2hvc2VuLWtleS0wMTIzNDU2Nzg5YWJjZGVmZ2hpag\"}}",
     PAYLOAD, AK, NULL, NO_},
    {"{\"alg\":\"HS256\",\"jwk\":{\"kty\":\"oct\",\"k\":"
     "\"YXR0YWNrZXItY2hvc2VuLWtleS0wMTIzNDU2Nzg5YWJjZGVmZ2hpag\"}}",
     PAYLOAD, NULL, 0, NULL, OK_},
    {"{\"alg\":\"HS256\",\"jku\":\"https://attacker.example/jwks.json\"}", PAYLOAD, AK, NULL, NO_},
    {"{\"alg\":\"HS256\",\"x5u\":\"https://attacker.example/cert.pem\"}", PAYLOAD, AK, NULL, NO_},
    /* Payload: exp. */
    {HS256, "{\"sub\":\"3f1c2a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f\"}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":\"1767229200\"}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":true}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":null}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":1767229200,\"exp\":1767229200}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":1767229200.5}", NULL, 0, NULL, OK_},
    {HS256, "{\"exp\":1.7672292e9}", NULL, 0, NULL, OK_},
    {HS256, "{\"exp\":1767225600.25}", NULL, 0, NULL, NO_}, /* == now */
    {HS256, "{\"exp\":1767225600.250001}", NULL, 0, NULL, OK_},
    {HS256, "{\"exp\":1767225539}", NULL, 0, NULL, NO_}, /* 61 s ago */
    {HS256, "{\"exp\":9223372036854775807}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":1e300}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":-1e300}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":99999999999999999999999}", NULL, 0, NULL, NO_},
    /* nbf and iat. */
    {HS256, "{\"exp\":1767229200,\"nbf\":1767225720}", NULL, 0, NULL, NO_}, /* now + 120 s */
    {HS256, "{\"exp\":1767229200,\"nbf\":1767225600.250001}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":1767229200,\"nbf\":1767225600.25}", NULL, 0, NULL, OK_},
    {HS256, "{\"exp\":1767229200,\"nbf\":1767225000}", NULL, 0, NULL, OK_},
    {HS256, "{\"exp\":1767229200,\"nbf\":\"0\"}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":1767229200,\"iat\":1767225720}", NULL, 0, NULL, NO_}, /* now + 120 s */
    {HS256, "{\"exp\":1767229200,\"iat\":1767225660.250001}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":1767229200,\"iat\":1767225660.25}", NULL, 0, NULL, OK_},
    {HS256, "{\"exp\":1767229200,\"iat\":1767225630}", NULL, 0, NULL, OK_},
    {HS256, "{\"exp\":1767229200,\"iat\":\"now\"}", NULL, 0, NULL, NO_},
    /* sub and sid. */
    {HS256, "{\"exp\":1767229200,\"sub\":\"admin\"}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":1767229200,\"sub\":\"3F1C2A9E-8B7D-4C6E-9F10-2A3B4C5D6E7F\"}", NULL, 0, NULL,
     NO_},
    {HS256, "{\"exp\":1767229200,\"sub\":\"3f1c2a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f0\"}", NULL, 0, NULL,
     NO_},
    {HS256, "{\"exp\":1767229200,\"sub\":\"3f1c2a9e-8b7d-4c6e-9f10-2a3b4c5d6e7\"}", NULL, 0, NULL,
     NO_},
    {HS256, "{\"exp\":1767229200,\"sub\":123}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":1767229200,\"sub\":null}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":1767229200,\"sid\":\"../../etc/passwd\"}", NULL, 0, NULL, NO_},
    {HS256, "{\"exp\":1767229200,\"sid\":\"0a1b2c3d-4e5f-4061-8a7b-9c0d1e2f3a4b\"}", NULL, 0, NULL,
     OK_},
    /* Payload not an object. */
    {HS256, "[1767229200]", NULL, 0, NULL, NO_},
    {HS256, "1767229200", NULL, 0, NULL, NO_},
    {HS256, "", NULL, 0, NULL, NO_},
};

static void test_forged(void) {
    for (size_t i = 0; i < sizeof forged_rows / sizeof forged_rows[0]; i++) {
        const struct forged *r = &forged_rows[i];
        char tok[TOKEN_MAX];
        struct authkit__jwt_claims out;
        authkit_status st;
        forge(tok, sizeof tok, r->header, r->payload, r->key ? r->key : test_key,
              r->key ? r->key_len : TEST_KEY_LEN, r->sig);
        memset(&out, 0xa5, sizeof out);
        st = authkit__jwt_verify(test_key, TEST_KEY_LEN, tok, now_us, &out);
        CHECK_MSG(st == r->expect, "row %zu: %s for header %s payload %s", i,
                  authkit_status_name(st), r->header, r->payload);
        if (st != AUTHKIT_OK)
            CHECK_MSG(all_zero(&out), "row %zu: claims left after refusal", i);
    }
}

/* Copies `tmpl` with {h}, {p} and {s} replaced by the three segments. */
static void expand(char *out, size_t size, const char *tmpl, const char *h, const char *p,
                   const char *s) {
    size_t n = 0;
    out[0] = '\0';
    while (*tmpl && n + 1 < size) {
        const char *part = NULL;
        if (tmpl[0] == '{' && tmpl[1] && tmpl[2] == '}')
            part = tmpl[1] == 'h' ? h : tmpl[1] == 'p' ? p : tmpl[1] == 's' ? s : NULL;
        if (part) {
            n += (size_t)snprintf(out + n, size - n, "%s", part);
            if (n >= size)
                n = size - 1; /* truncated: the loop ends */
            tmpl += 3;
        } else {
            out[n++] = *tmpl++;
            out[n] = '\0';
        }
    }
}

static void test_structure(void) {
    struct authkit__jwt_claims c, out;
    char good[AUTHKIT_TOKEN_SIZE], h[128], p[256], s[64];
    memset(&c, 0, sizeof c);
    memcpy(c.sub, sub_uuid, sizeof sub_uuid);
    c.exp = now_us + 600 * S;
    CHECK_OK(authkit__jwt_sign(test_key, TEST_KEY_LEN, &c, good, sizeof good));
    sscanf(good, "%127[^.].%255[^.].%63s", h, p, s);

    struct {
        const char *tmpl; /* {h} header, {p} payload, {s} signature */
        authkit_status expect;
    } rows[] = {
        {"{h}.{p}.{s}", OK_},
        {"{h}=.{p}.{s}", NO_},
        {"{h}.{p}=.{s}", NO_},
        {"{h}.{p}.{s}=", NO_},
        {"{h}.{p}.{s}==", NO_},
        {"{h}.{p}.{s}.{s}", NO_},
        {"{h}.{p}.{s}.", NO_},
        {"{h}.{p}.{s}.x", NO_},
        {"{h}.{p}", NO_},
        {"{h}.{p}.", NO_},
        {".{h}.{p}.{s}", NO_},
        {"{h}..{p}.{s}", NO_},
        {".{p}.{s}", NO_},
        {"{h}..{s}", NO_},
        {"..", NO_},
        {"...", NO_},
        {".", NO_},
        {"", NO_},
        {" {h}.{p}.{s}", NO_},
        {"{h}.{p}.{s} ", NO_},
        {"{h}.{p}.{s}\n", NO_},
        {"{h}.{p}.{s}\r\n", NO_},
        {"{h}. {p}.{s}", NO_},
        {"{h}.{p}\n.{s}", NO_},
        {"{h}.{p}.\t{s}", NO_},
        {"{h}.{p}.{s}A", NO_},
        {"{h}.{p}.A{s}", NO_},
        {"Bearer {h}.{p}.{s}", NO_},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char tok[1024];
        expand(tok, sizeof tok, rows[i].tmpl, h, p, s);
        memset(&out, 0xa5, sizeof out);
        authkit_status st = authkit__jwt_verify(test_key, TEST_KEY_LEN, tok, now_us, &out);
        CHECK_MSG(st == rows[i].expect, "row %zu: %s for \"%s\"", i, authkit_status_name(st), tok);
        if (st != AUTHKIT_OK)
            CHECK_MSG(all_zero(&out), "row %zu: claims left after refusal", i);
    }

    /* Standard base64 ('+', '/') instead of base64url in the signature. */
    {
        char tok[AUTHKIT_TOKEN_SIZE];
        char *sig;
        bool changed = false;
        snprintf(tok, sizeof tok, "%s", good);
        sig = strrchr(tok, '.') + 1;
        for (char *q = sig; *q; q++) {
            if (*q == '-' || *q == '_') {
                *q = *q == '-' ? '+' : '/';
                changed = true;
            }
        }
        if (!changed)
            sig[0] = '+';
        CHECK_STATUS(authkit__jwt_verify(test_key, TEST_KEY_LEN, tok, now_us, &out),
                     AUTHKIT_NOT_AUTHENTICATED);
    }
}

/* Correctly MACed tokens around the 4096-character limit, and one of 5000 characters. */
static void test_length_limit(void) {
    static char tok[TOKEN_MAX], payload[TOKEN_MAX];
    size_t best_ok = 0, first_over = 0;
    struct authkit__jwt_claims out;

    for (size_t fill = 2900; fill < 3100; fill++) {
        size_t len;
        authkit_status st;
        snprintf(payload, sizeof payload, "{\"exp\":1767229200,\"pad\":\"%0*d\"}", (int)fill, 0);
        forge(tok, sizeof tok, HS256, payload, test_key, TEST_KEY_LEN, NULL);
        len = strlen(tok);
        st = authkit__jwt_verify(test_key, TEST_KEY_LEN, tok, now_us, &out);
        if (len <= 4096) {
            CHECK_MSG(st == AUTHKIT_OK, "fill %zu: %zu-char token refused", fill, len);
            best_ok = len;
        } else {
            CHECK_MSG(st == AUTHKIT_NOT_AUTHENTICATED, "fill %zu: %zu-char token accepted", fill,
                      len);
            if (!first_over)
                first_over = len;
        }
    }
    CHECK(best_ok >= 4094 && best_ok <= 4096);
    CHECK(first_over > 4096 && first_over <= 4099);

    for (size_t fill = 3600; fill < 3700; fill++) {
        snprintf(payload, sizeof payload, "{\"exp\":1767229200,\"pad\":\"%0*d\"}", (int)fill, 0);
        forge(tok, sizeof tok, HS256, payload, test_key, TEST_KEY_LEN, NULL);
        if (strlen(tok) == 5000)
            break;
    }
    CHECK_INT(strlen(tok), 5000);
    CHECK_STATUS(authkit__jwt_verify(test_key, TEST_KEY_LEN, tok, now_us, &out),
                 AUTHKIT_NOT_AUTHENTICATED);
    CHECK(all_zero(&out));

    /* Not a token at all, and no NUL within the first 4097 bytes. */
    memset(tok, 'A', 5000);
    tok[5000] = '\0';
    CHECK_STATUS(authkit__jwt_verify(test_key, TEST_KEY_LEN, tok, now_us, &out),
                 AUTHKIT_NOT_AUTHENTICATED);
}

int main(void) {
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    test_rfc7515_a1();
    test_rfc4231();
    test_round_trip();
    test_sign_arguments();
    test_bit_flips();
    test_expiry_edges();
    test_forged();
    test_structure();
    test_length_limit();
    return check_done("jwt");
}
