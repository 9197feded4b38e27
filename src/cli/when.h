/* Points in time given on the command line (`authkit audit --since/--until`). */
#ifndef AUTHKIT_CLI_WHEN_H
#define AUTHKIT_CLI_WHEN_H

#include <stdbool.h>

#include "authkit.h"

/* Parses `text` as either
 * - ISO 8601: "2026-05-01", "2026-05-01T12:30", "2026-05-01T12:30:45", with optional
 *   fractional seconds (".123456") and an optional zone ("Z", "+02:00", "-0530"); a time
 *   without a zone is UTC, a date alone is its midnight UTC; or
 * - a duration back from `now`: a whole number and a unit, s, m, h, d or w ("90s",
 *   "15m", "12h", "7d", "2w").
 * Returns true with the time in `*out`, false for anything else (trailing text, a day
 * that does not exist, a duration over 100 years). */
bool authkit_cli_parse_when(const char *text, authkit_time now, authkit_time *out);

#endif
