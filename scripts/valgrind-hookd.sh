#!/bin/sh
# valgrind-hookd.sh ARGS... - runs build/hookd under valgrind (memcheck):
# any invalid access or definite/indirect leak makes the process exit 99,
# which fails the integration test that ran it. scripts/test-sanitizers.sh
# passes it to scripts/test.sh as HOOKD_BIN.
#
# One exception, within a test run (HOOKD_TEST_LOG_DIR set): `tenant create`
# is how nearly every test makes its tenant, a few hundred times a run down
# the same code path, and under valgrind each one costs about a second of a
# core. Only the first one of the run is checked; the others run the same
# binary directly. Every other command, and every server, runs under valgrind.
here=$(cd "$(dirname "$0")/.." && pwd)
hookd="$here/${BUILD:-build}/hookd"
if [ -n "${HOOKD_TEST_LOG_DIR:-}" ] && [ "${1:-}" = tenant ] && [ "${2:-}" = create ] &&
    ! mkdir "$HOOKD_TEST_LOG_DIR/valgrind-checked-tenant-create" 2>/dev/null; then
    exec "$hookd" "$@"
fi
exec valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
    --log-file="${HOOKD_TEST_LOG_DIR:-/tmp}/valgrind.%p.log" \
    "$hookd" "$@"
