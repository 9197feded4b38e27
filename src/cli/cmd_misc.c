/* The small commands: hash, verify, secret, migrate, version. Only migrate opens the
 * database; the others need neither it nor the session secret. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "password/bcrypt.h"

/* Bytes of a generated session secret: 256 bits, 43 base64url characters. */
#define SECRET_BYTES 32

static const char usage_hash[] =
    "usage: authkit hash [--cost N]\n"
    "Prints the bcrypt ($2b$) hash of a password, prompted for twice without echo on a\n"
    "terminal or read as one line of standard input. --cost defaults to the configured\n"
    "bcrypt cost (AUTHKIT_BCRYPT_COST, else 12); 4..31. Needs no database and no secret.\n";
static const char usage_verify[] =
    "usage: authkit verify <hash>\n"
    "Checks a password (prompted for without echo on a terminal, or one line of standard\n"
    "input) against a bcrypt hash ($2a$, $2b$ or $2y$; quote it: it contains '$').\n"
    "Exit status 0 when it matches, 1 when it does not.\n";
static const char usage_secret[] =
    "usage: authkit secret\n"
    "Prints a new random session secret (32 bytes from libsodium, 43 base64url characters).\n"
    "Keep it out of the command line: put it in .env or the environment, e.g.\n"
    "  echo \"AUTHKIT_SESSION_SECRET=$(authkit secret)\" >> .env\n";
static const char usage_migrate[] =
    "usage: authkit migrate [--database URL]\n"
    "Creates the database or brings its schema up to date (numbered migrations).\n"
    "Needs AUTHKIT_SESSION_SECRET like every command that opens the database.\n";
static const char usage_version[] = "usage: authkit version\n"
                                    "Prints the versions of authkit and libsodium.\n";

/* Commands without options or arguments beyond --help. */
static bool no_arguments(const char *cmd, const char *use, int argc, char **argv, int *status) {
    size_t n_pos;
    return authkit_cli_parse(cmd, use, argc, argv, NULL, 0, NULL, 0, &n_pos, status);
}

/* hash and verify open no context, so they run authkit_open's bcrypt self-test
 * themselves: a libxcrypt that gives wrong answers must not print a hash that no sound
 * build verifies, or a match that is not one. Before the password is read: nobody types
 * a password into a program that cannot use it. Returns 0, or the exit status after
 * printing why. */
static int bcrypt_selftest(const char *cmd) {
    authkit_error err;
    authkit_status st = authkit__bcrypt_selftest(&err);
    return st == AUTHKIT_OK ? AUTHKIT_EXIT_OK : authkit_cli_fail(cmd, st, &err);
}

int authkit_cmd_hash(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "hash";
    const char *cost_s = NULL;
    const struct authkit_cli_option opts[] = {{"--cost", &cost_s, NULL}};
    size_t n_pos;
    int status;
    if (!authkit_cli_parse(cmd, usage_hash, argc, argv, opts, 1, NULL, 0, &n_pos, &status))
        return status;
    long cost = cfg->lib.bcrypt_cost;
    if (cost_s && !authkit_cli_number(cmd, "--cost", cost_s, AUTHKIT_BCRYPT_COST_MIN,
                                      AUTHKIT_BCRYPT_COST_MAX, &cost))
        return AUTHKIT_EXIT_USAGE;
    if ((status = bcrypt_selftest(cmd)) != AUTHKIT_EXIT_OK)
        return status;
    struct authkit_cli_password pw;
    status = authkit_cli_read_password(cmd, true, &pw);
    if (status == 0) {
        char hash[AUTHKIT_HASH_SIZE];
        authkit_status st = authkit_password_hash(pw.buf, pw.len, (int)cost, hash);
        if (st != AUTHKIT_OK)
            status = authkit_cli_fail(cmd, st, NULL);
        else
            printf("%s\n", hash);
    }
    authkit_cli_password_wipe(&pw);
    return status;
}

int authkit_cmd_verify(struct authkit_config *cfg, int argc, char **argv) {
    (void)cfg;
    const char *cmd = "verify";
    const char *hash[1];
    size_t n_pos;
    int status;
    if (!authkit_cli_parse(cmd, usage_verify, argc, argv, NULL, 0, hash, 1, &n_pos, &status))
        return status;
    if (n_pos != 1) {
        return authkit_cli_usage_error(cmd, "which hash? give it as the argument");
    }
    if ((status = bcrypt_selftest(cmd)) != AUTHKIT_EXIT_OK)
        return status;
    struct authkit_cli_password pw;
    status = authkit_cli_read_password(cmd, false, &pw);
    if (status == 0) {
        authkit_status st = authkit_password_verify(pw.buf, pw.len, hash[0]);
        if (st == AUTHKIT_OK) {
            printf("password matches\n");
        } else if (st == AUTHKIT_MISMATCH) {
            authkit_cli_error(cmd, "password does not match");
            status = AUTHKIT_EXIT_FAILURE;
        } else if (st == AUTHKIT_INVALID_HASH) {
            authkit_cli_error(cmd, "not a hash this program accepts (bcrypt $2a$, $2b$ or $2y$, "
                                   "cost 4..31, 60 characters); no match");
            status = AUTHKIT_EXIT_FAILURE;
        } else {
            status = authkit_cli_fail(cmd, st, NULL);
        }
    }
    authkit_cli_password_wipe(&pw);
    return status;
}

int authkit_cmd_secret(struct authkit_config *cfg, int argc, char **argv) {
    (void)cfg;
    int status;
    if (!no_arguments("secret", usage_secret, argc, argv, &status))
        return status;
    unsigned char raw[SECRET_BYTES];
    char text[sodium_base64_ENCODED_LEN(SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(text, sizeof text, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    printf("%s\n", text);
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(text, sizeof text);
    return AUTHKIT_EXIT_OK;
}

int authkit_cmd_migrate(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "migrate";
    int status;
    if (!no_arguments(cmd, usage_migrate, argc, argv, &status))
        return status;
    authkit_ctx *ctx;
    if ((status = authkit_cli_open(cmd, cfg, &ctx)) != 0)
        return status;
    authkit_close(ctx);
    char url[sizeof cfg->database_url];
    authkit_cli_redact_url(url, sizeof url, cfg->database_url);
    printf("database %s: schema is current\n", url);
    return AUTHKIT_EXIT_OK;
}

int authkit_cmd_version(struct authkit_config *cfg, int argc, char **argv) {
    (void)cfg;
    int status;
    if (!no_arguments("version", usage_version, argc, argv, &status))
        return status;
    printf("authkit %s\n", AUTHKIT_VERSION_STRING);
    printf("libsodium %s\n", sodium_version_string());
    return AUTHKIT_EXIT_OK;
}
