/* cmd_deliveries.c - `hookd deliveries list` (what happened to deliveries,
 * across tenants) and `hookd replay` (re-queue failed ones). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "db_admin.h"
#include "db_deliveries.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The states a delivery can be in (the CHECK of hookd.deliveries). */
static bool delivery_state_valid(const char *state)
{
    static const char *const states[] = { "pending", "delivering", "delivered", "failed",
                                           "disabled" };
    for (size_t i = 0; i < N_OF(states); i++) {
        if (strcmp(state, states[i]) == 0)
            return true;
    }
    return false;
}

/* Checks that url names an endpoint (of tenant_id, or of any tenant when
 * 0). Returns 0, or the exit code with the reason printed. */
static int endpoint_exists(struct db_conn *conn, const struct cli_command *self, const char *url,
                           int64_t tenant_id)
{
    struct json_object *owners = NULL;
    struct hk_error err;
    int rc = 0;
    if (db_admin_endpoint_owners(conn, url, tenant_id, &owners, &err) != 0)
        rc = cli_fail(self, "%s", err.detail);
    else if (json_object_array_length(owners) == 0)
        rc = cli_fail(self, "no endpoint '%s'%s", url, tenant_id ? " for that tenant" : "");
    json_object_put(owners);
    return rc;
}

#define LIST_DEFAULT_LIMIT 100
#define LIST_MAX_LIMIT 100000

static int deliveries_list(const struct config *cfg, const struct cli_command *self, int argc,
                           char **argv)
{
    static const struct cli_column cols[] = {
        { "delivery_id", "ID", 0 },       { "tenant", "TENANT", 24 },
        { "event_id", "EVENT", 0 },       { "type", "TYPE", 0 },
        { "webhook_url", "URL", 0 },      { "state", "STATE", 0 },
        { "attempts", "ATTEMPTS", 0 },    { "last_status", "STATUS", 0 },
        { "last_error", "ERROR", 40 },    { "updated", "UPDATED", 0 },
    };
    struct cli_option opts[] = {
        { "--state", "STATE", NULL, false },   { "--since", "T", NULL, false },
        { "--endpoint", "URL", NULL, false },  { "--tenant", "NAME", NULL, false },
        { "--limit", "N", NULL, false },       { "--json", NULL, NULL, false },
    };
    int rc = 0;
    if (!cli_parse(self, argc, argv, opts, N_OF(opts), NULL, NULL, 0, &rc))
        return rc;
    char since[32];
    struct delivery_filter filter = { 0, opts[0].value, NULL, opts[2].value,
                                      LIST_DEFAULT_LIMIT };
    if (filter.state != NULL && !delivery_state_valid(filter.state))
        return cli_usage_error(self, "--state must be one of pending, delivering, delivered, "
                                     "failed, disabled; not '%s'",
                               filter.state);
    if (opts[1].value != NULL) {
        if ((rc = cli_since(self, opts[1].value, since)) != 0)
            return rc;
        filter.since = since;
    }
    if (opts[4].value != NULL && cli_args_long(opts[4].value, 1, LIST_MAX_LIMIT, &filter.limit) != 0)
        return cli_usage_error(self, "--limit must be a whole number from 1 to %d, not '%s'",
                               LIST_MAX_LIMIT, opts[4].value);
    struct db_conn *conn = cli_connect(cfg, self);
    if (conn == NULL)
        return 1;
    struct json_object *rows = NULL;
    struct hk_error err;
    rc = cli_tenant_filter(conn, self, opts[3].value, &filter.tenant_id);
    if (rc == 0 && filter.url != NULL)
        rc = endpoint_exists(conn, self, filter.url, filter.tenant_id);
    if (rc == 0 && db_admin_deliveries(conn, &filter, &rows, &err) != 0)
        rc = cli_fail(self, "%s", err.detail);
    if (rc == 0)
        cli_print_rows(cols, N_OF(cols), rows, opts[5].given, "deliveries match");
    json_object_put(rows);
    db_close(conn);
    return rc;
}

static const struct cli_command deliveries_commands[] = {
    { "deliveries", "list",
      "hookd deliveries list [--state STATE] [--since T] [--endpoint URL] [--tenant NAME]\n"
      "                            [--limit N] [--json]",
      "  Deliveries, most recently updated first (default limit 100): id, tenant,\n"
      "  event id and type, URL, state, attempts, last HTTP status and error, and\n"
      "  when it last changed. STATE is pending, delivering, delivered, failed or\n"
      "  disabled; T is an RFC 3339 time (2026-01-31T12:00:00Z) or a duration back\n"
      "  from now (30m, 2h, 7d) and selects deliveries updated since then.\n",
      deliveries_list },
};

int cmd_deliveries(const struct config *cfg, int argc, char **argv)
{
    return cli_dispatch(cfg, deliveries_commands, N_OF(deliveries_commands), argc, argv);
}

/* Recovery re-queues this many deliveries per statement (and so per
 * transaction), and spaces them out behind new traffic like
 * POST /events/recover does. */
#define REPLAY_BATCH 500
#define REPLAY_SPACING_MS 2

/* Re-queues the failed deliveries of one tenant in batches; *total grows
 * by each batch and the progress line follows. */
static int replay_tenant(struct db_conn *conn, int64_t tenant_id, const char *since,
                         const char *url, struct cli_progress *progress, long *total,
                         struct hk_error *err)
{
    long offset = 0, queued = 0;
    do {
        if (db_deliveries_recover(conn, tenant_id, since, url, REPLAY_BATCH, offset,
                                  REPLAY_SPACING_MS, &queued, err) != 0)
            return -1;
        offset += queued;
        *total += queued;
        cli_progress_update(progress, *total, "deliveries re-queued");
    } while (queued == REPLAY_BATCH);
    return 0;
}

static int replay(const struct config *cfg, const struct cli_command *self, int argc,
                  char **argv)
{
    struct cli_option opts[] = {
        { "--since", "T", NULL, false },       { "--endpoint", "URL", NULL, false },
        { "--tenant", "NAME", NULL, false },   { "--json", NULL, NULL, false },
    };
    int rc = 0;
    if (!cli_parse(self, argc, argv, opts, N_OF(opts), NULL, NULL, 0, &rc))
        return rc;
    char since[32];
    const char *url = opts[1].value;
    if (opts[0].value == NULL)
        return cli_usage_error(self, "missing --since T");
    if ((rc = cli_since(self, opts[0].value, since)) != 0)
        return rc;
    struct db_conn *conn = cli_connect(cfg, self);
    if (conn == NULL)
        return 1;
    int64_t tenant_id = 0;
    long total = 0, expected = 0;
    struct json_object *tenants = NULL;
    struct cli_progress progress = { 0 };
    struct hk_error err;
    rc = cli_tenant_filter(conn, self, opts[2].value, &tenant_id);
    if (rc == 0 && url != NULL)
        rc = endpoint_exists(conn, self, url, tenant_id);
    if (rc == 0 && db_admin_failed_by_tenant(conn, since, url, tenant_id, &tenants, &err) != 0)
        rc = cli_fail(self, "%s", err.detail);
    if (rc != 0)
        goto out;
    size_t n = json_object_array_length(tenants);
    for (size_t i = 0; i < n; i++) {
        struct json_object *failed;
        json_object_object_get_ex(json_object_array_get_idx(tenants, i), "failed", &failed);
        expected += (long)json_object_get_int64(failed);
    }
    cli_progress_start(&progress, "replay:", expected);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct json_object *id;
        json_object_object_get_ex(json_object_array_get_idx(tenants, i), "tenant_id", &id);
        if (replay_tenant(conn, json_object_get_int64(id), since, url, &progress, &total,
                          &err) != 0)
            rc = cli_fail(self, "%s (%ld deliveries were re-queued before)", err.detail, total);
    }
    cli_progress_end(&progress);
    if (rc == 0 && opts[3].given)
        printf("{\"queued\":%ld,\"since\":\"%s\"}\n", total, since);
    else if (rc == 0)
        printf("Re-queued %ld failed deliver%s updated since %s.\n", total,
               total == 1 ? "y" : "ies", since);
out:
    json_object_put(tenants);
    db_close(conn);
    return rc;
}

static const struct cli_command replay_commands[] = {
    { "replay", NULL, "hookd replay --since T [--endpoint URL] [--tenant NAME] [--json]",
      "  Re-queues every failed delivery updated since T (RFC 3339, or 30m, 2h, 7d\n"
      "  back from now), of every tenant or one, of every endpoint or one, in\n"
      "  batches of 500 per transaction, spaced out behind new traffic (as POST\n"
      "  /events/recover does). Shows progress when stderr is a terminal; prints\n"
      "  how many were re-queued.\n",
      replay },
};

int cmd_replay(const struct config *cfg, int argc, char **argv)
{
    return cli_dispatch(cfg, replay_commands, 1, argc, argv);
}
