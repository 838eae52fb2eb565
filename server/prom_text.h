/* prom_text.h - writing the Prometheus text exposition format (0.0.4):
 * HELP and TYPE lines, samples, label sets and histograms. Pure: unit tests
 * check its output byte for byte, and promtool checks hookd's.
 *
 * Every writer appends to a capped buf and returns 0, or -1 when the cap
 * was reached (the exposition is then incomplete and must not be served). */
#ifndef HOOKD_PROM_TEXT_H
#define HOOKD_PROM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* "# HELP name help\n# TYPE name type\n"; help must not hold a newline. */
int prom_header(struct buf *b, const char *name, const char *type, const char *help)
    __attribute__((warn_unused_result));

/* One label set: {k1="v1",k2="v2"} from n name/value pairs (names[i],
 * values[i]), with \, " and newlines in values escaped; "" when n is 0.
 * Returns 0, or -1 when it does not fit in out[0..cap). */
int prom_labels(char *out, size_t cap, const char *const *names, const char *const *values,
                size_t n) __attribute__((warn_unused_result));

/* "name{labels} value\n"; labels as made by prom_labels (or ""). */
int prom_sample_u64(struct buf *b, const char *name, const char *labels, uint64_t value)
    __attribute__((warn_unused_result));
int prom_sample_i64(struct buf *b, const char *name, const char *labels, int64_t value)
    __attribute__((warn_unused_result));

/* A histogram's samples: name_bucket{...,le="bound"} for each of the n upper
 * bounds (seconds) and le="+Inf", then name_sum and name_count. counts has
 * n + 1 entries, per bucket and not cumulative (the last: above every
 * bound); the buckets written are their running sums, so _count equals the
 * +Inf bucket. sum_us is the sum of the observations in microseconds.
 * label_names/values add labels before le (n_labels may be 0). */
int prom_histogram(struct buf *b, const char *name, const char *const *label_names,
                   const char *const *label_values, size_t n_labels, const int64_t *bounds_us,
                   const uint64_t *counts, size_t n, uint64_t sum_us)
    __attribute__((warn_unused_result));

#endif
