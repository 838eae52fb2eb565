/* log.h - leveled log lines on stderr.
 *
 * The level check happens before any formatting (the macros test it), so a
 * disabled debug line costs one comparison. Never pass a secret to a log
 * call: API keys, passphrases and signing secrets stay out of logs. */
#ifndef HOOKD_LOG_H
#define HOOKD_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

extern enum log_level log_threshold;

/* Parses "debug", "info", "warn" or "error"; returns 0 or -1. */
int log_level_parse(const char *name, enum log_level *out);
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_at(level, ...) \
    do { if ((level) >= log_threshold) log_write((level), __VA_ARGS__); } while (0)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)

#endif
