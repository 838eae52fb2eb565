"""Faults: the database going away under a running hookd, and health checks.

The API must answer 503 within a bound (never hang), workers must pause,
and both must recover on their own when the database returns, with
nothing that was accepted lost."""
import json
import time

from conftest import Server, assert_error, create_tenant, hookd_env
from test_delivery import FAST, subscribe, wait_state


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
