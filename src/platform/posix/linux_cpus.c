/* linux_cpus.c - Linux only: the CPUs this process may use, by affinity and by cgroup quota.
 * See linux.h. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/posix/linux.h"

/* cgroup v2 "cpu.max" ("max 100000" or "200000 100000"), then v1's quota files. */
long linux_cgroup_cpu_limit(void) {
  long quota = -1, period = -1;
  FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
  if (f) {
    char q[32];
    if (fscanf(f, "%31s %ld", q, &period) == 2 && strcmp(q, "max") != 0) quota = atol(q);
    fclose(f);
  } else if ((f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r"))) {
    if (fscanf(f, "%ld", &quota) != 1) quota = -1;
    fclose(f);
    if ((f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r"))) {
      if (fscanf(f, "%ld", &period) != 1) period = -1;
      fclose(f);
    }
  }
  if (quota <= 0 || period <= 0) return -1;
  return (quota + period - 1) / period;
}

long linux_affinity_cpu_count(void) {
  cpu_set_t set;
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
}
