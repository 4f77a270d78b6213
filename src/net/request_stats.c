/* request_stats.c - counting requests for the metrics. See request_stats.h. */
#include "net/request_stats.h"

#include <string.h>

const char *const request_method_class_names[REQUEST_METHOD_CLASSES] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"};

const uint64_t request_duration_bounds_usec[REQUEST_DURATION_BOUNDS] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

/* Per request: a switch on the length and one comparison, rather than a scan of the names. */
static size_t method_class(const char *m, size_t len) {
  switch (len) {
    case 3:
      if (memcmp(m, "GET", 3) == 0) return 0;
      if (memcmp(m, "PUT", 3) == 0) return 3;
      break;
    case 4:
      if (memcmp(m, "HEAD", 4) == 0) return 1;
      if (memcmp(m, "POST", 4) == 0) return 2;
      break;
    case 5:
      if (memcmp(m, "PATCH", 5) == 0) return 5;
      break;
    case 6:
      if (memcmp(m, "DELETE", 6) == 0) return 4;
      break;
    case 7:
      if (memcmp(m, "OPTIONS", 7) == 0) return 6;
      break;
  }
  return REQUEST_METHOD_CLASSES - 1;
}

void request_stats_count(request_stats *s, const char *method, size_t method_len, int status,
                         uint64_t duration_usec) {
  int status_class = status / 100 - 1;
  if (status_class < 0) status_class = 0;
  if (status_class >= REQUEST_STATUS_CLASSES) status_class = REQUEST_STATUS_CLASSES - 1;
  s->requests[method_class(method, method_len)][status_class]++;
  size_t bucket = 0;
  while (bucket < REQUEST_DURATION_BOUNDS && duration_usec > request_duration_bounds_usec[bucket])
    bucket++;
  s->duration_buckets[bucket]++;
  s->duration_sum_usec += duration_usec;
}

void request_stats_add(request_stats *to, const request_stats *from) {
  for (size_t m = 0; m < REQUEST_METHOD_CLASSES; m++)
    for (size_t c = 0; c < REQUEST_STATUS_CLASSES; c++) to->requests[m][c] += from->requests[m][c];
  for (size_t b = 0; b < REQUEST_DURATION_BUCKETS; b++)
    to->duration_buckets[b] += from->duration_buckets[b];
  to->duration_sum_usec += from->duration_sum_usec;
}

uint64_t request_stats_total(const request_stats *s) {
  uint64_t total = 0;
  for (size_t b = 0; b < REQUEST_DURATION_BUCKETS; b++) total += s->duration_buckets[b];
  return total;
}
