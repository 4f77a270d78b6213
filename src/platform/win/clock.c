/* clock.c - calendar times on Windows: the CRT's gmtime_s and localtime_s; the UTC offset is
 * the local calendar time read back as UTC (_mkgmtime) minus the time itself, which counts
 * daylight saving time as it applies at that moment. See platform.h. */
#include "platform/platform.h"

int platform_utc_time(time_t when, struct tm *out) {
  return gmtime_s(out, &when) == 0 ? 0 : -1;
}

int platform_local_time(time_t when, struct tm *out, long *utc_offset_seconds) {
  if (localtime_s(out, &when) != 0) return -1;
  struct tm copy = *out; /* _mkgmtime normalises its argument */
  time_t as_utc = _mkgmtime(&copy);
  if (as_utc == (time_t)-1) return -1;
  *utc_offset_seconds = (long)(as_utc - when);
  return 0;
}
