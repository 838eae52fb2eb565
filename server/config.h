/* config.h - every setting hookd reads, described by one table.
 *
 * Each setting comes from an environment variable (HOOKD_*), can be
 * overridden by a command-line flag, and has a default, bounds and help text.
 * The same table prints `--help` and the README's configuration section
 * (`hookd config --markdown`), so they cannot drift apart. The config is
 * filled once in main and is read-only after the first thread starts. */
#ifndef HOOKD_CONFIG_H
#define HOOKD_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

struct config {
    char *database_url;
    char *listen_addr;
    long port;
    long http_threads;
    long db_pool_size;
    long db_acquire_timeout_ms;
    long max_body_bytes;
    long connection_timeout_s;
    long request_read_timeout_s;
    long auth_cache_s;
    long event_cache_mb;
    long max_url_bytes;
    long max_header_bytes;
    long max_fields;
    long max_json_depth;
    long max_connections;
    long max_connections_per_ip;
    long subscribe_timeout_ms;
    long subscribe_threads;
    long publish_batch;
    long publish_threads;
    char *log_level;
    char *log_format;          /* text or json */
    char *metrics_listen;      /* ADDR:PORT of the separate metrics listener, or "" */
    char *metrics_token;       /* bearer token /metrics asks for, or "" */
    bool migrate_on_start;
    /* the delivery engine */
    long workers;
    long max_in_flight;
    long claim_batch;
    long poll_interval_ms;
    long lease_s;
    long connect_timeout_ms;
    long request_timeout_ms;
    long max_redirects;
    char *retry_schedule;
    char *allow_private_targets;
    char *master_key;
    char *master_key_file;
    char *allowed_ports;
    long retry_jitter_pct;
    long retry_after_max_s;
    long response_body_max;
    long secret_overlap_s;
    long shutdown_timeout_s;
    long tenant_rate_limit;
    long endpoint_max_in_flight;
    long endpoint_rate_limit;
    bool endpoint_sign_v1a;
    long breaker_threshold;
    long disable_after_s;
};

/* Fills every field with its default. Strings are owned by the config. */
void config_defaults(struct config *cfg);
/* Applies HOOKD_* variables from the environment. */
int config_load_env(struct config *cfg, struct hk_error *err) __attribute__((warn_unused_result));
/* Applies one setting by its environment name (HOOKD_PORT) or flag name
 * (port). Returns 0, or -1 with err naming the setting. */
int config_set(struct config *cfg, const char *name, const char *value, struct hk_error *err)
    __attribute__((warn_unused_result));
/* Consumes leading `--flag=value` / `--flag value` arguments that name
 * settings, starting at argv[*index]; stops at the first argument that is
 * not a known flag and leaves *index there. */
int config_parse_flags(struct config *cfg, int argc, char **argv, int *index, struct hk_error *err)
    __attribute__((warn_unused_result));
void config_free(struct config *cfg);

/* Prints the settings as help text or as a Markdown table. */
void config_print_help(FILE *out);
void config_print_markdown(FILE *out);

#endif
