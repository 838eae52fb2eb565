/* event_body.c - an event's stored text, its time and its version check. */
#include "event_body.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void event_rfc3339(char out[EVENT_RFC3339_LEN + 1], int64_t unix_ms)
{
    int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
    int ms = (int)(unix_ms - secs * 1000);
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    char text[64];
    snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    memcpy(out, text, EVENT_RFC3339_LEN);
    out[EVENT_RFC3339_LEN] = '\0';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_char(char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
}

/* A numeric part: 0, or a digit 1-9 followed by digits. Returns the index
 * after it, or 0 when there is none at i. */
static size_t numeric_end(const char *s, size_t i)
{
    if (s[i] == '0')
        return i + 1;
    if (s[i] < '1' || s[i] > '9')
        return 0;
    while (is_digit(s[i]))
        i++;
    return i;
}

/* Dot-separated identifiers of [0-9A-Za-z-]+ (after '-' or '+'). Returns
 * the index after them, or 0 when there is no identifier at i. */
static size_t identifiers_end(const char *s, size_t i)
{
    for (;;) {
        if (!is_ident_char(s[i]))
            return 0;
        while (is_ident_char(s[i]))
            i++;
        if (s[i] != '.')
            return i;
        i++;
    }
}

bool event_version_valid(const char *version)
{
    if (strlen(version) > 64)
        return false;
    size_t i = 0;
    for (int part = 0; part < 3; part++) {
        if (part > 0) {
            if (version[i] != '.')
                return false;
            i++;
        }
        if ((i = numeric_end(version, i)) == 0)
            return false;
    }
    if (version[i] == '-' && (i = identifiers_end(version, i + 1)) == 0)
        return false;
    if (version[i] == '+' && (i = identifiers_end(version, i + 1)) == 0)
        return false;
    return version[i] == '\0';
}

/* s as a JSON string the way PostgreSQL's escape_json writes it: '"' and
 * '\\' escaped, \b \f \n \r \t by name, other bytes below 0x20 as \u00xx
 * (lowercase hex), every other byte as it is. */
static int write_string(struct buf *b, const char *s)
{
    if (buf_append(b, "\"", 1) != 0)
        return -1;
    for (const char *p = s; *p != '\0';) {
        size_t run = 0;
        while (p[run] != '\0' && (unsigned char)p[run] >= 0x20 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > 0) {
            if (buf_append(b, p, run) != 0)
                return -1;
            p += run;
            continue;
        }
        char esc[7];
        size_t n = 2;
        esc[0] = '\\';
        switch (*p) {
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)(unsigned char)*p);
            n = 6;
        }
        if (buf_append(b, esc, n) != 0)
            return -1;
        p++;
    }
    return buf_append(b, "\"", 1);
}

int event_body_write(struct buf *b, const char *id, const char *occurred, const char *type,
                     const char *version, const char *data, size_t data_len)
{
    if (buf_append_str(b, "{\"id\":") != 0 || write_string(b, id) != 0 ||
        buf_append_str(b, ",\"occurred\":") != 0 || write_string(b, occurred) != 0 ||
        buf_append_str(b, ",\"type\":") != 0 || write_string(b, type) != 0 ||
        buf_append_str(b, ",\"version\":") != 0 || write_string(b, version) != 0 ||
        buf_append_str(b, ",\"data\":") != 0 || buf_append(b, data, data_len) != 0 ||
        buf_append(b, "}", 1) != 0)
        return -1;
    return 0;
}
