/* A program built against an installed libauthkit: open, create, log in, validate. */
#include <authkit.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    char url[512];
    snprintf(url, sizeof url, "sqlite://%s", argv[1]);
    authkit_options opts;
    authkit_options_init(&opts);
    opts.database_url = url;
    opts.session_secret = "installed-copy-secret-0123456789abcdef";
    opts.bcrypt_cost = 4;
    opts.cleanup_interval_ms = 0;
    authkit_ctx *ctx;
    authkit_error err;
    if (authkit_open(&opts, &ctx, &err) != AUTHKIT_OK) {
        fprintf(stderr, "open: %s\n", err.message);
        return 1;
    }
    const char *pw = "copy of the library, 42";
    authkit_user_new in = {.email = "i@example.com",
                           .username = "installed",
                           .password = pw,
                           .password_len = strlen(pw)};
    authkit_login_result r;
    authkit_user who;
    int rc = authkit_user_create(ctx, &in, NULL, &err) == AUTHKIT_OK &&
                     authkit_authenticate(ctx, "installed", pw, strlen(pw), NULL, &r, &err) ==
                         AUTHKIT_OK &&
                     authkit_session_validate(ctx, r.token, &who, NULL, &err) == AUTHKIT_OK
                 ? 0
                 : 1;
    if (rc)
        fprintf(stderr, "failed: %s\n", err.message);
    else
        printf("installed copy works: %s %s\n", AUTHKIT_VERSION_STRING, who.username);
    authkit_close(ctx);
    return rc;
}
