"""hookd.publish_batch (db/migrations/0008_publish_batch_set.sql) called
directly: events without an idempotency key are checked and stored
together (one INSERT for the events, one for the outbox), events with a key
one by one in input order; either way each input gets its own row, in
input order, with the same body hookd.publish would store."""
import json
import re

import psycopg2
import pytest

BODY = re.compile(r'^\{"id":"(EV[0-9A-Za-z]{18})","occurred":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",'
                  r'"type":"([a-z.]+)","version":"([^"]+)","data":(.*)\}$')


def event_id(n):
    return "EV" + f"{n:018d}"


def publish_batch(db, rows):
    """rows: (tenant, type, data, version, key, id) tuples; returns the
    function's rows."""
    columns = list(zip(*rows))
    with db.cursor() as cur:
        cur.execute("SELECT ord, event_body, replayed, error_state FROM hookd.publish_batch("
                    "%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
                    " ORDER BY ord", [list(c) for c in columns])
        return cur.fetchall()


def test_a_mixed_batch_gets_one_answer_per_input_in_order(tenant, db):
    base = tenant.id * 1000
    t = tenant.id
    rows = [
        (t, "order.updated", '{"n": 1}', None, None, event_id(base + 1)),
        (t, "no.such.type", '{"n": 2}', None, None, event_id(base + 2)),
        (t, "order.updated", "[2]", None, None, event_id(base + 3)),
        (t, "order.updated", '{"n": 4}', "v1", None, event_id(base + 4)),
        (t, "order.updated", '{"k": 5}', "2.0.0", "key-a", event_id(base + 5)),
        (t, "order.updated", '{"k": 5}', "2.0.0", "key-a", event_id(base + 6)),   # replay
        (t, "order.updated", '{"k": 7}', "2.0.0", "key-a", event_id(base + 7)),   # reused
        (t, "order.updated", '{"n":  8,"s":"\\u00e9"}', "1.2.3-rc.1", None, event_id(base + 8)),
    ]
    got = publish_batch(db, rows)
    assert [g[0] for g in got] == list(range(1, 9))
    assert [g[3] for g in got] == [None, "HKT01", "HKD01", "HKV01", None, None, "HKI01", None]
    assert [g[2] for g in got] == [False, False, False, False, False, True, False, False]

    first = BODY.match(got[0][1])
    assert first.groups() == (event_id(base + 1), "order.updated", "1.0.0", '{"n": 1}')
    keyed = BODY.match(got[4][1])
    assert keyed.group(1) == event_id(base + 5) and got[5][1] == got[4][1]
    last = BODY.match(got[7][1])
    assert last.groups() == (event_id(base + 8), "order.updated", "1.2.3-rc.1",
                             '{"n":  8,"s":"\\u00e9"}'), "the data's bytes are kept as sent"
    assert json.loads(got[7][1])["data"] == {"n": 8, "s": "\u00e9"}

    with db.cursor() as cur:
        cur.execute("SELECT e.id, e.body, p.event_id IS NOT NULL FROM hookd.events e"
                    " LEFT JOIN hookd.pending_events p ON p.tenant_id = e.tenant_id AND p.event_id = e.id"
                    " WHERE e.tenant_id = %s ORDER BY e.id", (t,))
        stored = cur.fetchall()
    assert stored == [(event_id(base + 1), got[0][1], True), (event_id(base + 5), got[4][1], True),
                      (event_id(base + 8), got[7][1], True)], \
        "stored events are queued; refusals and replays leave nothing"


def test_data_that_is_not_json_fails_the_whole_batch(tenant, db):
    t = tenant.id
    with pytest.raises(psycopg2.Error) as e:
        publish_batch(db, [(t, "order.updated", '{"n": 1}', None, None, event_id(t * 1000 + 1)),
                           (t, "order.updated", "{nope", None, None, event_id(t * 1000 + 2))])
    assert e.value.pgcode == "22P02"
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM hookd.events WHERE tenant_id = %s", (t,))
        assert cur.fetchone() == (0,)


def test_an_empty_batch_answers_nothing(db):
    with db.cursor() as cur:
        cur.execute("SELECT * FROM hookd.publish_batch('{}', '{}', '{}', '{}', '{}', '{}')")
        assert cur.fetchall() == []
