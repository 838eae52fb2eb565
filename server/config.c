/* config.c - the settings table and its parsers. Pure: no I/O except the
 * print functions, so unit tests reach every rule. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "destination.h"
#include "metrics_http.h"
#include "retry.h"
#include "xmalloc.h"

enum setting_type { SETTING_STRING, SETTING_LONG, SETTING_BOOL, SETTING_LOG_LEVEL };

/* Checks a string setting's value; 0, or -1 with err. */
typedef int (*setting_check_fn)(const char *value, struct hk_error *err);

struct setting {
    const char *env;
    const char *flag;
    enum setting_type type;
    size_t offset;
    const char *def;
    long min, max;
    const char *help;
    setting_check_fn check;     /* optional, for SETTING_STRING */
};

static int check_schedule(const char *value, struct hk_error *err)
{
    struct retry_policy policy;
    if (retry_policy_init(&policy, value, 0, 0, err) != 0)
        return -1;
    retry_policy_free(&policy);
    return 0;
}

static int check_allowlist(const char *value, struct hk_error *err)
{
    struct destination_policy policy;
    if (destination_policy_init(&policy, value, "", err) != 0)
        return -1;
    destination_policy_free(&policy);
    return 0;
}

static int check_ports(const char *value, struct hk_error *err)
{
    struct destination_policy policy;
    if (destination_policy_init(&policy, "", value, err) != 0)
        return -1;
    destination_policy_free(&policy);
    return 0;
}

static int check_log_format(const char *value, struct hk_error *err)
{
    enum log_format format;
    (void)err;
    return log_format_parse(value, &format);
}

static int check_metrics_listen(const char *value, struct hk_error *err)
{
    struct sockaddr_storage addr;
    return value[0] == '\0' ? 0 : metrics_listen_parse(value, &addr, err);
}

#define FIELD(name) offsetof(struct config, name)

static const struct setting settings[] = {
    { "HOOKD_DATABASE_URL", "database-url", SETTING_STRING, FIELD(database_url), "", 0, 0,
      "PostgreSQL connection string (URL or key=value). Empty: libpq's PG* environment defaults. "
      "`make run` and `make test` point it at a private cluster when unset.", NULL },
    { "HOOKD_LISTEN_ADDR", "listen", SETTING_STRING, FIELD(listen_addr), "127.0.0.1", 0, 0,
      "IPv4 or IPv6 address the HTTP API listens on.", NULL },
    { "HOOKD_PORT", "port", SETTING_LONG, FIELD(port), "8080", 0, 65535,
      "TCP port of the HTTP API (0 picks a free port and logs it).", NULL },
    { "HOOKD_HTTP_THREADS", "http-threads", SETTING_LONG, FIELD(http_threads), "4", 1, 256,
      "Threads serving HTTP requests.", NULL },
    { "HOOKD_DB_POOL_SIZE", "db-pool-size", SETTING_LONG, FIELD(db_pool_size), "8", 1, 256,
      "PostgreSQL connections shared by the HTTP threads.", NULL },
    { "HOOKD_DB_ACQUIRE_TIMEOUT_MS", "db-acquire-timeout-ms", SETTING_LONG,
      FIELD(db_acquire_timeout_ms), "5000", 1, 600000,
      "How long a request waits for a free database connection before answering 503.", NULL },
    { "HOOKD_MAX_BODY_BYTES", "max-body-bytes", SETTING_LONG, FIELD(max_body_bytes), "1048576",
      1024, 64L * 1024 * 1024, "Largest accepted request body; larger bodies get 413.", NULL },
    { "HOOKD_CONNECTION_TIMEOUT_S", "connection-timeout-s", SETTING_LONG,
      FIELD(connection_timeout_s), "30", 1, 3600,
      "Idle HTTP connections are closed after this many seconds.", NULL },
    { "HOOKD_AUTH_CACHE_S", "auth-cache-s", SETTING_LONG, FIELD(auth_cache_s), "10", 0, 3600,
      "How long each API process remembers a valid API key; a deleted key keeps working this "
      "long. 0: look every key up in the database.", NULL },
    { "HOOKD_EVENT_CACHE_MB", "event-cache-mb", SETTING_LONG, FIELD(event_cache_mb), "32", 0,
      65536, "Memory for stored events kept by each API process, so `GET /events/{id}` needs no "
      "database round trip (events never change). 0: off.", NULL },
    { "HOOKD_REQUEST_READ_TIMEOUT_S", "request-read-timeout-s", SETTING_LONG,
      FIELD(request_read_timeout_s), "20", 1, 3600,
      "A request (line, headers and body) must arrive within this many seconds of its first "
      "byte, or of the connection opening; slower clients are disconnected (slowloris).", NULL },
    { "HOOKD_MAX_URL_BYTES", "max-url-bytes", SETTING_LONG, FIELD(max_url_bytes), "8192", 256,
      1024L * 1024, "Longest accepted request target (path and query); longer ones get 414.",
      NULL },
    { "HOOKD_MAX_HEADER_BYTES", "max-header-bytes", SETTING_LONG, FIELD(max_header_bytes),
      "16384", 1024, 1024L * 1024,
      "Largest accepted request head (request line and headers); larger ones get 431.", NULL },
    { "HOOKD_MAX_FIELDS", "max-fields", SETTING_LONG, FIELD(max_fields), "100", 1, 10000,
      "Most parameters in a query string, form body or JSON body; more get 400.", NULL },
    { "HOOKD_MAX_JSON_DEPTH", "max-json-depth", SETTING_LONG, FIELD(max_json_depth), "64", 1,
      1000, "Deepest nesting of objects and arrays accepted in JSON input; deeper gets 400.",
      NULL },
    { "HOOKD_MAX_CONNECTIONS", "max-connections", SETTING_LONG, FIELD(max_connections), "1024",
      1, 65536, "Most open HTTP connections; further connections are closed at once (at least "
      "one per HTTP thread).", NULL },
    { "HOOKD_MAX_CONNECTIONS_PER_IP", "max-connections-per-ip", SETTING_LONG,
      FIELD(max_connections_per_ip), "0", 0, 65536,
      "Most open HTTP connections from one client address; 0: no per-address limit. Set it when "
      "clients connect directly rather than through a proxy.", NULL },
    { "HOOKD_SUBSCRIBE_TIMEOUT_MS", "subscribe-timeout-ms", SETTING_LONG,
      FIELD(subscribe_timeout_ms), "5000", 100, 60000,
      "Total time allowed for the test POST that `POST /events/subscribe` sends to a new URL.", NULL },
    { "HOOKD_SUBSCRIBE_THREADS", "subscribe-threads", SETTING_LONG, FIELD(subscribe_threads),
      "4", 1, 256, "Threads that run subscribe requests (and their test POSTs) off the HTTP "
      "threads, so slow receivers cannot stall the API; more subscribes at once wait their turn.",
      NULL },
    { "HOOKD_PUBLISH_BATCH", "publish-batch", SETTING_LONG, FIELD(publish_batch), "256", 1, 10000,
      "Most concurrent `POST /events` that share one transaction and commit (group commit); 1 "
      "commits each on its own. No publish waits for others to arrive: a batch is whatever is "
      "queued when a publish thread is free.", NULL },
    { "HOOKD_PUBLISH_THREADS", "publish-threads", SETTING_LONG, FIELD(publish_threads), "1", 1,
      64, "Threads (each with a pooled database connection while it works) that write queued "
      "publishes in batches. One writer takes everything that queued while its previous batch "
      "committed, so batches grow with the load; more writers split the queue into smaller "
      "batches that each pay a commit.", NULL },
    { "HOOKD_LOG_LEVEL", "log-level", SETTING_LOG_LEVEL, FIELD(log_level), "info", 0, 0,
      "Least severe level logged: debug, info, warn or error.", NULL },
    { "HOOKD_LOG_FORMAT", "log-format", SETTING_STRING, FIELD(log_format), "text", 0, 0,
      "`text` (a line per entry: time, level, message, `key=value` ids) or `json` (one JSON "
      "object per line with `ts`, `level`, `msg` and the ids as fields).", check_log_format },
    { "HOOKD_METRICS_LISTEN", "metrics-listen", SETTING_STRING, FIELD(metrics_listen), "", 0, 0,
      "`ADDR:PORT` (`127.0.0.1:9464`, `[::1]:9464`; port 0 picks one and logs it) of a separate "
      "listener for `GET /metrics` and `GET /healthz`, for `hookd worker`, which has no API "
      "listener. Empty: none (`serve` and `api` answer `/metrics` on the API listener anyway).",
      check_metrics_listen },
    { "HOOKD_METRICS_TOKEN", "metrics-token", SETTING_STRING, FIELD(metrics_token), "", 0, 0,
      "When set, `GET /metrics` needs `Authorization: Bearer <token>` (401 otherwise), on both "
      "listeners. Empty: `/metrics` is open, like `/healthz`.", NULL },
    { "HOOKD_MIGRATE_ON_START", "migrate-on-start", SETTING_BOOL, FIELD(migrate_on_start), "true",
      0, 0, "Apply pending migrations when `hookd serve` starts (advisory-locked, safe with many processes).", NULL },
    { "HOOKD_WORKERS", "workers", SETTING_LONG, FIELD(workers), "2", 1, 64,
      "Delivery worker threads (`serve`, `worker`); each has two database connections (claims, "
      "attempt records) and its own libcurl multi handle.", NULL },
    { "HOOKD_MAX_IN_FLIGHT", "max-in-flight", SETTING_LONG, FIELD(max_in_flight), "256", 1, 10000,
      "Concurrent HTTP requests per worker thread.", NULL },
    { "HOOKD_CLAIM_BATCH", "claim-batch", SETTING_LONG, FIELD(claim_batch), "64", 1, 10000,
      "Most deliveries (and pending events) one worker claims per database round trip.", NULL },
    { "HOOKD_POLL_INTERVAL_MS", "poll-interval-ms", SETTING_LONG, FIELD(poll_interval_ms), "1000",
      10, 60000, "How often idle workers look for due retries; new events wake them at once "
      "(LISTEN/NOTIFY).", NULL },
    { "HOOKD_LEASE_S", "lease-s", SETTING_LONG, FIELD(lease_s), "60", 1, 3600,
      "A claimed delivery belongs to its worker this long; the lease is renewed while the request "
      "runs, and a crashed worker's deliveries are claimed again once it expires.", NULL },
    { "HOOKD_CONNECT_TIMEOUT_MS", "connect-timeout-ms", SETTING_LONG, FIELD(connect_timeout_ms),
      "5000", 100, 600000, "Connection timeout of a delivery.", NULL },
    { "HOOKD_REQUEST_TIMEOUT_MS", "request-timeout-ms", SETTING_LONG, FIELD(request_timeout_ms),
      "15000", 100, 3600000, "Total time a delivery request may take, redirects included.", NULL },
    { "HOOKD_MAX_REDIRECTS", "max-redirects", SETTING_LONG, FIELD(max_redirects), "3", 0, 10,
      "Redirects (301, 302, 303, 307, 308) a delivery follows, re-POSTing the same body.", NULL },
    { "HOOKD_RETRY_SCHEDULE", "retry-schedule", SETTING_STRING, FIELD(retry_schedule), "", 0, 0,
      "Waits before each retry, comma-separated (`30s,5m,1h`; units ms, s, m, h). Empty: Okanjo's "
      "schedule, retry n after min(2^(n-1), 64) minutes, 30 retries (about 26.6 h).",
      check_schedule },
    { "HOOKD_ALLOW_PRIVATE_TARGETS", "allow-private-targets", SETTING_STRING,
      FIELD(allow_private_targets), "", 0, 0,
      "CIDRs (`10.0.0.0/8,::1/128`) that webhook URLs may reach although they are not public. "
      "Empty: only public addresses (loopback, private, link-local, CGNAT, multicast and reserved "
      "ranges are refused, in IPv4 and IPv6 forms).", check_allowlist },
    { "HOOKD_MASTER_KEY", "master-key", SETTING_STRING, FIELD(master_key), "", 0, 0,
      "Base64 of the 32-byte key that seals secrets at rest (endpoint secrets, signing keys, "
      "passphrases). `hookd master-key new` makes one. Prefer the file form.", NULL },
    { "HOOKD_MASTER_KEY_FILE", "master-key-file", SETTING_STRING, FIELD(master_key_file), "", 0,
      0, "A file (mode 600) holding the master key; `make run` and `make test` create "
      "`.data/master.key` for their private databases.", NULL },
    { "HOOKD_ALLOWED_PORTS", "allowed-ports", SETTING_STRING, FIELD(allowed_ports), "", 0, 0,
      "Ports webhook URLs may use (`80,443,8000-8999`). Empty: any port.", check_ports },
    { "HOOKD_RETRY_JITTER_PCT", "retry-jitter-pct", SETTING_LONG, FIELD(retry_jitter_pct), "20", 0,
      100, "Random spread of each retry delay, in percent either way.", NULL },
    { "HOOKD_RETRY_AFTER_MAX_S", "retry-after-max-s", SETTING_LONG, FIELD(retry_after_max_s),
      "3600", 0, 604800, "Longest `Retry-After` (on 429 and 503) that is honoured.", NULL },
    { "HOOKD_RESPONSE_BODY_MAX", "response-body-max", SETTING_LONG, FIELD(response_body_max),
      "4096", 0, 1048576, "Bytes of a receiver's answer kept in the attempt log.", NULL },
    { "HOOKD_SECRET_OVERLAP_S", "secret-overlap-s", SETTING_LONG, FIELD(secret_overlap_s), "86400",
      0, 2592000, "After a secret rotation, the old secret also signs deliveries this long.", NULL },
    { "HOOKD_SHUTDOWN_TIMEOUT_S", "shutdown-timeout-s", SETTING_LONG, FIELD(shutdown_timeout_s),
      "10", 0, 3600, "On SIGTERM, how long in-flight deliveries may finish before their leases "
      "are released for another worker.", NULL },
    { "HOOKD_TENANT_RATE_LIMIT", "tenant-rate-limit", SETTING_LONG, FIELD(tenant_rate_limit),
      "100", 0, 1000000, "API requests per second per tenant, in each API process (429 with "
      "Retry-After beyond it); 0 means no limit. Per tenant: `hookd tenant create NAME "
      "--rate-limit N` (the `make run` dev tenant has none). Bursts of two seconds' worth pass.",
      NULL },
    { "HOOKD_ENDPOINT_MAX_IN_FLIGHT", "endpoint-max-in-flight", SETTING_LONG,
      FIELD(endpoint_max_in_flight), "32", 1, 10000,
      "Concurrent requests to one endpoint, across all workers and processes (per-endpoint "
      "override: `POST /events/endpoints/configure`).", NULL },
    { "HOOKD_ENDPOINT_RATE_LIMIT", "endpoint-rate-limit", SETTING_LONG,
      FIELD(endpoint_rate_limit), "0", 0, 1000000,
      "Requests per second to one endpoint; 0 means no limit (per-endpoint override as above).", NULL },
    { "HOOKD_ENDPOINT_SIGN_V1A", "endpoint-sign-v1a", SETTING_BOOL, FIELD(endpoint_sign_v1a),
      "false", 0, 0,
      "Sign deliveries with v1a (Ed25519, the tenant's key) besides v1 (HMAC-SHA256, the "
      "endpoint's secret); per-endpoint override as above. An Ed25519 signature costs about "
      "five times an HMAC.", NULL },
    { "HOOKD_BREAKER_THRESHOLD", "breaker-threshold", SETTING_LONG, FIELD(breaker_threshold),
      "5", 1, 100000, "Consecutive failed attempts after which an endpoint's circuit opens: its "
      "queued deliveries wait with the failing one, then a single probe is sent.", NULL },
    { "HOOKD_DISABLE_AFTER_S", "disable-after-s", SETTING_LONG, FIELD(disable_after_s),
      "432000", 1, 31536000, "An endpoint failing continuously this long (default 5 days) is "
      "disabled; its events are kept for a replay after `POST /events/endpoints/enable`.", NULL },
};

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

static int parse_bool(const char *value, bool *out)
{
    static const char *const yes[] = { "1", "true", "yes", "on" };
    static const char *const no[] = { "0", "false", "no", "off" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static int apply(struct config *cfg, const struct setting *s, const char *value,
                 struct hk_error *err)
{
    char *base = (char *)cfg + s->offset;
    switch (s->type) {
    case SETTING_STRING:
    case SETTING_LOG_LEVEL: {
        if (s->type == SETTING_LOG_LEVEL) {
            enum log_level level;
            if (log_level_parse(value, &level) != 0)
                goto invalid;
        }
        if (s->check != NULL && s->check(value, err) != 0)
            goto invalid;
        char **field = (char **)(void *)base;
        free(*field);
        *field = xstrdup(value);
        return 0;
    }
    case SETTING_LONG: {
        char *end = NULL;
        errno = 0;
        long v = strtol(value, &end, 10);
        /* strtol would also take leading spaces and a '+'; settings don't. */
        bool digits_first = (value[0] >= '0' && value[0] <= '9') || value[0] == '-';
        if (!digits_first || errno != 0 || end == value || *end != '\0' || v < s->min ||
            v > s->max)
            goto invalid;
        *(long *)(void *)base = v;
        return 0;
    }
    case SETTING_BOOL: {
        bool v;
        if (parse_bool(value, &v) != 0)
            goto invalid;
        *(bool *)(void *)base = v;
        return 0;
    }
    }
invalid:
    if (s->type == SETTING_LONG)
        hk_error_set(err, HK_ERR_INVALID, "%s: expected an integer from %ld to %ld, got '%s'",
                     s->env, s->min, s->max, value);
    else
        hk_error_set(err, HK_ERR_INVALID, "%s: invalid value '%s'", s->env, value);
    return -1;
}

void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < N_SETTINGS; i++) {
        struct hk_error err;
        if (apply(cfg, &settings[i], settings[i].def, &err) != 0)
            abort(); /* a default outside its own bounds is a programming error */
    }
}

int config_load_env(struct config *cfg, struct hk_error *err)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const char *value = getenv(settings[i].env);
        if (value != NULL && apply(cfg, &settings[i], value, err) != 0)
            return -1;
    }
    return 0;
}

static const struct setting *find_setting(const char *name, size_t name_len)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        if ((strlen(s->env) == name_len && strncmp(s->env, name, name_len) == 0) ||
            (strlen(s->flag) == name_len && strncmp(s->flag, name, name_len) == 0))
            return s;
    }
    return NULL;
}

int config_set(struct config *cfg, const char *name, const char *value, struct hk_error *err)
{
    const struct setting *s = find_setting(name, strlen(name));
    if (s == NULL) {
        hk_error_set(err, HK_ERR_INVALID, "unknown setting '%s'", name);
        return -1;
    }
    return apply(cfg, s, value, err);
}

int config_parse_flags(struct config *cfg, int argc, char **argv, int *index, struct hk_error *err)
{
    while (*index < argc) {
        const char *arg = argv[*index];
        if (strncmp(arg, "--", 2) != 0)
            return 0;
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        const struct setting *s = find_setting(name, name_len);
        if (s == NULL || strncmp(name, "HOOKD_", 6) == 0)
            return 0;
        const char *value;
        if (eq != NULL) {
            value = eq + 1;
            *index += 1;
        } else if (*index + 1 < argc) {
            value = argv[*index + 1];
            *index += 2;
        } else {
            hk_error_set(err, HK_ERR_REQUIRED, "--%s needs a value", s->flag);
            return -1;
        }
        if (apply(cfg, s, value, err) != 0)
            return -1;
    }
    return 0;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (settings[i].type == SETTING_STRING || settings[i].type == SETTING_LOG_LEVEL) {
            char **field = (char **)(void *)((char *)cfg + settings[i].offset);
            free(*field);
            *field = NULL;
        }
    }
}

void config_print_help(FILE *out)
{
    fprintf(out, "Settings (environment variable, flag, default):\n");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        fprintf(out, "  %-28s --%-22s default: %s\n      %s\n", s->env, s->flag,
                s->def[0] ? s->def : "(empty)", s->help);
    }
}

void config_print_markdown(FILE *out)
{
    fprintf(out, "| Variable | Flag | Default | Meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        fprintf(out, "| `%s` | `--%s` | %s%s%s | %s |\n", s->env, s->flag,
                s->def[0] ? "`" : "", s->def[0] ? s->def : "(empty)", s->def[0] ? "`" : "",
                s->help);
    }
}
