/* recycle.c - replacing workers that grew too big (max_worker_memory) or have served long
 * enough (max_worker_lifetime), as granian's --workers-max-rss and --workers-lifetime do:
 * the remedy for an app that leaks. The master decides from what it knows: the resident
 * memory each heartbeat reports and when the worker became ready. The replacement starts
 * first; the old worker serves until it is ready (master_worker_retiring). See master.h. */
#include <stdio.h>

#include "log/log.h"
#include "master/master.h"

/* A worker's lifetime is max_worker_lifetime plus up to this share of it, drawn at random
 * once per worker: workers started together are not all replaced in the same moment. */
#define LIFETIME_JITTER_PERCENT 10

static uint64_t jittered(uint64_t lifetime) {
  uint32_t random = 0; /* no randomness to be had: no jitter, which is still correct */
  uv_random(NULL, NULL, &random, sizeof random, 0, NULL);
  return lifetime + lifetime * LIFETIME_JITTER_PERCENT / 100 * random / UINT32_MAX;
}

/* "612 MiB", or "900 KiB" below a MiB. */
typedef struct size_text {
  char text[32];
} size_text;

static size_text in_units(uint64_t bytes) {
  size_text out;
  if (bytes < 1024 * 1024)
    snprintf(out.text, sizeof out.text, "%llu KiB", (unsigned long long)(bytes / 1024));
  else
    snprintf(out.text, sizeof out.text, "%.0f MiB", (double)bytes / (1024.0 * 1024.0));
  return out;
}

static void check_memory(worker_proc *w, uint64_t limit) {
  if (w->rss <= limit) return;
  if (w->rss_fresh > limit) {
    /* Its replacement would be as big from the start: replacing it would only repeat. */
    if (!w->memory_warned)
      log_warning("worker %d (pid %d) used %s when it became ready, above max_worker_memory "
                  "%s: not replacing it (a new worker would be as big); raise "
                  "max_worker_memory",
                  w->id, w->pid, in_units(w->rss_fresh).text, in_units(limit).text);
    w->memory_warned = 1;
    return;
  }
  char why[128];
  snprintf(why, sizeof why, "uses %s, above max_worker_memory %s", in_units(w->rss).text,
           in_units(limit).text);
  master_worker_retiring(w->owner, w, why);
}

static void check_lifetime(worker_proc *w, uint64_t lifetime, uint64_t now) {
  if (!w->lifetime_ms) w->lifetime_ms = jittered(lifetime);
  if (now - w->ready_ms < w->lifetime_ms) return;
  char why[128];
  snprintf(why, sizeof why,
           "has served %.1f s, past its lifetime (max_worker_lifetime %.1f s + %.1f s jitter)",
           (double)(now - w->ready_ms) / 1000, (double)lifetime / 1000,
           (double)(w->lifetime_ms - lifetime) / 1000);
  master_worker_retiring(w->owner, w, why);
}

void workers_check_recycling(master *m, uint64_t now) {
  const asgid_settings *s = m->settings;
  if (!s->max_worker_memory && !s->max_worker_lifetime) return;
  /* master_worker_retiring changes states, not the list: workers start between loop runs. */
  for (worker_proc *w = m->workers; w; w = w->next) {
    /* Workers of a previous configuration are being replaced already (a reload). */
    if (w->generation != m->generation || w->state != WORKER_READY || w->retiring) continue;
    if (s->max_worker_memory) check_memory(w, s->max_worker_memory);
    if (!w->retiring && s->max_worker_lifetime) check_lifetime(w, s->max_worker_lifetime, now);
  }
}
