"""The SSRF guard: by default hookd refuses to connect to anything that is
not a public address, at subscribe time and again at every connection
(redirect hops included), checking the address it actually connects to.
The rest of the suite opens loopback with HOOKD_ALLOW_PRIVATE_TARGETS; these
tests run hookd without that, or with narrower lists."""
import pytest

from conftest import Answer, Receiver, Server, assert_error, table_counts
from test_delivery import FAST, subscribe, wait_until, notifications, workers  # noqa: F401


@pytest.fixture
def strict_api():
    s = Server("api", HOOKD_ALLOW_PRIVATE_TARGETS="", HOOKD_MIGRATE_ON_START="false",
               HOOKD_SUBSCRIBE_TIMEOUT_MS=1000)
    yield s
    assert s.stop() == 0


@pytest.mark.parametrize("host", [
    "127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
    "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "0.0.0.0",
])
def test_loopback_in_any_form_is_refused_by_default(tenant, db, receiver, strict_api, host):
    t = tenant.on(strict_api)
    before = table_counts(db, tenant.id)
    url = receiver.url(host=host)
    assert_error(t.post_form("/events/subscribe", {"type": "order.updated", "webhook_url": url}),
                 400, "Invalid field webhook_url.")
    assert receiver.requests == []
    assert table_counts(db, tenant.id) == before


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",   # cloud metadata
    "http://10.0.0.1/hook", "http://172.16.5.4/hook", "http://192.168.1.1/hook",
    "http://100.64.0.1/hook", "http://224.0.0.1/hook", "http://255.255.255.255/hook",
    "http://240.0.0.1/hook", "http://[fe80::1]/hook", "http://[fd00::1]/hook",
    "http://[ff02::1]/hook", "http://[::]/hook", "http://[::ffff:10.0.0.1]/hook",
    "http://[64:ff9b::a9fe:a9fe]/hook", "http://[2002:c0a8:101::1]/hook",
])
def test_private_literals_are_refused_without_connecting(tenant, strict_api, url):
    """IP literals are judged before any connection is attempted."""
    t = tenant.on(strict_api)
    assert_error(t.post_form("/events/subscribe", {"type": "order.updated", "webhook_url": url}),
                 400, "Invalid field webhook_url.")
    assert "subscribe refused" in strict_api.read_log()


def test_allowlist_opens_only_what_it_names(tenant):
    inside = Receiver(host="127.0.0.1")
    outside = Receiver(host="127.0.0.2")
    s = Server("api", HOOKD_ALLOW_PRIVATE_TARGETS="127.0.0.1/32", HOOKD_MIGRATE_ON_START="false")
    try:
        t = tenant.on(s)
        ok = t.post_form("/events/subscribe", {"type": "order.updated", "webhook_url": inside.url()})
        assert ok.status == 200, ok
        assert_error(t.post_form("/events/subscribe",
                                 {"type": "order.updated", "webhook_url": outside.url()}),
                     400, "Invalid field webhook_url.")
        assert outside.requests == []
    finally:
        assert s.stop() == 0
        inside.close()
        outside.close()


def test_allowed_ports(tenant, receiver):
    s = Server("api", HOOKD_ALLOWED_PORTS="1-1023", HOOKD_MIGRATE_ON_START="false")
    try:
        assert_error(tenant.on(s).post_form("/events/subscribe",
                                            {"type": "order.updated", "webhook_url": receiver.url()}),
                     400, "Invalid field webhook_url.")
        assert receiver.requests == []
    finally:
        assert s.stop() == 0


def test_every_delivery_connection_is_checked(tenant, receiver, workers):
    """A URL accepted earlier is refused at delivery once the rules say so:
    the check runs at connect time, not only at subscribe time."""
    subscribe(tenant, receiver)
    workers(HOOKD_ALLOW_PRIVATE_TARGETS="", HOOKD_RETRY_SCHEDULE="10s")
    event = tenant.publish().json()["data"]["id"]
    [n] = wait_until(lambda: [n for n in notifications(tenant, event) if n["attempts"]])
    [a] = n["attempts"]
    assert a["status"] is None
    assert a["error"] == "destination refused: 127.0.0.1 is a loopback address"
    assert len(receiver.requests) == 1   # the subscribe test POST only


def test_redirect_hops_are_checked(tenant, workers):
    target = Receiver(host="127.0.0.2")
    hop = Receiver(host="127.0.0.1")
    hop.answers = [Answer(204), Answer(307, headers={"Location": target.url("/stolen")})]
    try:
        subscribe(tenant, hop)
        workers(HOOKD_ALLOW_PRIVATE_TARGETS="127.0.0.1/32", HOOKD_RETRY_SCHEDULE="10s")
        event = tenant.publish().json()["data"]["id"]
        [n] = wait_until(lambda: [n for n in notifications(tenant, event) if n["attempts"]])
        assert n["attempts"][0]["error"] == \
            "destination refused: 127.0.0.2 is a loopback address"
        assert target.requests == []
    finally:
        target.close()
        hop.close()
