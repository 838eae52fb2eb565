/* commands.h - the hookd subcommands. Each takes the arguments after its
 * name and the loaded configuration, and returns the process exit code. */
#ifndef HOOKD_COMMANDS_H
#define HOOKD_COMMANDS_H

#include "config.h"

int cmd_serve(const struct config *cfg, int argc, char **argv);
int cmd_api(const struct config *cfg, int argc, char **argv);
int cmd_worker(const struct config *cfg, int argc, char **argv);
int cmd_migrate(const struct config *cfg, int argc, char **argv);
int cmd_tenant(const struct config *cfg, int argc, char **argv);
int cmd_event_type(const struct config *cfg, int argc, char **argv);
int cmd_master_key(const struct config *cfg, int argc, char **argv);

#endif
