/* net_guard.h - puts the SSRF guard (destination.h) between libcurl and
 * every socket it opens: the first connection and each redirect hop, after
 * DNS resolution, so what is checked is what is connected to. */
#ifndef HOOKD_NET_GUARD_H
#define HOOKD_NET_GUARD_H

#include <curl/curl.h>

#include "destination.h"

struct net_guard {
    const struct destination_policy *policy;   /* borrowed */
    char refused[192];                         /* why a connection was refused, "" if none */
};

/* Installs the guard on an easy handle (and turns off proxies from the
 * environment, which would make the proxy the checked address). The guard
 * must outlive the transfer. */
void net_guard_attach(CURL *easy, struct net_guard *guard, const struct destination_policy *policy);

#endif
