/* claim_size.h - how many outbox events a worker's next claim asks for.
 * Pure.
 *
 * A claim looks up every outbox event it asks for (the event, its
 * subscriptions, their endpoints) and locks its outbox row, but takes only
 * those whose endpoints have room; the rest stay for the next claim. When
 * one endpoint with a cap of 32 gets everything, a claim of 64 events takes
 * about 17, and the lookups of the other 47 are wasted: they were a third of
 * the claim's time (make bench, deliver scenario). So the next claim asks
 * for half again what the last one took, or twice as many as it asked for
 * when it took them all, between CLAIM_FAN_OUT_MIN and the configured
 * batch. */
#ifndef HOOKD_CLAIM_SIZE_H
#define HOOKD_CLAIM_SIZE_H

/* The fewest outbox events a claim asks for (unless the batch is smaller). */
#define CLAIM_FAN_OUT_MIN 8

/* The outbox events to ask for after a claim that asked for `asked` and
 * took `taken`, with at most `batch` (HOOKD_CLAIM_BATCH) at a time. */
long claim_fan_out_next(long asked, long taken, long batch);

#endif
