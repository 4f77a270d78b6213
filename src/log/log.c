/*
 * log.c - opening, reopening and closing the error log and the access log together.
 */
#include "log/log.h"
#include "log/log_internal.h"

/* The first error wins: it is the one the caller reports; later ones are logged already. */
static int first_error(int first, int next) {
  return first < 0 ? first : next;
}

int log_open(const asgid_settings *s) {
  log_time_configure(s);
  int err = error_log_configure(s);
  return first_error(err, access_log_configure(s));
}

int log_reopen(void) {
  int err = error_log_reopen();
  return first_error(err, access_log_reopen());
}

void log_close(void) {
  access_log_close();
  error_log_close();
  log_time_forget_zone();
}
