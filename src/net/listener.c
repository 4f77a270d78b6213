/* listener.c - freeing a set of listener records. See listener.h. */
#include "net/listener.h"

#include <stdlib.h>
#include <string.h>

void listener_set_close(listener_set *set, int remove_unix_files) {
  for (size_t i = 0; i < set->count; i++) {
    listener *l = &set->items[i];
    platform_close_socket(l->socket);
    if (remove_unix_files && l->kind == LISTENER_UNIX && l->host &&
        strncmp(l->spec ? l->spec : "", "fd://", 5) != 0)
      platform_unlink_stale_socket(l->host);
    free(l->spec);
    free(l->fdname);
    free(l->name);
    free(l->host);
  }
  free(set->items);
  set->items = NULL;
  set->count = 0;
}
