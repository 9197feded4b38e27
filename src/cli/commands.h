/* The subcommands of the `authkit` program. Each returns the process exit status:
 * 0 success, 1 failure (one line on stderr), 2 usage error, 3 not found (look-ups). */
#ifndef AUTHKIT_CLI_COMMANDS_H
#define AUTHKIT_CLI_COMMANDS_H

#include "cli/config.h"

/* argv[0] is the subcommand's name; options already removed by authkit_config_load(). */
int authkit_cmd_serve(struct authkit_config *cfg, int argc, char **argv);
int authkit_cmd_user(struct authkit_config *cfg, int argc, char **argv);
int authkit_cmd_session(struct authkit_config *cfg, int argc, char **argv);
int authkit_cmd_audit(struct authkit_config *cfg, int argc, char **argv);
int authkit_cmd_hash(struct authkit_config *cfg, int argc, char **argv);
int authkit_cmd_verify(struct authkit_config *cfg, int argc, char **argv);
int authkit_cmd_secret(struct authkit_config *cfg, int argc, char **argv);
int authkit_cmd_migrate(struct authkit_config *cfg, int argc, char **argv);
int authkit_cmd_version(struct authkit_config *cfg, int argc, char **argv);

#endif
