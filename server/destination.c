/* destination.c - the SSRF guard's address and port rules. */
#include "destination.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

struct blocked {
    const char *cidr;
    const char *reason;
};

/* Special-purpose IPv4 ranges (IANA registry) that are never a public
 * webhook receiver. */
static const struct blocked blocked_v4[] = {
    { "0.0.0.0/8", "'this network' (0.0.0.0/8)" },
    { "10.0.0.0/8", "a private address (RFC 1918)" },
    { "100.64.0.0/10", "a shared (CGNAT) address" },
    { "127.0.0.0/8", "a loopback address" },
    { "169.254.0.0/16", "a link-local address (cloud metadata lives here)" },
    { "172.16.0.0/12", "a private address (RFC 1918)" },
    { "192.0.0.0/24", "an IETF protocol assignment" },
    { "192.0.2.0/24", "a documentation address" },
    { "192.88.99.0/24", "a 6to4 relay address" },
    { "192.168.0.0/16", "a private address (RFC 1918)" },
    { "198.18.0.0/15", "a benchmarking address" },
    { "198.51.100.0/24", "a documentation address" },
    { "203.0.113.0/24", "a documentation address" },
    { "224.0.0.0/4", "a multicast address" },
    { "240.0.0.0/4", "a reserved address" },
    { "255.255.255.255/32", "the broadcast address" },
};

static const struct blocked blocked_v6[] = {
    { "::/128", "the unspecified address" },
    { "::1/128", "a loopback address" },
    { "100::/64", "a discard-only address" },
    { "2001:db8::/32", "a documentation address" },
    { "2001::/23", "an IETF protocol assignment (Teredo and others)" },
    { "fc00::/7", "a unique-local address" },
    { "fe80::/10", "a link-local address" },
    { "fec0::/10", "a site-local address" },
    { "ff00::/8", "a multicast address" },
    { "64:ff9b:1::/48", "a local-use NAT64 address" },
};

/* Parses s[0..len) as 1 to max_digits decimal digits - no sign, no space,
 * no overflow - worth at most max. Returns 0 or -1. */
static int parse_decimal(const char *s, size_t len, size_t max_digits, unsigned long max,
                         unsigned long *out)
{
    unsigned long v = 0;
    if (len == 0 || len > max_digits)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* Parses "addr" or "addr/prefix". Returns 0 or -1. */
static int cidr_parse(const char *text, size_t len, struct cidr *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    if (slash != NULL)
        *slash = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        out->prefix = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        out->prefix = 128;
    } else {
        return -1;
    }
    if (slash != NULL) {
        unsigned long bits;
        if (parse_decimal(slash + 1, strlen(slash + 1), 3, (unsigned long)out->prefix,
                          &bits) != 0)
            return -1;
        out->prefix = (int)bits;
    }
    return 0;
}

static bool cidr_contains(const struct cidr *c, int family, const unsigned char *addr)
{
    if (c->family != family)
        return false;
    int full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr, addr, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (c->addr[full] & mask) == (addr[full] & mask);
}

static const char *blocked_reason(const struct blocked *table, size_t n, int family,
                                  const unsigned char *addr)
{
    for (size_t i = 0; i < n; i++) {
        struct cidr c;
        if (cidr_parse(table[i].cidr, strlen(table[i].cidr), &c) == 0 &&
            cidr_contains(&c, family, addr))
            return table[i].reason;
    }
    return NULL;
}

static bool allowlisted(const struct destination_policy *p, int family, const unsigned char *addr)
{
    for (size_t i = 0; i < p->n_allow; i++) {
        if (cidr_contains(&p->allow[i], family, addr))
            return true;
    }
    return false;
}

/* The IPv4 address an IPv6 address carries, if it is one of the forms
 * that route to IPv4: mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64
 * 64:ff9b::a.b.c.d, and 6to4 2002:AABB:CCDD::. */
static bool embedded_v4(const unsigned char *a, unsigned char v4[4])
{
    static const unsigned char zeros[12] = { 0 };
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0 ||
        (memcmp(a, zeros, 12) == 0 && (a[12] | a[13] | a[14] | a[15]) != 0 &&
         !(a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] == 1))) {
        memcpy(v4, a + 12, 4);
        return true;
    }
    if (a[0] == 0x20 && a[1] == 0x02) {
        memcpy(v4, a + 2, 4);
        return true;
    }
    return false;
}

bool destination_port_allowed(const struct destination_policy *p, unsigned int port)
{
    if (p->n_ports == 0)
        return true;
    for (size_t i = 0; i < p->n_ports; i++) {
        if (port >= p->ports[i].lo && port <= p->ports[i].hi)
            return true;
    }
    return false;
}

static bool address_allowed(const struct destination_policy *p, int family,
                            const unsigned char *addr, unsigned int port, const char **reason)
{
    if (!destination_port_allowed(p, port)) {
        *reason = "the port is not in HOOKD_ALLOWED_PORTS";
        return false;
    }
    if (allowlisted(p, family, addr))
        return true;
    const char *why;
    if (family == AF_INET) {
        why = blocked_reason(blocked_v4, sizeof(blocked_v4) / sizeof(blocked_v4[0]), AF_INET, addr);
    } else {
        unsigned char v4[4];
        if (embedded_v4(addr, v4)) {
            if (allowlisted(p, AF_INET, v4))
                return true;
            why = blocked_reason(blocked_v4, sizeof(blocked_v4) / sizeof(blocked_v4[0]), AF_INET,
                                 v4);
            if (why != NULL) {
                *reason = "an IPv6 form of a non-public IPv4 address";
                return false;
            }
        }
        why = blocked_reason(blocked_v6, sizeof(blocked_v6) / sizeof(blocked_v6[0]), AF_INET6,
                             addr);
    }
    if (why != NULL) {
        *reason = why;
        return false;
    }
    return true;
}

bool destination_allowed(const struct destination_policy *p, const struct sockaddr *sa,
                         const char **reason)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return address_allowed(p, AF_INET, (const unsigned char *)&in->sin_addr,
                               ntohs(in->sin_port), reason);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return address_allowed(p, AF_INET6, (const unsigned char *)&in6->sin6_addr,
                               ntohs(in6->sin6_port), reason);
    }
    *reason = "not an IP address";
    return false;
}

int destination_literal_allowed(const struct destination_policy *p, const char *text,
                                unsigned int port, const char **reason)
{
    unsigned char addr[16];
    char buf[64];
    size_t len = strlen(text);
    /* URL hosts write IPv6 in brackets. */
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        if (len - 2 >= sizeof(buf))
            return -1;
        memcpy(buf, text + 1, len - 2);
        buf[len - 2] = '\0';
        text = buf;
    }
    if (inet_pton(AF_INET, text, addr) == 1)
        return address_allowed(p, AF_INET, addr, port, reason) ? 1 : 0;
    if (inet_pton(AF_INET6, text, addr) == 1)
        return address_allowed(p, AF_INET6, addr, port, reason) ? 1 : 0;
    return -1;
}

int destination_policy_init(struct destination_policy *p, const char *allow, const char *ports,
                            struct hk_error *err)
{
    memset(p, 0, sizeof(*p));
    for (const char *s = allow; s != NULL && *s != '\0';) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        struct cidr c;
        if (cidr_parse(s, len, &c) != 0) {
            hk_error_set(err, HK_ERR_INVALID,
                         "HOOKD_ALLOW_PRIVATE_TARGETS: '%.*s' is not an address or CIDR",
                         (int)len, s);
            destination_policy_free(p);
            return -1;
        }
        p->allow = xrealloc(p->allow, (p->n_allow + 1) * sizeof(*p->allow));
        p->allow[p->n_allow++] = c;
        s = comma ? comma + 1 : NULL;
    }
    for (const char *s = ports; s != NULL && *s != '\0';) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        const char *dash = memchr(s, '-', len);
        size_t lo_len = dash ? (size_t)(dash - s) : len;
        unsigned long lo, hi;
        if (parse_decimal(s, lo_len, 5, 65535, &lo) != 0)
            goto bad_port;
        hi = lo;
        if (dash != NULL && parse_decimal(dash + 1, len - lo_len - 1, 5, 65535, &hi) != 0)
            goto bad_port;
        if (lo < 1 || lo > hi)
            goto bad_port;
        p->ports = xrealloc(p->ports, (p->n_ports + 1) * sizeof(*p->ports));
        p->ports[p->n_ports++] = (struct port_range){ (unsigned int)lo, (unsigned int)hi };
        s = comma ? comma + 1 : NULL;
        continue;
bad_port:
        hk_error_set(err, HK_ERR_INVALID,
                     "HOOKD_ALLOWED_PORTS: '%.*s' is not a port or range like 8000-8999",
                     (int)len, s);
        destination_policy_free(p);
        return -1;
    }
    return 0;
}

void destination_policy_free(struct destination_policy *p)
{
    free(p->allow);
    free(p->ports);
    memset(p, 0, sizeof(*p));
}
