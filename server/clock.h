/* clock.h - milliseconds from the monotonic and the wall clocks. */
#ifndef HOOKD_CLOCK_H
#define HOOKD_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ms: for durations, deadlines and rate limits. */
int64_t clock_mono_ms(void);
/* CLOCK_MONOTONIC in microseconds: for durations that metrics record. */
int64_t clock_mono_us(void);
/* Unix time in ms: for records. */
int64_t clock_wall_ms(void);

#endif
