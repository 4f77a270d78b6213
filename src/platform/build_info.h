/*
 * build_info.h - what this binary is: asgid's version and the versions of what it embeds and
 * links, for --version (and any report of the build, such as metrics' build info).
 */
#ifndef ASGID_PLATFORM_BUILD_INFO_H
#define ASGID_PLATFORM_BUILD_INFO_H

/* "asgid 0.1.0 (Python 3.11.2, llhttp 9.2.1, libuv 1.44.2)": the Python whose headers it was
 * built with (left out when built without Python), llhttp's headers, the libuv it runs on.
 * The string is static. */
const char *build_info_text(void);

/* llhttp's version, as its headers give it ("9.2.1"). */
const char *build_info_llhttp_version(void);

/* The embedded Python's version ("3.11.2"), or NULL when built without Python. */
const char *build_info_python_version(void);

#endif /* ASGID_PLATFORM_BUILD_INFO_H */
