"""Group commit: concurrent `POST /events` share transactions (and so WAL
flushes), each request still gets exactly its own answer, and nothing is
answered before its commit. Events written by one transaction share its
xmin, which is how the tests see the batches."""
import json
import threading
import uuid

import psycopg2

from conftest import (Server, assert_error, create_tenant, hookd_env,
                      refuse_publish_batches)


def publish_concurrently(tenant, bodies, headers_for=lambda i: None):
    """Sends every body at once from its own thread; returns the responses
    in the same order."""
    results = [None] * len(bodies)
    barrier = threading.Barrier(len(bodies))

    def run(i):
        barrier.wait()
        results[i] = tenant.post_json("/events", bodies[i], headers_for(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def transactions_of(db, tenant):
    with db.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT xmin::text) FROM hookd.events"
                    " WHERE tenant_id = %s", (tenant.id,))
        return cur.fetchone()


def test_concurrent_publishes_share_commits(db):
    s = Server("api", HOOKD_HTTP_THREADS=8, HOOKD_TENANT_RATE_LIMIT=0)
    try:
        tenant = create_tenant(s)
        bodies = [{"type": "order.updated", "data": {"n": i}} for i in range(64)]
        results = publish_concurrently(tenant, bodies)
        assert [r.status for r in results] == [201] * 64
        ids = [r.json()["data"]["id"] for r in results]
        assert [r.json()["data"]["data"]["n"] for r in results] == list(range(64))
        assert len(set(ids)) == 64
        events, transactions = transactions_of(db, tenant)
        assert events == 64
        assert transactions < 64, "every publish committed on its own"
        for i in (0, 31, 63):  # what each got is what was stored
            assert tenant.get(f"/events/{ids[i]}").json()["data"] == {"n": i}
    finally:
        s.stop()


def test_publish_batch_of_one_commits_each_alone(db):
    s = Server("api", HOOKD_HTTP_THREADS=8, HOOKD_TENANT_RATE_LIMIT=0, HOOKD_PUBLISH_BATCH=1)
    try:
        tenant = create_tenant(s)
        results = publish_concurrently(
            tenant, [{"type": "order.updated", "data": {"n": i}} for i in range(24)])
        assert [r.status for r in results] == [201] * 24
        assert transactions_of(db, tenant) == (24, 24)
    finally:
        s.stop()


def test_each_publish_of_a_batch_gets_its_own_outcome(db):
    s = Server("api", HOOKD_HTTP_THREADS=8, HOOKD_TENANT_RATE_LIMIT=0)
    try:
        tenant = create_tenant(s)
        key = str(uuid.uuid4())
        bodies, headers = [], []
        for i in range(40):
            if i % 4 == 1:    # unknown type: refused alone
                bodies.append({"type": "no.such.type", "data": {"n": i}})
                headers.append(None)
            elif i % 4 == 2:  # one idempotency key, the same request each time
                bodies.append({"type": "order.updated", "data": {"same": True}})
                headers.append({"Idempotency-Key": key})
            elif i % 4 == 3:  # bad version: refused alone
                bodies.append({"type": "order.updated", "data": {"n": i}, "version": "v1"})
                headers.append(None)
            else:
                bodies.append({"type": "order.updated", "data": {"n": i}})
                headers.append(None)
        results = publish_concurrently(tenant, bodies, lambda i: headers[i])
        replay_ids = set()
        replays = 0
        for i, r in enumerate(results):
            if i % 4 == 1:
                assert_error(r, 400, "Invalid field type.")
            elif i % 4 == 3:
                assert_error(r, 400, "Invalid field version.")
            elif i % 4 == 2:
                assert r.status == 201, r
                replay_ids.add(r.json()["data"]["id"])
                replays += r.header("Idempotent-Replayed") == "true"
            else:
                assert r.status == 201, r
                assert r.json()["data"]["data"] == {"n": i}
        assert len(replay_ids) == 1 and replays == 9  # one stored, nine replays
        events, _ = transactions_of(db, tenant)
        assert events == 10 + 1
        # a different request under the same key is refused, whatever the batch
        r = tenant.post_json("/events", {"type": "order.updated", "data": {"other": 1}},
                             {"Idempotency-Key": key})
        assert_error(r, 409, "Idempotency-Key reused with a different request.")
    finally:
        s.stop()


def test_a_failed_batch_is_published_one_by_one(cluster):
    """When the batch statement fails as a whole, every publish of it is
    retried on its own, so each still gets its own answer."""
    conn = psycopg2.connect(cluster.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_get_functiondef('hookd.publish_batch'::regproc)")
        original = cur.fetchone()[0]
        refuse_publish_batches(cur)
    s = Server("api", HOOKD_DATABASE_URL=cluster.url, HOOKD_HTTP_THREADS=8,
               HOOKD_TENANT_RATE_LIMIT=0)
    try:
        tenant = create_tenant(s, env=hookd_env(HOOKD_DATABASE_URL=cluster.url))
        bodies = [{"type": "order.updated" if i % 3 else "no.such.type", "data": {"n": i}}
                  for i in range(12)]
        results = publish_concurrently(tenant, bodies)
        for i, r in enumerate(results):
            if i % 3:
                assert r.status == 201, r
                assert r.json()["data"]["data"] == {"n": i}
            else:
                assert_error(r, 400, "Invalid field type.")
        assert "publishing them one by one" in s.read_log()
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM hookd.events WHERE tenant_id = %s", (tenant.id,))
            assert cur.fetchone()[0] == 8
    finally:
        s.stop()
        with conn.cursor() as cur:
            cur.execute(original)
        conn.close()


def test_sigterm_answers_every_queued_publish():
    s = Server("api", HOOKD_HTTP_THREADS=8, HOOKD_TENANT_RATE_LIMIT=0, HOOKD_PUBLISH_THREADS=1)
    tenant = create_tenant(s)
    results = []
    lock = threading.Lock()

    def publisher(n):
        for i in range(n):
            try:
                r = tenant.publish(data={"i": i})
            except OSError:
                return  # the server is gone: no answer, nothing claimed
            with lock:
                results.append(r)

    threads = [threading.Thread(target=publisher, args=(50,)) for _ in range(8)]
    for t in threads:
        t.start()
    import time
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with lock:
            if len(results) >= 40:
                break
        time.sleep(0.01)
    s.proc.terminate()
    for t in threads:
        t.join(timeout=30)
    assert s.proc.wait(timeout=30) == 0
    s.stop()
    # every answer was a success for an event that is really stored
    ids = [r.json()["data"]["id"] for r in results if r.status == 201]
    assert len(ids) == len([r for r in results if r.status != 503])
    import conftest
    conn = psycopg2.connect(conftest.DATABASE_URL)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM hookd.events WHERE tenant_id = %s AND id = ANY(%s)",
                    (tenant.id, ids))
        assert cur.fetchone()[0] == len(ids)
    conn.close()
    assert json.loads(results[0].body)["type"] == "success"
