#include "cli/when.h"

#include <ctype.h>
#include <time.h>

#define SECOND_US   1000000LL
#define MAX_SECONDS (36525LL * 86400) /* a hundred years */

/* Reads exactly `n` decimal digits at *p. */
static bool digits(const char **p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool parse_duration(const char *s, authkit_time now, authkit_time *out) {
    long long n = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return false;
    for (; isdigit((unsigned char)*p); p++) {
        n = n * 10 + (*p - '0');
        if (n > MAX_SECONDS)
            return false;
    }
    long long unit;
    switch (*p) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        case 'w':
            unit = 7 * 86400;
            break;
        default:
            return false;
    }
    if (p[1] != '\0' || n * unit > MAX_SECONDS)
        return false;
    *out = now - n * unit * SECOND_US;
    return true;
}

/* Microseconds from ".ffffff" (at most 9 digits; those past the sixth are dropped). */
static bool fraction(const char **p, long long *us) {
    long long v = 0;
    int n = 0;
    *us = 0;
    if (**p != '.')
        return true;
    for ((*p)++; isdigit((unsigned char)**p); (*p)++, n++)
        if (n < 6)
            v = v * 10 + (**p - '0');
    if (n == 0 || n > 9)
        return false;
    for (; n < 6; n++)
        v *= 10;
    *us = v;
    return true;
}

/* Seconds east of UTC from "", "Z", "+hh:mm", "+hhmm" or "+hh" (or '-'). */
static bool zone(const char **p, long long *offset) {
    *offset = 0;
    if (**p == 'Z') {
        (*p)++;
        return true;
    }
    if (**p != '+' && **p != '-')
        return true;
    int sign = **p == '-' ? -1 : 1, hh, mm = 0;
    (*p)++;
    if (!digits(p, 2, &hh))
        return false;
    if (**p == ':')
        (*p)++;
    if (isdigit((unsigned char)**p) && !digits(p, 2, &mm))
        return false;
    if (hh > 23 || mm > 59)
        return false;
    *offset = sign * (hh * 3600LL + mm * 60LL);
    return true;
}

static bool parse_iso(const char *s, authkit_time *out) {
    const char *p = s;
    int year, month, day, hour = 0, minute = 0, second = 0;
    long long us = 0, offset = 0;
    if (!digits(&p, 4, &year) || *p++ != '-' || !digits(&p, 2, &month) || *p++ != '-' ||
        !digits(&p, 2, &day))
        return false;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &hour) || *p++ != ':' || !digits(&p, 2, &minute))
            return false;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &second))
                return false;
        }
        if (!fraction(&p, &us))
            return false;
        if (!zone(&p, &offset))
            return false;
    }
    if (*p != '\0' || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
        return false;
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = minute,
                    .tm_sec = second};
    time_t t = timegm(&tm);
    /* timegm normalises 2026-02-30 to March: such a day does not exist. */
    if (tm.tm_mday != day || tm.tm_mon != month - 1)
        return false;
    *out = ((long long)t - offset) * SECOND_US + us;
    return true;
}

bool authkit_cli_parse_when(const char *text, authkit_time now, authkit_time *out) {
    if (!text || !*text)
        return false;
    return parse_iso(text, out) || parse_duration(text, now, out);
}
