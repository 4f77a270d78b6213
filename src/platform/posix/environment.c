/* environment.c - the process environment on POSIX: environ, already "NAME=value" strings.
 * See platform.h. */
#include "platform/platform.h"

extern char **environ;

char **platform_environment(void) { return environ; }
