/* cmd_endpoint.c - `hookd endpoint disable|enable URL`: pause an endpoint,
 * or resume it and replay what was kept meanwhile. The same database
 * functions as POST /events/endpoints/disable and .../enable. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "db_admin.h"
#include "db_endpoints.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define REASON_MAX 500

/* Which tenant's endpoint URL is: --tenant, or the only tenant that has
 * one. Returns 0 or the exit code (the reason printed). */
static int endpoint_tenant(struct db_conn *conn, const struct cli_command *self, const char *url,
                           const char *tenant_name, int64_t *tenant_id, char *name, size_t cap)
{
    struct json_object *owners = NULL;
    struct hk_error err;
    int64_t filter = 0;
    const char *owner = NULL;
    int rc = cli_tenant_filter(conn, self, tenant_name, &filter);
    if (rc == 0 && db_admin_endpoint_owners(conn, url, filter, &owners, &err) != 0)
        rc = cli_fail(self, "%s", err.detail);
    if (rc == 0)
        rc = cli_single_owner(self, owners, "endpoint", url, tenant_id, &owner);
    if (rc == 0)
        snprintf(name, cap, "%s", owner);
    json_object_put(owners);
    return rc;
}

static int endpoint_change(const struct config *cfg, const struct cli_command *self, int argc,
                           char **argv, bool enable)
{
    struct cli_option opts[] = { { "--tenant", "NAME", NULL, false },
                                 { "--json", NULL, NULL, false },
                                 { "--reason", "TEXT", NULL, false } };
    static const char *const pos_names[] = { "URL" };
    const char *url = NULL;
    int rc = 0;
    /* enable takes no --reason. */
    if (!cli_parse(self, argc, argv, opts, enable ? 2 : 3, pos_names, &url, 1, &rc))
        return rc;
    const char *reason = opts[2].value;
    if (reason != NULL && (reason[0] == '\0' || strlen(reason) > REASON_MAX))
        return cli_usage_error(self, "--reason must be 1 to %d characters", REASON_MAX);
    struct db_conn *conn = cli_connect(cfg, self);
    if (conn == NULL)
        return 1;
    int64_t tenant_id = 0;
    char tenant[256];
    long replayed = 0;
    struct hk_error err;
    rc = endpoint_tenant(conn, self, url, opts[0].value, &tenant_id, tenant, sizeof(tenant));
    if (rc == 0 && (enable ? db_endpoints_enable(conn, tenant_id, url, &replayed, &err)
                           : db_endpoints_disable_because(conn, tenant_id, url, reason, &err)) != 0)
        rc = cli_fail(self, "%s", err.detail);
    if (rc == 0) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "tenant", json_object_new_string(tenant));
        json_object_object_add(o, "webhook_url", json_object_new_string(url));
        json_object_object_add(o, "state", json_object_new_string(enable ? "active" : "disabled"));
        if (enable)
            json_object_object_add(o, "replayed", json_object_new_int64(replayed));
        if (opts[1].given)
            printf("%s\n", cli_table_json_line(o));
        else if (enable)
            printf("Enabled %s (tenant '%s'); %ld parked deliver%s queued again.\n", url, tenant,
                   replayed, replayed == 1 ? "y" : "ies");
        else
            printf("Disabled %s (tenant '%s'); its deliveries wait until it is enabled.\n", url,
                   tenant);
        json_object_put(o);
    }
    db_close(conn);
    return rc;
}

static int endpoint_disable(const struct config *cfg, const struct cli_command *self, int argc,
                            char **argv)
{
    return endpoint_change(cfg, self, argc, argv, false);
}

static int endpoint_enable(const struct config *cfg, const struct cli_command *self, int argc,
                           char **argv)
{
    return endpoint_change(cfg, self, argc, argv, true);
}

static const struct cli_command endpoint_commands[] = {
    { "endpoint", "disable", "hookd endpoint disable URL [--reason TEXT] [--tenant NAME] [--json]",
      "  Pauses deliveries to the endpoint (what POST /events/endpoints/disable\n"
      "  does): queued deliveries are parked and new events kept for a replay.\n"
      "  --reason is shown with its subscriptions (default \"Disabled on request.\").\n"
      "  When several tenants have an endpoint with this URL, --tenant chooses.\n",
      endpoint_disable },
    { "endpoint", "enable", "hookd endpoint enable URL [--tenant NAME] [--json]",
      "  Resumes the endpoint (what POST /events/endpoints/enable does): health\n"
      "  reset, circuit closed, and every delivery parked meanwhile queued again.\n",
      endpoint_enable },
};

int cmd_endpoint(const struct config *cfg, int argc, char **argv)
{
    return cli_dispatch(cfg, endpoint_commands, N_OF(endpoint_commands), argc, argv);
}
