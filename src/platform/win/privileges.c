/* privileges.c - Windows: files have access control lists, not a creation mask, and a
 * process cannot switch to another account (the capability checks refuse user and group at
 * start). See platform.h. */
#include "platform/platform.h"

#include <stdio.h>

void platform_set_umask(unsigned mask) {}

int platform_switch_user(const char *user, const char *group, char *err, size_t err_size) {
  if ((!user || !*user) && (!group || !*group)) return 0;
  snprintf(err, err_size, "user and group are not available on Windows: run asgid as the "
           "account it should serve as (a service account)");
  return -1;
}
