/* cli_args.c - option and argument parsing of the operator subcommands. */
#include "cli_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct cli_option *cli_args_option(struct cli_option *opts, size_t n_opts, const char *name)
{
    for (size_t i = 0; i < n_opts; i++) {
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    }
    return NULL;
}

/* The option arg names ("--x" or "--x=v"), or NULL. */
static struct cli_option *find(struct cli_option *opts, size_t n_opts, const char *arg)
{
    size_t len = strcspn(arg, "=");
    for (size_t i = 0; i < n_opts; i++) {
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, arg, len) == 0)
            return &opts[i];
    }
    return NULL;
}

enum cli_args_result cli_args_parse(int argc, char **argv, struct cli_option *opts, size_t n_opts,
                                    const char *const *pos_names, const char **pos, size_t n_pos,
                                    struct hk_error *err)
{
    size_t n_seen = 0;
    bool options_done = false;
    for (size_t i = 0; i < n_opts; i++) {
        opts[i].value = NULL;
        opts[i].given = false;
    }
    for (size_t i = 0; i < n_pos; i++)
        pos[i] = NULL;
    /* --help wins over every other mistake on the line. */
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return CLI_ARGS_HELP;
    }
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            if (n_seen == n_pos) {
                hk_error_set(err, HK_ERR_INVALID, "unexpected argument '%.100s'", arg);
                return CLI_ARGS_ERROR;
            }
            pos[n_seen++] = arg;
            continue;
        }
        struct cli_option *o = find(opts, n_opts, arg);
        if (o == NULL) {
            hk_error_set(err, HK_ERR_INVALID, "unknown option '%.*s'", (int)strcspn(arg, "="),
                         arg);
            return CLI_ARGS_ERROR;
        }
        if (o->given) {
            hk_error_set(err, HK_ERR_INVALID, "option %s given twice", o->name);
            return CLI_ARGS_ERROR;
        }
        const char *eq = strchr(arg, '=');
        if (o->metavar == NULL) {
            if (eq != NULL) {
                hk_error_set(err, HK_ERR_INVALID, "option %s takes no value", o->name);
                return CLI_ARGS_ERROR;
            }
        } else if (eq != NULL) {
            o->value = eq + 1;
        } else if (i + 1 < argc) {
            o->value = argv[++i];
        } else {
            hk_error_set(err, HK_ERR_REQUIRED, "option %s needs a value (%s)", o->name,
                         o->metavar);
            return CLI_ARGS_ERROR;
        }
        o->given = true;
    }
    if (n_seen < n_pos) {
        hk_error_set(err, HK_ERR_REQUIRED, "missing %s", pos_names[n_seen]);
        return CLI_ARGS_ERROR;
    }
    return CLI_ARGS_OK;
}

int cli_args_long(const char *text, long min, long max, long *out)
{
    size_t len = strlen(text);
    if (len == 0 || len > 18 || strspn(text, "0123456789") != len)
        return -1;
    errno = 0;
    long v = strtol(text, NULL, 10);
    if (errno != 0 || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}
