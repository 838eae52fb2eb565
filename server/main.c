/* main.c - hookd: global set-up, configuration, and the subcommand. */
#include <curl/curl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "version.h"

static const char usage[] =
    "hookd " HOOKD_VERSION " - events and signed webhooks over PostgreSQL\n"
    "\n"
    "usage: hookd [FLAGS] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  serve                      apply migrations (unless disabled), serve the API and deliver\n"
    "  api                        the API alone (scale it apart from the workers)\n"
    "  worker                     the delivery workers alone\n"
    "  migrate                    apply pending database migrations and exit\n"
    "  tenant create NAME         create a marketplace; prints its API key and passphrase once\n"
    "  tenant list                tenants with their key hints and counts\n"
    "  tenant rotate-key NAME     a new API key for a tenant, printed once\n"
    "  event-type add NAME        add an event type to the catalog (--description TEXT)\n"
    "  event-type list            list the catalog\n"
    "  subscriptions list         who is subscribed to what (--tenant NAME)\n"
    "  deliveries list            deliveries by --state, --since, --endpoint, --tenant\n"
    "  replay --since T           re-queue failed deliveries (--endpoint URL, --tenant NAME)\n"
    "  endpoint disable URL       pause an endpoint (--reason TEXT)\n"
    "  endpoint enable URL        resume it and replay what was kept\n"
    "  events show ID             a stored event with its deliveries and attempts\n"
    "  master-key new             print a new master key for sealing secrets at rest\n"
    "  config --markdown          print the settings as a Markdown table\n"
    "  --help, --version\n"
    "\n"
    "Flags (before or after COMMAND) override the environment: --port 9000, --port=9000.\n"
    "Every command has --help. Lists print a table, or one JSON object per line with --json.\n"
    "Exit codes: 0 done (also when nothing matched), 1 not found or a database error,\n"
    "2 a wrong command line.\n"
    "\n";

struct command {
    const char *name;
    int (*run)(const struct config *cfg, int argc, char **argv);
};

static const struct command commands[] = {
    { "serve", cmd_serve },
    { "api", cmd_api },
    { "worker", cmd_worker },
    { "migrate", cmd_migrate },
    { "tenant", cmd_tenant },
    { "event-type", cmd_event_type },
    { "master-key", cmd_master_key },
    { "subscriptions", cmd_subscriptions },
    { "deliveries", cmd_deliveries },
    { "replay", cmd_replay },
    { "endpoint", cmd_endpoint },
    { "events", cmd_events },
};

int main(int argc, char **argv)
{
    int rc = 2;
    struct config cfg;
    struct hk_error err;
    int index = 1;

    config_defaults(&cfg);
    if (config_load_env(&cfg, &err) != 0 || config_parse_flags(&cfg, argc, argv, &index, &err) != 0) {
        fprintf(stderr, "hookd: %s\n", err.detail);
        goto out;
    }
    if (index >= argc || strcmp(argv[index], "--help") == 0 || strcmp(argv[index], "-h") == 0 ||
        strcmp(argv[index], "help") == 0) {
        fputs(usage, index >= argc ? stderr : stdout);
        config_print_help(index >= argc ? stderr : stdout);
        rc = index >= argc ? 2 : 0;
        goto out;
    }
    if (strcmp(argv[index], "--version") == 0 || strcmp(argv[index], "version") == 0) {
        printf("hookd %s\n", HOOKD_VERSION);
        rc = 0;
        goto out;
    }
    if (strcmp(argv[index], "config") == 0) {
        if (argc == index + 2 && strcmp(argv[index + 1], "--markdown") == 0) {
            config_print_markdown(stdout);
            rc = 0;
        } else {
            fprintf(stderr, "usage: hookd config --markdown\n");
        }
        goto out;
    }

    const struct command *cmd = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[index], commands[i].name) == 0)
            cmd = &commands[i];
    }
    if (cmd == NULL) {
        fprintf(stderr, "hookd: unknown command '%s' (see hookd --help)\n", argv[index]);
        goto out;
    }
    /* Setting flags may also follow the command name. */
    index++;
    if (config_parse_flags(&cfg, argc, argv, &index, &err) != 0) {
        fprintf(stderr, "hookd: %s\n", err.detail);
        goto out;
    }
    enum log_level level;
    if (log_level_parse(cfg.log_level, &level) == 0)
        log_threshold = level;
    enum log_format format;
    if (log_format_parse(cfg.log_format, &format) == 0)
        log_format = format;

    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "hookd: cannot initialise libsodium or libcurl\n");
        rc = 1;
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    rc = cmd->run(&cfg, argc - index, argv + index);
    curl_global_cleanup();
out:
    config_free(&cfg);
    return rc;
}
