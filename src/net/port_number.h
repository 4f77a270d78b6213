/*
 * port_number.h - a TCP port written in decimal, as a bind value (master/listeners.c) and a
 * PROXY protocol v1 header (net/proxy_protocol.c) carry it.
 *
 * Pure: no I/O, no logging.
 */
#ifndef ASGID_NET_PORT_NUMBER_H
#define ASGID_NET_PORT_NUMBER_H

#include <stddef.h>

/* The port that len bytes of text write: one or more decimal digits and nothing else (no
 * sign, no space), 0 to 65535; leading zeros are the caller's rule to refuse. Returns the
 * port, or -1 when the text is not one. */
int port_number_parse(const char *text, size_t len);

#endif /* ASGID_NET_PORT_NUMBER_H */
