/* log.h - leveled log lines on stderr, as text or as JSON.
 *
 * The level check happens before any formatting (the macros test it), so a
 * disabled debug line costs one comparison. Never pass a secret to a log
 * call: API keys, passphrases and signing secrets stay out of logs.
 *
 * Two kinds of line: log_info("...%s", ...) formats a message; log_fields
 * (level, "msg", LOG_STR("key", s), LOG_INT("key", n), ...) carries the ids
 * it concerns as separate fields. In the text format (the default) a line is
 * `TIMESTAMP LEVEL message key=value ...`; in the JSON format it is one
 * object, {"ts":"...","level":"...","msg":"...","key":value,...}. Both are
 * written whole, one write(2) of at most PIPE_BUF bytes per line or per few
 * lines, so lines of different threads never interleave.
 *
 * A thread that logs a line per unit of work (a delivery worker: one per
 * attempt) can have its lines collected and written a few at a time:
 * log_buffer_begin, then log_flush before it waits for anything (its lines
 * then never wait longer than its loop), and log_buffer_end when it stops.
 * A buffered line is written at the latest when the buffer is full, when
 * the thread logs a line 100 ms after the oldest one waiting, at a warning
 * or error, or at log_flush; its text and timestamp are those it was made
 * with. */
#ifndef HOOKD_LOG_H
#define HOOKD_LOG_H

#include <stddef.h>
#include <time.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };

/* Set once in main before any thread starts; read-only afterwards. */
extern enum log_level log_threshold;
extern enum log_format log_format;

enum log_field_type {
    LOG_FIELD_STR,      /* text; left out when NULL */
    LOG_FIELD_INT,      /* an integer */
    LOG_FIELD_ID,       /* a database id; left out when 0 or less (not known) */
    LOG_FIELD_MS,       /* microseconds, written as milliseconds: 1.234 */
};

/* One named value of a line. Keys are plain ASCII identifiers (written as
 * given). */
struct log_field {
    const char *key;
    enum log_field_type type;
    const char *str;
    long long num;
};

#define LOG_STR(k, v) ((struct log_field){ (k), LOG_FIELD_STR, (v), 0 })
#define LOG_INT(k, v) ((struct log_field){ (k), LOG_FIELD_INT, NULL, (long long)(v) })
#define LOG_ID(k, v) ((struct log_field){ (k), LOG_FIELD_ID, NULL, (long long)(v) })
#define LOG_MS(k, us) ((struct log_field){ (k), LOG_FIELD_MS, NULL, (long long)(us) })

/* Parses "debug", "info", "warn" or "error"; returns 0 or -1. */
int log_level_parse(const char *name, enum log_level *out);
/* Parses "text" or "json"; returns 0 or -1. */
int log_format_parse(const char *name, enum log_format *out);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_write_fields(enum log_level level, const char *msg, const struct log_field *fields,
                      size_t n);

/* Formats one line (with its trailing newline) into out[0..cap) and returns
 * its length. Pure: the unit tests call it. A line that does not fit is cut
 * at a character boundary and stays well-formed (valid JSON, still closed);
 * strings are escaped (quotes, backslashes, control characters) and invalid
 * UTF-8 becomes U+FFFD. cap must be at least LOG_LINE_MIN. */
#define LOG_LINE_MIN 128
size_t log_format_line(char *out, size_t cap, enum log_format format, const struct timespec *ts,
                       enum log_level level, const char *msg, const struct log_field *fields,
                       size_t n);

/* From now on the calling thread's lines are collected (see above). */
void log_buffer_begin(void);
/* Writes the calling thread's collected lines, if any. */
void log_flush(void);
/* Writes what was collected and goes back to one write per line. */
void log_buffer_end(void);

#define log_at(level, ...) \
    do { if ((level) >= log_threshold) log_write((level), __VA_ARGS__); } while (0)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)

#define log_fields(level, msg, ...)                                                    \
    do {                                                                               \
        if ((level) >= log_threshold) {                                                \
            const struct log_field log_fields_[] = { __VA_ARGS__ };                    \
            log_write_fields((level), (msg), log_fields_,                              \
                             sizeof(log_fields_) / sizeof(log_fields_[0]));            \
        }                                                                              \
    } while (0)

#endif
