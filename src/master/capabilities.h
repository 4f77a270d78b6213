/*
 * capabilities.h - the settings a platform cannot honour, found before anything starts.
 *
 * The one place where the platform's capabilities (platform_get_capabilities) meet the
 * settings: --check-config and the master (at start, before it binds anything, and on a
 * reload) ask it, and it says each thing asked for that the platform cannot do in one line
 * naming the alternative, e.g. "worker_start = fork is not available on Windows (processes
 * cannot fork there): use worker_start = spawn".
 */
#ifndef ASGID_MASTER_CAPABILITIES_H
#define ASGID_MASTER_CAPABILITIES_H

#include <stddef.h>

#include "platform/platform.h"
#include "settings/settings.h"

/* Fits settings to caps. A worker_start left at its default becomes spawn where processes
 * cannot fork (a user who never chose fork is not told off for it). Then every setting
 * caps cannot honour is passed to report as one line (no newline), as is LISTEN_FDS in
 * the environment (socket activation); a NULL report only fits (--print-config shows what
 * would run). Returns the number of lines: 0 means the settings can run here. */
size_t capabilities_fit(asgid_settings *settings, const platform_capabilities *caps,
                        void (*report)(void *data, const char *line), void *data);

/* A report for capabilities_fit that writes each line to the FILE * data. */
void capabilities_print(void *stream, const char *line);

#endif /* ASGID_MASTER_CAPABILITIES_H */
