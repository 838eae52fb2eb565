"""POST /events of a type hookd has seen in the catalog, without an
Idempotency-Key, is stored with one plain INSERT of a text hookd builds
(publish_batcher.c, event_body.c) instead of hookd.publish_batch. These
tests show that the shortcut is taken, that what it stores is byte for
byte what hookd.publish stores, and that every refusal stays as it was:
an unknown type (also one created after hookd started, or removed from the
catalog after hookd saw it), a bad version, a repeated key."""
import json
import threading
import time
import uuid

import psycopg2

from conftest import (Server, assert_error, create_tenant, hookd_env, refuse_publish_batches,
                      run_hookd)

# What hookd.publish would build from the stored columns (the data is the
# stored text's own "data" member: json -> keeps its bytes).
SQL_BODY = """
    SELECT body, '{"id":' || to_json(id)::text
                 || ',"occurred":' || to_json(hookd.rfc3339(occurred))::text
                 || ',"type":' || to_json(type)::text
                 || ',"version":' || to_json(version)::text
                 || ',"data":' || (body::json -> 'data')::text || '}',
           hookd.rfc3339(occurred),
           EXISTS (SELECT 1 FROM hookd.pending_events p
                    WHERE p.tenant_id = e.tenant_id AND p.event_id = e.id)
      FROM hookd.events e WHERE tenant_id = %s AND id = %s"""


def published_text(r):
    """The event text inside a publish answer, as bytes: the answer is
    {"type":"success","data":<stored text>}."""
    prefix, suffix = b'{"type":"success","data":', b"}"
    assert r.body.startswith(prefix) and r.body.endswith(suffix), r.body
    return r.body[len(prefix):-len(suffix)]


def add_type(env=None):
    name = f"fast.t{uuid.uuid4().hex[:12]}"
    r = run_hookd("event-type", "add", name, "--description", "test", env=env)
    assert r.returncode == 0, r.stderr
    return name


def test_stored_text_is_what_sql_publish_stores(server, tenant, db):
    """Would fail if the text built in C differed by one byte from SQL's (a
    receiver re-fetching an event to verify it would see other bytes), if
    the occurred column and the text disagreed, or if the outbox row were
    missing."""
    assert tenant.publish(data={"warm": 1}).status == 201  # the type is now known
    bodies = [
        '{"type":"order.updated","data":{"a":1}}',
        '{"type":"order.updated","version":"2.1.0-rc.1+b.7",'
        '"data":  { "s" : "caf\\u00e9 \\"q\\" \\\\ \\/ \\n" ,"n":[1.5e3,-0,true,null,{}] }  }',
        '{"type":"order.updated","data":{"emoji":"\xf0\x9f\x98\x80","deep":{"x":{"y":[[]]}}}}',
    ]
    answers = [tenant.post_json("/events", b.encode()) for b in bodies]
    answers.append(tenant.post_form("/events", {"type": "order.updated",
                                                "data": ' {"form": "value"} '}))
    for r in answers:
        assert r.status == 201, r
        text = published_text(r)
        event_id = json.loads(text)["id"]
        with db.cursor() as cur:
            cur.execute(SQL_BODY, (tenant.id, event_id))
            stored, rebuilt, occurred, queued = cur.fetchone()
        assert stored.encode() == text
        assert rebuilt == stored
        assert json.loads(stored)["occurred"] == occurred
        assert queued
        assert tenant.get(f"/events/{event_id}").body == text
    assert json.loads(published_text(answers[1]))["version"] == "2.1.0-rc.1+b.7"
    assert json.loads(published_text(answers[0]))["version"] == "1.0.0"
    assert published_text(answers[3]).endswith(b',"data":{"form": "value"}}')


def count_fallbacks(server):
    return server.read_log().count("publishing them one by one")


def test_known_types_skip_publish_batch(cluster):
    """hookd.publish_batch is made to fail: a publish that goes through it
    is published again on its own (and logged), one that does not is not.
    Would fail if known types still went through the function (the CPU per
    event this saves), if a type created after hookd started were refused,
    or if the version check in C took or refused other versions than
    hookd.publish does."""
    conn = psycopg2.connect(cluster.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        refuse_publish_batches(cur)
    env = hookd_env(HOOKD_DATABASE_URL=cluster.url)
    s = Server("api", HOOKD_DATABASE_URL=cluster.url, HOOKD_TENANT_RATE_LIMIT=0)
    try:
        tenant = create_tenant(s, env=env)
        assert tenant.publish().status == 201
        assert count_fallbacks(s) == 1                    # the first: through the function
        for i in range(5):
            assert tenant.publish(data={"i": i}).status == 201
        assert count_fallbacks(s) == 1                    # the others: not

        late = add_type(env)                              # created after hookd started
        assert tenant.publish(late).status == 201
        assert count_fallbacks(s) == 2
        assert tenant.publish(late).status == 201
        assert count_fallbacks(s) == 2

        assert_error(tenant.publish("no.such.type"), 400, "Invalid field type.")
        assert count_fallbacks(s) == 3                    # unknown: asked every time
        assert_error(tenant.publish("no.such.type"), 400, "Invalid field type.")
        assert count_fallbacks(s) == 4

        key = {"Idempotency-Key": str(uuid.uuid4())}     # a key: through the function
        first = tenant.post_json("/events", {"type": "order.updated", "data": {"k": 1}}, key)
        again = tenant.post_json("/events", {"type": "order.updated", "data": {"k": 1}}, key)
        assert first.status == 201 and again.status == 201
        assert again.header("Idempotent-Replayed") == "true"
        assert published_text(first) == published_text(again)
        assert count_fallbacks(s) == 6

        # The version check in C takes exactly what hookd.publish takes.
        versions = ["1.0.0", "0.0.0", "10.2.3-alpha.1+build.9", "1.0.0-01", "1.0.0-x-y.--",
                    "01.0.0", "1.0", "v1", "1.0.0-", "1.0.0+", "1.0.0-a..b", "1.0.0-a_b",
                    "1.0.0 ", "1.0.0\n", "1.0.0-\u00e9", "1.0.0-" + "a" * 58, "1.0.0-" + "a" * 59]
        for v in versions:
            with conn.cursor() as cur:
                cur.execute("BEGIN")
                cur.execute("SELECT error_state FROM hookd.publish_checked("
                            "%s, 'order.updated', '{}'::json, %s, NULL, NULL)", (tenant.id, v))
                refusal = cur.fetchone()[0]
                cur.execute("ROLLBACK")
            r = tenant.publish(data={"v": v}, version=v)
            if refusal is None:
                assert r.status == 201, (v, r)
                assert json.loads(published_text(r))["version"] == v
            else:
                assert refusal == "HKV01", v
                assert_error(r, 400, "Invalid field version.")
        assert count_fallbacks(s) == 6
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM hookd.events WHERE tenant_id = %s", (tenant.id,))
            assert cur.fetchone()[0] == 1 + 5 + 2 + 1 + 6
    finally:
        s.stop()
        conn.close()


def test_a_type_removed_from_the_catalog_after_hookd_saw_it_is_refused(db):
    """The plain insert of a batch fails as a whole when a type it carries
    is gone (the catalog's foreign key); each publish of the batch is then
    tried on its own, so the others are stored and the gone type is refused
    as unknown, and hookd stops taking it for known. A first publish is
    held in the database (a trigger sleeps) while the others queue, so they
    form the next batch, which is sent while the first one's answer is
    still to be written: the path where a batch's answers are written while
    the database runs the next one. Would fail if a stale type stopped a
    whole batch, were stored, or if a failed batch sent that way lost or
    mixed up its answers or those of the batch before it."""
    s = Server("api", HOOKD_HTTP_THREADS=8, HOOKD_TENANT_RATE_LIMIT=0)
    try:
        tenant = create_tenant(s)
        gone = add_type()
        assert tenant.publish(gone).status == 201
        assert tenant.publish("order.updated").status == 201
        with db.cursor() as cur:
            cur.execute("DELETE FROM hookd.pending_events WHERE tenant_id = %s", (tenant.id,))
            cur.execute("DELETE FROM hookd.events WHERE type = %s", (gone,))
            cur.execute("DELETE FROM hookd.event_types WHERE name = %s", (gone,))
            cur.execute("""
                CREATE FUNCTION hookd.test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.body LIKE '%%"hold":true%%' THEN PERFORM pg_sleep(1); END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER test_hold BEFORE INSERT ON hookd.events
                    FOR EACH ROW EXECUTE FUNCTION hookd.test_hold();""")
        fallbacks = count_fallbacks(s)

        held = []
        first = threading.Thread(
            target=lambda: held.append(tenant.publish("order.updated", data={"hold": True})))
        first.start()
        time.sleep(0.3)  # the held publish is in the database now
        results = [None] * 16
        barrier = threading.Barrier(len(results))

        def run(i):
            barrier.wait()
            results[i] = tenant.publish(gone if i % 2 else "order.updated", data={"n": i})

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(results))]
        for t in threads:
            t.start()
        for t in threads + [first]:
            t.join(timeout=60)
        assert held[0].status == 201, held[0]
        assert json.loads(published_text(held[0]))["data"] == {"hold": True}
        for i, r in enumerate(results):
            if i % 2:
                assert_error(r, 400, "Invalid field type.")
            else:
                assert r.status == 201, r
                assert json.loads(published_text(r))["data"] == {"n": i}
        assert count_fallbacks(s) > fallbacks
        with db.cursor() as cur:
            cur.execute("SELECT count(*), count(*) FILTER (WHERE type = %s)"
                        " FROM hookd.events WHERE tenant_id = %s", (gone, tenant.id))
            assert cur.fetchone() == (1 + 1 + 8, 0)
        # forgotten: the next publish of it asks the catalog again
        fallbacks = count_fallbacks(s)
        assert_error(tenant.publish(gone), 400, "Invalid field type.")
        assert count_fallbacks(s) == fallbacks
    finally:
        s.stop()
        with db.cursor() as cur:
            cur.execute("DROP TRIGGER IF EXISTS test_hold ON hookd.events")
            cur.execute("DROP FUNCTION IF EXISTS hookd.test_hold()")

