/* `authkit audit`: the audit trail in the store, newest first, as a table or JSON lines.
 * Every text that came from a client is escaped on the way out: no control character,
 * terminal escape sequence or bidirectional override reaches the terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/when.h"

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX     10000

static const char usage[] =
    "usage: authkit audit [--user ID|EMAIL|USERNAME] [--since TIME] [--until TIME]\n"
    "                     [--event TYPE] [--outcome CODE] [--limit N] [--json]\n"
    "Shows the audit trail, newest first: logins (failed ones with their reason), throttled\n"
    "attempts, logouts, revocations, expiries, password changes, user changes, cleanups.\n"
    "  --user U      one user's records (also of a deleted user, by id); a name that is no\n"
    "                user shows the failed and throttled attempts made with that name\n"
    "  --since TIME  records at or after TIME; --until TIME: records before TIME. TIME is\n"
    "                ISO 8601 in UTC (2026-05-01, 2026-05-01T12:30:00Z) or a duration back\n"
    "                from now (90s, 15m, 12h, 7d, 2w)\n"
    "  --event TYPE  user_created, user_updated, user_deleted, user_logged_in, login_failed,\n"
    "                user_logged_out, session_expired, sessions_revoked, password_changed,\n"
    "                login_throttled, sessions_cleaned, password_change_required\n"
    "  --outcome C   ok, unknown_login, wrong_password, inactive_user, no_password,\n"
    "                bad_password_input, password_change_required, throttled, revoked,\n"
    "                expired, idle_timeout, user_deactivated, logout_others, session_cap\n"
    "  --limit N     at most N records (default 100, at most 10000)\n"
    "  --json        one JSON object per line instead of a table\n"
    "Login names that name no user are never stored, only a keyed hash of them (LOGIN\n"
    "shows it as #hash): they may be passwords typed into the wrong field.\n";

struct query {
    authkit_audit_filter filter;
    char user_id[AUTHKIT_UUID_SIZE];
    size_t limit;
    bool json;
};

/* A UUID in any letter case, lower-cased into `out`. */
static bool uuid_text(const char *s, char out[AUTHKIT_UUID_SIZE]) {
    if (strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (hyphen ? c != '-'
                   : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
        out[i] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
    }
    out[36] = '\0';
    return true;
}

static bool parse_event(const char *cmd, const char *name, authkit_event_type *out) {
    for (int t = 1; t < AUTHKIT_EVENT_COUNT_; t++) {
        if (strcmp(name, authkit_event_name((authkit_event_type)t)) == 0) {
            *out = (authkit_event_type)t;
            return true;
        }
    }
    authkit_cli_error(cmd, "--event: unknown event type '%s' (see `authkit audit --help`)", name);
    return false;
}

static bool parse_time(const char *cmd, const char *option, const char *text, authkit_time *out) {
    if (authkit_cli_parse_when(text, authkit_now(NULL), out))
        return true;
    authkit_cli_error(cmd,
                      "%s: '%s' is neither an ISO 8601 time (2026-05-01T12:30:00Z) nor a "
                      "duration (15m, 12h, 7d)",
                      option, text);
    return false;
}

/* Reads the options into `q`. false with the exit status in `*status`. */
static bool parse_args(const char *cmd, int argc, char **argv, struct query *q, const char **user,
                       int *status) {
    const char *since = NULL, *until = NULL, *event = NULL, *limit = NULL;
    const struct authkit_cli_option opts[] = {
        {"--user", user, NULL},
        {"--since", &since, NULL},
        {"--until", &until, NULL},
        {"--event", &event, NULL},
        {"--outcome", &q->filter.outcome, NULL},
        {"--limit", &limit, NULL},
        {"--json", NULL, &q->json},
    };
    size_t n_pos;
    if (!authkit_cli_parse(cmd, usage, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
                           &n_pos, status))
        return false;
    long v = AUDIT_LIMIT_DEFAULT;
    *status = AUTHKIT_EXIT_USAGE;
    if ((limit && !authkit_cli_number(cmd, "--limit", limit, 1, AUDIT_LIMIT_MAX, &v)) ||
        (event && !parse_event(cmd, event, &q->filter.type)) ||
        (since && !parse_time(cmd, "--since", since, &q->filter.since)) ||
        (until && !parse_time(cmd, "--until", until, &q->filter.until)))
        return false;
    if (since && until && q->filter.since > q->filter.until) {
        *status = authkit_cli_usage_error(cmd, "--since is after --until");
        return false;
    }
    q->limit = (size_t)v;
    *status = AUTHKIT_EXIT_OK;
    return true;
}

/* --user: an id (kept even when the user is gone: its records stay), else the user an
 * email or username names, else the attempts made with that name (by its hash). */
static int resolve_user(const char *cmd, authkit_ctx *ctx, const char *who, struct query *q) {
    authkit_user u;
    authkit_error err;
    authkit_status st;
    if (uuid_text(who, q->user_id)) {
        q->filter.user_id = q->user_id;
        return AUTHKIT_EXIT_OK;
    }
    st = strchr(who, '@') ? authkit_user_get_by_email(ctx, who, &u, &err)
                          : authkit_user_get_by_username(ctx, who, &u, &err);
    if (st == AUTHKIT_OK) {
        memcpy(q->user_id, u.id, sizeof q->user_id);
        q->filter.user_id = q->user_id;
    } else if (st == AUTHKIT_NOT_FOUND) {
        q->filter.login = who;
    } else {
        return authkit_cli_fail(cmd, st, &err);
    }
    return AUTHKIT_EXIT_OK;
}

static size_t escaped_length(unsigned char c) {
    return c == '\\' ? 2 : (c >= 0x20 && c < 0x7f) ? 1 : 4;
}

/* `in` for a terminal: printable ASCII as is, a backslash doubled, every other byte as
 * \xNN; cut, ending in "...", when it does not fit `size` (at least 4). */
static void escape(char *out, size_t size, const char *in) {
    static const char hex[] = "0123456789abcdef";
    size_t total = 0, n = 0;
    for (const char *p = in; *p; p++)
        total += escaped_length((unsigned char)*p);
    size_t room = total < size ? total : size - 4;
    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        size_t need = escaped_length(c);
        if (n + need > room)
            break;
        if (need == 1) {
            out[n++] = (char)c;
        } else if (c == '\\') {
            out[n++] = '\\';
            out[n++] = '\\';
        } else {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    if (*in) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

/* JSON text for a stored string: NULL when empty; escaped as for a terminal when it is
 * not valid UTF-8 (jansson refuses that), which a row written by authkit never is. */
static json_t *json_text(const char *s) {
    if (!s[0])
        return json_null();
    json_t *j = json_string(s);
    if (!j) {
        char safe[4 * AUTHKIT_EMAIL_SIZE];
        escape(safe, sizeof safe, s);
        j = json_string(safe);
    }
    return j;
}

static void print_json_line(const authkit_audit_entry *e) {
    char time[32];
    authkit_cli_time_precise(time, e->time);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer((json_int_t)e->id));
    json_object_set_new(o, "time", json_string(time));
    json_object_set_new(o, "event", json_text(e->event));
    json_object_set_new(o, "outcome", json_text(e->outcome));
    json_object_set_new(o, "user_id", json_text(e->user_id));
    json_object_set_new(o, "session_id", json_text(e->session_id));
    json_object_set_new(o, "login", json_text(e->login));
    json_object_set_new(o, "login_hash", json_text(e->login_hash));
    json_object_set_new(o, "ip", json_text(e->ip));
    json_object_set_new(o, "count", json_integer((json_int_t)e->count));
    /* ENSURE_ASCII: non-ASCII characters (bidirectional overrides too) as \u escapes. */
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(o);
    if (line) {
        puts(line);
        free(line);
    }
}

/* The USER cell: the username of a user that still exists, else the id, else "unknown". */
static void user_cell(authkit_ctx *ctx, const char *id, char *out, size_t size) {
    static char last_id[AUTHKIT_UUID_SIZE], last_name[AUTHKIT_USERNAME_SIZE];
    authkit_user u;
    if (!id[0]) {
        snprintf(out, size, "unknown");
        return;
    }
    if (strcmp(id, last_id) != 0) {
        snprintf(last_id, sizeof last_id, "%s", id);
        if (authkit_user_get_by_id(ctx, id, &u, NULL) == AUTHKIT_OK)
            snprintf(last_name, sizeof last_name, "%s", u.username);
        else
            last_name[0] = '\0';
    }
    escape(out, size, last_name[0] ? last_name : id);
}

enum { COLS = 8 };

struct row_text {
    char time[32], event[AUTHKIT_AUDIT_CODE_SIZE], outcome[2 * AUTHKIT_AUDIT_CODE_SIZE];
    char user[4 * AUTHKIT_USERNAME_SIZE + AUTHKIT_UUID_SIZE], login[4 * AUTHKIT_EMAIL_SIZE];
    char ip[4 * AUTHKIT_IP_SIZE], session[AUTHKIT_UUID_SIZE], count[24];
};

static void fill_row(authkit_ctx *ctx, const authkit_audit_entry *e, struct row_text *t) {
    authkit_cli_time(t->time, e->time);
    escape(t->event, sizeof t->event, e->event);
    escape(t->outcome, sizeof t->outcome, e->outcome);
    user_cell(ctx, e->user_id, t->user, sizeof t->user);
    if (e->login[0]) {
        escape(t->login, sizeof t->login, e->login);
    } else if (e->login_hash[0]) {
        char hash[AUTHKIT_AUDIT_HASH_SIZE + 1];
        snprintf(hash, sizeof hash, "#%s", e->login_hash);
        escape(t->login, sizeof t->login, hash);
    } else {
        snprintf(t->login, sizeof t->login, "-");
    }
    escape(t->ip, sizeof t->ip, e->ip[0] ? e->ip : "-");
    escape(t->session, sizeof t->session, e->session_id[0] ? e->session_id : "-");
    snprintf(t->count, sizeof t->count, "%llu", (unsigned long long)e->count);
}

static int print_table(const char *cmd, authkit_ctx *ctx, const authkit_audit_entry *e, size_t n) {
    struct row_text *text = calloc(n, sizeof *text);
    const char **cells = calloc((n + 1) * COLS, sizeof *cells);
    if (!text || !cells) {
        free(text);
        free(cells);
        authkit_cli_error(cmd, "out of memory");
        return AUTHKIT_EXIT_FAILURE;
    }
    static const char *const header[COLS] = {"TIME",  "EVENT", "OUTCOME", "USER",
                                             "LOGIN", "IP",    "SESSION", "COUNT"};
    memcpy(cells, header, sizeof header);
    for (size_t i = 0; i < n; i++) {
        struct row_text *t = &text[i];
        fill_row(ctx, &e[i], t);
        const char *row[COLS] = {t->time,  t->event, t->outcome, t->user,
                                 t->login, t->ip,    t->session, t->count};
        memcpy(cells + (i + 1) * COLS, row, sizeof row);
    }
    authkit_cli_table(cells, n + 1, COLS);
    free(text);
    free(cells);
    return AUTHKIT_EXIT_OK;
}

static int show(const char *cmd, authkit_ctx *ctx, const struct query *q) {
    authkit_audit_entry *rows = calloc(q->limit, sizeof *rows);
    if (!rows) {
        authkit_cli_error(cmd, "out of memory");
        return AUTHKIT_EXIT_FAILURE;
    }
    size_t n = 0;
    authkit_error err;
    int status = AUTHKIT_EXIT_OK;
    authkit_status st = authkit_audit_query(ctx, &q->filter, rows, q->limit, &n, &err);
    if (st != AUTHKIT_OK) {
        status = authkit_cli_fail(cmd, st, &err);
    } else if (q->json) {
        for (size_t i = 0; i < n; i++)
            print_json_line(&rows[i]);
    } else if (n == 0) {
        printf("no audit records\n");
    } else {
        status = print_table(cmd, ctx, rows, n);
        if (status == AUTHKIT_EXIT_OK && n == q->limit)
            printf("(the newest %zu records are shown; --limit shows more)\n", n);
    }
    free(rows);
    return status;
}

int authkit_cmd_audit(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "audit", *user = NULL;
    struct query q;
    memset(&q, 0, sizeof q);
    int status;
    if (!parse_args(cmd, argc, argv, &q, &user, &status))
        return status;
    authkit_ctx *ctx;
    if ((status = authkit_cli_open(cmd, cfg, &ctx)) != 0)
        return status;
    if (!user || (status = resolve_user(cmd, ctx, user, &q)) == AUTHKIT_EXIT_OK)
        status = show(cmd, ctx, &q);
    authkit_close(ctx);
    return status;
}
