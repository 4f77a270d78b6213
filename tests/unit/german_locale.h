/*
 * german_locale.h - for unit tests of text the protocol defines (dates, numbers): puts the
 * process under a German locale, where strftime writes "Mär" and printf a decimal comma, as
 * an app's setlocale may. The locale is compiled from the system's sources into a temporary
 * folder (LOCPATH), so no locale needs to be installed. The caller checks that the locale is
 * in force, so that its test could fail.
 */
#ifndef ASGID_TEST_GERMAN_LOCALE_H
#define ASGID_TEST_GERMAN_LOCALE_H

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

/* Enters de_DE.UTF-8; dir receives the temporary folder, for german_locale_leave. */
static inline void german_locale_enter(char dir[sizeof "/tmp/asgid-locale-XXXXXX"]) {
  snprintf(dir, sizeof "/tmp/asgid-locale-XXXXXX", "/tmp/asgid-locale-XXXXXX");
  assert_non_null(mkdtemp(dir));
  char command[256];
  snprintf(command, sizeof command, "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 2>/dev/null",
           dir);
  assert_int_equal(system(command), 0);
  setenv("LOCPATH", dir, 1);
  assert_non_null(setlocale(LC_ALL, "de_DE.UTF-8"));
}

/* Back to the C locale; removes the folder. */
static inline void german_locale_leave(const char *dir) {
  setlocale(LC_ALL, "C");
  char command[256];
  snprintf(command, sizeof command, "rm -rf %s", dir);
  assert_int_equal(system(command), 0);
}

#endif /* ASGID_TEST_GERMAN_LOCALE_H */
