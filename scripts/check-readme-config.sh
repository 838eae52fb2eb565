#!/bin/sh
# check-readme-config.sh HOOKD - fails when README.md's settings table is not
# exactly what `hookd config --markdown` prints (one table, no drift).
set -eu
table=$("$1" config --markdown)
if ! grep -qF -- "$(echo "$table" | tail -n 1)" README.md ||
   ! python3 -c 'import sys; sys.exit(0 if sys.argv[1].strip() in open("README.md").read() else 1)' "$table"; then
    echo "README.md's configuration table is stale; replace it with: $1 config --markdown" >&2
    exit 1
fi
