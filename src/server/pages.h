/* The HTML pages of the service: the login form and a small signed-in page. Self-contained
 * (no external assets, no script); their one inline style is allowed by its hash. */
#ifndef AUTHKIT_SERVER_PAGES_H
#define AUTHKIT_SERVER_PAGES_H

#include <stddef.h>

/* The Content-Security-Policy for the pages (computed once: it holds the style's hash). */
const char *pages_csp(void);

/* The login page; `next` (may be NULL) goes in a hidden field, `error` (may be NULL) is
 * shown above the form. Text is HTML-escaped. malloc'd; NULL when out of memory. */
char *pages_login(const char *next, const char *error);

/* The login page for an account that must choose a new password
 * (AUTHKIT_PASSWORD_CHANGE_REQUIRED): the same form, `login` filled in, the current
 * password asked again and a `new_password` field; `error` says why above it. Text is
 * HTML-escaped. malloc'd; NULL when out of memory. */
char *pages_login_change(const char *next, const char *login, const char *error);

/* The page shown at / to a signed-in user; its sign-out form posts `csrf_token` (the
 * session's anti-CSRF token) in a hidden field. malloc'd. */
char *pages_home(const char *username, const char *email, const char *csrf_token);

#endif
