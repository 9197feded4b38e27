/* One JSON line per authentication event, for the operator's log. */
#ifndef AUTHKIT_SERVER_AUDIT_H
#define AUTHKIT_SERVER_AUDIT_H

#include <stdio.h>

#include "authkit.h"

/* Subscribes to every event of `ctx` and writes each as one JSON object per line to `out`:
 * {"ts":"...Z","event":"user_logged_in","user_id":...,"session_id":...,"ip":...}. Strings
 * are JSON-escaped (CR and LF included), so a crafted login name cannot forge a line.
 * Events carry no password and no token, so neither can reach the log. */
authkit_status authkit_audit_attach(authkit_ctx *ctx, FILE *out);

#endif
