#!/bin/sh
# readme-config.sh HOOKD [--write] - README.md's settings table must be
# exactly what `hookd config --markdown` prints (one table, no drift).
# Without --write it checks (exit 1 when stale); with --write it replaces
# the table between the "| Variable |" header and the next blank line.
set -eu
hookd=$1
mode=${2:-}
"$hookd" config --markdown > /tmp/hookd-config-table.$$
python3 - "$mode" /tmp/hookd-config-table.$$ <<'PY'
import sys
mode, table_file = sys.argv[1], sys.argv[2]
table = open(table_file).read().strip()
readme = open("README.md").read()
start = readme.index("| Variable | Flag | Default | Meaning |")
end = readme.find("\n\n", start)
end = len(readme) if end < 0 else end
current = readme[start:end]
if current == table:
    sys.exit(0)
if mode == "--write":
    open("README.md", "w").write(readme[:start] + table + readme[end:])
    sys.exit(0)
print("README.md's configuration table is stale; run: make docs", file=sys.stderr)
sys.exit(1)
PY
rc=$?
rm -f /tmp/hookd-config-table.$$
exit $rc
