/* libFuzzer target for the .env reader of the `authkit` program (authkit__dotenv_parse,
 * src/cli/dotenv.c): the input is the file's text.
 *
 * Checks:
 *   - 0 or -1; a -1 comes with a reason that names its line, ".env line N: ", and N is a
 *     line of the input; the callback is never called for a line after it;
 *   - each setting comes with a line number above the previous one, a key of the
 *     documented shape [A-Za-z_][A-Za-z0-9_]*, and a value with no newline that is not
 *     longer than a line can be;
 *   - a -1 from the callback stops the parse at once and its reason is kept;
 *   - the settings of an accepted text, written again one per line as KEY="value" (with
 *     \" and \\ escaped) and, when it says the same thing, as KEY='value', read back as
 *     exactly the same settings. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dotenv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, int lineno) {
    fprintf(stderr, "fuzz_dotenv: %s (line %d)\n", what, lineno);
    abort();
}

struct setting {
    int lineno;
    char *key, *value;
};

struct seen {
    struct setting *s;
    int n, cap;
    int stop_at; /* the callback refuses its stop_at-th setting (from 1); 0: never */
    bool stopped;
};

static int collect(void *arg, int lineno, const char *key, const char *value, char *err,
                   size_t err_size) {
    struct seen *seen = arg;
    if (seen->stopped)
        fail("called again after the callback said stop", lineno);
    if (seen->n == seen->cap) {
        seen->cap = seen->cap ? 2 * seen->cap : 16;
        seen->s = realloc(seen->s, (size_t)seen->cap * sizeof *seen->s);
        if (!seen->s)
            abort();
    }
    if (seen->n > 0 && lineno <= seen->s[seen->n - 1].lineno)
        fail("line numbers do not increase", lineno);
    if (lineno < 1 || !(isalpha((unsigned char)key[0]) || key[0] == '_'))
        fail("a key that does not start with a letter or '_'", lineno);
    for (const char *p = key; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            fail("a key with a character outside [A-Za-z0-9_]", lineno);
    if (strchr(value, '\n') || strlen(value) > AUTHKIT__DOTENV_LINE_MAX - 2)
        fail("a value with a newline, or longer than a line", lineno);
    struct setting *s = &seen->s[seen->n++];
    s->lineno = lineno;
    s->key = strdup(key);
    s->value = strdup(value);
    if (!s->key || !s->value)
        abort();
    if (seen->n == seen->stop_at) {
        seen->stopped = true;
        snprintf(err, err_size, "stop here");
        return -1;
    }
    return 0;
}

static void seen_free(struct seen *seen) {
    for (int i = 0; i < seen->n; i++) {
        free(seen->s[i].key);
        free(seen->s[i].value);
    }
    free(seen->s);
    memset(seen, 0, sizeof *seen);
}

static int lines_in(const uint8_t *data, size_t size) {
    int n = 0;
    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    /* Over-long lines are cut: at most size / (LINE_MAX - 1) extra pieces. */
    return n + 1 + (int)(size / (AUTHKIT__DOTENV_LINE_MAX - 1));
}

/* Writes `seen`'s settings one per line, quoted with `quote`; false when a value cannot be
 * written that way (a ' inside '...') or a line would be too long. */
static bool write_again(const struct seen *seen, char quote, char **text, size_t *len) {
    size_t cap = 1;
    for (int i = 0; i < seen->n; i++) {
        size_t line = strlen(seen->s[i].key) + 4 + 2 * strlen(seen->s[i].value);
        if (line > AUTHKIT__DOTENV_LINE_MAX - 2)
            return false;
        if (quote == '\'' && strchr(seen->s[i].value, '\''))
            return false;
        cap += line;
    }
    char *out = malloc(cap), *w = out;
    if (!out)
        abort();
    for (int i = 0; i < seen->n; i++) {
        w += sprintf(w, "%s=%c", seen->s[i].key, quote);
        for (const char *p = seen->s[i].value; *p; p++) {
            if (quote == '"' && (*p == '"' || *p == '\\'))
                *w++ = '\\';
            *w++ = *p;
        }
        *w++ = quote;
        *w++ = '\n';
    }
    *text = out;
    *len = (size_t)(w - out);
    return true;
}

static void check_written_again(const struct seen *seen, char quote) {
    char *text;
    size_t len;
    if (!write_again(seen, quote, &text, &len))
        return;
    struct seen again = {0};
    char err[256] = "";
    if (authkit__dotenv_parse(text, len, collect, &again, err, sizeof err) != 0)
        fail("written again, the settings are refused", 0);
    if (again.n != seen->n)
        fail("written again, the number of settings changes", again.n);
    for (int i = 0; i < seen->n; i++)
        if (again.s[i].lineno != i + 1 || strcmp(again.s[i].key, seen->s[i].key) != 0 ||
            strcmp(again.s[i].value, seen->s[i].value) != 0)
            fail("written again, a setting changes", seen->s[i].lineno);
    seen_free(&again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size ? size : 1); /* exact size: a read past the text is caught */
    if (!text)
        return 0;
    memcpy(text, data, size);
    struct seen seen_ = {0}, *seen = &seen_;
    char err[256] = "";
    int rc = authkit__dotenv_parse(text, size, collect, seen, err, sizeof err);
    int lineno = 0;
    if (rc != 0 && rc != -1)
        fail("a result other than 0 and -1", 0);
    if (rc == -1 && (sscanf(err, ".env line %d: ", &lineno) != 1 || lineno < 1 ||
                     lineno > lines_in(data, size)))
        fail("a refusal that does not name a line of the input", lineno);
    if (rc == -1 && seen->n > 0 && seen->s[seen->n - 1].lineno >= lineno)
        fail("a setting passed on from the refused line or after it", lineno);
    if (rc == 0) {
        check_written_again(seen, '"');
        check_written_again(seen, '\'');
        /* Stop at a setting in the middle: nothing after it, its reason kept. */
        int total = seen->n;
        seen_free(seen);
        if (total > 0) {
            seen->stop_at = (int)(data[0] % (unsigned)total) + 1;
            if (authkit__dotenv_parse(text, size, collect, seen, err, sizeof err) != -1 ||
                strcmp(err, "stop here") != 0 || seen->n != seen->stop_at)
                fail("the callback's -1 did not stop the parse with its reason", seen->n);
        }
    }
    seen_free(seen);
    free(text);
    return 0;
}
