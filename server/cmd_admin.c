/* cmd_admin.c - operator subcommands about the installation itself:
 * migrate, event-type, master-key. (Tenants: cmd_tenant.c.) */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "db.h"
#include "db_event_types.h"
#include "db_tenants.h"
#include "log.h"
#include "migrate.h"
#include "secrets.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int migrate_database(const struct config *cfg, struct migrate_counts *applied,
                            migrate_progress_fn *progress, void *ctx, struct hk_error *err)
{
    int keyed = 0;
    struct db_conn *conn = db_connect(cfg->database_url, err);
    int rc = conn == NULL || migrate_run_reporting(conn, applied, progress, ctx, err) != 0 ||
                     db_tenants_backfill_signing_keys(conn, &keyed, err) != 0
                 ? -1
                 : 0;
    db_close(conn);
    return rc;
}

int commands_migrate_database(const struct config *cfg, int *applied, struct hk_error *err)
{
    struct migrate_counts counts = { 0, 0 };
    int rc = migrate_database(cfg, &counts, NULL, NULL, err);
    *applied = counts.migrations;
    return rc;
}

static void migrate_progress(void *ctx, int done, int total, const char *name)
{
    struct cli_progress *p = ctx;
    if (done == 0 && name != NULL)
        cli_progress_start(p, "migrating:", total);
    cli_progress_update(p, done, name);
}

static int migrate(const struct config *cfg, const struct cli_command *self, int argc,
                   char **argv)
{
    int rc = 0;
    if (!cli_parse(self, argc, argv, NULL, 0, NULL, NULL, 0, &rc))
        return rc;
    struct hk_error err;
    struct migrate_counts applied = { 0, 0 };
    struct cli_progress progress = { 0 };
    if (!cli_load_master_key(cfg, self))
        return 1;
    /* The progress line and the summary say what the info log lines would. */
    if (log_threshold == LOG_INFO)
        log_threshold = LOG_WARN;
    rc = migrate_database(cfg, &applied, migrate_progress, &progress, &err);
    cli_progress_end(&progress);
    if (rc != 0)
        return cli_fail(self, "%s", err.detail);
    printf("%d migration%s and %d function file%s applied; schema is current\n",
           applied.migrations, applied.migrations == 1 ? "" : "s", applied.functions,
           applied.functions == 1 ? "" : "s");
    return 0;
}

static const struct cli_command migrate_commands[] = {
    { "migrate", NULL, "hookd migrate",
      "  Applies pending database migrations (compiled into the binary) in order,\n"
      "  then every SQL function file whose text changed since it was applied,\n"
      "  all in one transaction, and exits. Shows progress when stderr is a\n"
      "  terminal.\n",
      migrate },
};

int cmd_migrate(const struct config *cfg, int argc, char **argv)
{
    return cli_dispatch(cfg, migrate_commands, 1, argc, argv);
}

static int event_type_add(const struct config *cfg, const struct cli_command *self, int argc,
                          char **argv)
{
    struct cli_option opts[] = { { "--description", "TEXT", NULL, false } };
    static const char *const pos_names[] = { "NAME" };
    const char *name = NULL;
    int rc = 0;
    if (!cli_parse(self, argc, argv, opts, N_OF(opts), pos_names, &name, 1, &rc))
        return rc;
    struct db_conn *conn = cli_connect(cfg, self);
    if (conn == NULL)
        return 1;
    struct hk_error err;
    if (db_event_types_add(conn, name, opts[0].value ? opts[0].value : "", &err) != 0)
        rc = cli_fail(self, "%s", err.detail);
    else
        printf("Added event type '%s'.\n", name);
    db_close(conn);
    return rc;
}

static int event_type_list(const struct config *cfg, const struct cli_command *self, int argc,
                           char **argv)
{
    static const struct cli_column cols[] = {
        { "name", "NAME", 0 },
        { "description", "DESCRIPTION", 0 },
    };
    struct cli_option opts[] = { { "--json", NULL, NULL, false } };
    int rc = 0;
    if (!cli_parse(self, argc, argv, opts, N_OF(opts), NULL, NULL, 0, &rc))
        return rc;
    struct db_conn *conn = cli_connect(cfg, self);
    if (conn == NULL)
        return 1;
    struct json_object *list = NULL;
    struct hk_error err;
    if (db_event_types_list(conn, &list, &err) != 0)
        rc = cli_fail(self, "%s", err.detail);
    else
        cli_print_rows(cols, N_OF(cols), list, opts[0].given, "event types");
    json_object_put(list);
    db_close(conn);
    return rc;
}

static const struct cli_command event_type_commands[] = {
    { "event-type", "add", "hookd event-type add NAME [--description TEXT]",
      "  Adds a type to the catalog; tenants can subscribe to it and publish it at\n"
      "  once. NAME is lowercase dot-separated words of [a-z0-9_], e.g.\n"
      "  payment.refunded.\n",
      event_type_add },
    { "event-type", "list", "hookd event-type list [--json]",
      "  The catalog: name and description of every event type.\n", event_type_list },
};

int cmd_event_type(const struct config *cfg, int argc, char **argv)
{
    return cli_dispatch(cfg, event_type_commands, N_OF(event_type_commands), argc, argv);
}

static int master_key_new(const struct config *cfg, const struct cli_command *self, int argc,
                          char **argv)
{
    (void)cfg;
    int rc = 0;
    if (!cli_parse(self, argc, argv, NULL, 0, NULL, NULL, 0, &rc))
        return rc;
    char key[SECRETS_KEY_B64_LEN + 1];
    secrets_new_key_b64(key);
    printf("%s\n", key);
    sodium_memzero(key, sizeof(key));
    return 0;
}

static const struct cli_command master_key_commands[] = {
    { "master-key", "new", "hookd master-key new",
      "  Prints a new random master key (base64 of 32 bytes) for HOOKD_MASTER_KEY or\n"
      "  HOOKD_MASTER_KEY_FILE. Keep it safe: without it sealed secrets cannot be\n"
      "  read.\n",
      master_key_new },
};

int cmd_master_key(const struct config *cfg, int argc, char **argv)
{
    return cli_dispatch(cfg, master_key_commands, 1, argc, argv);
}
