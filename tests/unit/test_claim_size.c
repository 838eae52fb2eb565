/* test_claim_size.c - protects claim_size.c, how many outbox events the
 * next claim asks for: half again what the last one took (plus a few),
 * twice as many when it took all it asked for, never fewer than the
 * minimum nor more than the batch. */
#include "rows.h"

#include "claim_size.h"

struct next_case {
    const char *what;
    long asked, taken, batch;
    long next;
};

static const struct next_case cases[] = {
    { "took all: twice as many", 8, 8, 64, 16 },
    { "took all again", 16, 16, 64, 32 },
    { "took all, capped at the batch", 64, 64, 64, 64 },
    { "took some: half again plus the minimum", 64, 17, 64, 33 },
    { "took some of few", 33, 16, 64, 32 },
    { "took none: the minimum", 64, 0, 64, 8 },
    { "a batch below the minimum wins", 4, 0, 4, 4 },
    { "a batch of one", 1, 1, 1, 1 },
    { "a first claim of the whole batch, all taken", 64, 64, 10000, 128 },
};

static void test_next(void **state)
{
    (void)state;
    for (size_t i = 0; i < ROWS_COUNT(cases); i++) {
        const struct next_case *c = &cases[i];
        long next = claim_fan_out_next(c->asked, c->taken, c->batch);
        if (next != c->next)
            fail_msg("%s: asked %ld, took %ld, batch %ld: got %ld, want %ld", c->what, c->asked,
                     c->taken, c->batch, next, c->next);
    }
}

static void test_steady_state_follows_the_room(void **state)
{
    (void)state;
    /* An endpoint with room for 17 per claim: the asks settle near 1.5 x 17
     * + 8 instead of the whole batch. */
    long asked = 64;
    for (int i = 0; i < 10; i++)
        asked = claim_fan_out_next(asked, asked < 17 ? asked : 17, 64);
    assert_int_equal(asked, 33);
}

int main(void)
{
    rows_add(test_next, NULL, "the next ask after each kind of claim");
    rows_add(test_steady_state_follows_the_room, NULL, "asks settle near what the room takes");
    return rows_run("claim_size", NULL, NULL);
}
