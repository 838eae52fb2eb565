/* test_cli_args.c - protects cli_args.c and cli_table.c, how every operator
 * subcommand reads its command line and prints rows: options with values
 * (`--x V`, `--x=V`), switches, positionals anywhere, `--`, --help winning
 * over mistakes, and a one-line message for each mistake (unknown option,
 * twice, value missing or given to a switch, missing or extra argument);
 * numbers for --limit; aligned tables and JSON lines. If this fails,
 * commands accept what they should refuse or say the wrong thing. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "cli_table.h"
#include "rows.h"

#define MAX_ARGS 8

struct args_case {
    const char *argv[MAX_ARGS];    /* NULL-terminated */
    int result;                    /* enum cli_args_result */
    const char *detail;            /* with CLI_ARGS_ERROR: the message */
    const char *name, *since;      /* with CLI_ARGS_OK: the positional and --since */
    bool json;
};

static const struct args_case args_cases[] = {
    { { "acme", NULL }, CLI_ARGS_OK, NULL, "acme", NULL, false },
    { { "acme", "--since", "2h", "--json", NULL }, CLI_ARGS_OK, NULL, "acme", "2h", true },
    { { "--since=2h", "acme", NULL }, CLI_ARGS_OK, NULL, "acme", "2h", false },
    { { "--since", "--json", "acme", NULL }, CLI_ARGS_OK, NULL, "acme", "--json", false },
    { { "--since=", "acme", NULL }, CLI_ARGS_OK, NULL, "acme", "", false },
    { { "--", "--json", NULL }, CLI_ARGS_OK, NULL, "--json", NULL, false },
    { { "-", NULL }, CLI_ARGS_OK, NULL, "-", NULL, false },
    { { "--help", NULL }, CLI_ARGS_HELP, NULL, NULL, NULL, false },
    { { "-h", NULL }, CLI_ARGS_HELP, NULL, NULL, NULL, false },
    { { "--bogus", "x", "y", "--help", NULL }, CLI_ARGS_HELP, NULL, NULL, NULL, false },
    { { "--", "--help", NULL }, CLI_ARGS_OK, NULL, "--help", NULL, false },
    { { NULL }, CLI_ARGS_ERROR, "missing NAME", NULL, NULL, false },
    { { "--json", NULL }, CLI_ARGS_ERROR, "missing NAME", NULL, NULL, false },
    { { "a", "b", NULL }, CLI_ARGS_ERROR, "unexpected argument 'b'", NULL, NULL, false },
    { { "a", "--bogus", NULL }, CLI_ARGS_ERROR, "unknown option '--bogus'", NULL, NULL, false },
    { { "a", "--bogus=1", NULL }, CLI_ARGS_ERROR, "unknown option '--bogus'", NULL, NULL, false },
    { { "a", "-x", NULL }, CLI_ARGS_ERROR, "unknown option '-x'", NULL, NULL, false },
    { { "a", "--sinc", "1h", NULL }, CLI_ARGS_ERROR, "unknown option '--sinc'", NULL, NULL,
      false },
    { { "a", "--since", NULL }, CLI_ARGS_ERROR, "option --since needs a value (T)", NULL, NULL,
      false },
    { { "a", "--json=yes", NULL }, CLI_ARGS_ERROR, "option --json takes no value", NULL, NULL,
      false },
    { { "a", "--json", "--json", NULL }, CLI_ARGS_ERROR, "option --json given twice", NULL,
      NULL, false },
    { { "a", "--since", "1h", "--since=2h", NULL }, CLI_ARGS_ERROR,
      "option --since given twice", NULL, NULL, false },
};

static void test_args(void **state)
{
    const struct args_case *c = *state;
    struct cli_option opts[] = { { "--since", "T", "stale", true }, { "--json", NULL, NULL, true } };
    static const char *const names[] = { "NAME" };
    const char *pos[1] = { "stale" };
    char *argv[MAX_ARGS];
    int argc = 0;
    while (c->argv[argc] != NULL) {
        argv[argc] = (char *)c->argv[argc];
        argc++;
    }
    struct hk_error err;
    hk_error_clear(&err);
    assert_int_equal(cli_args_parse(argc, argv, opts, 2, names, pos, 1, &err), c->result);
    if (c->result == CLI_ARGS_ERROR)
        assert_string_equal(err.detail, c->detail);
    if (c->result != CLI_ARGS_OK)
        return;
    assert_string_equal(pos[0], c->name);
    if (c->since == NULL) {
        assert_null(opts[0].value);
        assert_false(opts[0].given);
    } else {
        assert_string_equal(opts[0].value, c->since);
        assert_true(opts[0].given);
    }
    assert_int_equal(opts[1].given, c->json);
    assert_ptr_equal(cli_args_option(opts, 2, "--json"), &opts[1]);
    assert_null(cli_args_option(opts, 2, "--nope"));
}

struct long_case {
    const char *text;
    int rc;
    long value;
};

static const struct long_case long_cases[] = {
    { "1", 0, 1 },       { "100", 0, 100 },  { "100000", 0, 100000 }, { "0", -1, 0 },
    { "100001", -1, 0 }, { "", -1, 0 },      { "-1", -1, 0 },         { "+5", -1, 0 },
    { "5x", -1, 0 },     { " 5", -1, 0 },    { "1e3", -1, 0 },        { "0x10", -1, 0 },
    { "99999999999999999999", -1, 0 },
};

static void test_long(void **state)
{
    const struct long_case *c = *state;
    long v = -7;
    assert_int_equal(cli_args_long(c->text, 1, 100000, &v), c->rc);
    assert_int_equal(v, c->rc == 0 ? c->value : -7);
}

/* What cli_table_print writes for rows (JSON text) in either mode. */
static char *printed(const char *rows_json, bool json)
{
    static const struct cli_column cols[] = { { "name", "NAME", 0 },
                                              { "n", "N", 0 },
                                              { "error", "ERROR", 8 } };
    struct json_object *rows = json_tokener_parse(rows_json);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    cli_table_print(f, cols, 3, rows, json);
    fclose(f);
    json_object_put(rows);
    return out;
}

static void test_table(void **state)
{
    (void)state;
    char *out = printed("[{\"name\":\"acme\",\"n\":12,\"error\":null},"
                        "{\"name\":\"b\\u00e9ta\",\"n\":3,\"error\":\"line\\none\\ttwo three\"}]",
                        false);
    assert_string_equal(out, "NAME  N   ERROR\n"
                             "acme  12  -\n"
                             "b\xc3\xa9ta  3   line ...\n");
    free(out);
    out = printed("[{\"name\":\"a/b\",\"n\":1,\"extra\":true}]", true);
    assert_string_equal(out, "{\"name\":\"a/b\",\"n\":1,\"extra\":true}\n");
    free(out);
    out = printed("[]", false);
    assert_string_equal(out, "");
    free(out);
    out = printed("[]", true);
    assert_string_equal(out, "");
    free(out);
}

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(args_cases); i++) {
        char name[160] = "";
        for (size_t a = 0; args_cases[i].argv[a] != NULL; a++) {
            strncat(name, " ", sizeof(name) - strlen(name) - 1);
            strncat(name, args_cases[i].argv[a], sizeof(name) - strlen(name) - 1);
        }
        rows_add(test_args, &args_cases[i], "args:%s", name);
    }
    for (size_t i = 0; i < ROWS_COUNT(long_cases); i++)
        rows_add(test_long, &long_cases[i], "long \"%s\"", long_cases[i].text);
    rows_add(test_table, NULL, "table and JSON lines");
    return rows_run("cli_args", NULL, NULL);
}
