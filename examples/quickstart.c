/* The quick start: on ./authkit.db (or AUTHKIT_DATABASE_URL), create a user, log in,
 * validate the token, log out, and show that the token no longer works. */
#include <authkit.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *step, const authkit_error *err) {
    fprintf(stderr, "%s failed: %s (%s)\n", step, err->message, authkit_status_name(err->status));
    return 1;
}

static int print_event(const authkit_event *ev, void *arg) {
    (void)arg;
    printf("   event: %s user=%s%s%s\n", authkit_event_name(ev->type),
           ev->user_id ? ev->user_id : "-", ev->session_id ? " session=" : "",
           ev->session_id ? ev->session_id : "");
    return 0;
}

int main(void) {
    char secret[64];
    const char *url = getenv("AUTHKIT_DATABASE_URL");
    const char *env_secret = getenv("AUTHKIT_SESSION_SECRET");
    if (sodium_init() < 0)
        return 1;
    if (!env_secret) {
        /* Stored sessions do not depend on the secret, so a fresh one per run is fine here;
         * a service keeps one in its configuration. */
        unsigned char raw[32];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2base64(secret, sizeof secret, raw, sizeof raw,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        env_secret = secret;
    }

    authkit_options opts;
    authkit_options_init(&opts);
    if (url)
        opts.database_url = url;
    opts.session_secret = env_secret;

    authkit_ctx *ctx;
    authkit_error err;
    printf("1. open %s\n", opts.database_url);
    if (authkit_open(&opts, &ctx, &err) != AUTHKIT_OK)
        return fail("open", &err);
    authkit_event_subscribe(ctx, AUTHKIT_EVENT_ALL, print_event, NULL, NULL);

    /* A random password each run, shown so that you can try it yourself. */
    char password[24];
    unsigned char raw[12];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(password, sizeof password, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);

    authkit_user user;
    if (authkit_user_get_by_username(ctx, "demo", &user, NULL) == AUTHKIT_OK) {
        printf("2. user demo exists (id %s): setting a new password\n", user.id);
        if (authkit_user_set_password(ctx, user.id, password, strlen(password), &err))
            return fail("set password", &err);
    } else {
        printf("2. create user demo <demo@example.com>\n");
        authkit_user_new in = {.email = "demo@example.com",
                               .username = "demo",
                               .password = password,
                               .password_len = strlen(password)};
        if (authkit_user_create(ctx, &in, &user, &err) != AUTHKIT_OK)
            return fail("create", &err);
    }
    printf("   password: %s (bcrypt, cost %d)\n", password, opts.bcrypt_cost);

    printf("3. log in as demo@example.com with a wrong password\n");
    authkit_login_result login;
    authkit_status st =
        authkit_authenticate(ctx, "demo@example.com", "wrong-password", 14, NULL, &login, &err);
    printf("   -> %s: %s\n", authkit_status_name(st), err.message);

    printf("4. log in as demo@example.com with the right password\n");
    if (authkit_authenticate(ctx, "demo@example.com", password, strlen(password), NULL, &login,
                             &err) != AUTHKIT_OK)
        return fail("login", &err);
    printf("   token %.6s... (43 characters; only its SHA-256 is stored)\n", login.token);

    printf("5. validate the token\n");
    authkit_user who;
    st = authkit_session_validate(ctx, login.token, &who, NULL, &err);
    printf("   -> %s: user %s <%s>\n", authkit_status_name(st), who.username, who.email);

    printf("6. log out\n");
    bool deleted;
    if (authkit_logout(ctx, login.token, &deleted, &err) != AUTHKIT_OK)
        return fail("logout", &err);
    printf("   -> session deleted: %s\n", deleted ? "yes" : "no");

    printf("7. validate the token again\n");
    st = authkit_session_validate(ctx, login.token, &who, NULL, &err);
    printf("   -> %s: %s\n", authkit_status_name(st), err.message);

    sodium_memzero(&login, sizeof login);
    sodium_memzero(password, sizeof password);
    authkit_close(ctx);
    printf("done.\n");
    return st == AUTHKIT_NOT_AUTHENTICATED ? 0 : 1;
}
