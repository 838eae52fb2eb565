#!/usr/bin/env bash
# Lint the OpenAPI description with a pinned, repo-local Redocly CLI.
#
# Usage: scripts/lint-openapi.sh [extra redocly lint args...]
#
# Installs @redocly/cli into .tools/redocly (only when the pinned version is
# not already there), then runs `redocly lint api/openapi.yaml` with the
# rules from redocly.yaml. Exits non-zero on lint errors.
set -euo pipefail

REDOCLY_VERSION="2.77.0"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TOOLS_DIR="$ROOT/.tools/redocly"
BIN="$TOOLS_DIR/node_modules/.bin/redocly"
PKG_JSON="$TOOLS_DIR/node_modules/@redocly/cli/package.json"

installed_version() {
    [ -f "$PKG_JSON" ] || return 0
    node -e 'process.stdout.write(require(process.argv[1]).version)' "$PKG_JSON" 2>/dev/null || true
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "lint-openapi: node and npm are required" >&2
    exit 2
fi

# @redocly/cli 2.x needs Node.js >= 20.19 (20.x) or >= 22.12.
if ! node -e '
    const [maj, min] = process.versions.node.split(".").map(Number);
    process.exit((maj === 20 && min >= 19) || (maj === 22 && min >= 12) || maj > 22 ? 0 : 1);
'; then
    echo "lint-openapi: @redocly/cli $REDOCLY_VERSION needs Node.js >= 20.19 or >= 22.12 (found $(node --version))" >&2
    exit 2
fi

if [ ! -x "$BIN" ] || [ "$(installed_version)" != "$REDOCLY_VERSION" ]; then
    echo "lint-openapi: installing @redocly/cli@$REDOCLY_VERSION into .tools/redocly" >&2
    mkdir -p "$TOOLS_DIR"
    # A minimal package.json keeps npm from walking up into the repo.
    [ -f "$TOOLS_DIR/package.json" ] || echo '{"private":true}' > "$TOOLS_DIR/package.json"
    if ! npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --silent \
            --save-exact "@redocly/cli@$REDOCLY_VERSION" >&2; then
        echo "lint-openapi: npm install of @redocly/cli@$REDOCLY_VERSION failed;" \
             "rerun without --silent to see why:" \
             "npm install --prefix .tools/redocly --no-audit --no-fund @redocly/cli@$REDOCLY_VERSION" >&2
        exit 2
    fi
fi

# No telemetry / update checks from the CLI.
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true

exec "$BIN" lint --config "$ROOT/redocly.yaml" "$@" api/openapi.yaml
