/* claim_size.c - how many outbox events a worker's next claim asks for
 * (see claim_size.h). */
#include "claim_size.h"

long claim_fan_out_next(long asked, long taken, long batch)
{
    long next = taken >= asked ? 2 * asked : taken + taken / 2 + CLAIM_FAN_OUT_MIN;
    if (next < CLAIM_FAN_OUT_MIN)
        next = CLAIM_FAN_OUT_MIN;
    return next < batch ? next : batch;
}
