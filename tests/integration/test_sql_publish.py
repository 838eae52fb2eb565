"""hookd.publish(): the transactional outbox for producers that publish from
inside their own database transaction. It does exactly what POST /events
does (the API calls it), so these tests check the SQL-only parts: rollback,
commit, ids, errors."""
import json
import re

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
