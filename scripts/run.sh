#!/usr/bin/env bash
# run.sh - what `make run` does after building: a private PostgreSQL under
# .data/ (unless HOOKD_DATABASE_URL is set), migrations, a development
# tenant on first start (its key is printed then and kept in
# .data/dev-tenant.env), and `hookd serve` on 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
hookd="$PWD/$BUILD/hookd"

if [ -z "${HOOKD_DATABASE_URL:-}" ]; then
    mkdir -p .data
    HOOKD_DATABASE_URL=$(scripts/pg.sh start "$PWD/.data/pg")
    export HOOKD_DATABASE_URL
    echo "hookd: private PostgreSQL running in .data/pg (stop it with: scripts/pg.sh stop .data/pg)"
fi
# Secrets are sealed at rest with a master key; a development setup gets
# one of its own, readable only by its owner.
if [ -z "${HOOKD_MASTER_KEY:-}" ] && [ -z "${HOOKD_MASTER_KEY_FILE:-}" ]; then
    HOOKD_MASTER_KEY_FILE="$PWD/.data/master.key"
    if [ ! -s "$HOOKD_MASTER_KEY_FILE" ]; then
        mkdir -p .data
        (umask 077 && "$hookd" master-key new > "$HOOKD_MASTER_KEY_FILE")
        echo "hookd: created the master key .data/master.key (keep it: sealed secrets need it)"
    fi
    export HOOKD_MASTER_KEY_FILE
fi
"$hookd" migrate >/dev/null

# The dev tenant lives with its database: a new private cluster gets a new one.
tenant_file=${HOOKD_DEV_TENANT_FILE:-.data/pg/dev-tenant.env}
mkdir -p "$(dirname "$tenant_file")"
if [ ! -s "$tenant_file" ]; then
    umask 077
    if "$hookd" tenant create dev --rate-limit 0 --output env > "$tenant_file.tmp"; then
        mv "$tenant_file.tmp" "$tenant_file"
        echo "hookd: created the development tenant 'dev'"
    else
        rm -f "$tenant_file.tmp"
        echo "hookd: could not create the development tenant (does 'dev' exist already?)" >&2
    fi
fi
if [ -s "$tenant_file" ]; then
    # shellcheck disable=SC1090
    . "$tenant_file"
    echo "hookd: dev API key:    $HOOKD_API_KEY"
    echo "hookd: dev passphrase: $HOOKD_PASSPHRASE   (both kept in $tenant_file)"
    echo "hookd: try: curl -H \"Authorization: Bearer $HOOKD_API_KEY\" http://127.0.0.1:${HOOKD_PORT:-8080}/events/types"
fi
exec "$hookd" serve
