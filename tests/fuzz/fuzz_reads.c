/* fuzz_reads.c - see fuzz_reads.h. */
#include "fuzz_reads.h"

void fuzz_reads_init(fuzz_reads *reads, const uint8_t *input, size_t size) {
  *reads = (fuzz_reads){0};
  if (size == 0) return;
  size_t count = input[0] % 8;
  if (count > size - 1) count = size - 1;
  reads->lengths = input + 1;
  reads->length_count = count;
  reads->stream = input + 1 + count;
  reads->size = size - 1 - count;
}

size_t fuzz_reads_next(fuzz_reads *reads) {
  size_t left = reads->size - reads->arrived;
  size_t n = left;
  if (reads->length_count) {
    size_t length = (size_t)reads->lengths[reads->next_length] + 1;
    reads->next_length = (reads->next_length + 1) % reads->length_count;
    if (length < n) n = length;
  }
  reads->arrived += n;
  return n;
}
