/* libFuzzer target for the token check in front of the store: authkit__token_well_formed
 * and authkit_session_validate / authkit_logout on real contexts (SQLite in memory, fixed
 * clock), one with stored sessions (opaque tokens) and one stateless (signed tokens).
 *
 * The input, as a C string, is the token, after two substitutions that let the fuzzer
 * reach the accepting paths: "{{token}}" becomes the opaque token of a live session and
 * "{{jwt}}" the signed token of a live stateless session, both issued at start-up. So
 * "x{{token}}", a truncated "{{jwt}}" and so on are near misses.
 *
 * Checks:
 *   - authkit__token_well_formed is true exactly for 43 characters of [A-Za-z0-9_-];
 *   - validate answers OK exactly for the live session's token, byte for byte (opaque
 *     tokens are looked up by digest; a signed token's MAC covers its exact text and its
 *     base64url must be canonical, so no other spelling passes), with that session's user
 *     and id; every other token is NOT_AUTHENTICATED, never another status;
 *   - logout of any other token deletes nothing, and the live sessions stay valid. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authkit.h"
#include "core/encoding.h"
#include "live_session.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct live stored, stateless;
static unsigned long runs;

static void fail(const char *what, const char *token) {
    fprintf(stderr, "fuzz_token: %s (token \"%.600s\")\n", what, token);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    live_open(&stored, true);
    live_open(&stateless, false);
    return 0;
}

static bool model_well_formed(const char *t) {
    size_t n = strlen(t);
    return n == 43 && strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789-_") == n;
}

static void check_validate(struct live *l, const char *token) {
    bool live = strcmp(token, l->login.token) == 0;
    authkit_user user;
    authkit_session_info info;
    authkit_error err;
    authkit_status st = authkit_session_validate(l->ctx, token, &user, &info, &err);
    if (st != (live ? AUTHKIT_OK : AUTHKIT_NOT_AUTHENTICATED))
        fail(live ? "the live token is refused" : "a token other than the live one: not 401",
             token);
    if (live &&
        (strcmp(user.id, l->login.user.id) != 0 || strcmp(info.id, l->login.session_id) != 0))
        fail("the live token gives another user or session", token);
    if (!live) {
        bool deleted = true;
        if (authkit_logout(l->ctx, token, &deleted, &err) != AUTHKIT_OK || deleted)
            fail("logout of a token other than the live one deleted something", token);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const struct live_mark marks[] = {{"{{token}}", stored.login.token},
                                      {"{{jwt}}", stateless.login.token}};
    size_t len;
    char *token = live_substitute(data, size, marks, 2, &len);
    if (authkit__token_well_formed(token) != model_well_formed(token))
        fail("authkit__token_well_formed disagrees with [A-Za-z0-9_-]{43}", token);
    check_validate(&stored, token);
    check_validate(&stateless, token);
    /* Now and then: the live sessions are still there (logout took nothing). */
    if (++runs % 4096 == 0) {
        check_validate(&stored, stored.login.token);
        check_validate(&stateless, stateless.login.token);
    }
    free(token);
    return 0;
}
