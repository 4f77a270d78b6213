/*
 * linux.h - what only Linux has, used by the POSIX implementation of platform.h. Each function
 * answers "none" where the Linux interface it reads is missing, so the POSIX files stay
 * correct on other Unix systems.
 */
#ifndef ASGID_PLATFORM_POSIX_LINUX_H
#define ASGID_PLATFORM_POSIX_LINUX_H

/* The CPUs a cgroup CPU quota allows this process (cgroup v2 cpu.max, else v1's
 * cpu.cfs_quota_us / cpu.cfs_period_us), rounded up; -1 when there is no quota. */
long linux_cgroup_cpu_limit(void);

/* The CPUs this process's affinity mask allows, or -1 when it cannot be read. */
long linux_affinity_cpu_count(void);

#endif /* ASGID_PLATFORM_POSIX_LINUX_H */
