#!/usr/bin/env bash
# install-deps.sh [build|run|test|ui|bench] - installs the Debian packages hookd needs
# for that purpose when they are missing. Idempotent and silent when nothing
# is missing. Needs root or passwordless sudo to install; otherwise it names
# the packages and the command to run.
set -euo pipefail

purpose=${1:-build}
build_pkgs=(gcc make pkg-config libmicrohttpd-dev libpq-dev libjson-c-dev
            libcurl4-openssl-dev libsodium-dev ca-certificates)
server_pkgs=(postgresql)
test_pkgs=(libcmocka-dev python3 python3-pytest python3-psycopg2 curl valgrind)
# The dashboard's browser test (make test-ui) drives Debian's Chromium.
ui_pkgs=(chromium)
# make bench / bench-smoke: wrk loads the API, curl asks the tools for
# their figures; pgbench comes with the server package (postgresql-NN).
bench_pkgs=(wrk curl)
# node and npm run the independent signature verifier (tests/interop) and
# the dashboard's browser test (tests/ui); any
# install of them will do, so they count as present when the commands exist.
# promtool (Debian packages it only inside prometheus) parses /metrics in
# tests/integration/test_metrics.py.
test_cmds=(node:nodejs npm:npm promtool:prometheus)

wanted=("${build_pkgs[@]}")
case "$purpose" in
    build) ;;
    run)
        # A configured database means no private cluster, so no server package.
        if [ -z "${HOOKD_DATABASE_URL:-}" ]; then wanted+=("${server_pkgs[@]}"); fi ;;
    test) wanted+=("${server_pkgs[@]}" "${test_pkgs[@]}") ;;
    ui) wanted+=("${server_pkgs[@]}" "${ui_pkgs[@]}") ;;
    bench) wanted+=("${server_pkgs[@]}" "${bench_pkgs[@]}") ;;
    *) echo "usage: $0 [build|run|test|ui|bench]" >&2; exit 2 ;;
esac

have_pkg() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Any PostgreSQL server from 14 up satisfies "postgresql" (the SQL needs 14+).
have_pg_server() {
    local initdb
    for initdb in /usr/lib/postgresql/*/bin/initdb; do
        [ -x "$initdb" ] || continue
        local v; v=$(basename "$(dirname "$(dirname "$initdb")")")
        [ "${v%%.*}" -ge 14 ] 2>/dev/null && return 0
    done
    return 1
}

missing=()
if [ "$purpose" = test ] || [ "$purpose" = ui ]; then
    for pair in "${test_cmds[@]}"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
fi
for p in "${wanted[@]}"; do
    if [ "$p" = postgresql ]; then
        have_pg_server || missing+=("$p")
    else
        have_pkg "$p" || missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "hookd: missing packages: ${missing[*]} (install them with your package manager)" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "hookd: missing packages: ${missing[*]}" >&2
    echo "       run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "hookd: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
