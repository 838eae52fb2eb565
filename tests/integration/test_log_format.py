"""Logs: one line per HTTP request and per delivery attempt, with the ids
involved; HOOKD_LOG_FORMAT=json makes every line one JSON object (parsed
here with Python's json module), text stays the default; HOOKD_LOG_LEVEL
filters. If these fail, log pipelines cannot parse hookd's lines, or lines
lose the ids operators search by."""
import json
import re
import time

import pytest

from conftest import SEEN_SECRETS, Answer, Receiver, Server, create_tenant

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info |warn |error) \S")
FAST = dict(HOOKD_RETRY_SCHEDULE="30s", HOOKD_RETRY_JITTER_PCT=0, HOOKD_POLL_INTERVAL_MS=100,
            HOOKD_MIGRATE_ON_START="false")


@pytest.fixture
def started(migrated):
    servers = []

    def start(command="serve", **settings):
        s = Server(command, **{**FAST, **settings})
        servers.append(s)
        return s

    yield start
    for s in servers:
        assert s.stop() == 0, s.read_log()


def json_lines(server):
    lines = server.read_log().splitlines()
    assert lines
    return [json.loads(line) for line in lines]  # every line, or this raises


def wait_for_line(server, match, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = [x for x in json_lines(server) if match(x)]
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("no such log line:\n" + server.read_log()[-3000:])


def subscribe(tenant, receiver):
    r = tenant.post_form("/events/subscribe", {"type": "order.updated",
                                               "webhook_url": receiver.url()})
    assert r.status == 200, r
    SEEN_SECRETS.add(r.json()["data"].get("secret", ""))


def test_json_lines_carry_requests_and_attempts(started):
    s = started("serve", HOOKD_LOG_FORMAT="json")
    tenant = create_tenant(s)
    good = Receiver()
    refused = Receiver(answers=[Answer(204)])  # accepts the subscribe test, then goes away
    try:
        subscribe(tenant, good)
        other = create_tenant(s)
        subscribe(other, refused)
        refused.close()
        # A request id with characters JSON must escape, and a byte that is
        # not UTF-8 (logged as U+FFFD).
        r = tenant.post_json("/events", {"type": "order.updated", "data": {}},
                             headers={"X-Request-Id": b'req "7"\\ \xc3\xa9 \xff'})
        assert r.status == 201
        event_id = r.json()["data"]["id"]
        assert tenant.get(f"/events/{event_id}").status == 200
        assert other.publish().status == 201
        good.wait_for(1)

        lines = wait_for_line(s, lambda x: x["msg"] == "delivery attempt"
                              and x.get("outcome") == "retry")
        for x in json_lines(s):
            assert TS.match(x["ts"]), x
            assert x["level"] in ("debug", "info", "warn", "error")
            assert isinstance(x["msg"], str)

        requests = [x for x in json_lines(s) if x["msg"] == "request"]
        publish = [x for x in requests if x.get("request_id")]
        assert len(publish) == 1
        p = publish[0]
        assert p["method"] == "POST" and p["route"] == "/events" and p["status"] == 201
        assert p["tenant_id"] == tenant.id
        assert isinstance(p["duration_ms"], float) and p["duration_ms"] >= 0
        assert p["request_id"] == 'req "7"\\ \u00e9 \ufffd'
        get = [x for x in requests if x["route"] == "/events/{id}"]
        assert get and get[0]["event_id"] == event_id and get[0]["status"] == 200

        ok = wait_for_line(s, lambda x: x["msg"] == "delivery attempt"
                           and x.get("event_id") == event_id)[0]
        assert ok["outcome"] == "delivered" and ok["status"] == 204 and ok["attempt"] == 1
        assert ok["tenant_id"] == tenant.id
        for key in ("delivery_id", "endpoint_id"):
            assert isinstance(ok[key], int) and ok[key] > 0
        assert "error" not in ok and "retry_in_ms" not in ok
        failed = lines[0]
        assert failed["tenant_id"] == other.id and failed["status"] == 0
        assert failed["error"] and failed["retry_in_ms"] == 30000
    finally:
        good.close()


def test_attempts_finishing_during_a_stop_are_logged(started):
    """The worker writes its lines a few at a time (before each wait): the
    attempts that finish while it stops, after its last wait, are still
    logged, one line each. If this fails, a normal stop loses log lines."""
    s = started("serve", HOOKD_LOG_FORMAT="json", HOOKD_SHUTDOWN_TIMEOUT_S=10)
    tenant = create_tenant(s)
    slow = Receiver(answers=[Answer(204)], status=204, delay=1.0)
    try:
        subscribe(tenant, slow)
        ids = []
        for _ in range(5):
            r = tenant.publish()
            assert r.status == 201
            ids.append(r.json()["data"]["id"])
        slow.wait_for(6)              # the subscribe test and the 5 deliveries, in flight
        assert s.stop() == 0          # they finish during the stop
        attempts = [x for x in json_lines(s) if x["msg"] == "delivery attempt"]
        delivered = sorted(x["event_id"] for x in attempts if x["outcome"] == "delivered")
        assert delivered == sorted(ids), s.read_log()[-3000:]
    finally:
        slow.close()


def test_text_is_the_default_and_never_shows_paths(server, tenant):
    """The session server logs text: every line starts with time and level.
    The access line names the route pattern, never the path and query, which
    may carry credentials (Okanjo's key= and signature=)."""
    r = tenant.signed("GET", "/events/subscriptions")
    assert r.status == 200
    def access_lines():
        # The line is written once the answer is sent, which may be a moment
        # after the client has it.
        return [x for x in server.read_log().splitlines()
                if " request method=GET route=/events/subscriptions status=200 " in x
                and f"tenant_id={tenant.id}" in x]
    deadline = time.time() + 10
    while not access_lines() and time.time() < deadline:
        time.sleep(0.05)
    assert access_lines()
    lines = server.read_log().splitlines()
    for line in lines:
        assert TEXT_LINE.match(line), line
        assert not line.startswith("{")
    assert tenant.key not in server.read_log()
    assert not [x for x in lines if " request " in x and ("signature" in x or "key=" in x)]


def test_level_filters_lines(started):
    """warn drops info lines (access lines included); debug adds lines."""
    quiet = started("api", HOOKD_LOG_LEVEL="warn")
    assert quiet.request("GET", "/healthz").status == 200
    assert quiet.request("GET", "/nope").status == 404
    assert quiet.stop() == 0  # every request's line, if any, is written by now
    quiet_log = quiet.read_log()
    assert " info " not in quiet_log and "request" not in quiet_log

    loud = started("serve", HOOKD_LOG_LEVEL="debug", HOOKD_LOG_FORMAT="json")
    tenant = create_tenant(loud)
    receiver = Receiver()
    try:
        subscribe(tenant, receiver)
        assert tenant.publish().status == 201
        receiver.wait_for(2)
        wait_for_line(loud, lambda x: x["level"] == "debug")
        wait_for_line(loud, lambda x: x["msg"] == "request" and x["level"] == "info")
    finally:
        receiver.close()


def test_bad_log_settings_are_refused(migrated):
    from conftest import hookd_env, run_hookd
    r = run_hookd("api", env=hookd_env(HOOKD_LOG_FORMAT="xml"))
    assert r.returncode == 2 and "HOOKD_LOG_FORMAT" in r.stderr
    r = run_hookd("api", env=hookd_env(HOOKD_LOG_LEVEL="loud"))
    assert r.returncode == 2 and "HOOKD_LOG_LEVEL" in r.stderr
