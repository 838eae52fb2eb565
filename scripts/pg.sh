#!/usr/bin/env bash
# pg.sh start|stop|url DIR [--throwaway] - a private PostgreSQL cluster in DIR.
#
# The cluster listens only on a Unix socket inside DIR (no TCP port, so it
# never collides with another PostgreSQL), trusts local connections, and
# lets only its owner (and root) connect. initdb refuses to run as root, so
# as root the cluster runs as the `postgres` system user (created by the
# Debian package). `--throwaway` trades durability for speed (tests).
# `start` prints the connection URL on stdout.
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop|url DIR [--throwaway]}
dir=${2:?usage: pg.sh start|stop|url DIR [--throwaway]}
throwaway=${3:-}
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
data="$dir/data"
sock="$dir/run"
log="$dir/postgres.log"

bindir=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) \
                 "$(pg_config --bindir 2>/dev/null || true)"; do
    if [ -x "$candidate/initdb" ]; then bindir=$candidate; break; fi
done
if [ -z "$bindir" ]; then
    echo "pg.sh: no PostgreSQL server found (install the postgresql package)" >&2
    exit 1
fi

# Unix socket paths are limited to about 107 bytes.
if [ ${#sock} -gt 90 ]; then
    sock="/tmp/hookd-pg-$(echo -n "$dir" | md5sum | cut -c1-12)"
fi

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

url() {
    echo "postgresql:///hookd?host=$sock&user=postgres"
}

case "$cmd" in
start)
    mkdir -p "$sock"
    if [ "$(id -u)" -eq 0 ]; then
        if ! id postgres >/dev/null 2>&1; then
            echo "pg.sh: running as root needs the 'postgres' system user (postgresql package)" >&2
            exit 1
        fi
        chown postgres: "$dir" "$sock"
        if ! runuser -u postgres -- test -w "$dir"; then
            echo "pg.sh: the postgres user cannot reach $dir (check the permissions of its parents)" >&2
            exit 1
        fi
    fi
    chmod 700 "$sock"
    if [ ! -f "$data/PG_VERSION" ]; then
        as_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        opts="-c listen_addresses='' -c unix_socket_directories='$sock' -c unix_socket_permissions=0700 -c max_connections=200 -c autovacuum_naptime=1s"
        if [ "$throwaway" = --throwaway ]; then
            opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        fi
        as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "$opts" start >/dev/null || {
            tail -n 20 "$log" >&2; exit 1; }
    fi
    if ! as_owner "$bindir/psql" -h "$sock" -U postgres -d postgres -tAc \
            "SELECT 1 FROM pg_database WHERE datname = 'hookd'" | grep -q 1; then
        as_owner "$bindir/createdb" -h "$sock" -U postgres hookd
    fi
    url
    ;;
stop)
    if [ -f "$data/PG_VERSION" ]; then
        as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
url)
    url
    ;;
*)
    echo "usage: pg.sh start|stop|url DIR [--throwaway]" >&2
    exit 2
    ;;
esac
