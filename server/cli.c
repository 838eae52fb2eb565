/* cli.c - the plumbing the operator subcommands share. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "db_admin.h"
#include "secrets.h"
#include "time_arg.h"

static void print_command_name(FILE *out, const struct cli_command *self)
{
    fprintf(out, "hookd %s%s%s: ", self->group, self->name ? " " : "",
            self->name ? self->name : "");
}

static void print_usage(FILE *out, const struct cli_command *cmds, size_t n, bool full)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s %s\n", i == 0 ? "usage:" : "      ", cmds[i].synopsis);
        if (full)
            fputs(cmds[i].help, out);
    }
}

int cli_dispatch(const struct config *cfg, const struct cli_command *cmds, size_t n, int argc,
                 char **argv)
{
    if (n == 1 && cmds[0].name == NULL)
        return cmds[0].run(cfg, &cmds[0], argc, argv);
    const char *group = cmds[0].group;
    for (size_t i = 0; argc >= 1 && i < n; i++) {
        if (strcmp(argv[0], cmds[i].name) == 0)
            return cmds[i].run(cfg, &cmds[i], argc - 1, argv + 1);
    }
    /* No subcommand named: --help anywhere asks for the group's help. */
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_usage(stdout, cmds, n, true);
            return 0;
        }
    }
    if (argc == 0)
        fprintf(stderr, "hookd %s: missing subcommand\n", group);
    else
        fprintf(stderr, "hookd %s: unknown subcommand '%.100s'\n", group, argv[0]);
    print_usage(stderr, cmds, n, false);
    fprintf(stderr, "See 'hookd %s --help'.\n", group);
    return 2;
}

bool cli_parse(const struct cli_command *self, int argc, char **argv, struct cli_option *opts,
               size_t n_opts, const char *const *pos_names, const char **pos, size_t n_pos,
               int *exit_code)
{
    struct hk_error err;
    switch (cli_args_parse(argc, argv, opts, n_opts, pos_names, pos, n_pos, &err)) {
    case CLI_ARGS_OK:
        return true;
    case CLI_ARGS_HELP:
        print_usage(stdout, self, 1, true);
        *exit_code = 0;
        return false;
    case CLI_ARGS_ERROR:
    default:
        *exit_code = cli_usage_error(self, "%s", err.detail);
        return false;
    }
}

int cli_usage_error(const struct cli_command *self, const char *fmt, ...)
{
    va_list ap;
    print_command_name(stderr, self);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    print_usage(stderr, self, 1, false);
    fprintf(stderr, "See 'hookd %s%s%s --help'.\n", self->group, self->name ? " " : "",
            self->name ? self->name : "");
    return 2;
}

int cli_fail(const struct cli_command *self, const char *fmt, ...)
{
    va_list ap;
    print_command_name(stderr, self);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

struct db_conn *cli_connect(const struct config *cfg, const struct cli_command *self)
{
    struct hk_error err;
    struct db_conn *conn = db_connect(cfg->database_url, &err);
    if (conn == NULL)
        cli_fail(self, "%s", err.detail);
    return conn;
}

bool cli_load_master_key(const struct config *cfg, const struct cli_command *self)
{
    struct hk_error err;
    if (secrets_load(cfg, &err) == 0)
        return true;
    cli_fail(self, "%s", err.detail);
    return false;
}

int cli_tenant_filter(struct db_conn *conn, const struct cli_command *self, const char *name,
                      int64_t *id)
{
    struct hk_error err;
    *id = 0;
    if (name == NULL)
        return 0;
    int found = db_admin_tenant_id(conn, name, id, &err);
    if (found < 0)
        return cli_fail(self, "%s", err.detail);
    if (found == 0)
        return cli_fail(self, "no tenant named '%s'", name);
    return 0;
}

int cli_single_owner(const struct cli_command *self, struct json_object *owners,
                     const char *kind, const char *what, int64_t *id, const char **name)
{
    size_t n = json_object_array_length(owners);
    if (n == 0)
        return cli_fail(self, "no %s '%s'", kind, what);
    if (n > 1) {
        char names[256] = "";
        size_t used = 0;
        for (size_t i = 0; i < n && used < sizeof(names); i++) {
            struct json_object *o = json_object_array_get_idx(owners, i), *t;
            json_object_object_get_ex(o, "tenant", &t);
            int w = snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
                             json_object_get_string(t));
            used += w < 0 ? 0 : (size_t)w;
        }
        return cli_usage_error(self, "%s '%s' exists under %zu tenants (%s): choose one with "
                                     "--tenant NAME",
                               kind, what, n, names);
    }
    struct json_object *o = json_object_array_get_idx(owners, 0), *v;
    json_object_object_get_ex(o, "tenant_id", &v);
    *id = json_object_get_int64(v);
    json_object_object_get_ex(o, "tenant", &v);
    *name = json_object_get_string(v);
    return 0;
}

int cli_since(const struct cli_command *self, const char *text, char out[32])
{
    struct hk_error err;
    int64_t ms = 0;
    if (time_arg_parse(text, clock_wall_ms(), &ms, &err) != 0)
        return cli_usage_error(self, "--since: %s", err.detail);
    time_arg_format(ms, out);
    return 0;
}

void cli_print_rows(const struct cli_column *cols, size_t n_cols, struct json_object *rows,
                    bool json, const char *none)
{
    if (json_object_array_length(rows) == 0) {
        if (isatty(STDOUT_FILENO))
            printf("no %s\n", none);
        return;
    }
    cli_table_print(stdout, cols, n_cols, rows, json);
}

void cli_progress_start(struct cli_progress *p, const char *label, long total)
{
    p->on = isatty(STDERR_FILENO) == 1;
    p->label = label;
    p->total = total;
    cli_progress_update(p, 0, NULL);
}

void cli_progress_update(struct cli_progress *p, long done, const char *detail)
{
    if (!p->on)
        return;
    /* \r and erase-line: redraw in place. */
    fprintf(stderr, "\r\033[K%s %ld/%ld%s%s", p->label, done, p->total, detail ? " " : "",
            detail ? detail : "");
    fflush(stderr);
}

void cli_progress_end(struct cli_progress *p)
{
    if (p->on)
        fputc('\n', stderr);
    p->on = false;
}
