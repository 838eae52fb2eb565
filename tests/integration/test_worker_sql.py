"""The delivery worker's SQL functions (db/functions/fan_out.sql,
claim_deliveries.sql, record_attempts.sql), called directly: hookd.fan_out,
hookd.claim_deliveries and hookd.record_attempts. The worker makes two
calls per loop (fan out and claim, naming the requests that finished; then
record); these tests check the edges that the end-to-end delivery tests
reach only by chance: the in-flight cap across claims and with finished
requests not yet recorded, the rate limit's tokens, lost leases, the busy
flag, the closing row, and that a healthy endpoint's row is not rewritten
by every success.

The queue is shared by the whole test session (other tests may leave due
deliveries behind), so every assertion looks at this test's tenant only."""
import json
import re
import threading
import time
import uuid

import psycopg2
import pytest

from conftest import DATABASE_URL, SEEN_SECRETS, explained

CLAIM_COLUMNS = ("tenant_id", "delivery_id", "endpoint_id", "event_id", "attempt", "url", "body",
                 "secret_hex", "previous_secret_hex", "signing_key_hex", "endpoints_locked", "busy",
                 "fanned_out", "send_limit", "rest_waiting")


def subscribe(db, tenant, receiver, type_="order.updated", path="/hook"):
    """An endpoint of tenant subscribed to type_; returns its id."""
    r = tenant.post_form("/events/subscribe", {"type": type_, "webhook_url": receiver.url(path)})
    assert r.status == 200, r
    if "secret" in r.json()["data"]:
        SEEN_SECRETS.add(r.json()["data"]["secret"])
    with db.cursor() as cur:
        cur.execute("SELECT id FROM hookd.endpoints WHERE tenant_id = %s AND url = %s",
                    (tenant.id, receiver.url(path)))
        return cur.fetchone()[0]


def publish(db, tenant, count, type_="order.updated"):
    """Publishes count events and fans the whole outbox out; returns their ids."""
    with db.cursor() as cur:
        cur.execute("SELECT (hookd.publish(%s, %s, '{\"n\":1}')).event_id FROM generate_series(1, %s)",
                    (tenant.id, type_, count))
        ids = [row[0] for row in cur.fetchall()]
        for _ in range(1000):
            cur.execute("SELECT hookd.fan_out(1000)")
            if cur.fetchone()[0] == 0:
                break
    return ids


def claim(db, claim_id, limit=1000, lease_s=60, cap=32, rate=0, breaker=5, finished=(),
          fan_out=0, ahead=0, sign_v1a=None):
    """hookd.claim_deliveries: (the rows as dicts, the closing row as a dict).
    sign_v1a None calls it with nine arguments, as workers older than
    0022_endpoint_sign_v1a.sql do."""
    args = [claim_id, list(finished), fan_out, limit, lease_s, cap, rate, breaker, ahead]
    if sign_v1a is not None:
        args.append(sign_v1a)
    with db.cursor() as cur:
        cur.execute("SELECT * FROM hookd.claim_deliveries(%s, %s::bigint[]"
                    + ", %s" * (len(args) - 2) + ")", args)
        rows = [dict(zip(CLAIM_COLUMNS, row)) for row in cur.fetchall()]
    closing = [r for r in rows if r["delivery_id"] is None]
    assert len(closing) == 1, rows
    assert rows[-1] is closing[0], "the closing row comes last"
    return [r for r in rows if r["delivery_id"] is not None], closing[0]


def mine(rows, tenant):
    return [r for r in rows if r["tenant_id"] == tenant.id]


def outcome(row, state="delivered", status=204, retry_in_ms=0):
    return {"tenant_id": row["tenant_id"], "id": row["delivery_id"],
            "endpoint_id": row["endpoint_id"], "event_id": row["event_id"],
            "number": row["attempt"],
            "started_ms": int(time.time() * 1000), "duration_ms": 3, "status": status,
            "response_body": "", "error": None, "state": state, "retry_in_ms": retry_in_ms}


def record(db, claim_id, outcomes, breaker=5, disable_after_s=3600):
    with db.cursor() as cur:
        cur.execute("SELECT hookd.record_attempts(%s::json, %s, %s, %s)",
                    (json.dumps(outcomes), claim_id, breaker, disable_after_s))
        return cur.fetchone()[0]


def one(db, sql, *args):
    with db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


def test_fan_out_makes_one_delivery_per_endpoint(tenant, receiver, db):
    both = subscribe(db, tenant, receiver, "order.updated", "/both")
    subscribe(db, tenant, receiver, "*", "/both")                   # the same endpoint again
    other = subscribe(db, tenant, receiver, "product.created", "/other")
    events = publish(db, tenant, 3)
    with db.cursor() as cur:
        cur.execute("SELECT event_id, endpoint_id, state FROM hookd.deliveries WHERE tenant_id = %s"
                    " ORDER BY event_id", (tenant.id,))
        got = cur.fetchall()
    assert got == [(e, both, "pending") for e in sorted(events)]
    assert other not in [g[1] for g in got]
    assert one(db, "SELECT count(*) FROM hookd.pending_events WHERE tenant_id = %s", tenant.id) == (0,)


def test_fan_out_of_an_empty_outbox_or_no_room_moves_nothing(db):
    assert one(db, "SELECT hookd.fan_out(0)") == (0,)


def test_claim_keeps_the_endpoint_cap_across_claims(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    publish(db, tenant, 5)
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET max_in_flight = 2 WHERE id = %s", (endpoint,))
    a, b = str(uuid.uuid4()), str(uuid.uuid4())

    first, _ = claim(db, a)
    assert len(mine(first, tenant)) == 2
    row = mine(first, tenant)[0]
    assert row["attempt"] == 1 and row["url"] == receiver.url("/hook")
    assert json.loads(row["body"])["type"] == "order.updated"
    assert row["secret_hex"] and row["signing_key_hex"]

    second, closing = claim(db, b)
    assert mine(second, tenant) == [], "the cap holds across claims"
    assert closing["endpoints_locked"] >= 1, "the endpoint was locked and held back (throttled)"

    assert record(db, a, [outcome(row)]) == 1
    third, _ = claim(db, b)
    assert mine(third, tenant) == [], "a keeps the endpoint while it keeps claiming it"
    age_claims(db, a)
    fourth, _ = claim(db, b)
    assert len(mine(fourth, tenant)) == 1, "the recorded delivery freed one slot"


def age_claims(db, claim_id, seconds=2):
    """claim_id's deliveries were claimed `seconds` ago (it stopped claiming)."""
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.deliveries SET updated = now() - %s * interval '1 s'"
                    " WHERE claim_id = %s", (seconds, claim_id))


def test_finished_requests_free_their_slots_for_their_own_claim_only(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    publish(db, tenant, 5)
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET max_in_flight = 2 WHERE id = %s", (endpoint,))
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    first = mine(claim(db, a)[0], tenant)
    assert len(first) == 2
    done = first[0]["delivery_id"]

    assert mine(claim(db, b, finished=[done])[0], tenant) == [], \
        "another claim's finished requests still count until they are recorded"
    second = mine(claim(db, a, finished=[done])[0], tenant)
    assert len(second) == 1, "the finished request's slot is refilled before its record"
    assert mine(claim(db, a, finished=[done])[0], tenant) == [], "and only once"
    assert record(db, a, [outcome(first[0])]) == 1
    assert mine(claim(db, a)[0], tenant) == [], "two in flight: the cap"


def test_claim_fans_out_first(tenant, receiver, db):
    subscribe(db, tenant, receiver)
    with db.cursor() as cur:
        cur.execute("SELECT (hookd.publish(%s, 'order.updated', '{}')).event_id", (tenant.id,))
        event = cur.fetchone()[0]
    for _ in range(100):  # the outbox may hold other tests' events first
        rows, closing = claim(db, str(uuid.uuid4()), fan_out=1000)
        if [r for r in mine(rows, tenant) if r["event_id"] == event]:
            break
        assert closing["fanned_out"] >= 0
    else:
        pytest.fail("the published event was never fanned out and claimed")
    assert one(db, "SELECT count(*) FROM hookd.pending_events WHERE event_id = %s", event) == (0,)


def test_claim_pays_rate_limit_tokens(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    publish(db, tenant, 5)
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET rate_limit = 2 WHERE id = %s", (endpoint,))
    rows, _ = claim(db, str(uuid.uuid4()))
    assert len(mine(rows, tenant)) == 2, "a full bucket holds rate_limit tokens"
    tokens = one(db, "SELECT rate_tokens FROM hookd.endpoints WHERE id = %s", endpoint)[0]
    assert tokens < 1
    again, _ = claim(db, str(uuid.uuid4()))
    assert mine(again, tenant) == []


@pytest.mark.parametrize("limit, path", [("endpoint", "queue"), ("endpoint", "outbox"),
                                         ("server", "queue"), ("server", "outbox")])
def test_a_claim_pays_tokens_at_its_rate_limited_endpoints_only(tenant, receiver, db, limit, path):
    """The tokens are paid by a statement run only when an endpoint the
    claim locked has a rate limit, its own or the server's (p_rate_limit),
    whether the deliveries come from the queue or are born claimed. Broken
    if the test of that looks at one endpoint only, or at the endpoints'
    own limits only."""
    free = subscribe(db, tenant, receiver, path="/free")
    limited = subscribe(db, tenant, receiver, path="/limited")
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET rate_limit = 0 WHERE id = %s", (free,))
        if limit == "endpoint":
            cur.execute("UPDATE hookd.endpoints SET rate_limit = 5 WHERE id = %s", (limited,))
    if path == "queue":
        publish(db, tenant, 3)
    else:
        publish_only(db, tenant, 3)
    rows, _ = claim(db, str(uuid.uuid4()), rate=5 if limit == "server" else 0,
                    fan_out=1000 if path == "outbox" else 0)
    got = mine(rows, tenant)
    assert sorted(r["endpoint_id"] for r in got) == sorted([free] * 3 + [limited] * 3)
    tokens = dict((e, one(db, "SELECT rate_tokens FROM hookd.endpoints WHERE id = %s", e)[0])
                  for e in (free, limited))
    assert tokens[free] is None, "an endpoint without a limit (rate_limit 0) pays nothing"
    assert tokens[limited] is not None and 1.9 < tokens[limited] <= 2.1, \
        "5 tokens less the 3 claimed (and what refilled meanwhile)"


def test_claim_with_no_room_returns_only_the_closing_row(db):
    rows, closing = claim(db, str(uuid.uuid4()), limit=0)
    assert rows == []
    assert closing["endpoints_locked"] == 0 and closing["busy"] is False


def test_claim_skips_an_endpoint_another_claim_holds(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    publish(db, tenant, 2)
    other = psycopg2.connect(DATABASE_URL)
    try:
        with other.cursor() as cur:
            cur.execute("SELECT 1 FROM hookd.endpoints WHERE id = %s FOR NO KEY UPDATE", (endpoint,))
        rows, closing = claim(db, str(uuid.uuid4()))
        assert mine(rows, tenant) == [], "SKIP LOCKED: the held endpoint is left alone"
        if closing["endpoints_locked"] == 0:
            assert closing["busy"] is True, "due work whose endpoints others hold is busy"
    finally:
        other.rollback()
        other.close()
    rows, _ = claim(db, str(uuid.uuid4()))
    assert len(mine(rows, tenant)) == 2


def test_record_skips_outcomes_whose_lease_was_lost(tenant, receiver, db):
    subscribe(db, tenant, receiver)
    publish(db, tenant, 1)
    rows, _ = claim(db, str(uuid.uuid4()))
    row = mine(rows, tenant)[0]
    assert record(db, str(uuid.uuid4()), [outcome(row)]) == 0
    assert one(db, "SELECT state FROM hookd.deliveries WHERE id = %s", row["delivery_id"]) == ("delivering",)
    assert one(db, "SELECT count(*) FROM hookd.attempts WHERE delivery_id = %s", row["delivery_id"]) == (0,)


def test_record_of_nothing_writes_nothing(db):
    assert record(db, str(uuid.uuid4()), []) == 0
    with db.cursor() as cur:
        cur.execute("SELECT hookd.record_attempts(NULL, %s, 5, 3600)", (str(uuid.uuid4()),))
        assert cur.fetchone() == (0,)


def test_record_keeps_endpoint_health(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    publish(db, tenant, 3)
    claim_id = str(uuid.uuid4())
    rows = mine(claim(db, claim_id)[0], tenant)
    assert len(rows) == 3
    version = one(db, "SELECT xmin::text FROM hookd.endpoints WHERE id = %s", endpoint)

    assert record(db, claim_id, [outcome(rows[0])]) == 1
    assert one(db, "SELECT xmin::text FROM hookd.endpoints WHERE id = %s", endpoint) == version, \
        "a success at a healthy endpoint does not rewrite its row"

    assert record(db, claim_id, [outcome(rows[1], "pending", 500, 60000)], breaker=1) == 1
    streak, open_until, first_failure = one(
        db, "SELECT failure_streak, circuit_open_until > now(), first_failure_at IS NOT NULL"
            " FROM hookd.endpoints WHERE id = %s", endpoint)
    assert (streak, open_until, first_failure) == (1, True, True)
    assert one(db, "SELECT state, attempt_count, next_attempt_at > now() + interval '50 s'"
                   " FROM hookd.deliveries WHERE id = %s", rows[1]["delivery_id"]) == ("pending", 1, True)

    assert record(db, claim_id, [outcome(rows[2])]) == 1
    assert one(db, "SELECT failure_streak, circuit_open_until, first_failure_at"
                   " FROM hookd.endpoints WHERE id = %s", endpoint) == (0, None, None), \
        "a success closes the circuit"


def test_record_of_gone_disables_the_endpoint_and_parks_its_queue(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    publish(db, tenant, 3)
    claim_id = str(uuid.uuid4())
    rows = mine(claim(db, claim_id, cap=1)[0], tenant)
    assert len(rows) == 1
    assert record(db, claim_id, [outcome(rows[0], "disabled", 410)]) == 1
    assert one(db, "SELECT state FROM hookd.endpoints WHERE id = %s", endpoint) == ("disabled",)
    with db.cursor() as cur:
        cur.execute("SELECT state, count(*) FROM hookd.deliveries WHERE endpoint_id = %s"
                    " GROUP BY state ORDER BY state", (endpoint,))
        assert cur.fetchall() == [("disabled", 3)]


def test_record_disables_an_endpoint_failing_for_too_long(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    publish(db, tenant, 2)
    claim_id = str(uuid.uuid4())
    rows = mine(claim(db, claim_id, cap=1)[0], tenant)
    failed = outcome(rows[0], "pending", 500, 1000)
    failed["started_ms"] = int((time.time() - 7200) * 1000)        # failing for two hours
    assert record(db, claim_id, [failed], disable_after_s=3600) == 1
    state, reason = one(db, "SELECT state, disabled_reason FROM hookd.endpoints WHERE id = %s", endpoint)
    assert state == "disabled"
    assert reason.startswith("Failing continuously since ") and "(1 failed attempts in a row)" in reason
    with db.cursor() as cur:
        cur.execute("SELECT state FROM hookd.deliveries WHERE endpoint_id = %s", (endpoint,))
        assert sorted(r[0] for r in cur.fetchall()) == ["disabled", "disabled"]


# ---- new events' deliveries born claimed (0010_set_based_worker.sql) ------------------------

def publish_only(db, tenant, count, type_="order.updated"):
    """Empties the outbox of other tests' events (fanned out into the queue),
    then publishes count events of tenant into it; returns their ids."""
    with db.cursor() as cur:
        for _ in range(1000):
            cur.execute("SELECT hookd.fan_out(1000)")
            if cur.fetchone()[0] == 0:
                break
        cur.execute("SELECT (hookd.publish(%s, %s, '{\"n\":1}')).event_id FROM generate_series(1, %s)",
                    (tenant.id, type_, count))
        return [row[0] for row in cur.fetchall()]


def outbox(db, events):
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM hookd.pending_events WHERE event_id = ANY (%s)", (events,))
        return cur.fetchone()[0]


def queue_rest(db, events):
    """hookd.queue_rest until no delivery of events waits for it (a worker
    of the test session may be queueing them at the same moment: its rows
    are skipped until it commits)."""
    deadline = time.monotonic() + 10
    with db.cursor() as cur:
        while True:
            cur.execute("SELECT hookd.queue_rest(1000)")
            cur.execute("SELECT count(*) FROM hookd.pending_rest WHERE event_ids && %s::text[]",
                        (events,))
            if cur.fetchone()[0] == 0:
                return
            assert time.monotonic() < deadline, "the outbox's rest was never queued"
            time.sleep(0.02)


def states(db, events):
    with db.cursor() as cur:
        cur.execute("SELECT state, count(*) FROM hookd.deliveries WHERE event_id = ANY (%s)"
                    " GROUP BY state ORDER BY state", (events,))
        return dict(cur.fetchall())


def test_new_events_are_born_claimed_up_to_the_cap_and_the_rest_wait(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET max_in_flight = 2 WHERE id = %s", (endpoint,))
    events = publish_only(db, tenant, 5)
    a = str(uuid.uuid4())
    rows, closing = claim(db, a, fan_out=1000)
    got = mine(rows, tenant)
    assert [r["event_id"] for r in got] == events[:2], "the oldest first, up to the cap"
    assert all(r["attempt"] == 1 and r["body"] and r["secret_hex"] for r in got)
    assert one(db, "SELECT count(*) FROM hookd.deliveries WHERE claim_id = %s AND state = 'delivering'"
               " AND tenant_id = %s", a, tenant.id) == (2,)
    assert closing["fanned_out"] == 2
    assert outbox(db, events) == 3, \
        "the others wait in the outbox (the endpoint's requests are young), not in the queue"
    assert states(db, events) == {"delivering": 2}

    again, _ = claim(db, str(uuid.uuid4()), fan_out=1000)
    assert mine(again, tenant) == [], "the cap holds for born claims across claims"
    more, _ = claim(db, a, fan_out=1000, finished=[got[0]["delivery_id"]])
    assert [r["event_id"] for r in mine(more, tenant)] == [events[2]], \
        "a finished request's slot takes the next new event"


def test_born_claims_stop_at_the_claims_limit(tenant, receiver, db):
    subscribe(db, tenant, receiver)
    events = publish_only(db, tenant, 3)
    rows, closing = claim(db, str(uuid.uuid4()), limit=1, fan_out=1000)
    assert [r["event_id"] for r in mine(rows, tenant)] == events[:1]
    assert outbox(db, events) == 2


def test_a_slow_endpoints_new_events_go_to_the_queue(tenant, receiver, db):
    slow = subscribe(db, tenant, receiver, path="/slow")
    events = publish_only(db, tenant, 3)
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET max_in_flight = 1 WHERE id = %s", (slow,))
    first, _ = claim(db, str(uuid.uuid4()), fan_out=1)
    assert len(mine(first, tenant)) == 1
    with db.cursor() as cur:   # its one request has been running for two seconds
        cur.execute("UPDATE hookd.deliveries SET updated = now() - interval '2 s'"
                    " WHERE endpoint_id = %s AND state = 'delivering'", (slow,))
    rows, closing = claim(db, str(uuid.uuid4()), fan_out=1000)
    assert mine(rows, tenant) == []
    queue_rest(db, events)
    assert outbox(db, events) == 0, "they do not hold the outbox back"
    assert states(db, events) == {"delivering": 1, "pending": 2}


def test_a_throttled_endpoint_does_not_hold_back_another_endpoints_events(tenant, receiver, db):
    limited = subscribe(db, tenant, receiver, "order.updated", "/limited")
    other = subscribe(db, tenant, receiver, "product.created", "/other")
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET rate_limit = 1, rate_tokens = 0, rate_updated = now()"
                    " WHERE id = %s", (limited,))
    first = publish_only(db, tenant, 1, "order.updated")
    second = publish_only(db, tenant, 1, "product.created")
    rows, _ = claim(db, str(uuid.uuid4()), fan_out=1000)
    assert [(r["endpoint_id"], r["event_id"]) for r in mine(rows, tenant)] == [(other, second[0])]
    queue_rest(db, first)
    assert states(db, first) == {"pending": 1}, "no token: queued at once"
    assert outbox(db, first + second) == 0


def test_a_held_endpoint_keeps_its_event_in_the_outbox(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    events = publish_only(db, tenant, 1)
    other = psycopg2.connect(DATABASE_URL)
    try:
        with other.cursor() as cur:
            cur.execute("SELECT 1 FROM hookd.endpoints WHERE id = %s FOR NO KEY UPDATE", (endpoint,))
        rows, closing = claim(db, str(uuid.uuid4()), fan_out=1000)
        assert mine(rows, tenant) == []
        assert closing["busy"] is True, "another claim holds its endpoint for a moment"
        assert outbox(db, events) == 1
    finally:
        other.rollback()
        other.close()
    rows, _ = claim(db, str(uuid.uuid4()), fan_out=1000)
    assert [r["event_id"] for r in mine(rows, tenant)] == events


def test_disabled_and_open_circuit_endpoints_get_queued_deliveries(tenant, receiver, db):
    gone = subscribe(db, tenant, receiver, path="/gone")
    broken = subscribe(db, tenant, receiver, path="/broken")
    fine = subscribe(db, tenant, receiver, path="/fine")
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET state = 'disabled' WHERE id = %s", (gone,))
        cur.execute("UPDATE hookd.endpoints SET circuit_open_until = now() + interval '1 hour'"
                    " WHERE id = %s", (broken,))
    events = publish_only(db, tenant, 1)
    rows, _ = claim(db, str(uuid.uuid4()), fan_out=1000)
    assert [r["endpoint_id"] for r in mine(rows, tenant)] == [fine]
    queue_rest(db, events)
    with db.cursor() as cur:
        cur.execute("SELECT endpoint_id, state FROM hookd.deliveries WHERE event_id = %s"
                    " ORDER BY endpoint_id", (events[0],))
        assert cur.fetchall() == sorted([(gone, "disabled"), (broken, "pending"), (fine, "delivering")])
    assert outbox(db, events) == 0


def test_an_endpoints_queue_goes_before_its_new_events(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET max_in_flight = 1 WHERE id = %s", (endpoint,))
    queued = publish(db, tenant, 1)                      # fanned out into the queue
    fresh = publish_only(db, tenant, 2)
    rows, _ = claim(db, str(uuid.uuid4()), fan_out=1000)
    assert [r["event_id"] for r in mine(rows, tenant)] == queued
    assert outbox(db, fresh) == 2, \
        "behind a short queue of a fast endpoint, new events wait in the outbox"
    assert states(db, fresh) == {}


def test_behind_a_backlog_new_events_join_the_queue(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET max_in_flight = 1 WHERE id = %s", (endpoint,))
    queued = publish(db, tenant, 2)   # the one the room takes, and a full cap (1) besides
    fresh = publish_only(db, tenant, 2)
    rows, _ = claim(db, str(uuid.uuid4()), fan_out=1000)
    got = [r["event_id"] for r in mine(rows, tenant)]
    assert len(got) == 1 and got[0] in queued, "one of the two queued (due at the same time)"
    queue_rest(db, fresh)
    assert outbox(db, fresh) == 0, "a backlog does not hold the outbox back"
    assert states(db, fresh) == {"pending": 2}


def fill_with_requests(db, claim_id, endpoint, ages_s):
    """The endpoint's cap (len(ages_s)) taken by claim_id's requests, started
    ages_s seconds ago."""
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET max_in_flight = %s WHERE id = %s",
                    (len(ages_s), endpoint))
    rows, _ = claim(db, claim_id, fan_out=len(ages_s))
    ids = sorted(r["delivery_id"] for r in rows if r["endpoint_id"] == endpoint)
    assert len(ids) == len(ages_s)
    with db.cursor() as cur:
        for delivery, age in zip(ids, ages_s):
            cur.execute("UPDATE hookd.deliveries SET updated = now() - %s * interval '1 s'"
                        " WHERE id = %s", (age, delivery))


def test_one_old_request_does_not_make_a_fast_endpoint_slow(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    publish_only(db, tenant, 4)
    fill_with_requests(db, str(uuid.uuid4()), endpoint, [2, 0, 0, 0])
    fresh = publish_only(db, tenant, 1)
    rows, _ = claim(db, str(uuid.uuid4()), fan_out=1000)
    assert mine(rows, tenant) == []
    assert outbox(db, fresh) == 1, "three of its four requests are young: it is only busy"
    assert states(db, fresh) == {}


def test_a_full_endpoint_does_not_hold_back_its_events_deliveries_elsewhere(tenant, receiver, db):
    """A full endpoint whose requests are young keeps an event in the outbox
    only while that holds nobody else back: when the event has a delivery
    that can be born claimed at an endpoint with room, the full one takes
    its delivery into its queue instead (a receiver that has just become
    slow looks like that for its first 100 ms)."""
    full = subscribe(db, tenant, receiver, path="/full")
    fine = subscribe(db, tenant, receiver, path="/fine")
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET max_in_flight = 1 WHERE id = %s", (full,))
        cur.execute("UPDATE hookd.endpoints SET max_in_flight = 3 WHERE id = %s", (fine,))
    worker = str(uuid.uuid4())
    publish_only(db, tenant, 1)
    rows, _ = claim(db, worker, fan_out=1000)
    assert sorted(r["endpoint_id"] for r in mine(rows, tenant)) == sorted([full, fine])
    fresh = publish_only(db, tenant, 3)   # full: 1 request of 1; fine: 1 of 3
    rows, _ = claim(db, worker, fan_out=1000)
    assert sorted((r["endpoint_id"], r["event_id"]) for r in mine(rows, tenant)) == \
        sorted([(fine, fresh[0]), (fine, fresh[1])]), "fine's room is not left idle"
    assert outbox(db, fresh) == 1, "the third, with no room at either endpoint, waits"
    queue_rest(db, fresh)
    with db.cursor() as cur:
        cur.execute("SELECT endpoint_id, state, event_id FROM hookd.deliveries"
                    " WHERE event_id = ANY (%s) ORDER BY 1, 3", (fresh,))
        assert cur.fetchall() == sorted([(fine, "delivering", fresh[0]), (fine, "delivering", fresh[1]),
                                         (full, "pending", fresh[0]), (full, "pending", fresh[1])])


def test_an_endpoint_whose_requests_are_mostly_old_is_slow(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    publish_only(db, tenant, 4)
    fill_with_requests(db, str(uuid.uuid4()), endpoint, [2, 2, 0, 0])
    fresh = publish_only(db, tenant, 1)
    rows, _ = claim(db, str(uuid.uuid4()), fan_out=1000)
    assert mine(rows, tenant) == []
    queue_rest(db, fresh)
    assert outbox(db, fresh) == 0, "half of its requests are old: its new deliveries are queued"
    assert states(db, fresh) == {"pending": 1}


def slow_until_left_s(db, endpoint):
    """How long the endpoint's slow mark has to run (None: no mark)."""
    return one(db, "SELECT extract(epoch FROM slow_until - now()) FROM hookd.endpoints"
                   " WHERE id = %s", endpoint)[0]


def test_a_full_slow_endpoint_is_left_out_of_claims_until_an_attempt_ends(tenant, receiver, db):
    """Broken if a claim that finds an endpoint full and slow (half of its
    requests older than 100 ms) does not mark it (slow_until: half a
    second), or marks one whose requests are younger, if claims during the
    mark still weigh it (then a full endpoint whose requests look young
    keeps its new event in the outbox) instead of leaving its new
    deliveries to be queued, if the mark outlives its half second, or if an
    attempt recorded at the endpoint does not end the mark (its room would
    stay unused until then)."""
    endpoint = subscribe(db, tenant, receiver)
    publish_only(db, tenant, 4)
    holder = str(uuid.uuid4())
    fill_with_requests(db, holder, endpoint, [0, 0, 0, 0])
    first = publish_only(db, tenant, 1)
    rows, _ = claim(db, str(uuid.uuid4()), fan_out=1000)
    assert mine(rows, tenant) == []
    assert outbox(db, first) == 1, "full of young requests: only busy"
    assert slow_until_left_s(db, endpoint) is None, "not marked: its requests are young"

    with db.cursor() as cur:
        cur.execute("SELECT tenant_id, id, endpoint_id, event_id FROM hookd.deliveries"
                    " WHERE endpoint_id = %s AND state = 'delivering' ORDER BY id", (endpoint,))
        held = [{"tenant_id": t, "delivery_id": i, "endpoint_id": e, "event_id": ev, "attempt": 1}
                for t, i, e, ev in cur.fetchall()]
        cur.execute("UPDATE hookd.deliveries SET updated = now() - interval '0.2 s'"
                    " WHERE id = ANY (%s)", ([h["delivery_id"] for h in held[:2]],))
    second = publish_only(db, tenant, 1)
    claim(db, str(uuid.uuid4()), fan_out=1000)
    queue_rest(db, first + second)
    assert states(db, first + second) == {"pending": 2}, "slow: its new deliveries are queued"
    left = slow_until_left_s(db, endpoint)
    assert 0.25 < left <= 0.5, "marked for half a second from the claim's start"

    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET slow_until = now() + interval '1 hour'"
                    " WHERE id = %s", (endpoint,))
        cur.execute("UPDATE hookd.deliveries SET updated = now() WHERE endpoint_id = %s"
                    " AND state = 'delivering'", (endpoint,))
    marked = publish_only(db, tenant, 1)
    rows, _ = claim(db, str(uuid.uuid4()), fan_out=1000)
    assert mine(rows, tenant) == []
    queue_rest(db, marked)
    assert outbox(db, marked) == 0 and states(db, marked) == {"pending": 1}, \
        "marked slow: its new delivery is queued without a look at its requests"

    assert record(db, holder, [outcome(held[0])]) == 1
    assert slow_until_left_s(db, endpoint) is None, "an attempt ended: the mark is over"
    rows, _ = claim(db, holder, fan_out=1000)   # (another claim would wait for the holder's second)
    assert [(r["endpoint_id"], r["event_id"]) for r in mine(rows, tenant)] == \
        [(endpoint, first[0])], "weighed again: its queue's earliest takes the room that ended"

    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET slow_until = now() - interval '1 second'"
                    " WHERE id = %s", (endpoint,))
    later = publish_only(db, tenant, 1)
    rows, _ = claim(db, str(uuid.uuid4()), fan_out=1000)
    assert mine(rows, tenant) == []
    assert outbox(db, later) == 1, "the mark is over: full of young requests, it is only busy"
    assert slow_until_left_s(db, endpoint) < 0, "not marked again: its requests are young"


def test_a_failed_attempt_ends_a_slow_mark_too(tenant, receiver, db):
    """Broken if only a success ends the mark: a request that timed out
    frees its slot all the same."""
    endpoint = subscribe(db, tenant, receiver)
    publish_only(db, tenant, 2)
    holder = str(uuid.uuid4())
    fill_with_requests(db, holder, endpoint, [0, 0])
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET slow_until = now() + interval '1 hour'"
                    " WHERE id = %s", (endpoint,))
        cur.execute("SELECT tenant_id, id, endpoint_id, event_id FROM hookd.deliveries"
                    " WHERE endpoint_id = %s AND state = 'delivering' ORDER BY id LIMIT 1",
                    (endpoint,))
        t, i, e, ev = cur.fetchone()
    row = {"tenant_id": t, "delivery_id": i, "endpoint_id": e, "event_id": ev, "attempt": 1}
    assert record(db, holder, [outcome(row, "pending", None, 1000)]) == 1
    assert slow_until_left_s(db, endpoint) is None


def test_an_event_without_subscribers_leaves_the_outbox(tenant, db):
    events = publish_only(db, tenant, 2, "product.created")
    rows, closing = claim(db, str(uuid.uuid4()), fan_out=1000)
    assert mine(rows, tenant) == []
    assert outbox(db, events) == 0 and states(db, events) == {}


def claim_while_held(db, endpoint):
    """A claim made while another transaction holds endpoint's row, as a
    concurrent claim does."""
    other = psycopg2.connect(DATABASE_URL)
    try:
        with other.cursor() as cur:
            cur.execute("SELECT 1 FROM hookd.endpoints WHERE id = %s FOR NO KEY UPDATE", (endpoint,))
        return claim(db, str(uuid.uuid4()), fan_out=1000)
    finally:
        other.rollback()
        other.close()


def test_a_slow_endpoint_takes_new_events_into_its_queue_even_when_held(tenant, receiver, db):
    slow = subscribe(db, tenant, receiver, path="/slow")
    fine = subscribe(db, tenant, receiver, path="/fine")
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET max_in_flight = 1 WHERE id = %s", (fine,))
    publish_only(db, tenant, 1)
    fill_with_requests(db, str(uuid.uuid4()), slow, [2])
    with db.cursor() as cur:         # the fine endpoint's delivery of that event is over
        cur.execute("UPDATE hookd.deliveries SET state = 'delivered' WHERE endpoint_id = %s",
                    (fine,))
    fresh = publish_only(db, tenant, 1)
    rows, _ = claim_while_held(db, slow)
    assert [(r["endpoint_id"], r["event_id"]) for r in mine(rows, tenant)] == [(fine, fresh[0])]
    queue_rest(db, fresh)
    assert outbox(db, fresh) == 0, "the held slow endpoint's delivery joins its queue"
    with db.cursor() as cur:
        cur.execute("SELECT state FROM hookd.deliveries WHERE event_id = %s AND endpoint_id = %s",
                    (fresh[0], slow))
        assert cur.fetchall() == [("pending",)]


def test_a_fast_endpoint_held_by_another_claim_keeps_its_event_in_the_outbox(tenant, receiver, db):
    queued = subscribe(db, tenant, receiver, path="/queued")
    fine = subscribe(db, tenant, receiver, path="/fine")
    backlog = publish(db, tenant, 2)                 # queued for both endpoints
    with db.cursor() as cur:                         # only the queued endpoint's stay queued
        cur.execute("UPDATE hookd.deliveries SET state = 'delivered' WHERE endpoint_id = %s",
                    (fine,))
    fresh = publish_only(db, tenant, 1)
    rows, closing = claim_while_held(db, queued)
    assert mine(rows, tenant) == []
    assert closing["busy"] is True
    assert outbox(db, fresh) == 1, "its holder is about to take its queue; the event waits"
    assert states(db, backlog) == {"delivered": 2, "pending": 2}


def test_a_healthy_endpoint_is_claimed_ahead_up_to_three_times_its_cap(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET max_in_flight = 2 WHERE id = %s", (endpoint,))
    events = publish_only(db, tenant, 8)
    a = str(uuid.uuid4())
    rows, _ = claim(db, a, fan_out=1000, ahead=32)
    got = mine(rows, tenant)
    assert [r["event_id"] for r in got] == events[:6], "the cap, and twice as many again"
    assert {r["send_limit"] for r in got} == {2}, "no more than the cap at once"
    again, _ = claim(db, a, fan_out=1000, ahead=32)
    assert mine(again, tenant) == [], "claimed ahead counts against the room too"
    more, _ = claim(db, a, fan_out=1000, ahead=32, finished=[got[0]["delivery_id"]])
    assert [r["event_id"] for r in mine(more, tenant)] == [events[6]]
    limited, _ = claim(db, str(uuid.uuid4()), fan_out=1000, ahead=1)
    assert mine(limited, tenant) == [], "another claim: a holds the endpoint"


def test_no_claiming_ahead_while_another_claim_has_deliveries(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET max_in_flight = 3 WHERE id = %s", (endpoint,))
    events = publish_only(db, tenant, 6)
    a = str(uuid.uuid4())
    first, _ = claim(db, a, fan_out=1000, limit=1)
    assert len(mine(first, tenant)) == 1
    age_claims(db, a)
    rows, _ = claim(db, str(uuid.uuid4()), fan_out=1000, ahead=32)
    got = mine(rows, tenant)
    assert [r["event_id"] for r in got] == events[1:3], "the cap less the other claim's one"
    assert {r["send_limit"] for r in got} == {2}, "the other claim's request counts"


@pytest.mark.parametrize("setting", ["failure_streak = 1", "rate_limit = 100"])
def test_no_claiming_ahead_for_a_failing_or_rate_limited_endpoint(tenant, receiver, db, setting):
    endpoint = subscribe(db, tenant, receiver)
    with db.cursor() as cur:
        cur.execute(f"UPDATE hookd.endpoints SET max_in_flight = 2, {setting} WHERE id = %s",
                    (endpoint,))
    publish_only(db, tenant, 6)
    rows, _ = claim(db, str(uuid.uuid4()), fan_out=1000, ahead=32)
    assert len(mine(rows, tenant)) == 2


def test_an_endpoint_is_claimed_by_one_claim_while_it_keeps_claiming(tenant, receiver, db):
    endpoint = subscribe(db, tenant, receiver)
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET max_in_flight = 4 WHERE id = %s", (endpoint,))
    events = publish_only(db, tenant, 8)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    first, _ = claim(db, a, fan_out=1000, limit=2)
    assert len(mine(first, tenant)) == 2
    rows, _ = claim(db, b, fan_out=1000, ahead=32)
    assert mine(rows, tenant) == [], "a claimed it a moment ago: b gets none of its room"
    assert outbox(db, events) == 6
    more, _ = claim(db, a, fan_out=1000, ahead=32)
    assert len(mine(more, tenant)) == 6, "a may claim ahead: twice the cap in all"
    age_claims(db, a, seconds=1.5)
    rows, _ = claim(db, b, fan_out=1000, ahead=32)
    assert mine(rows, tenant) == [], "a stopped claiming, but its requests fill the cap"


# ---- the record's cost (db/functions/record_attempts.sql) -----------------------------------

def test_a_batch_of_successes_heals_an_unhealthy_endpoint_and_leaves_a_healthy_one(
        tenant, receiver, db):
    """A batch of successes skips the health statements only when no endpoint
    of the batch needs them: if it also skipped them for an endpoint with a
    failure streak, an open circuit or a first failure, the endpoint would
    stay broken after a success."""
    healthy = subscribe(db, tenant, receiver, path="/healthy")
    broken = subscribe(db, tenant, receiver, path="/broken")
    publish(db, tenant, 1)
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET failure_streak = 3, first_failure_at = now(),"
                    " circuit_open_until = now() - interval '1 s' WHERE id = %s", (broken,))
    claim_id = str(uuid.uuid4())
    rows = mine(claim(db, claim_id)[0], tenant)
    assert sorted(r["endpoint_id"] for r in rows) == sorted([healthy, broken])
    version = one(db, "SELECT xmin::text FROM hookd.endpoints WHERE id = %s", healthy)
    assert record(db, claim_id, [outcome(r) for r in rows]) == 2
    assert one(db, "SELECT failure_streak, first_failure_at, circuit_open_until"
                   " FROM hookd.endpoints WHERE id = %s", broken) == (0, None, None)
    assert one(db, "SELECT xmin::text FROM hookd.endpoints WHERE id = %s", healthy) == version
    with db.cursor() as cur:
        cur.execute("SELECT state, count(*) FROM hookd.attempts a JOIN hookd.deliveries d"
                    " ON d.tenant_id = a.tenant_id AND d.id = a.delivery_id"
                    " WHERE d.tenant_id = %s GROUP BY state", (tenant.id,))
        assert cur.fetchall() == [("delivered", 2)]


def wait_for_lock(db, pid):
    """Until backend pid waits for a lock."""
    deadline = time.monotonic() + 10
    while one(db, "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", pid) != ("Lock",):
        assert time.monotonic() < deadline, f"backend {pid} never waited for a lock"
        time.sleep(0.01)


class Blocked:
    """A statement (its result: the first column of its row) run in a
    thread on a connection of its own, in autocommit, and waited for until
    it waits for a lock that the test holds; close() after."""

    def __init__(self, db, sql, args):
        self.conn = psycopg2.connect(DATABASE_URL)
        self.conn.autocommit = True
        self.result = []
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(sql, args))
        self.thread.start()
        wait_for_lock(db, self.conn.get_backend_pid())

    def _run(self, sql, args):
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, args)
                self.result.append(cur.fetchone()[0])
        except Exception as e:  # reported by finished()
            self.error = e

    def finished(self, timeout=10):
        """Whether it ended (without an error) within timeout seconds."""
        self.thread.join(timeout)
        assert self.error is None, self.error
        return not self.thread.is_alive()

    def close(self):
        self.thread.join(30)
        self.conn.close()


def record_behind(db, claim_id, row, change):
    """Records row's success while another transaction holds the row with an
    uncommitted change (SQL with the row's id as its parameter), and commits
    that change once the record waits for it: the record then decides on the
    row's new version. Returns what the record returned."""
    other = psycopg2.connect(DATABASE_URL)
    recorder = None
    try:
        with other.cursor() as cur:
            cur.execute(change, (row["delivery_id"],))
            assert cur.rowcount == 1
        recorder = Blocked(db, "SELECT hookd.record_attempts(%s::json, %s, 5, 3600)",
                           (json.dumps([outcome(row)]), claim_id))
        other.commit()
        assert recorder.finished(30)
        return recorder.result[0]
    finally:
        other.close()
        if recorder is not None:
            recorder.close()


def test_a_record_follows_its_row_to_the_version_written_while_it_waited(tenant, receiver, db):
    """The record finds a row by key and updates it by its ctid: when the
    row changes meanwhile, it must follow it to its new version (and recheck
    the claim there) rather than lose the attempt."""
    subscribe(db, tenant, receiver)
    publish(db, tenant, 1)
    claim_id = str(uuid.uuid4())
    row = mine(claim(db, claim_id)[0], tenant)[0]
    renew = ("UPDATE hookd.deliveries SET lease_until = now() + interval '1 minute'"
             " WHERE id = %s")
    assert record_behind(db, claim_id, row, renew) == 1
    assert one(db, "SELECT state, claim_id FROM hookd.deliveries WHERE id = %s",
               row["delivery_id"]) == ("delivered", None)
    assert one(db, "SELECT count(*) FROM hookd.attempts WHERE delivery_id = %s",
               row["delivery_id"]) == (1,)


def test_a_record_leaves_a_row_claimed_again_while_it_waited(tenant, receiver, db):
    """A lease lost while the record waited for the row: the new claim keeps
    the row, and the old claim's attempt is not written."""
    subscribe(db, tenant, receiver)
    publish(db, tenant, 1)
    claim_id = str(uuid.uuid4())
    row = mine(claim(db, claim_id)[0], tenant)[0]
    other_claim = str(uuid.uuid4())
    reclaim = "UPDATE hookd.deliveries SET claim_id = '%s' WHERE id = %%s" % other_claim
    assert record_behind(db, claim_id, row, reclaim) == 0
    assert one(db, "SELECT state, claim_id::text FROM hookd.deliveries WHERE id = %s",
               row["delivery_id"]) == ("delivering", other_claim)
    assert one(db, "SELECT count(*) FROM hookd.attempts WHERE delivery_id = %s",
               row["delivery_id"]) == (0,)


def test_the_record_reaches_deliveries_only_by_key(tenant, receiver, db):
    """Every statement of a record (a success, a failure that opens the
    circuit, a 410 that disables an endpoint and parks its queue) reads
    hookd.deliveries only through a key: by primary key, by ctid, or by
    endpoint in the queue's index. A plan that walks an index without such a
    condition costs time in proportion to the table or the queue (the health
    statements once walked the whole queue for every batch)."""
    ok = subscribe(db, tenant, receiver, path="/ok")
    failing = subscribe(db, tenant, receiver, path="/failing")
    gone = subscribe(db, tenant, receiver, path="/gone")
    publish(db, tenant, 2)
    claim_id = str(uuid.uuid4())
    rows = mine(claim(db, claim_id, cap=1)[0], tenant)
    by_endpoint = {r["endpoint_id"]: r for r in rows}
    assert sorted(by_endpoint) == sorted([ok, failing, gone])
    outcomes = [outcome(by_endpoint[ok]), outcome(by_endpoint[failing], "pending", 500, 60000),
                outcome(by_endpoint[gone], "disabled", 410)]

    conn = psycopg2.connect(DATABASE_URL)
    conn.autocommit = True
    try:
        recorded = []
        nodes = explained(conn, lambda cur: recorded.append(record(conn, claim_id, outcomes,
                                                                   breaker=1)))
        assert recorded == [3]
    finally:
        conn.close()

    assert one(db, "SELECT state FROM hookd.deliveries WHERE endpoint_id = %s AND state = 'disabled'"
                   " LIMIT 1", gone) == ("disabled",), "the gone endpoint's queue was parked"
    reads = [(q, n) for q, n in nodes if n.get("Relation Name") == "deliveries"
             and n["Node Type"] != "ModifyTable"]
    assert any("INSERT INTO hookd.attempts" in q for q, _ in reads), "the plans were seen"
    assert any("state = 'disabled'" in q for q, _ in reads), "the parking's plan was seen"
    for query, node in reads:
        cond = node.get("Index Cond", "") + node.get("TID Cond", "") + node.get("Recheck Cond", "")
        assert re.search(r"\b(id|endpoint_id|ctid) = ", cond), (node, query)


def test_a_claim_leaves_the_deliveries_it_cannot_claim_to_queue_rest(tenant, receiver, db):
    """Broken if a claim still inserts the deliveries it cannot claim, lists
    them wrongly, or if queue_rest misses them or queues one twice. In one
    transaction that is rolled back, so no worker sees any of it."""
    fine = subscribe(db, tenant, receiver, path="/fine")
    gone = subscribe(db, tenant, receiver, path="/gone")
    held = subscribe(db, tenant, receiver, path="/held")
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET state = 'disabled' WHERE id = %s", (gone,))
        cur.execute("UPDATE hookd.endpoints SET circuit_open_until = now() + interval '1 hour'"
                    " WHERE id = %s", (held,))
    events = publish_only(db, tenant, 2)
    conn = psycopg2.connect(DATABASE_URL)
    try:
        with conn.cursor() as cur:
            def deliveries():
                cur.execute("SELECT event_id, endpoint_id, state FROM hookd.deliveries"
                            " WHERE event_id = ANY (%s) ORDER BY 1, 2", (events,))
                return cur.fetchall()

            def rest():
                cur.execute("SELECT r.tenant_id, t.event_id, r.endpoint_id FROM hookd.pending_rest r,"
                            " unnest(r.event_ids) AS t(event_id)"
                            " WHERE r.event_ids && %s::text[] ORDER BY 2, 3", (events,))
                return cur.fetchall()

            rows, closing = claim(conn, str(uuid.uuid4()), fan_out=1000)
            assert sorted((r["event_id"], r["endpoint_id"]) for r in mine(rows, tenant)) == \
                sorted((e, fine) for e in events)
            assert closing["rest_waiting"] is True
            assert deliveries() == sorted((e, fine, "delivering") for e in events), \
                "the others are left for queue_rest"
            assert rest() == sorted((tenant.id, e, p) for e in events for p in (gone, held))
            cur.execute("SELECT endpoint_id, event_ids FROM hookd.pending_rest"
                        " WHERE event_ids && %s::text[] ORDER BY endpoint_id", (events,))
            assert cur.fetchall() == [(gone, events), (held, events)], \
                "one row per endpoint, its events in the outbox's order"
            cur.execute("SELECT bool_and(r.first_occurred = o.first AND r.last_occurred = o.last)"
                        "  FROM hookd.pending_rest r,"
                        "       (SELECT min(occurred) AS first, max(occurred) AS last"
                        "          FROM hookd.events WHERE id = ANY (%s)) o"
                        " WHERE r.event_ids && %s::text[]", (events, events))
            assert cur.fetchone()[0] is True, "each row carries its events' range of occurrence"
            assert outbox(conn, events) == 0
            rows, closing = claim(conn, str(uuid.uuid4()), fan_out=1000)
            assert mine(rows, tenant) == []
            assert len(rest()) == 4, "nothing listed twice"
            cur.execute("SELECT hookd.queue_rest(1000)")
            assert cur.fetchone()[0] >= 1
            assert deliveries() == sorted([(e, fine, "delivering") for e in events] +
                                          [(e, gone, "disabled") for e in events] +
                                          [(e, held, "pending") for e in events])
            assert rest() == []
            cur.execute("SELECT hookd.queue_rest(1000)")
            assert len(deliveries()) == 6
    finally:
        conn.rollback()
        conn.close()


def test_queue_rest_skips_what_exists_or_was_deleted(tenant, receiver, db):
    """Broken if a leftover whose delivery exists already is queued twice or
    fails the batch, or if one whose event is gone makes queue_rest fail
    (and with it every record of the worker that runs it) instead of being
    dropped, or if the row of an endpoint that is gone stays forever."""
    endpoint = subscribe(db, tenant, receiver)
    [event] = publish(db, tenant, 1)   # fanned out: its delivery exists
    conn = psycopg2.connect(DATABASE_URL)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO hookd.pending_rest (tenant_id, endpoint_id, event_ids)"
                        " VALUES (%s, %s, %s), (%s, -1, %s) RETURNING id",
                        (tenant.id, endpoint, [event, "EVnosuchevent"], tenant.id, [event]))
            rows = [row[0] for row in cur.fetchall()]
            cur.execute("SELECT hookd.queue_rest(1000)")
            assert cur.fetchone()[0] >= 2
            cur.execute("SELECT count(*) FROM hookd.pending_rest WHERE id = ANY (%s)", (rows,))
            assert cur.fetchone()[0] == 0, "the row of an endpoint that is gone was dropped"
            cur.execute("SELECT count(*) FROM hookd.deliveries WHERE endpoint_id = %s", (endpoint,))
            assert cur.fetchone()[0] == 1
            cur.execute("SELECT count(*) FROM hookd.pending_rest WHERE %s = ANY (event_ids)",
                        (event,))
            assert cur.fetchone()[0] == 0
    finally:
        conn.rollback()
        conn.close()


def test_queue_rest_queues_an_endpoints_leftovers_only_while_its_queue_is_short(
        tenant, receiver, db):
    """Broken if queue_rest queues the leftovers of an endpoint whose queue
    holds its depth already (they stay compact until it runs short), never
    queues them once it is short, holds back a disabled endpoint's (parked
    at once, as its queue was), or ignores an endpoint's own cap (depth: at
    least four caps). In one transaction that is rolled back."""
    events = publish(db, tenant, 6)   # before any endpoint: no deliveries
    short = subscribe(db, tenant, receiver, path="/short")
    parked = subscribe(db, tenant, receiver, path="/parked")
    wide = subscribe(db, tenant, receiver, path="/wide")
    conn = psycopg2.connect(DATABASE_URL)
    try:
        with conn.cursor() as cur:
            def leave(endpoint, ids):
                cur.execute("INSERT INTO hookd.pending_rest (tenant_id, endpoint_id, event_ids)"
                            " VALUES (%s, %s, %s)", (tenant.id, endpoint, ids))

            def queue_rest_depth_2():
                cur.execute("SELECT hookd.queue_rest(1000, 2)")
                return cur.fetchone()[0]

            def queued(endpoint):
                cur.execute("SELECT event_id, state FROM hookd.deliveries WHERE endpoint_id = %s"
                            " ORDER BY event_id", (endpoint,))
                return cur.fetchall()

            def compact(endpoint):
                cur.execute("SELECT event_ids FROM hookd.pending_rest WHERE endpoint_id = %s"
                            " ORDER BY id", (endpoint,))
                return [row[0] for row in cur.fetchall()]

            leave(short, events[:2])
            leave(parked, events[:2])
            assert queue_rest_depth_2() == 2
            assert queued(short) == sorted((e, "pending") for e in events[:2])
            leave(short, events[2:4])
            leave(parked, events[2:4])
            cur.execute("UPDATE hookd.endpoints SET state = 'disabled' WHERE id = %s", (parked,))
            cur.execute("UPDATE hookd.endpoints SET max_in_flight = 2 WHERE id = %s", (wide,))
            leave(wide, events)
            assert queue_rest_depth_2() == 2, "parked's and wide's rows, not short's"
            assert compact(short) == [events[2:4]]
            assert queued(short) == sorted((e, "pending") for e in events[:2])
            assert queued(parked) == sorted([(e, "pending") for e in events[:2]] +
                                            [(e, "disabled") for e in events[2:4]])
            assert queued(wide) == sorted((e, "pending") for e in events), "8 > 6 queued"
            assert queue_rest_depth_2() == 0
            cur.execute("UPDATE hookd.deliveries SET state = 'delivered' WHERE endpoint_id = %s"
                        " AND event_id = %s", (short, events[0]))
            assert queue_rest_depth_2() == 1, "short's queue is short again"
            assert compact(short) == []
            assert queued(short) == sorted([(events[0], "delivered"), (events[1], "pending")] +
                                           [(e, "pending") for e in events[2:4]])
    finally:
        conn.rollback()
        conn.close()


def test_queue_rest_wakes_the_workers_when_it_queues(tenant, receiver, db):
    """Broken if the deliveries queue_rest queues wait for a worker's poll
    interval (a second) instead of waking the workers as new events do
    (NOTIFY hookd_pending on commit): a drain once crawled at 1,024/s."""
    events = publish(db, tenant, 1)   # before any endpoint: no deliveries
    endpoint = subscribe(db, tenant, receiver)
    listener = psycopg2.connect(DATABASE_URL)
    listener.autocommit = True
    conn = psycopg2.connect(DATABASE_URL)
    try:
        with listener.cursor() as cur:
            cur.execute("LISTEN hookd_pending")
        with conn.cursor() as cur:
            cur.execute("INSERT INTO hookd.pending_rest (tenant_id, endpoint_id, event_ids)"
                        " VALUES (%s, %s, %s)", (tenant.id, endpoint, events))
            cur.execute("SELECT hookd.queue_rest(1000)")
            assert cur.fetchone()[0] >= 1
        conn.commit()
        deadline = time.monotonic() + 5
        while not listener.notifies and time.monotonic() < deadline:
            listener.poll()
            time.sleep(0.02)
        assert [n.channel for n in listener.notifies][:1] == ["hookd_pending"]
        assert states(db, events) == {"pending": 1}
    finally:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM hookd.deliveries WHERE event_id = ANY (%s)", (events,))
        conn.commit()
        conn.close()
        listener.close()


def test_the_claim_returns_the_signing_key_only_where_v1a_is_signed(tenant, receiver, db):
    """v1a is signed where the endpoint says so (sign_v1a), else as the
    worker's default says (p_sign_v1a); a worker older than the setting
    (nine arguments) gets the key as before, except where the endpoint
    said false."""
    ids = {name: subscribe(db, tenant, receiver, "order.updated", "/" + name)
           for name in ("default", "on", "off")}
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET sign_v1a = (CASE id WHEN %s THEN true"
                    " WHEN %s THEN false END) WHERE tenant_id = %s",
                    (ids["on"], ids["off"], tenant.id))
    publish(db, tenant, 1)
    signed = {}
    for sign_v1a in (False, True, None):
        claim_id = str(uuid.uuid4())
        rows = mine(claim(db, claim_id, sign_v1a=sign_v1a)[0], tenant)
        assert len(rows) == 3
        signed[sign_v1a] = {name for name, id_ in ids.items()
                            for r in rows if r["endpoint_id"] == id_ and r["signing_key_hex"]}
        assert record(db, claim_id, [outcome(r, "pending", 500) for r in rows]) == 3
    assert signed == {False: {"on"}, True: {"default", "on"}, None: {"default", "on"}}


# ---- the outbox carries each event's type and time (0023_lighter_delivery_writes.sql) ---------

def test_every_publish_path_writes_the_events_type_and_time_into_its_outbox_row(tenant, db):
    """The claim takes an event's type and occurred from its outbox row, so
    every writer of the outbox must put them there: the API's batches
    (keyless, and keyed through hookd.publish_batch) and the SQL functions
    (hookd.publish, hookd.publish_batch with and without keys)."""
    ids = []
    r = tenant.post_json("/events", {"type": "order.updated", "data": {"n": 1}})
    assert r.status == 201, r
    ids.append(r.json()["data"]["id"])
    r = tenant.post_json("/events", {"type": "product.created", "data": {"n": 2}},
                         {"Idempotency-Key": "outbox-" + str(uuid.uuid4())})
    assert r.status == 201, r
    ids.append(r.json()["data"]["id"])
    with db.cursor() as cur:
        cur.execute("SELECT (hookd.publish(%s, 'order.updated', '{\"n\":3}')).event_id", (tenant.id,))
        ids.append(cur.fetchone()[0])
        cur.execute("SELECT event_body::json->>'id' FROM hookd.publish_batch(%s::bigint[], %s::text[], %s::text[],"
                    " %s::text[], %s::text[], %s::text[]) ORDER BY ord",
                    ([tenant.id] * 2, ["order.updated", "product.created"], ['{"n":4}', '{"n":5}'],
                     [None, None], [None, "outbox-" + str(uuid.uuid4())], [None, None]))
        ids.extend(row[0] for row in cur.fetchall())
        cur.execute("SELECT e.id, o.type = e.type AND o.occurred = e.occurred"
                    "  FROM hookd.events e LEFT JOIN hookd.pending_events o"
                    "    ON o.tenant_id = e.tenant_id AND o.event_id = e.id"
                    " WHERE e.tenant_id = %s AND e.id = ANY (%s)", (tenant.id, ids))
        got = dict(cur.fetchall())
    assert len(ids) == 5 and got == {i: True for i in ids}, got


def event_lookups(nodes):
    """The executions of step 1's lookup of events (auto_explain with
    log_analyze): the loops of its scans of hookd.events."""
    return sum(n.get("Actual Loops", 0) for q, n in nodes
               if "WITH ev AS MATERIALIZED" in q and n.get("Relation Name") == "events")


def test_an_outbox_row_without_the_events_type_is_claimed_by_its_event(tenant, receiver, db):
    """An outbox row written by a hookd older than 0023 has no type or
    occurred: its event is looked up, and its deliveries are born claimed or
    left to queue_rest with the event's own time, as a row that carries them.
    A row that carries them is not looked up at all. In one transaction that
    is rolled back, so no worker sees any of it."""
    fine = subscribe(db, tenant, receiver, path="/fine")
    gone = subscribe(db, tenant, receiver, path="/gone")
    with db.cursor() as cur:
        cur.execute("UPDATE hookd.endpoints SET state = 'disabled' WHERE id = %s", (gone,))
    events = publish_only(db, tenant, 3)
    conn = psycopg2.connect(DATABASE_URL)
    try:
        with conn.cursor() as cur:
            cur.execute("UPDATE hookd.pending_events SET type = NULL, occurred = NULL"
                        " WHERE event_id = ANY (%s)", (events[1:],))
            lookups = []

            def claim_all(cur):
                cur.execute("SET auto_explain.log_analyze = on")
                rows, closing = claim(conn, str(uuid.uuid4()), fan_out=1000)
                lookups.append(rows)

            nodes = explained(conn, claim_all)
            rows = lookups[0]
            assert sorted((r["event_id"], r["endpoint_id"]) for r in mine(rows, tenant)) == \
                sorted((e, fine) for e in events)
            assert event_lookups(nodes) == 2, "only the two rows without a type are looked up"
            cur.execute("SELECT r.first_occurred, r.last_occurred, o.first, o.last"
                        "  FROM hookd.pending_rest r,"
                        "       (SELECT min(occurred) AS first, max(occurred) AS last"
                        "          FROM hookd.events WHERE id = ANY (%s)) o"
                        " WHERE r.endpoint_id = %s AND r.event_ids = %s::text[]", (events, gone, events))
            first, last, want_first, want_last = cur.fetchone()
            assert (first, last) == (want_first, want_last), "the leftovers carry the events' times"
            assert outbox(conn, events) == 0
    finally:
        conn.rollback()
        conn.close()


@pytest.mark.parametrize("outcome_", ["committed", "rolled back"])
def test_an_unsent_events_delete_waits_for_a_redelivery_that_holds_it(tenant, receiver, db,
                                                                      outcome_):
    """hookd.event_delete_unsent (a subscribe whose test POST failed) deletes
    the test event only while nothing refers to it. No foreign key keeps a
    delivery's event since 0023: a redelivery holds the event's key-share
    lock from before its insert to its commit, and the delete waits for it,
    then looks afresh. Broken if the delete looks before it has the lock: it
    deletes the event of the delivery just committed."""
    endpoint = subscribe(db, tenant, receiver)
    event_id = "EVunsent" + uuid.uuid4().hex[:12]
    assert one(db, "SELECT hookd.event_delete_unsent(%s, %s)", tenant.id, event_id) == (False,), \
        "no such event: nothing deleted"
    with db.cursor() as cur:
        cur.execute("INSERT INTO hookd.events (tenant_id, id, type, version, occurred, body)"
                    " VALUES (%s, %s, 'webhook.test', '1.0.0', now(), '{}')", (tenant.id, event_id))
    redelivery = psycopg2.connect(DATABASE_URL)
    deleter = None
    try:
        with redelivery.cursor() as cur:
            cur.execute("SELECT 1 FROM hookd.events WHERE tenant_id = %s AND id = %s FOR KEY SHARE",
                        (tenant.id, event_id))
            cur.execute("INSERT INTO hookd.deliveries (tenant_id, event_id, endpoint_id, state)"
                        " VALUES (%s, %s, %s, 'pending')", (tenant.id, event_id, endpoint))
        deleter = Blocked(db, "SELECT hookd.event_delete_unsent(%s, %s)", (tenant.id, event_id))
        redelivery.commit() if outcome_ == "committed" else redelivery.rollback()
        assert deleter.finished()
        result = deleter.result
    finally:
        redelivery.close()
        if deleter is not None:
            deleter.close()
    kept = one(db, "SELECT count(*) FROM hookd.events WHERE tenant_id = %s AND id = %s",
               tenant.id, event_id)[0]
    delivered = one(db, "SELECT count(*) FROM hookd.deliveries WHERE tenant_id = %s"
                    " AND event_id = %s", tenant.id, event_id)[0]
    if outcome_ == "committed":
        assert (result, kept, delivered) == ([False], 1, 1), "the delivery keeps its event"
    else:
        assert (result, kept, delivered) == ([True], 0, 0), "with nothing left, it is deleted"


def test_a_record_updates_only_the_endpoints_it_locked_first(tenant, receiver, db):
    """A record locks the endpoints whose health it changes (or whose slow
    mark it ends) in key order, then updates them in a later statement.
    Broken if that update takes in an endpoint that a claim marked slow in
    between: locked outside key order, two records could deadlock (one
    holding it and waiting for an endpoint the other holds). Here the
    record would wait for the transaction that holds the marked endpoint;
    the mark is left to run out."""
    first = subscribe(db, tenant, receiver, path="/first")
    second = subscribe(db, tenant, receiver, path="/second")
    assert first < second
    publish_only(db, tenant, 1)
    claim_id = str(uuid.uuid4())
    rows, _ = claim(db, claim_id, fan_out=1000)
    at = {r["endpoint_id"]: r for r in mine(rows, tenant)}
    assert sorted(at) == [first, second]
    records = [outcome(at[first]), outcome(at[second], "pending", 500, 1000)]
    holds_second = psycopg2.connect(DATABASE_URL)
    holds_first = psycopg2.connect(DATABASE_URL)
    recorder = None
    try:
        with holds_second.cursor() as cur:
            cur.execute("SELECT 1 FROM hookd.endpoints WHERE id = %s FOR NO KEY UPDATE", (second,))
        # Past the first endpoint (healthy, not marked: not locked), the
        # record waits for the second (a failure). Meanwhile a claim marks
        # the first, and another transaction holds it.
        recorder = Blocked(db, "SELECT hookd.record_attempts(%s::json, %s, 5, 3600)",
                           (json.dumps(records), claim_id))
        with db.cursor() as cur:
            cur.execute("UPDATE hookd.endpoints SET slow_until = now() + interval '1 hour'"
                        " WHERE id = %s", (first,))
        with holds_first.cursor() as cur:
            cur.execute("SELECT 1 FROM hookd.endpoints WHERE id = %s FOR NO KEY UPDATE", (first,))
        holds_second.commit()
        finished_alone = recorder.finished()
        holds_first.commit()
        assert recorder.finished()
        assert finished_alone, "the record waited for an endpoint it had not locked first"
    finally:
        holds_second.close()
        holds_first.close()
        if recorder is not None:
            recorder.close()
    assert recorder.result == [2]
    assert one(db, "SELECT slow_until > now(), failure_streak FROM hookd.endpoints WHERE id = %s",
               first) == (True, 0)
    assert one(db, "SELECT failure_streak FROM hookd.endpoints WHERE id = %s", second) == (1,)
