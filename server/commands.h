/* commands.h - the hookd subcommands. Each takes the arguments after its
 * name and the loaded configuration, and returns the process exit code. */
#ifndef HOOKD_COMMANDS_H
#define HOOKD_COMMANDS_H

#include "config.h"
#include "error.h"

/* Connects, applies pending migrations, and gives tenants made before
 * signing keys existed a key pair; *applied counts the migrations. The
 * master key must be loaded. Used by `migrate` and by `serve` at start. */
int commands_migrate_database(const struct config *cfg, int *applied, struct hk_error *err)
    __attribute__((warn_unused_result));

int cmd_serve(const struct config *cfg, int argc, char **argv);
int cmd_api(const struct config *cfg, int argc, char **argv);
int cmd_worker(const struct config *cfg, int argc, char **argv);
int cmd_migrate(const struct config *cfg, int argc, char **argv);
int cmd_tenant(const struct config *cfg, int argc, char **argv);
int cmd_event_type(const struct config *cfg, int argc, char **argv);
int cmd_master_key(const struct config *cfg, int argc, char **argv);
/* The operator's views and repairs across tenants (cli.h: exit codes). */
int cmd_subscriptions(const struct config *cfg, int argc, char **argv);
int cmd_deliveries(const struct config *cfg, int argc, char **argv);
int cmd_replay(const struct config *cfg, int argc, char **argv);
int cmd_endpoint(const struct config *cfg, int argc, char **argv);
int cmd_events(const struct config *cfg, int argc, char **argv);

#endif
