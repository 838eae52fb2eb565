/* cmd_subscriptions.c - `hookd subscriptions list`: who receives what,
 * across tenants. */
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "db_admin.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int subscriptions_list(const struct config *cfg, const struct cli_command *self, int argc,
                              char **argv)
{
    static const struct cli_column cols[] = {
        { "tenant", "TENANT", 24 },          { "subscription_id", "ID", 0 },
        { "event_type", "TYPE", 0 },         { "webhook_url", "URL", 0 },
        { "endpoint_state", "STATE", 0 },    { "disabled_reason", "REASON", 40 },
    };
    struct cli_option opts[] = { { "--tenant", "NAME", NULL, false },
                                 { "--json", NULL, NULL, false } };
    int rc = 0;
    if (!cli_parse(self, argc, argv, opts, N_OF(opts), NULL, NULL, 0, &rc))
        return rc;
    struct db_conn *conn = cli_connect(cfg, self);
    if (conn == NULL)
        return 1;
    int64_t tenant_id = 0;
    struct json_object *rows = NULL;
    struct hk_error err;
    rc = cli_tenant_filter(conn, self, opts[0].value, &tenant_id);
    if (rc == 0 && db_admin_subscriptions(conn, tenant_id, &rows, &err) != 0)
        rc = cli_fail(self, "%s", err.detail);
    if (rc == 0)
        cli_print_rows(cols, N_OF(cols), rows, opts[1].given, "subscriptions");
    json_object_put(rows);
    db_close(conn);
    return rc;
}

static const struct cli_command subscriptions_commands[] = {
    { "subscriptions", "list", "hookd subscriptions list [--tenant NAME] [--json]",
      "  Every subscription (or one tenant's): tenant, subscription id, event type,\n"
      "  URL, and the state of the URL's endpoint (active, or disabled with the\n"
      "  reason).\n",
      subscriptions_list },
};

int cmd_subscriptions(const struct config *cfg, int argc, char **argv)
{
    return cli_dispatch(cfg, subscriptions_commands, N_OF(subscriptions_commands), argc, argv);
}
