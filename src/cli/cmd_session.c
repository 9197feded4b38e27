/* `authkit session ...`: list and revoke the sessions of a user; delete expired ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/commands.h"
#include "cli/common.h"

/* Most sessions one listing shows (newest first). */
#define SESSION_LIST_MAX 1000
/* Characters of a user agent shown in the table (JSON has it whole). */
#define USER_AGENT_SHOWN 48

static const char usage_list[] =
    "usage: authkit session list <id|email|username> [--json]\n"
    "Lists the live sessions of a user, newest first (at most 1000).\n";
static const char usage_revoke[] =
    "usage: authkit session revoke <id|email|username> <session-id>\n"
    "Ends one session of a user.\n";
static const char usage_revoke_all[] =
    "usage: authkit session revoke-all <id|email|username> [--except SESSION_ID]\n"
    "Ends every session of a user (in stateless mode: refuses every token issued so far);\n"
    "with --except, every one but that session.\n";
static const char usage_revoke_everyone[] =
    "usage: authkit session revoke-everyone --yes\n"
    "Ends every session of every user (in stateless mode: refuses every token issued so\n"
    "far): everybody must sign in again. --yes is required.\n";
static const char usage_cleanup[] = "usage: authkit session cleanup\n"
                                    "Deletes the expired sessions and prints how many.\n";
static const char usage[] = "usage: authkit session <command> [args]\n"
                            "  list <id|email|username> [--json]\n"
                            "  revoke <id|email|username> <session-id>\n"
                            "  revoke-all <id|email|username> [--except SESSION_ID]\n"
                            "  revoke-everyone --yes\n"
                            "  cleanup\n"
                            "`authkit session <command> --help` describes each; `authkit --help` "
                            "lists the shared options.\n";

static const char *plural(size_t n) {
    return n == 1 ? "" : "s";
}

/* Parses exactly `want` positional arguments (the first names a user) and opens the
 * database; with `user`, also finds the user. Returns true with the context open. */
static bool prepare(const char *cmd, const char *use, struct authkit_config *cfg, int argc,
                    char **argv, const struct authkit_cli_option *opts, size_t n_opts,
                    const char **pos, size_t want, authkit_ctx **ctx, authkit_user *user,
                    int *status) {
    size_t n_pos;
    if (!authkit_cli_parse(cmd, use, argc, argv, opts, n_opts, pos, want, &n_pos, status))
        return false;
    if (n_pos != want) {
        *status = authkit_cli_usage_error(cmd, "%s",
                                          want == 1 ? "which user? give an id, email or username"
                                                    : "expected a user and a session id");
        return false;
    }
    if ((*status = authkit_cli_open(cmd, cfg, ctx)) != 0)
        return false;
    if (user && (*status = authkit_cli_find_user(cmd, *ctx, pos[0], user)) != 0) {
        authkit_close(*ctx);
        return false;
    }
    return true;
}

static json_t *session_json(const authkit_session_info *s) {
    char created[32], expires[32], seen[32];
    authkit_cli_time_precise(created, s->created_at);
    authkit_cli_time_precise(expires, s->expires_at);
    authkit_cli_time_precise(seen, s->last_seen_at);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(s->id));
    json_object_set_new(o, "user_id", json_string(s->user_id));
    json_object_set_new(o, "created_at", json_string(created));
    json_object_set_new(o, "expires_at", json_string(expires));
    json_object_set_new(o, "last_seen_at", s->last_seen_at ? json_string(seen) : json_null());
    json_object_set_new(o, "ip", s->ip[0] ? json_string(s->ip) : json_null());
    json_object_set_new(o, "user_agent",
                        s->user_agent[0] ? json_string(s->user_agent) : json_null());
    return o;
}

/* A cell for the table: printable ASCII only (a user agent is client-controlled and could
 * otherwise move the cursor or fake lines), cut to `max` characters. */
static void sanitize_cell(char *out, size_t size, const char *in, size_t max) {
    size_t n = 0;
    for (; *in && n + 1 < size && n < max; in++)
        out[n++] = (*in >= 0x20 && *in < 0x7f) ? *in : '?';
    if (*in && n >= 3 && n == max) {
        out[n - 3] = out[n - 2] = out[n - 1] = '.';
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, size, "-");
}

static int print_session_table(const authkit_session_info *s, size_t n) {
    enum { COLS = 6 };
    struct row_text {
        char created[32], expires[32], seen[32], ip[AUTHKIT_IP_SIZE], agent[USER_AGENT_SHOWN + 1];
    } *text = calloc(n, sizeof *text);
    const char **cells = calloc((n + 1) * COLS, sizeof *cells);
    if (!text || !cells) {
        free(text);
        free(cells);
        authkit_cli_error("session list", "out of memory");
        return AUTHKIT_EXIT_FAILURE;
    }
    const char *header[COLS] = {"ID", "CREATED", "EXPIRES", "LAST SEEN", "IP", "USER AGENT"};
    memcpy(cells, header, sizeof header);
    for (size_t i = 0; i < n; i++) {
        struct row_text *t = &text[i];
        const char **row = cells + (i + 1) * COLS;
        authkit_cli_time(t->created, s[i].created_at);
        authkit_cli_time(t->expires, s[i].expires_at);
        authkit_cli_time(t->seen, s[i].last_seen_at);
        sanitize_cell(t->ip, sizeof t->ip, s[i].ip, sizeof t->ip - 1);
        sanitize_cell(t->agent, sizeof t->agent, s[i].user_agent, USER_AGENT_SHOWN);
        row[0] = s[i].id;
        row[1] = t->created;
        row[2] = t->expires;
        row[3] = t->seen;
        row[4] = t->ip;
        row[5] = t->agent;
    }
    authkit_cli_table(cells, n + 1, COLS);
    free(text);
    free(cells);
    return AUTHKIT_EXIT_OK;
}

static int session_list(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "session list";
    bool json = false;
    const struct authkit_cli_option opts[] = {{"--json", NULL, &json}};
    const char *pos[1];
    authkit_ctx *ctx;
    authkit_user u;
    int status;
    if (!prepare(cmd, usage_list, cfg, argc, argv, opts, 1, pos, 1, &ctx, &u, &status))
        return status;
    authkit_session_info *s = calloc(SESSION_LIST_MAX, sizeof *s);
    size_t n = 0;
    authkit_error err;
    authkit_status st =
        s ? authkit_session_list(ctx, u.id, s, SESSION_LIST_MAX, &n, &err) : AUTHKIT_NOMEM;
    if (st == AUTHKIT_UNSUPPORTED) {
        authkit_cli_error(cmd, "sessions are not stored in stateless mode; "
                               "`authkit session revoke-all` still ends them all");
        status = AUTHKIT_EXIT_FAILURE;
    } else if (st != AUTHKIT_OK) {
        status = authkit_cli_fail(cmd, st, s ? &err : NULL);
    } else if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, session_json(&s[i]));
        authkit_cli_print_json(arr);
    } else if (n == 0) {
        printf("no sessions for user %s\n", u.username);
    } else {
        status = print_session_table(s, n);
        if (status == 0 && n == SESSION_LIST_MAX)
            printf("(the newest %d sessions are shown)\n", SESSION_LIST_MAX);
    }
    free(s);
    authkit_close(ctx);
    return status;
}

static int session_revoke(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "session revoke";
    const char *pos[2];
    authkit_ctx *ctx;
    authkit_user u;
    int status;
    if (!prepare(cmd, usage_revoke, cfg, argc, argv, NULL, 0, pos, 2, &ctx, &u, &status))
        return status;
    authkit_error err;
    authkit_status st = authkit_session_revoke(ctx, u.id, pos[1], &err);
    if (st == AUTHKIT_NOT_FOUND) {
        authkit_cli_error(cmd, "user %s has no session '%s'", u.username, pos[1]);
        status = AUTHKIT_EXIT_NOT_FOUND;
    } else if (st == AUTHKIT_UNSUPPORTED) {
        authkit_cli_error(cmd, "single sessions cannot be revoked in stateless mode; "
                               "use `authkit session revoke-all`");
        status = AUTHKIT_EXIT_FAILURE;
    } else if (st != AUTHKIT_OK) {
        status = authkit_cli_fail(cmd, st, &err);
    } else {
        printf("revoked session %s of user %s\n", pos[1], u.username);
    }
    authkit_close(ctx);
    return status;
}

static int session_revoke_all(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "session revoke-all";
    const char *pos[1], *except = NULL;
    const struct authkit_cli_option opts[] = {{"--except", &except, NULL}};
    authkit_ctx *ctx;
    authkit_user u;
    int status;
    if (!prepare(cmd, usage_revoke_all, cfg, argc, argv, opts, 1, pos, 1, &ctx, &u, &status))
        return status;
    size_t n = 0;
    authkit_error err;
    authkit_status st = except ? authkit_logout_others(ctx, u.id, except, &n, &err)
                               : authkit_logout_all(ctx, u.id, &n, &err);
    if (st != AUTHKIT_OK)
        status = authkit_cli_fail(cmd, st, &err);
    else if (!cfg->lib.enable_session_storage)
        printf("revoked every token of user %s issued until now\n", u.username);
    else
        printf("revoked %zu session%s of user %s\n", n, plural(n), u.username);
    authkit_close(ctx);
    return status;
}

static int session_revoke_everyone(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "session revoke-everyone";
    bool yes = false;
    const struct authkit_cli_option opts[] = {{"--yes", NULL, &yes}};
    size_t n_pos;
    int status;
    if (!authkit_cli_parse(cmd, usage_revoke_everyone, argc, argv, opts, 1, NULL, 0, &n_pos,
                           &status))
        return status;
    if (!yes)
        return authkit_cli_usage_error(cmd, "this signs every user out; add --yes to do it");
    authkit_ctx *ctx;
    if ((status = authkit_cli_open(cmd, cfg, &ctx)) != 0)
        return status;
    size_t n = 0;
    authkit_error err;
    authkit_status st = authkit_logout_everyone(ctx, &n, &err);
    if (st != AUTHKIT_OK)
        status = authkit_cli_fail(cmd, st, &err);
    else if (!cfg->lib.enable_session_storage)
        printf("revoked every token issued until now\n");
    else
        printf("revoked %zu session%s of every user\n", n, plural(n));
    authkit_close(ctx);
    return status;
}

static int session_cleanup(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "session cleanup";
    authkit_ctx *ctx;
    int status;
    if (!prepare(cmd, usage_cleanup, cfg, argc, argv, NULL, 0, NULL, 0, &ctx, NULL, &status))
        return status;
    size_t n = 0;
    authkit_error err;
    authkit_status st = authkit_session_delete_expired(ctx, &n, &err);
    if (st != AUTHKIT_OK)
        status = authkit_cli_fail(cmd, st, &err);
    else
        printf("deleted %zu expired session%s\n", n, plural(n));
    authkit_close(ctx);
    return status;
}

int authkit_cmd_session(struct authkit_config *cfg, int argc, char **argv) {
    static const struct authkit_cli_sub subs[] = {
        {"list", session_list},
        {"revoke", session_revoke},
        {"revoke-all", session_revoke_all},
        {"revoke-everyone", session_revoke_everyone},
        {"cleanup", session_cleanup},
    };
    return authkit_cli_dispatch("session", subs, sizeof subs / sizeof subs[0], usage,
                                "list, revoke, revoke-all, revoke-everyone or cleanup", cfg, argc,
                                argv);
}
