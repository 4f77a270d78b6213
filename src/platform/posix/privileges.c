/* privileges.c - umask and dropping privileges after binding. See platform.h. */
#include "platform/platform.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void platform_set_umask(unsigned mask) { umask((mode_t)mask); }

static int parse_id(const char *text, unsigned long *id) {
  char *end;
  errno = 0;
  *id = strtoul(text, &end, 10);
  return errno == 0 && end != text && *end == '\0' ? 0 : -1;
}

int platform_switch_user(const char *user, const char *group, char *err, size_t err_size) {
  uid_t uid = getuid();
  gid_t gid = getgid();
  const char *user_name = NULL;
  unsigned long id;
  if (user && *user) {
    struct passwd *pw = getpwnam(user);
    if (pw) {
      uid = pw->pw_uid;
      gid = pw->pw_gid;
      user_name = pw->pw_name;
    } else if (parse_id(user, &id) == 0) {
      uid = (uid_t)id;
    } else {
      snprintf(err, err_size, "user \"%s\" does not exist", user);
      return -1;
    }
  }
  if (group && *group) {
    struct group *gr = getgrnam(group);
    if (gr) {
      gid = gr->gr_gid;
    } else if (parse_id(group, &id) == 0) {
      gid = (gid_t)id;
    } else {
      snprintf(err, err_size, "group \"%s\" does not exist", group);
      return -1;
    }
  }
  if ((!group || !*group) && (!user || !*user)) return 0;
  /* Group first: after setuid the process may no longer change it. */
  if (gid != getgid() || (user_name && geteuid() == 0)) {
    if (user_name ? initgroups(user_name, gid) != 0 : setgroups(0, NULL) != 0) {
      snprintf(err, err_size, "cannot set supplementary groups: %s", strerror(errno));
      return -1;
    }
    if (setgid(gid) != 0) {
      snprintf(err, err_size, "cannot switch to group %lu: %s", (unsigned long)gid,
               strerror(errno));
      return -1;
    }
  }
  if (uid != getuid() && setuid(uid) != 0) {
    snprintf(err, err_size, "cannot switch to user %lu: %s", (unsigned long)uid, strerror(errno));
    return -1;
  }
  return 0;
}
