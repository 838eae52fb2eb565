/* test_config.c - protects config.c, the settings table: the documented
 * defaults, setting by environment name or flag name, integer bounds and
 * syntax, booleans and log levels, and command-line flag parsing that stops
 * at the first argument it does not own. A refused value must leave the
 * setting untouched and name it in the error. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "rows.h"

/* One field of struct config and the value it should hold. */
enum field_kind { F_LONG, F_BOOL, F_STR };

struct field_value {
    enum field_kind kind;
    size_t offset;
    long l;              /* F_LONG, and F_BOOL as 0/1 */
    const char *s;       /* F_STR */
};

#define LONGF(f, v) { F_LONG, offsetof(struct config, f), v, NULL }
#define BOOLF(f, v) { F_BOOL, offsetof(struct config, f), v, NULL }
#define STRF(f, v) { F_STR, offsetof(struct config, f), 0, v }

static void assert_field(const struct config *cfg, const struct field_value *want)
{
    const char *base = (const char *)cfg + want->offset;
    switch (want->kind) {
    case F_LONG:
        assert_int_equal(*(const long *)(const void *)base, want->l);
        break;
    case F_BOOL:
        assert_int_equal(*(const bool *)(const void *)base, want->l != 0);
        break;
    case F_STR:
        assert_non_null(*(char *const *)(const void *)base);
        assert_string_equal(*(char *const *)(const void *)base, want->s);
        break;
    }
}

/* ---- defaults ---------------------------------------------------------- */

struct default_case {
    const char *what;
    struct field_value value;
};

static const struct default_case default_cases[] = {
    { "port", LONGF(port, 8080) },
    { "listen", STRF(listen_addr, "127.0.0.1") },
    { "max_body_bytes", LONGF(max_body_bytes, 1048576) },
    { "subscribe_timeout_ms", LONGF(subscribe_timeout_ms, 5000) },
    { "database_url", STRF(database_url, "") },
    { "http_threads", LONGF(http_threads, 4) },
    { "db_pool_size", LONGF(db_pool_size, 8) },
    { "db_acquire_timeout_ms", LONGF(db_acquire_timeout_ms, 5000) },
    { "connection_timeout_s", LONGF(connection_timeout_s, 30) },
    { "log_level", STRF(log_level, "info") },
    { "migrate_on_start", BOOLF(migrate_on_start, 1) },
};

static void test_default(void **state)
{
    const struct default_case *c = *state;
    struct config cfg;
    config_defaults(&cfg);
    assert_field(&cfg, &c->value);
    config_free(&cfg);
}

/* ---- config_set -------------------------------------------------------- */

/* config_set(name, value) on defaults; afterwards the field holds want
 * (for a refusal: still its default) and a refusal names env_name. */
struct set_case {
    const char *name;
    const char *value;
    bool ok;
    struct field_value want;
};

#define SET_OK(n, v, want) { n, v, true, want }
#define SET_BAD(n, v, dflt) { n, v, false, dflt }

static const struct set_case set_cases[] = {
    SET_OK("HOOKD_PORT", "9000", LONGF(port, 9000)),
    SET_OK("port", "9000", LONGF(port, 9000)),
    SET_OK("port", "0", LONGF(port, 0)),
    SET_OK("port", "65535", LONGF(port, 65535)),
    SET_BAD("port", "65536", LONGF(port, 8080)),
    SET_BAD("port", "-1", LONGF(port, 8080)),
    SET_BAD("HOOKD_PORT", "12x", LONGF(port, 8080)),
    SET_BAD("HOOKD_PORT", " 80", LONGF(port, 8080)),    /* strtol would skip the space */
    SET_BAD("HOOKD_PORT", "+80", LONGF(port, 8080)),
    SET_BAD("port", "", LONGF(port, 8080)),
    SET_BAD("port", "x", LONGF(port, 8080)),
    SET_BAD("port", "1.5", LONGF(port, 8080)),
    SET_BAD("port", "99999999999999999999", LONGF(port, 8080)),   /* overflows long */
    SET_OK("HOOKD_LISTEN_ADDR", "::1", STRF(listen_addr, "::1")),
    SET_OK("listen", "0.0.0.0", STRF(listen_addr, "0.0.0.0")),
    SET_OK("database-url", "postgres://h/db", STRF(database_url, "postgres://h/db")),
    SET_OK("max-body-bytes", "1024", LONGF(max_body_bytes, 1024)),
    SET_BAD("max-body-bytes", "1023", LONGF(max_body_bytes, 1048576)),
    SET_OK("HOOKD_MAX_BODY_BYTES", "67108864", LONGF(max_body_bytes, 67108864)),
    SET_BAD("HOOKD_MAX_BODY_BYTES", "67108865", LONGF(max_body_bytes, 1048576)),
    SET_BAD("subscribe-timeout-ms", "99", LONGF(subscribe_timeout_ms, 5000)),
    SET_OK("subscribe-timeout-ms", "100", LONGF(subscribe_timeout_ms, 100)),
    SET_BAD("http-threads", "0", LONGF(http_threads, 4)),
    SET_BAD("db-pool-size", "257", LONGF(db_pool_size, 8)),
    SET_OK("migrate-on-start", "false", BOOLF(migrate_on_start, 0)),
    SET_OK("migrate-on-start", "0", BOOLF(migrate_on_start, 0)),
    SET_OK("migrate-on-start", "no", BOOLF(migrate_on_start, 0)),
    SET_OK("migrate-on-start", "off", BOOLF(migrate_on_start, 0)),
    SET_OK("HOOKD_MIGRATE_ON_START", "OFF", BOOLF(migrate_on_start, 0)),
    SET_BAD("migrate-on-start", "maybe", BOOLF(migrate_on_start, 1)),
    SET_BAD("migrate-on-start", "", BOOLF(migrate_on_start, 1)),
    SET_BAD("migrate-on-start", "2", BOOLF(migrate_on_start, 1)),
    SET_OK("log-level", "debug", STRF(log_level, "debug")),
    SET_OK("log-level", "warn", STRF(log_level, "warn")),
    SET_OK("HOOKD_LOG_LEVEL", "error", STRF(log_level, "error")),
    SET_BAD("log-level", "verbose", STRF(log_level, "info")),
    SET_BAD("log-level", "", STRF(log_level, "info")),
};

static void test_set(void **state)
{
    const struct set_case *c = *state;
    struct config cfg;
    struct hk_error err;
    config_defaults(&cfg);
    hk_error_clear(&err);
    int rc = config_set(&cfg, c->name, c->value, &err);
    if (c->ok) {
        assert_int_equal(rc, 0);
    } else {
        assert_int_equal(rc, -1);
        assert_int_equal(err.code, HK_ERR_INVALID);
        assert_non_null(strstr(err.detail, "HOOKD_"));
    }
    assert_field(&cfg, &c->want);
    config_free(&cfg);
}

/* Booleans start from the opposite value, so each row shows a change. */
struct bool_case {
    const char *value;
    bool want;
};

static const struct bool_case bool_cases[] = {
    { "true", true }, { "1", true }, { "yes", true }, { "on", true }, { "TRUE", true },
    { "Yes", true },  { "false", false }, { "0", false }, { "no", false }, { "off", false },
};

static void test_bool(void **state)
{
    const struct bool_case *c = *state;
    struct config cfg;
    struct hk_error err;
    config_defaults(&cfg);
    cfg.migrate_on_start = !c->want;
    assert_int_equal(config_set(&cfg, "HOOKD_MIGRATE_ON_START", c->value, &err), 0);
    assert_int_equal(cfg.migrate_on_start, c->want);
    config_free(&cfg);
}

/* Names that are neither an environment name nor a flag name. */
static const char *const unknown_names[] = { "HOOKD_NOPE", "nope", "PORT", "--port",
                                             "hookd_port", "HOOKD_PORT ", "" };

static void test_unknown_setting(void **state)
{
    const char *const *name = *state;
    struct config cfg;
    struct hk_error err;
    config_defaults(&cfg);
    hk_error_clear(&err);
    assert_int_equal(config_set(&cfg, *name, "1", &err), -1);
    assert_int_equal(err.code, HK_ERR_INVALID);
    assert_int_equal(cfg.port, 8080);
    config_free(&cfg);
}

/* ---- config_parse_flags ------------------------------------------------ */

struct flags_case {
    const char *what;
    const char *argv[6];       /* NULL-terminated; argc is the count */
    int start;
    int rc;
    int index;                 /* *index afterwards (on success) */
    long port;
    const char *listen;
};

static const struct flags_case flags_cases[] = {
    { "--port 9000", { "--port", "9000" }, 0, 0, 2, 9000, "127.0.0.1" },
    { "--port=9000", { "--port=9000" }, 0, 0, 1, 9000, "127.0.0.1" },
    { "two flags", { "--port=1", "--listen", "::" }, 0, 0, 3, 1, "::" },
    { "from an index", { "serve", "--port=7" }, 1, 0, 2, 7, "127.0.0.1" },
    { "last one wins", { "--port=1", "--port=2" }, 0, 0, 2, 2, "127.0.0.1" },
    { "stops at a non-flag", { "--port=1", "serve", "--port=2" }, 0, 0, 1, 1, "127.0.0.1" },
    { "stops at an unknown flag", { "--port=1", "--nope", "--port=2" }, 0, 0, 1, 1,
      "127.0.0.1" },
    { "stops at --", { "--", "--port=2" }, 0, 0, 0, 8080, "127.0.0.1" },
    { "stops at --help", { "--help" }, 0, 0, 0, 8080, "127.0.0.1" },
    { "env names are not flags", { "--HOOKD_PORT=1" }, 0, 0, 0, 8080, "127.0.0.1" },
    { "single dash is not a flag", { "-port", "1" }, 0, 0, 0, 8080, "127.0.0.1" },
    { "no arguments", { NULL }, 0, 0, 0, 8080, "127.0.0.1" },
    { "empty value", { "--listen=" }, 0, 0, 1, 8080, "" },
    { "--port without a value", { "--port" }, 0, -1, 0, 8080, "127.0.0.1" },
    { "--port=", { "--port=" }, 0, -1, 0, 8080, "127.0.0.1" },
    { "--port 12x", { "--port", "12x" }, 0, -1, 0, 8080, "127.0.0.1" },
    { "--port 65536", { "--port", "65536" }, 0, -1, 0, 8080, "127.0.0.1" },
};

static void test_flags(void **state)
{
    const struct flags_case *c = *state;
    char *argv[7];
    int argc = 0;
    while (c->argv[argc] != NULL) {
        argv[argc] = (char *)c->argv[argc];
        argc++;
    }
    argv[argc] = NULL;
    struct config cfg;
    struct hk_error err;
    config_defaults(&cfg);
    hk_error_clear(&err);
    int index = c->start;
    int rc = config_parse_flags(&cfg, argc, argv, &index, &err);
    assert_int_equal(rc, c->rc);
    if (rc == 0)
        assert_int_equal(index, c->index);
    else
        assert_int_not_equal(err.code, HK_OK);
    assert_int_equal(cfg.port, c->port);
    assert_string_equal(cfg.listen_addr, c->listen);
    config_free(&cfg);
}

/* config_free releases every string and may be called twice. */
static void test_free_twice(void **state)
{
    (void)state;
    struct config cfg;
    struct hk_error err;
    config_defaults(&cfg);
    assert_int_equal(config_set(&cfg, "listen", "::1", &err), 0);
    config_free(&cfg);
    assert_null(cfg.listen_addr);
    assert_null(cfg.database_url);
    assert_null(cfg.log_level);
    config_free(&cfg);
}

/* ---- one cmocka test per row ------------------------------------------- */

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(default_cases); i++)
        rows_add(test_default, &default_cases[i], "default %s", default_cases[i].what);
    for (size_t i = 0; i < ROWS_COUNT(set_cases); i++)
        rows_add(test_set, &set_cases[i], "set %s=\"%s\" %s", set_cases[i].name,
                 set_cases[i].value, set_cases[i].ok ? "accepted" : "refused");
    for (size_t i = 0; i < ROWS_COUNT(bool_cases); i++)
        rows_add(test_bool, &bool_cases[i], "bool \"%s\"", bool_cases[i].value);
    for (size_t i = 0; i < ROWS_COUNT(unknown_names); i++)
        rows_add(test_unknown_setting, &unknown_names[i], "unknown setting \"%s\" refused",
                 unknown_names[i]);
    for (size_t i = 0; i < ROWS_COUNT(flags_cases); i++)
        rows_add(test_flags, &flags_cases[i], "flags: %s", flags_cases[i].what);
    rows_add(test_free_twice, NULL, "config_free releases and resets");
    return rows_run("config", NULL, NULL);
}
