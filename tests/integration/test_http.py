"""The HTTP layer: unknown routes, trailing slashes, 405 with Allow, body
limits (413), content types (415), unknown query parameters, keep-alive."""
import http.client
import socket

import pytest

from conftest import MAX_BODY_BYTES, assert_error, assert_refused, table_counts


def test_unknown_route_is_404(tenant):
    for path in ["/", "/nope", "/events/a/b", "/events/subscribe/x"]:
        assert_error(tenant.get(path), 404, "Not found.")


@pytest.mark.parametrize("path,suggestion", [
    ("/events/subscriptions/", "/events/subscriptions"),
    ("/events/", "/events"),
    ("/events/types//", "/events/types"),
])
def test_trailing_slash_suggests_the_path(tenant, path, suggestion):
    assert_error(tenant.get(path), 404, f"Don't use trailing slashes. Try instead: {suggestion}")


@pytest.mark.parametrize("method,path,allow", [
    ("POST", "/events/subscriptions", "GET, HEAD"),
    ("DELETE", "/events/types", "GET, HEAD"),
    ("GET", "/events/subscribe", "POST"),
    ("PUT", "/events/unsubscribe", "POST"),
    ("PUT", "/events", "POST, GET, HEAD"),
    ("PATCH", "/events/EV000000000000000000", "GET, HEAD"),
])
def test_wrong_method_is_405_with_allow(tenant, method, path, allow):
    r = tenant.server.request(method, path, headers=tenant.auth())
    assert_error(r, 405, "Method not allowed.")
    assert r.header("Allow") == allow


def test_head_is_served_like_get(tenant):
    r = tenant.server.request("HEAD", "/events/types", headers=tenant.auth())
    assert r.status == 200
    assert r.body == b""


def test_body_over_the_limit_is_413(tenant, db):
    big = b'{"type":"order.updated","data":{"x":"' + b"a" * MAX_BODY_BYTES + b'"}}'
    assert_refused(db, tenant, lambda: tenant.post_json("/events", big), 413,
                   "Request body too large.")


def test_chunked_body_over_the_limit_is_413(tenant, db):
    before = table_counts(db, tenant.id)
    conn = http.client.HTTPConnection("127.0.0.1", tenant.server.port, timeout=10)
    chunk = b"a" * 8192
    try:
        conn.putrequest("POST", "/events")
        for k, v in tenant.auth({"Content-Type": "application/json",
                                 "Transfer-Encoding": "chunked"}).items():
            conn.putheader(k, v)
        conn.endheaders()
        try:
            for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close once it has answered
        r = conn.getresponse()
        assert r.status == 413
    finally:
        conn.close()
    assert table_counts(db, tenant.id) == before


def test_body_under_the_limit_is_accepted(tenant):
    payload = "a" * (MAX_BODY_BYTES - 200)
    r = tenant.post_json("/events", {"type": "order.updated", "data": {"x": payload}})
    assert r.status == 201


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x",
                                          "application/jsonx", "application/xml"])
def test_unsupported_content_type_is_415(tenant, db, content_type):
    assert_refused(db, tenant,
                   lambda: tenant.server.request("POST", "/events",
                                                 b'{"type":"order.updated","data":{}}',
                                                 tenant.auth({"Content-Type": content_type})),
                   415, "Unsupported content type.")


def test_body_without_content_type_is_415(tenant):
    r = tenant.server.request("POST", "/events", b'{"type":"order.updated","data":{}}', tenant.auth())
    assert r.status == 415


def test_content_type_parameters_are_allowed(tenant):
    r = tenant.server.request("POST", "/events", b'{"type":"order.updated","data":{}}',
                              tenant.auth({"Content-Type": "application/json; charset=utf-8"}))
    assert r.status == 201


def test_empty_post_without_content_type_reports_missing_fields(tenant):
    assert_error(tenant.server.request("POST", "/events/subscribe", b"", tenant.auth()), 400,
                 "Require type.")


@pytest.mark.parametrize("target,field", [
    ("/events/subscriptions?foo=1", "foo"),
    ("/events/types?embed=notifications", "embed"),
    ("/events/subscriptions?a=%zz", "a"),
])
def test_unknown_or_malformed_query_parameter_is_400(tenant, target, field):
    assert_error(tenant.get(target), 400, f"Invalid field {field}.")


def test_duplicate_query_parameter_is_400(tenant):
    event_id = tenant.publish().json()["data"]["id"]
    assert_error(tenant.get(f"/events/{event_id}?embed=notifications&embed=notifications"), 400,
                 "Invalid field embed.")


def test_connections_are_kept_alive(tenant):
    """Several requests ride one TCP connection (no Connection: close)."""
    conn = http.client.HTTPConnection("127.0.0.1", tenant.server.port, timeout=10)
    try:
        conn.connect()
        local = conn.sock.getsockname()
        for _ in range(3):
            conn.request("GET", "/events/types", headers=tenant.auth())
            r = conn.getresponse()
            r.read()
            assert r.status == 200
            assert (r.getheader("Connection") or "").lower() != "close"
            assert conn.sock is not None and conn.sock.getsockname() == local
    finally:
        conn.close()


def test_garbage_request_line_does_not_kill_the_server(tenant):
    with socket.create_connection(("127.0.0.1", tenant.server.port), timeout=5) as s:
        s.sendall(b"\x00\x01GARBAGE \xff\r\n\r\n")
        try:
            s.recv(1024)
        except OSError:
            pass
    assert tenant.get("/events/types").status == 200
