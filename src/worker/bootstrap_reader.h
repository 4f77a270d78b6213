/*
 * bootstrap_reader.h - a spawned worker's decoder of the bootstrap its master sends (the
 * format is in spawned.c and bootstrap_format.h): the header, the settings and one record
 * per listener. The listening sockets travel beside the records and are spawned.c's.
 */
#ifndef ASGID_WORKER_BOOTSTRAP_READER_H
#define ASGID_WORKER_BOOTSTRAP_READER_H

#include <stddef.h>
#include <stdio.h>

#include "net/listener.h"
#include "settings/settings.h"

typedef struct bootstrap_reader {
  size_t parsed; /* bytes of the stream decoded so far */
  int header_done;
  int id;
  size_t listener_count, settings_len, records;
  listener_set listeners; /* one per record announced; sockets PLATFORM_INVALID_SOCKET */
  asgid_settings settings;
  int settings_loaded;
} bootstrap_reader;

/* Decodes what has arrived: stream[0..len) is every byte received so far, of which the
 * first r->parsed are decoded already. Returns 0 to go on (the bootstrap is complete once
 * bootstrap_reader_complete says so), -1 when it is malformed (settings errors are written
 * to err). */
int bootstrap_reader_decode(bootstrap_reader *r, const char *stream, size_t len, FILE *err);

/* 1 once the header, the settings and every listener record have been decoded. */
int bootstrap_reader_complete(const bootstrap_reader *r);

/* Frees what the reader holds (closing the sockets put into its listeners). */
void bootstrap_reader_free(bootstrap_reader *r);

#endif /* ASGID_WORKER_BOOTSTRAP_READER_H */
