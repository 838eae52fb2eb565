"""GET /metrics: the Prometheus text of a hookd process, checked by the real
Prometheus parser (`promtool check metrics`), and its numbers moving when
work happens: publishes, deliveries (to real receivers on 127.0.0.1),
failures and retries, HTTP requests, the database-wide queue gauges; the
optional bearer token; the separate listener of a standalone `hookd worker`.

If these fail, operators' dashboards and alerts read wrong or no numbers."""
import re
import shutil
import subprocess
import time

import pytest

from conftest import (SEEN_SECRETS, Answer, Receiver, Server, create_tenant, free_port,
                      http_request, run_hookd, hookd_env)

FAST = dict(HOOKD_RETRY_SCHEDULE="300ms,600ms", HOOKD_RETRY_JITTER_PCT=0,
            HOOKD_POLL_INTERVAL_MS=100, HOOKD_REQUEST_TIMEOUT_MS=1500,
            HOOKD_CONNECT_TIMEOUT_MS=1000, HOOKD_MIGRATE_ON_START="false")

PROMTOOL = shutil.which("promtool")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def promtool_check(text):
    """Runs the real Prometheus parser and linter over an exposition."""
    assert PROMTOOL, "promtool is missing (scripts/install-deps.sh test installs prometheus)"
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr


def parse(text):
    """{(name, frozenset(labels)): value} of every sample."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


class Metrics:
    def __init__(self, text):
        self.text = text
        self.samples = parse(text)

    def get(self, name, **labels):
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def has(self, name):
        return any(n == name for n, _ in self.samples)


def scrape(port, token=None, path="/metrics"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = http_request(port, "GET", path, headers=headers)
    assert r.status == 200, r
    assert r.header("Content-Type") == CONTENT_TYPE
    text = r.body.decode()
    promtool_check(text)
    return Metrics(text)


def wait_until(check, timeout=15, interval=0.1):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def wait_for_log(server, text, timeout=15):
    wait_until(lambda: text in server.read_log(), timeout)


def subscribe(tenant, receiver):
    r = tenant.post_form("/events/subscribe", {"type": "order.updated",
                                               "webhook_url": receiver.url()})
    assert r.status == 200, r
    SEEN_SECRETS.add(r.json()["data"].get("secret", ""))


@pytest.fixture
def started(migrated):
    """Starts hookd processes; all are stopped at the end and must exit 0."""
    servers = []

    def start(command="serve", **settings):
        s = Server(command, **{**FAST, **settings})
        servers.append(s)
        return s

    yield start
    for s in servers:
        assert s.stop() == 0, s.read_log()


def test_api_metrics_parse_and_count_requests(server, tenant):
    """The API's exposition passes promtool; requests are counted by route
    pattern (never by raw path) and status."""
    before = scrape(server.port)
    assert tenant.get("/events/EVdoesnotexist0000000").status == 404
    assert tenant.get("/events/types").status == 200
    assert server.request("GET", "/no/such/path").status == 404
    assert server.request("GET", "/ui/").status == 200   # answered by static_files.c
    # One pattern, two routes: their series stay apart (promtool refuses
    # duplicate series).
    assert server.request("GET", "/events").status == 401
    assert server.request("POST", "/events").status == 401
    after = scrape(server.port)
    for method in ("GET", "POST"):
        assert after.get("hookd_http_requests_total", method=method, route="/events",
                         code="401") >= 1
    assert after.get("hookd_http_requests_total", method="GET", route="/events/{id}", code="404") == \
        before.get("hookd_http_requests_total", method="GET", route="/events/{id}", code="404") + 1
    assert after.get("hookd_http_requests_total", method="GET", route="/events/types", code="200") == \
        before.get("hookd_http_requests_total", method="GET", route="/events/types", code="200") + 1
    assert after.get("hookd_http_requests_total", method="other", route="unmatched", code="404") == \
        before.get("hookd_http_requests_total", method="other", route="unmatched", code="404") + 1
    assert after.get("hookd_http_requests_total", method="GET", route="/ui/", code="200") == \
        before.get("hookd_http_requests_total", method="GET", route="/ui/", code="200") + 1
    # The previous scrape itself was counted, and this one is in flight.
    assert after.get("hookd_http_requests_total", method="GET", route="/metrics", code="200") >= 1
    assert after.get("hookd_http_requests_in_flight") >= 1
    assert after.get("hookd_http_request_duration_seconds_count", method="GET",
                     route="/events/types") == \
        before.get("hookd_http_request_duration_seconds_count", method="GET",
                     route="/events/types") + 1
    assert "EVdoesnotexist" not in after.text and "/no/such" not in after.text
    assert after.get("hookd_build_info", version="0.1.0") == 1
    assert after.get("hookd_db_pool_connections_max") > 0
    assert after.get("hookd_database_up") == 1


def test_outbox_gauge_matches_the_database(server, tenant, db):
    """With no worker running, a publish stays in the outbox; the gauge reads
    what the database holds (after its one-second cache)."""
    assert tenant.publish().status == 201
    time.sleep(1.2)
    m = scrape(server.port)
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM hookd.pending_events")
        assert m.get("hookd_outbox_events") == cur.fetchone()[0] >= 1
    assert m.get("hookd_events_published_total", type="order.updated") >= 1


def test_to_queue_gauge_counts_the_claims_leftovers(server, tenant, receiver, db):
    """With no worker running, a claim's leftover deliveries stay in
    hookd.pending_rest; the gauge counts deliveries, not rows."""
    subscribe(tenant, receiver)
    events = [tenant.publish().json()["data"]["id"] for _ in range(3)]
    with db.cursor() as cur:
        cur.execute("INSERT INTO hookd.pending_rest (tenant_id, endpoint_id, event_ids)"
                    " SELECT tenant_id, id, %s FROM hookd.endpoints WHERE tenant_id = %s"
                    " RETURNING id", (events, tenant.id))
        rest_id = cur.fetchone()[0]
    try:
        time.sleep(1.2)
        m = scrape(server.port)
        with db.cursor() as cur:
            cur.execute("SELECT sum(cardinality(event_ids)) FROM hookd.pending_rest")
            assert m.get("hookd_deliveries_to_queue") == cur.fetchone()[0] >= 3
    finally:
        with db.cursor() as cur:
            cur.execute("DELETE FROM hookd.pending_rest WHERE id = %s", (rest_id,))


def test_counters_move_with_publishing_delivering_and_failing(started, db):
    """One `serve` process: publishes, successful deliveries, failures with
    retries, a circuit breaker opening; every related series moves."""
    # The failed delivery waits 30 s for its retry, with its circuit open.
    s = started("serve", HOOKD_BREAKER_THRESHOLD=1, HOOKD_DB_POOL_SIZE=3,
                HOOKD_RETRY_SCHEDULE="30s")
    tenant = create_tenant(s)
    good = Receiver()
    bad = Receiver(status=500, answers=[Answer(204)])  # the subscribe test passes
    try:
        subscribe(tenant, good)
        other = create_tenant(s)
        subscribe(other, bad)
        before = scrape(s.port)
        assert before.get("hookd_db_pool_connections_max") == 3
        for i in range(3):
            assert tenant.publish(data={"i": i}).status == 201
        assert other.publish().status == 201
        good.wait_for(3)
        bad.wait_for(2)  # the subscribe test, then the delivery

        # Waits for the bad endpoint's attempt itself: this process's
        # workers also take other tests' due deliveries from the shared
        # queue, and one whose receiver is gone (no response: a retry) once
        # met a bare "a retry was counted" first (CI, 924a225).
        def moved():
            m = scrape(s.port)
            return m if (m.get("hookd_deliveries_total", outcome="delivered")
                         >= before.get("hookd_deliveries_total", outcome="delivered") + 3
                         and m.get("hookd_delivery_attempts_total", result="5xx")
                         >= before.get("hookd_delivery_attempts_total", result="5xx") + 1
                         and m.get("hookd_delivery_retries_total") >= 1) else None
        after = wait_until(moved)
        assert after.get("hookd_events_published_total", type="order.updated") == \
            before.get("hookd_events_published_total", type="order.updated") + 4
        assert after.get("hookd_http_requests_total", method="POST", route="/events", code="201") == \
            before.get("hookd_http_requests_total", method="POST", route="/events", code="201") + 4
        assert after.get("hookd_events_fanned_out_total") >= 4
        assert after.get("hookd_delivery_attempts_total", result="2xx") >= 3
        assert after.get("hookd_delivery_attempts_total", result="5xx") >= 1
        assert after.get("hookd_delivery_attempt_duration_seconds_count") >= 4
        assert after.get("hookd_delivery_latency_seconds_count") >= 3
        # Latency is observed for delivered attempts only, and is positive.
        assert after.get("hookd_delivery_latency_seconds_sum") > 0
        assert after.get("hookd_delivery_latency_seconds_bucket", le="+Inf") == \
            after.get("hookd_delivery_latency_seconds_count")
        assert after.get("hookd_deliveries_in_flight") >= 0
        # The failing endpoint's circuit opened (threshold 1); the gauge says
        # what the database says, once its cache has expired.
        time.sleep(1.2)
        m = scrape(s.port)
        with db.cursor() as cur:
            cur.execute("SELECT count(*) FROM hookd.endpoints WHERE state = 'active'"
                        " AND circuit_open_until > now()")
            open_now = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM hookd.deliveries WHERE state = 'pending'"
                        " AND attempt_count > 0")
            retrying = cur.fetchone()[0]
        assert m.get("hookd_endpoints_circuit_open") == open_now >= 1
        assert m.get("hookd_deliveries_retrying") == retrying >= 1
        assert m.has("hookd_deliveries_pending") and m.has("hookd_deliveries_delivering")
    finally:
        good.close()
        bad.close()


def test_token_guards_metrics(started):
    """With HOOKD_METRICS_TOKEN, /metrics answers 401 without the right
    bearer token and 200 with it; /healthz needs none."""
    token = "mt_" + "x7" * 16
    SEEN_SECRETS.add(token)
    s = started("api", HOOKD_METRICS_TOKEN=token)
    r = http_request(s.port, "GET", "/metrics")
    assert r.status == 401 and r.header("WWW-Authenticate") == 'Bearer realm="hookd"'
    assert r.json() == {"type": "error", "description": "Unauthorized."}
    r = http_request(s.port, "GET", "/metrics", headers={"Authorization": "Bearer wrong"})
    assert r.status == 401
    r = http_request(s.port, "GET", "/metrics", headers={"Authorization": f"Bearer {token}x"})
    assert r.status == 401
    scrape(s.port, token=token)
    assert http_request(s.port, "GET", "/healthz").status == 200


def test_worker_serves_metrics_on_its_own_listener(started, server, db):
    """`hookd worker` has no API listener: HOOKD_METRICS_LISTEN gives it one
    for /metrics (with the token) and /healthz; its delivery counters move."""
    port = free_port()
    w = started("worker", HOOKD_METRICS_LISTEN=f"127.0.0.1:{port}", HOOKD_METRICS_TOKEN="wt_secret_1")
    SEEN_SECRETS.add("wt_secret_1")
    wait_for_log(w, f"metrics listening on http://127.0.0.1:{port}/metrics")
    assert http_request(port, "GET", "/metrics").status == 401
    before = scrape(port, token="wt_secret_1")
    assert not before.has("hookd_db_pool_connections_max")  # a worker has no API pool
    tenant = create_tenant(server)
    receiver = Receiver()
    try:
        subscribe(tenant, receiver)
        assert tenant.publish().status == 201
        receiver.wait_for(1)
        wait_until(lambda: scrape(port, token="wt_secret_1").get(
            "hookd_deliveries_total", outcome="delivered")
            >= before.get("hookd_deliveries_total", outcome="delivered") + 1)
    finally:
        receiver.close()
    r = http_request(port, "GET", "/healthz")
    assert r.status == 200 and r.json()["data"]["status"] == "ok"
    assert http_request(port, "GET", "/other").status == 404
    assert http_request(port, "POST", "/metrics", body=b"x").status == 405


def test_database_down_is_reported_not_hidden(started):
    """When PostgreSQL cannot be reached, the exposition still parses,
    hookd_database_up is 0 and the queue gauges are left out."""
    port = free_port()
    w = started("worker", HOOKD_METRICS_LISTEN=f"127.0.0.1:{port}",
                HOOKD_DATABASE_URL="host=/nonexistent dbname=none")
    wait_for_log(w, "metrics listening")
    m = scrape(port)
    assert m.get("hookd_database_up") == 0
    assert not m.has("hookd_outbox_events")
    assert m.has("hookd_delivery_attempts_total")


def test_bad_metrics_settings_are_refused():
    r = run_hookd("worker", env=hookd_env(HOOKD_METRICS_LISTEN="localhost"))
    assert r.returncode == 2 and "HOOKD_METRICS_LISTEN" in r.stderr
    r = run_hookd("worker", env=hookd_env(HOOKD_METRICS_LISTEN="127.0.0.1:99999"))
    assert r.returncode == 2 and "HOOKD_METRICS_LISTEN" in r.stderr
    r = run_hookd("worker", env=hookd_env(HOOKD_METRICS_LISTEN="[nothex]:80"))
    assert r.returncode == 2


def test_metrics_port_in_use_stops_the_process():
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = run_hookd("worker", env=hookd_env(HOOKD_METRICS_LISTEN=f"127.0.0.1:{port}",
                                              HOOKD_MIGRATE_ON_START="false"))
    assert r.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port} for metrics" in r.stderr
