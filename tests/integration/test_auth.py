"""Authentication: Bearer API keys and Okanjo-style signed requests, and the
401 every failure gets."""
import hashlib
import hmac
import json

import pytest

from conftest import assert_error


def assert_401(r):
    assert_error(r, 401, "Unauthorized.")
    assert r.header("WWW-Authenticate") == 'Bearer realm="hookd"'


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer hk_" + "0" * 40},
    {"Authorization": "Bearer nonsense"},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic dXNlcjpwYXNz"},
])
def test_missing_or_bad_bearer_is_401(server, headers):
    assert_401(server.request("GET", "/events/subscriptions", headers=headers))
    assert_401(server.request("POST", "/events", b'{"type":"order.updated","data":{}}',
                              {"Content-Type": "application/json", **headers}))


def test_bearer_is_case_insensitive_in_the_scheme(tenant):
    r = tenant.server.request("GET", "/events/types", headers={"Authorization": "bearer " + tenant.key})
    assert r.status == 200


def test_okanjo_signed_get(tenant):
    r = tenant.signed("GET", "/events/subscriptions")
    assert r.status == 200, r
    assert r.json() == {"type": "success", "data": []}


def test_okanjo_signed_get_with_other_query_parameters(tenant):
    event_id = tenant.publish().json()["data"]["id"]
    r = tenant.signed("GET", f"/events/{event_id}?embed=notifications")
    assert r.status == 200, r
    assert r.json()["notifications"] == []


def test_okanjo_signed_post_covers_the_body(tenant):
    body = json.dumps({"type": "order.updated", "data": {"signed": True}}).encode()
    r = tenant.signed("POST", "/events", body, "application/json")
    assert r.status == 201, r
    form = b"type=order.updated&data=%7B%22f%22%3A1%7D"
    r = tenant.signed("POST", "/events", form, "application/x-www-form-urlencoded")
    assert r.status == 201, r
    assert r.json()["data"]["data"] == {"f": 1}


def test_okanjo_signature_over_another_body_is_401(tenant, db):
    signed_body = b'{"type":"order.updated","data":{"amount":1}}'
    sent_body = b'{"type":"order.updated","data":{"amount":1000}}'
    uri = f"/events?key={tenant.key}"
    mac = hmac.new(tenant.passphrase.encode(), uri.encode() + signed_body, hashlib.sha256).hexdigest()
    r = tenant.server.request("POST", f"{uri}&signature={mac}", sent_body,
                              {"Content-Type": "application/json"})
    assert_401(r)


def test_okanjo_signature_with_wrong_passphrase_is_401(tenant, other_tenant):
    assert_401(tenant.signed("GET", "/events/subscriptions", passphrase=other_tenant.passphrase))
    assert_401(tenant.signed("GET", "/events/subscriptions", passphrase="hp_wrong"))


def test_okanjo_signature_on_another_path_is_401(tenant):
    uri = f"/events/types?key={tenant.key}"
    mac = hmac.new(tenant.passphrase.encode(), uri.encode(), hashlib.sha256).hexdigest()
    assert_401(tenant.server.request("GET", f"/events/subscriptions?key={tenant.key}&signature={mac}"))


@pytest.mark.parametrize("query", [
    "key={key}",
    "signature=" + "0" * 64,
    "key={key}&signature=" + "0" * 64,
    "key={key}&signature=zz",
    "key=hk_" + "1" * 40 + "&signature=" + "0" * 64,
])
def test_okanjo_incomplete_or_wrong_is_401(tenant, query):
    assert_401(tenant.server.request("GET", "/events/subscriptions?" + query.format(key=tenant.key)))


def test_uppercase_hex_signature_is_accepted(tenant):
    uri = f"/events/subscriptions?key={tenant.key}"
    mac = hmac.new(tenant.passphrase.encode(), uri.encode(), hashlib.sha256).hexdigest().upper()
    r = tenant.server.request("GET", f"{uri}&signature={mac}")
    assert r.status == 200
