/* The .env reader (dotenv.h). The text is copied line by line into one buffer that is
 * parsed in place and wiped at the end, so values (the session secret) are not left
 * behind in memory we no longer use. */
#include "cli/dotenv.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

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

static char *skip_blanks(char *p) {
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Parses the value that starts at `p` in place: quoted ('...' literally, "..." with \" and
 * \\ escapes) or bare (up to a " #" comment, trailing blanks dropped). Returns the value
 * or NULL with the reason in `why`. */
static char *parse_value(char *p, const char **why) {
    if (*p == '\'' || *p == '"') {
        char quote = *p++;
        char *value = p, *w = p;
        for (;; p++) {
            if (*p == '\0') {
                *why = "unterminated quote";
                return NULL;
            }
            if (*p == quote)
                break;
            if (quote == '"' && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
                p++;
            *w++ = *p;
        }
        p = skip_blanks(p + 1);
        if (*p != '\0' && *p != '#') {
            *why = "unexpected text after the closing quote";
            return NULL;
        }
        *w = '\0';
        return value;
    }
    char *value = p;
    for (; *p; p++) {
        if (*p == '#' && (p == value || p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            break;
        }
    }
    size_t n = strlen(value);
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        value[--n] = '\0';
    return value;
}

/* One line, NUL-terminated, modified in place. Returns 0 (blank, comment or a setting
 * passed to `fn`) or -1. */
static int parse_line(char *line, int lineno, authkit__dotenv_fn fn, void *arg, char *err,
                      size_t err_size) {
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    char *p = skip_blanks(line);
    if (*p == '\0' || *p == '#')
        return 0;
    if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
        p = skip_blanks(p + 6);
    char *key = p;
    if (!(isalpha((unsigned char)*p) || *p == '_'))
        return fail(err, err_size, ".env line %d: expected KEY=value", lineno);
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    char *key_end = p;
    p = skip_blanks(p);
    if (*p != '=')
        return fail(err, err_size, ".env line %d: expected KEY=value", lineno);
    *key_end = '\0';
    const char *why = NULL;
    char *value = parse_value(skip_blanks(p + 1), &why);
    if (!value)
        return fail(err, err_size, ".env line %d: %s", lineno, why);
    return fn(arg, lineno, key, value, err, err_size);
}

int authkit__dotenv_parse(const char *text, size_t len, authkit__dotenv_fn fn, void *arg, char *err,
                          size_t err_size) {
    char line[AUTHKIT__DOTENV_LINE_MAX];
    size_t at = 0;
    int lineno = 0, rc = 0;
    /* The CLI read .env with fgets() into this buffer before the parser had a text
     * interface; the lines are cut the same way so that no file reads differently:
     * at a newline (kept) or after LINE_MAX - 1 bytes. fgets() reports end of file
     * only when it tried to read past it, that is when a piece stops short of the
     * buffer without a newline. */
    while (rc == 0 && at < len) {
        size_t room = sizeof line - 1;
        size_t n = len - at < room ? len - at : room;
        const char *nl = memchr(text + at, '\n', n);
        if (nl)
            n = (size_t)(nl - (text + at)) + 1;
        bool eof = !nl && n < room;
        memcpy(line, text + at, n);
        line[n] = '\0';
        at += n;
        lineno++;
        /* A NUL before the newline hides it, as strchr() on fgets()'s buffer did. */
        if (!strchr(line, '\n') && !eof)
            rc = fail(err, err_size, ".env line %d: longer than %d bytes", lineno,
                      AUTHKIT__DOTENV_LINE_MAX - 2);
        else
            rc = parse_line(line, lineno, fn, arg, err, err_size);
    }
    sodium_memzero(line, sizeof line);
    return rc;
}
