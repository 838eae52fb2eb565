/* net_guard.c - libcurl's open-socket callback, checked by destination.c. */
#include "net_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static curl_socket_t open_guarded(void *clientp, curlsocktype purpose,
                                  struct curl_sockaddr *address)
{
    struct net_guard *guard = clientp;
    const char *reason = NULL;
    (void)purpose;
    if (!destination_allowed(guard->policy, &address->addr, &reason)) {
        char ip[INET6_ADDRSTRLEN] = "?";
        if (address->family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&address->addr)->sin_addr, ip,
                      sizeof(ip));
        else if (address->family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&address->addr)->sin6_addr, ip,
                      sizeof(ip));
        snprintf(guard->refused, sizeof(guard->refused), "destination refused: %s is %s", ip,
                 reason);
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

void net_guard_attach(CURL *easy, struct net_guard *guard, const struct destination_policy *policy)
{
    guard->policy = policy;
    guard->refused[0] = '\0';
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, guard);
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
}
