/* The .env file format of the `authkit` program: one KEY=value per line, as most dotenv
 * readers take it. A parser of outside text, fuzzed (fuzz/fuzz_dotenv.c). Safe from any
 * thread; keeps no state.
 *
 *   # a comment line; blank lines are skipped
 *   KEY=bare value      # a comment after a blank; trailing blanks are dropped
 *   export KEY='taken literally'
 *   KEY="with \" and \\ escapes"   # after the closing quote only blanks or a comment
 *
 * A key is [A-Za-z_][A-Za-z0-9_]*, with blanks allowed around the '='. A line ends at
 * '\n'; trailing '\r's are dropped; a NUL byte ends its text. */
#ifndef AUTHKIT_CLI_DOTENV_H
#define AUTHKIT_CLI_DOTENV_H

#include <stddef.h>

/* The longest line, its newline and a terminating NUL. */
#define AUTHKIT__DOTENV_LINE_MAX 8192

/* Called for each KEY=value line, in order. `lineno` counts from 1; `key` and `value` are
 * NUL-terminated and live only during the call (they are wiped afterwards: a value may be
 * a secret). Returns 0 to go on, or -1 to stop the parse with a reason in `err`. */
typedef int (*authkit__dotenv_fn)(void *arg, int lineno, const char *key, const char *value,
                                  char *err, size_t err_size);

/* Parses the .env text `text` of `len` bytes, calling `fn` for each setting. Returns 0, or
 * -1 at the first bad line with the reason in `err` (".env line N: expected KEY=value",
 * "unterminated quote", "unexpected text after the closing quote", or a line longer than
 * AUTHKIT__DOTENV_LINE_MAX - 2 bytes), or at the first -1 from `fn` (its reason kept).
 * Lines are cut as fgets() with a buffer of AUTHKIT__DOTENV_LINE_MAX would cut them. */
int authkit__dotenv_parse(const char *text, size_t len, authkit__dotenv_fn fn, void *arg, char *err,
                          size_t err_size);

#endif
