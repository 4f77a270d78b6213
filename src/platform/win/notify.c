/* notify.c - service-manager notification on Windows: none yet (the service control manager
 * is not spoken to; asgid runs as a console program). See platform.h. */
#include "platform/platform.h"

uint64_t platform_notify_init(void) { return 0; }

int platform_notify(const char *state) { return 0; }

int platform_notify_reloading(void) { return 0; }

size_t platform_notify_environment(const char *vars[2]) { return 0; }
