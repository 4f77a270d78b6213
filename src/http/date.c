/* date.c - cached IMF-fixdate. See date.h. */
#include "http/date.h"

#include <stdio.h>
#include <time.h>

#include "platform/platform.h"

const char *http_date_now(void) {
  /* The names are RFC 9110's, spelled out: strftime's %a and %b follow the locale, which an
   * app may change (setlocale) and which must not change the protocol. */
  static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static char text[64];
  static time_t cached = (time_t)-1;
  time_t now = time(NULL); /* a vDSO call: cheaper than formatting */
  if (now != cached) {
    struct tm tm;
    platform_utc_time(now, &tm); /* never fails for a time() of this era */
    snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
    cached = now;
  }
  return text;
}
