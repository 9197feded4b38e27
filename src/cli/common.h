/* Helpers shared by the subcommands of the `authkit` program: argument parsing, errors,
 * opening the database, reading passwords and confirmations, finding users, formatting
 * times. Single-threaded, like the program. */
#ifndef AUTHKIT_CLI_COMMON_H
#define AUTHKIT_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "authkit.h"
#include "cli/config.h"

/* Exit statuses (commands.h). */
enum {
    AUTHKIT_EXIT_OK = 0,
    AUTHKIT_EXIT_FAILURE = 1,
    AUTHKIT_EXIT_USAGE = 2,
    AUTHKIT_EXIT_NOT_FOUND = 3,
};

/* Prints "authkit <cmd>: <message>" as one line on stderr ("authkit: <message>" when
 * `cmd` is NULL); control characters in the message are shown as '?'. */
void authkit_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "authkit <cmd>: <message> (see `authkit <cmd> --help`)" like authkit_cli_error();
 * returns 2. */
int authkit_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints a library failure (its field, when the message does not already name it, and
 * its message) and returns the exit status for it: 3 for AUTHKIT_NOT_FOUND, else 1. */
int authkit_cli_fail(const char *cmd, authkit_status st, const authkit_error *err);

/* true for "--help" and "-h". */
bool authkit_cli_is_help(const char *arg);

/* A sub-subcommand ("user add", "session list") and its function; argv[0] is its name. */
struct authkit_cli_sub {
    const char *name;
    int (*run)(struct authkit_config *cfg, int argc, char **argv);
};

/* Runs the entry of `subs` named by argv[1] with argv shifted by one; prints `usage` for
 * help; a usage error (exit 2) naming `expected` when argv[1] is missing or unknown. */
int authkit_cli_dispatch(const char *cmd, const struct authkit_cli_sub *subs, size_t n,
                         const char *usage, const char *expected, struct authkit_config *cfg,
                         int argc, char **argv);

/* One option of a subcommand: a switch (`value` NULL, sets `*flag`) or an option with a
 * value ("--name VALUE" or "--name=VALUE", stored in `*value`, pointing into argv). */
struct authkit_cli_option {
    const char *name;
    const char **value;
    bool *flag;
};

/* Parses argv[1..argc) (argv[0] is the subcommand's name) into `opts` and up to `max_pos`
 * positional arguments (after "--" everything is positional). Handles --help by printing
 * `usage` on stdout. Returns true when the caller should go on; false with the exit status
 * in `*status` (0 after --help, 2 after a one-line message on stderr otherwise).
 * A "--password" option is refused with the reason: passwords never come from argv. */
bool authkit_cli_parse(const char *cmd, const char *usage, int argc, char **argv,
                       const struct authkit_cli_option *opts, size_t n_opts, const char **pos,
                       size_t max_pos, size_t *n_pos, int *status);

/* Parses a whole decimal number in min..max given to `option`. Returns true, or false
 * after printing why (the caller exits with status 2). */
bool authkit_cli_number(const char *cmd, const char *option, const char *text, long min, long max,
                        long *out);

/* Requires the session secret (authkit_open needs it) and opens the database, which brings
 * its schema up to date. The background cleanup thread is not started: these commands
 * are over in a moment. Returns 0 with the context in `*out`, or the exit status after
 * printing why. */
int authkit_cli_open(const char *cmd, const struct authkit_config *cfg, authkit_ctx **out);

/* A password read from the terminal or stdin. `buf` is not NUL-terminated; `len` bytes
 * of it are the password (which may contain a NUL byte: the library refuses it). */
struct authkit_cli_password {
    char buf[256];
    size_t len;
};

/* Reads a password: on a terminal, prompted on stderr without echo (twice when `confirm`,
 * and the two must match); otherwise one line of stdin, without its trailing newline.
 * An empty password is refused. Returns 0, or the exit status after printing why. The
 * caller wipes `pw` with authkit_cli_password_wipe() in every case. */
int authkit_cli_read_password(const char *cmd, bool confirm, struct authkit_cli_password *pw);

void authkit_cli_password_wipe(struct authkit_cli_password *pw);

/* Asks `question` on the terminal (stderr, answer on stdin); true for "y" or "yes". */
bool authkit_cli_confirm(const char *question);

/* Finds a user by id (a UUID), email (contains '@') or username. Returns 0, or the exit
 * status (3 when there is no such user) after printing why. */
int authkit_cli_find_user(const char *cmd, authkit_ctx *ctx, const char *who, authkit_user *out);

/* ISO-8601 UTC with Z: to the second for tables ("2026-11-29T10:13:34Z"), to the
 * microsecond for JSON as the HTTP API writes it. A zero time is "-". */
void authkit_cli_time(char out[32], authkit_time t);
void authkit_cli_time_precise(char out[32], authkit_time t);

/* Prints `n_rows` rows of `n_cols` cells (row 0 is the header) on stdout, each column
 * padded to its widest cell, columns two spaces apart. */
void authkit_cli_table(const char *const *cells, size_t n_rows, size_t n_cols);

/* Prints `json` (which it frees) indented on stdout, with a final newline. */
struct json_t;
void authkit_cli_print_json(struct json_t *json);

/* `url` with any password in it replaced by "***", for printing. */
void authkit_cli_redact_url(char *out, size_t size, const char *url);

#endif
