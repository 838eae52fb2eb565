"""Request limits and slow clients: URL length (414), request head size (431),
parameter count and JSON depth (400), total and per-address connection
limits, and the request deadline that disconnects slowloris clients. Each
runs against its own `hookd api` with the limit set low."""
import json
import socket
import time

import pytest

from conftest import Server, assert_error, assert_refused, create_tenant, table_counts


@pytest.fixture
def api_with():
    """Starts `hookd api` with the given settings; stops it afterwards."""
    started = []

    def start(**settings):
        s = Server("api", **settings)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def connect(server, source="127.0.0.1"):
    """A raw connection to server from the given loopback address."""
    return socket.create_connection(("127.0.0.1", server.port), timeout=10,
                                    source_address=(source, 0))


def closed_by_peer(sock, within):
    """True when the server ends the connection (EOF or reset) within the
    given seconds; False when it stays open that long."""
    sock.settimeout(within)
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def answer_on(sock, request):
    """Sends request bytes on sock and reads the whole answer (head and a
    Content-Length body); returns its status, or None when the connection
    ends without one."""
    try:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
        return int(head.split(b" ", 2)[1])
    except (ConnectionResetError, BrokenPipeError):
        return None


def get_request(path="/healthz"):
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


# ---- URL length --------------------------------------------------------------

def test_url_over_the_limit_is_414(api_with, db):
    server = api_with(HOOKD_MAX_URL_BYTES=1024)
    tenant = create_tenant(server)
    target = "/events/subscriptions?x=" + "a" * (1024 - len("/events/subscriptions?x="))
    # at the limit it is read (and x is refused as unknown) ...
    assert_error(tenant.get(target), 400, "Invalid field x.")
    # ... one byte more is 414, before authentication or any database work
    assert_error(server.request("GET", target + "a"), 414, "Request URL too long.")
    body = json.dumps({"type": "order.updated", "data": {"n": 1}})
    assert_refused(db, tenant, lambda: tenant.post_json("/events?" + "a" * 2000, body),
                   414, "Request URL too long.")


# ---- request head size -------------------------------------------------------

def test_headers_over_the_limit_are_431(api_with, db):
    server = api_with(HOOKD_MAX_HEADER_BYTES=2048)
    tenant = create_tenant(server)
    assert tenant.get("/events/subscriptions", {"X-Pad": "p" * 1500}).status == 200
    event = {"type": "order.updated", "data": {"n": 1}}
    assert_refused(db, tenant, lambda: tenant.post_json("/events", event, {"X-Pad": "p" * 2100}),
                   431, "Request headers too large.")
    # many small headers count together
    many = {f"X-H{i}": "v" * 40 for i in range(60)}
    assert_error(tenant.get("/events/subscriptions", many), 431, "Request headers too large.")


def test_a_head_far_past_the_limit_is_refused_and_the_server_lives_on(api_with):
    server = api_with(HOOKD_MAX_HEADER_BYTES=2048)
    sock = connect(server)
    try:
        status = answer_on(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: "
                           + b"p" * 200_000 + b"\r\n\r\n")
    finally:
        sock.close()
    # libmicrohttpd answers this one itself (its own 431), or hangs up
    assert status in (431, None)
    assert server.request("GET", "/healthz").status == 200


# ---- parameter count and JSON depth --------------------------------------------

def nested(depth):
    """A JSON object nested depth levels deep: {"a":{"a":{}}} is depth 3."""
    text = "{}"
    for _ in range(depth - 1):
        text = '{"a":' + text + "}"
    return text


def test_parameter_count_limit(api_with, db):
    server = api_with(HOOKD_MAX_FIELDS=3)
    tenant = create_tenant(server)
    three = '{"type":"order.updated","data":{"n":1},"version":"1.0.0"}'
    assert tenant.post_json("/events", three).status == 201
    # the fourth parameter is refused for being one too many (an unknown
    # name would be refused too, but only after all were read)
    four = '{"type":"order.updated","data":{"n":1},"version":"1.0.0","version2":1}'
    assert_refused(db, tenant, lambda: tenant.post_json("/events", four), 400,
                   "Invalid field version2.")
    form = "type=order.updated&data=%7B%7D&version=1.0.0&extra=1"
    assert_refused(db, tenant, lambda: tenant.post_form("/events", form), 400,
                   "Invalid field extra.")
    assert_error(tenant.get("/events/subscriptions?a=1&b=2&c=3&d=4"), 400, "Invalid field d.")


def test_json_depth_limit(api_with, db):
    server = api_with(HOOKD_MAX_JSON_DEPTH=4)
    tenant = create_tenant(server)
    r = tenant.post_json("/events", '{"type":"order.updated","data":' + nested(4) + "}")
    assert r.status == 201, r
    deep = '{"type":"order.updated","data":' + nested(5) + "}"
    assert_refused(db, tenant, lambda: tenant.post_json("/events", deep), 400,
                   "Invalid field body.")
    # the same data inside a form field
    from urllib.parse import quote
    form = "type=order.updated&data=" + quote(nested(5))
    assert_refused(db, tenant, lambda: tenant.post_form("/events", form), 400,
                   "Invalid field data.")
    assert tenant.post_form("/events", "type=order.updated&data=" + quote(nested(4))).status == 201


def test_default_json_depth_refuses_a_bomb(server, tenant, db):
    bomb = '{"type":"order.updated","data":{"a":' + "[" * 10_000 + "]" * 10_000 + "}}"
    assert_refused(db, tenant, lambda: tenant.post_json("/events", bomb), 400,
                   "Invalid field body.")


# ---- connection limits -----------------------------------------------------------

def test_per_address_connection_limit(api_with):
    server = api_with(HOOKD_MAX_CONNECTIONS_PER_IP=4, HOOKD_HTTP_THREADS=1)
    held = [connect(server, "127.0.0.2") for _ in range(4)]
    try:
        time.sleep(0.3)  # let the server accept them
        extra = connect(server, "127.0.0.2")
        try:
            assert closed_by_peer(extra, 5), "a fifth connection from one address was kept"
        finally:
            extra.close()
        # another address is served while the first holds its share
        sock = connect(server, "127.0.0.1")
        try:
            assert answer_on(sock, get_request()) == 200
        finally:
            sock.close()
        # the held connections still work
        assert answer_on(held[0], get_request()) == 200
    finally:
        for s in held:
            s.close()


def test_total_connection_limit(api_with):
    server = api_with(HOOKD_MAX_CONNECTIONS=6, HOOKD_HTTP_THREADS=1)
    held = [connect(server, f"127.0.0.{2 + i}") for i in range(6)]
    extra = None
    try:
        time.sleep(0.3)
        # past the limit the server stops accepting: the connection waits in
        # the kernel's backlog (or is closed) and gets no answer ...
        extra = connect(server, "127.0.0.9")
        extra.sendall(get_request())
        extra.settimeout(1.5)
        try:
            assert extra.recv(4096) == b"", "a connection past the limit was served"
        except (socket.timeout, ConnectionResetError):
            pass
    finally:
        for s in held:
            s.close()
        if extra is not None:
            extra.close()
    # ... until connections are given back
    time.sleep(0.3)
    sock = connect(server)
    try:
        assert answer_on(sock, get_request()) == 200
    finally:
        sock.close()


# ---- slow clients --------------------------------------------------------------

SLOW = dict(HOOKD_REQUEST_READ_TIMEOUT_S=2, HOOKD_CONNECTION_TIMEOUT_S=30)


def test_a_silent_connection_is_closed_after_the_read_timeout(api_with):
    server = api_with(**SLOW)
    sock = connect(server)
    try:
        started = time.monotonic()
        assert closed_by_peer(sock, 15)
        elapsed = time.monotonic() - started
        # the read timeout (2 s), not the 30 s idle timeout
        assert 1.5 <= elapsed < 10, elapsed
    finally:
        sock.close()


def trickle(socks, data, until, gap=0.25):
    """Sends data one byte per connection every gap seconds until the time
    `until` (monotonic) or until every connection is gone; returns the set of
    connections the server closed, with the time each one went."""
    gone = {}
    i = 0
    while time.monotonic() < until and len(gone) < len(socks):
        for n, s in enumerate(socks):
            if n in gone:
                continue
            try:
                s.sendall(data[i % len(data):i % len(data) + 1])
            except OSError:
                gone[n] = time.monotonic()
        i += 1
        time.sleep(gap)
    return gone


def test_slowloris_headers_cannot_hold_the_server(api_with):
    # every connection the server has is taken by clients trickling headers
    server = api_with(HOOKD_MAX_CONNECTIONS=8, HOOKD_HTTP_THREADS=1, **SLOW)
    socks = [connect(server, f"127.0.0.{2 + i}") for i in range(8)]
    try:
        started = time.monotonic()
        gone = trickle(socks, b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"s" * 10_000,
                       until=started + 15)
        assert len(gone) == 8, f"only {len(gone)} of 8 slow connections were closed"
        # none before its deadline, all soon after it
        assert min(gone.values()) - started >= 1.5
        assert max(gone.values()) - started < 10
    finally:
        for s in socks:
            s.close()
    time.sleep(0.3)
    assert server.request("GET", "/healthz").status == 200


def test_slowloris_body_is_cut_and_nothing_is_written(api_with, db):
    server = api_with(**SLOW)
    tenant = create_tenant(server)
    body = json.dumps({"type": "order.updated", "data": {"pad": "x" * 200}}).encode()
    head = (f"POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tenant.key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    before = table_counts(db, tenant.id)
    sock = connect(server)
    try:
        sock.sendall(head)
        started = time.monotonic()
        gone = trickle([sock], body, until=started + 15)
        assert gone, "a trickled body kept its connection past the deadline"
        assert 1.0 <= gone[0] - started < 10
    finally:
        sock.close()
    assert table_counts(db, tenant.id) == before


def test_a_slow_request_within_the_deadline_is_served(api_with):
    server = api_with(HOOKD_REQUEST_READ_TIMEOUT_S=5, HOOKD_CONNECTION_TIMEOUT_S=30)
    sock = connect(server)
    try:
        request = get_request()
        for i in range(0, len(request) - 1):
            sock.sendall(request[i:i + 1])
            time.sleep(0.05)
        assert answer_on(sock, request[-1:]) == 200
    finally:
        sock.close()


def test_a_kept_alive_connection_may_idle_past_the_read_timeout(api_with):
    server = api_with(HOOKD_REQUEST_READ_TIMEOUT_S=1, HOOKD_CONNECTION_TIMEOUT_S=30)
    sock = connect(server)
    try:
        assert answer_on(sock, get_request()) == 200
        time.sleep(2.5)   # longer than the read timeout, within the idle timeout
        assert answer_on(sock, get_request()) == 200
    finally:
        sock.close()
