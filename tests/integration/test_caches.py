"""The API's in-memory caches: events (immutable, so `GET /events/{id}` needs
no database round trip once an event is known) and API keys (for
HOOKD_AUTH_CACHE_S). The proof that a read is served from memory is that it
still works with PostgreSQL stopped."""
import json
import time

from conftest import Receiver, Server, assert_error, create_tenant, hookd_env


def start_api(cluster, **settings):
    s = Server("api", HOOKD_DATABASE_URL=cluster.url, **settings)
    tenant = create_tenant(s, env=hookd_env(HOOKD_DATABASE_URL=cluster.url))
    return s, tenant


def test_known_events_are_served_without_the_database(cluster):
    s, tenant = start_api(cluster)
    other = create_tenant(s, env=hookd_env(HOOKD_DATABASE_URL=cluster.url))
    try:
        published = tenant.publish(data={"n": 1, "big": 12345678901234567890123})
        assert published.status == 201
        event_id = published.json()["data"]["id"]
        # stored bytes, as the database has them
        stored = tenant.get(f"/events/{event_id}").body
        assert json.loads(stored)["data"]["big"] == 12345678901234567890123
        older = tenant.publish().json()["data"]["id"]
        assert other.get(f"/events/{older}").status == 404  # key cached for `other`

        cluster.stop()
        # from memory: the same bytes, for the owner only
        r = tenant.get(f"/events/{event_id}")
        assert r.status == 200 and r.body == stored
        assert tenant.get(f"/events/{older}").status == 200
        assert_error(other.get(f"/events/{event_id}"), 503, "Service unavailable.")
        # what is not cached needs the database
        assert_error(tenant.get("/events/EV000000000000000000"), 503, "Service unavailable.")
        assert_error(tenant.get(f"/events/{event_id}?embed=notifications"), 503,
                     "Service unavailable.")
        assert_error(tenant.publish(), 503, "Service unavailable.")
    finally:
        cluster.start()
        s.stop()


def test_without_the_caches_every_read_needs_the_database(cluster):
    s, tenant = start_api(cluster, HOOKD_EVENT_CACHE_MB=0, HOOKD_AUTH_CACHE_S=0)
    try:
        event_id = tenant.publish().json()["data"]["id"]
        assert tenant.get(f"/events/{event_id}").status == 200
        cluster.stop()
        assert_error(tenant.get(f"/events/{event_id}"), 503, "Service unavailable.")
    finally:
        cluster.start()
        s.stop()


def test_a_cached_key_expires_after_the_auth_cache_time(cluster):
    s, tenant = start_api(cluster, HOOKD_AUTH_CACHE_S=1)
    try:
        event_id = tenant.publish().json()["data"]["id"]
        cluster.stop()
        assert tenant.get(f"/events/{event_id}").status == 200
        time.sleep(1.5)
        # the key must be looked up again, and the database is gone
        assert_error(tenant.get(f"/events/{event_id}"), 503, "Service unavailable.")
    finally:
        cluster.start()
        s.stop()


def test_a_deleted_key_works_only_until_its_cache_entry_expires(cluster):
    import psycopg2
    s, tenant = start_api(cluster, HOOKD_AUTH_CACHE_S=1)
    try:
        assert tenant.get("/events/subscriptions").status == 200
        conn = psycopg2.connect(cluster.url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("UPDATE hookd.tenants SET api_key_hash = "
                        "decode(repeat('00', 32), 'hex') WHERE id = %s", (tenant.id,))
        conn.close()
        assert tenant.get("/events/subscriptions").status == 200  # still cached
        time.sleep(1.5)
        assert_error(tenant.get("/events/subscriptions"), 401, "Unauthorized.")
    finally:
        s.stop()


def test_a_refused_subscribes_test_event_is_forgotten(server, tenant):
    """The receiver may fetch the test event while it is being tested (and
    so cache it); when it then refuses, the event is deleted and must not
    live on in the cache."""
    receiver = Receiver(status=500, delay=1.0)
    try:
        import threading
        result = []
        t = threading.Thread(target=lambda: result.append(tenant.post_form(
            "/events/subscribe", {"type": "order.updated", "webhook_url": receiver.url()})))
        t.start()
        receiver.wait_for(1, timeout=10)
        event_id = json.loads(receiver.requests[0]["body"])["id"]
        assert tenant.get(f"/events/{event_id}").status == 200  # read during the test POST
        t.join(timeout=20)
        assert_error(result[0], 400, "Invalid field webhook_url.")
        assert_error(tenant.get(f"/events/{event_id}"), 404, "Event not found.")
    finally:
        receiver.close()
