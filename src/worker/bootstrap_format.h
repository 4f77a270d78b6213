/*
 * bootstrap_format.h - the text lines of the bootstrap a master sends a spawned worker
 * (see spawned.c). Both ends format and scan with these, so they cannot drift.
 */
#ifndef ASGID_WORKER_BOOTSTRAP_FORMAT_H
#define ASGID_WORKER_BOOTSTRAP_FORMAT_H

/* the channel's protocol version (CHANNEL_VERSION), id, listener count, settings length. A
 * master of a release before the typed channel wrote no version (three numbers). */
#define BOOTSTRAP_HEADER_FORMAT "asgid-bootstrap %d %d %zu %zu\n"
#define BOOTSTRAP_HEADER_SCAN "asgid-bootstrap %d %d %zu %zu"
#define BOOTSTRAP_UNVERSIONED_HEADER_SCAN "asgid-bootstrap %*d %*u %*u"

/* kind ("tcp" or "unix"), port, name length, host length, then the options (nothing, or
 * BOOTSTRAP_PROXY_PROTOCOL); then name and host bytes. A master of a release before the
 * proxy_protocol option wrote no options: its records read as listeners without them. */
#define BOOTSTRAP_LISTENER_FORMAT "listener %s %d %zu %zu%s\n"
#define BOOTSTRAP_LISTENER_SCAN "listener %7s %d %zu %zu"
#define BOOTSTRAP_PROXY_PROTOCOL " proxy_protocol"

/* Bounds both ends keep to, so that the worker never sizes memory by a number it read
 * unchecked: the longest header or record line, newline included; the bytes of one record
 * (its line, name and host); the listeners of one bootstrap (each is a descriptor). */
#define BOOTSTRAP_LINE_MAX 128
#define BOOTSTRAP_RECORD_MAX 4096
#define BOOTSTRAP_LISTENERS_MAX 65536

#endif /* ASGID_WORKER_BOOTSTRAP_FORMAT_H */
