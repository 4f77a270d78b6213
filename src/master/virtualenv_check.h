/*
 * virtualenv_check.h - a virtualenv made for another Python than the one asgid embeds.
 *
 * The embedded interpreter finds a virtualenv's packages under lib/pythonX.Y/site-packages
 * for its own X.Y only: a virtualenv made by another Python version would start, and then
 * every import of its packages would fail. Its pyvenv.cfg says which Python made it.
 */
#ifndef ASGID_MASTER_VIRTUALENV_CHECK_H
#define ASGID_MASTER_VIRTUALENV_CHECK_H

#include <stddef.h>

/* Checks that `virtualenv` (a directory) was made by the same major.minor Python as
 * `python_version` ("3.11.2"): reads its pyvenv.cfg, key `version` (python -m venv, uv) or
 * else `version_info` (virtualenv: "3.11.2.final.0"). Returns 0 when it was, or when
 * pyvenv.cfg does not say (an old-style virtualenv has none); -1 with one line in err when
 * the versions differ or the directory does not exist. */
int virtualenv_check(const char *virtualenv, const char *python_version, char *err,
                     size_t err_size);

#endif /* ASGID_MASTER_VIRTUALENV_CHECK_H */
