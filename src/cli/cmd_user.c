/* `authkit user ...`: the operator's user management. Passwords come from the terminal
 * (no echo) or one line of stdin, never from argv, and are wiped after use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/commands.h"
#include "cli/common.h"

#define USER_LIST_DEFAULT 100
#define USER_LIST_MAX     10000

static const char usage_add[] =
    "usage: authkit user add --email EMAIL --username NAME [--role ROLE] [--no-password]\n"
    "                        [--inactive]\n"
    "Creates a user. The password is prompted for twice without echo on a terminal, or read\n"
    "as one line of standard input (e.g. `printf '%s\\n' \"$PW\" | authkit user add ...`).\n"
    "  --role ROLE     global role (default \"user\")\n"
    "  --no-password   create the user without a password (it cannot log in with one)\n"
    "  --inactive      create the user disabled\n";
static const char usage_list[] =
    "usage: authkit user list [--limit N] [--offset N] [--json]\n"
    "Lists users, oldest first: at most N (default 100, at most 10000), skipping --offset.\n";
static const char usage_show[] = "usage: authkit user show <id|email|username> [--json]\n"
                                 "Shows one user.\n";
static const char usage_set_password[] =
    "usage: authkit user set-password <id|email|username>\n"
    "Sets a new password (prompted for twice on a terminal, else one line of standard\n"
    "input) and ends every session of the user.\n";
static const char usage_disable[] =
    "usage: authkit user disable <id|email|username>\n"
    "Disables the user: it can no longer log in, and its sessions end.\n";
static const char usage_enable[] = "usage: authkit user enable <id|email|username>\n"
                                   "Enables a disabled user again.\n";
static const char usage_unlock[] =
    "usage: authkit user unlock <id|email|username>\n"
    "Lifts the login throttling of the user's account: its failed attempts are forgotten.\n";
static const char usage_require_change[] =
    "usage: authkit user require-password-change <id|email|username>\n"
    "For a password others may know (phished, leaked, in a breach): every session of the\n"
    "user ends, and its password logs in no more until its owner chooses a new one at the\n"
    "next login (or `authkit user set-password` sets one). Passwords never expire by age.\n";
static const char usage_delete[] =
    "usage: authkit user delete <id|email|username> [--yes]\n"
    "Deletes the user and its sessions. Asks for confirmation on a terminal; without a\n"
    "terminal, --yes is required.\n";

static const char usage[] =
    "usage: authkit user <command> [args]\n"
    "  add --email EMAIL --username NAME [--role ROLE] [--no-password] [--inactive]\n"
    "  list [--limit N] [--offset N] [--json]\n"
    "  show <id|email|username> [--json]\n"
    "  set-password <id|email|username>\n"
    "  disable <id|email|username>\n"
    "  enable <id|email|username>\n"
    "  delete <id|email|username> [--yes]\n"
    "  unlock <id|email|username>\n"
    "  require-password-change <id|email|username>\n"
    "Passwords are never taken from the command line: they are prompted for without echo\n"
    "on a terminal, or read as one line of standard input.\n"
    "`authkit user <command> --help` describes each; `authkit --help` lists the shared\n"
    "options.\n";

static json_t *user_json(const authkit_user *u) {
    char created[32], updated[32], changed[32];
    authkit_cli_time_precise(created, u->created_at);
    authkit_cli_time_precise(updated, u->updated_at);
    authkit_cli_time_precise(changed, u->password_changed_at);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(u->id));
    json_object_set_new(o, "email", json_string(u->email));
    json_object_set_new(o, "username", json_string(u->username));
    json_object_set_new(o, "global_role", json_string(u->global_role));
    json_object_set_new(o, "is_active", json_boolean(u->is_active));
    json_object_set_new(o, "has_password", json_boolean(u->has_password));
    json_object_set_new(o, "password_change_required", json_boolean(u->password_change_required));
    json_object_set_new(o, "password_changed_at",
                        u->password_changed_at ? json_string(changed) : json_null());
    json_object_set_new(o, "created_at", json_string(created));
    json_object_set_new(o, "updated_at", json_string(updated));
    return o;
}

/* Stops early, before a password is typed, when the email or username is taken. The
 * create itself still reports a conflict that appears in between. */
static int check_free(const char *cmd, authkit_ctx *ctx, const char *email, const char *username) {
    authkit_user u;
    if (authkit_user_get_by_email(ctx, email, &u, NULL) == AUTHKIT_OK) {
        authkit_cli_error(cmd, "email is already taken (user %s)", u.username);
        return AUTHKIT_EXIT_FAILURE;
    }
    if (authkit_user_get_by_username(ctx, username, &u, NULL) == AUTHKIT_OK) {
        authkit_cli_error(cmd, "username is already taken (user %s <%s>)", u.username, u.email);
        return AUTHKIT_EXIT_FAILURE;
    }
    return AUTHKIT_EXIT_OK;
}

static int user_add(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "user add";
    const char *email = NULL, *username = NULL, *role = NULL;
    bool no_password = false, inactive = false;
    const struct authkit_cli_option opts[] = {
        {"--email", &email, NULL},       {"--username", &username, NULL},
        {"--role", &role, NULL},         {"--no-password", NULL, &no_password},
        {"--inactive", NULL, &inactive},
    };
    size_t n_pos;
    int status;
    if (!authkit_cli_parse(cmd, usage_add, argc, argv, opts, 5, NULL, 0, &n_pos, &status))
        return status;
    if (!email || !username) {
        return authkit_cli_usage_error(cmd, "--email and --username are required");
    }
    authkit_ctx *ctx;
    if ((status = authkit_cli_open(cmd, cfg, &ctx)) != 0)
        return status;
    struct authkit_cli_password pw = {.len = 0};
    status = check_free(cmd, ctx, email, username);
    if (status == 0 && !no_password)
        status = authkit_cli_read_password(cmd, true, &pw);
    if (status == 0) {
        authkit_user_new in = {.email = email,
                               .username = username,
                               .password = no_password ? NULL : pw.buf,
                               .password_len = no_password ? 0 : pw.len,
                               .global_role = role,
                               .inactive = inactive};
        authkit_user u;
        authkit_error err;
        authkit_status st = authkit_user_create(ctx, &in, &u, &err);
        if (st != AUTHKIT_OK)
            status = authkit_cli_fail(cmd, st, &err);
        else
            printf("created user %s <%s> id %s%s%s\n", u.username, u.email, u.id,
                   u.has_password ? "" : " (no password)", u.is_active ? "" : " (disabled)");
    }
    authkit_cli_password_wipe(&pw);
    authkit_close(ctx);
    return status;
}

static int print_user_table(const authkit_user *users, size_t n) {
    enum { COLS = 7 };
    const char **cells = calloc((n + 1) * COLS, sizeof *cells);
    char(*created)[32] = calloc(n ? n : 1, sizeof *created);
    if (!cells || !created) {
        free(cells);
        free(created);
        authkit_cli_error("user list", "out of memory");
        return AUTHKIT_EXIT_FAILURE;
    }
    const char *header[COLS] = {"ID", "USERNAME", "EMAIL", "ROLE", "ACTIVE", "PASSWORD", "CREATED"};
    memcpy(cells, header, sizeof header);
    for (size_t i = 0; i < n; i++) {
        const authkit_user *u = &users[i];
        const char **row = cells + (i + 1) * COLS;
        authkit_cli_time(created[i], u->created_at);
        row[0] = u->id;
        row[1] = u->username;
        row[2] = u->email;
        row[3] = u->global_role;
        row[4] = u->is_active ? "yes" : "no";
        row[5] = u->password_change_required ? "must-change" : u->has_password ? "yes" : "no";
        row[6] = created[i];
    }
    authkit_cli_table(cells, n + 1, COLS);
    free(cells);
    free(created);
    return AUTHKIT_EXIT_OK;
}

static int user_list(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "user list";
    const char *limit_s = NULL, *offset_s = NULL;
    bool json = false;
    const struct authkit_cli_option opts[] = {
        {"--limit", &limit_s, NULL},
        {"--offset", &offset_s, NULL},
        {"--json", NULL, &json},
    };
    size_t n_pos;
    int status;
    if (!authkit_cli_parse(cmd, usage_list, argc, argv, opts, 3, NULL, 0, &n_pos, &status))
        return status;
    long limit = USER_LIST_DEFAULT, offset = 0;
    if ((limit_s && !authkit_cli_number(cmd, "--limit", limit_s, 1, USER_LIST_MAX, &limit)) ||
        (offset_s && !authkit_cli_number(cmd, "--offset", offset_s, 0, 1000000000L, &offset)))
        return AUTHKIT_EXIT_USAGE;
    authkit_ctx *ctx;
    if ((status = authkit_cli_open(cmd, cfg, &ctx)) != 0)
        return status;
    authkit_user *users = calloc((size_t)limit, sizeof *users);
    size_t n = 0, total = 0;
    authkit_error err;
    authkit_status st = users
                            ? authkit_user_list(ctx, (size_t)offset, users, (size_t)limit, &n, &err)
                            : AUTHKIT_NOMEM;
    if (st == AUTHKIT_OK)
        st = authkit_user_count(ctx, &total, &err);
    if (st != AUTHKIT_OK) {
        status = authkit_cli_fail(cmd, st, users ? &err : NULL);
    } else if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, user_json(&users[i]));
        authkit_cli_print_json(arr);
    } else if (n == 0 && total == 0) {
        printf("no users\n");
    } else if (n == 0) {
        printf("no users at offset %ld (%zu in all)\n", offset, total);
    } else {
        status = print_user_table(users, n);
        if (status == 0 && (size_t)offset + n < total)
            printf("(%zu of %zu users shown; next page: --offset %zu)\n", n, total,
                   (size_t)offset + n);
    }
    free(users);
    authkit_close(ctx);
    return status;
}

static void print_user(const authkit_user *u) {
    char created[32], updated[32], changed[32];
    authkit_cli_time(created, u->created_at);
    authkit_cli_time(updated, u->updated_at);
    authkit_cli_time(changed, u->password_changed_at);
    printf("id:        %s\n", u->id);
    printf("username:  %s\n", u->username);
    printf("email:     %s\n", u->email);
    printf("role:      %s\n", u->global_role);
    printf("active:    %s\n", u->is_active ? "yes" : "no");
    if (u->has_password)
        printf("password:  set %s%s\n", changed,
               u->password_change_required ? "; must be changed at the next login" : "");
    else
        printf("password:  none%s\n",
               u->password_change_required ? "; a new one is required to log in" : "");
    printf("created:   %s\n", created);
    printf("updated:   %s\n", updated);
}

/* Parses "<who>" plus `opts`, opens the database and finds the user. Returns true with
 * the context open, or false with the exit status in `*status`. */
static bool open_and_find(const char *cmd, const char *use, struct authkit_config *cfg, int argc,
                          char **argv, const struct authkit_cli_option *opts, size_t n_opts,
                          authkit_ctx **ctx, authkit_user *user, int *status) {
    const char *who[1];
    size_t n_pos;
    if (!authkit_cli_parse(cmd, use, argc, argv, opts, n_opts, who, 1, &n_pos, status))
        return false;
    if (n_pos != 1) {
        *status = authkit_cli_usage_error(cmd, "which user? give an id, email or username");
        return false;
    }
    if ((*status = authkit_cli_open(cmd, cfg, ctx)) != 0)
        return false;
    if ((*status = authkit_cli_find_user(cmd, *ctx, who[0], user)) != 0) {
        authkit_close(*ctx);
        return false;
    }
    return true;
}

static int user_show(struct authkit_config *cfg, int argc, char **argv) {
    bool json = false;
    const struct authkit_cli_option opts[] = {{"--json", NULL, &json}};
    authkit_ctx *ctx;
    authkit_user u;
    int status;
    if (!open_and_find("user show", usage_show, cfg, argc, argv, opts, 1, &ctx, &u, &status))
        return status;
    if (json)
        authkit_cli_print_json(user_json(&u));
    else
        print_user(&u);
    authkit_close(ctx);
    return AUTHKIT_EXIT_OK;
}

static int user_set_password(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "user set-password";
    authkit_ctx *ctx;
    authkit_user u;
    int status;
    if (!open_and_find(cmd, usage_set_password, cfg, argc, argv, NULL, 0, &ctx, &u, &status))
        return status;
    struct authkit_cli_password pw;
    status = authkit_cli_read_password(cmd, true, &pw);
    if (status == 0) {
        authkit_error err;
        authkit_status st = authkit_user_set_password(ctx, u.id, pw.buf, pw.len, &err);
        if (st != AUTHKIT_OK)
            status = authkit_cli_fail(cmd, st, &err);
        else
            printf("password set for user %s; all of its sessions were ended\n", u.username);
    }
    authkit_cli_password_wipe(&pw);
    authkit_close(ctx);
    return status;
}

static int set_active(struct authkit_config *cfg, int argc, char **argv, bool active) {
    const char *cmd = active ? "user enable" : "user disable";
    authkit_ctx *ctx;
    authkit_user u;
    int status;
    if (!open_and_find(cmd, active ? usage_enable : usage_disable, cfg, argc, argv, NULL, 0, &ctx,
                       &u, &status))
        return status;
    if (u.is_active == active) {
        printf("user %s is already %s\n", u.username, active ? "enabled" : "disabled");
    } else {
        authkit_user_update up = {.set_is_active = true, .is_active = active};
        authkit_error err;
        authkit_status st = authkit_user_update_fields(ctx, u.id, &up, NULL, &err);
        if (st != AUTHKIT_OK)
            status = authkit_cli_fail(cmd, st, &err);
        else if (active)
            printf("enabled user %s\n", u.username);
        else
            printf("disabled user %s; its sessions were ended\n", u.username);
    }
    authkit_close(ctx);
    return status;
}

static int user_unlock(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "user unlock";
    authkit_ctx *ctx;
    authkit_user u;
    int status;
    if (!open_and_find(cmd, usage_unlock, cfg, argc, argv, NULL, 0, &ctx, &u, &status))
        return status;
    bool was = false;
    authkit_error err;
    authkit_status st = authkit_user_unlock(ctx, u.id, &was, &err);
    if (st != AUTHKIT_OK)
        status = authkit_cli_fail(cmd, st, &err);
    else
        printf(was ? "unlocked user %s\n" : "user %s had no failed logins to forget\n", u.username);
    authkit_close(ctx);
    return status;
}

static int user_require_change(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "user require-password-change";
    authkit_ctx *ctx;
    authkit_user u;
    int status;
    if (!open_and_find(cmd, usage_require_change, cfg, argc, argv, NULL, 0, &ctx, &u, &status))
        return status;
    authkit_error err;
    authkit_status st = authkit_user_require_password_change(ctx, u.id, &err);
    if (st != AUTHKIT_OK)
        status = authkit_cli_fail(cmd, st, &err);
    else
        printf("user %s must choose a new password at the next login; all of its sessions were "
               "ended\n",
               u.username);
    authkit_close(ctx);
    return status;
}

static int user_delete(struct authkit_config *cfg, int argc, char **argv) {
    const char *cmd = "user delete";
    bool yes = false;
    const struct authkit_cli_option opts[] = {{"--yes", NULL, &yes}};
    /* Refuse a non-interactive delete without --yes before touching the database. */
    const char *who[1];
    size_t n_pos;
    int status;
    if (!authkit_cli_parse(cmd, usage_delete, argc, argv, opts, 1, who, 1, &n_pos, &status))
        return status;
    bool tty = isatty(STDIN_FILENO);
    if (n_pos == 1 && !yes && !tty) {
        authkit_cli_error(cmd, "refusing to delete without --yes when standard input is not a "
                               "terminal");
        return AUTHKIT_EXIT_USAGE;
    }
    authkit_ctx *ctx;
    authkit_user u;
    if (!open_and_find(cmd, usage_delete, cfg, argc, argv, opts, 1, &ctx, &u, &status))
        return status;
    if (!yes) {
        char question[512];
        snprintf(question, sizeof question,
                 "Delete user %s <%s> and all of its sessions? This cannot be undone.", u.username,
                 u.email);
        if (!authkit_cli_confirm(question)) {
            authkit_cli_error(cmd, "not confirmed; user %s was not deleted", u.username);
            authkit_close(ctx);
            return AUTHKIT_EXIT_FAILURE;
        }
    }
    authkit_error err;
    authkit_status st = authkit_user_delete(ctx, u.id, &err);
    if (st != AUTHKIT_OK)
        status = authkit_cli_fail(cmd, st, &err);
    else
        printf("deleted user %s <%s>\n", u.username, u.email);
    authkit_close(ctx);
    return status;
}

static int user_disable(struct authkit_config *cfg, int argc, char **argv) {
    return set_active(cfg, argc, argv, false);
}

static int user_enable(struct authkit_config *cfg, int argc, char **argv) {
    return set_active(cfg, argc, argv, true);
}

int authkit_cmd_user(struct authkit_config *cfg, int argc, char **argv) {
    static const struct authkit_cli_sub subs[] = {
        {"add", user_add},
        {"list", user_list},
        {"show", user_show},
        {"set-password", user_set_password},
        {"disable", user_disable},
        {"enable", user_enable},
        {"delete", user_delete},
        {"unlock", user_unlock},
        {"require-password-change", user_require_change},
    };
    return authkit_cli_dispatch("user", subs, sizeof subs / sizeof subs[0], usage,
                                "add, list, show, set-password, disable, enable, delete, unlock "
                                "or require-password-change",
                                cfg, argc, argv);
}
