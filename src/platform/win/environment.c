/* environment.c - the process environment on Windows, in UTF-8: the CRT's narrow environ is
 * in the ANSI code page (lossy), so the strings are made from libuv's UTF-8 copy of the wide
 * environment, again on each call (the environment may have changed since). See platform.h. */
#include "platform/platform.h"

#include <stdlib.h>
#include <string.h>

static char **current; /* one block: the pointers, then the strings */

char **platform_environment(void) {
  static char *none[1] = {NULL};
  uv_env_item_t *items;
  int count;
  if (uv_os_environ(&items, &count) != 0) return none;
  size_t size = ((size_t)count + 1) * sizeof(char *);
  for (int i = 0; i < count; i++) size += strlen(items[i].name) + strlen(items[i].value) + 2;
  char **made = malloc(size);
  if (made) {
    char *text = (char *)(made + count + 1);
    for (int i = 0; i < count; i++) {
      made[i] = text;
      size_t name_len = strlen(items[i].name), value_len = strlen(items[i].value);
      memcpy(text, items[i].name, name_len);
      text[name_len] = '=';
      memcpy(text + name_len + 1, items[i].value, value_len + 1);
      text += name_len + value_len + 2;
    }
    made[count] = NULL;
    free(current);
    current = made;
  }
  uv_os_free_environ(items, count);
  return current ? current : none;
}
