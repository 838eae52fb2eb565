#!/bin/sh
# valgrind-hookd.sh ARGS... - runs build/hookd under valgrind (memcheck):
# any invalid access or definite/indirect leak makes the process exit 99,
# which fails the integration test that ran it. Used by `make test-valgrind`
# through HOOKD_BIN.
here=$(cd "$(dirname "$0")/.." && pwd)
exec valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
    --log-file="${HOOKD_TEST_LOG_DIR:-/tmp}/valgrind.%p.log" \
    "$here/${BUILD:-build}/hookd" "$@"
