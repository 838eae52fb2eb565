/* cmd_admin.c - operator subcommands: migrate, tenant, event-type. */
#include <inttypes.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "db.h"
#include "db_event_types.h"
#include "db_tenants.h"
#include "log.h"
#include "migrate.h"
#include "secrets.h"
#include "token.h"

/* Commands that read or write secrets need the master key. */
static bool load_master_key(const struct config *cfg, const char *command)
{
    struct hk_error err;
    if (secrets_load(cfg, &err) == 0)
        return true;
    fprintf(stderr, "hookd %s: %s\n", command, err.detail);
    return false;
}

static struct db_conn *connect_or_report(const struct config *cfg)
{
    struct hk_error err;
    struct db_conn *conn = db_connect(cfg->database_url, &err);
    if (conn == NULL)
        fprintf(stderr, "hookd: %s\n", err.detail);
    return conn;
}

int commands_migrate_database(const struct config *cfg, int *applied, struct hk_error *err)
{
    int keyed = 0;
    struct db_conn *conn = db_connect(cfg->database_url, err);
    int rc = conn == NULL || migrate_run(conn, applied, err) != 0 ||
                     db_tenants_backfill_signing_keys(conn, &keyed, err) != 0
                 ? -1
                 : 0;
    db_close(conn);
    return rc;
}

int cmd_migrate(const struct config *cfg, int argc, char **argv)
{
    if (argc > 0) {
        fprintf(stderr, "hookd migrate: unexpected argument '%s'\n", argv[0]);
        return 2;
    }
    struct hk_error err;
    int applied = 0;
    if (!load_master_key(cfg, "migrate"))
        return 1;
    if (commands_migrate_database(cfg, &applied, &err) != 0) {
        fprintf(stderr, "hookd migrate: %s\n", err.detail);
        return 1;
    }
    printf("%d migration%s applied; schema is current\n", applied, applied == 1 ? "" : "s");
    return 0;
}

static const char tenant_usage[] =
    "usage: hookd tenant create NAME [--rate-limit N] [--output text|env]\n"
    "  Creates a marketplace and prints its API key and passphrase once;\n"
    "  hookd stores only a hash of the key. --rate-limit: API requests per\n"
    "  second for this tenant (0: none; default HOOKD_TENANT_RATE_LIMIT).\n";

/* A rate limit option: a number >= 0. */
static bool rate_limit_valid(const char *text)
{
    char *end = NULL;
    double v = strtod(text, &end);
    return text[0] >= '0' && text[0] <= '9' && end != text && *end == '\0' && v >= 0 &&
           v <= 1e9;
}

int cmd_tenant(const struct config *cfg, int argc, char **argv)
{
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        fputs(tenant_usage, stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[0], "create") != 0) {
        fputs(tenant_usage, stderr);
        return 2;
    }
    bool env_output = false;
    const char *rate_limit = NULL;
    for (int i = 2; i < argc; i += 2) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--output") == 0 && value != NULL &&
            (strcmp(value, "env") == 0 || strcmp(value, "text") == 0)) {
            env_output = strcmp(value, "env") == 0;
        } else if (strcmp(argv[i], "--rate-limit") == 0 && value != NULL &&
                   rate_limit_valid(value)) {
            rate_limit = value;
        } else {
            fputs(tenant_usage, stderr);
            return 2;
        }
    }
    const char *name = argv[1];
    if (!load_master_key(cfg, "tenant create"))
        return 1;
    char key[TOKEN_SECRET_LEN + 1], passphrase[TOKEN_SECRET_LEN + 1];
    unsigned char hash[TOKEN_HASH_LEN];
    char hint[12];
    token_api_key(key);
    token_passphrase(passphrase);
    token_hash(key, strlen(key), hash);
    snprintf(hint, sizeof(hint), "%.7s", key);

    struct hk_error err;
    int64_t id = 0;
    struct db_conn *conn = connect_or_report(cfg);
    if (conn == NULL)
        return 1;
    int rc = db_tenants_create(conn, name, hash, hint, passphrase, rate_limit, &id, &err);
    db_close(conn);
    if (rc != 0) {
        fprintf(stderr, "hookd tenant create: %s\n", err.detail);
        return 1;
    }
    if (env_output)
        printf("HOOKD_TENANT_ID=%" PRId64 "\nHOOKD_API_KEY=%s\nHOOKD_PASSPHRASE=%s\n", id, key,
               passphrase);
    else
        printf("Created tenant '%s' (id %" PRId64 ").\n"
               "  API key:    %s\n"
               "  Passphrase: %s\n"
               "Store them now: they are not shown again.\n",
               name, id, key, passphrase);
    sodium_memzero(key, sizeof(key));
    sodium_memzero(passphrase, sizeof(passphrase));
    return 0;
}

static const char event_type_usage[] =
    "usage: hookd event-type add NAME [--description TEXT]\n"
    "       hookd event-type list\n"
    "  NAME is lowercase dot-separated words of [a-z0-9_], e.g. payment.refunded.\n";

int cmd_event_type(const struct config *cfg, int argc, char **argv)
{
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        fputs(event_type_usage, stdout);
        return 0;
    }
    struct hk_error err;
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        struct json_object *list = NULL;
        struct db_conn *conn = connect_or_report(cfg);
        if (conn == NULL)
            return 1;
        int rc = db_event_types_list(conn, &list, &err);
        db_close(conn);
        if (rc != 0) {
            fprintf(stderr, "hookd event-type list: %s\n", err.detail);
            return 1;
        }
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            struct json_object *t = json_object_array_get_idx(list, i), *name, *desc;
            json_object_object_get_ex(t, "name", &name);
            json_object_object_get_ex(t, "description", &desc);
            printf("%-32s %s\n", json_object_get_string(name), json_object_get_string(desc));
        }
        json_object_put(list);
        return 0;
    }
    const char *description = "";
    if (argc == 4 && strcmp(argv[2], "--description") == 0) {
        description = argv[3];
        argc = 2;
    }
    if (argc != 2 || strcmp(argv[0], "add") != 0) {
        fputs(event_type_usage, stderr);
        return 2;
    }
    struct db_conn *conn = connect_or_report(cfg);
    if (conn == NULL)
        return 1;
    int rc = db_event_types_add(conn, argv[1], description, &err);
    db_close(conn);
    if (rc != 0) {
        fprintf(stderr, "hookd event-type add: %s\n", err.detail);
        return 1;
    }
    printf("Added event type '%s'.\n", argv[1]);
    return 0;
}

int cmd_master_key(const struct config *cfg, int argc, char **argv)
{
    (void)cfg;
    if (argc != 1 || strcmp(argv[0], "new") != 0) {
        fputs("usage: hookd master-key new\n"
              "  Prints a new random master key (base64 of 32 bytes) for HOOKD_MASTER_KEY or\n"
              "  HOOKD_MASTER_KEY_FILE. Keep it safe: without it sealed secrets cannot be read.\n",
              argc == 1 && strcmp(argv[0], "--help") == 0 ? stdout : stderr);
        return argc == 1 && strcmp(argv[0], "--help") == 0 ? 0 : 2;
    }
    char key[SECRETS_KEY_B64_LEN + 1];
    secrets_new_key_b64(key);
    printf("%s\n", key);
    sodium_memzero(key, sizeof(key));
    return 0;
}
