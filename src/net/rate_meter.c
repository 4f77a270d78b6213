/* rate_meter.c - average transfer rate while waiting on the client. See rate_meter.h. */
#include "net/rate_meter.h"

void rate_meter_start(rate_meter *m, uint64_t now_ms) {
  if (!m->since_ms) m->since_ms = now_ms;
}

void rate_meter_stop(rate_meter *m, uint64_t now_ms) {
  if (!m->since_ms) return;
  m->waited_ms += now_ms - m->since_ms;
  m->since_ms = 0;
}

void rate_meter_reset(rate_meter *m) { *m = (rate_meter){0, 0, 0}; }

int rate_meter_running(const rate_meter *m) { return m->since_ms != 0; }

static uint64_t waited(const rate_meter *m, uint64_t now_ms) {
  return m->waited_ms + (m->since_ms && now_ms > m->since_ms ? now_ms - m->since_ms : 0);
}

uint64_t rate_meter_deadline(const rate_meter *m, uint64_t now_ms,
                                  uint64_t extra_bytes, uint64_t bytes_per_second,
                                  uint64_t grace_ms) {
  if (!m->since_ms || !bytes_per_second) return 0;
  /* Too slow once waited > grace and bytes * 1000 < rate * waited, i.e. once waited exceeds
   * both the grace period and the time the bytes moved so far pay for. */
  uint64_t paid_ms = (m->bytes + extra_bytes) * 1000 / bytes_per_second;
  uint64_t limit = (paid_ms > grace_ms ? paid_ms : grace_ms) + 1;
  uint64_t so_far = waited(m, now_ms);
  return limit > so_far ? now_ms + (limit - so_far) : now_ms;
}

int rate_meter_too_slow(const rate_meter *m, uint64_t now_ms, uint64_t extra_bytes,
                             uint64_t bytes_per_second, uint64_t grace_ms) {
  if (!bytes_per_second) return 0;
  uint64_t so_far = waited(m, now_ms);
  return so_far > grace_ms && (m->bytes + extra_bytes) * 1000 < bytes_per_second * so_far;
}
