/*
 * log_time.c - the logs' timestamps: UTC (the default), or local time in the zone the process
 * had when it first opened its logs.
 *
 * Why the zone is fixed: the C library's local time follows the process's current zone, and
 * an app may change it: Django sets TZ from its TIME_ZONE setting and calls tzset(). Workers
 * would then stamp their lines in the app's zone while the master, which runs no app code,
 * kept its own. So the zone is taken once, at the first log_open, before any app code runs in
 * the process: the master opens its logs before it preloads an app, a forked worker inherits
 * the master's table with its memory, and a spawned worker (a fresh exec with the master's
 * environment, which ran no app code since preload_app needs fork) opens its logs before it
 * loads the app. From then on no timestamp asks the C library for local time.
 *
 * Why a table and not one offset: an offset taken at start is wrong after the next daylight
 * saving transition. So the capture asks the C library for the zone's offset over one cycle
 * of LOG_ZONE_CYCLE (28 years) from a day before now, once a week, and bisects to the second
 * each week whose offset changed; the table holds every transition found. A time past the
 * cycle (or before it) is moved into it by whole cycles: between 1901 and 2099 the calendar
 * repeats its dates and weekdays every 28 years, and daylight saving rules are stated in them
 * ("the second Sunday of March"), so the offset repeats too (not for the few zones whose
 * transitions follow the moon, listed year by year: Morocco's, Palestine's; they would be off
 * after 28 years of uptime). Only a change and its reversal within one week would be missed;
 * no zone has one (the table matched the C library for all 447 zones of Debian's tzdata,
 * every quarter of an hour of the cycle). The capture costs about 1 500 local time
 * conversions, once per process: 0.1 to 1.5 ms (a zone file's rules past its last listed
 * transition are the slowest).
 *
 * log_time_utc_offset only reads the table, so a signal handler may call it (last_words.c).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "log/log_internal.h"
#include "platform/platform.h"

#define DAY INT64_C(86400)
/* 28 years of 365.25 days: 10227 days, a whole number of weeks. */
#define LOG_ZONE_CYCLE (10227 * DAY)
/* How far apart the offset is sampled: a week. Daylight saving lasts months, and where it
 * pauses (Morocco's Ramadan) for a month. */
#define ZONE_SAMPLE (7 * DAY)
/* Far more than the two transitions a year daylight saving makes (four where it pauses for
 * Ramadan); past it the last offset found holds for the rest of the cycle. */
#define ZONE_TRANSITIONS_MAX 256

typedef struct zone_transition {
  int64_t from; /* the first second with this offset */
  long offset;  /* seconds east of UTC */
} zone_transition;

static struct {
  bool captured;
  int64_t start; /* the table covers [start, start + LOG_ZONE_CYCLE) */
  size_t count;  /* >= 1 once captured: transitions[0].from == start */
  zone_transition transitions[ZONE_TRANSITIONS_MAX];
} zone;

/* Atomic: log_open changes them while other threads write lines. zone_version changes with
 * every capture and every change of mode, so that no cached timestamp outlives either. */
static atomic_int zone_mode = LOG_TIMEZONE_UTC;
static atomic_uint zone_version;

/* The offset the C library gives for `when` in the current zone (0 where it cannot say). */
static long library_offset(int64_t when) {
  struct tm local;
  long offset;
  return platform_local_time((time_t)when, &local, &offset) == 0 ? offset : 0;
}

/* The first second in (before, after] whose offset differs from `offset`, before's; after's
 * does differ. */
static int64_t first_change(int64_t before, long offset, int64_t after) {
  while (after - before > 1) {
    int64_t middle = before + (after - before) / 2;
    if (library_offset(middle) == offset)
      before = middle;
    else
      after = middle;
  }
  return after;
}

static void add_transition(int64_t from, long offset) {
  if (zone.count < ZONE_TRANSITIONS_MAX)
    zone.transitions[zone.count++] = (zone_transition){from, offset};
}

static void capture_zone(time_t now) {
  zone.start = (int64_t)now - DAY;
  zone.count = 0;
  long offset = library_offset(zone.start);
  add_transition(zone.start, offset);
  int64_t end = zone.start + LOG_ZONE_CYCLE;
  for (int64_t at = zone.start; at < end - 1;) {
    int64_t next = at + ZONE_SAMPLE < end ? at + ZONE_SAMPLE : end - 1;
    long next_offset = library_offset(next);
    /* Several changes between two samples (rare, but cheap to follow) are found one by one. */
    while (offset != next_offset) {
      at = first_change(at, offset, next);
      offset = library_offset(at);
      add_transition(at, offset);
    }
    at = next;
  }
  zone.captured = true;
}

void log_time_configure(const asgid_settings *s) {
  if (!zone.captured)
    capture_zone(time(NULL));
  atomic_store(&zone_mode, s->log_timezone);
  atomic_fetch_add(&zone_version, 1);
}

void log_time_forget_zone(void) {
  zone.captured = false;
  atomic_store(&zone_mode, LOG_TIMEZONE_UTC);
  atomic_fetch_add(&zone_version, 1);
}

bool log_time_is_local(void) {
  return atomic_load_explicit(&zone_mode, memory_order_relaxed) == LOG_TIMEZONE_LOCAL;
}

long log_time_utc_offset(time_t when) {
  if (atomic_load_explicit(&zone_mode, memory_order_relaxed) != LOG_TIMEZONE_LOCAL ||
      !zone.captured)
    return 0;
  int64_t t = (int64_t)when;
  if (t < zone.start || t - zone.start >= LOG_ZONE_CYCLE) {
    int64_t into = (t - zone.start) % LOG_ZONE_CYCLE;
    t = zone.start + (into < 0 ? into + LOG_ZONE_CYCLE : into);
  }
  /* The last transition at or before t. */
  size_t low = 0, high = zone.count;
  while (high - low > 1) {
    size_t middle = low + (high - low) / 2;
    if (zone.transitions[middle].from <= t)
      low = middle;
    else
      high = middle;
  }
  return zone.transitions[low].offset;
}

/* ------------------------------------------------------------------ formatting */

/* Room for every field at its widest int, so a calendar out of range cannot cut the text. */
#define TIMESTAMP_MAX 96

static void format_time(time_t when, log_time_style style, char out[TIMESTAMP_MAX]) {
  static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  long utc_offset = log_time_utc_offset(when);
  /* The calendar of the shifted time read as UTC: no time zone code of the C library runs. */
  struct tm local;
  if (platform_utc_time((time_t)((int64_t)when + utc_offset), &local) != 0) {
    /* Only for a time beyond the calendar's range; keep the line's shape. */
    memset(&local, 0, sizeof local);
    local.tm_mday = 1;
    utc_offset = 0;
  }
  /* "+0100": written out rather than strftime's %z, which not every C library has. */
  long minutes = (utc_offset < 0 ? -utc_offset : utc_offset) / 60;
  char offset[16];
  snprintf(offset, sizeof offset, style == LOG_TIME_ISO ? "%c%02ld:%02ld" : "%c%02ld%02ld",
           utc_offset < 0 ? '-' : '+', minutes / 60 % 100, minutes % 60);
  if (style == LOG_TIME_ISO)
    snprintf(out, TIMESTAMP_MAX, "%04d-%02d-%02dT%02d:%02d:%02d%s", local.tm_year + 1900,
             local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec,
             log_time_is_local() ? offset : "Z");
  else if (style == LOG_TIME_ERROR_LOG)
    snprintf(out, TIMESTAMP_MAX, "%04d-%02d-%02d %02d:%02d:%02d %s", local.tm_year + 1900,
             local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec, offset);
  else
    snprintf(out, TIMESTAMP_MAX, "%02d/%s/%04d:%02d:%02d:%02d %s", local.tm_mday,
             months[local.tm_mon], local.tm_year + 1900, local.tm_hour, local.tm_min,
             local.tm_sec, offset);
}

/* The cached text of `when` in `style`. */
static const char *time_text(time_t when, log_time_style style) {
  /* Per thread, so no lock: every thread converts at most once a second per style. The zone's
   * version is part of the key, so a reload that switches the mode is seen at once. */
  static _Thread_local struct {
    bool valid;
    unsigned version;
    time_t when;
    char text[TIMESTAMP_MAX];
  } cache[LOG_TIME_STYLE_COUNT];
  unsigned version = atomic_load_explicit(&zone_version, memory_order_relaxed);
  if (!cache[style].valid || cache[style].when != when || cache[style].version != version) {
    format_time(when, style, cache[style].text);
    cache[style].when = when;
    cache[style].version = version;
    cache[style].valid = true;
  }
  return cache[style].text;
}

void log_line_append_time(log_line *line, time_t when, log_time_style style) {
  log_line_append_str(line, time_text(when, style));
}

void log_line_append_iso_time(log_line *line, uint64_t usec) {
  const char *text = time_text((time_t)(usec / 1000000), LOG_TIME_ISO);
  /* "2026-12-06T13:17:54" then ".123" then "Z" or "+01:00". */
  size_t seconds_len = sizeof "2026-12-06T13:17:54" - 1;
  size_t len = strlen(text);
  if (len < seconds_len) { /* a year beyond four digits never comes from a clock */
    log_line_append(line, text, len);
    return;
  }
  char millis[4] = {'.', 0, 0, 0};
  unsigned ms = (unsigned)(usec / 1000 % 1000);
  millis[1] = (char)('0' + ms / 100);
  millis[2] = (char)('0' + ms / 10 % 10);
  millis[3] = (char)('0' + ms % 10);
  log_line_append(line, text, seconds_len);
  log_line_append(line, millis, sizeof millis);
  log_line_append_str(line, text + seconds_len);
}
