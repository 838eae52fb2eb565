/* cli.h - what the operator subcommands (tenant, subscriptions, deliveries,
 * replay, endpoint, events) share: dispatch to a subcommand with --help and
 * usage errors, connecting, --tenant, printing rows, and progress lines.
 *
 * Exit codes, the same for every command: 0 done (also when nothing
 * matched), 1 a named thing does not exist or the database failed, 2 the
 * command line is wrong (one line saying what, then the usage on stderr).
 * Help goes to stdout with exit 0. */
#ifndef HOOKD_CLI_H
#define HOOKD_CLI_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli_args.h"
#include "cli_table.h"
#include "config.h"
#include "db.h"

struct cli_command {
    const char *group;      /* "tenant" */
    const char *name;       /* "list"; NULL when the group is one command (replay) */
    const char *synopsis;   /* "hookd tenant list [--tenant NAME] [--json]" */
    const char *help;       /* what it does: lines indented by two spaces */
    int (*run)(const struct config *cfg, const struct cli_command *self, int argc, char **argv);
};

/* Runs the subcommand argv[0] names among cmds[0..n) (all of one group), or
 * the group's only command when its name is NULL. `GROUP --help` lists them
 * all; a missing or unknown subcommand is a usage error. Returns the exit
 * code. */
int cli_dispatch(const struct config *cfg, const struct cli_command *cmds, size_t n, int argc,
                 char **argv);

/* Parses self's arguments (see cli_args_parse). Returns true to go on;
 * false when the command is over (help printed: *exit_code 0; a usage
 * error printed: 2). */
bool cli_parse(const struct cli_command *self, int argc, char **argv, struct cli_option *opts,
               size_t n_opts, const char *const *pos_names, const char **pos, size_t n_pos,
               int *exit_code);

/* "hookd GROUP NAME: message" and the usage on stderr; returns 2. */
int cli_usage_error(const struct cli_command *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "hookd GROUP NAME: message" on stderr; returns 1. */
int cli_fail(const struct cli_command *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A connection (caller closes it with db_close), or NULL with the reason
 * printed. */
struct db_conn *cli_connect(const struct config *cfg, const struct cli_command *self);
/* Loads the master key; false with the reason printed. */
bool cli_load_master_key(const struct config *cfg, const struct cli_command *self);

/* The id of the tenant called name into *id; a NULL name gives 0 (every
 * tenant). Returns 0, or the exit code with the reason printed (1: no such
 * tenant or a database error). */
int cli_tenant_filter(struct db_conn *conn, const struct cli_command *self, const char *name,
                      int64_t *id);

/* The one tenant that owns what (an endpoint URL or an event id) among
 * owners (a JSON array of {"tenant_id", "tenant"}, borrowed), into *id and
 * *name (borrowed from owners). Returns 0, or the exit code with the reason
 * printed: 1 when nobody owns it, 2 when several tenants do and --tenant
 * must choose. kind is "endpoint" or "event". */
int cli_single_owner(const struct cli_command *self, struct json_object *owners,
                     const char *kind, const char *what, int64_t *id, const char **name);

/* Reads a --since value (RFC 3339 or 30m, 2h, 7d) into RFC 3339 UTC text.
 * Returns 0, or 2 with a usage error printed. */
int cli_since(const struct cli_command *self, const char *text, char out[32]);

/* Prints rows (borrowed) to stdout with cli_table_print; when there are
 * none and stdout is a terminal, says "no <none>" instead of nothing. */
void cli_print_rows(const struct cli_column *cols, size_t n_cols, struct json_object *rows,
                    bool json, const char *none);

/* A progress line on stderr, redrawn in place, only when stderr is a
 * terminal: piped or redirected output stays quiet. */
struct cli_progress {
    bool on;
    const char *label;
    long total;
};
void cli_progress_start(struct cli_progress *p, const char *label, long total);
void cli_progress_update(struct cli_progress *p, long done, const char *detail);
/* Ends the line (if one was drawn). */
void cli_progress_end(struct cli_progress *p);

#endif
