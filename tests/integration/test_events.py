"""POST /events and GET /events/{id}: publishing, byte identity, idempotency,
tenant isolation, and every 400/404/409 of the two routes."""
import json
import re
import threading

import pytest

from conftest import assert_error, assert_refused

EVENT_ID = re.compile(r"^EV[0-9A-Za-z]{18}$")
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def stored_body(db, tenant, event_id):
    with db.cursor() as cur:
        cur.execute("SELECT body FROM hookd.events WHERE tenant_id = %s AND id = %s",
                    (tenant.id, event_id))
        row = cur.fetchone()
    return row[0] if row else None


def test_publish_json_returns_the_event_and_queues_it(tenant, db):
    r = tenant.publish("order.updated", {"order": {"id": 7, "state": "paid"}, "note": "a/b"})
    assert r.status == 201, r
    doc = r.json()
    assert doc["type"] == "success"
    event = doc["data"]
    assert list(event) == ["id", "occurred", "type", "version", "data"]
    assert EVENT_ID.match(event["id"])
    assert RFC3339_MS.match(event["occurred"])
    assert event["type"] == "order.updated"
    assert event["version"] == "1.0.0"
    assert event["data"] == {"order": {"id": 7, "state": "paid"}, "note": "a/b"}
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM hookd.pending_events WHERE tenant_id = %s AND event_id = %s",
                    (tenant.id, event["id"]))
        assert cur.fetchone()[0] == 1


def test_publish_form_body_with_data_as_json_text(tenant):
    r = tenant.post_form("/events", {"type": "product.created", "data": '{"sku":"X-1","price":"5.00"}',
                                     "version": "2.1.0-beta.1+build.5"})
    assert r.status == 201, r
    event = r.json()["data"]
    assert event["data"] == {"sku": "X-1", "price": "5.00"}
    assert event["version"] == "2.1.0-beta.1+build.5"


def test_publish_json_body_with_data_as_json_text(tenant):
    """A JSON body may give data as a string holding the object, as a form
    does: that string is parsed on its own (an object member of a JSON body
    is not parsed twice, a string member must be)."""
    r = tenant.post_json("/events", {"type": "product.created", "data": '{"sku":"X-2"}'})
    assert r.status == 201, r
    assert r.json()["data"]["data"] == {"sku": "X-2"}
    assert tenant.get(f"/events/{r.json()['data']['id']}").body.endswith(b',"data":{"sku":"X-2"}}')


def test_long_non_ascii_data_is_stored_exactly(tenant):
    """Multi-byte characters between long ASCII runs (UTF-8 is checked
    eight ASCII bytes at a time) are kept byte for byte."""
    data = ('{"s":"' + "a" * 37 + "é" + "b" * 8 + "€😀" + "c" * 61 + '"}').encode()
    r = tenant.post_json("/events", b'{"type":"order.updated","data":' + data + b"}")
    assert r.status == 201, r
    assert tenant.get(f"/events/{r.json()['data']['id']}").body.endswith(b',"data":' + data + b"}")


def test_get_returns_exactly_the_stored_bytes(tenant, db):
    data = {"name": "Grüße, 東京 ✓", "quote": "\"q\"", "nested": {"list": [1, 2.5, None, True]}}
    r = tenant.publish("order.updated", data)
    assert r.status == 201
    event_id = r.json()["data"]["id"]
    got = tenant.get(f"/events/{event_id}")
    assert got.status == 200
    assert got.header("Content-Type") == "application/json"
    stored = stored_body(db, tenant, event_id)
    assert got.body == stored.encode("utf-8")
    # The publish answer embeds the very same bytes.
    assert r.body == b'{"type":"success","data":' + got.body + b"}"
    assert json.loads(got.body)["data"] == data


def test_embed_notifications_adds_the_delivery_record(tenant):
    event_id = tenant.publish().json()["data"]["id"]
    plain = tenant.get(f"/events/{event_id}").body
    r = tenant.get(f"/events/{event_id}?embed=notifications")
    assert r.status == 200
    assert r.body == plain[:-1] + b',"notifications":[]}'
    assert r.json()["notifications"] == []


@pytest.mark.parametrize("embed", ["bogus", "notifications,bogus", "", "notifications,"])
def test_embed_rejects_unknown_values(tenant, embed):
    event_id = tenant.publish().json()["data"]["id"]
    assert_error(tenant.get(f"/events/{event_id}?embed={embed}"), 400, "Invalid field embed.")


@pytest.mark.parametrize("event_id", ["EV000000000000000000", "EVshort", "nothing", "EV" + "a" * 40])
def test_unknown_event_is_404(tenant, event_id):
    assert_error(tenant.get(f"/events/{event_id}"), 404, "Event not found.")


def test_another_tenants_event_is_404(tenant, other_tenant):
    event_id = tenant.publish().json()["data"]["id"]
    assert_error(other_tenant.get(f"/events/{event_id}"), 404, "Event not found.")
    assert other_tenant.get(f"/events/{event_id}?embed=notifications").status == 404


def test_idempotency_key_replays_the_original(tenant, db):
    key = {"Idempotency-Key": "order-7-updated"}
    first = tenant.post_json("/events", {"type": "order.updated", "data": {"n": 1}}, key)
    assert first.status == 201
    assert first.header("Idempotent-Replayed") is None
    again = tenant.post_json("/events", {"type": "order.updated", "data": {"n": 1}}, key)
    assert again.status == 201
    assert again.header("Idempotent-Replayed") == "true"
    assert again.body == first.body
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM hookd.events WHERE tenant_id = %s AND idempotency_key = %s",
                    (tenant.id, "order-7-updated"))
        assert cur.fetchone()[0] == 1
        cur.execute("SELECT count(*) FROM hookd.pending_events WHERE tenant_id = %s", (tenant.id,))
        assert cur.fetchone()[0] == 1


def test_idempotency_key_with_a_different_request_is_409(tenant, db):
    key = {"Idempotency-Key": "k1"}
    assert tenant.post_json("/events", {"type": "order.updated", "data": {"n": 1}}, key).status == 201
    assert_refused(db, tenant,
                   lambda: tenant.post_json("/events", {"type": "order.updated", "data": {"n": 2}}, key),
                   409, "Idempotency-Key reused with a different request.")


def test_idempotency_keys_are_per_tenant(tenant, other_tenant):
    key = {"Idempotency-Key": "shared-key"}
    a = tenant.post_json("/events", {"type": "order.updated", "data": {"n": 1}}, key)
    b = other_tenant.post_json("/events", {"type": "order.updated", "data": {"n": 1}}, key)
    assert a.status == b.status == 201
    assert a.json()["data"]["id"] != b.json()["data"]["id"]
    assert b.header("Idempotent-Replayed") is None


def test_concurrent_publishes_with_one_key_create_one_event(tenant, db):
    results = []

    def publish():
        results.append(tenant.post_json("/events", {"type": "order.updated", "data": {"n": 9}},
                                        {"Idempotency-Key": "race"}))

    threads = [threading.Thread(target=publish) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == [201] * 8
    assert len({r.json()["data"]["id"] for r in results}) == 1
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM hookd.events WHERE tenant_id = %s", (tenant.id,))
        assert cur.fetchone()[0] == 1


BAD_PUBLISHES = [
    # (body as JSON, expected description)
    ({"data": {"n": 1}}, "Require type."),
    ({"type": "", "data": {"n": 1}}, "Require type."),
    ({"type": "order.updated"}, "Require data."),
    ({"type": "order.updated", "data": None}, "Require data."),
    ({"type": "no.such.type", "data": {"n": 1}}, "Invalid field type."),
    ({"type": "order.updated", "data": [1, 2]}, "Invalid field data."),
    ({"type": "order.updated", "data": "not json"}, "Invalid field data."),
    ({"type": "order.updated", "data": "[1]"}, "Invalid field data."),
    ({"type": "order.updated", "data": 5}, "Invalid field data."),
    ({"type": "order.updated", "data": {"n": 1}, "version": "1.0"}, "Invalid field version."),
    ({"type": "order.updated", "data": {"n": 1}, "version": "01.0.0"}, "Invalid field version."),
    ({"type": "order.updated", "data": {"n": 1}, "version": ""}, "Invalid field version."),
    ({"type": "order.updated", "data": {"n": 1}, "version": {"v": 1}}, "Invalid field version."),
    ({"type": {"t": 1}, "data": {"n": 1}}, "Invalid field type."),
    ({"type": "order.updated", "data": {"n": 1}, "extra": 1}, "Invalid field extra."),
]


@pytest.mark.parametrize("body,description", BAD_PUBLISHES)
def test_bad_publish_json_is_400_and_changes_nothing(tenant, db, body, description):
    assert_refused(db, tenant, lambda: tenant.post_json("/events", body), 400, description)


@pytest.mark.parametrize("body,description", [
    ("data=%7B%7D", "Require type."),
    ("type=order.updated", "Require data."),
    ("type=order.updated&data=%7Bnope", "Invalid field data."),
    ("type=order.updated&data=%7B%7D&type=order.updated", "Invalid field type."),
    ("type=order.updated&data=%ZZ", "Invalid field data."),
    ("type=order.updated&data=%7B%7D&version=x", "Invalid field version."),
])
def test_bad_publish_form_is_400_and_changes_nothing(tenant, db, body, description):
    assert_refused(db, tenant, lambda: tenant.post_form("/events", body), 400, description)


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "naïve"])
def test_bad_idempotency_key_is_400(tenant, db, key):
    header = {"Idempotency-Key": key.encode("utf-8").decode("latin-1")}
    assert_refused(db, tenant,
                   lambda: tenant.post_json("/events", {"type": "order.updated", "data": {}}, header),
                   400, "Invalid field Idempotency-Key.")


def test_malformed_json_body_is_400(tenant, db):
    for body in ['{"type":"order.updated"', '[1,2]', '{"type":"order.updated","data":{}} trailing',
                 '"string"', b'{"type":"\xff\xfe","data":{}}']:
        assert_refused(db, tenant, lambda: tenant.post_json("/events", body), 400,
                       "Invalid field body.")


def test_event_types_catalog(tenant):
    r = tenant.get("/events/types")
    assert r.status == 200
    names = [t["name"] for t in r.json()["data"]]
    for seeded in ["disbursement.created", "product.created", "order.confirmed", "order.updated",
                   "order_item.updated", "webhook.test"]:
        assert seeded in names
    assert names == sorted(names)


def test_data_is_stored_exactly_as_sent(tenant, db):
    """Numbers beyond 64 bits, key order, duplicate nested keys and spacing
    survive: the event carries the producer's bytes, not a re-encoding."""
    data = b'{ "big": 123456789012345678901234567890, "z": 1, "a": [1.10, 2e400],\n "k": 1, "k": 2 }'
    body = b'{"type":"order.updated","data":' + data + b'}'
    r = tenant.post_json("/events", body)
    assert r.status == 201, r
    event_id = r.json()["data"]["id"]
    got = tenant.get(f"/events/{event_id}").body
    assert got.endswith(b',"data":' + data.strip() + b"}")
    form = tenant.post_form("/events", b"type=order.updated&data=" +
                            b"%7B%22n%22%3A%2018446744073709551616%7D")
    assert form.status == 201
    assert tenant.get(f"/events/{form.json()['data']['id']}").body.endswith(
        b',"data":{"n": 18446744073709551616}}')


@pytest.mark.parametrize("encoding,body,field", [
    # Malformed or ambiguous JSON.
    ("json", b'{"type":"order.updated","type":"order.updated","data":{}}', "type"),
    ("json", b'{"type":"order.updated","data":{},"data":null}', "data"),
    ("json", b'{"type":"order.updated","data":{"s":"\xc0\xaf"}}', "body"),
    ("json", b'{"type":"order.updated","data":{"s":"\xed\xa0\x80"}}', "body"),
    ("json", b'{"type\\u0000x":"order.updated","data":{}}', "body"),
    ("json", b'{"type":"order.updated","data":{}', "body"),
    ("json", b'{"type":"order.updated","data":{}}}', "body"),
    ("json", b'{"type":"order.updated","data":{"a":[1}}', "body"),
    ("json", b'{"type":"order.updated",}', "body"),
    ("json", b'{"type" "order.updated"}', "body"),
    ("json", b'  ', "body"),
    ("json", b'{"type":"order.updated","data":{"n":NaN}}', "body"),
    ("json", b'{"type":"order.updated","data":{"n":1.}}', "body"),
    ("json", b'{"type":"order.updated","data":{"s":"tab\tinside"}}', "body"),
    ("json", b"{\"type\":\"order.updated\",\"data\":{'n':1}}", "body"),
    # Bad bytes in form values: 400, not 500.
    ("form", b"type=order.updated&data=%7B%22s%22%3A%22%C0%AF%22%7D", "data"),
    ("form", b"type=order%FF.updated&data=%7B%7D", "type"),
    ("form", b"type=order.updated&data=%7B%7D&version=1.0.0%00", "version"),
])
def test_malformed_json_or_bad_form_bytes_is_400(tenant, db, encoding, body, field):
    post = tenant.post_json if encoding == "json" else tenant.post_form
    assert_refused(db, tenant, lambda: post("/events", body), 400, f"Invalid field {field}.")
