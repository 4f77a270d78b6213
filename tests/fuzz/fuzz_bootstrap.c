/*
 * fuzz_bootstrap.c - a spawned worker's decoder of the bootstrap its master sends
 * (src/worker/bootstrap_reader.c): the bytes arrive in reads the fuzzer cuts (fuzz_reads.h),
 * and after each read the decoder gets everything received so far, as spawned.c calls it.
 * The listening sockets that travel beside the records are not part of the text and are
 * left out.
 *
 * Each call gets an exact-size copy of what has arrived, so a read past it is caught by
 * ASan (spawned.c's buffer has unwritten room after the received bytes). Checked: the
 * decoder never claims more than arrived, and every record it counts is whole; libFuzzer's
 * -malloc_limit_mb catches an allocation sized by a count the bytes do not back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_reads.h"
#include "worker/bootstrap_reader.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

static FILE *settings_errors;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  settings_errors = fopen("/dev/null", "w");
  FUZZ_CHECK(settings_errors);
  return 0;
}

static void check_records(const bootstrap_reader *r) {
  FUZZ_CHECK(r->records <= r->listener_count);
  if (!r->header_done) return;
  FUZZ_CHECK(r->listeners.count == r->listener_count);
  for (size_t i = 0; i < r->records; i++) {
    const listener *l = &r->listeners.items[i];
    FUZZ_CHECK(l->name && l->host);
    FUZZ_CHECK(l->kind == LISTENER_TCP || l->kind == LISTENER_UNIX);
    FUZZ_CHECK(l->socket == PLATFORM_INVALID_SOCKET);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
  fuzz_reads reads;
  fuzz_reads_init(&reads, input, size);
  bootstrap_reader r;
  memset(&r, 0, sizeof r);
  while (fuzz_reads_next(&reads) > 0) {
    char *received = malloc(reads.arrived);
    FUZZ_CHECK(received);
    memcpy(received, reads.stream, reads.arrived);
    int rc = bootstrap_reader_decode(&r, received, reads.arrived, settings_errors);
    free(received);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(r.parsed <= reads.arrived);
    check_records(&r);
    if (rc != 0 || bootstrap_reader_complete(&r)) break; /* the worker exits, or runs */
  }
  bootstrap_reader_free(&r);
  return 0;
}
