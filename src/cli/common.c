/* Helpers shared by the subcommands (see common.h).
 * Passwords are read with read(2) one byte at a time rather than through stdio, so that
 * no copy is left in a stdio buffer we cannot wipe, and nothing after the line is
 * consumed. */
#include "cli/common.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "core/encoding.h"

/* Writes "authkit <cmd>: <message><suffix>" as one line: control characters that came
 * from arguments or stored data (a newline, an escape sequence) are shown as '?'. */
__attribute__((format(printf, 3, 0))) static void print_line(const char *cmd, const char *suffix,
                                                             const char *fmt, va_list ap) {
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (cmd)
        fprintf(stderr, "authkit %s: %s%s\n", cmd, msg, suffix);
    else
        fprintf(stderr, "authkit: %s%s\n", msg, suffix);
}

void authkit_cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    print_line(cmd, "", fmt, ap);
    va_end(ap);
}

int authkit_cli_usage_error(const char *cmd, const char *fmt, ...) {
    char suffix[64];
    snprintf(suffix, sizeof suffix, " (see `authkit%s%s --help`)", cmd ? " " : "", cmd ? cmd : "");
    va_list ap;
    va_start(ap, fmt);
    print_line(cmd, suffix, fmt, ap);
    va_end(ap);
    return AUTHKIT_EXIT_USAGE;
}

int authkit_cli_fail(const char *cmd, authkit_status st, const authkit_error *err) {
    const char *msg = err && err->message[0] ? err->message : authkit_strerror(st);
    if (err && err->field[0] && !strcasestr(msg, err->field))
        authkit_cli_error(cmd, "%s: %s", err->field, msg);
    else
        authkit_cli_error(cmd, "%s", msg);
    return st == AUTHKIT_NOT_FOUND ? AUTHKIT_EXIT_NOT_FOUND : AUTHKIT_EXIT_FAILURE;
}

bool authkit_cli_is_help(const char *arg) {
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int authkit_cli_dispatch(const char *cmd, const struct authkit_cli_sub *subs, size_t n,
                         const char *usage, const char *expected, struct authkit_config *cfg,
                         int argc, char **argv) {
    if (argc < 2)
        return authkit_cli_usage_error(cmd, "which command? %s", expected);
    const char *sub = argv[1];
    if (authkit_cli_is_help(sub) || strcmp(sub, "help") == 0) {
        fputs(usage, stdout);
        return AUTHKIT_EXIT_OK;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(sub, subs[i].name) == 0)
            return subs[i].run(cfg, argc - 1, argv + 1);
    return authkit_cli_usage_error(cmd, "unknown command '%s'", sub);
}

static const struct authkit_cli_option *find_option(const struct authkit_cli_option *opts, size_t n,
                                                    const char *arg, size_t len) {
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, arg, len) == 0)
            return &opts[i];
    return NULL;
}

static bool usage_error(const char *cmd, int *status, const char *what, const char *arg) {
    *status = authkit_cli_usage_error(cmd, "%s '%s'", what, arg);
    return false;
}

bool authkit_cli_parse(const char *cmd, const char *usage, int argc, char **argv,
                       const struct authkit_cli_option *opts, size_t n_opts, const char **pos,
                       size_t max_pos, size_t *n_pos, int *status) {
    *n_pos = 0;
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && authkit_cli_is_help(arg)) {
            fputs(usage, stdout);
            *status = AUTHKIT_EXIT_OK;
            return false;
        }
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            if (*n_pos == max_pos)
                return usage_error(cmd, status, "unexpected argument", arg);
            pos[(*n_pos)++] = arg;
            continue;
        }
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (len == strlen("--password") && strncmp(arg, "--password", len) == 0) {
            authkit_cli_error(cmd, "passwords are never taken from the command line, where other "
                                   "users of the machine can read them; type it at the prompt or "
                                   "pipe it as one line on standard input");
            *status = AUTHKIT_EXIT_USAGE;
            return false;
        }
        const struct authkit_cli_option *o = find_option(opts, n_opts, arg, len);
        if (!o)
            return usage_error(cmd, status, "unknown option", arg);
        if (!o->value) {
            if (eq)
                return usage_error(cmd, status, "this option takes no value:", arg);
            *o->flag = true;
        } else if (eq) {
            *o->value = eq + 1;
        } else if (i + 1 < argc) {
            *o->value = argv[++i];
        } else {
            return usage_error(cmd, status, "a value is needed after", arg);
        }
    }
    return true;
}

bool authkit_cli_number(const char *cmd, const char *option, const char *text, long min, long max,
                        long *out) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || !isdigit((unsigned char)text[text[0] == '-'])) {
        authkit_cli_error(cmd, "%s: '%s' is not a whole number", option, text);
        return false;
    }
    if (errno == ERANGE || v < min || v > max) {
        authkit_cli_error(cmd, "%s: %s is out of range (%ld..%ld)", option, text, min, max);
        return false;
    }
    *out = v;
    return true;
}

int authkit_cli_open(const char *cmd, const struct authkit_config *cfg, authkit_ctx **out) {
    char why[512];
    *out = NULL;
    if (authkit_config_require_secret(cfg, why, sizeof why) != 0) {
        authkit_cli_error(cmd, "%s", why);
        return AUTHKIT_EXIT_FAILURE;
    }
    authkit_options opts = cfg->lib;
    opts.cleanup_interval_ms = 0;
    authkit_error err;
    authkit_status st = authkit_open(&opts, out, &err);
    if (st != AUTHKIT_OK)
        return authkit_cli_fail(cmd, st, &err);
    return AUTHKIT_EXIT_OK;
}

/* ---- reading from stdin ---- */

/* Reads one line from fd 0 into buf (at most cap bytes, the newline dropped). Returns 1
 * for a line (possibly ended by end of file), 0 at end of file with nothing read, -1 on
 * a read error. A longer line is read to its end and reported in `*too_long`. */
static int read_line(char *buf, size_t cap, size_t *len, bool *too_long) {
    size_t n = 0;
    bool any = false;
    *too_long = false;
    for (;;) {
        char c;
        ssize_t r = read(STDIN_FILENO, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        any = true;
        if (c == '\n')
            break;
        if (n < cap)
            buf[n++] = c;
        else
            *too_long = true;
    }
    *len = n;
    return any ? 1 : 0;
}

/* The terminal's settings before echo was turned off, restored if a signal ends the
 * program meanwhile. */
static struct termios saved_termios;
static volatile sig_atomic_t echo_is_off;
static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_FATAL_SIGNALS (sizeof fatal_signals / sizeof fatal_signals[0])
static struct sigaction saved_actions[N_FATAL_SIGNALS];

static void restore_and_reraise(int sig) {
    if (echo_is_off)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Turns echo off before any prompt is shown, so nothing typed after a prompt can be
 * echoed. Input typed earlier (already echoed) is discarded. */
static int echo_off(const char *cmd) {
    if (tcgetattr(STDIN_FILENO, &saved_termios) != 0) {
        authkit_cli_error(cmd, "cannot read the terminal settings: %s", strerror(errno));
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = restore_and_reraise;
    sigemptyset(&sa.sa_mask);
    echo_is_off = 1;
    for (size_t i = 0; i < N_FATAL_SIGNALS; i++)
        sigaction(fatal_signals[i], &sa, &saved_actions[i]);
    struct termios off = saved_termios;
    off.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
    off.c_lflag |= ICANON;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &off) != 0) {
        authkit_cli_error(cmd, "cannot turn off echo on the terminal: %s", strerror(errno));
        echo_is_off = 0;
        for (size_t i = 0; i < N_FATAL_SIGNALS; i++)
            sigaction(fatal_signals[i], &saved_actions[i], NULL);
        return -1;
    }
    return 0;
}

static void echo_on(void) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
    echo_is_off = 0;
    for (size_t i = 0; i < N_FATAL_SIGNALS; i++)
        sigaction(fatal_signals[i], &saved_actions[i], NULL);
}

/* Prompts on stderr and reads one line with echo off; the newline the user typed is not
 * echoed, so one is printed. */
static int read_hidden(const char *cmd, const char *prompt, char *buf, size_t cap, size_t *len,
                       bool *too_long) {
    fputs(prompt, stderr);
    fflush(stderr);
    int rc = read_line(buf, cap, len, too_long);
    fputc('\n', stderr);
    if (rc < 0)
        authkit_cli_error(cmd, "cannot read the password: %s", strerror(errno));
    return rc;
}

static int password_problem(const char *cmd, const char *why) {
    authkit_cli_error(cmd, "%s", why);
    return AUTHKIT_EXIT_FAILURE;
}

static int check_read(const char *cmd, int rc, size_t len, bool too_long, bool tty) {
    if (rc < 0)
        return AUTHKIT_EXIT_FAILURE;
    if (rc == 0 && !tty)
        return password_problem(cmd, "no password on standard input (pipe it as one line, or "
                                     "run the command on a terminal to be prompted)");
    if (too_long)
        return password_problem(cmd, authkit_strerror(AUTHKIT_PASSWORD_TOO_LONG));
    if (len == 0)
        return password_problem(cmd, "the password is empty");
    return AUTHKIT_EXIT_OK;
}

static int read_from_terminal(const char *cmd, bool confirm, struct authkit_cli_password *pw) {
    bool too_long;
    int rc = read_hidden(cmd, "Password: ", pw->buf, sizeof pw->buf, &pw->len, &too_long);
    int status = check_read(cmd, rc, pw->len, too_long, true);
    if (status != AUTHKIT_EXIT_OK || !confirm)
        return status;
    struct authkit_cli_password again;
    rc = read_hidden(cmd, "Repeat password: ", again.buf, sizeof again.buf, &again.len, &too_long);
    status = check_read(cmd, rc, again.len, too_long, true);
    if (status == AUTHKIT_EXIT_OK &&
        (again.len != pw->len || sodium_memcmp(again.buf, pw->buf, pw->len) != 0))
        status = password_problem(cmd, "the passwords do not match");
    authkit_cli_password_wipe(&again);
    return status;
}

int authkit_cli_read_password(const char *cmd, bool confirm, struct authkit_cli_password *pw) {
    pw->len = 0;
    if (!isatty(STDIN_FILENO)) {
        bool too_long;
        int rc = read_line(pw->buf, sizeof pw->buf, &pw->len, &too_long);
        if (rc < 0)
            authkit_cli_error(cmd, "cannot read the password: %s", strerror(errno));
        return check_read(cmd, rc, pw->len, too_long, false);
    }
    if (echo_off(cmd) != 0)
        return AUTHKIT_EXIT_FAILURE;
    int status = read_from_terminal(cmd, confirm, pw);
    echo_on();
    return status;
}

void authkit_cli_password_wipe(struct authkit_cli_password *pw) {
    sodium_memzero(pw, sizeof *pw);
}

bool authkit_cli_confirm(const char *question) {
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    char answer[16];
    size_t len;
    bool too_long;
    if (read_line(answer, sizeof answer - 1, &len, &too_long) != 1 || too_long)
        return false;
    answer[len] = '\0';
    return strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0;
}

/* ---- users ---- */

/* A UUID in any letter case: 36 characters, hyphens at 8, 13, 18 and 23. */
static bool looks_like_uuid(const char *s, char lower[AUTHKIT_UUID_SIZE]) {
    if (strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
        if (hyphen ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
        lower[i] = (char)tolower((unsigned char)s[i]);
    }
    lower[36] = '\0';
    return true;
}

int authkit_cli_find_user(const char *cmd, authkit_ctx *ctx, const char *who, authkit_user *out) {
    char id[AUTHKIT_UUID_SIZE];
    authkit_error err;
    authkit_status st;
    const char *kind;
    if (looks_like_uuid(who, id)) {
        kind = "id";
        st = authkit_user_get_by_id(ctx, id, out, &err);
    } else if (strchr(who, '@')) {
        kind = "email";
        st = authkit_user_get_by_email(ctx, who, out, &err);
    } else {
        kind = "username";
        st = authkit_user_get_by_username(ctx, who, out, &err);
    }
    if (st == AUTHKIT_NOT_FOUND) {
        authkit_cli_error(cmd, "no user with %s '%s'", kind, who);
        return AUTHKIT_EXIT_NOT_FOUND;
    }
    if (st != AUTHKIT_OK)
        return authkit_cli_fail(cmd, st, &err);
    return AUTHKIT_EXIT_OK;
}

/* ---- formatting ---- */

void authkit_cli_time(char out[32], authkit_time t) {
    if (t == 0) {
        snprintf(out, 32, "-");
        return;
    }
    time_t secs = (time_t)(t / 1000000);
    if (t < 0 && t % 1000000)
        secs--;
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "?");
}

void authkit_cli_time_precise(char out[32], authkit_time t) {
    if (t == 0) {
        snprintf(out, 32, "-");
        return;
    }
    authkit__time_iso8601(out, t);
}

void authkit_cli_redact_url(char *out, size_t size, const char *url) {
    snprintf(out, size, "%s", url);
    /* scheme://user:password@host/... */
    char *authority = strstr(out, "://");
    if (authority) {
        authority += 3;
        size_t alen = strcspn(authority, "/?#");
        char *at = memrchr(authority, '@', alen);
        char *colon = at ? memchr(authority, ':', (size_t)(at - authority)) : NULL;
        if (colon) {
            char rest[1024];
            snprintf(rest, sizeof rest, "%s", at);
            snprintf(colon + 1, size - (size_t)(colon + 1 - out), "***%s", rest);
        }
    }
    /* ...?password=secret&... */
    char *p = out;
    while ((p = strstr(p, "password=")) != NULL) {
        if (p != out && p[-1] != '?' && p[-1] != '&') {
            p++;
            continue;
        }
        p += strlen("password=");
        size_t vlen = strcspn(p, "&#");
        char rest[1024];
        snprintf(rest, sizeof rest, "%s", p + vlen);
        snprintf(p, size - (size_t)(p - out), "***%s", rest);
        p += 3;
    }
}

void authkit_cli_table(const char *const *cells, size_t n_rows, size_t n_cols) {
    size_t width[16] = {0};
    if (n_cols > sizeof width / sizeof width[0])
        n_cols = sizeof width / sizeof width[0];
    for (size_t r = 0; r < n_rows; r++)
        for (size_t c = 0; c < n_cols; c++) {
            size_t w = strlen(cells[r * n_cols + c]);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r < n_rows; r++) {
        for (size_t c = 0; c < n_cols; c++) {
            const char *cell = cells[r * n_cols + c];
            if (c + 1 == n_cols)
                printf("%s\n", cell);
            else
                printf("%-*s  ", (int)width[c], cell);
        }
    }
}

void authkit_cli_print_json(struct json_t *json) {
    if (json) {
        json_dumpf(json, stdout, JSON_INDENT(2));
        json_decref(json);
    }
    fputc('\n', stdout);
}
