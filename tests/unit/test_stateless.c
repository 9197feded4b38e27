/* Stateless mode: signed HS256 tokens, no session rows, revocation by logout-all. */
#include <jansson.h>
#include <sodium.h>

#include "check.h"
#include "core/encoding.h"
#include "fixture.h"
#include "session/jwt.h"

#define PW "correct horse"

static struct fixture f;

static bool valid(const char *token) {
    authkit_user u;
    return authkit_session_validate(f.ctx, token, &u, NULL, NULL) == AUTHKIT_OK;
}

static authkit_login_result login(const char *name) {
    authkit_login_result r;
    authkit_error err;
    CHECK_MSG(authkit_authenticate(f.ctx, name, PW, strlen(PW), NULL, &r, &err) == AUTHKIT_OK, "%s",
              err.message);
    return r;
}

int main(void) {
    fixture_options(&f);
    f.opts.enable_session_storage = false;
    fixture_open(&f);
    authkit_user alice = fixture_user(&f, "alice", PW);
    authkit_user bob = fixture_user(&f, "bob", PW);

    authkit_login_result r = login("alice");
    int dots = 0;
    for (const char *p = r.token; *p; p++)
        dots += *p == '.';
    CHECK_INT(dots, 2);
    CHECK_INT(r.expires_at, atomic_load(&f.now) + 30LL * 60 * 1000000);
    authkit_user u;
    authkit_session_info s;
    CHECK_OK(authkit_session_validate(f.ctx, r.token, &u, &s, NULL));
    CHECK_STR(u.id, alice.id);
    CHECK_STR(s.id, r.session_id);
    CHECK_INT(s.expires_at, r.expires_at);
    CHECK_INT(fixture_query_int(&f, "SELECT count(*) FROM auth_sessions"), 0);

    /* The claims are what DESIGN.md says, signed with the secret. */
    struct authkit__jwt_claims c;
    CHECK_OK(authkit__jwt_verify((const uint8_t *)TEST_SECRET, strlen(TEST_SECRET), r.token,
                                 atomic_load(&f.now), &c));
    CHECK_STR(c.sub, alice.id);
    CHECK_STR(c.sid, r.session_id);
    CHECK_INT(c.iat, atomic_load(&f.now));

    /* Checklist 72: the payload (readable by anyone holding the token) carries only these
     * claims - no email, username, role or anything else about the user. */
    const char *dot1 = strchr(r.token, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    uint8_t payload[512];
    long plen = dot2 ? authkit__b64url_decode(payload, sizeof payload - 1, dot1 + 1,
                                              (size_t)(dot2 - dot1 - 1))
                     : -1;
    CHECK(plen > 0);
    json_t *claims = plen > 0 ? json_loadb((const char *)payload, (size_t)plen, 0, NULL) : NULL;
    CHECK(json_is_object(claims));
    const char *key;
    json_t *value;
    size_t n_claims = 0;
    json_object_foreach(claims, key, value) {
        CHECK_MSG(strcmp(key, "sub") == 0 || strcmp(key, "sid") == 0 || strcmp(key, "iat") == 0 ||
                      strcmp(key, "exp") == 0,
                  "unexpected claim \"%s\"", key);
        n_claims++;
    }
    CHECK_INT(n_claims, 4);
    json_decref(claims);

    /* Logout of one token is not possible; listing and revoking by id are not either. */
    bool deleted = true;
    CHECK_OK(authkit_logout(f.ctx, r.token, &deleted, NULL));
    CHECK(!deleted);
    CHECK(valid(r.token));
    authkit_session_info list[4];
    size_t n;
    CHECK_STATUS(authkit_session_list(f.ctx, alice.id, list, 4, &n, NULL), AUTHKIT_UNSUPPORTED);
    CHECK_STATUS(authkit_session_revoke(f.ctx, alice.id, r.session_id, NULL), AUTHKIT_UNSUPPORTED);

    /* Tampering, another key, a stored-mode token: refused. */
    char tampered[AUTHKIT_TOKEN_SIZE];
    memcpy(tampered, r.token, sizeof tampered);
    size_t len = strlen(tampered);
    tampered[len - 2] = tampered[len - 2] == 'A' ? 'B' : 'A';
    CHECK(!valid(tampered));
    struct authkit__jwt_claims forged = c;
    memcpy(forged.sub, bob.id, sizeof forged.sub);
    char other_key_token[AUTHKIT_TOKEN_SIZE];
    static const char other_secret[] = "another-secret-0123456789-abcdefghijkl";
    CHECK_OK(authkit__jwt_sign((const uint8_t *)other_secret, strlen(other_secret), &forged,
                               other_key_token, sizeof other_key_token));
    CHECK(!valid(other_key_token));
    CHECK(!valid("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    CHECK(!valid(""));

    /* Expiry follows exp. */
    fixture_advance(&f, 30 * 60 - 1);
    CHECK(valid(r.token));
    fixture_advance(&f, 1);
    CHECK(!valid(r.token));

    /* Logout-all refuses every token issued so far, the caller's too; later ones work. */
    authkit_login_result a1 = login("alice"), a2 = login("alice"), b1 = login("bob");
    size_t revoked = 99;
    CHECK_OK(authkit_logout_all(f.ctx, alice.id, &revoked, NULL));
    CHECK_INT(revoked, 0);
    CHECK(!valid(a1.token) && !valid(a2.token));
    CHECK(valid(b1.token));
    fixture_advance(&f, 1);
    authkit_login_result a3 = login("alice");
    CHECK(valid(a3.token));

    /* A password change, deactivation and deletion each end the user's tokens. */
    fixture_advance(&f, 1);
    CHECK_OK(authkit_user_set_password(f.ctx, alice.id, "a newer password", 16, NULL));
    CHECK(!valid(a3.token));
    authkit_login_result b2 = login("bob");
    authkit_user_update off = {.set_is_active = true, .is_active = false};
    CHECK_OK(authkit_user_update_fields(f.ctx, bob.id, &off, NULL, NULL));
    CHECK(!valid(b2.token));
    off.is_active = true;
    CHECK_OK(authkit_user_update_fields(f.ctx, bob.id, &off, NULL, NULL));
    CHECK(!valid(b2.token)); /* reactivation does not revive old tokens */
    fixture_advance(&f, 1);
    authkit_login_result b3 = login("bob");
    CHECK(valid(b3.token));
    CHECK_OK(authkit_user_delete(f.ctx, bob.id, NULL));
    CHECK(!valid(b3.token));
    CHECK_INT(fixture_query_int(&f, "SELECT count(*) FROM auth_sessions"), 0);

    fixture_teardown(&f);
    return check_done("stateless");
}
