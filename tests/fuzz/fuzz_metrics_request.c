/*
 * fuzz_metrics_request.c - the master's reader of a request to the metrics listener
 * (src/master/metrics_request.c), driven as metrics_server.c drives it: the bytes arrive in
 * reads the fuzzer cuts (fuzz_reads.h) into a buffer of METRICS_REQUEST_MAX bytes, and the
 * head is parsed after each read until it is decided.
 *
 * The outcome is compared with the contract in metrics_request.h: it is decided exactly when
 * the bytes read hold "\r\n\r\n" or fill the buffer; it does not depend on how the reads were
 * cut (the same as parsing everything at once); a 200 has a route, other statuses none; 400
 * and 431 name a rule of printable ASCII; 200 only for GET or HEAD.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_reads.h"
#include "master/metrics_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

static int has_end(const char *buf, size_t len) {
  for (size_t i = 0; i + 4 <= len; i++)
    if (memcmp(buf + i, "\r\n\r\n", 4) == 0) return 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
  fuzz_reads reads;
  fuzz_reads_init(&reads, input, size);
  static char head[METRICS_REQUEST_MAX];
  size_t len = 0;
  metrics_request r = {0};
  size_t n;
  while (r.status == 0 && (n = fuzz_reads_next(&reads)) > 0) {
    size_t from = reads.arrived - n;
    while (n > 0 && r.status == 0) {
      size_t take = n < sizeof head - len ? n : sizeof head - len;
      memcpy(head + len, reads.stream + from, take);
      len += take;
      from += take;
      n -= take;
      r = metrics_request_parse(head, len);
      FUZZ_CHECK((r.status != 0) == (has_end(head, len) || len == sizeof head));
    }
  }
  metrics_request whole = metrics_request_parse(head, len);
  FUZZ_CHECK(whole.status == r.status && whole.route == r.route && whole.head == r.head);
  switch (r.status) {
    case 0: FUZZ_CHECK(len < sizeof head && !has_end(head, len)); break;
    case 200:
      FUZZ_CHECK(r.route != METRICS_ROUTE_NONE);
      FUZZ_CHECK(memcmp(head, r.head ? "HEAD " : "GET ", r.head ? 5 : 4) == 0);
      break;
    case 400:
    case 431:
      FUZZ_CHECK(r.rule && r.rule[0]);
      for (const char *p = r.rule; *p; p++) FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
      break;
    case 404:
    case 405: FUZZ_CHECK(r.route == METRICS_ROUTE_NONE && !r.rule); break;
    default: FUZZ_CHECK(0);
  }
  return 0;
}
