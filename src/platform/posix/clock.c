/* clock.c - calendar times on POSIX: gmtime_r and localtime_r, whose tm_gmtoff gives the UTC
 * offset (a BSD and glibc field every POSIX system asgid builds on has). See platform.h. */
#include "platform/platform.h"

int platform_utc_time(time_t when, struct tm *out) {
  return gmtime_r(&when, out) ? 0 : -1;
}

int platform_local_time(time_t when, struct tm *out, long *utc_offset_seconds) {
  if (!localtime_r(&when, out)) return -1;
  *utc_offset_seconds = (long)out->tm_gmtoff;
  return 0;
}
