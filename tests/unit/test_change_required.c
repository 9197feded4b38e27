/* Checklist 17: passwords do not expire, and a change is forced only on evidence of
 * compromise - an operator's authkit_user_require_password_change(). The flag ends every
 * session; the right password then gets AUTHKIT_PASSWORD_CHANGE_REQUIRED and no session
 * until a new password that the policy accepts comes with it; a wrong one is an ordinary
 * failure; any new password clears the flag. Runs in stored and in stateless mode. */
#include <sodium.h>

#include "check.h"
#include "fixture.h"

#define PW     "sleet over the quay"
#define NEW_PW "granite under the moss 41"
#define DAY    86400LL

static struct fixture f;

/* The last login_failed event and the last password_change_required event. */
static struct {
    int failed, flagged, changed;
    char reason[48];
    char user_id[AUTHKIT_UUID_SIZE];
    size_t count;
} ev;

static int on_event(const authkit_event *e, void *arg) {
    (void)arg;
    if (e->type == AUTHKIT_EVENT_LOGIN_FAILED) {
        ev.failed++;
        snprintf(ev.reason, sizeof ev.reason, "%s", e->reason ? e->reason : "");
    } else if (e->type == AUTHKIT_EVENT_PASSWORD_CHANGE_REQUIRED) {
        ev.flagged++;
        snprintf(ev.user_id, sizeof ev.user_id, "%s", e->user_id ? e->user_id : "");
        ev.count = e->count;
    } else if (e->type == AUTHKIT_EVENT_PASSWORD_CHANGED) {
        ev.changed++;
    }
    return 0;
}

static void open_mode(bool stateless) {
    memset(&ev, 0, sizeof ev);
    fixture_options(&f);
    f.opts.enable_session_storage = !stateless;
    fixture_open(&f);
    CHECK_OK(authkit_event_subscribe(f.ctx, AUTHKIT_EVENT_ALL, on_event, NULL, NULL));
}

static authkit_status login_with(const char *name, const char *password, const char *fresh,
                                 authkit_login_result *r, authkit_error *err) {
    authkit_session_opts opts = {
        .ip = "192.0.2.1", .new_password = fresh, .new_password_len = fresh ? strlen(fresh) : 0};
    return authkit_authenticate(f.ctx, name, password, strlen(password), &opts, r, err);
}

static bool valid(const char *token) {
    authkit_user u;
    return authkit_session_validate(f.ctx, token, &u, NULL, NULL) == AUTHKIT_OK;
}

static bool flagged(const char *id) {
    authkit_user u;
    CHECK_OK(authkit_user_get_by_id(f.ctx, id, &u, NULL));
    return u.password_change_required;
}

/* A password that is 400 days old still logs in: nothing ages a password. */
static void test_no_expiry(bool stateless) {
    open_mode(stateless);
    authkit_user u = fixture_user(&f, "old_pw", PW);
    fixture_advance(&f, 400 * DAY);
    authkit_login_result r;
    CHECK_OK(login_with("old_pw", PW, NULL, &r, NULL));
    CHECK(valid(r.token));
    CHECK(authkit_now(f.ctx) - r.user.password_changed_at >= 400 * DAY * 1000000);
    CHECK_INT(r.user.password_changed_at, u.password_changed_at);
    CHECK(!r.user.password_change_required);
    fixture_teardown(&f);
}

/* Flagging ends the sessions made so far; the right password is then refused with its
 * own status, without a session; a wrong one is the ordinary failure. */
static void test_flag(bool stateless) {
    open_mode(stateless);
    authkit_user u = fixture_user(&f, "phished", PW);
    CHECK(!u.password_change_required);
    authkit_login_result a, b;
    CHECK_OK(login_with("phished", PW, NULL, &a, NULL));
    CHECK_OK(login_with("phished", PW, NULL, &b, NULL));
    fixture_advance(&f, 1);
    authkit_time before = authkit_now(f.ctx);
    CHECK_OK(authkit_user_require_password_change(f.ctx, u.id, NULL));
    CHECK(!valid(a.token));
    CHECK(!valid(b.token));
    CHECK(flagged(u.id));
    CHECK_INT(ev.flagged, 1);
    CHECK_STR(ev.user_id, u.id);
    CHECK_INT(ev.count, stateless ? 0 : 2);
    size_t live = 99;
    CHECK_OK(authkit_session_count(f.ctx, &live, NULL));
    CHECK_INT(live, 0);
    authkit_user now_u;
    CHECK_OK(authkit_user_get_by_id(f.ctx, u.id, &now_u, NULL));
    CHECK_INT(now_u.updated_at, before);
    CHECK_INT(now_u.password_changed_at, u.password_changed_at);

    fixture_advance(&f, 1);
    authkit_login_result r;
    authkit_error err;
    memset(&r, 0x5a, sizeof r);
    CHECK_STATUS(login_with("phished", PW, NULL, &r, &err), AUTHKIT_PASSWORD_CHANGE_REQUIRED);
    CHECK_INT(err.status, AUTHKIT_PASSWORD_CHANGE_REQUIRED);
    CHECK_STR(err.field, "new_password");
    CHECK_STR(r.token, "");
    CHECK_STR(r.session_id, "");
    CHECK_INT(authkit_status_http(AUTHKIT_PASSWORD_CHANGE_REQUIRED), 403);
    CHECK_OK(authkit_session_count(f.ctx, &live, NULL));
    CHECK_INT(live, 0);
    CHECK_INT(ev.failed, 1);
    CHECK_STR(ev.reason, "password_change_required");
    /* By email too; and a wrong password is just wrong. */
    CHECK_STATUS(login_with("phished@example.com", PW, NULL, &r, NULL),
                 AUTHKIT_PASSWORD_CHANGE_REQUIRED);
    CHECK_STATUS(login_with("phished", "sleet over the quai", NULL, &r, &err),
                 AUTHKIT_AUTHENTICATION);
    CHECK_STR(err.field, "");
    CHECK_STR(ev.reason, "wrong_password");
    /* A wrong password with a new one changes nothing either. */
    CHECK_STATUS(login_with("phished", "sleet over the quai", NEW_PW, &r, NULL),
                 AUTHKIT_AUTHENTICATION);
    CHECK(flagged(u.id));
    CHECK_INT(ev.changed, 0);
    /* A disabled flagged account: the right password is the ordinary failure. */
    authkit_user_update off = {.set_is_active = true, .is_active = false};
    CHECK_OK(authkit_user_update_fields(f.ctx, u.id, &off, NULL, NULL));
    CHECK_STATUS(login_with("phished", PW, NULL, &r, NULL), AUTHKIT_AUTHENTICATION);
    CHECK_STR(ev.reason, "inactive_user");
    CHECK_STATUS(login_with("phished", PW, NEW_PW, &r, NULL), AUTHKIT_AUTHENTICATION);
    CHECK(flagged(u.id));
    /* Unknown users. */
    CHECK_STATUS(
        authkit_user_require_password_change(f.ctx, "00000000-0000-4000-8000-000000000000", &err),
        AUTHKIT_NOT_FOUND);
    CHECK_STATUS(authkit_user_require_password_change(f.ctx, "nope", NULL), AUTHKIT_NOT_FOUND);
    CHECK_STATUS(authkit_user_require_password_change(f.ctx, NULL, NULL), AUTHKIT_NOT_FOUND);
    CHECK_STATUS(authkit_user_require_password_change(NULL, u.id, NULL), AUTHKIT_INVALID_ARGUMENT);
    fixture_teardown(&f);
}

/* The owner logs in with the new password: refusals by the policy keep the flag and the
 * old hash; an accepted one replaces the password, clears the flag and logs in. */
static void test_login_with_new_password(bool stateless) {
    open_mode(stateless);
    authkit_user u = fixture_user(&f, "owner", PW);
    CHECK_OK(authkit_user_require_password_change(f.ctx, u.id, NULL));
    fixture_advance(&f, 1);
    static const struct {
        const char *fresh;
        authkit_status want;
    } refused[] = {
        {"short", AUTHKIT_VALIDATION},             /* under the minimum length */
        {"password123", AUTHKIT_VALIDATION},       /* a common password */
        {"owner-owner-owner", AUTHKIT_VALIDATION}, /* the username */
        {PW, AUTHKIT_VALIDATION},                  /* the same as the current one */
        {"", AUTHKIT_VALIDATION},                  /* empty */
        {"0123456789012345678901234567890123456789012345678901234567890123456789abcd",
         AUTHKIT_PASSWORD_TOO_LONG},
    };
    authkit_login_result r;
    authkit_error err;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        authkit_status st = login_with("owner", PW, refused[i].fresh, &r, &err);
        CHECK_MSG(st == refused[i].want, "row %zu: %s", i, authkit_status_name(st));
        CHECK_MSG(strcmp(err.field, "new_password") == 0, "row %zu: field \"%s\"", i, err.field);
        CHECK_MSG(err.message[0] != '\0', "row %zu: no reason given", i);
        CHECK_MSG(r.token[0] == '\0', "row %zu: a token", i);
        CHECK_MSG(strcmp(ev.reason, "password_change_required") == 0, "row %zu: reason %s", i,
                  ev.reason);
        CHECK_MSG(flagged(u.id), "row %zu: the flag was cleared", i);
    }
    CHECK_INT(ev.changed, 0);
    /* The old hash is still the one stored: the old password is still right. */
    CHECK_STATUS(login_with("owner", PW, NULL, &r, NULL), AUTHKIT_PASSWORD_CHANGE_REQUIRED);
    authkit_user still;
    CHECK_OK(authkit_user_get_by_id(f.ctx, u.id, &still, NULL));
    CHECK_INT(still.password_changed_at, u.password_changed_at);
    /* NULL with a length is a misuse. */
    authkit_session_opts bad = {.new_password = NULL, .new_password_len = 3};
    CHECK_STATUS(authkit_authenticate(f.ctx, "owner", PW, strlen(PW), &bad, &r, NULL),
                 AUTHKIT_INVALID_ARGUMENT);

    fixture_advance(&f, 1);
    int failed = ev.failed;
    CHECK_OK(login_with("owner", PW, NEW_PW, &r, &err));
    CHECK(valid(r.token));
    CHECK(!r.user.password_change_required);
    CHECK_INT(r.user.password_changed_at, authkit_now(f.ctx));
    CHECK(!flagged(u.id));
    CHECK_INT(ev.changed, 1);
    CHECK_INT(ev.failed, failed);
    fixture_advance(&f, 1);
    CHECK_STATUS(login_with("owner", PW, NULL, &r, NULL), AUTHKIT_AUTHENTICATION);
    CHECK_OK(login_with("owner", NEW_PW, NULL, &r, NULL));
    CHECK(valid(r.token));
    fixture_teardown(&f);
}

/* An account that is not flagged ignores a new password: the login is the ordinary one
 * and the password stays. */
static void test_unflagged_ignores_new_password(void) {
    open_mode(false);
    fixture_user(&f, "calm", PW);
    authkit_login_result r;
    CHECK_OK(login_with("calm", PW, NEW_PW, &r, NULL));
    CHECK(valid(r.token));
    CHECK_INT(ev.changed, 0);
    CHECK_OK(login_with("calm", PW, NULL, &r, NULL));
    CHECK_STATUS(login_with("calm", NEW_PW, NULL, &r, NULL), AUTHKIT_AUTHENTICATION);
    fixture_teardown(&f);
}

/* An operator's new password clears the flag too. */
static void test_set_password_clears(void) {
    open_mode(false);
    authkit_user u = fixture_user(&f, "reset", PW);
    CHECK_OK(authkit_user_require_password_change(f.ctx, u.id, NULL));
    CHECK_OK(authkit_user_set_password(f.ctx, u.id, NEW_PW, strlen(NEW_PW), NULL));
    CHECK(!flagged(u.id));
    authkit_login_result r;
    CHECK_OK(login_with("reset", NEW_PW, NULL, &r, NULL));
    /* Flagging twice is harmless and ends the new session. */
    CHECK_OK(authkit_user_require_password_change(f.ctx, u.id, NULL));
    CHECK_OK(authkit_user_require_password_change(f.ctx, u.id, NULL));
    CHECK(!valid(r.token));
    CHECK(flagged(u.id));
    fixture_teardown(&f);
}

/* The right password of a flagged account resets the account's throttling count like a
 * success: the owner's next attempt, with the new password, does not wait for typos. */
static void test_throttle_reset(void) {
    fixture_options(&f);
    f.opts.throttle_account_failures = 3;
    f.opts.throttle_pair_failures = 0;
    f.opts.throttle_address_failures = 0;
    fixture_open(&f);
    authkit_user u = fixture_user(&f, "typo", PW);
    CHECK_OK(authkit_user_require_password_change(f.ctx, u.id, NULL));
    authkit_login_result r;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 2; i++)
            CHECK_MSG(login_with("typo", "sleet over the quai", NULL, &r, NULL) ==
                          AUTHKIT_AUTHENTICATION,
                      "round %d, typo %d", round, i);
        CHECK_MSG(login_with("typo", PW, NULL, &r, NULL) == AUTHKIT_PASSWORD_CHANGE_REQUIRED,
                  "round %d", round);
    }
    CHECK_OK(login_with("typo", PW, NEW_PW, &r, NULL));
    fixture_teardown(&f);
}

int main(void) {
    if (sodium_init() < 0)
        return 1;
    for (int stateless = 0; stateless <= 1; stateless++) {
        test_no_expiry(stateless);
        test_flag(stateless);
        test_login_with_new_password(stateless);
    }
    test_unflagged_ignores_new_password();
    test_set_password_clears();
    test_throttle_reset();
    return check_done("test_change_required");
}
