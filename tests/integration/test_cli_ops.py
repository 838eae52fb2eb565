"""The operator's command line (issue 6): tenant list and rotate-key,
subscriptions list, deliveries list, replay, endpoint disable/enable, events
show, and migrate's progress. Each is checked against what the API and the
database say: --help, every usage error (exit 2, one line and the usage on
stderr), every not-found (exit 1), --json field names, tenant scoping and
ambiguity, progress on a terminal (a pty) but not when piped, and a replay
that really re-delivers to a receiver on 127.0.0.1.

If these fail, an operator is shown wrong data, a repair command does
something other than the API's, or scripts get output they cannot parse."""
import json
import os
import pty
import re
import subprocess
import tempfile
import threading
import uuid

import psycopg2
import pytest

from conftest import (DATABASE_URL, HOOKD, Answer, Receiver, Server, create_tenant, hookd_env,
                      run_hookd)
from test_delivery import subscribe, wait_state, workers  # noqa: F401

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
NO_DATABASE = "postgresql:///nodb?host=/nonexistent&connect_timeout=1"


def json_lines(text):
    return [json.loads(line) for line in text.splitlines()]


def column_starts(line):
    """Where each space-separated word of a table line starts."""
    return [m.start() for m in re.finditer(r"\S+", line)]


def ok(*args, **kw):
    r = run_hookd(*args, **kw)
    assert r.returncode == 0, (args, r.stderr)
    return r


def run_on_tty(*args, stdout_tty=False, env=None, timeout=60):
    """Runs hookd with stderr (and, if asked, stdout) on a pseudo-terminal.
    Returns (exit code, stdout, what the terminal showed)."""
    master, slave = pty.openpty()
    shown = []

    def read_terminal():
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:      # EIO: every writer is gone
                return
            if not data:
                return
            shown.append(data)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    with tempfile.TemporaryFile() as out:
        p = subprocess.Popen([HOOKD, *args], env=env or hookd_env(), stdin=subprocess.DEVNULL,
                             stdout=slave if stdout_tty else out, stderr=slave)
        os.close(slave)
        rc = p.wait(timeout=timeout)
        reader.join(timeout=10)
        os.close(master)
        out.seek(0)
        stdout = out.read().decode()
    return rc, stdout, b"".join(shown).decode().replace("\r\n", "\n")


# ---- help and usage errors --------------------------------------------------

HELP = [
    ["tenant"], ["tenant", "create"], ["tenant", "list"], ["tenant", "rotate-key"],
    ["event-type"], ["event-type", "add"], ["event-type", "list"],
    ["subscriptions"], ["subscriptions", "list"], ["deliveries"], ["deliveries", "list"],
    ["replay"], ["endpoint"], ["endpoint", "disable"], ["endpoint", "enable"],
    ["events"], ["events", "show"], ["migrate"], ["master-key"], ["master-key", "new"],
]


@pytest.mark.parametrize("args", HELP, ids=" ".join)
def test_every_command_has_help(args):
    """--help (or -h) prints the usage on stdout and exits 0, even beside a
    mistake, and touches no database."""
    for flag in ("--help", "-h"):
        r = run_hookd(*args, flag, env=hookd_env(HOOKD_DATABASE_URL=NO_DATABASE))
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("usage: hookd " + args[0]) and r.stderr == ""
    # Help wins over a bad option.
    assert run_hookd(*args, "--bogus", "--help").returncode == 0


def test_top_level_help_lists_the_operator_commands():
    out = ok("--help").stdout
    for words in ["tenant list", "tenant rotate-key", "subscriptions list", "deliveries list",
                  "replay --since", "endpoint disable", "endpoint enable", "events show"]:
        assert words in out


USAGE_ERRORS = [
    (["tenant", "frobnicate"], "unknown subcommand 'frobnicate'"),
    (["subscriptions"], "missing subcommand"),
    (["tenant", "list", "extra"], "unexpected argument 'extra'"),
    (["tenant", "list", "--bogus"], "unknown option '--bogus'"),
    (["tenant", "list", "--json=1"], "option --json takes no value"),
    (["tenant", "list", "--tenant"], "option --tenant needs a value (NAME)"),
    (["tenant", "rotate-key"], "missing NAME"),
    (["tenant", "rotate-key", "a", "--output", "yaml"], "--output must be text or env"),
    (["tenant", "create", "a", "--output", "yaml"], "--output must be text or env"),
    (["subscriptions", "list", "--tenant", "a", "--tenant", "b"], "option --tenant given twice"),
    (["deliveries", "list", "--state", "lost"], "--state must be one of pending"),
    (["deliveries", "list", "--since", "yesterday"], "'yesterday' is not a time"),
    (["deliveries", "list", "--since", "2026-02-30T00:00:00Z"], "is not a time"),
    (["deliveries", "list", "--limit", "0"], "--limit must be a whole number from 1"),
    (["deliveries", "list", "--limit", "ten"], "--limit must be a whole number from 1"),
    (["replay"], "missing --since T"),
    (["replay", "--since", "5 minutes"], "is not a time"),
    (["replay", "--since", "1h", "stray"], "unexpected argument 'stray'"),
    (["endpoint", "disable"], "missing URL"),
    (["endpoint", "disable", "http://x/", "--reason", ""], "--reason must be 1 to 500"),
    (["endpoint", "enable", "http://x/", "--reason", "r"], "unknown option '--reason'"),
    (["endpoint", "pause", "http://x/"], "unknown subcommand 'pause'"),
    (["events", "show"], "missing ID"),
    (["events", "list"], "unknown subcommand 'list'"),
    (["migrate", "now"], "unexpected argument 'now'"),
    (["event-type", "list", "--json", "x"], "unexpected argument 'x'"),
]


@pytest.mark.parametrize("args,message", USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_errors_exit_2_with_one_line_and_the_usage(args, message):
    r = run_hookd(*args)
    assert r.returncode == 2, r
    assert r.stdout == ""
    first, *rest = r.stderr.splitlines()
    assert first.startswith("hookd " + args[0]) and message in first, first
    assert rest[0].startswith("usage: hookd " + args[0])
    assert rest[-1].startswith("See 'hookd " + args[0])


@pytest.mark.parametrize("args", [["tenant", "list"], ["subscriptions", "list"],
                                  ["deliveries", "list"], ["replay", "--since", "1h"],
                                  ["endpoint", "enable", "http://x/"], ["events", "show", "EVx"],
                                  ["tenant", "rotate-key", "x"], ["event-type", "list"]],
                         ids=" ".join)
def test_database_errors_exit_1_with_the_error(args):
    r = run_hookd(*args, env=hookd_env(HOOKD_DATABASE_URL=NO_DATABASE))
    assert r.returncode == 1
    assert r.stderr.startswith("hookd " + args[0]) and "nonexistent" in r.stderr, r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("args", [["tenant", "list", "--tenant", "no-such-tenant"],
                                  ["subscriptions", "list", "--tenant", "no-such-tenant"],
                                  ["deliveries", "list", "--tenant", "no-such-tenant"],
                                  ["replay", "--since", "1h", "--tenant", "no-such-tenant"],
                                  ["events", "show", "EV000000000000000000", "--tenant",
                                   "no-such-tenant"],
                                  ["tenant", "rotate-key", "no-such-tenant"]],
                         ids=" ".join)
def test_unknown_tenant_exits_1(migrated, args):
    r = run_hookd(*args)
    assert r.returncode == 1
    assert r.stderr.strip().endswith("no tenant named 'no-such-tenant'"), r.stderr


# ---- tenants -----------------------------------------------------------------

def test_tenant_list_shows_counts_and_json_fields(tenant, other_tenant, receiver):
    subscribe(tenant, receiver)
    subscribe(tenant, receiver, type_="order.confirmed")
    assert tenant.publish().status == 201
    rows = {r["tenant"]: r for r in json_lines(ok("tenant", "list", "--json").stdout)}
    row = rows[tenant.name]
    assert set(row) == {"tenant", "tenant_id", "key_hint", "created", "endpoints",
                        "subscriptions", "events", "failed_deliveries"}
    assert row["tenant_id"] == tenant.id and tenant.key.startswith(row["key_hint"])
    assert RFC3339.match(row["created"])
    # One endpoint, two subscriptions, the published event plus the
    # subscribe test events (webhook.test) stored for each subscription.
    assert (row["endpoints"], row["subscriptions"], row["failed_deliveries"]) == (1, 2, 0)
    assert row["events"] >= 1
    assert rows[other_tenant.name]["endpoints"] == 0
    # --tenant narrows to one.
    only = json_lines(ok("tenant", "list", "--tenant", tenant.name, "--json").stdout)
    assert [r["tenant"] for r in only] == [tenant.name]
    # The table: a header and aligned columns.
    table = ok("tenant", "list", "--tenant", tenant.name).stdout.splitlines()
    assert table[0].split() == ["TENANT", "ID", "KEY", "CREATED", "ENDPOINTS", "SUBSCRIPTIONS",
                                "EVENTS", "FAILED"]
    assert table[1].split()[:3] == [tenant.name, str(tenant.id), row["key_hint"]]
    assert column_starts(table[0]) == column_starts(table[1])


def test_rotate_key_replaces_the_key(migrated):
    api = Server("api", HOOKD_AUTH_CACHE_S=0, HOOKD_MIGRATE_ON_START="false")
    try:
        t = create_tenant(api)
        assert t.get("/events/subscriptions").status == 200
        r = ok("tenant", "rotate-key", t.name)
        new_key = re.search(r"API key:\s+(hk_[0-9A-Za-z]{40})", r.stdout).group(1)
        assert "HOOKD_AUTH_CACHE_S" in r.stdout
        assert t.get("/events/subscriptions").status == 401, "the old key still works"
        t.key = new_key
        assert t.get("/events/subscriptions").status == 200
        # The passphrase (Okanjo signatures) is unchanged and works with the new key.
        assert t.signed("GET", "/events/subscriptions").status == 200
        env = dict(line.split("=", 1) for line in
                   ok("tenant", "rotate-key", t.name, "--output", "env").stdout.splitlines())
        assert set(env) == {"HOOKD_TENANT_ID", "HOOKD_API_KEY"}
        assert int(env["HOOKD_TENANT_ID"]) == t.id
        t.key = env["HOOKD_API_KEY"]
        assert t.get("/events/subscriptions").status == 200
        [row] = json_lines(ok("tenant", "list", "--tenant", t.name, "--json").stdout)
        assert t.key.startswith(row["key_hint"])
    finally:
        assert api.stop() == 0


# ---- subscriptions -----------------------------------------------------------

def test_subscriptions_list_across_tenants_and_for_one(tenant, other_tenant, receiver):
    mine = subscribe(tenant, receiver)
    theirs = subscribe(other_tenant, receiver, path="/theirs")
    rows = json_lines(ok("subscriptions", "list", "--json").stdout)
    by_id = {r["subscription_id"]: r for r in rows}
    assert by_id[mine["id"]] == {
        "tenant": tenant.name, "subscription_id": mine["id"], "event_type": "order.updated",
        "webhook_url": receiver.url(), "endpoint_state": "active", "disabled_reason": None,
        "created": by_id[mine["id"]]["created"]}
    assert by_id[theirs["id"]]["tenant"] == other_tenant.name
    only = json_lines(ok("subscriptions", "list", "--tenant", tenant.name, "--json").stdout)
    assert [r["subscription_id"] for r in only] == [mine["id"]]
    table = ok("subscriptions", "list", "--tenant", tenant.name).stdout.splitlines()
    assert table[0].split() == ["TENANT", "ID", "TYPE", "URL", "STATE", "REASON"]
    assert table[1].split() == [tenant.name, mine["id"], "order.updated", receiver.url(),
                                "active", "-"]


def test_a_tenant_with_nothing_prints_nothing_or_says_so_on_a_terminal(tenant):
    for args in (["subscriptions", "list"], ["deliveries", "list"]):
        r = ok(*args, "--tenant", tenant.name)
        assert r.stdout == "" and r.stderr == ""
        assert ok(*args, "--tenant", tenant.name, "--json").stdout == ""
    rc, _, shown = run_on_tty("deliveries", "list", "--tenant", tenant.name, stdout_tty=True)
    assert rc == 0 and shown.strip() == "no deliveries match"
    rc, _, shown = run_on_tty("subscriptions", "list", "--tenant", tenant.name, stdout_tty=True)
    assert rc == 0 and shown.strip() == "no subscriptions"


# ---- endpoints ---------------------------------------------------------------

def test_endpoint_disable_and_enable_do_what_the_api_does(tenant, receiver, workers):
    subscribe(tenant, receiver)
    r = ok("endpoint", "disable", receiver.url(), "--reason", "Partner maintenance")
    assert r.stdout.startswith(f"Disabled {receiver.url()} (tenant '{tenant.name}')")
    [sub] = tenant.get("/events/subscriptions").json()["data"]
    assert sub["status"] == "disabled" and sub["disabled_reason"] == "Partner maintenance"
    # Disabling again keeps the first reason, as the API does.
    ok("endpoint", "disable", receiver.url(), "--reason", "Another")
    [sub] = tenant.get("/events/subscriptions").json()["data"]
    assert sub["disabled_reason"] == "Partner maintenance"
    workers()
    event = tenant.publish().json()["data"]["id"]
    wait_state(tenant, event, "disabled")
    assert len(receiver.requests) == 1      # only the subscribe test POST
    r = ok("endpoint", "enable", receiver.url(), "--json")
    assert json.loads(r.stdout) == {"tenant": tenant.name, "webhook_url": receiver.url(),
                                    "state": "active", "replayed": 1}
    wait_state(tenant, event, "delivered")
    [sub] = tenant.get("/events/subscriptions").json()["data"]
    assert sub["status"] == "active"
    r = ok("endpoint", "disable", receiver.url(), "--json")
    assert json.loads(r.stdout)["state"] == "disabled"
    [sub] = tenant.get("/events/subscriptions").json()["data"]
    assert sub["disabled_reason"] == "Disabled on request."


def test_endpoint_of_several_tenants_needs_tenant(tenant, other_tenant, receiver):
    subscribe(tenant, receiver)
    subscribe(other_tenant, receiver)
    r = run_hookd("endpoint", "disable", receiver.url())
    assert r.returncode == 2
    first = r.stderr.splitlines()[0]
    assert "exists under 2 tenants" in first and "--tenant" in first
    assert tenant.name in first and other_tenant.name in first
    ok("endpoint", "disable", receiver.url(), "--tenant", other_tenant.name)
    assert tenant.get("/events/subscriptions").json()["data"][0]["status"] == "active"
    assert other_tenant.get("/events/subscriptions").json()["data"][0]["status"] == "disabled"
    r = ok("endpoint", "enable", receiver.url(), "--tenant", other_tenant.name)
    assert "0 parked deliveries queued again" in r.stdout
    assert other_tenant.get("/events/subscriptions").json()["data"][0]["status"] == "active"


def test_unknown_endpoint_exits_1(tenant, other_tenant, receiver):
    subscribe(tenant, receiver)
    for command in ("disable", "enable"):
        r = run_hookd("endpoint", command, receiver.url("/nope"))
        assert r.returncode == 1
        assert r.stderr == f"hookd endpoint {command}: no endpoint '{receiver.url('/nope')}'\n"
        # Another tenant's endpoint is not found under this tenant.
        r = run_hookd("endpoint", command, receiver.url(), "--tenant", other_tenant.name)
        assert r.returncode == 1 and "no endpoint" in r.stderr
    for args in (["deliveries", "list"], ["replay", "--since", "1h"]):
        r = run_hookd(*args, "--endpoint", receiver.url("/nope"))
        assert r.returncode == 1 and "no endpoint" in r.stderr


# ---- deliveries, replay --------------------------------------------------------

def failed_deliveries(tenant, receiver, workers, count):
    """count events whose deliveries to receiver failed (500, 500)."""
    subscribe(tenant, receiver)
    workers(HOOKD_RETRY_SCHEDULE="100ms", HOOKD_BREAKER_THRESHOLD=1000)
    ids = [tenant.publish("order.updated", {"i": i}).json()["data"]["id"] for i in range(count)]
    for event_id in ids:
        wait_state(tenant, event_id, "failed")
    return ids


def test_deliveries_list_and_replay_redeliver_to_a_real_receiver(tenant, other_tenant, workers):
    r = Receiver(answers=[Answer(204)], status=500)
    other = Receiver()
    try:
        ids = failed_deliveries(tenant, r, workers, 3)
        subscribe(other_tenant, other)
        delivered = other_tenant.publish().json()["data"]["id"]
        wait_state(other_tenant, delivered, "delivered")

        rows = json_lines(ok("deliveries", "list", "--state", "failed", "--since", "10m",
                             "--json").stdout)
        mine = [row for row in rows if row["tenant"] == tenant.name]
        assert sorted(row["event_id"] for row in mine) == sorted(ids)
        assert all(row["tenant"] != other_tenant.name for row in rows)
        row = mine[0]
        assert set(row) == {"delivery_id", "tenant", "event_id", "type", "webhook_url", "state",
                            "attempts", "last_status", "last_error", "next_attempt_at",
                            "updated"}
        assert (row["type"], row["webhook_url"], row["state"], row["attempts"],
                row["last_status"]) == ("order.updated", r.url(), "failed", 2, 500)
        assert RFC3339.match(row["updated"])
        # Narrowing: by endpoint, tenant, state, time and count.
        by_url = json_lines(ok("deliveries", "list", "--endpoint", r.url(), "--json").stdout)
        assert sorted(x["event_id"] for x in by_url) == sorted(ids)
        theirs = json_lines(ok("deliveries", "list", "--tenant", other_tenant.name,
                               "--json").stdout)
        assert [(x["event_id"], x["state"]) for x in theirs] == [(delivered, "delivered")]
        assert ok("deliveries", "list", "--tenant", tenant.name, "--state", "delivered").stdout == ""
        assert ok("deliveries", "list", "--tenant", tenant.name,
                  "--since", "2999-01-01T00:00:00Z").stdout == ""
        assert len(json_lines(ok("deliveries", "list", "--tenant", tenant.name, "--limit", "2",
                                 "--json").stdout)) == 2
        table = ok("deliveries", "list", "--tenant", tenant.name).stdout.splitlines()
        assert table[0].split() == ["ID", "TENANT", "EVENT", "TYPE", "URL", "STATE", "ATTEMPTS",
                                    "STATUS", "ERROR", "UPDATED"]
        assert len(table) == 4

        # Replay: nothing failed later than now; the other tenant's URL has none.
        out = ok("replay", "--since", "2999-01-01T00:00:00Z").stdout
        assert out.startswith("Re-queued 0 failed deliveries")
        assert json.loads(ok("replay", "--since", "10m", "--endpoint", other.url(),
                             "--json").stdout)["queued"] == 0
        r.status = 204
        piped = ok("replay", "--since", "10m", "--tenant", tenant.name)
        assert piped.stdout.startswith("Re-queued 3 failed deliveries updated since ")
        assert piped.stderr == "", "progress must stay off when stderr is not a terminal"
        for event_id in ids:
            [n] = wait_state(tenant, event_id, "delivered")
            assert [a["status"] for a in n["attempts"]] == [500, 500, 204]
        got = {req["headers"]["webhook-id"] for req in r.requests[1:]}
        assert set(ids) <= got
    finally:
        r.close()
        other.close()


def test_replay_shows_progress_on_a_terminal_only(tenant, receiver, db):
    """1200 failed deliveries (written directly) are re-queued in batches of
    500: a terminal sees the count grow; a pipe sees nothing."""
    subscribe(tenant, receiver)
    with db.cursor() as cur:
        cur.execute("SELECT id FROM hookd.endpoints WHERE tenant_id = %s", (tenant.id,))
        [(endpoint_id,)] = cur.fetchall()
        cur.execute("INSERT INTO hookd.events (tenant_id, id, type, version, occurred, body)"
                    " SELECT %s, 'EV' || lpad(g::text, 18, '0'), 'order.updated', '1.0.0',"
                    "        now(), '{}' FROM generate_series(1, 1200) g", (tenant.id,))
        cur.execute("INSERT INTO hookd.deliveries (tenant_id, event_id, endpoint_id, state,"
                    "                              attempt_count)"
                    " SELECT %s, id, %s, 'failed', 31 FROM hookd.events"
                    "  WHERE tenant_id = %s AND id LIKE 'EV000%%'",
                    (tenant.id, endpoint_id, tenant.id))
    try:
        rc, out, shown = run_on_tty("replay", "--since", "1h", "--tenant", tenant.name)
        assert rc == 0 and out.startswith("Re-queued 1200 failed deliveries")
        assert "replay: 0/1200" in shown and "replay: 500/1200" in shown
        assert "replay: 1000/1200" in shown and "replay: 1200/1200" in shown
        assert shown.endswith("\n") and "Re-queued" not in shown
        with db.cursor() as cur:
            cur.execute("SELECT state, count(*) FROM hookd.deliveries WHERE tenant_id = %s"
                        " GROUP BY state", (tenant.id,))
            assert dict(cur.fetchall()) == {"pending": 1200}
            cur.execute("UPDATE hookd.deliveries SET state = 'failed' WHERE tenant_id = %s",
                        (tenant.id,))
        piped = ok("replay", "--since", "1h", "--tenant", tenant.name, "--json")
        assert json.loads(piped.stdout)["queued"] == 1200 and piped.stderr == ""
    finally:
        # No worker of a later test should try to send these.
        with db.cursor() as cur:
            cur.execute("UPDATE hookd.deliveries SET state = 'delivered' WHERE tenant_id = %s",
                        (tenant.id,))


# ---- events show -----------------------------------------------------------------

def test_events_show_matches_the_api(tenant, workers):
    r = Receiver(answers=[Answer(204), Answer(500, body=b"try later")])
    try:
        subscribe(tenant, r)
        workers(HOOKD_RETRY_SCHEDULE="100ms")
        event = tenant.publish("order.updated", {"order": "1001", "note": "caf\u00e9 </>"})
        event_id = event.json()["data"]["id"]
        wait_state(tenant, event_id, "delivered")
        api = tenant.get(f"/events/{event_id}?embed=notifications").json()
        stored = tenant.get(f"/events/{event_id}").body.decode()

        shown = json.loads(ok("events", "show", event_id, "--json").stdout)
        assert shown["tenant"] == tenant.name
        assert shown["notifications"] == api["notifications"]
        assert shown["event"] == {k: v for k, v in api.items() if k != "notifications"}

        text = ok("events", "show", event_id).stdout.splitlines()
        assert text[0] == f"Tenant: {tenant.name}"
        assert text[1] == stored, "the stored bytes, unchanged"
        assert text[3].split() == ["URL", "STATE", "ATTEMPT", "STARTED", "MS", "STATUS", "ERROR"]
        attempts = [line.split() for line in text[4:]]
        assert [(a[0], a[1], a[2], a[5]) for a in attempts] == [
            (r.url(), "delivered", "1", "500"), (r.url(), "delivered", "2", "204")]
    finally:
        r.close()


def test_events_show_without_deliveries_and_unknown_ids(tenant, other_tenant):
    event_id = tenant.publish().json()["data"]["id"]     # no subscriber: no deliveries
    text = ok("events", "show", event_id).stdout
    assert text.endswith("\nNo deliveries.\n")
    assert json.loads(ok("events", "show", event_id, "--json").stdout)["notifications"] == []
    for args in (["EVnope"], ["EV" + "0" * 17 + "x"], [event_id, "--tenant", other_tenant.name]):
        r = run_hookd("events", "show", *args)
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr == f"hookd events show: no event '{args[0]}'\n"


def test_event_id_under_two_tenants_needs_tenant(tenant, other_tenant, db):
    event_id = "EV" + uuid.uuid4().hex[:18]
    with db.cursor() as cur:
        for t in (tenant, other_tenant):
            cur.execute("SELECT event_id FROM hookd.publish(%s, 'order.updated', %s::json,"
                        " '1.0.0', NULL, %s)", (t.id, json.dumps({"tenant": t.name}), event_id))
        # Not for the workers of later tests.
        cur.execute("DELETE FROM hookd.pending_events WHERE event_id = %s", (event_id,))
    r = run_hookd("events", "show", event_id)
    assert r.returncode == 2
    assert "exists under 2 tenants" in r.stderr and "--tenant NAME" in r.stderr
    shown = json.loads(ok("events", "show", event_id, "--tenant", other_tenant.name,
                          "--json").stdout)
    assert shown["tenant"] == other_tenant.name
    assert shown["event"]["data"] == {"tenant": other_tenant.name}


# ---- migrate -------------------------------------------------------------------------

def fresh_database():
    name = f"hookd_c_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(DATABASE_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return DATABASE_URL.replace("/hookd?", f"/{name}?")


def test_migrate_shows_progress_on_a_terminal_and_is_quiet_piped():
    env = hookd_env(HOOKD_DATABASE_URL=fresh_database())
    rc, out, shown = run_on_tty("migrate", env=env)
    assert rc == 0, shown
    words = out.split()
    migrations, functions = int(words[0]), int(words[3])
    assert out == f"{migrations} migrations and {functions} function files applied; " \
                  "schema is current\n"
    assert migrations >= 4 and functions >= 4
    total = migrations + functions
    assert f"migrating: 0/{total} 0001_initial" in shown
    assert f"migrating: {migrations}/{total} functions/" in shown
    assert f"migrating: {total}/{total}" in shown
    assert "info" not in shown, "the progress line replaces the info log lines"
    again = run_hookd("migrate", env=hookd_env(HOOKD_DATABASE_URL=fresh_database()))
    assert again.returncode == 0 and again.stderr == ""
    assert again.stdout == out
