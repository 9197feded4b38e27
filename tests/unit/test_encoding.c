/* Encodings and identifiers: base64url (strict), UUIDs, tokens, times. */
#include "check.h"
#include "core/encoding.h"

#include <time.h>

int main(void) {
    /* RFC 4648 §10 vectors, in the URL-safe alphabet without padding. */
    static const struct {
        const char *bin, *text;
    } vectors[] = {
        {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        char text[32];
        uint8_t bin[32];
        size_t n = strlen(vectors[i].bin);
        authkit__b64url_encode(text, sizeof text, (const uint8_t *)vectors[i].bin, n);
        CHECK_MSG(strcmp(text, vectors[i].text) == 0, "row %zu: %s", i, text);
        long got =
            authkit__b64url_decode(bin, sizeof bin, vectors[i].text, strlen(vectors[i].text));
        CHECK_MSG(got == (long)n && memcmp(bin, vectors[i].bin, n) == 0, "row %zu", i);
    }
    /* Strictness: padding, whitespace, the standard alphabet, non-canonical final bits,
     * and every byte outside ASCII (Debian 12's libsodium would decode those as '_'). */
    const char *bad[] = {"Zg==", "Zm9v ", " Zm9v", "Zm9v+", "Zm9v/", "Zh", "Zm9=", "Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t bin[32];
        CHECK_MSG(authkit__b64url_decode(bin, sizeof bin, bad[i], strlen(bad[i])) < 0, "bad %zu",
                  i);
    }
    for (int c = 0x80; c <= 0xff; c++) {
        char text[3] = {(char)c, 'w', '\0'};
        uint8_t bin[4];
        CHECK_MSG(authkit__b64url_decode(bin, sizeof bin, text, 2) < 0, "byte 0x%02x", c);
    }
    uint8_t small[2];
    CHECK(authkit__b64url_decode(small, sizeof small, "Zm9v", 4) < 0); /* does not fit */

    /* UUIDs: version 4, variant 10, lower-case, distinct. */
    char a[AUTHKIT_UUID_SIZE], b[AUTHKIT_UUID_SIZE];
    authkit__uuid_v4(a);
    authkit__uuid_v4(b);
    CHECK(authkit__uuid_valid(a) && authkit__uuid_valid(b) && strcmp(a, b) != 0);
    CHECK(a[14] == '4' && strchr("89ab", a[19]) != NULL);
    const char *bad_ids[] = {"",
                             "00000000-0000-4000-8000-00000000000",
                             "00000000-0000-4000-8000-0000000000000",
                             "00000000-0000-4000-8000-00000000000G",
                             "00000000-0000-4000-8000-00000000000A",
                             "000000000000-4000-8000-000000000000"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++)
        CHECK_MSG(!authkit__uuid_valid(bad_ids[i]), "id %zu", i);
    CHECK(!authkit__uuid_valid(NULL));

    /* Tokens: 43 characters of the alphabet, from 32 random bytes. */
    char t1[44], t2[44];
    authkit__token_new(t1);
    authkit__token_new(t2);
    CHECK_INT(strlen(t1), 43);
    CHECK(authkit__token_well_formed(t1) && strcmp(t1, t2) != 0);
    uint8_t raw[33];
    CHECK_INT(authkit__b64url_decode(raw, sizeof raw, t1, 43), 32);
    CHECK(!authkit__token_well_formed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    CHECK(!authkit__token_well_formed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+"));

    /* Times: ISO-8601 UTC with microseconds. */
    char iso[32];
    authkit__time_iso8601(iso, 0);
    CHECK_STR(iso, "1970-01-01T00:00:00.000000Z");
    authkit__time_iso8601(iso, 1300819380LL * 1000000 + 42);
    CHECK_STR(iso, "2011-03-22T18:43:00.000042Z");
    authkit__time_iso8601(iso, -1);
    CHECK_STR(iso, "1969-12-31T23:59:59.999999Z");
    authkit__time_iso8601(iso, 951782400LL * 1000000); /* a leap day of a 400th year */
    CHECK_STR(iso, "2000-02-29T00:00:00.000000Z");
    authkit__time_iso8601(iso, 4107542399LL * 1000000 + 999999); /* 2100 is not leap */
    CHECK_STR(iso, "2100-02-28T23:59:59.999999Z");
    authkit__time_iso8601(iso, 253402300799LL * 1000000);
    CHECK_STR(iso, "9999-12-31T23:59:59.000000Z");
    authkit__time_iso8601(iso, 253402300800LL * 1000000);
    CHECK_STR(iso, "10000-01-01T00:00:00.000000Z");
    /* Against gmtime_r + strftime over 200,000 instants from 1900 to 2400. */
    uint64_t x = 88172645463325252ULL;
    int mismatches = 0;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        long long secs = -2208988800LL + (long long)(x % 15778800000ULL);
        long micros = (long)((x >> 40) % 1000000);
        time_t tt = (time_t)secs;
        struct tm tm;
        char want[40];
        gmtime_r(&tt, &tm);
        size_t n = strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(want + n, sizeof want - n, ".%06ldZ", micros);
        authkit__time_iso8601(iso, secs * 1000000 + micros);
        mismatches += strcmp(iso, want) != 0;
    }
    CHECK_INT(mismatches, 0);
    return check_done("encoding");
}
