"""POST /events/subscribe, POST /events/unsubscribe, GET /events/subscriptions:
the test POST to the receiver, every refusal, and tenant isolation."""
import json
import re
import socket
import time

import pytest

from conftest import (Receiver, SUBSCRIBE_TIMEOUT_MS, Server, assert_error, assert_refused,
                      table_counts)

SUB_ID = re.compile(r"^ES[0-9A-Za-z]{18}$")


def test_subscribe_tests_the_url_then_accepts(tenant, receiver):
    r = tenant.post_form("/events/subscribe", {"type": "order.updated",
                                               "webhook_url": receiver.url()})
    assert r.status == 200, r
    doc = r.json()
    assert doc["type"] == "success"
    sub = doc["data"]
    assert SUB_ID.match(sub["id"])
    assert sub["type"] == "order.updated"
    assert sub["webhook_url"] == receiver.url()
    assert sub["status"] == "active"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", sub["created"])

    assert len(receiver.requests) == 1
    test = receiver.requests[0]
    assert test["path"] == "/hook"
    assert test["headers"]["Content-Type"] == "application/json"
    assert test["headers"]["User-Agent"].startswith("hookd/")
    event = json.loads(test["body"])
    assert list(event) == ["id", "occurred", "type", "version", "data"]
    assert event["type"] == "webhook.test"
    assert event["data"] == {"event_type": "order.updated", "webhook_url": receiver.url()}
    assert test["headers"]["webhook-id"] == event["id"]
    # The test event is stored, and re-fetching it gives the delivered bytes.
    got = tenant.get(f"/events/{event['id']}")
    assert got.status == 200
    assert got.body == test["body"]


def test_subscribe_with_json_body_and_wildcard(tenant, receiver):
    r = tenant.post_json("/events/subscribe", {"type": "*", "webhook_url": receiver.url("/all")})
    assert r.status == 200, r
    assert r.json()["data"]["type"] == "*"


def test_same_subscription_twice_is_409_without_a_second_test_post(tenant, receiver, db):
    fields = {"type": "order.updated", "webhook_url": receiver.url()}
    assert tenant.post_form("/events/subscribe", fields).status == 200
    assert_refused(db, tenant, lambda: tenant.post_json("/events/subscribe", fields), 409,
                   "Conflict with Event Subscription")
    assert len(receiver.requests) == 1


def test_one_url_many_types_share_one_endpoint(tenant, receiver, db):
    for t in ("order.updated", "order.confirmed", "*"):
        assert tenant.post_form("/events/subscribe", {"type": t, "webhook_url": receiver.url()}).status == 200
    counts = table_counts(db, tenant.id)
    assert counts["endpoints"] == 1
    assert counts["subscriptions"] == 3


def test_list_shows_only_the_tenants_subscriptions(tenant, other_tenant, receiver):
    assert tenant.get("/events/subscriptions").json() == {"type": "success", "data": []}
    tenant.post_form("/events/subscribe", {"type": "order.updated", "webhook_url": receiver.url("/a")})
    tenant.post_form("/events/subscribe", {"type": "product.created", "webhook_url": receiver.url("/b")})
    other_tenant.post_form("/events/subscribe", {"type": "order.updated", "webhook_url": receiver.url("/c")})
    mine = tenant.get("/events/subscriptions").json()["data"]
    assert [(s["type"], s["webhook_url"]) for s in mine] == [
        ("order.updated", receiver.url("/a")), ("product.created", receiver.url("/b"))]
    theirs = other_tenant.get("/events/subscriptions").json()["data"]
    assert [s["webhook_url"] for s in theirs] == [receiver.url("/c")]


def test_unsubscribe_removes_exactly_one(tenant, receiver):
    for t in ("order.updated", "order.confirmed"):
        tenant.post_form("/events/subscribe", {"type": t, "webhook_url": receiver.url()})
    r = tenant.post_json("/events/unsubscribe", {"type": "order.updated", "webhook_url": receiver.url()})
    assert r.status == 200
    assert r.json() == {"type": "success"}
    left = tenant.get("/events/subscriptions").json()["data"]
    assert [s["type"] for s in left] == ["order.confirmed"]
    again = tenant.post_form("/events/unsubscribe", {"type": "order.updated", "webhook_url": receiver.url()})
    assert_error(again, 404, "Event Subscription not found.")


def test_unsubscribe_cannot_touch_another_tenant(tenant, other_tenant, receiver):
    fields = {"type": "order.updated", "webhook_url": receiver.url()}
    tenant.post_form("/events/subscribe", fields)
    assert_error(other_tenant.post_form("/events/unsubscribe", fields), 404,
                 "Event Subscription not found.")
    assert len(tenant.get("/events/subscriptions").json()["data"]) == 1


def refused_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here any more
    return port


def assert_webhook_url_refused(db, tenant, url):
    """Subscribing url is refused (400) and leaves nothing behind, not even
    the test event that was sent to it."""
    assert_refused(db, tenant,
                   lambda: tenant.post_form("/events/subscribe",
                                            {"type": "order.updated", "webhook_url": url}),
                   400, "Invalid field webhook_url.")


@pytest.mark.parametrize("status", [500, 404, 301, 410])
def test_receiver_not_answering_2xx_refuses_and_changes_nothing(tenant, db, status):
    r = Receiver(status=status)
    try:
        assert_webhook_url_refused(db, tenant, r.url())
        assert len(r.requests) == 1
    finally:
        r.close()


def test_receiver_timeout_refuses(tenant, db):
    r = Receiver(delay=SUBSCRIBE_TIMEOUT_MS / 1000 + 1)
    try:
        assert_webhook_url_refused(db, tenant, r.url())
    finally:
        r.close()


def test_connection_refused_refuses(tenant, db):
    assert_webhook_url_refused(db, tenant, f"http://127.0.0.1:{refused_port()}/hook")


BAD_SUBSCRIBES = [
    ({"webhook_url": "http://127.0.0.1/x"}, "Require type."),
    ({"type": "", "webhook_url": "http://127.0.0.1/x"}, "Require type."),
    ({"type": "order.updated"}, "Require webhook_url."),
    ({"type": "order.updated", "webhook_url": ""}, "Require webhook_url."),
    ({"type": "no.such.type", "webhook_url": "http://127.0.0.1/x"}, "Invalid field type."),
    ({"type": "order.*", "webhook_url": "http://127.0.0.1/x"}, "Invalid field type."),
    ({"type": "order.updated", "webhook_url": "ftp://127.0.0.1/x"}, "Invalid field webhook_url."),
    ({"type": "order.updated", "webhook_url": "/relative"}, "Invalid field webhook_url."),
    ({"type": "order.updated", "webhook_url": "127.0.0.1/x"}, "Invalid field webhook_url."),
    ({"type": "order.updated", "webhook_url": "http://u:p@127.0.0.1/x"}, "Invalid field webhook_url."),
    ({"type": "order.updated", "webhook_url": "http://127.0.0.1/x y"}, "Invalid field webhook_url."),
    ({"type": "order.updated", "webhook_url": "http://127.0.0.1/" + "a" * 2030}, "Invalid field webhook_url."),
    ({"type": "order.updated", "webhook_url": "http://127.0.0.1/x", "extra": "1"}, "Invalid field extra."),
]


@pytest.mark.parametrize("fields,description", BAD_SUBSCRIBES)
@pytest.mark.parametrize("encoding", ["form", "json"])
def test_bad_subscribe_is_400_and_changes_nothing(tenant, db, fields, description, encoding):
    post = tenant.post_form if encoding == "form" else tenant.post_json
    assert_refused(db, tenant, lambda: post("/events/subscribe", fields), 400, description)


@pytest.mark.parametrize("fields,description", BAD_SUBSCRIBES[:10])
def test_bad_unsubscribe_is_400(tenant, fields, description):
    assert_error(tenant.post_form("/events/unsubscribe", fields), 400, description)


def test_url_of_exactly_2048_characters_is_accepted(tenant, receiver):
    url = receiver.url("/")
    url += "a" * (2048 - len(url))
    assert len(url) == 2048
    r = tenant.post_form("/events/subscribe", {"type": "order.updated", "webhook_url": url})
    assert r.status == 200, r


# ---- the test POST runs off the HTTP threads -------------------------------------

def subscribe_in_background(tenant, url, results, type_="order.updated"):
    import threading

    def run():
        started = time.monotonic()
        r = tenant.post_form("/events/subscribe", {"type": type_, "webhook_url": url})
        results.append((r, time.monotonic() - started))

    t = threading.Thread(target=run)
    t.start()
    return t


def test_a_slow_test_post_does_not_hold_the_api(tenant):
    # One HTTP thread: if the test POST ran on it, nothing else would be
    # answered until the slow receiver answers.
    server = Server("api", HOOKD_HTTP_THREADS=1, HOOKD_SUBSCRIBE_TIMEOUT_MS=10000)
    slow = Receiver(delay=3)
    try:
        t = tenant.on(server)
        results = []
        background = subscribe_in_background(t, slow.url(), results)
        slow.wait_for(1, timeout=10)  # the test POST has reached the receiver
        started = time.monotonic()
        assert t.get("/events/subscriptions").status == 200
        assert server.request("GET", "/healthz").status == 200
        assert time.monotonic() - started < 1.5
        background.join(timeout=20)
        r, elapsed = results[0]
        assert r.status == 200, r
        assert elapsed >= 2.5
        assert [s["webhook_url"] for s in t.get("/events/subscriptions").json()["data"]] \
            == [slow.url()]
    finally:
        server.stop()
        slow.close()


def test_subscribes_beyond_the_subscribe_threads_wait_their_turn(tenant):
    server = Server("api", HOOKD_SUBSCRIBE_THREADS=1, HOOKD_SUBSCRIBE_TIMEOUT_MS=10000)
    slow = Receiver(delay=1)
    try:
        t = tenant.on(server)
        results = []
        threads = [subscribe_in_background(t, slow.url(f"/hook{i}"), results) for i in range(3)]
        for th in threads:
            th.join(timeout=30)
        assert sorted(r.status for r, _ in results) == [200, 200, 200]
        # one at a time: the last waited for the two before it
        assert max(elapsed for _, elapsed in results) >= 2.5
        assert slow.max_active == 1
    finally:
        server.stop()
        slow.close()


def test_sigterm_during_a_test_post_still_answers_the_subscribe(tenant):
    server = Server("api", HOOKD_SUBSCRIBE_TIMEOUT_MS=10000)
    slow = Receiver(delay=2)
    try:
        t = tenant.on(server)
        results = []
        background = subscribe_in_background(t, slow.url(), results)
        slow.wait_for(1, timeout=10)
        server.proc.terminate()
        background.join(timeout=20)
        assert results and results[0][0].status == 200, results
        assert server.proc.wait(timeout=20) == 0
    finally:
        server.stop()
        slow.close()
