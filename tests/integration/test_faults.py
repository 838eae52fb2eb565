"""Faults: the database going away under a running hookd, and health checks.

The API must answer 503 within a bound (never hang), workers must pause,
and both must recover on their own when the database returns, with
nothing that was accepted lost."""
import json
import random
import threading
import time

from conftest import Answer, Receiver, Server, assert_error, create_tenant, hookd_env
from test_delivery import FAST, notifications, subscribe, wait_state, wait_until, workers  # noqa: F401


def test_health_endpoints(server):
    r = server.request("GET", "/healthz")
    assert r.status == 200 and r.json() == {"type": "success", "data": {"status": "ok"}}
    r = server.request("GET", "/readyz")
    assert r.status == 200
    assert r.json()["data"] == {"database": "ok", "migrations": "current"}
    assert_error(server.request("GET", "/healthz?x=1"), 400, "Invalid field x.")
    assert_error(server.request("POST", "/readyz"), 405, "Method not allowed.")


def test_readyz_reports_pending_migrations(cluster):
    """A database whose schema is behind the binary is not ready."""
    import psycopg2
    conn = psycopg2.connect(cluster.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DELETE FROM hookd.schema_migrations WHERE version = "
                    "(SELECT max(version) FROM hookd.schema_migrations)")
    conn.close()
    s = Server("api", HOOKD_DATABASE_URL=cluster.url, HOOKD_MIGRATE_ON_START="false")
    try:
        assert_error(s.request("GET", "/readyz"), 503, "Service unavailable.")
        assert s.request("GET", "/healthz").status == 200
    finally:
        assert s.stop() == 0


def test_database_outage_gives_503_and_heals_without_restart(cluster, receiver):
    s = Server("serve", HOOKD_DATABASE_URL=cluster.url, **FAST)
    try:
        tenant = create_tenant(s, env=hookd_env(HOOKD_DATABASE_URL=cluster.url))
        subscribe(tenant, receiver)
        first = tenant.publish().json()["data"]["id"]
        wait_state(tenant, first, "delivered")

        cluster.stop()
        started = time.time()
        r = tenant.publish()
        assert time.time() - started < 8, "the API must not hang on a dead database"
        assert_error(r, 503, "Service unavailable.")
        assert r.header("Retry-After") == "1"
        assert_error(s.request("GET", "/readyz"), 503, "Service unavailable.")
        assert s.request("GET", "/healthz").status == 200

        cluster.start()
        deadline = time.time() + 20
        while True:
            r = s.request("POST", "/events", json.dumps({"type": "order.updated", "data": {"n": 2}}),
                          tenant.auth({"Content-Type": "application/json"}))
            if r.status == 201 or time.time() > deadline:
                break
            time.sleep(0.2)
        assert r.status == 201, r
        second = r.json()["data"]["id"]
        # The workers came back too: the event accepted after the outage arrives.
        wait_state(tenant, second, "delivered", timeout=20)
        assert s.request("GET", "/readyz").status == 200
        assert [g["headers"]["webhook-id"] for g in receiver.requests[1:]] == [first, second]
    finally:
        assert s.stop() == 0


def test_kill_9_during_a_publish_storm_loses_nothing(tenant, receiver):
    """Every event that got a 2xx is in the database afterwards and is
    delivered, however often hookd is killed mid-storm."""
    subscribe(tenant, receiver)
    accepted = []
    lock = threading.Lock()
    stop = threading.Event()
    current = {}

    def publisher(n):
        i = 0
        while not stop.is_set():
            s = current.get("server")
            i += 1
            try:
                r = s.request("POST", "/events",
                              json.dumps({"type": "order.updated", "data": {"p": n, "i": i}}),
                              tenant.auth({"Content-Type": "application/json"}), timeout=5)
            except OSError:
                time.sleep(0.01)   # the server is dead or restarting
                continue
            if r.status == 201:
                with lock:
                    accepted.append(r.json()["data"]["id"])

    # A short lease: deliveries claimed by a killed process come back soon.
    # Retries enough (and a request timeout long enough) that a machine too
    # busy to answer within FAST's 1.5 s three times over cannot fail a
    # delivery: this test is about losing events, not about timeouts.
    settings = dict(FAST, HOOKD_LEASE_S=2, HOOKD_REQUEST_TIMEOUT_MS=5000,
                    HOOKD_RETRY_SCHEDULE="300ms,600ms,1s,1s,2s,2s,4s,4s")
    current["server"] = Server("serve", **settings)
    threads = [threading.Thread(target=publisher, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        rng = random.Random(4242)
        for _ in range(3):
            time.sleep(0.3 + rng.random())
            victim = current["server"]
            victim.proc.kill()                   # kill -9, mid-publish
            victim.proc.wait()
            victim.log.close()
            current["server"] = Server("serve", **settings)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    survivor = current["server"]
    try:
        assert len(accepted) > 20, "the storm published too little to prove anything"
        wanted = set(accepted)
        wait_until_delivered = time.time() + 60
        while time.time() < wait_until_delivered:
            got = {g["headers"]["webhook-id"] for g in receiver.requests[1:]}
            if wanted <= got:
                break
            time.sleep(0.2)
        missing = wanted - {g["headers"]["webhook-id"] for g in receiver.requests[1:]}
        assert missing == set(), (
            f"{len(missing)} accepted events were never delivered: "
            + "; ".join(f"{e}: {notifications(tenant, e)}" for e in sorted(missing)[:5]))
        for event_id in rng.sample(sorted(wanted), 10):
            assert tenant.get(f"/events/{event_id}").status == 200
    finally:
        assert survivor.stop() == 0


def test_endless_and_trickling_answers_are_cut_off(tenant, workers):
    """A receiver that streams forever is read up to the body cap; one that
    trickles bytes hits the request timeout. Both attempts are recorded
    with a bounded body, and the worker goes on delivering."""
    endless = Receiver(answers=[Answer(204), Answer(200, stream=(b"y" * 4096, 0.001))])
    trickle = Receiver(answers=[Answer(204), Answer(200, stream=(b"z", 0.1))])
    healthy = Receiver()
    try:
        subscribe(tenant, endless, "order.updated")
        subscribe(tenant, trickle, "product.created")
        subscribe(tenant, healthy, "order.confirmed")
        workers(HOOKD_RESPONSE_BODY_MAX=1000, HOOKD_RETRY_SCHEDULE="60s")
        a = tenant.publish("order.updated").json()["data"]["id"]
        b = tenant.publish("product.created").json()["data"]["id"]
        c = tenant.publish("order.confirmed").json()["data"]["id"]
        [n] = wait_state(tenant, a, "delivered")
        [att] = n["attempts"]
        assert att["status"] == 200 and att["response_body"] == "y" * 1000
        [n] = wait_until(lambda: [x for x in notifications(tenant, b) if x["attempts"]])
        [att] = n["attempts"]
        assert "Timeout" in att["error"] and len(att["response_body"]) <= 1000
        assert att["duration_ms"] < 5000
        wait_state(tenant, c, "delivered")
    finally:
        for r in (endless, trickle, healthy):
            r.close()


def test_an_attempt_that_ends_while_the_database_is_down_is_recorded_when_it_returns(cluster):
    """The worker's record fails (on sending or on reading its answer): the
    attempt is kept and written once the database is back, and the
    delivery is not sent again (its lease still holds). Meanwhile the
    worker tries again at its usual pace (the poll interval, 100 ms here),
    not in a busy loop: a finished attempt's wait for more to record with
    it (RECORD_LINGER_MS) once woke it at once, over and over, after the
    wait was over and the record could not be sent."""
    r = Receiver(answers=[Answer(204), Answer(204), Answer(204, delay=4.0)])
    s = Server("serve", HOOKD_DATABASE_URL=cluster.url,
               **dict(FAST, HOOKD_REQUEST_TIMEOUT_MS=15000, HOOKD_WORKERS=1))
    try:
        tenant = create_tenant(s, env=hookd_env(HOOKD_DATABASE_URL=cluster.url))
        subscribe(tenant, r)
        # A first delivery opens the worker's record connection, so that the
        # outage breaks a connection in use rather than preventing one.
        wait_state(tenant, tenant.publish().json()["data"]["id"], "delivered")
        event = tenant.publish().json()["data"]["id"]
        r.wait_for(3)                 # the delivery is being answered, slowly
        cluster.stop()
        wait_until(lambda: r.active == 0, timeout=10)   # answered while the database is down
        before = len(s.read_log().splitlines())
        time.sleep(1.0)
        tries = [line for line in s.read_log().splitlines()[before:] if "worker 0:" in line]
        cluster.start()
        assert 0 < len(tries) < 100, f"{len(tries)} worker warnings in 1 s: " + "\n".join(tries[:5])
        [n] = wait_state(tenant, event, "delivered", timeout=20)
        assert [(a["number"], a["status"]) for a in n["attempts"]] == [(1, 204)]
        assert len(r.requests) == 3, "sent once"
    finally:
        assert s.stop() == 0
        r.close()
