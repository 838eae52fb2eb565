/* test_send_queue.c - protects send_queue.c, what a worker has claimed and
 * may send: deliveries go out oldest first while their endpoint runs fewer
 * requests than its latest send limit, an ended request frees its slot for
 * the next one, a failure gives the endpoint's waiting deliveries back (and
 * those of the claim already on its way), waiting leases are renewed, and
 * everything waiting is given back when the worker stops. */
#include "rows.h"

#include <stdlib.h>
#include <string.h>

#include "send_queue.h"
#include "xmalloc.h"

/* A claimed delivery of endpoint (tenant 1) with the given send limit. */
static struct claimed_delivery delivery(int64_t id, int64_t endpoint, int send_limit)
{
    struct claimed_delivery d = { .tenant_id = 1, .delivery_id = id, .endpoint_id = endpoint,
                                  .attempt = 1, .send_limit = send_limit };
    d.url = xstrdup("http://127.0.0.1:9/hook");
    d.body = xstrdup("{}");
    d.body_len = 2;
    return d;
}

static void add(struct send_queue *q, uint64_t seq, const struct claimed_delivery *list,
                size_t n)
{
    struct claimed_delivery *copy = xcalloc(n, sizeof(*copy));
    memcpy(copy, list, n * sizeof(*copy));
    send_queue_add(q, copy, n, seq, 0);
    free(copy);
}

/* The next delivery's id, or 0 when none may be sent. */
static int64_t next_id(struct send_queue *q)
{
    struct claimed_delivery d;
    int64_t renewed = -1;
    if (!send_queue_next(q, &d, &renewed))
        return 0;
    int64_t id = d.delivery_id;
    claimed_delivery_free(&d);
    return id;
}

static size_t given_back(struct send_queue *q, int64_t *ids, size_t max)
{
    struct delivery_keys keys;
    send_queue_take_given_back(q, &keys);
    size_t n = keys.count;
    for (size_t i = 0; i < n && i < max; i++)
        ids[i] = keys.delivery_ids[i];
    delivery_keys_free(&keys);
    return n;
}

static void test_send_limit_and_ended_requests(void **state)
{
    (void)state;
    struct send_queue *q = send_queue_new();
    struct claimed_delivery list[] = { delivery(1, 7, 2), delivery(2, 7, 2), delivery(3, 7, 2),
                                       delivery(4, 7, 2) };
    add(q, 1, list, 4);
    assert_int_equal(send_queue_waiting(q), 4);
    assert_int_equal(next_id(q), 1);
    assert_int_equal(next_id(q), 2);
    assert_int_equal(next_id(q), 0);           /* two running: the limit */
    send_queue_ended(q, 1, 7, false, 0);
    assert_int_equal(next_id(q), 3);           /* the slot is refilled at once */
    assert_int_equal(next_id(q), 0);
    assert_int_equal(send_queue_waiting(q), 1);
    send_queue_free(q);                         /* frees the one still waiting */
}

static void test_oldest_first_past_a_full_endpoint(void **state)
{
    (void)state;
    struct send_queue *q = send_queue_new();
    struct claimed_delivery list[] = { delivery(1, 7, 1), delivery(2, 7, 1), delivery(3, 8, 1) };
    add(q, 1, list, 3);
    assert_int_equal(next_id(q), 1);
    assert_int_equal(next_id(q), 3);           /* endpoint 7 is full; 8 is not held back */
    assert_int_equal(next_id(q), 0);
    send_queue_ended(q, 1, 7, false, 0);
    assert_int_equal(next_id(q), 2);
    send_queue_free(q);
}

static void test_a_later_claim_sets_the_limit(void **state)
{
    (void)state;
    struct send_queue *q = send_queue_new();
    struct claimed_delivery first[] = { delivery(1, 7, 1), delivery(2, 7, 1) };
    add(q, 1, first, 2);
    assert_int_equal(next_id(q), 1);
    assert_int_equal(next_id(q), 0);
    struct claimed_delivery second[] = { delivery(3, 7, 3) };  /* the other claims' requests ended */
    add(q, 2, second, 1);
    assert_int_equal(next_id(q), 2);
    assert_int_equal(next_id(q), 3);
    assert_int_equal(next_id(q), 0);
    struct claimed_delivery third[] = { delivery(4, 7, 0) };   /* another claim took the room */
    add(q, 3, third, 1);
    send_queue_ended(q, 1, 7, false, 0);
    assert_int_equal(next_id(q), 0);
    send_queue_free(q);
}

static void test_a_failure_gives_the_endpoints_waiting_deliveries_back(void **state)
{
    (void)state;
    struct send_queue *q = send_queue_new();
    struct claimed_delivery list[] = { delivery(1, 7, 1), delivery(2, 7, 1), delivery(3, 8, 1),
                                       delivery(4, 7, 1), delivery(5, 8, 1) };
    add(q, 1, list, 5);
    assert_int_equal(next_id(q), 1);
    assert_int_equal(next_id(q), 3);
    int64_t ids[8];
    assert_int_equal(given_back(q, ids, 8), 0);
    send_queue_ended(q, 1, 7, true, 3);        /* claim 2 is on its way; 3 will know */
    assert_int_equal(given_back(q, ids, 8), 2);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 4);
    assert_int_equal(send_queue_waiting(q), 1); /* endpoint 8's */
    struct claimed_delivery stale[] = { delivery(6, 7, 1), delivery(7, 8, 1) };
    add(q, 2, stale, 2);                        /* sent before the failure was on record */
    assert_int_equal(given_back(q, ids, 8), 1);
    assert_int_equal(ids[0], 6);
    struct claimed_delivery fresh[] = { delivery(8, 7, 1) };
    add(q, 3, fresh, 1);                        /* sent after it: the breaker let it through */
    assert_int_equal(given_back(q, ids, 8), 0);
    assert_int_equal(next_id(q), 8);
    send_queue_free(q);
}

static void test_waiting_leases_are_renewed(void **state)
{
    (void)state;
    struct send_queue *q = send_queue_new();
    struct claimed_delivery a[] = { delivery(1, 7, 0), delivery(2, 7, 0) };
    struct claimed_delivery *copy = xcalloc(2, sizeof(*copy));
    memcpy(copy, a, sizeof(a));
    send_queue_add(q, copy, 2, 1, 1000);
    free(copy);
    struct delivery_keys keys = { 0 };
    send_queue_due_for_renewal(q, 20000, 20000, &keys);
    assert_int_equal(keys.count, 0);             /* 19 s old, renewed every 20 s */
    delivery_keys_free(&keys);
    delivery_keys_push(&keys, 1, 99);            /* a running one's, already listed */
    send_queue_due_for_renewal(q, 21000, 20000, &keys);
    assert_int_equal(keys.count, 3);             /* appended after it */
    assert_int_equal(keys.delivery_ids[0], 99);
    assert_int_equal(keys.delivery_ids[2], 2);
    delivery_keys_free(&keys);
    send_queue_due_for_renewal(q, 21001, 20000, &keys);
    assert_int_equal(keys.count, 0);             /* marked renewed */
    delivery_keys_free(&keys);
    send_queue_free(q);
}

static void test_stopping_gives_everything_back(void **state)
{
    (void)state;
    struct send_queue *q = send_queue_new();
    struct claimed_delivery list[] = { delivery(1, 7, 1), delivery(2, 7, 1), delivery(3, 8, 1) };
    add(q, 1, list, 3);
    assert_int_equal(next_id(q), 1);
    send_queue_give_back_all(q);
    int64_t ids[8];
    assert_int_equal(given_back(q, ids, 8), 2);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 3);
    assert_int_equal(send_queue_waiting(q), 0);
    assert_int_equal(next_id(q), 0);
    send_queue_free(q);
}

static void test_many_endpoints_and_deliveries(void **state)
{
    (void)state;
    /* 2,000 deliveries over 50 endpoints of limit 2, sent and ended in
     * waves: every one goes out exactly once (the queue grows and compacts). */
    struct send_queue *q = send_queue_new();
    char *seen = xcalloc(2001, 1);
    int64_t next = 1;
    size_t sent = 0;
    while (sent < 2000) {
        for (int i = 0; i < 100 && next <= 2000; i++, next++) {
            struct claimed_delivery d = delivery(next, next % 50, 2);
            add(q, (uint64_t)next, &d, 1);
        }
        struct claimed_delivery d;
        int64_t renewed;
        int64_t running[200];
        size_t n = 0;
        while (n < 200 && send_queue_next(q, &d, &renewed)) {
            assert_int_equal(seen[d.delivery_id], 0);
            seen[d.delivery_id] = 1;
            running[n++] = d.endpoint_id;
            claimed_delivery_free(&d);
        }
        assert_true(n <= 100);                   /* 50 endpoints x 2 */
        for (size_t i = 0; i < n; i++)
            send_queue_ended(q, 1, running[i], false, 0);
        sent += n;
    }
    assert_int_equal(send_queue_waiting(q), 0);
    free(seen);
    send_queue_free(q);
}

int main(void)
{
    rows_add(test_send_limit_and_ended_requests, NULL,
             "no more than the send limit at once; an ended request's slot is refilled");
    rows_add(test_oldest_first_past_a_full_endpoint, NULL,
             "oldest first, but a full endpoint does not hold back another");
    rows_add(test_a_later_claim_sets_the_limit, NULL, "the latest claim's send limit counts");
    rows_add(test_a_failure_gives_the_endpoints_waiting_deliveries_back, NULL,
             "a failure gives back what waits for its endpoint, and the stale claim's");
    rows_add(test_waiting_leases_are_renewed, NULL, "waiting deliveries' leases are renewed");
    rows_add(test_stopping_gives_everything_back, NULL, "stopping gives back all that waits");
    rows_add(test_many_endpoints_and_deliveries, NULL, "2,000 deliveries, each sent once");
    return rows_run("send_queue", NULL, NULL);
}
