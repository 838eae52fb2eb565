"""Endpoint health and control: the per-endpoint in-flight cap and rate
limit, the circuit breaker, automatic disabling after continuous failure,
disable/enable with replay, configure, redeliver and recover."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import Answer, Receiver, assert_error, run_hookd
from test_delivery import notifications, subscribe, wait_state, wait_until, workers  # noqa: F401


def configure(tenant, receiver, **limits):
    r = tenant.post_form("/events/endpoints/configure",
                         {"webhook_url": receiver.url(), **{k: str(v) for k, v in limits.items()}})
    assert r.status == 200, r
    return r.json()["data"]


def test_in_flight_cap_holds_across_worker_processes(tenant, workers):
    r = Receiver(answers=[Answer(204)], delay=0.6)
    try:
        subscribe(tenant, r)
        assert configure(tenant, r, max_in_flight=2) == {
            "webhook_url": r.url(), "max_in_flight": 2, "rate_limit": None, "sign_v1a": None}
        workers()
        workers()
        ids = [tenant.publish("order.updated", {"i": i}).json()["data"]["id"] for i in range(8)]
        for event_id in ids:
            wait_state(tenant, event_id, "delivered", timeout=20)
        assert r.max_active == 2
    finally:
        r.close()


def test_without_a_cap_requests_run_in_parallel(tenant, workers):
    """The control for the test above: the default cap lets them overlap."""
    r = Receiver(answers=[Answer(204)], delay=0.6)
    try:
        subscribe(tenant, r)
        workers()
        ids = [tenant.publish("order.updated", {"i": i}).json()["data"]["id"] for i in range(8)]
        for event_id in ids:
            wait_state(tenant, event_id, "delivered", timeout=20)
        assert r.max_active > 2
    finally:
        r.close()


def test_rate_limit_spaces_requests(tenant, workers):
    r = Receiver()
    try:
        subscribe(tenant, r)
        configure(tenant, r, rate_limit=4)
        workers()
        workers()
        ids = [tenant.publish("order.updated", {"i": i}).json()["data"]["id"] for i in range(12)]
        started = []
        for event_id in ids:
            [n] = wait_state(tenant, event_id, "delivered", timeout=20)
            started += [datetime.strptime(a["started"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
                        for a in n["attempts"]]
        assert len(r.requests) - 1 == len(started) == 12
        # A bucket of 4 then 4 per second: 12 requests need 2 s from the first
        # claim (unlimited, they would all start within a few milliseconds).
        # The limit is on when hookd starts requests (each attempt's recorded
        # start), not on when they arrive, which also depends on the network
        # and the receiver. Tokens are paid when a claim commits and the
        # start is stamped as its result is read: under valgrind that takes
        # long enough (and long enough differently from claim to claim) for
        # one claim's starts to bunch with the next claim's, so one request
        # of slack (without a limit all 12 start within milliseconds).
        times = sorted(started)
        assert times[-1] - times[0] >= 1.4
        for t in times:   # never more than burst + rate in any one second
            assert sum(1 for u in times if t <= u < t + 1.0) <= 8 + 1
    finally:
        r.close()


def test_breaker_holds_queued_deliveries_then_probes(tenant, workers):
    r = Receiver(answers=[Answer(204)], status=500)
    try:
        subscribe(tenant, r)
        configure(tenant, r, max_in_flight=1)
        workers(HOOKD_BREAKER_THRESHOLD=3, HOOKD_RETRY_SCHEDULE="1500ms,1500ms,1500ms,1500ms")
        ids = [tenant.publish("order.updated", {"i": i}).json()["data"]["id"] for i in range(10)]
        time.sleep(1.2)
        # Three failures open the circuit: the other seven wait instead of failing too.
        assert len(r.requests) - 1 == 3
        wait_until(lambda: len(r.requests) - 1 >= 4, timeout=5)
        time.sleep(0.5)
        assert len(r.requests) - 1 == 4          # one probe, not a flood
        r.status = 204                           # the receiver recovers
        for event_id in ids:
            wait_state(tenant, event_id, "delivered", timeout=20)
    finally:
        r.close()


def test_a_failure_gives_back_what_was_claimed_ahead(tenant, workers, db):
    """A worker claims ahead of an endpoint's cap (here 1 running, 1 more
    waiting); when the running one fails and opens the circuit, the waiting
    one goes back to the queue instead of out, and waits for the circuit."""
    r = Receiver(answers=[Answer(204)], status=500)
    try:
        subscribe(tenant, r)
        configure(tenant, r, max_in_flight=1)
        ids = [tenant.publish("order.updated", {"i": i}).json()["data"]["id"] for i in range(2)]
        workers(HOOKD_BREAKER_THRESHOLD=1, HOOKD_RETRY_SCHEDULE="1h")
        wait_until(lambda: len(r.requests) - 1 >= 1, timeout=10)
        time.sleep(1.5)
        assert len(r.requests) - 1 == 1, "the circuit opened after the first failure"
        with db.cursor() as cur:
            cur.execute("SELECT state, attempt_count, claim_id IS NULL FROM hookd.deliveries"
                        " WHERE tenant_id = %s AND event_id = ANY (%s) ORDER BY attempt_count",
                        (tenant.id, ids))
            assert cur.fetchall() == [("pending", 0, True), ("pending", 1, True)]
    finally:
        r.close()


def test_a_delivery_whose_secret_cannot_be_opened_is_not_sent(tenant, workers):
    """A worker with another master key cannot open the endpoint's secret:
    it sends nothing (not unsigned, not with v1a alone), logs why, and its
    send queue frees the slot, so the endpoint's next delivery is tried
    too (cap 1: without that, the first failure would hold the slot)."""
    r = Receiver()
    try:
        subscribe(tenant, r)
        configure(tenant, r, max_in_flight=1)
        for i in range(2):
            tenant.publish("order.updated", {"i": i})
        other = run_hookd("master-key", "new").stdout.strip()
        w = workers(HOOKD_MASTER_KEY=other, HOOKD_MASTER_KEY_FILE="")
        wait_until(lambda: w.read_log().count("unusable endpoint secret") >= 2, timeout=10)
        time.sleep(0.3)
        assert len(r.requests) - 1 == 0, "nothing reached the receiver"
        assert "cannot be opened" in w.read_log()
    finally:
        # The two stay claimed until their leases run out; disabled, the
        # endpoint keeps them from later tests' workers (which would retry
        # them against the closed receiver, in those tests' logs).
        assert tenant.post_form("/events/endpoints/disable",
                                {"webhook_url": r.url()}).status == 200
        r.close()


def test_endpoint_failing_too_long_is_disabled_and_replayed_on_enable(tenant, workers):
    r = Receiver(answers=[Answer(204)], status=500)
    try:
        subscribe(tenant, r)
        workers(HOOKD_DISABLE_AFTER_S=1, HOOKD_BREAKER_THRESHOLD=1000,
                HOOKD_RETRY_SCHEDULE=",".join(["300ms"] * 30))
        first = tenant.publish().json()["data"]["id"]
        wait_until(lambda: tenant.get("/events/subscriptions").json()["data"][0]["status"]
                   == "disabled", timeout=10)
        [sub] = tenant.get("/events/subscriptions").json()["data"]
        assert sub["disabled_reason"].startswith("Failing continuously since ")
        wait_state(tenant, first, "disabled")
        # Events published while disabled are kept, not sent.
        second = tenant.publish().json()["data"]["id"]
        [n] = wait_state(tenant, second, "disabled")
        assert n["attempts"] == []
        sent = len(r.requests)
        time.sleep(0.5)
        assert len(r.requests) == sent
        r.status = 204
        e = tenant.post_form("/events/endpoints/enable", {"webhook_url": r.url()})
        assert e.status == 200, e
        assert e.json()["data"] == {"webhook_url": r.url(), "status": "active", "replayed": 2}
        wait_state(tenant, first, "delivered")
        wait_state(tenant, second, "delivered")
        [sub] = tenant.get("/events/subscriptions").json()["data"]
        assert sub["status"] == "active" and "disabled_reason" not in sub
    finally:
        r.close()


def test_disable_by_request_keeps_events_for_the_replay(tenant, receiver, workers):
    subscribe(tenant, receiver)
    d = tenant.post_json("/events/endpoints/disable", {"webhook_url": receiver.url()})
    assert d.status == 200
    assert d.json()["data"] == {"webhook_url": receiver.url(), "status": "disabled"}
    [sub] = tenant.get("/events/subscriptions").json()["data"]
    assert sub["status"] == "disabled" and sub["disabled_reason"] == "Disabled on request."
    workers()
    event = tenant.publish().json()["data"]["id"]
    wait_state(tenant, event, "disabled")
    time.sleep(0.3)
    assert len(receiver.requests) == 1
    e = tenant.post_form("/events/endpoints/enable", {"webhook_url": receiver.url()})
    assert e.json()["data"]["replayed"] == 1
    wait_state(tenant, event, "delivered")


@pytest.mark.parametrize("path", ["/events/endpoints/enable", "/events/endpoints/disable",
                                  "/events/endpoints/configure"])
def test_endpoint_control_errors(tenant, other_tenant, receiver, path):
    subscribe(tenant, receiver)
    assert_error(tenant.post_form(path, {}), 400, "Require webhook_url.")
    assert_error(tenant.post_form(path, {"webhook_url": "nope"}), 400, "Invalid field webhook_url.")
    assert_error(tenant.post_form(path, {"webhook_url": receiver.url("/other")}), 404,
                 "Endpoint not found.")
    assert_error(other_tenant.post_form(path, {"webhook_url": receiver.url()}), 404,
                 "Endpoint not found.")
    assert_error(tenant.post_form(path, {"webhook_url": receiver.url(), "bogus": "1"}), 400,
                 "Invalid field bogus.")


@pytest.mark.parametrize("field,value", [("max_in_flight", "0"), ("max_in_flight", "10001"),
                                         ("max_in_flight", "1.5"), ("max_in_flight", "x"),
                                         ("max_in_flight", "-1"), ("rate_limit", "-1"),
                                         ("rate_limit", "abc"), ("rate_limit", "1e9")])
def test_configure_rejects_bad_limits(tenant, receiver, field, value):
    subscribe(tenant, receiver)
    assert_error(tenant.post_form("/events/endpoints/configure",
                                  {"webhook_url": receiver.url(), field: value}),
                 400, f"Invalid field {field}.")


def test_configure_resets_to_defaults(tenant, receiver):
    subscribe(tenant, receiver)
    configure(tenant, receiver, max_in_flight=3, rate_limit=2.5)
    assert configure(tenant, receiver, rate_limit="") == {
        "webhook_url": receiver.url(), "max_in_flight": 3, "rate_limit": None, "sign_v1a": None}
    assert configure(tenant, receiver, sign_v1a="false") == {
        "webhook_url": receiver.url(), "max_in_flight": 3, "rate_limit": None, "sign_v1a": False}
    assert configure(tenant, receiver, sign_v1a="") == {
        "webhook_url": receiver.url(), "max_in_flight": 3, "rate_limit": None, "sign_v1a": None}


@pytest.mark.parametrize("change,refilled", [
    ({"sign_v1a": "true"}, False), ({"max_in_flight": "5"}, False), ({}, False),
    ({"rate_limit": "2"}, False), ({"rate_limit": "2.0"}, False),
    ({"rate_limit": "3"}, True), ({"rate_limit": ""}, True)])
def test_configure_refills_the_rate_bucket_only_when_the_rate_limit_changes(
        tenant, receiver, db, change, refilled):
    """Configuring anything else must not hand the endpoint a fresh burst
    beyond its rate limit (it did: every configure emptied the bucket's
    record, which reads as full)."""
    subscribe(tenant, receiver)
    configure(tenant, receiver, rate_limit=2)
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET rate_tokens = 0, rate_updated = now()"
                    " WHERE tenant_id = %s AND url = %s", (tenant.id, receiver.url()))
    configure(tenant, receiver, **change)
    with db.cursor() as cur:
        cur.execute("SELECT rate_tokens, rate_updated FROM hookd.endpoints"
                    " WHERE tenant_id = %s AND url = %s", (tenant.id, receiver.url()))
        tokens, updated = cur.fetchone()
    if refilled:
        assert (tokens, updated) == (None, None), "a new limit starts with a full bucket"
    else:
        assert tokens == 0 and updated is not None, "the bucket is as it was"


@pytest.mark.parametrize("value", ["yes", "1", "TRUE", "t", " true", "true\u0000"])
def test_configure_rejects_a_bad_sign_v1a_and_changes_nothing(tenant, receiver, value):
    subscribe(tenant, receiver)
    configure(tenant, receiver, sign_v1a="true", max_in_flight=4)
    assert_error(tenant.post_form("/events/endpoints/configure",
                                  {"webhook_url": receiver.url(), "sign_v1a": value,
                                   "max_in_flight": "7"}),
                 400, "Invalid field sign_v1a.")
    assert configure(tenant, receiver)["sign_v1a"] is True
    assert configure(tenant, receiver)["max_in_flight"] == 4


@pytest.mark.parametrize("body", [{"sign_v1a": 1}, {"sign_v1a": "yes"}, {"sign_v1a": [True]},
                                  {"sign_v1a": {"on": True}}])
def test_configure_rejects_a_bad_json_sign_v1a(tenant, receiver, body):
    subscribe(tenant, receiver)
    assert_error(tenant.post_json("/events/endpoints/configure",
                                  {"webhook_url": receiver.url(), **body}),
                 400, "Invalid field sign_v1a.")
    assert configure(tenant, receiver)["sign_v1a"] is None


def test_configure_takes_json_booleans_for_sign_v1a(tenant, receiver):
    subscribe(tenant, receiver)
    for value in (True, False):
        r = tenant.post_json("/events/endpoints/configure",
                             {"webhook_url": receiver.url(), "sign_v1a": value})
        assert r.status == 200, r
        assert r.json()["data"]["sign_v1a"] is value
    r = tenant.post_json("/events/endpoints/configure",
                         {"webhook_url": receiver.url(), "sign_v1a": ""})
    assert r.json()["data"]["sign_v1a"] is None


def test_redeliver_sends_the_same_event_again(tenant, workers):
    a, b = Receiver(), Receiver()
    try:
        subscribe(tenant, a)
        workers()
        event = tenant.publish().json()["data"]["id"]
        wait_state(tenant, event, "delivered")
        r = tenant.post_form(f"/events/{event}/redeliver", {})
        assert r.status == 200 and r.json()["data"] == {"queued": 1}
        got = a.wait_for(3)
        assert got[2]["headers"]["webhook-id"] == got[1]["headers"]["webhook-id"] == event
        assert got[2]["body"] == got[1]["body"]
        wait_until(lambda: len(notifications(tenant, event)[0]["attempts"]) == 2)
        # To one named endpoint, even one subscribed after the event.
        subscribe(tenant, b, "product.created")
        r = tenant.post_json(f"/events/{event}/redeliver", {"webhook_url": b.url()})
        assert r.json()["data"] == {"queued": 1}
        assert b.wait_for(2)[1]["headers"]["webhook-id"] == event
    finally:
        a.close()
        b.close()


def test_redeliver_errors(tenant, other_tenant, receiver):
    subscribe(tenant, receiver)
    event = tenant.publish().json()["data"]["id"]
    assert_error(tenant.post_form("/events/EV000000000000000000/redeliver", {}), 404,
                 "Event not found.")
    assert_error(other_tenant.post_form(f"/events/{event}/redeliver", {}), 404, "Event not found.")
    assert_error(tenant.post_form(f"/events/{event}/redeliver", {"webhook_url": receiver.url("/x")}),
                 404, "Endpoint not found.")
    assert_error(tenant.post_form(f"/events/{event}/redeliver", {"webhook_url": "ftp://x"}), 400,
                 "Invalid field webhook_url.")
    assert_error(tenant.server.request("GET", f"/events/{event}/redeliver", headers=tenant.auth()),
                 405, "Method not allowed.")


def test_recover_requeues_failed_deliveries(tenant, workers):
    r = Receiver(answers=[Answer(204)], status=500)
    try:
        subscribe(tenant, r)
        before = (datetime.now(timezone.utc) - timedelta(seconds=5)).isoformat()
        workers(HOOKD_RETRY_SCHEDULE="100ms", HOOKD_BREAKER_THRESHOLD=1000)
        ids = [tenant.publish("order.updated", {"i": i}).json()["data"]["id"] for i in range(3)]
        for event_id in ids:
            wait_state(tenant, event_id, "failed")
        r.status = 204
        later = (datetime.now(timezone.utc) + timedelta(seconds=60)).isoformat()
        assert tenant.post_form("/events/recover", {"since": later}).json()["data"] == {"queued": 0}
        q = tenant.post_form("/events/recover", {"since": before})
        assert q.status == 200 and q.json()["data"] == {"queued": 3}
        for event_id in ids:
            [n] = wait_state(tenant, event_id, "delivered")
            assert [a["status"] for a in n["attempts"]] == [500, 500, 204]
    finally:
        r.close()


def test_recover_holds_a_disabled_endpoints_deliveries_until_enable(tenant, workers):
    """Recovering failures of an endpoint that is disabled meanwhile parks
    them (state disabled, nothing sent) for the replay that enable does."""
    r = Receiver(answers=[Answer(204)], status=500)
    try:
        subscribe(tenant, r)
        before = (datetime.now(timezone.utc) - timedelta(seconds=5)).isoformat()
        workers(HOOKD_RETRY_SCHEDULE="100ms", HOOKD_BREAKER_THRESHOLD=1000)
        event = tenant.publish().json()["data"]["id"]
        wait_state(tenant, event, "failed")
        assert tenant.post_form("/events/endpoints/disable", {"webhook_url": r.url()}).status == 200
        r.status = 204
        sent = len(r.requests)
        q = tenant.post_form("/events/recover", {"since": before})
        assert q.status == 200 and q.json()["data"] == {"queued": 1}
        wait_state(tenant, event, "disabled")
        time.sleep(0.3)
        assert len(r.requests) == sent
        e = tenant.post_form("/events/endpoints/enable", {"webhook_url": r.url()})
        assert e.json()["data"]["replayed"] == 1
        [n] = wait_state(tenant, event, "delivered")
        assert [a["status"] for a in n["attempts"]] == [500, 500, 204]
    finally:
        r.close()


def test_recover_errors(tenant):
    assert_error(tenant.post_form("/events/recover", {}), 400, "Require since.")
    assert_error(tenant.post_form("/events/recover", {"since": "yesterday-ish"}), 400,
                 "Invalid field since.")
    assert_error(tenant.post_form("/events/recover", {"since": "2026-01-01T00:00:00Z",
                                                      "webhook_url": "nope"}),
                 400, "Invalid field webhook_url.")
