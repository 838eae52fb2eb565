/* cmd_tenant.c - `hookd tenant create|list|rotate-key`: marketplaces and
 * their API keys. A key is printed once and only its hash is stored. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "db_admin.h"
#include "db_tenants.h"
#include "token.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A new API key with its stored hash and hint. */
struct new_key {
    char key[TOKEN_SECRET_LEN + 1];
    unsigned char hash[TOKEN_HASH_LEN];
    char hint[12];
};

static void new_key_make(struct new_key *k)
{
    token_api_key(k->key);
    token_hash(k->key, strlen(k->key), k->hash);
    snprintf(k->hint, sizeof(k->hint), "%.7s", k->key);
}

/* --output text|env: 1 env, 0 text, -1 neither. */
static int output_env(const struct cli_option *output)
{
    if (output->value == NULL || strcmp(output->value, "text") == 0)
        return 0;
    return strcmp(output->value, "env") == 0 ? 1 : -1;
}

/* A rate limit option: a number >= 0. */
static bool rate_limit_valid(const char *text)
{
    char *end = NULL;
    double v = strtod(text, &end);
    return text[0] >= '0' && text[0] <= '9' && end != text && *end == '\0' && v >= 0 &&
           v <= 1e9;
}

static int tenant_create(const struct config *cfg, const struct cli_command *self, int argc,
                         char **argv)
{
    struct cli_option opts[] = { { "--rate-limit", "N", NULL, false },
                                 { "--output", "text|env", NULL, false } };
    static const char *const pos_names[] = { "NAME" };
    const char *name = NULL;
    int rc = 0;
    if (!cli_parse(self, argc, argv, opts, N_OF(opts), pos_names, &name, 1, &rc))
        return rc;
    const char *rate_limit = opts[0].value;
    int env_output = output_env(&opts[1]);
    if (rate_limit != NULL && !rate_limit_valid(rate_limit))
        return cli_usage_error(self, "--rate-limit must be a number >= 0, not '%s'", rate_limit);
    if (env_output < 0)
        return cli_usage_error(self, "--output must be text or env, not '%s'", opts[1].value);
    if (!cli_load_master_key(cfg, self))
        return 1;
    struct db_conn *conn = cli_connect(cfg, self);
    if (conn == NULL)
        return 1;
    struct new_key k;
    char passphrase[TOKEN_SECRET_LEN + 1];
    new_key_make(&k);
    token_passphrase(passphrase);
    struct hk_error err;
    int64_t id = 0;
    if (db_tenants_create(conn, name, k.hash, k.hint, passphrase, rate_limit, &id, &err) != 0) {
        rc = cli_fail(self, "%s", err.detail);
    } else if (env_output) {
        printf("HOOKD_TENANT_ID=%" PRId64 "\nHOOKD_API_KEY=%s\nHOOKD_PASSPHRASE=%s\n", id, k.key,
               passphrase);
    } else {
        printf("Created tenant '%s' (id %" PRId64 ").\n"
               "  API key:    %s\n"
               "  Passphrase: %s\n"
               "Store them now: they are not shown again.\n",
               name, id, k.key, passphrase);
    }
    db_close(conn);
    sodium_memzero(&k, sizeof(k));
    sodium_memzero(passphrase, sizeof(passphrase));
    return rc;
}

static int tenant_list(const struct config *cfg, const struct cli_command *self, int argc,
                       char **argv)
{
    static const struct cli_column cols[] = {
        { "tenant", "TENANT", 0 },         { "tenant_id", "ID", 0 },
        { "key_hint", "KEY", 0 },          { "created", "CREATED", 0 },
        { "endpoints", "ENDPOINTS", 0 },   { "subscriptions", "SUBSCRIPTIONS", 0 },
        { "events", "EVENTS", 0 },         { "failed_deliveries", "FAILED", 0 },
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
    if (rc == 0 && db_admin_tenants(conn, tenant_id, &rows, &err) != 0)
        rc = cli_fail(self, "%s", err.detail);
    if (rc == 0)
        cli_print_rows(cols, N_OF(cols), rows, opts[1].given, "tenants");
    json_object_put(rows);
    db_close(conn);
    return rc;
}

static int tenant_rotate_key(const struct config *cfg, const struct cli_command *self, int argc,
                             char **argv)
{
    struct cli_option opts[] = { { "--output", "text|env", NULL, false } };
    static const char *const pos_names[] = { "NAME" };
    const char *name = NULL;
    int rc = 0;
    if (!cli_parse(self, argc, argv, opts, N_OF(opts), pos_names, &name, 1, &rc))
        return rc;
    int env_output = output_env(&opts[0]);
    if (env_output < 0)
        return cli_usage_error(self, "--output must be text or env, not '%s'", opts[0].value);
    struct db_conn *conn = cli_connect(cfg, self);
    if (conn == NULL)
        return 1;
    struct new_key k;
    struct hk_error err;
    int64_t id = 0;
    new_key_make(&k);
    int found = db_admin_rotate_key(conn, name, k.hash, k.hint, &id, &err);
    if (found < 0)
        rc = cli_fail(self, "%s", err.detail);
    else if (found == 0)
        rc = cli_fail(self, "no tenant named '%s'", name);
    else if (env_output)
        printf("HOOKD_TENANT_ID=%" PRId64 "\nHOOKD_API_KEY=%s\n", id, k.key);
    else
        printf("New API key of tenant '%s' (id %" PRId64 "):\n"
               "  API key:    %s\n"
               "Store it now: it is not shown again. The old key no longer works (API\n"
               "processes may accept it for up to HOOKD_AUTH_CACHE_S seconds more).\n",
               name, id, k.key);
    db_close(conn);
    sodium_memzero(&k, sizeof(k));
    return rc;
}

static const struct cli_command tenant_commands[] = {
    { "tenant", "create", "hookd tenant create NAME [--rate-limit N] [--output text|env]",
      "  Creates a marketplace and prints its API key and passphrase once; hookd\n"
      "  stores only a hash of the key. --rate-limit: API requests per second for\n"
      "  this tenant (0: none; default HOOKD_TENANT_RATE_LIMIT). --output env prints\n"
      "  HOOKD_TENANT_ID=, HOOKD_API_KEY= and HOOKD_PASSPHRASE= lines for scripts.\n",
      tenant_create },
    { "tenant", "list", "hookd tenant list [--tenant NAME] [--json]",
      "  Every tenant: name, id, the first characters of its API key, when it was\n"
      "  created, and how many endpoints, subscriptions, events and failed\n"
      "  deliveries it has.\n",
      tenant_list },
    { "tenant", "rotate-key", "hookd tenant rotate-key NAME [--output text|env]",
      "  Gives the tenant a new API key, printed once; the old key stops working\n"
      "  (each API process may still accept it for HOOKD_AUTH_CACHE_S seconds, the\n"
      "  life of its key cache). The passphrase is unchanged.\n",
      tenant_rotate_key },
};

int cmd_tenant(const struct config *cfg, int argc, char **argv)
{
    return cli_dispatch(cfg, tenant_commands, N_OF(tenant_commands), argc, argv);
}
