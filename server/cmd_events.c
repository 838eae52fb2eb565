/* cmd_events.c - `hookd events show ID`: the stored event and what
 * happened to each of its deliveries (the data behind
 * GET /events/{id}?embed=notifications), for any tenant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "db_admin.h"
#include "db_events.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* One table row per attempt (a delivery without attempts gets one row). */
static struct json_object *attempt_rows(struct json_object *notifications)
{
    static const char *const delivery_fields[] = { "webhook_url", "state" };
    static const char *const attempt_fields[] = { "number", "started", "duration_ms", "status",
                                                  "error" };
    struct json_object *rows = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(notifications); i++) {
        struct json_object *n = json_object_array_get_idx(notifications, i), *attempts, *v;
        json_object_object_get_ex(n, "attempts", &attempts);
        size_t count = json_object_array_length(attempts);
        for (size_t a = 0; a < (count ? count : 1); a++) {
            struct json_object *row = json_object_new_object();
            for (size_t f = 0; f < N_OF(delivery_fields); f++) {
                if (json_object_object_get_ex(n, delivery_fields[f], &v))
                    json_object_object_add(row, delivery_fields[f], json_object_get(v));
            }
            struct json_object *attempt = count ? json_object_array_get_idx(attempts, a) : NULL;
            for (size_t f = 0; attempt && f < N_OF(attempt_fields); f++) {
                if (json_object_object_get_ex(attempt, attempt_fields[f], &v))
                    json_object_object_add(row, attempt_fields[f], json_object_get(v));
            }
            json_object_array_add(rows, row);
        }
    }
    return rows;
}

static void print_event(const char *tenant, const char *body, struct json_object *notifications,
                        bool json)
{
    static const struct cli_column cols[] = {
        { "webhook_url", "URL", 0 },        { "state", "STATE", 0 },
        { "number", "ATTEMPT", 0 },         { "started", "STARTED", 0 },
        { "duration_ms", "MS", 0 },         { "status", "STATUS", 0 },
        { "error", "ERROR", 60 },
    };
    if (json) {
        /* The stored bytes spliced in unchanged, as the API embeds them. */
        struct json_object *t = json_object_new_string(tenant);
        printf("{\"tenant\":%s,\"event\":%s,\"notifications\":%s}\n", cli_table_json_line(t),
               body, cli_table_json_line(notifications));
        json_object_put(t);
        return;
    }
    printf("Tenant: %s\n%s\n", tenant, body);
    struct json_object *rows = attempt_rows(notifications);
    if (json_object_array_length(rows) == 0) {
        printf("\nNo deliveries.\n");
    } else {
        printf("\n");
        cli_table_print(stdout, cols, N_OF(cols), rows, false);
    }
    json_object_put(rows);
}

static int events_show(const struct config *cfg, const struct cli_command *self, int argc,
                       char **argv)
{
    struct cli_option opts[] = { { "--tenant", "NAME", NULL, false },
                                 { "--json", NULL, NULL, false } };
    static const char *const pos_names[] = { "ID" };
    const char *id = NULL;
    int rc = 0;
    if (!cli_parse(self, argc, argv, opts, N_OF(opts), pos_names, &id, 1, &rc))
        return rc;
    struct db_conn *conn = cli_connect(cfg, self);
    if (conn == NULL)
        return 1;
    int64_t filter = 0, tenant_id = 0;
    const char *tenant = NULL;
    char *body = NULL;
    struct json_object *owners = NULL, *notifications = NULL;
    struct hk_error err;
    rc = cli_tenant_filter(conn, self, opts[0].value, &filter);
    if (rc == 0 && db_admin_event_owners(conn, id, filter, &owners, &err) != 0)
        rc = cli_fail(self, "%s", err.detail);
    if (rc == 0)
        rc = cli_single_owner(self, owners, "event", id, &tenant_id, &tenant);
    if (rc == 0) {
        int found = db_events_get(conn, tenant_id, id, &body, &err);
        if (found <= 0 ||
            db_events_notifications(conn, tenant_id, id, &notifications, &err) != 0)
            rc = found == 0 ? cli_fail(self, "no event '%s'", id)
                            : cli_fail(self, "%s", err.detail);
    }
    if (rc == 0)
        print_event(tenant, body, notifications, opts[1].given);
    free(body);
    json_object_put(notifications);
    json_object_put(owners);
    db_close(conn);
    return rc;
}

static const struct cli_command events_commands[] = {
    { "events", "show", "hookd events show ID [--tenant NAME] [--json]",
      "  The stored event, exactly the bytes that were delivered, and every\n"
      "  delivery of it: per endpoint its state and each attempt (time, duration,\n"
      "  status, error). --json prints one object: {\"tenant\", \"event\",\n"
      "  \"notifications\"}, with notifications as in GET /events/{id}?embed=\n"
      "  notifications. When the id exists under several tenants, --tenant chooses.\n",
      events_show },
};

int cmd_events(const struct config *cfg, int argc, char **argv)
{
    return cli_dispatch(cfg, events_commands, N_OF(events_commands), argc, argv);
}
