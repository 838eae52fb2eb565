"""hookd.publish(): the transactional outbox for producers that publish from
inside their own database transaction. It does exactly what POST /events
does (the API calls it), so these tests check the SQL-only parts: rollback,
commit, ids, errors."""
import json
import re
import time

import psycopg2
import pytest

from conftest import DATABASE_URL


@pytest.fixture
def producer():
    conn = psycopg2.connect(DATABASE_URL)
    yield conn
    conn.close()


def test_rolled_back_publish_leaves_nothing(tenant, producer):
    with producer.cursor() as cur:
        cur.execute("SELECT event_id FROM hookd.publish(%s, 'order.updated', '{\"n\":1}')", (tenant.id,))
        event_id = cur.fetchone()[0]
    producer.rollback()
    assert tenant.get(f"/events/{event_id}").status == 404


def test_committed_publish_is_served_byte_for_byte(tenant, producer):
    with producer.cursor() as cur:
        cur.execute("SELECT event_id, event_body, replayed FROM hookd.publish(%s, 'order.updated',"
                    " '{\"order\": {\"id\": 5}}', '1.2.0')", (tenant.id,))
        event_id, body, replayed = cur.fetchone()
        cur.execute("SELECT count(*) FROM hookd.pending_events WHERE event_id = %s", (event_id,))
        assert cur.fetchone()[0] == 1
    producer.commit()
    assert re.match(r"^EV[0-9A-Za-z]{18}$", event_id)
    assert replayed is False
    r = tenant.get(f"/events/{event_id}")
    assert r.status == 200
    assert r.body == body.encode()
    event = json.loads(r.body)
    assert event["version"] == "1.2.0"
    assert event["data"] == {"order": {"id": 5}}


def test_sql_idempotency(tenant, producer):
    with producer.cursor() as cur:
        cur.execute("SELECT event_id FROM hookd.publish(%s, 'order.updated', '{}', NULL, 'k')", (tenant.id,))
        first = cur.fetchone()[0]
        cur.execute("SELECT event_id, replayed FROM hookd.publish(%s, 'order.updated', '{}', NULL, 'k')",
                    (tenant.id,))
        assert cur.fetchone() == (first, True)
    producer.commit()


@pytest.mark.parametrize("args,sqlstate", [
    (("nope.type", "{}", "1.0.0"), "HKT01"),
    (("order.updated", "[1]", "1.0.0"), "HKD01"),
    (("order.updated", "{}", "v1"), "HKV01"),
])
def test_sql_errors_carry_hookd_sqlstates(tenant, producer, args, sqlstate):
    with producer.cursor() as cur:
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("SELECT * FROM hookd.publish(%s, %s, %s, %s)", (tenant.id, *args))
    assert e.value.pgcode == sqlstate
    producer.rollback()


def test_sql_generated_ids_are_well_formed(producer):
    with producer.cursor() as cur:
        cur.execute("SELECT hookd.new_event_id() FROM generate_series(1, 200)")
        ids = [row[0] for row in cur.fetchall()]
    assert all(re.match(r"^EV[0-9A-Za-z]{18}$", i) for i in ids)
    assert len(set(ids)) == 200


BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def id_time_ms(event_id):
    """The Unix milliseconds an event id starts with (its 8 characters after EV)."""
    ms = 0
    for c in event_id[2:10]:
        ms = ms * 62 + BASE62.index(c)
    return ms


def test_event_ids_start_with_their_time_so_that_later_ones_sort_later(tenant, producer):
    """Ids from SQL (hookd.new_event_id) and from the API carry the time they
    were made, in milliseconds, then 10 random characters: ids made later
    sort later (a new event's index entries go to the end of the index)."""
    ids = []
    with producer.cursor() as cur:
        for _ in range(3):
            cur.execute("SELECT hookd.new_event_id(),"
                        "       floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint")
            ids.append(cur.fetchone())
            time.sleep(0.003)
        r = tenant.post_json("/events", {"type": "order.updated", "data": {"n": 1}})
        assert r.status == 201, r
        api_id = r.json()["data"]["id"]
        cur.execute("SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint")
        after_api = cur.fetchone()[0]
    for event_id, now_ms in ids:
        assert now_ms - 1000 <= id_time_ms(event_id) <= now_ms, (event_id, now_ms)
    assert ids[-1][1] - 1000 <= id_time_ms(api_id) <= after_api + 1000, (api_id, after_api)
    made = [i for i, _ in ids] + [api_id]
    assert sorted(made, key=lambda i: i.encode()) == made, "in the order they were made"
    assert len({i[10:] for i in made}) == len(made), "each with random characters of its own"
