/* log.c - leveled log lines on stderr, text or JSON. Each write(2) holds
 * whole lines, at most PIPE_BUF bytes, so lines from different threads
 * never interleave: one write per line, or, on a thread that asked for it
 * (log_buffer_begin), a few lines at a time. */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utf8.h"

enum log_level log_threshold = LOG_INFO;
enum log_format log_format = LOG_FORMAT_TEXT;

static const char *const level_names[] = { "debug", "info", "warn", "error" };
static const char *const format_names[] = { "text", "json" };

/* The longest line written; longer ones are cut (and stay well-formed). */
#define LINE_MAX_BYTES 4096
/* The longest formatted message of log_write. */
#define MESSAGE_MAX_BYTES 2048

int log_level_parse(const char *name, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

int log_format_parse(const char *name, enum log_format *out)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *out = (enum log_format)i;
            return 0;
        }
    }
    return -1;
}

/* ---- a bounded line under construction -------------------------------- */

/* Bytes kept back for the end of the line: '}', '\n' and a NUL. */
#define LINE_TAIL 3

struct line {
    char *p;
    size_t len;
    size_t cap;
    bool full;      /* something did not fit: nothing more is added */
};

/* Appends s[0..n) when it fits before the tail (and `keep` more bytes). */
static bool put_keep(struct line *l, const char *s, size_t n, size_t keep)
{
    if (l->full || l->len + n + keep + LINE_TAIL > l->cap) {
        l->full = true;
        return false;
    }
    memcpy(l->p + l->len, s, n);
    l->len += n;
    return true;
}

static bool put(struct line *l, const char *s, size_t n)
{
    return put_keep(l, s, n, 0);
}

static bool put_str(struct line *l, const char *s)
{
    return put(l, s, strlen(s));
}

/* The JSON form of the character at s[0..len): *rep (borrowed: s itself, a
 * literal, or tmp) and *rep_len. Returns the input bytes it stands for. */
static size_t escape_char(const char *s, size_t len, char tmp[8], const char **rep,
                          size_t *rep_len)
{
    unsigned char c = (unsigned char)s[0];
    const char *fixed = NULL;
    switch (c) {
    case '"': fixed = "\\\""; break;
    case '\\': fixed = "\\\\"; break;
    case '\n': fixed = "\\n"; break;
    case '\r': fixed = "\\r"; break;
    case '\t': fixed = "\\t"; break;
    default: break;
    }
    if (fixed != NULL) {
        *rep = fixed;
        *rep_len = 2;
        return 1;
    }
    if (c < 0x20 || c == 0x7f) {
        *rep_len = (size_t)snprintf(tmp, 8, "\\u%04x", c);
        *rep = tmp;
        return 1;
    }
    size_t n = utf8_char_len(s, len);
    if (n == 0) {
        *rep = "\xEF\xBF\xBD"; /* U+FFFD for a byte that is not UTF-8 */
        *rep_len = 3;
        return 1;
    }
    *rep = s;
    *rep_len = n;
    return n;
}

/* A JSON string: quoted and escaped; cut at a character boundary (and still
 * closed) when the line is full. Returns false when not even "" fits. */
static bool put_quoted(struct line *l, const char *s)
{
    if (!put_keep(l, "\"", 1, 1))
        return false;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        char tmp[8];
        const char *rep;
        size_t rep_len;
        size_t used = escape_char(s + i, len - i, tmp, &rep, &rep_len);
        if (!put_keep(l, rep, rep_len, 1))
            break;
        i += used;
    }
    l->p[l->len++] = '"'; /* the byte kept for it */
    return true;
}

/* Can a text-format value be written bare (key=value)? */
static bool bare_text(const char *s)
{
    if (*s == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '=' || *p == '\\')
            return false;
    }
    return true;
}

/* "YYYY-MM-DDTHH:MM:SS" of the last second formatted on this thread: lines
 * come many to a second, and gmtime_r with snprintf is most of a line's
 * cost. */
static _Thread_local time_t stamp_second = (time_t)-1;
static _Thread_local char stamp_text[64];
static _Thread_local size_t stamp_len;

static void put_timestamp(struct line *l, const struct timespec *ts)
{
    if (ts->tv_sec != stamp_second) {
        struct tm tm;
        gmtime_r(&ts->tv_sec, &tm);
        int n = snprintf(stamp_text, sizeof(stamp_text), "%04d-%02d-%02dT%02d:%02d:%02d",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec);
        stamp_len = n < 0 ? 0 : (size_t)n < sizeof(stamp_text) ? (size_t)n : sizeof(stamp_text) - 1;
        stamp_second = ts->tv_sec;
    }
    long ms = ts->tv_nsec / 1000000;
    char frac[6] = { '.', (char)('0' + ms / 100 % 10), (char)('0' + ms / 10 % 10),
                     (char)('0' + ms % 10), 'Z', '\0' };
    if (put(l, stamp_text, stamp_len))
        put(l, frac, 5);
}

/* Is the field left out of the line? */
static bool absent(const struct log_field *f)
{
    return (f->type == LOG_FIELD_STR && f->str == NULL) || (f->type == LOG_FIELD_ID && f->num <= 0);
}

/* v in decimal, written backwards ending at *end; returns where it starts.
 * (snprintf was most of the cost of a delivery's log line.) */
static char *decimal_backwards(char *end, long long v)
{
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0)
        *--end = '-';
    return end;
}

/* A numeric field's text into out (at least 32 bytes), NUL-terminated:
 * "%lld", or for milliseconds "%lld.%03lld" of the microseconds. */
static void number_text(const struct log_field *f, char out[32])
{
    char tmp[32];
    char *end = tmp + sizeof(tmp) - 1;
    *end = '\0';
    char *start;
    if (f->type == LOG_FIELD_MS) {
        long long us = f->num < 0 ? 0 : f->num;
        long long frac = us % 1000;
        *--end = (char)('0' + frac % 10);
        *--end = (char)('0' + frac / 10 % 10);
        *--end = (char)('0' + frac / 100);
        *--end = '.';
        start = decimal_backwards(end, us / 1000);
    } else {
        start = decimal_backwards(end, f->num);
    }
    memcpy(out, start, (size_t)(tmp + sizeof(tmp) - start));
}

/* Appends each present field as ` key=value` (text) or `,"key":value`
 * (JSON). A field that does not fit is left out whole. */
static void put_fields(struct line *l, enum log_format format, const struct log_field *fields,
                       size_t n)
{
    bool json = format == LOG_FORMAT_JSON;
    for (size_t i = 0; i < n && !l->full; i++) {
        const struct log_field *f = &fields[i];
        if (absent(f))
            continue;
        size_t mark = l->len;
        char num[32];
        bool ok = json ? put_str(l, ",\"") && put_str(l, f->key) && put_str(l, "\":")
                       : put_str(l, " ") && put_str(l, f->key) && put_str(l, "=");
        if (ok && f->type != LOG_FIELD_STR) {
            number_text(f, num);
            ok = put_str(l, num);
        } else if (ok) {
            ok = json || !bare_text(f->str) ? put_quoted(l, f->str) : put_str(l, f->str);
        }
        if (!ok)
            l->len = mark;
    }
}

static void format_text(struct line *l, const struct timespec *ts, enum log_level level,
                        const char *msg, const struct log_field *fields, size_t n)
{
    char lvl[16];
    put_timestamp(l, ts);
    snprintf(lvl, sizeof(lvl), " %-5s ", level_names[level]);
    put_str(l, lvl);
    /* The message as it is (the format it always had), cut to fit. */
    size_t len = strlen(msg);
    size_t room = l->cap - LINE_TAIL - l->len;
    put(l, msg, len < room ? len : room);
    put_fields(l, LOG_FORMAT_TEXT, fields, n);
}

static void format_json(struct line *l, const struct timespec *ts, enum log_level level,
                        const char *msg, const struct log_field *fields, size_t n)
{
    put_str(l, "{\"ts\":\"");
    put_timestamp(l, ts);
    put_str(l, "\",\"level\":\"");
    put_str(l, level_names[level]);
    put_str(l, "\",\"msg\":");
    put_quoted(l, msg);
    put_fields(l, LOG_FORMAT_JSON, fields, n);
    l->p[l->len++] = '}'; /* kept in the tail */
}

size_t log_format_line(char *out, size_t cap, enum log_format format, const struct timespec *ts,
                       enum log_level level, const char *msg, const struct log_field *fields,
                       size_t n)
{
    struct line l = { out, 0, cap, false };
    if (format == LOG_FORMAT_JSON)
        format_json(&l, ts, level, msg, fields, n);
    else
        format_text(&l, ts, level, msg, fields, n);
    l.p[l.len++] = '\n';
    l.p[l.len] = '\0';
    return l.len;
}

/* ---- writing, at once or a few lines at a time ------------------------ */

/* What one write(2) holds at most: a pipe takes up to PIPE_BUF bytes
 * without interleaving them with other writers'. */
#if PIPE_BUF < LINE_MAX_BYTES
#error "a line must fit one atomic pipe write"
#endif
#define BUFFER_BYTES PIPE_BUF
/* The longest a buffered line waits when its thread logs again. */
#define BUFFER_MAX_AGE_NS 100000000LL

struct thread_buffer {
    size_t len;
    struct timespec first;       /* when the oldest buffered line was made */
    char data[BUFFER_BYTES];
};

/* The calling thread's buffer, while log_buffer_begin is in force. */
static _Thread_local struct thread_buffer *buffer;

static void write_all(const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, p, len);
        if (w <= 0)
            return; /* nowhere left to report a failed log write */
        p += w;
        len -= (size_t)w;
    }
}

void log_buffer_begin(void)
{
    if (buffer == NULL)
        buffer = calloc(1, sizeof(*buffer));
    /* Out of memory: the lines are simply written one by one. */
}

void log_flush(void)
{
    if (buffer == NULL || buffer->len == 0)
        return;
    write_all(buffer->data, buffer->len);
    buffer->len = 0;
}

void log_buffer_end(void)
{
    log_flush();
    free(buffer);
    buffer = NULL;
}

static long long ns_between(const struct timespec *a, const struct timespec *b)
{
    return (long long)(b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

static void emit(enum log_level level, const char *msg, const struct log_field *fields, size_t n)
{
    char line[LINE_MAX_BYTES];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    size_t len = log_format_line(line, sizeof(line), log_format, &ts, level, msg, fields, n);
    if (buffer == NULL) {
        write_all(line, len);
        return;
    }
    if (buffer->len + len > sizeof(buffer->data))
        log_flush();
    if (buffer->len == 0)
        buffer->first = ts;
    memcpy(buffer->data + buffer->len, line, len);
    buffer->len += len;
    /* Warnings and errors are not held back; nor is anything for long. */
    if (level >= LOG_WARN || ns_between(&buffer->first, &ts) >= BUFFER_MAX_AGE_NS)
        log_flush();
}

void log_write(enum log_level level, const char *fmt, ...)
{
    char msg[MESSAGE_MAX_BYTES];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (m < 0)
        msg[0] = '\0';
    emit(level, msg, NULL, 0);
}

void log_write_fields(enum log_level level, const char *msg, const struct log_field *fields,
                      size_t n)
{
    emit(level, msg, fields, n);
}
