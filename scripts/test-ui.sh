#!/usr/bin/env bash
# test-ui.sh - the dashboard's end-to-end test in a real browser: a
# throwaway PostgreSQL (scripts/pg.sh), then tests/ui/dashboard.test.mjs,
# which starts hookd and a receiver on 127.0.0.1 and drives Debian's
# Chromium headless through the dashboard. Screenshots go to
# build/ui-screenshots/. Ends with "N passed, N failed"; exits non-zero on
# any failure. Expects `make build` and Chromium (make test-ui does both).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}

if [ ! -d tests/ui/node_modules/playwright-core ]; then
    (cd tests/ui && npm ci --no-audit --no-fund --silent) || {
        echo "could not install tests/ui's npm packages"; echo "0 passed, 1 failed"; exit 1; }
fi
pgdir=$(mkdir -p .data && mktemp -d "$PWD/.data/ui-pg.XXXXXX")
chmod 755 "$pgdir"
cleanup() {
    scripts/pg.sh stop "$pgdir" || true
    rm -rf "$pgdir"
}
trap cleanup EXIT
if ! url=$(scripts/pg.sh start "$pgdir" --throwaway); then
    echo "could not start a throwaway PostgreSQL"
    echo "0 passed, 1 failed"
    exit 1
fi
(umask 077 && "$PWD/$BUILD/hookd" master-key new > "$pgdir/master.key")
export HOOKD_DATABASE_URL=$url
export HOOKD_MASTER_KEY_FILE="$pgdir/master.key"
export HOOKD_BIN=${HOOKD_BIN:-"$PWD/$BUILD/hookd"}
export HOOKD_UI_LOG="$pgdir/hookd.log"
export HOOKD_UI_SCREENSHOTS=${HOOKD_UI_SCREENSHOTS:-"$PWD/build/ui-screenshots"}
mkdir -p "$HOOKD_UI_SCREENSHOTS"
node tests/ui/dashboard.test.mjs
rc=$?
if [ $rc -ne 0 ] && [ -f "$HOOKD_UI_LOG" ]; then
    echo "--- hookd log (last 30 lines)"
    tail -n 30 "$HOOKD_UI_LOG"
fi
exit $rc
