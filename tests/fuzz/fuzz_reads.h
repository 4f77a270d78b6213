/*
 * fuzz_reads.h - how a fuzz target cuts its input into the reads a peer's bytes arrive in,
 * so that the fuzzer chooses the split points as well as the bytes.
 *
 * Input layout: byte 0 is N (taken modulo 8), then N bytes each giving the length of a read
 * (the byte's value + 1, so 1 to 256), then the stream. The stream arrives in reads of those
 * lengths, in turn; with N = 0 it arrives in one read. Examples: "\x00GET ..." in one read,
 * "\x01\x00GET ..." one byte at a time, "\x02\x04\x63GET ..." 5 bytes, 100 bytes, 5 bytes...
 */
#ifndef ASGID_FUZZ_READS_H
#define ASGID_FUZZ_READS_H

#include <stddef.h>
#include <stdint.h>

typedef struct fuzz_reads {
  const uint8_t *stream; /* the input after the read lengths */
  size_t size;
  const uint8_t *lengths;
  size_t length_count;
  size_t next_length; /* index of the next read's length */
  size_t arrived;     /* bytes of the stream delivered so far */
} fuzz_reads;

/* Splits an input into its read lengths and its stream. */
void fuzz_reads_init(fuzz_reads *reads, const uint8_t *input, size_t size);

/* Delivers the next read: returns how many more bytes of the stream have arrived (0 once
 * it has all arrived) and moves reads->arrived on. */
size_t fuzz_reads_next(fuzz_reads *reads);

#endif /* ASGID_FUZZ_READS_H */
