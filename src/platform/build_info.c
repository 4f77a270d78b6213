/* build_info.c - the versions this binary was built with. See build_info.h. */
#include "platform/build_info.h"

#include <llhttp.h>
#include <stdio.h>
#include <uv.h>

#define STRINGIFY(x) #x
#define VERSION_TEXT(major, minor, patch) STRINGIFY(major) "." STRINGIFY(minor) "." STRINGIFY(patch)

const char *build_info_python_version(void) {
#ifdef ASGID_PYTHON_VERSION /* CMake reads it from the embedded Python's patchlevel.h */
  return ASGID_PYTHON_VERSION;
#else
  return NULL;
#endif
}

const char *build_info_llhttp_version(void) {
  return VERSION_TEXT(LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH);
}

const char *build_info_text(void) {
  static char text[128];
  const char *python = build_info_python_version();
  /* libuv is asked at run time: the shared library may be newer than the headers */
  snprintf(text, sizeof text, "asgid %s (%s%s%sllhttp %s, libuv %s)", ASGID_VERSION,
           python ? "Python " : "", python ? python : "", python ? ", " : "",
           build_info_llhttp_version(), uv_version_string());
  return text;
}
