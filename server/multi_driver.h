/* multi_driver.h - drives a libcurl multi handle through its socket
 * interface (curl_multi_socket_action) on an epoll set: each round acts on
 * the sockets that are ready and on libcurl's timeout, if it is due, and
 * nothing else. curl_multi_perform and curl_multi_poll visit every
 * transfer each time (a poll() of its socket, then one of all of them):
 * a worker whose slow receivers hold dozens of idle requests paid for all
 * of them on every turn of its loop, however few had anything to do.
 *
 * One driver belongs to one thread, except multi_driver_wakeup, which any
 * thread may call. The driver owns its multi handle (multi_driver_multi:
 * add, remove and read transfers through it). */
#ifndef HOOKD_MULTI_DRIVER_H
#define HOOKD_MULTI_DRIVER_H

#include <curl/curl.h>
#include <poll.h>

struct multi_driver;

/* A driver with a new multi handle, or NULL when the handle, the epoll set
 * or the wake-up descriptor cannot be made. */
struct multi_driver *multi_driver_new(void);
/* Frees the driver and its multi handle (remove the transfers first). NULL
 * is ignored. */
void multi_driver_free(struct multi_driver *d);

CURLM *multi_driver_multi(struct multi_driver *d);

/* Lets libcurl act on every socket that is ready (without waiting) and on
 * its timeout if that has come; transfers added since the last round are
 * started (libcurl sets its timeout to now when one is added). Returns how
 * many transfers run, as libcurl last said (0 before it first acted):
 * fewer than were added means some have finished (curl_multi_info_read). */
int multi_driver_run(struct multi_driver *d);

/* The descriptors multi_driver_wait watches besides the transfers. */
#define MULTI_DRIVER_MAX_EXTRA 4

/* Waits up to timeout_ms (no more than libcurl's own timeout allows) until
 * a transfer's socket is ready, one of extra (at most
 * MULTI_DRIVER_MAX_EXTRA poll() descriptors, whose revents are set on
 * return) is, or multi_driver_wakeup is called. Returns 1 when something
 * is ready or a wake-up came (or a signal interrupted the wait), 0 when
 * the time ran out, -1 with errno set on a poll() error or too many extra
 * descriptors (EINVAL). */
int multi_driver_wait(struct multi_driver *d, struct pollfd *extra, unsigned n_extra,
                      long timeout_ms);

/* Ends the driver's current or next wait at once; safe from any thread. */
void multi_driver_wakeup(struct multi_driver *d);

#endif
