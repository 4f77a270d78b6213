/* date.c - cached IMF-fixdate. See date.h. */
#include "http/date.h"

#include <time.h>

const char *http_date_now(void) {
  static char text[32];
  static time_t cached = (time_t)-1;
  time_t now = time(NULL); /* a vDSO call: cheaper than formatting */
  if (now != cached) {
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = now;
  }
  return text;
}
