/*
 * bootstrap_format.h - the text lines of the bootstrap a master sends a spawned worker
 * (see spawned.c). Both ends format and scan with these, so they cannot drift.
 */
#ifndef ASGID_WORKER_BOOTSTRAP_FORMAT_H
#define ASGID_WORKER_BOOTSTRAP_FORMAT_H

/* id, listener count, settings length */
#define BOOTSTRAP_HEADER_FORMAT "asgid-bootstrap %d %zu %zu\n"
#define BOOTSTRAP_HEADER_SCAN "asgid-bootstrap %d %zu %zu"

/* kind ("tcp" or "unix"), port, name length, host length; then name and host bytes */
#define BOOTSTRAP_LISTENER_FORMAT "listener %s %d %zu %zu\n"
#define BOOTSTRAP_LISTENER_SCAN "listener %7s %d %zu %zu"

#endif /* ASGID_WORKER_BOOTSTRAP_FORMAT_H */
