"""The dashboard's API: GET /events/endpoints (endpoints with health and
queue), POST /events/endpoints/test (a webhook.test event through the
delivery pipeline), GET /events (the event list, paged by cursor) and
GET /events/stats (attempt counts and latency percentiles per bucket).

Deliveries are real: `hookd worker` processes POST to receivers on
127.0.0.1. Where a test needs a known distribution (exact percentiles,
old history) it writes attempts with SQL."""
import time

import pytest

from conftest import SEEN_SECRETS, Answer, Receiver, assert_error, assert_refused
from test_delivery import notifications, subscribe, v1, wait_state, wait_until, workers  # noqa: F401


def endpoints(tenant):
    r = tenant.get("/events/endpoints")
    assert r.status == 200, r
    body = r.json()
    assert body["type"] == "success"
    return body["data"]


def by_url(tenant):
    return {e["webhook_url"]: e for e in endpoints(tenant)}


# --------------------------------------------------------------------------
# GET /events/endpoints

def test_endpoints_list_is_empty_for_a_new_tenant(tenant):
    assert endpoints(tenant) == []


def test_endpoints_list_reports_real_attempts(tenant, workers):
    """Health, last attempt and queue come from the attempts the workers
    recorded: one 500 then a 204 for the same delivery."""
    busy = Receiver(answers=[Answer(204), Answer(204), Answer(500, b"boom")])
    idle = Receiver()
    try:
        subscribe(tenant, busy, "order.updated")
        subscribe(tenant, busy, "product.created")
        subscribe(tenant, idle, "*")
        # Nothing delivered yet: every figure is zero, no rate, no attempt.
        before = by_url(tenant)[idle.url()]
        assert before["health"] == {"hour": {"attempts": 0, "succeeded": 0, "success_rate": None},
                                    "day": {"attempts": 0, "succeeded": 0, "success_rate": None}}
        assert before["last_attempt"] is None
        workers()
        event = tenant.publish("product.created").json()["data"]
        wait_until(lambda: [n["state"] for n in notifications(tenant, event["id"])]
                   == ["delivered", "delivered"])
        listed = endpoints(tenant)
        assert [e["webhook_url"] for e in listed] == [busy.url(), idle.url()]   # oldest first
        e = listed[0]
        assert e["status"] == "active" and "disabled_reason" not in e
        assert e["types"] == ["order.updated", "product.created"]
        assert e["created"].endswith("Z") and len(e["created"]) == 24
        assert e["circuit"] == "closed" and e["circuit_open_until"] is None
        assert e["failure_streak"] == 0
        assert e["max_in_flight"] is None and e["rate_limit"] is None and e["sign_v1a"] is None
        assert e["previous_secret_expires"] is None
        last = e["last_attempt"]
        assert last["status"] == 204 and last["error"] is None
        assert isinstance(last["duration_ms"], int) and last["duration_ms"] >= 0
        [n] = [n for n in notifications(tenant, event["id"]) if n["webhook_url"] == busy.url()]
        assert last["at"] == n["attempts"][-1]["started"]
        assert e["health"] == {"hour": {"attempts": 2, "succeeded": 1, "success_rate": 0.5},
                               "day": {"attempts": 2, "succeeded": 1, "success_rate": 0.5}}
        assert e["queue"] == {"pending": 0, "failed": 0, "disabled": 0}
        assert listed[1]["types"] == ["*"]
        assert listed[1]["health"]["day"] == {"attempts": 1, "succeeded": 1, "success_rate": 1}
    finally:
        busy.close()
        idle.close()


def test_endpoints_list_shows_limits_rotation_and_disabled_state(tenant, workers, db):
    r = Receiver()
    try:
        subscribe(tenant, r)
        assert tenant.post_form("/events/endpoints/configure",
                                {"webhook_url": r.url(), "max_in_flight": "3",
                                 "rate_limit": "2.5", "sign_v1a": "true"}).status == 200
        rotated = tenant.post_form("/events/endpoints/rotate-secret", {"webhook_url": r.url()})
        SEEN_SECRETS.add(rotated.json()["data"]["secret"])
        assert tenant.post_form("/events/endpoints/disable", {"webhook_url": r.url()}).status == 200
        workers()
        event = tenant.publish().json()["data"]
        wait_state(tenant, event["id"], "disabled")
        [e] = endpoints(tenant)
        assert e["max_in_flight"] == 3 and e["rate_limit"] == 2.5 and e["sign_v1a"] is True
        assert e["previous_secret_expires"] == rotated.json()["data"]["previous_secret_expires"]
        assert e["status"] == "disabled" and e["disabled_reason"] == "Disabled on request."
        assert e["queue"] == {"pending": 0, "failed": 0, "disabled": 1}
        # An expired previous secret no longer signs: not reported.
        with db.cursor() as cur:
            cur.execute("UPDATE hookd.endpoints SET previous_secret_expires = now() - interval '1 s'"
                        " WHERE tenant_id = %s", (tenant.id,))
        assert endpoints(tenant)[0]["previous_secret_expires"] is None
    finally:
        r.close()


def test_endpoints_list_circuit_states(tenant, db):
    r = Receiver()
    try:
        subscribe(tenant, r)
        with db.cursor() as cur:
            cur.execute("UPDATE hookd.endpoints SET failure_streak = 7,"
                        " circuit_open_until = '2999-01-01T00:00:00Z' WHERE tenant_id = %s",
                        (tenant.id,))
            [e] = endpoints(tenant)
            assert (e["circuit"], e["circuit_open_until"], e["failure_streak"]) == (
                "open", "2999-01-01T00:00:00.000Z", 7)
            cur.execute("UPDATE hookd.endpoints SET circuit_open_until = '2001-01-01T00:00:00Z'"
                        " WHERE tenant_id = %s", (tenant.id,))
            [e] = endpoints(tenant)
            assert (e["circuit"], e["circuit_open_until"]) == (
                "half-open", "2001-01-01T00:00:00.000Z")
    finally:
        r.close()


def test_endpoints_list_counts_failed_and_pending(tenant, workers):
    r = Receiver(status=500, answers=[Answer(204)])
    try:
        subscribe(tenant, r)
        workers(HOOKD_RETRY_SCHEDULE="100ms", HOOKD_BREAKER_THRESHOLD=100)
        event = tenant.publish().json()["data"]
        wait_state(tenant, event["id"], "failed")
        [e] = endpoints(tenant)
        assert e["queue"]["failed"] == 1
        assert e["failure_streak"] == 2
        assert e["last_attempt"]["status"] == 500
        assert e["health"]["day"] == {"attempts": 2, "succeeded": 0, "success_rate": 0}
    finally:
        r.close()


def test_endpoints_list_counts_queued_deliveries(tenant):
    """Without workers a test event stays queued: pending counts it."""
    r = Receiver()
    try:
        subscribe(tenant, r)
        assert tenant.post_form("/events/endpoints/test", {"webhook_url": r.url()}).status == 200
        [e] = endpoints(tenant)
        assert e["queue"] == {"pending": 1, "failed": 0, "disabled": 0}
    finally:
        r.close()


def test_endpoints_list_only_old_attempts_count_as_none(tenant, db):
    """Health covers the last hour and day: an attempt two days old is in
    neither, and an attempt 2 hours old is in the day only."""
    r = Receiver()
    try:
        subscribe(tenant, r)
        with db.cursor() as cur:
            cur.execute("SELECT id FROM hookd.endpoints WHERE tenant_id = %s", (tenant.id,))
            [(endpoint_id,)] = cur.fetchall()
            for i, age in enumerate(["2 days", "2 hours"]):
                event_id = f"EVdash{tenant.id:06d}old{i:05d}"
                cur.execute("INSERT INTO hookd.events (tenant_id, id, type, version, occurred, body)"
                            " VALUES (%s, %s, 'order.updated', '1.0.0', now(), '{}')",
                            (tenant.id, event_id))
                cur.execute("INSERT INTO hookd.deliveries (tenant_id, event_id, endpoint_id, state)"
                            " VALUES (%s, %s, %s, 'delivered') RETURNING id",
                            (tenant.id, event_id, endpoint_id))
                cur.execute("INSERT INTO hookd.attempts (tenant_id, delivery_id, number, started,"
                            " duration_ms, status) VALUES (%s, %s, 1, now() - %s::interval, 12, 200)",
                            (tenant.id, cur.fetchone()[0], age))
        [e] = endpoints(tenant)
        assert e["health"]["hour"]["attempts"] == 0
        assert e["health"]["day"] == {"attempts": 1, "succeeded": 1, "success_rate": 1}
        assert e["last_attempt"]["duration_ms"] == 12
    finally:
        r.close()


def test_endpoints_list_is_tenant_scoped(tenant, other_tenant):
    r = Receiver()
    try:
        subscribe(tenant, r)
        assert endpoints(other_tenant) == []
        assert [e["webhook_url"] for e in endpoints(tenant)] == [r.url()]
    finally:
        r.close()


def test_endpoints_list_errors(tenant):
    assert_error(tenant.get("/events/endpoints?foo=1"), 400, "Invalid field foo.")
    assert_error(tenant.server.request("GET", "/events/endpoints"), 401, "Unauthorized.")
    r = tenant.server.request("POST", "/events/endpoints", headers=tenant.auth())
    assert_error(r, 405, "Method not allowed.")
    assert r.header("Allow") == "GET, HEAD"


# --------------------------------------------------------------------------
# POST /events/endpoints/test

def test_test_event_goes_to_that_endpoint_only_signed(tenant, workers):
    target, other = Receiver(), Receiver()
    try:
        secret = subscribe(tenant, target)["secret"]
        subscribe(tenant, other, "*")
        workers()
        r = tenant.post_form("/events/endpoints/test", {"webhook_url": target.url()})
        assert r.status == 200, r
        event_id = r.json()["data"]["event_id"]
        assert r.json() == {"type": "success", "data": {"event_id": event_id}}
        [_, got] = target.wait_for(2)
        assert got["headers"]["webhook-id"] == event_id
        assert v1(secret, got["headers"], got["body"]) in got["headers"]["webhook-signature"].split()
        # The delivered bytes are the stored event, of type webhook.test.
        stored = tenant.get(f"/events/{event_id}")
        assert stored.body == got["body"]
        assert stored.json()["type"] == "webhook.test"
        assert stored.json()["data"] == {"webhook_url": target.url()}
        [n] = wait_state(tenant, event_id, "delivered")
        assert n["webhook_url"] == target.url() and len(n["attempts"]) == 1
        time.sleep(0.5)
        assert len(other.requests) == 1      # its own subscribe test POST, nothing more
    finally:
        target.close()
        other.close()


def test_test_event_is_retried_and_every_attempt_logged(tenant, workers):
    r = Receiver(answers=[Answer(204), Answer(503)])
    try:
        subscribe(tenant, r)
        workers()
        event_id = tenant.post_json("/events/endpoints/test",
                                    {"webhook_url": r.url()}).json()["data"]["event_id"]
        [n] = wait_state(tenant, event_id, "delivered")
        assert [a["status"] for a in n["attempts"]] == [503, 204]
    finally:
        r.close()


def test_test_event_errors(tenant, other_tenant, db):
    r = Receiver()
    try:
        subscribe(tenant, r)
        url = r.url()
        send = lambda t, fields: (lambda: t.post_form("/events/endpoints/test", fields))  # noqa: E731
        assert_refused(db, tenant, send(tenant, {}), 400, "Require webhook_url.")
        assert_refused(db, tenant, send(tenant, {"webhook_url": "not a url"}), 400,
                       "Invalid field webhook_url.")
        assert_refused(db, tenant, send(tenant, {"webhook_url": url, "x": "1"}), 400,
                       "Invalid field x.")
        assert_refused(db, tenant, send(tenant, {"webhook_url": url + "/other"}), 404,
                       "Endpoint not found.")
        # Another tenant's endpoint is as absent as an unknown one.
        assert_refused(db, other_tenant, send(other_tenant, {"webhook_url": url}), 404,
                       "Endpoint not found.")
        assert tenant.post_form("/events/endpoints/disable", {"webhook_url": url}).status == 200
        assert_refused(db, tenant, send(tenant, {"webhook_url": url}), 409, "Endpoint is disabled.")
        resp = tenant.server.request("GET", "/events/endpoints/test", headers=tenant.auth())
        assert_error(resp, 405, "Method not allowed.")
        assert resp.header("Allow") == "POST"
    finally:
        r.close()


# --------------------------------------------------------------------------
# GET /events

def event_list(tenant, query=""):
    r = tenant.get("/events" + query)
    assert r.status == 200, r
    body = r.json()
    assert set(body) == {"type", "data", "next"} and body["type"] == "success"
    return body


def insert_events(db, tenant, n, occurred="now()", type_="order.updated", tag="p"):
    """n events stored with SQL (no deliveries), all at the same time when
    occurred is fixed: the list must order them by id then."""
    ids = [f"EV{tag}{tenant.id:07d}{i:010d}"[:20] for i in range(n)]
    with db.cursor() as cur:
        for i, event_id in enumerate(ids):
            cur.execute("INSERT INTO hookd.events (tenant_id, id, type, version, occurred, body)"
                        f" VALUES (%s, %s, %s, '1.0.0', {occurred}, '{{}}')",
                        (tenant.id, event_id, type_))
    return ids


def test_event_list_is_empty_for_a_new_tenant(tenant):
    assert event_list(tenant) == {"type": "success", "data": [], "next": None}


def test_event_list_shows_events_with_delivery_counts(tenant, workers):
    r = Receiver()
    try:
        subscribe(tenant, r)
        workers()
        first = tenant.publish("order.updated", {"n": 1}).json()["data"]
        other = tenant.publish("product.created", {"n": 2}).json()["data"]
        last = tenant.publish("order.updated", {"n": 3}, version="2.1.0").json()["data"]
        for e in (first, last):
            wait_state(tenant, e["id"], "delivered")
        body = event_list(tenant)
        assert body["next"] is None
        # The subscribe's test POST is a stored event too (no deliveries).
        [probe] = [e for e in body["data"] if e["type"] == "webhook.test"]
        assert body["data"][-1] == probe
        assert probe["deliveries"] == {"pending": 0, "delivered": 0, "failed": 0, "disabled": 0}
        # Newest first; events of the same millisecond by id, descending.
        published = sorted(((last, 1), (other, 0), (first, 1)),
                           key=lambda p: (p[0]["occurred"], p[0]["id"]), reverse=True)
        assert body["data"][:-1] == [
            {"id": e["id"], "type": e["type"], "version": e["version"], "occurred": e["occurred"],
             "deliveries": {"pending": 0, "delivered": n, "failed": 0, "disabled": 0}}
            for e, n in published]
    finally:
        r.close()


def test_event_list_counts_pending_failed_and_parked(tenant, workers):
    ok, bad = Receiver(), Receiver(status=500, answers=[Answer(204)])
    try:
        subscribe(tenant, ok)
        subscribe(tenant, bad)
        # A test event without workers: queued.
        queued = tenant.post_form("/events/endpoints/test", {"webhook_url": ok.url()})
        queued_id = queued.json()["data"]["event_id"]
        assert event_list(tenant, f"?id={queued_id}")["data"][0]["deliveries"] == {
            "pending": 1, "delivered": 0, "failed": 0, "disabled": 0}
        assert tenant.post_form("/events/endpoints/disable", {"webhook_url": ok.url()}).status == 200
        workers(HOOKD_RETRY_SCHEDULE="100ms", HOOKD_BREAKER_THRESHOLD=100)
        event = tenant.publish().json()["data"]
        wait_state(tenant, event["id"], "failed")
        [e, t] = event_list(tenant, "?limit=2")["data"]
        assert e["id"] == event["id"] and t["id"] == queued_id and t["type"] == "webhook.test"
        assert e["deliveries"] == {"pending": 0, "delivered": 0, "failed": 1, "disabled": 1}
        assert t["deliveries"] == {"pending": 0, "delivered": 0, "failed": 0, "disabled": 1}
    finally:
        ok.close()
        bad.close()


def test_leftovers_not_yet_queued_count_as_pending(tenant, db):
    """A claim's leftover delivery that waits in hookd.pending_rest (its
    endpoint's queue is deep) is pending in the event list, the event's
    notifications and the endpoint's queue. Broken if any view leaves it
    out until it is queued."""
    r = Receiver()
    try:
        subscribe(tenant, r)
        [endpoint] = endpoints(tenant)
        earlier = tenant.publish().json()["data"]["id"]  # no workers: they stay in the outbox
        event = tenant.publish().json()["data"]["id"]
        with db.cursor() as cur:
            cur.execute("SELECT id FROM hookd.endpoints WHERE tenant_id = %s", (tenant.id,))
            [(endpoint_id,)] = cur.fetchall()
            # As claims write them: one row each, with its range of times.
            cur.execute("INSERT INTO hookd.pending_rest (tenant_id, endpoint_id, event_ids,"
                        " first_occurred, last_occurred)"
                        " SELECT tenant_id, %s, ARRAY[id], occurred, occurred FROM hookd.events"
                        " WHERE tenant_id = %s AND id IN (%s, %s) ORDER BY occurred",
                        (endpoint_id, tenant.id, earlier, event))
        pending = {"pending": 1, "delivered": 0, "failed": 0, "disabled": 0}
        assert event_list(tenant, f"?id={event}")["data"][0]["deliveries"] == pending
        assert event_list(tenant)["data"][0]["deliveries"] == pending
        assert notifications(tenant, event) == [{
            "webhook_url": endpoint["webhook_url"], "state": "pending", "attempt_count": 0,
            "next_attempt_at": None, "attempts": []}]
        assert endpoints(tenant)[0]["queue"] == {"pending": 2, "failed": 0, "disabled": 0}
        # At a disabled endpoint it is parked.
        assert tenant.post_form("/events/endpoints/disable",
                                {"webhook_url": endpoint["webhook_url"]}).status == 200
        parked = {"pending": 0, "delivered": 0, "failed": 0, "disabled": 1}
        assert event_list(tenant, f"?id={event}")["data"][0]["deliveries"] == parked
        assert event_list(tenant)["data"][0]["deliveries"] == parked
        assert [n["state"] for n in notifications(tenant, event)] == ["disabled"]
        assert endpoints(tenant)[0]["queue"] == {"pending": 0, "failed": 0, "disabled": 2}
    finally:
        r.close()
        with db.cursor() as cur:
            cur.execute("DELETE FROM hookd.pending_rest WHERE tenant_id = %s", (tenant.id,))


def walk(tenant, query):
    """Every page of the list; returns the ids in order and the page count."""
    ids, pages, cursor = [], 0, None
    while True:
        sep = "&" if query else ""
        body = event_list(tenant, "?" + query + (f"{sep}before={cursor}" if cursor else ""))
        pages += 1
        ids += [e["id"] for e in body["data"]]
        cursor = body["next"]
        if cursor is None:
            return ids, pages
        assert pages < 100


def test_event_list_pages_without_duplicates_or_gaps(tenant, db):
    # Two groups with identical timestamps (ties broken by id) and spread
    # ones, of two types.
    same = insert_events(db, tenant, 5, "'2026-01-01T00:00:00.123Z'", tag="s")
    spread = insert_events(db, tenant, 6, "now() - random() * interval '1 day'", tag="r")
    products = insert_events(db, tenant, 4, "'2026-01-01T00:00:00.123Z'", "product.created", "q")
    with db.cursor() as cur:
        cur.execute("SELECT id, type FROM hookd.events WHERE tenant_id = %s"
                    " ORDER BY occurred DESC, id DESC", (tenant.id,))
        expected = cur.fetchall()
    assert len(expected) == 15
    ids, pages = walk(tenant, "limit=4")
    assert ids == [i for i, _ in expected] and pages == 4
    ids, pages = walk(tenant, "limit=1&type=product.created")
    assert ids == [i for i, t in expected if t == "product.created"] and pages == 4
    assert set(ids) == set(products)
    ids, _ = walk(tenant, "type=order.updated&limit=5")
    assert set(ids) == set(same + spread) and len(ids) == 11
    # A page that ends exactly at the last event has no next.
    assert event_list(tenant, "?limit=15")["next"] is None
    assert event_list(tenant, "?limit=14")["next"] is not None
    # The default page is 50, the largest 100.
    more = insert_events(db, tenant, 100, "now() - interval '2 days'", tag="m")
    assert len(event_list(tenant)["data"]) == 50
    assert len(event_list(tenant, "?limit=100")["data"]) == 100
    assert len(more) == 100


def test_event_list_by_id(tenant, other_tenant, db):
    [event_id] = insert_events(db, tenant, 1, tag="i")
    body = event_list(tenant, f"?id={event_id}")
    assert [e["id"] for e in body["data"]] == [event_id] and body["next"] is None
    assert event_list(tenant, f"?id={event_id}&type=order.updated")["data"][0]["id"] == event_id
    assert event_list(tenant, f"?id={event_id}&type=product.created")["data"] == []
    assert event_list(tenant, "?id=EV000000000000000000")["data"] == []
    # Another tenant's event is as absent as an unknown one.
    assert event_list(other_tenant, f"?id={event_id}")["data"] == []


def test_event_list_is_tenant_scoped(tenant, other_tenant, db):
    mine = insert_events(db, tenant, 3, tag="a")
    theirs = insert_events(db, other_tenant, 2, tag="b")
    assert {e["id"] for e in event_list(tenant)["data"]} == set(mine)
    assert {e["id"] for e in event_list(other_tenant)["data"]} == set(theirs)
    # A cursor is only a position: in another tenant's hands it pages that
    # tenant's own events.
    cursor = event_list(tenant, "?limit=1")["next"]
    assert {e["id"] for e in event_list(other_tenant, f"?before={cursor}")["data"]} <= set(theirs)


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"), ("limit=05", "limit"),
    ("limit=", "limit"), ("limit=-1", "limit"), ("limit=1.5", "limit"), ("limit=1000000", "limit"),
    ("limit=1&limit=2", "limit"),
    ("before=x", "before"), ("before=", "before"), ("before=MC5FVjAxMjM0NTY3ODlhYmNkZWZBQg%3D%3D", "before"),
    ("before=MC5FVjAxMjM0NTY3ODlhYmNkZWZBQh", "before"), ("before=%00", "before"),
    ("id=EV1", "id"), ("id=", "id"), ("id=EV00000000000000000%21", "id"),
    ("type=nope.nothing", "type"), ("type=", "type"), ("type=%00", "type"),
    ("foo=1", "foo"), ("data=1", "data"),
])
def test_event_list_refuses_bad_parameters(tenant, query, field):
    assert_error(tenant.get("/events?" + query), 400, f"Invalid field {field}.")


def test_event_list_needs_credentials(tenant):
    assert_error(tenant.server.request("GET", "/events"), 401, "Unauthorized.")
    r = tenant.server.request("DELETE", "/events", headers=tenant.auth())
    assert_error(r, 405, "Method not allowed.")
    assert r.header("Allow") == "POST, GET, HEAD"


# --------------------------------------------------------------------------
# GET /events/stats

def stats(tenant, query=""):
    r = tenant.get("/events/stats" + query)
    assert r.status == 200, r
    body = r.json()
    assert body["type"] == "success"
    return body["data"]


def epoch(ts):
    from datetime import datetime
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


ZERO = {"attempts": 0, "succeeded": 0, "failed": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None}


@pytest.mark.parametrize("query,window,seconds,count", [
    ("", "1h", 60, 60), ("?window=1h", "1h", 60, 60), ("?window=24h", "24h", 900, 96)])
def test_stats_every_bucket_present_when_idle(tenant, query, window, seconds, count):
    before = time.time()
    data = stats(tenant, query)
    after = time.time()
    assert (data["window"], data["bucket_seconds"], len(data["buckets"])) == (window, seconds, count)
    starts = [epoch(b["start"]) for b in data["buckets"]]
    assert all(s % seconds == 0 for s in starts)                     # aligned
    assert all(b - a == seconds for a, b in zip(starts, starts[1:]))  # consecutive, oldest first
    assert starts[-1] <= after and starts[-1] + seconds > before - 1   # the last one holds now
    assert all({k: v for k, v in b.items() if k != "start"} == ZERO for b in data["buckets"])
    assert data["totals"] == ZERO


def insert_attempts(db, tenant, rows):
    """rows: (age in seconds, duration_ms, status) of attempts written with
    SQL, one delivery each, to an endpoint of their own, in one transaction
    (one now(), so attempts of the same age share a bucket)."""
    with db.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("INSERT INTO hookd.endpoints (tenant_id, url, secret_sealed)"
                    " VALUES (%s, 'http://127.0.0.1:9/stats', '\\x00') RETURNING id", (tenant.id,))
        endpoint_id = cur.fetchone()[0]
        for i, (age, duration, status) in enumerate(rows):
            event_id = f"EVst{tenant.id:06d}{i:010d}"
            cur.execute("INSERT INTO hookd.events (tenant_id, id, type, version, occurred, body)"
                        " VALUES (%s, %s, 'order.updated', '1.0.0', now(), '{}')",
                        (tenant.id, event_id))
            cur.execute("INSERT INTO hookd.deliveries (tenant_id, event_id, endpoint_id, state)"
                        " VALUES (%s, %s, %s, 'delivered') RETURNING id",
                        (tenant.id, event_id, endpoint_id))
            cur.execute("INSERT INTO hookd.attempts (tenant_id, delivery_id, number, started,"
                        " duration_ms, status) VALUES (%s, %s, 1,"
                        " now() - %s * interval '1 second', %s, %s)",
                        (tenant.id, cur.fetchone()[0], age, duration, status))
        cur.execute("COMMIT")


def test_stats_exact_counts_and_percentiles(tenant, other_tenant, db):
    # 100 attempts 30 minutes ago, 1..100 ms: even ones 200, odd ones 503
    # or no answer at all; one more 2 hours ago (day window only).
    rows = [(1800, ms, 200 if ms % 2 == 0 else (503 if ms % 4 == 1 else None))
            for ms in range(1, 101)]
    insert_attempts(db, tenant, rows + [(7200, 1000, 200)])
    insert_attempts(db, other_tenant, [(60, 5000, 500)] * 3)   # never counted for tenant
    hour = stats(tenant, "?window=1h")
    busy = [b for b in hour["buckets"] if b["attempts"]]
    assert len(busy) == 1
    expected = {"attempts": 100, "succeeded": 50, "failed": 50,
                "p50_ms": 50.5, "p95_ms": 95.05, "p99_ms": 99.01}
    assert {k: v for k, v in busy[0].items() if k != "start"} == expected
    assert hour["totals"] == expected
    day = stats(tenant, "?window=24h")
    assert day["totals"]["attempts"] == 101 and day["totals"]["succeeded"] == 51
    assert sum(b["attempts"] for b in day["buckets"]) == 101
    assert stats(other_tenant)["totals"]["attempts"] == 3


def test_stats_count_real_attempts(tenant, workers):
    r = Receiver(answers=[Answer(204), Answer(500)])
    try:
        subscribe(tenant, r)
        workers()
        event = tenant.publish().json()["data"]
        [n] = wait_state(tenant, event["id"], "delivered")
        data = stats(tenant)
        assert data["totals"]["attempts"] == 2
        assert (data["totals"]["succeeded"], data["totals"]["failed"]) == (1, 1)
        durations = sorted(a["duration_ms"] for a in n["attempts"])
        assert data["totals"]["p50_ms"] == pytest.approx(sum(durations) / 2, abs=0.01)
        assert sum(b["attempts"] for b in data["buckets"]) == 2
        assert data["buckets"][-1]["attempts"] + data["buckets"][-2]["attempts"] == 2
    finally:
        r.close()


@pytest.mark.parametrize("query,field", [
    ("window=2h", "window"), ("window=", "window"), ("window=1H", "window"),
    ("window=1h%00", "window"), ("window=1h&window=1h", "window"), ("foo=1", "foo"),
])
def test_stats_refuses_bad_parameters(tenant, query, field):
    assert_error(tenant.get("/events/stats?" + query), 400, f"Invalid field {field}.")


def test_stats_needs_credentials(tenant):
    assert_error(tenant.server.request("GET", "/events/stats"), 401, "Unauthorized.")
    r = tenant.server.request("POST", "/events/stats", headers=tenant.auth())
    assert_error(r, 405, "Method not allowed.")
    assert r.header("Allow") == "GET, HEAD"
