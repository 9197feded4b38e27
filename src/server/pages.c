#include "server/pages.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char style[] =
    "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}"
    "main{max-width:22rem;margin:10vh auto;background:#fff;padding:2rem;border-radius:8px;"
    "box-shadow:0 1px 4px rgba(0,0,0,.15)}"
    "h1{font-size:1.4rem;margin:0 0 1.2rem}"
    "label{display:block;margin:.8rem 0 .3rem;font-size:.9rem}"
    "input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.55rem;"
    "border:1px solid #bbb;border-radius:4px;font-size:1rem}"
    ".remember{display:flex;gap:.4rem;align-items:center;margin-top:.9rem}"
    ".remember label{margin:0}"
    "button{margin-top:1.2rem;width:100%;padding:.6rem;border:0;border-radius:4px;"
    "background:#2453b3;color:#fff;font-size:1rem;cursor:pointer}"
    ".error{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:4px}";

static char csp[256];
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;

static void make_csp(void) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    crypto_hash_sha256(digest, (const unsigned char *)style, sizeof style - 1);
    sodium_bin2base64(b64, sizeof b64, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL);
    snprintf(csp, sizeof csp,
             "default-src 'none'; style-src 'sha256-%s'; form-action 'self'; "
             "frame-ancestors 'none'; base-uri 'none'",
             b64);
}

const char *pages_csp(void) {
    pthread_once(&csp_once, make_csp);
    return csp;
}

/* Appends `s` HTML-escaped to `out` (which has room for 6 bytes per input byte). */
static char *escape(char *out, const char *s) {
    for (; s && *s; s++) {
        const char *rep = NULL;
        switch (*s) {
            case '&':
                rep = "&amp;";
                break;
            case '<':
                rep = "&lt;";
                break;
            case '>':
                rep = "&gt;";
                break;
            case '"':
                rep = "&quot;";
                break;
            case '\'':
                rep = "&#39;";
                break;
            default:
                *out++ = *s;
                continue;
        }
        size_t n = strlen(rep);
        memcpy(out, rep, n);
        out += n;
    }
    *out = '\0';
    return out;
}

static char *escaped(const char *s) {
    size_t n = s ? strlen(s) : 0;
    char *out = malloc(n * 6 + 1);
    if (out)
        escape(out, s);
    return out;
}

/* The sign-in form; with `change`, the form of an account whose password must change: the
 * name filled in, the current password again, and a new one. */
static char *login_page(const char *next, const char *error, bool change, const char *login) {
    static const char fmt[] =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        "<title>%s</title><style>%s</style></head><body><main>"
        "<h1>%s</h1>%s"
        "<form method=\"post\" action=\"/login\">"
        "<input type=\"hidden\" name=\"next\" value=\"%s\">"
        "<label for=\"username\">Username or email</label>"
        "<input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" "
        "autocapitalize=\"none\" required%s%s%s>"
        "<label for=\"password\">%s</label>"
        "<input type=\"password\" id=\"password\" name=\"password\" "
        "autocomplete=\"current-password\" required%s>%s"
        "<div class=\"remember\"><input type=\"checkbox\" id=\"remember_me\" name=\"remember_me\">"
        "<label for=\"remember_me\">Keep me signed in</label></div>"
        "<button type=\"submit\">%s</button></form></main></body></html>\n";
    static const char new_field[] =
        "<label for=\"new_password\">New password</label>"
        "<input type=\"password\" id=\"new_password\" name=\"new_password\" "
        "autocomplete=\"new-password\" required>";
    char *banner = NULL;
    if (error) {
        char *e = escaped(error);
        if (!e || asprintf(&banner, "<p class=\"error\" role=\"alert\" id=\"error\">%s</p>", e) < 0)
            banner = NULL;
        free(e);
        if (!banner)
            return NULL;
    }
    /* The banner is already escaped: splice it in without escaping it again. */
    char *en = escaped(next ? next : "");
    char *el = escaped(change && login ? login : "");
    const char *title = change ? "Choose a new password" : "Sign in";
    char *page = NULL;
    if (en && el &&
        asprintf(&page, fmt, title, style, title, banner ? banner : "", en,
                 change ? " value=\"" : " autofocus", change ? el : "", change ? "\"" : "",
                 change ? "Current password" : "Password", change ? " autofocus" : "",
                 change ? new_field : "", change ? "Change password and sign in" : "Sign in") < 0)
        page = NULL;
    free(en);
    free(el);
    free(banner);
    return page;
}

char *pages_login(const char *next, const char *error) {
    return login_page(next, error, false, NULL);
}

char *pages_login_change(const char *next, const char *login, const char *error) {
    return login_page(next, error, true, login);
}

char *pages_home(const char *username, const char *email, const char *csrf_token) {
    static const char fmt[] =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        "<title>Signed in</title><style>%s</style></head><body><main>"
        "<h1>Signed in</h1><p id=\"who\">You are signed in as <strong>%s</strong> (%s).</p>"
        "<form method=\"post\" action=\"/logout\">"
        "<input type=\"hidden\" name=\"csrf_token\" value=\"%s\">"
        "<button type=\"submit\" id=\"signout\">Sign out</button></form></main></body></html>\n";
    char *eu = escaped(username), *ee = escaped(email), *ec = escaped(csrf_token);
    char *page = NULL;
    if (eu && ee && ec && asprintf(&page, fmt, style, eu, ee, ec) < 0)
        page = NULL;
    free(eu);
    free(ee);
    if (ec)
        sodium_memzero(ec, strlen(ec));
    free(ec);
    return page;
}
