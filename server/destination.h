/* destination.h - may hookd connect to this address? The SSRF guard. Pure.
 *
 * Webhook URLs are typed in by strangers, so by default hookd connects only
 * to public unicast addresses: never loopback, private (RFC 1918), shared
 * (CGNAT), link-local (cloud metadata lives there), multicast, broadcast,
 * documentation, benchmark or reserved ranges, in IPv4 or IPv6, nor IPv6
 * forms that embed such an IPv4 address (mapped, compatible, NAT64, 6to4).
 * An allowlist of CIDRs opens chosen ranges (tests, private deployments);
 * an optional list of ports narrows where hookd may connect.
 *
 * The check runs on the address libcurl is about to connect to (its
 * open-socket callback), for the first request and every redirect hop, so a
 * name that resolves differently at connect time (DNS rebinding) is caught. */
#ifndef HOOKD_DESTINATION_H
#define HOOKD_DESTINATION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "error.h"

struct cidr {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;                 /* bits */
};

struct port_range {
    unsigned int lo, hi;
};

struct destination_policy {
    struct cidr *allow;         /* owned */
    size_t n_allow;
    struct port_range *ports;   /* owned; none = every port */
    size_t n_ports;
};

/* Parses "10.0.0.0/8,::1/128,127.0.0.1" (a bare address is a /32 or /128)
 * and "80,443,8000-8999" (empty: all ports). */
int destination_policy_init(struct destination_policy *p, const char *allow, const char *ports,
                            struct hk_error *err) __attribute__((warn_unused_result));
void destination_policy_free(struct destination_policy *p);

/* Checks one socket address (IPv4 or IPv6, with its port). Returns true
 * when allowed; otherwise false and *reason (static text) says why. */
bool destination_allowed(const struct destination_policy *p, const struct sockaddr *sa,
                         const char **reason);

/* Checks an address in text form ("10.1.2.3", "::1") with a port: for URL
 * hosts that are IP literals, before any connection. Returns -1 when text
 * is not an IP address (a name: checked at connect time), 1 allowed, 0
 * refused with *reason. */
int destination_literal_allowed(const struct destination_policy *p, const char *text,
                                unsigned int port, const char **reason);

/* True when port is in the allowed ports (always, when none are set). */
bool destination_port_allowed(const struct destination_policy *p, unsigned int port);

#endif
