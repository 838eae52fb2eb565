/* cli_args.h - the options and arguments of one operator subcommand.
 *
 * Pure (no I/O): a subcommand describes its options and positional
 * arguments, and cli_args_parse fills them in from argv or says, in one
 * line, what is wrong. Options are `--name VALUE`, `--name=VALUE` or a bare
 * `--name` switch, in any order among the positionals; `--` ends options. */
#ifndef HOOKD_CLI_ARGS_H
#define HOOKD_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct cli_option {
    const char *name;      /* with its dashes: "--since" */
    const char *metavar;   /* "T" when it takes a value; NULL for a switch */
    const char *value;     /* out: the value (borrowed from argv), or NULL */
    bool given;            /* out */
};

enum cli_args_result {
    CLI_ARGS_OK = 0,
    CLI_ARGS_HELP = 1,     /* --help or -h was given: print the help, exit 0 */
    CLI_ARGS_ERROR = -1,   /* err->detail says what is wrong (one line) */
};

/* Parses argv[0..argc): the options in opts[0..n_opts) (values and `given`
 * reset first) and exactly n_pos positional arguments, named pos_names
 * (for "missing NAME"), into pos[0..n_pos). Errors: an unknown option, an
 * option given twice, a value missing or given to a switch, a missing or an
 * extra argument. */
enum cli_args_result cli_args_parse(int argc, char **argv, struct cli_option *opts, size_t n_opts,
                                    const char *const *pos_names, const char **pos, size_t n_pos,
                                    struct hk_error *err) __attribute__((warn_unused_result));

/* The option called name in opts (NULL when absent from the table). */
struct cli_option *cli_args_option(struct cli_option *opts, size_t n_opts, const char *name);

/* Reads a whole number in [min, max] (plain decimal digits, nothing else).
 * Returns 0, or -1 when text is not one. */
int cli_args_long(const char *text, long min, long max, long *out) __attribute__((warn_unused_result));

#endif
