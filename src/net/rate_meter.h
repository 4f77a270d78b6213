/*
 * rate_meter.h - the average rate of a transfer that waits on the client, for min_data_rate.
 *
 * A meter counts only the time during which the server waits on the client: the time the
 * server waits for request body bytes it asked for, or for the client to take response bytes
 * the kernel could not. Time the app spends computing, or the client spends waiting for a
 * paused reader, is not the client's to answer for (Kestrel's MinRequestBodyDataRate does
 * the same). A transfer is too slow when, past the grace period, the bytes moved are fewer
 * than the rate times the time waited.
 *
 * Pure arithmetic on milliseconds: the caller supplies the clock.
 */
#ifndef ASGID_NET_RATE_METER_H
#define ASGID_NET_RATE_METER_H

#include <stdint.h>

typedef struct rate_meter {
  uint64_t waited_ms;  /* completed waiting stretches */
  uint64_t since_ms;   /* start of the current stretch; 0 while not waiting */
  uint64_t bytes;      /* moved while waiting */
} rate_meter;

/* The server starts waiting on the client (nothing if it already does). now_ms > 0. */
void rate_meter_start(rate_meter *m, uint64_t now_ms);

/* The server stops waiting on the client. */
void rate_meter_stop(rate_meter *m, uint64_t now_ms);

/* Starts a new transfer: forgets what was measured. */
void rate_meter_reset(rate_meter *m);

/* 1 while the meter runs. */
int rate_meter_running(const rate_meter *m);

/* When the transfer becomes too slow if no further byte moves: a time in ms on the caller's
 * clock, at least now_ms; 0 when never (the meter is stopped, or bytes_per_second is 0).
 * `extra_bytes` are moved bytes not yet added (a write in progress). */
uint64_t rate_meter_deadline(const rate_meter *m, uint64_t now_ms,
                                  uint64_t extra_bytes, uint64_t bytes_per_second,
                                  uint64_t grace_ms);

/* 1 when the transfer is too slow at now_ms. */
int rate_meter_too_slow(const rate_meter *m, uint64_t now_ms, uint64_t extra_bytes,
                             uint64_t bytes_per_second, uint64_t grace_ms);

#endif /* ASGID_NET_RATE_METER_H */
