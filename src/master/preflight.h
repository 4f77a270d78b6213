/*
 * preflight.h - what is checked before the master binds or starts anything, and what
 * --check-config checks the same way, so that both say the same words.
 *
 * At start: what this platform cannot do (capabilities.h), that an app is given, that a
 * Python app's virtualenv was made for the embedded Python and its log_config file opens (a worker class that cannot run
 * the app is left to the worker, whose boot failure stops the master with its own status).
 * --check-config adds what only starting would otherwise find out: every bind (parsed,
 * resolved, its address one this machine has), the app itself loaded, and the warnings
 * the master would log for these settings.
 */
#ifndef ASGID_MASTER_PREFLIGHT_H
#define ASGID_MASTER_PREFLIGHT_H

#include <stddef.h>

#include "settings/settings.h"

typedef enum preflight_scope {
  PREFLIGHT_START,       /* before the master binds: the checks that cost nothing */
  PREFLIGHT_CHECK_CONFIG /* --check-config: everything a start would find */
} preflight_scope;

/* Receives each problem as one line (no newline); `warning` is 0 for an error. */
typedef void preflight_report_fn(void *data, int warning, const char *line);

/* Checks settings (and fits them to the platform, as capabilities_fit does). `app_error` is
 * what the caller found wrong with the app spec already (main.c asks apps/app_spec.c, which
 * this layer does not reach), reported in place of the app's checks; NULL for nothing.
 * Returns the number of errors reported (warnings do not count): 0 means the master may
 * start. */
size_t preflight_check(asgid_settings *settings, preflight_scope scope, const char *app_error,
                       preflight_report_fn *report, void *data);

#endif /* ASGID_MASTER_PREFLIGHT_H */
