/*
 * settings.c - storing values in struct asgid_settings: defaults, setting one value from
 * text with its source, reading values back, and freeing.
 */
#include "settings/settings_descriptor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *member_of(const settings_descriptor *d, const asgid_settings *s) {
  return (char *)s + d->value_offset;
}

static int out_of_memory(char *message, size_t size) {
  snprintf(message, size, "out of memory");
  return -1;
}

static void clear_list(asgid_string_list *list) {
  for (size_t i = 0; i < list->count; i++)
    free(list->items[i]);
  free(list->items);
  list->items = NULL;
  list->count = 0;
}

static int add_list_value(const settings_descriptor *d, asgid_string_list *list, const char *text,
                          settings_layer *layer, char *message, size_t size) {
  if (!*text) {
    snprintf(message, size, "an empty value is not allowed");
    return -1;
  }
  if (settings_check_text(text, message, size) < 0)
    return -1;
  bool *replaced = &layer->list_replaced[d - settings_descriptors];
  if (!*replaced) {
    clear_list(list);
    *replaced = true;
  }
  char *copy = strdup(text);
  char **items = copy ? realloc(list->items, (list->count + 1) * sizeof *items) : NULL;
  if (!items) {
    free(copy);
    return out_of_memory(message, size);
  }
  items[list->count++] = copy;
  list->items = items;
  return 0;
}

static int replace_string(char **member, const char *text, char *message, size_t size) {
  if (settings_check_text(text, message, size) < 0)
    return -1;
  char *copy = strdup(text);
  if (!copy)
    return out_of_memory(message, size);
  free(*member);
  *member = copy;
  return 0;
}

static void store_scalar(const settings_descriptor *d, asgid_settings *s, settings_scalar value) {
  void *member = member_of(d, s);
  switch (d->kind) {
  case ASGID_KIND_INT:
    *(long *)member = value.integer;
    break;
  case ASGID_KIND_BOOL:
    *(int *)member = value.boolean;
    break;
  case ASGID_KIND_SIZE:
  case ASGID_KIND_DURATION:
    *(uint64_t *)member = value.amount;
    break;
  case ASGID_KIND_ENUM:
    *(int *)member = value.choice;
    break;
  case ASGID_KIND_MODE:
    *(unsigned *)member = value.mode;
    break;
  case ASGID_KIND_STR:
  case ASGID_KIND_LIST:
    break;
  }
}

static settings_scalar load_scalar(const settings_descriptor *d, const asgid_settings *s) {
  const void *member = member_of(d, s);
  settings_scalar value = {0};
  switch (d->kind) {
  case ASGID_KIND_INT:
    value.integer = *(const long *)member;
    break;
  case ASGID_KIND_BOOL:
    value.boolean = *(const int *)member;
    break;
  case ASGID_KIND_SIZE:
  case ASGID_KIND_DURATION:
    value.amount = *(const uint64_t *)member;
    break;
  case ASGID_KIND_ENUM:
    value.choice = *(const int *)member;
    break;
  case ASGID_KIND_MODE:
    value.mode = *(const unsigned *)member;
    break;
  case ASGID_KIND_STR:
  case ASGID_KIND_LIST:
    break;
  }
  return value;
}

static char **origin_member(const settings_descriptor *d, const asgid_settings *s) {
  return (char **)((char *)s + d->origin_offset);
}

static int record_source(asgid_settings *s, const settings_descriptor *d,
                         asgid_setting_source source, const char *origin, char *message,
                         size_t size) {
  char *copy = NULL;
  if (origin && !(copy = strdup(origin)))
    return out_of_memory(message, size);
  char **member = origin_member(d, s);
  free(*member);
  *member = copy;
  *(asgid_setting_source *)((char *)s + d->source_offset) = source;
  return 0;
}

int settings_set(asgid_settings *s, const settings_descriptor *d, const char *text,
                 settings_layer *layer, const char *origin, char *message, size_t size) {
  int result;
  if (d->kind == ASGID_KIND_STR) {
    result = replace_string(member_of(d, s), text, message, size);
  } else if (d->kind == ASGID_KIND_LIST) {
    /* a LIST keeps the origin of its first value in the layer */
    bool first_in_layer = !layer->list_replaced[d - settings_descriptors];
    if (add_list_value(d, member_of(d, s), text, layer, message, size) < 0)
      return -1;
    return first_in_layer ? record_source(s, d, layer->source, origin, message, size) : 0;
  } else {
    settings_scalar value;
    result = settings_parse_scalar(d, text, &value, message, size);
    if (result == 0)
      store_scalar(d, s, value);
  }
  return result < 0 ? -1 : record_source(s, d, layer->source, origin, message, size);
}

size_t settings_value_count(const settings_descriptor *d, const asgid_settings *s) {
  return d->kind == ASGID_KIND_LIST ? ((const asgid_string_list *)member_of(d, s))->count : 1;
}

const char *settings_value_text(const settings_descriptor *d, const asgid_settings *s, size_t item,
                                char *buf) {
  if (d->kind == ASGID_KIND_STR)
    return *(char *const *)member_of(d, s);
  if (d->kind == ASGID_KIND_LIST)
    return ((const asgid_string_list *)member_of(d, s))->items[item];
  return settings_format_scalar(d, load_scalar(d, s), buf);
}

asgid_setting_source settings_source_of(const settings_descriptor *d, const asgid_settings *s) {
  return *(const asgid_setting_source *)((const char *)s + d->source_offset);
}

const char *settings_origin_of(const settings_descriptor *d, const asgid_settings *s) {
  return *origin_member(d, s);
}

static int copy_value(asgid_settings *to, const asgid_settings *from,
                      const settings_descriptor *d) {
  if (d->kind == ASGID_KIND_LIST && settings_value_count(d, from) == 0)
    clear_list(member_of(d, to)); /* a layer cannot give a LIST no values */
  settings_layer layer = {.source = settings_source_of(d, from)};
  for (size_t item = 0; item < settings_value_count(d, from); item++) {
    char buf[SETTINGS_VALUE_TEXT_SIZE], message[256];
    /* the value was accepted in `from`, so only memory can run out */
    if (settings_set(to, d, settings_value_text(d, from, item, buf), &layer,
                     settings_origin_of(d, from), message, sizeof message) < 0)
      return -1;
  }
  return 0;
}

int asgid_settings_copy_value(asgid_settings *to, const asgid_settings *from, const char *name) {
  const settings_descriptor *d = settings_find(name, strlen(name));
  return d ? copy_value(to, from, d) : -1;
}

int asgid_settings_copy(asgid_settings *to, const asgid_settings *from) {
  int result = asgid_settings_init_defaults(to);
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++)
    if (copy_value(to, from, &settings_descriptors[i]) < 0)
      result = -1;
  if (from->config_path && !(to->config_path = strdup(from->config_path)))
    result = -1;
  return result;
}

int asgid_settings_init_defaults(asgid_settings *s) {
  memset(s, 0, sizeof *s);
  settings_layer defaults = {.source = ASGID_SOURCE_DEFAULT};
  int result = 0;
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    const settings_descriptor *d = &settings_descriptors[i];
    char message[256];
    /* an empty LIST default means no values (it would be refused as an empty value) */
    if (d->kind == ASGID_KIND_LIST && !*d->default_text)
      continue;
    /* the defaults are checked by a unit test, so only memory can run out here */
    if (settings_set(s, d, d->default_text, &defaults, NULL, message, sizeof message) < 0)
      result = -1;
  }
  return result;
}

void asgid_settings_free(asgid_settings *s) {
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++) {
    const settings_descriptor *d = &settings_descriptors[i];
    if (d->kind == ASGID_KIND_STR)
      free(*(char **)member_of(d, s));
    else if (d->kind == ASGID_KIND_LIST)
      clear_list(member_of(d, s));
    free(*origin_member(d, s));
  }
  free(s->config_path);
  free(s->control_command);
  memset(s, 0, sizeof *s);
}
