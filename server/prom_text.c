/* prom_text.c - the Prometheus text exposition format. */
#include "prom_text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The most labels a histogram's series carries, le included. */
#define HISTOGRAM_MAX_LABELS 4
/* The longest label set written. */
#define LABELS_MAX_BYTES 512

static int appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int appendf(struct buf *b, const char *fmt, ...)
{
    char line[LABELS_MAX_BYTES + 256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line))
        return -1;
    return buf_append(b, line, (size_t)n);
}

int prom_header(struct buf *b, const char *name, const char *type, const char *help)
{
    return appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int prom_labels(char *out, size_t cap, const char *const *names, const char *const *values,
                size_t n)
{
    size_t len = 0;
#define PUT(c)                  \
    do {                        \
        if (len + 1 >= cap)     \
            return -1;          \
        out[len++] = (c);       \
    } while (0)
    if (cap == 0)
        return -1;
    out[0] = '\0';
    if (n == 0)
        return 0;
    PUT('{');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            PUT(',');
        for (const char *p = names[i]; *p != '\0'; p++)
            PUT(*p);
        PUT('=');
        PUT('"');
        for (const char *p = values[i]; *p != '\0'; p++) {
            if (*p == '\\' || *p == '"') {
                PUT('\\');
                PUT(*p);
            } else if (*p == '\n') {
                PUT('\\');
                PUT('n');
            } else {
                PUT(*p);
            }
        }
        PUT('"');
    }
    PUT('}');
#undef PUT
    out[len] = '\0';
    return 0;
}

int prom_sample_u64(struct buf *b, const char *name, const char *labels, uint64_t value)
{
    return appendf(b, "%s%s %" PRIu64 "\n", name, labels, value);
}

int prom_sample_i64(struct buf *b, const char *name, const char *labels, int64_t value)
{
    return appendf(b, "%s%s %" PRId64 "\n", name, labels, value);
}

/* Seconds from microseconds, exactly: "0.005", "2.5", "86400". */
static void seconds_text(char *out, size_t cap, uint64_t us)
{
    int n = snprintf(out, cap, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
    if (n <= 0 || (size_t)n >= cap)
        return;
    char *end = out + n - 1;
    while (*end == '0')
        *end-- = '\0';
    if (*end == '.')
        *end = '\0';
}

int prom_histogram(struct buf *b, const char *name, const char *const *label_names,
                   const char *const *label_values, size_t n_labels, const int64_t *bounds_us,
                   const uint64_t *counts, size_t n, uint64_t sum_us)
{
    if (n_labels + 1 > HISTOGRAM_MAX_LABELS)
        return -1;
    const char *names[HISTOGRAM_MAX_LABELS], *values[HISTOGRAM_MAX_LABELS];
    for (size_t i = 0; i < n_labels; i++) {
        names[i] = label_names[i];
        values[i] = label_values[i];
    }
    names[n_labels] = "le";
    char labels[LABELS_MAX_BYTES], le[32];
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= n; i++) {
        cumulative += counts[i];
        if (i < n)
            seconds_text(le, sizeof(le), (uint64_t)bounds_us[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        values[n_labels] = le;
        if (prom_labels(labels, sizeof(labels), names, values, n_labels + 1) != 0 ||
            appendf(b, "%s_bucket%s %" PRIu64 "\n", name, labels, cumulative) != 0)
            return -1;
    }
    char sum[48];
    seconds_text(sum, sizeof(sum), sum_us);
    if (prom_labels(labels, sizeof(labels), names, values, n_labels) != 0)
        return -1;
    if (appendf(b, "%s_sum%s %s\n", name, labels, sum) != 0 ||
        appendf(b, "%s_count%s %" PRIu64 "\n", name, labels, cumulative) != 0)
        return -1;
    return 0;
}
