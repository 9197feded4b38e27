/* `authkit serve`: opens the context, starts the HTTP service, logs authentication
 * events as JSON lines on stderr, and shuts down cleanly on SIGTERM or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "server/audit.h"
#include "server/server.h"

static const char usage[] =
    "usage: authkit serve [--listen HOST:PORT] [options]\n"
    "Runs the HTTP auth service (login page, JSON API, forward-auth) until SIGTERM/SIGINT.\n"
    "See `authkit --help` for the options shared by all commands.\n";

int authkit_cmd_serve(struct authkit_config *cfg, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        fprintf(stderr, "authkit serve: unknown argument '%s'\n%s", argv[i], usage);
        return 2;
    }
    char err[512];
    if (authkit_config_require_secret(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "authkit serve: %s\n", err);
        return 1;
    }
    /* Block the signals in every thread; this one waits for them below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    authkit_ctx *ctx;
    authkit_error e;
    if (authkit_open(&cfg->lib, &ctx, &e) != AUTHKIT_OK) {
        fprintf(stderr, "authkit serve: %s\n", e.message);
        return 1;
    }
    authkit_audit_attach(ctx, stderr);
    struct authkit_server *srv;
    if (authkit_server_start(cfg, ctx, &srv, err, sizeof err) != 0) {
        fprintf(stderr, "authkit serve: %s\n", err);
        authkit_close(ctx);
        return 1;
    }
    size_t users = 0;
    (void)authkit_user_count(ctx, &users, NULL);
    char url[sizeof cfg->database_url];
    authkit_cli_redact_url(url, sizeof url, cfg->database_url); /* no database password */
    printf("authkit: listening on http://%s:%d (database %s)\n", cfg->listen_host,
           authkit_server_port(srv), url);
    if (users == 0)
        printf("authkit: no users yet; create the first one with: authkit user add "
               "--email EMAIL --username NAME\n");
    fflush(stdout);

    int sig = 0;
    sigwait(&stop, &sig);
    printf("authkit: %s received, shutting down\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    fflush(stdout);
    authkit_server_stop(srv);
    authkit_close(ctx);
    return 0;
}
