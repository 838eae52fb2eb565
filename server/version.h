/* version.h - the release, set by the Makefile. */
#ifndef HOOKD_VERSION_H
#define HOOKD_VERSION_H

#ifndef HOOKD_VERSION
#define HOOKD_VERSION "0.0.0-dev"
#endif

#endif
