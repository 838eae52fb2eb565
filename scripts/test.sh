#!/usr/bin/env bash
# test.sh - every test: the unit tests (cmocka), then the integration tests
# (pytest) against a throwaway PostgreSQL cluster that this script starts and
# removes, the real hookd binary, and real HTTP receivers on 127.0.0.1.
# Ends with one line "N passed, N failed" and exits non-zero on any failure.
# Expects `make build unit` to have run (make test does both).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}

passed=0
failed=0

echo "== unit tests"
for t in "$BUILD"/tests/test_*; do
    [ -z "${HOOKD_SKIP_UNIT:-}" ] || break
    [ -x "$t" ] || continue
    out=$("$t" 2>&1)
    rc=$?
    echo "$out" | grep -E '^\[  (PASSED|FAILED|  OK|ERROR)' | grep -v '^\[       OK' || true
    p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
        echo "$out"
        echo "$t exited with $rc"
        failed=$((failed + 1))
    fi
done

echo "== integration tests"
# The independent signature verifier's packages (pinned by package-lock.json).
if [ ! -d tests/interop/node_modules/standardwebhooks ]; then
    (cd tests/interop && npm ci --no-audit --no-fund --silent) || {
        echo "could not install tests/interop's npm packages"; echo "0 passed, 1 failed"; exit 1; }
fi
pgdir=$(mktemp -d "$PWD/.data/test-pg.XXXXXX" 2>/dev/null || { mkdir -p .data && mktemp -d "$PWD/.data/test-pg.XXXXXX"; })
chmod 755 "$pgdir"
cleanup() {
    [ -n "${HOOKD_KEEP_LOGS:-}" ] && cp -r "$HOOKD_TEST_LOG_DIR" "$HOOKD_KEEP_LOGS" 2>/dev/null
    scripts/pg.sh stop "$pgdir" || true
    rm -rf "$pgdir"
}
trap cleanup EXIT
if ! url=$(scripts/pg.sh start "$pgdir" --throwaway); then
    echo "could not start a throwaway PostgreSQL"
    echo "0 passed, $((failed + 1)) failed"
    exit 1
fi
export HOOKD_TEST_DATABASE_URL=$url
# A master key for this run's sealed secrets, readable only by us.
(umask 077 && "$PWD/$BUILD/hookd" master-key new > "$pgdir/master.key")
export HOOKD_MASTER_KEY_FILE="$pgdir/master.key"
# Every hookd process of the run logs here; the last test greps them for secrets.
export HOOKD_TEST_LOG_DIR="$pgdir/logs"
mkdir -p "$HOOKD_TEST_LOG_DIR"
export HOOKD_BIN=${HOOKD_BIN:-"$PWD/$BUILD/hookd"}
junit="$pgdir/junit.xml"
# Test files or directories among the arguments replace the whole suite.
targets=(tests/integration)
for arg in "$@"; do
    case $arg in tests/*) targets=(); break ;; esac
done
/usr/bin/python3 -m pytest "${targets[@]}" -q -p no:cacheprovider --junitxml="$junit" "$@"
counts=$(/usr/bin/python3 - "$junit" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 1"); sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - sk, f)
PY
)
passed=$((passed + ${counts% *}))
failed=$((failed + ${counts#* }))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
