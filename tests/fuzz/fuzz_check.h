/* fuzz_check.h - an invariant of the code under test: when it does not hold, the target
 * aborts with the condition, which libFuzzer reports as a crash and saves the input. */
#ifndef ASGID_FUZZ_CHECK_H
#define ASGID_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(condition)                                                             \
  do {                                                                                    \
    if (!(condition)) {                                                                   \
      fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition);   \
      abort();                                                                            \
    }                                                                                     \
  } while (0)

#endif /* ASGID_FUZZ_CHECK_H */
