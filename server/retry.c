/* retry.c - outcomes, the retry schedule, jitter and Retry-After. */
#include "retry.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#define DEFAULT_RETRIES 30
#define MAX_DELAY_MS (30L * 24 * 3600 * 1000)   /* 30 days */
#define MAX_RETRIES 100

int duration_parse_ms(const char *text, size_t len, long *out_ms)
{
    size_t i = 0;
    long value = 0;
    if (len == 0 || !isdigit((unsigned char)text[0]))
        return -1;
    while (i < len && isdigit((unsigned char)text[i])) {
        value = value * 10 + (text[i] - '0');
        if (value > MAX_DELAY_MS)
            return -1;
        i++;
    }
    const char *unit = text + i;
    size_t unit_len = len - i;
    long factor;
    if (unit_len == 0 || (unit_len == 1 && unit[0] == 's'))
        factor = 1000;
    else if (unit_len == 2 && memcmp(unit, "ms", 2) == 0)
        factor = 1;
    else if (unit_len == 1 && unit[0] == 'm')
        factor = 60L * 1000;
    else if (unit_len == 1 && unit[0] == 'h')
        factor = 3600L * 1000;
    else
        return -1;
    if (value > MAX_DELAY_MS / factor)
        return -1;
    *out_ms = value * factor;
    return 0;
}

int retry_policy_init(struct retry_policy *policy, const char *spec, int jitter_pct,
                      long retry_after_max_ms, struct hk_error *err)
{
    memset(policy, 0, sizeof(*policy));
    policy->jitter_pct = jitter_pct;
    policy->retry_after_max_ms = retry_after_max_ms;
    if (spec == NULL || spec[0] == '\0') {
        policy->delays_ms = xcalloc(DEFAULT_RETRIES, sizeof(long));
        for (int n = 1; n <= DEFAULT_RETRIES; n++) {
            long minutes = n <= 7 ? 1L << (n - 1) : 64;
            policy->delays_ms[n - 1] = minutes * 60 * 1000;
        }
        policy->n_delays = DEFAULT_RETRIES;
        return 0;
    }
    const char *p = spec;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        long ms;
        if (policy->n_delays >= MAX_RETRIES || duration_parse_ms(p, len, &ms) != 0) {
            hk_error_set(err, HK_ERR_INVALID,
                         "retry schedule: '%.*s' is not a duration like 30s, 5m, 250ms "
                         "(at most %d retries)", (int)len, p, MAX_RETRIES);
            retry_policy_free(policy);
            return -1;
        }
        policy->delays_ms = xrealloc(policy->delays_ms, (policy->n_delays + 1) * sizeof(long));
        policy->delays_ms[policy->n_delays++] = ms;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}

void retry_policy_free(struct retry_policy *policy)
{
    free(policy->delays_ms);
    policy->delays_ms = NULL;
    policy->n_delays = 0;
}

enum attempt_outcome retry_classify(long http_status)
{
    if (http_status >= 200 && http_status <= 299)
        return OUTCOME_DELIVERED;
    if (http_status == 410)
        return OUTCOME_GONE;
    return OUTCOME_RETRY;
}

static int month_index(const char *m)
{
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    for (int i = 0; i < 12; i++) {
        if (strncmp(m, months[i], 3) == 0)
            return i;
    }
    return -1;
}

static int two_digits(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), without timegm. */
static long days_from_civil(long y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

long retry_after_ms(const char *value, time_t now)
{
    if (value == NULL)
        return -1;
    while (*value == ' ')
        value++;
    size_t len = strlen(value);
    while (len > 0 && value[len - 1] == ' ')
        len--;
    if (len == 0)
        return -1;
    if (isdigit((unsigned char)value[0])) {
        long seconds = 0;
        for (size_t i = 0; i < len; i++) {
            if (!isdigit((unsigned char)value[i]))
                return -1;
            seconds = seconds * 10 + (value[i] - '0');
            if (seconds > MAX_DELAY_MS / 1000)
                return MAX_DELAY_MS;
        }
        return seconds * 1000;
    }
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". In the shape, 'a'
     * stands for a letter, '0' for a digit; other characters are literal. */
    static const char shape[] = "aaa, 00 aaa 0000 00:00:00 GMT";
    if (len != sizeof(shape) - 1)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (shape[i] == 'a'   ? !isalpha(c)
            : shape[i] == '0' ? !isdigit(c)
                              : c != (unsigned char)shape[i])
            return -1;
    }
    int m = month_index(value + 8);
    int day = two_digits(value + 5), year = two_digits(value + 12) * 100 + two_digits(value + 14);
    int hh = two_digits(value + 17), mm = two_digits(value + 20), ss = two_digits(value + 23);
    if (m < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
        return -1;
    long long at = (long long)days_from_civil(year, m + 1, day) * 86400 + (long long)hh * 3600 +
                   (long long)mm * 60 + ss;
    long long delta = at - (long long)now;
    if (delta <= 0)
        return 0;
    if (delta > MAX_DELAY_MS / 1000)
        return MAX_DELAY_MS;
    return (long)delta * 1000;
}

long retry_delay_ms(const struct retry_policy *policy, int retry, long http_status,
                    const char *retry_after, time_t now, uint32_t random)
{
    if (retry < 1 || (size_t)retry > policy->n_delays)
        return -1;
    double base = (double)policy->delays_ms[retry - 1];
    /* random / 2^32 is in [0, 1): the factor is in [1 - j, 1 + j). */
    double unit = (double)random / 4294967296.0;
    double factor = 1.0 + (double)policy->jitter_pct / 100.0 * (2.0 * unit - 1.0);
    long delay = (long)(base * factor);
    if (http_status == 429 || http_status == 503) {
        long asked = retry_after_ms(retry_after, now);
        if (asked > policy->retry_after_max_ms)
            asked = policy->retry_after_max_ms;
        if (asked > delay)
            delay = asked;
    }
    return delay < 0 ? 0 : delay;
}
