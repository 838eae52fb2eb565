"""hookd migrate: db/migrations applied once each, then the db/functions
files re-applied whenever their text changes, all in one transaction under
the migration lock (server/migrate.c). Each test runs on a database of its
own, created empty."""
import contextlib
import glob
import hashlib
import os
import re
import subprocess
import uuid

import psycopg2
import pytest

from conftest import DATABASE_URL, HOOKD, ROOT, hookd_env, run_hookd

MIGRATIONS = sorted(glob.glob(os.path.join(ROOT, "db", "migrations", "*.sql")))
FUNCTIONS = sorted(glob.glob(os.path.join(ROOT, "db", "functions", "*.sql")))


def fresh_database():
    name = f"hookd_fn_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(DATABASE_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return DATABASE_URL.replace("/hookd?", f"/{name}?")


@contextlib.contextmanager
def cursor(url):
    """An autocommit cursor: each statement commits at once."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def migrate(url):
    return run_hookd("migrate", env=hookd_env(HOOKD_DATABASE_URL=url), timeout=120)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def file_name(path):
    return os.path.basename(path)[:-len(".sql")]


def file_checksums():
    return {file_name(p): hashlib.sha256(read(p)).hexdigest() for p in FUNCTIONS}


def summary(migrations, functions):
    return (f"{migrations} migration{'' if migrations == 1 else 's'} and {functions} "
            f"function file{'' if functions == 1 else 's'} applied; schema is current\n")


def live_functions(cur):
    """Every function and procedure in schema hookd: signature -> definition."""
    cur.execute("SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p"
                " WHERE p.pronamespace = 'hookd'::regnamespace")
    return dict(cur.fetchall())


def recorded_functions(cur):
    cur.execute("SELECT name, checksum, applied_at FROM hookd.schema_functions")
    return {name: (checksum, at) for name, checksum, at in cur.fetchall()}


def migrate_as_the_old_binary(url):
    """What a hookd without function files did: schema_migrations, then each
    migration in its own transaction, recorded with the SHA-256 of its text."""
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS hookd;"
                    "CREATE TABLE IF NOT EXISTS hookd.schema_migrations ("
                    " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())")
    for path in MIGRATIONS:
        text = read(path)
        name = file_name(path)
        with conn, conn.cursor() as cur:
            cur.execute(text.decode())
            cur.execute("INSERT INTO hookd.schema_migrations (version, name, checksum)"
                        " VALUES (%s, %s, %s)",
                        (int(name.split("_")[0]), name, hashlib.sha256(text).hexdigest()))
    conn.close()


def test_a_database_migrated_before_function_files_upgrades_to_them_once():
    """Broken if an existing database (its migrations recorded by the old
    binary) re-runs migrations, ends with other function definitions than a
    new database, or if a second migrate applies anything again."""
    old = fresh_database()
    migrate_as_the_old_binary(old)
    r = migrate(old)
    assert r.returncode == 0, r.stderr
    assert r.stdout == summary(0, len(FUNCTIONS))

    new = fresh_database()
    r = migrate(new)
    assert r.returncode == 0, r.stderr
    assert r.stdout == summary(len(MIGRATIONS), len(FUNCTIONS))

    with cursor(old) as ca, cursor(new) as cb:
        assert live_functions(ca) == live_functions(cb)
        before = recorded_functions(ca)
        assert {n: c for n, (c, _) in before.items()} == file_checksums()
        for url in (old, new):
            again = migrate(url)
            assert again.returncode == 0 and again.stdout == summary(0, 0), again.stderr
        assert recorded_functions(ca) == before, "a second migrate re-applied a function file"


def test_the_function_files_are_the_live_definitions():
    """Broken if a function lives only in a migration (not in db/functions),
    a migration changes one after its file (ALTER FUNCTION, CREATE OR
    REPLACE), a file defines something migrate did not leave live, or a file
    cannot be applied twice in a row."""
    url = fresh_database()
    assert migrate(url).returncode == 0
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            migrated = live_functions(cur)
            assert migrated, "no functions in schema hookd"
            for signature in migrated:
                cur.execute(f"DROP FUNCTION {signature} CASCADE")
            assert live_functions(cur) == {}
            for path in FUNCTIONS:
                cur.execute(read(path).decode())
            from_files = live_functions(cur)
            for path in FUNCTIONS:
                cur.execute(read(path).decode())
            assert live_functions(cur) == from_files, "applying the files again changed them"
    finally:
        conn.rollback()
        conn.close()
    assert from_files.keys() == migrated.keys()
    for signature, definition in migrated.items():
        assert from_files[signature] == definition, signature


def test_a_changed_function_file_is_applied_again_and_only_it():
    """Broken if migrate compares anything but the recorded checksum, or
    re-applies files that did not change."""
    url = fresh_database()
    assert migrate(url).returncode == 0
    with cursor(url) as cur:
        before = recorded_functions(cur)
        # As if the database had last seen another text of fan_out.sql.
        cur.execute("UPDATE hookd.schema_functions SET checksum = 'older' WHERE name = 'fan_out'")
        cur.execute("CREATE OR REPLACE FUNCTION hookd.fan_out(p_limit integer) RETURNS integer"
                    " LANGUAGE sql RETURN -1")
        r = migrate(url)
        assert r.returncode == 0, r.stderr
        assert r.stdout == summary(0, 1)
        cur.execute("SELECT hookd.fan_out(0)")
        assert cur.fetchone()[0] == 0, "fan_out is the file's again"
        after = recorded_functions(cur)
        assert after["fan_out"][0] == before["fan_out"][0]
        assert after["fan_out"][1] > before["fan_out"][1]
        assert {n: v for n, v in after.items() if n != "fan_out"} == \
            {n: v for n, v in before.items() if n != "fan_out"}


def test_a_function_file_that_fails_rolls_back_the_whole_run():
    """Broken if a failing function file leaves earlier parts of the same run
    (a pending migration, other function files) applied or recorded, or if
    migrate then succeeds or blames the wrong file. The failure is the one a
    signature change without DROP FUNCTION gives: the database's
    record_attempts returns bigint, the file's integer. The pending
    migration is 0014 (its reloptions show whether it stayed), not the
    last one, which need not be re-runnable."""
    url = fresh_database()
    assert migrate(url).returncode == 0
    pending = "0014_queue_vacuum"
    assert pending in map(file_name, MIGRATIONS)
    with cursor(url) as cur:
        cur.execute("DELETE FROM hookd.schema_migrations WHERE name = %s", (pending,))
        cur.execute("UPDATE hookd.schema_functions SET checksum = 'older'")
        recorded = recorded_functions(cur)
        cur.execute("CREATE OR REPLACE FUNCTION hookd.new_event_id() RETURNS text"
                    " LANGUAGE sql RETURN 'marker'")
        cur.execute("DROP FUNCTION hookd.record_attempts(json, uuid, integer, bigint)")
        cur.execute("CREATE FUNCTION hookd.record_attempts(json, uuid, integer, bigint)"
                    " RETURNS bigint LANGUAGE sql RETURN 0")
        cur.execute("ALTER TABLE hookd.pending_events RESET (autovacuum_vacuum_threshold)")

        r = migrate(url)
        assert r.returncode == 1
        assert "function file db/functions/record_attempts.sql failed" in r.stderr
        assert "cannot change return type" in r.stderr

        cur.execute("SELECT name FROM hookd.schema_migrations WHERE name = %s", (pending,))
        assert cur.fetchall() == [], "the pending migration was recorded"
        cur.execute("SELECT reloptions FROM pg_class WHERE oid = 'hookd.pending_events'::regclass")
        assert not any("autovacuum_vacuum_threshold" in o for o in cur.fetchone()[0] or []), \
            "the pending migration's change stayed"
        assert recorded_functions(cur) == recorded
        cur.execute("SELECT hookd.new_event_id()")
        assert cur.fetchone()[0] == "marker", "an earlier function file of the run stayed"

        # The way out: drop what the file cannot replace, migrate again.
        cur.execute("DROP FUNCTION hookd.record_attempts(json, uuid, integer, bigint)")
        r = migrate(url)
        assert r.returncode == 0, r.stderr
        assert r.stdout == summary(1, len(FUNCTIONS))
        cur.execute("SELECT hookd.new_event_id()")
        assert re.fullmatch(r"EV[0-9A-Za-z]{18}", cur.fetchone()[0])


def test_a_changed_migration_is_refused_before_any_function_file():
    """Broken if an edited migration no longer stops migrate, or if function
    files are applied by a run that refused."""
    url = fresh_database()
    assert migrate(url).returncode == 0
    with cursor(url) as cur:
        cur.execute("UPDATE hookd.schema_migrations SET checksum = 'edited' WHERE version = 1")
        cur.execute("UPDATE hookd.schema_functions SET checksum = 'older' WHERE name = 'fan_out'")
        r = migrate(url)
        assert r.returncode == 1
        assert "migration 0001_initial changed after it was applied" in r.stderr
        assert recorded_functions(cur)["fan_out"][0] == "older"


def test_concurrent_migrates_apply_changed_function_files_once():
    """Broken if the function files are applied outside the migration lock:
    two processes would both apply them (or one would fail on the other's
    uncommitted rows)."""
    url = fresh_database()
    assert migrate(url).returncode == 0
    with cursor(url) as cur:
        cur.execute("UPDATE hookd.schema_functions SET checksum = 'older'")
        env = hookd_env(HOOKD_DATABASE_URL=url)
        procs = [subprocess.Popen([HOOKD, "migrate"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], outs
        assert sorted(o[0] for o in outs) == \
            [summary(0, 0), summary(0, 0), summary(0, len(FUNCTIONS))]
        assert {n: c for n, (c, _) in recorded_functions(cur).items()} == file_checksums()


@pytest.mark.parametrize("path", FUNCTIONS, ids=file_name)
def test_a_function_file_only_creates_or_replaces_functions(path):
    """Broken if a function file holds a table, index or trigger (they belong
    in migrations, applied once) or a bare CREATE FUNCTION, which fails when
    the file is applied again."""
    text = re.sub(r"--[^\n]*", "", read(path).decode())
    text = re.sub(r"\$(\w*)\$.*?\$\1\$", "", text, flags=re.S)  # function bodies
    for statement in filter(None, (s.strip() for s in text.split(";"))):
        assert re.match(r"(CREATE OR REPLACE (FUNCTION|PROCEDURE)|DROP (FUNCTION|PROCEDURE)"
                        r" IF EXISTS) hookd\.", statement), statement


def test_a_migration_that_fails_stops_the_run_before_the_function_files():
    """Broken if a failing migration is recorded, blamed on the wrong file,
    or lets the function files of the same run be applied."""
    url = fresh_database()
    assert migrate(url).returncode == 0
    # The last migration that changes a table of an earlier one (one that
    # only creates new tables would not fail below).
    last = file_name([m for m in MIGRATIONS if "ALTER TABLE hookd." in open(m).read()][-1])
    with cursor(url) as cur:
        cur.execute("DELETE FROM hookd.schema_migrations WHERE name = %s", (last,))
        cur.execute("UPDATE hookd.schema_functions SET checksum = 'older'")
        recorded = recorded_functions(cur)
        # That migration's tables are gone, so it fails where it starts.
        cur.execute("ALTER SCHEMA hookd RENAME TO hookd_away;"
                    "CREATE SCHEMA hookd;"
                    "ALTER TABLE hookd_away.schema_migrations SET SCHEMA hookd;"
                    "ALTER TABLE hookd_away.schema_functions SET SCHEMA hookd")
        r = migrate(url)
        assert r.returncode == 1
        assert f"migration {last} failed" in r.stderr
        assert "does not exist" in r.stderr
        cur.execute("SELECT name FROM hookd.schema_migrations WHERE name = %s", (last,))
        assert cur.fetchall() == []
        assert recorded_functions(cur) == recorded
        cur.execute("SELECT count(*) FROM pg_proc WHERE pronamespace = 'hookd'::regnamespace")
        assert cur.fetchone()[0] == 0, "a function file was applied"


def test_a_fresh_install_leaves_the_queue_tables_unanalyzed():
    """Broken if the migrations leave hookd.deliveries analyzed while empty
    (0016's ANALYZE, undone by 0018): planned from its current size, every
    index costs as little as the primary key, and the attempt record's lock
    probe by (tenant_id, id) took the (tenant_id, event_id, endpoint_id)
    index, walking all of a tenant's deliveries per row."""
    url = fresh_database()
    assert migrate(url).returncode == 0
    with cursor(url) as cur:
        cur.execute("SELECT relname, reltuples FROM pg_class WHERE relnamespace = 'hookd'::regnamespace"
                    " AND relname IN ('events', 'pending_events', 'deliveries', 'attempts')"
                    " ORDER BY relname")
        assert cur.fetchall() == [("attempts", -1), ("deliveries", -1), ("events", -1),
                                  ("pending_events", -1)]
        cur.execute("SET enable_seqscan = off; SET enable_bitmapscan = off;"
                    " SET plan_cache_mode = force_generic_plan")
        cur.execute("PREPARE probe(bigint, bigint) AS SELECT ctid FROM hookd.deliveries"
                    " WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE")
        cur.execute("EXPLAIN EXECUTE probe(1, 1)")
        plan = "\n".join(row[0] for row in cur.fetchall())
        assert "deliveries_pkey" in plan, plan


def test_0019_regroups_0015s_leftovers_per_endpoint():
    """Leftovers written in 0015's shape (one row of arrays per claim) are
    kept by 0019, one row per claim and endpoint with its events in claim
    order; those of an endpoint that no longer exists are dropped. Broken
    if an upgrade loses or reorders a delivery waiting to be queued."""
    url = fresh_database()
    assert migrate(url).returncode == 0
    with cursor(url) as cur:
        cur.execute("INSERT INTO hookd.tenants (name, api_key_hash, api_key_hint, passphrase_sealed)"
                    " VALUES ('t', decode(repeat('ab', 32), 'hex'), 'h', '\\x00') RETURNING id")
        tenant = cur.fetchone()[0]
        cur.execute("INSERT INTO hookd.endpoints (tenant_id, url, secret_sealed)"
                    " SELECT %s, 'http://127.0.0.1/' || n, '\\x00' FROM generate_series(1, 2) n"
                    " RETURNING id", (tenant,))
        a, b = sorted(row[0] for row in cur.fetchall())
        cur.execute("DELETE FROM hookd.schema_migrations WHERE name = '0019_rest_per_endpoint'")
        cur.execute("DROP TABLE hookd.pending_rest")
        cur.execute("CREATE TABLE hookd.pending_rest (id bigint GENERATED ALWAYS AS IDENTITY"
                    " PRIMARY KEY, tenant_ids bigint[] NOT NULL, event_ids text[] NOT NULL,"
                    " endpoint_ids bigint[] NOT NULL, created timestamptz NOT NULL DEFAULT now())")
        cur.execute("INSERT INTO hookd.pending_rest (tenant_ids, event_ids, endpoint_ids)"
                    " VALUES (%s, %s, %s), (%s, %s, %s)",
                    ([tenant] * 5, ["E3", "E3", "E1", "E1", "E2"], [b, a, b, a, 999999],
                     [tenant], ["E4"], [a]))
        r = migrate(url)
        assert r.returncode == 0, r.stderr
        cur.execute("SELECT tenant_id, endpoint_id, event_ids FROM hookd.pending_rest ORDER BY id")
        assert cur.fetchall() == [(tenant, a, ["E3", "E1"]), (tenant, b, ["E3", "E1"]),
                                  (tenant, a, ["E4"])]
        cur.execute("SELECT to_regclass('hookd.pending_rest_0015')")
        assert cur.fetchone()[0] is None
