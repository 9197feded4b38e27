/* The `authkit` program: reads the configuration, then runs one subcommand.
 *   authkit [options] <command> [args]
 * Exit statuses: 0 success, 1 failure, 2 usage error, 3 not found (commands.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli/commands.h"
#include "cli/common.h"

struct command {
    const char *name;
    int (*run)(struct authkit_config *cfg, int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"serve", authkit_cmd_serve, "run the HTTP auth service"},
    {"user", authkit_cmd_user, "add, list, show, set-password, disable, enable, delete users"},
    {"session", authkit_cmd_session, "list and revoke a user's sessions; delete expired ones"},
    {"audit", authkit_cmd_audit, "show the audit trail of logins, logouts and user changes"},
    {"hash", authkit_cmd_hash, "print the bcrypt hash of a password"},
    {"verify", authkit_cmd_verify, "check a password against a bcrypt hash"},
    {"secret", authkit_cmd_secret, "print a new random session secret"},
    {"migrate", authkit_cmd_migrate, "create or bring the database schema up to date"},
    {"version", authkit_cmd_version, "print the versions of authkit and libsodium"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *out) {
    fputs("usage: authkit [options] <command> [args]\n"
          "       authkit <command> --help\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fputs("\nOptions (accepted by every command; each flag, else its environment variable, else "
          "the\nsame variable in ./.env, else the default):\n",
          out);
    authkit_config_print_options(out);
    fputs("Booleans accept 1/0, true/false, yes/no, on/off. Generate a secret with\n"
          "  echo \"AUTHKIT_SESSION_SECRET=$(authkit secret)\" >> .env\n"
          "Passwords are never taken from the command line: they are prompted for without echo\n"
          "on a terminal, or read as one line of standard input.\n"
          "\n"
          "Exit status: 0 success, 1 failure, 2 usage error, 3 not found.\n",
          out);
}

static const struct command *find_command(const char *name) {
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* true when the arguments ask for help somewhere before a "--". */
static bool asks_for_help(int argc, char **argv) {
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (authkit_cli_is_help(argv[i]) || (i == 1 && strcmp(argv[i], "help") == 0))
            return true;
    return false;
}

/* The first argument that names a command, for help after a configuration error. */
static const struct command *command_in(int argc, char **argv) {
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const struct command *c = find_command(argv[i]);
        if (c)
            return c;
    }
    return NULL;
}

static int run_help(struct authkit_config *cfg, const struct command *c) {
    if (!c) {
        print_usage(stdout);
        return AUTHKIT_EXIT_OK;
    }
    char name[16], help[] = "--help";
    snprintf(name, sizeof name, "%s", c->name);
    char *args[] = {name, help, NULL};
    return c->run(cfg, 2, args);
}

static int dispatch(struct authkit_config *cfg, int argc, char **argv) {
    if (argc < 2) {
        return authkit_cli_usage_error(NULL, "no command given");
    }
    const char *name = argv[1];
    if (authkit_cli_is_help(name)) {
        print_usage(stdout);
        return AUTHKIT_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3)
            return run_help(cfg, NULL);
        const struct command *c = find_command(argv[2]);
        if (!c)
            return authkit_cli_usage_error(NULL, "unknown command '%s'", argv[2]);
        return run_help(cfg, c);
    }
    if (strcmp(name, "--version") == 0)
        name = "version";
    if (name[0] == '-')
        return authkit_cli_usage_error(NULL, "unknown option '%s'", name);
    const struct command *c = find_command(name);
    if (!c)
        return authkit_cli_usage_error(NULL, "unknown command '%s'", name);
    return c->run(cfg, argc - 1, argv + 1);
}

int main(int argc, char **argv) {
    if (sodium_init() < 0) {
        authkit_cli_error(NULL, "libsodium could not be initialised");
        return AUTHKIT_EXIT_FAILURE;
    }
    static struct authkit_config cfg; /* large; holds the secret: wiped before exit */
    char err[512];
    bool help = asks_for_help(argc, argv);
    int status;
    if (authkit_config_load(&cfg, &argc, argv, err, sizeof err) != 0) {
        if (help) {
            /* Help must work even when the environment or .env is wrong. */
            status = run_help(&cfg, command_in(argc, argv));
        } else {
            authkit_cli_error(NULL, "%s", err);
            status = AUTHKIT_EXIT_USAGE;
        }
    } else {
        status = dispatch(&cfg, argc, argv);
    }
    sodium_memzero(&cfg, sizeof cfg);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        authkit_cli_error(NULL, "cannot write the output: %s", strerror(errno));
        if (status == AUTHKIT_EXIT_OK)
            status = AUTHKIT_EXIT_FAILURE;
    }
    return status;
}
