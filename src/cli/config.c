/* Configuration of the `authkit` program (see config.h).
 * Each setting is resolved once: the first source that has it (flag, environment, .env)
 * gives its text, which is then parsed and range-checked. So only the value actually in
 * use can be rejected, and the message names where it came from. The secret is copied
 * into the config and the .env copies are wiped before they are freed. */
#include "cli/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cli/dotenv.h"

/* In the order `authkit --help` lists them. */
enum setting_id {
    S_DATABASE,
    S_SECRET,
    S_LISTEN,
    S_TIMEOUT,
    S_IDLE_TIMEOUT,
    S_MAX_SESSIONS,
    S_STORAGE,
    S_COST,
    S_MIN_LENGTH,
    S_SERVICE_NAME,
    S_CLEANUP,
    S_COOKIE_NAME,
    S_COOKIE_DOMAIN,
    S_INSECURE,
    S_WORKERS,
    S_QUEUE,
    S_HTTP_THREADS,
    S_MAX_BODY,
    S_TRUSTED_PROXIES,
    S_THROTTLE_ACCOUNT,
    S_THROTTLE_ADDRESS,
    S_THROTTLE_PAIR,
    S_THROTTLE_MAX_DELAY,
    S_AUDIT_RETENTION,
    S_COUNT
};

struct setting {
    const char *flag; /* NULL: never taken from the command line */
    const char *bare; /* the value a flag without a value means; NULL: the flag needs one */
    const char *env;
    long min, max;    /* numbers only */
    const char *arg;  /* --help: what the flag's value is, e.g. "URL" */
    const char *note; /* --help: said after the default (see default_text) */
};

static const struct setting settings[S_COUNT] = {
    [S_DATABASE] = {"--database", NULL, "AUTHKIT_DATABASE_URL", 0, 0, "URL", NULL},
    [S_SECRET] = {NULL, NULL, "AUTHKIT_SESSION_SECRET", 0, 0, NULL,
                  "required to open the database"},
    [S_LISTEN] = {"--listen", NULL, "AUTHKIT_LISTEN", 0, 65535, "HOST:PORT", NULL},
    [S_TIMEOUT] = {"--session-timeout", NULL, "AUTHKIT_SESSION_TIMEOUT_MINUTES", 1, 525600, "MIN",
                   "(absolute lifetime)"},
    [S_IDLE_TIMEOUT] = {"--idle-timeout", NULL, "AUTHKIT_SESSION_IDLE_TIMEOUT_MINUTES", 0, 525600,
                        "MIN", "(off)"},
    [S_MAX_SESSIONS] = {"--max-sessions", NULL, "AUTHKIT_MAX_SESSIONS_PER_USER", 0, 100000, "N",
                        "(no cap; else the oldest ends)"},
    [S_STORAGE] = {"--stateless", "false", "AUTHKIT_ENABLE_SESSION_STORAGE", 0, 0, NULL,
                   "signed tokens instead of stored sessions"},
    [S_COST] = {"--bcrypt-cost", NULL, "AUTHKIT_BCRYPT_COST", AUTHKIT_BCRYPT_COST_MIN,
                AUTHKIT_BCRYPT_COST_MAX, "N", "(4..31)"},
    [S_MIN_LENGTH] = {"--password-min-length", NULL, "AUTHKIT_PASSWORD_MIN_LENGTH", 8,
                      AUTHKIT_PASSWORD_MAX_BYTES, "N", "(8..72)"},
    [S_SERVICE_NAME] = {"--service-name", NULL, "AUTHKIT_SERVICE_NAME", 0, 0, "NAME",
                        "(no password based on it)"},
    /* The library accepts at most a day (86400000 ms). */
    [S_CLEANUP] = {"--cleanup-interval", NULL, "AUTHKIT_CLEANUP_INTERVAL_SECONDS", 0, 86400, "SEC",
                   "(0 disables)"},
    [S_COOKIE_NAME] = {"--cookie-name", NULL, "AUTHKIT_COOKIE_NAME", 0, 0, "NAME", NULL},
    [S_COOKIE_DOMAIN] = {"--cookie-domain", NULL, "AUTHKIT_COOKIE_DOMAIN", 0, 0, "DOMAIN",
                         "none (host-only cookie)"},
    [S_INSECURE] = {"--insecure-cookies", "true", "AUTHKIT_INSECURE_COOKIES", 0, 0, NULL,
                    "plain-HTTP development"},
    [S_WORKERS] = {"--password-workers", NULL, "AUTHKIT_PASSWORD_WORKERS", 0, 1024, "N",
                   "cores - 1 (3 on 2-3 cores)"},
    [S_QUEUE] = {"--password-queue", NULL, "AUTHKIT_PASSWORD_QUEUE", 1, 1000000, "N", NULL},
    [S_HTTP_THREADS] = {"--http-threads", NULL, "AUTHKIT_HTTP_THREADS", 0, 1024, "N", "cores"},
    [S_MAX_BODY] = {"--max-body", NULL, "AUTHKIT_MAX_BODY_BYTES", 1024, 16777216, "BYTES", NULL},
    [S_TRUSTED_PROXIES] = {"--trusted-proxies", NULL, "AUTHKIT_TRUSTED_PROXIES", 0, 0, "LIST",
                           "none (e.g. 127.0.0.1,10.0.0.0/8)"},
    [S_THROTTLE_ACCOUNT] = {"--throttle-account-failures", NULL,
                            "AUTHKIT_THROTTLE_ACCOUNT_FAILURES", 0, 100000, "N", "(0 disables)"},
    [S_THROTTLE_ADDRESS] = {"--throttle-address-failures", NULL,
                            "AUTHKIT_THROTTLE_ADDRESS_FAILURES", 0, 100000, "N", "(0 disables)"},
    [S_THROTTLE_PAIR] = {"--throttle-pair-failures", NULL, "AUTHKIT_THROTTLE_PAIR_FAILURES", 0,
                         100000, "N", "(0 disables)"},
    [S_THROTTLE_MAX_DELAY] = {"--throttle-max-delay", NULL, "AUTHKIT_THROTTLE_MAX_DELAY_SECONDS", 1,
                              86400, "SEC", NULL},
    [S_AUDIT_RETENTION] = {"--audit-retention-days", NULL, "AUTHKIT_AUDIT_RETENTION_DAYS", 0, 36500,
                           "N", "(0 keeps no trail)"},
};

/* Where the text of each setting came from. `text` points into argv, the environment or
 * `dotenv` below; `origin` names the source for messages. */
struct sources {
    const char *text[S_COUNT];
    char origin[S_COUNT][80];
    char *dotenv[S_COUNT]; /* owned copies of .env values */
    int dotenv_line[S_COUNT];
};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t err_size, const char *fmt,
                                                      ...) {
    if (err && err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void set_defaults(struct authkit_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    authkit_options_init(&cfg->lib);
    snprintf(cfg->database_url, sizeof cfg->database_url, "%s", cfg->lib.database_url);
    snprintf(cfg->listen_host, sizeof cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 8080;
    snprintf(cfg->cookie_name, sizeof cfg->cookie_name, "__Host-session_token");
    cfg->insecure_cookies = false;
    cfg->password_workers = 0;
    cfg->password_queue = 64;
    cfg->max_body_bytes = 16384;
    cfg->http_threads = 0;
    snprintf(cfg->service_name, sizeof cfg->service_name, "%s", cfg->lib.service_name);
    cfg->lib.service_name = cfg->service_name;
    cfg->lib.database_url = cfg->database_url;
    cfg->lib.session_secret = NULL;
}

/* ---- the command line ---- */

static bool is_secret_flag(const char *arg, size_t len) {
    static const char *const names[] = {"--secret", "--session-secret"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && strncmp(arg, names[i], len) == 0)
            return true;
    return false;
}

static int find_flag(const char *arg, size_t len) {
    for (int id = 0; id < S_COUNT; id++) {
        const char *f = settings[id].flag;
        if (f && strlen(f) == len && strncmp(arg, f, len) == 0)
            return id;
    }
    return -1;
}

/* Takes the recognised flags out of argv, keeping the order of the rest. Arguments after
 * a "--" are left alone (and the "--" with them). */
static int read_flags(struct sources *src, int *argc, char **argv, char *err, size_t err_size) {
    int out = 1;
    int i = 1;
    for (; i < *argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0)
            break;
        if (strncmp(arg, "--", 2) != 0) {
            argv[out++] = argv[i];
            continue;
        }
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (is_secret_flag(arg, len))
            return fail(err, err_size,
                        "%.*s is not accepted: command-line arguments are visible to every user "
                        "of the machine (ps, /proc); set AUTHKIT_SESSION_SECRET in the "
                        "environment or in .env instead (`authkit secret` generates one)",
                        (int)len, arg);
        int id = find_flag(arg, len);
        if (id < 0) {
            argv[out++] = argv[i];
            continue;
        }
        const struct setting *s = &settings[id];
        const char *value;
        if (s->bare) {
            if (eq)
                return fail(err, err_size, "%s takes no value", s->flag);
            value = s->bare;
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < *argc && strncmp(argv[i + 1], "--", 2) != 0) {
            value = argv[++i];
        } else {
            return fail(err, err_size, "%s needs a value", s->flag);
        }
        src->text[id] = value;
        snprintf(src->origin[id], sizeof src->origin[id], "%s", s->flag);
    }
    for (; i < *argc; i++)
        argv[out++] = argv[i];
    argv[out] = NULL;
    *argc = out;
    return 0;
}

/* ---- the environment ---- */

static void read_environment(struct sources *src) {
    for (int id = 0; id < S_COUNT; id++) {
        if (src->text[id])
            continue;
        const char *v = getenv(settings[id].env);
        /* An empty variable counts as unset, as `VAR= authkit ...` means to a shell user. */
        if (v && *v) {
            src->text[id] = v;
            snprintf(src->origin[id], sizeof src->origin[id], "%s", settings[id].env);
        }
    }
}

/* ---- the .env file ---- */

static void free_dotenv(struct sources *src) {
    for (int id = 0; id < S_COUNT; id++) {
        if (src->dotenv[id]) {
            sodium_memzero(src->dotenv[id], strlen(src->dotenv[id]));
            free(src->dotenv[id]);
            src->dotenv[id] = NULL;
        }
    }
}

/* A setting from .env (authkit__dotenv_fn). Later lines win over earlier ones, as a
 * shell sourcing the file would have it. Keys without the AUTHKIT_ prefix belong to
 * other programs sharing the file. */
static int take_dotenv_setting(void *arg, int lineno, const char *key, const char *value, char *err,
                               size_t err_size) {
    struct sources *src = arg;
    if (strncmp(key, "AUTHKIT_", 8) != 0)
        return 0;
    int id = -1;
    for (int i = 0; i < S_COUNT; i++)
        if (strcmp(settings[i].env, key) == 0)
            id = i;
    if (id < 0)
        return fail(err, err_size, ".env line %d: unknown setting %.64s (see `authkit --help`)",
                    lineno, key);
    if (src->dotenv[id]) {
        sodium_memzero(src->dotenv[id], strlen(src->dotenv[id]));
        free(src->dotenv[id]);
    }
    src->dotenv[id] = strdup(value);
    if (!src->dotenv[id])
        return fail(err, err_size, ".env line %d: out of memory", lineno);
    src->dotenv_line[id] = lineno;
    return 0;
}

/* Reads all of `f` into a buffer that grows by copying, never by realloc(), so that no
 * copy of the secret is freed unwiped. Returns 0 with `*text` (the caller wipes and frees
 * it) or -1 with errno set. */
static int read_all(FILE *f, char **text, size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (ferror(f)) {
            int saved = errno;
            sodium_memzero(buf, cap);
            free(buf);
            errno = saved;
            return -1;
        }
        if (n < cap)
            break;
        char *bigger = cap <= SIZE_MAX / 2 ? malloc(cap * 2) : NULL;
        if (!bigger) {
            sodium_memzero(buf, cap);
            free(buf);
            errno = ENOMEM;
            return -1;
        }
        memcpy(bigger, buf, n);
        sodium_memzero(buf, cap);
        free(buf);
        buf = bigger;
        cap *= 2;
    }
    *text = buf;
    *len = n;
    return 0;
}

static int read_dotenv(struct sources *src, char *err, size_t err_size) {
    FILE *f = fopen(".env", "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return fail(err, err_size, "cannot read .env: %s", strerror(errno));
    }
    char *text = NULL;
    size_t len = 0;
    int rc = read_all(f, &text, &len);
    if (rc != 0)
        rc = fail(err, err_size, "cannot read .env: %s", strerror(errno));
    fclose(f);
    if (rc != 0)
        return rc;
    rc = authkit__dotenv_parse(text, len, take_dotenv_setting, src, err, err_size);
    sodium_memzero(text, len);
    free(text);
    if (rc != 0)
        return rc;
    for (int id = 0; id < S_COUNT; id++) {
        if (!src->text[id] && src->dotenv[id] && src->dotenv[id][0]) {
            src->text[id] = src->dotenv[id];
            snprintf(src->origin[id], sizeof src->origin[id], ".env line %d (%s)",
                     src->dotenv_line[id], settings[id].env);
        }
    }
    return 0;
}

/* ---- values ---- */

static int parse_long(const char *text, const char *origin, long min, long max, long *out,
                      char *err, size_t err_size) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || isspace((unsigned char)text[0]))
        return fail(err, err_size, "%s: '%.40s' is not a whole number", origin, text);
    if (errno == ERANGE || v < min || v > max)
        return fail(err, err_size, "%s: %.40s is out of range (%ld..%ld)", origin, text, min, max);
    *out = v;
    return 0;
}

static int parse_bool(const char *text, const char *origin, bool *out, char *err, size_t err_size) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return fail(err, err_size, "%s: '%.40s' is not a boolean (use true/false, 1/0, yes/no, on/off)",
                origin, text);
}

static int copy_text(char *dst, size_t size, const char *text, const char *origin, char *err,
                     size_t err_size) {
    size_t n = strlen(text);
    if (n >= size)
        return fail(err, err_size, "%s: too long (at most %zu characters)", origin, size - 1);
    memcpy(dst, text, n + 1);
    return 0;
}

/* "host:port" or "[v6]:port". */
static int parse_listen(struct authkit_config *cfg, const char *text, const char *origin, char *err,
                        size_t err_size) {
    const char *host = text, *host_end, *port;
    if (text[0] == '[') {
        host = text + 1;
        host_end = strchr(host, ']');
        if (!host_end || host_end[1] != ':')
            return fail(err, err_size, "%s: expected [IPV6]:PORT, got '%.80s'", origin, text);
        port = host_end + 2;
    } else {
        host_end = strrchr(text, ':');
        if (!host_end)
            return fail(err, err_size, "%s: expected HOST:PORT, got '%.80s'", origin, text);
        if (memchr(text, ':', (size_t)(host_end - text)))
            return fail(err, err_size, "%s: put an IPv6 address in brackets, as in [::1]:8080",
                        origin);
        port = host_end + 1;
    }
    size_t n = (size_t)(host_end - host);
    if (n == 0)
        return fail(err, err_size, "%s: the host is missing (e.g. 127.0.0.1:8080)", origin);
    if (n >= sizeof cfg->listen_host)
        return fail(err, err_size, "%s: the host is too long", origin);
    for (size_t i = 0; i < n; i++)
        if (isspace((unsigned char)host[i]) || iscntrl((unsigned char)host[i]))
            return fail(err, err_size, "%s: the host contains a space or control character",
                        origin);
    char what[120];
    snprintf(what, sizeof what, "%.100s (port)", origin);
    long p;
    if (parse_long(port, what, 0, 65535, &p, err, err_size) != 0)
        return -1;
    memcpy(cfg->listen_host, host, n);
    cfg->listen_host[n] = '\0';
    cfg->listen_port = (int)p;
    return 0;
}

/* A cookie name is an HTTP token (RFC 6265 §4.1.1, RFC 9110 §5.6.2). */
static bool cookie_name_ok(const char *s) {
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return false;
    return true;
}

static bool cookie_domain_ok(const char *s) {
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
            return false;
    return true;
}

/* The int a numeric setting is kept in, as given (not S_CLEANUP, kept in milliseconds,
 * nor S_MAX_BODY, a size_t); NULL for the others. */
static int *number_field(struct authkit_config *cfg, int id) {
    switch (id) {
        case S_TIMEOUT:
            return &cfg->lib.session_timeout_minutes;
        case S_COST:
            return &cfg->lib.bcrypt_cost;
        case S_MIN_LENGTH:
            return &cfg->lib.password_min_length;
        case S_WORKERS:
            return &cfg->password_workers;
        case S_QUEUE:
            return &cfg->password_queue;
        case S_HTTP_THREADS:
            return &cfg->http_threads;
        case S_THROTTLE_ACCOUNT:
            return &cfg->lib.throttle_account_failures;
        case S_THROTTLE_ADDRESS:
            return &cfg->lib.throttle_address_failures;
        case S_THROTTLE_PAIR:
            return &cfg->lib.throttle_pair_failures;
        case S_THROTTLE_MAX_DELAY:
            return &cfg->lib.throttle_max_delay_seconds;
        case S_IDLE_TIMEOUT:
            return &cfg->lib.session_idle_timeout_minutes;
        case S_MAX_SESSIONS:
            return &cfg->lib.max_sessions_per_user;
        case S_AUDIT_RETENTION:
            return &cfg->lib.audit_retention_days;
        default:
            return NULL;
    }
}

static int apply_number(struct authkit_config *cfg, int id, const char *text, const char *origin,
                        char *err, size_t err_size) {
    long v;
    if (parse_long(text, origin, settings[id].min, settings[id].max, &v, err, err_size) != 0)
        return -1;
    if (id == S_CLEANUP)
        cfg->lib.cleanup_interval_ms = (int)(v * 1000);
    else if (id == S_MAX_BODY)
        cfg->max_body_bytes = (size_t)v;
    else
        *number_field(cfg, id) = (int)v;
    return 0;
}

/* The default of a setting as --help gives it: the value set_defaults() puts in `d`, or ""
 * where the note says it all (computed at run time, off, none, required). */
static void default_text(struct authkit_config *d, int id, char *out, size_t size) {
    int *n = number_field(d, id);
    if (id == S_DATABASE)
        snprintf(out, size, "%s", d->database_url);
    else if (id == S_LISTEN)
        snprintf(out, size, "%s:%d", d->listen_host, d->listen_port);
    else if (id == S_SERVICE_NAME)
        snprintf(out, size, "%s", d->service_name);
    else if (id == S_COOKIE_NAME)
        snprintf(out, size, "%s", d->cookie_name);
    else if (id == S_CLEANUP)
        snprintf(out, size, "%d", d->lib.cleanup_interval_ms / 1000);
    else if (id == S_MAX_BODY)
        snprintf(out, size, "%zu", d->max_body_bytes);
    else if (n && id != S_WORKERS && id != S_HTTP_THREADS) /* 0 there: counted at run time */
        snprintf(out, size, "%d", *n);
    else
        out[0] = '\0';
}

void authkit_config_print_options(FILE *out) {
    struct authkit_config d;
    set_defaults(&d);
    for (int id = 0; id < S_COUNT; id++) {
        const struct setting *s = &settings[id];
        char flag[48], env[64], value[1100];
        if (!s->flag)
            snprintf(flag, sizeof flag, "(never a flag)");
        else
            snprintf(flag, sizeof flag, "%s%s%s", s->flag, s->arg ? " " : "", s->arg ? s->arg : "");
        snprintf(env, sizeof env, "%s%s%s", s->env, s->bare ? "=" : "", s->bare ? s->bare : "");
        default_text(&d, id, value, sizeof value);
        fprintf(out, "  %-30s %-37s %s%s%s\n", flag, env, value, value[0] && s->note ? " " : "",
                s->note ? s->note : "");
    }
}

static int apply(struct authkit_config *cfg, int id, const char *text, const char *origin,
                 char *err, size_t err_size) {
    switch (id) {
        case S_DATABASE:
            return copy_text(cfg->database_url, sizeof cfg->database_url, text, origin, err,
                             err_size);
        case S_SECRET:
            /* Never echo the value: only its length is ever reported. */
            if (strlen(text) >= sizeof cfg->session_secret)
                return fail(err, err_size, "%s: the secret is too long (at most %zu characters)",
                            origin, sizeof cfg->session_secret - 1);
            memcpy(cfg->session_secret, text, strlen(text) + 1);
            return 0;
        case S_LISTEN:
            return parse_listen(cfg, text, origin, err, err_size);
        case S_TRUSTED_PROXIES: {
            char why[160];
            if (authkit_proxies_parse(text, &cfg->trusted_proxies, why, sizeof why) != 0)
                return fail(err, err_size, "%s: %s", origin, why);
            return 0;
        }
        case S_STORAGE:
            return parse_bool(text, origin, &cfg->lib.enable_session_storage, err, err_size);
        case S_INSECURE:
            return parse_bool(text, origin, &cfg->insecure_cookies, err, err_size);
        case S_COOKIE_NAME:
            if (copy_text(cfg->cookie_name, sizeof cfg->cookie_name, text, origin, err, err_size) !=
                0)
                return -1;
            if (!cookie_name_ok(cfg->cookie_name))
                return fail(err, err_size,
                            "%s: '%.80s' is not a valid cookie name (letters, digits and "
                            "!#$%%&'*+-.^_`|~ only)",
                            origin, text);
            return 0;
        case S_COOKIE_DOMAIN:
            if (copy_text(cfg->cookie_domain, sizeof cfg->cookie_domain, text, origin, err,
                          err_size) != 0)
                return -1;
            if (!cookie_domain_ok(cfg->cookie_domain))
                return fail(err, err_size, "%s: '%.80s' is not a valid domain name", origin, text);
            return 0;
        case S_SERVICE_NAME:
            return copy_text(cfg->service_name, sizeof cfg->service_name, text, origin, err,
                             err_size);
        default:
            return apply_number(cfg, id, text, origin, err, err_size);
    }
}

static bool has_prefix(const char *s, const char *prefix) {
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* The cookie settings must make a cookie browsers accept. */
static int check_cookie(struct authkit_config *cfg, const struct sources *src, char *err,
                        size_t err_size) {
    bool named = src->text[S_COOKIE_NAME] != NULL;
    if (cfg->insecure_cookies) {
        if (!named) {
            snprintf(cfg->cookie_name, sizeof cfg->cookie_name, "session_token");
            return 0;
        }
        if (has_prefix(cfg->cookie_name, "__Host-") || has_prefix(cfg->cookie_name, "__Secure-"))
            return fail(err, err_size,
                        "%s: browsers refuse a %s cookie without Secure; choose a name without "
                        "the prefix for insecure (plain HTTP) cookies",
                        src->origin[S_COOKIE_NAME],
                        has_prefix(cfg->cookie_name, "__Host-") ? "__Host-" : "__Secure-");
        return 0;
    }
    if (cfg->cookie_domain[0] && has_prefix(cfg->cookie_name, "__Host-"))
        return fail(err, err_size,
                    "%s: a __Host- cookie cannot have a Domain; set a cookie name without that "
                    "prefix too (e.g. __Secure-session_token)",
                    src->origin[S_COOKIE_DOMAIN]);
    return 0;
}

int authkit_config_load(struct authkit_config *cfg, int *argc, char **argv, char *err,
                        size_t err_size) {
    if (err && err_size)
        err[0] = '\0';
    if (!cfg || !argc || !argv)
        return fail(err, err_size, "internal error: no configuration to fill");
    set_defaults(cfg);
    struct sources src;
    memset(&src, 0, sizeof src);
    int rc = read_flags(&src, argc, argv, err, err_size);
    if (rc == 0) {
        read_environment(&src);
        rc = read_dotenv(&src, err, err_size);
    }
    for (int id = 0; rc == 0 && id < S_COUNT; id++)
        if (src.text[id])
            rc = apply(cfg, id, src.text[id], src.origin[id], err, err_size);
    if (rc == 0)
        rc = check_cookie(cfg, &src, err, err_size);
    free_dotenv(&src);
    cfg->lib.database_url = cfg->database_url;
    cfg->lib.session_secret = cfg->session_secret[0] ? cfg->session_secret : NULL;
    cfg->lib.service_name = cfg->service_name;
    return rc;
}

int authkit_config_require_secret(const struct authkit_config *cfg, char *err, size_t err_size) {
    size_t n = cfg ? strlen(cfg->session_secret) : 0;
    if (n == 0)
        return fail(err, err_size,
                    "no session secret (needed to open the database): set AUTHKIT_SESSION_SECRET "
                    "(32 or more characters) in the environment or in .env; `authkit secret` "
                    "generates one");
    if (n < 32)
        return fail(err, err_size,
                    "AUTHKIT_SESSION_SECRET is too short (%zu characters; at least 32 are "
                    "needed); `authkit secret` generates a good one",
                    n);
    return 0;
}
