"""The hookd command line: help, version, tenants, event types, migrations
(ordered, recorded, never re-applied, safe when two processes start at once),
configuration errors, and a clean stop on SIGTERM."""
import os
import re
import subprocess
import uuid

import psycopg2
import pytest

from conftest import DATABASE_URL, HOOKD, Server, assert_error, hookd_env, run_hookd

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_help_lists_commands_and_settings():
    r = run_hookd("--help")
    assert r.returncode == 0
    for word in ["serve", "migrate", "tenant create", "event-type add", "HOOKD_DATABASE_URL",
                 "HOOKD_PORT", "HOOKD_MAX_BODY_BYTES", "HOOKD_SUBSCRIBE_TIMEOUT_MS"]:
        assert word in r.stdout


def test_version():
    r = run_hookd("--version")
    assert r.returncode == 0
    assert re.match(r"^hookd \d+\.\d+\.\d+", r.stdout)


def test_no_command_and_unknown_command_exit_2():
    assert run_hookd().returncode == 2
    r = run_hookd("frobnicate")
    assert r.returncode == 2
    assert "unknown command 'frobnicate'" in r.stderr


@pytest.mark.parametrize("env,message", [
    ({"HOOKD_PORT": "70000"}, "HOOKD_PORT"),
    ({"HOOKD_PORT": "80x"}, "HOOKD_PORT"),
    ({"HOOKD_LOG_LEVEL": "chatty"}, "HOOKD_LOG_LEVEL"),
    ({"HOOKD_MIGRATE_ON_START": "perhaps"}, "HOOKD_MIGRATE_ON_START"),
])
def test_bad_setting_is_reported(env, message):
    r = run_hookd("migrate", env=hookd_env(**env))
    assert r.returncode == 2
    assert message in r.stderr


def test_flag_overrides_environment():
    r = run_hookd("--port", "99999", "migrate")
    assert r.returncode == 2
    assert "HOOKD_PORT" in r.stderr


def test_readme_configuration_table_matches_the_binary():
    """The README's settings table is generated from the same table as --help."""
    table = run_hookd("config", "--markdown").stdout
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert table.strip() in readme, "README.md is stale: run `make docs`"


def test_tenant_create_prints_key_once_and_stores_only_a_hash(migrated, db):
    name = f"acme-{uuid.uuid4().hex[:6]}"
    r = run_hookd("tenant", "create", name)
    assert r.returncode == 0, r.stderr
    key = re.search(r"API key:\s+(hk_[0-9A-Za-z]{40})", r.stdout).group(1)
    assert re.search(r"Passphrase:\s+hp_[0-9A-Za-z]{40}", r.stdout)
    with db.cursor() as cur:
        cur.execute("SELECT api_key_hash, api_key_hint FROM hookd.tenants WHERE name = %s", (name,))
        key_hash, hint = cur.fetchone()
        cur.execute("SELECT count(*) FROM hookd.tenants t WHERE t::text LIKE %s", (f"%{key}%",))
        assert cur.fetchone()[0] == 0, "the API key itself must not be stored"
    assert len(bytes(key_hash)) == 32
    assert key.startswith(hint)


def test_tenant_names_are_unique(migrated):
    name = f"dup-{uuid.uuid4().hex[:6]}"
    assert run_hookd("tenant", "create", name).returncode == 0
    r = run_hookd("tenant", "create", name)
    assert r.returncode == 1
    assert "already exists" in r.stderr


@pytest.mark.parametrize("args", [["tenant"], ["tenant", "create"], ["tenant", "delete", "x"],
                                  ["event-type"], ["event-type", "add"]])
def test_bad_usage_exits_2(args):
    r = run_hookd(*args)
    assert r.returncode == 2
    assert "usage:" in r.stderr


def test_event_type_add_and_list(tenant):
    name = f"invoice.paid_{uuid.uuid4().hex[:6]}"
    r = run_hookd("event-type", "add", name, "--description", "An invoice was paid.")
    assert r.returncode == 0, r.stderr
    listed = run_hookd("event-type", "list").stdout
    assert name in listed and "An invoice was paid." in listed
    names = [t["name"] for t in tenant.get("/events/types").json()["data"]]
    assert name in names
    # New types can be published right away.
    assert tenant.publish(name, {"paid": True}).status == 201
    again = run_hookd("event-type", "add", name)
    assert again.returncode == 1 and "already exists" in again.stderr


@pytest.mark.parametrize("name", ["Order.Updated", "order..updated", "order updated", ".x", "x" * 129])
def test_event_type_add_rejects_bad_names(name):
    r = run_hookd("event-type", "add", name)
    assert r.returncode == 1
    assert "event type names" in r.stderr


def fresh_database():
    name = f"hookd_m_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(DATABASE_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return DATABASE_URL.replace("/hookd?", f"/{name}?")


def test_concurrent_migrations_apply_each_once():
    url = fresh_database()
    env = hookd_env(HOOKD_DATABASE_URL=url)
    procs = [subprocess.Popen([HOOKD, "migrate"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outs
    applied = [int(o[0].split()[0]) for o in outs]
    assert max(applied) >= 1
    assert sorted(applied)[:-1] == [0, 0, 0], "exactly one process applies the migrations"
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT version, count(*) FROM hookd.schema_migrations GROUP BY version")
        rows = cur.fetchall()
    conn.close()
    assert rows and all(count == 1 for _, count in rows)
    r = run_hookd("migrate", env=env)
    assert r.stdout == "0 migrations and 0 function files applied; schema is current\n"


def test_changed_migration_is_refused():
    url = fresh_database()
    env = hookd_env(HOOKD_DATABASE_URL=url)
    assert run_hookd("migrate", env=env).returncode == 0
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("UPDATE hookd.schema_migrations SET checksum = 'edited' WHERE version = 1")
    conn.close()
    r = run_hookd("migrate", env=env)
    assert r.returncode == 1
    assert "changed after it was applied" in r.stderr


def test_serve_migrates_a_fresh_database_and_stops_cleanly_on_sigterm():
    url = fresh_database()
    s = Server(HOOKD_DATABASE_URL=url)
    try:
        r = s.request("GET", "/events/types")
        assert r.status == 401
    finally:
        assert s.stop() == 0
    assert "applied migration 0001_initial" in s.read_log()


def test_unreachable_database_gives_503(migrated):
    s = Server(HOOKD_DATABASE_URL="postgresql:///nodb?host=/nonexistent&connect_timeout=1",
               HOOKD_MIGRATE_ON_START="false")
    try:
        r = s.request("GET", "/events/types", headers={"Authorization": "Bearer hk_" + "a" * 40})
        assert_error(r, 503, "Service unavailable.")
    finally:
        assert s.stop() == 0


def test_serve_refuses_a_listen_address_that_is_not_an_ip(migrated):
    r = run_hookd("api", env=hookd_env(HOOKD_LISTEN_ADDR="localhost", HOOKD_MIGRATE_ON_START="false"))
    assert r.returncode == 1
    assert "is not an IP address" in r.stderr


def test_serve_reports_a_port_in_use(migrated, server):
    r = run_hookd("api", env=hookd_env(HOOKD_PORT=server.port, HOOKD_MIGRATE_ON_START="false"))
    assert r.returncode == 1
    assert f"cannot listen on 127.0.0.1 port {server.port}" in r.stderr
